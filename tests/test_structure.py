"""A method owns itself: hyper-parameters declared once, theorem parameters with a schema."""
import argparse

import pytest
from hypothesis import given, settings

import ssl_proofs
import ssl_proofs.methods as methods_pkg
import ssl_proofs_verifiers.runner  # noqa: F401  (loads the claim modules: every claim kind declares its schema)
from ssl_proofs import Theorem
from ssl_proofs.errors import InvalidArgument
from ssl_proofs.hyper import Hyper
from ssl_proofs.methods.base import Method
from ssl_proofs.theorems import _SCHEMAS, Subspace, check_theorems, declare_claim
from ssl_proofs_cli.hyperflags import add_hyper_flags, hyper_args
from ssl_proofs_verifiers.checks import CHECKS, Context
from ssl_proofs_verifiers.instances import instances
from ssl_proofs_verifiers.runner import run_theorem


class _Toy(Method):
    name = "toy_structure"
    variants = ("paper",)
    hypers = (Hyper("lam", 0.25, "toy weight", domain=(0.1, 1.0)), Hyper("mu", None, "derived"))


def test_defaults_and_domain_are_derived_from_the_declarations():
    assert _Toy.defaults == {"lam": 0.25, "mu": None}
    assert _Toy.domain == {"lam": (0.1, 1.0)}
    vic = ssl_proofs.get_method("vicreg")
    assert [h.name for h in vic.hypers] == list(vic.defaults)


def test_a_method_with_plain_dicts_still_declares_its_hypers():
    class Plain(Method):
        name = "plain_structure"
        defaults = {"a": 1.0}
        domain = {"a": (0.5, 2.0)}

    assert Plain.hypers == (Hyper("a", 1.0, domain=(0.5, 2.0)),)


def test_cli_flags_come_from_the_declarations(monkeypatch):
    parser = argparse.ArgumentParser()
    add_hyper_flags(parser)
    assert "--lam" not in parser.format_help()
    monkeypatch.setitem(methods_pkg._REGISTRY, _Toy.name, _Toy())
    parser = argparse.ArgumentParser()
    add_hyper_flags(parser)
    text = parser.format_help()
    for flag in ("--alpha", "--beta", "--gamma", "--tau", "--ddof", "--lam", "--mu"):
        assert flag in text
    assert hyper_args(parser.parse_args(["--lam", "0.5", "--gamma", "2"])) == {"lam": 0.5, "gamma": 2.0}


def test_a_planted_typo_fails_at_registration():
    """``"graph"`` for ``"graphs"``: the theorem is refused when built, and the method when registered."""
    with pytest.raises(InvalidArgument, match="no parameter 'graph'; did you mean 'graphs'"):
        Theorem("toy.typo", "toy_structure", "typo", claim="closed_form", params={"graph": "any"})

    class Typo(_Toy):
        name = "toy_typo"

        def theorems(self):
            return bad

    # built before the schema existed (kind declared afterwards): register() still refuses it
    kind = "toy_kind_structure"
    _SCHEMAS.pop(kind, None)
    bad = [Theorem("toy.typo", "toy_typo", "typo", claim=kind, params={"graph": "any"})]
    try:
        declare_claim(kind, {})
        with pytest.raises(InvalidArgument, match="did you mean 'graphs'"):
            ssl_proofs.register(Typo())
        assert "toy_typo" not in ssl_proofs.list_methods()
        with pytest.raises(InvalidArgument, match="did you mean 'graphs'"):
            check_theorems(bad, {kind})
    finally:
        _SCHEMAS.pop(kind, None)


def test_wrong_type_and_unknown_kind_fail():
    with pytest.raises(InvalidArgument, match="'k_max' must be int"):
        Theorem("toy.type", "vicreg", "type", claim="bt_optimum", params={"k_max": "4"})
    t = Theorem("toy.kind", "vicreg", "kind", claim="closed_fom")
    with pytest.raises(InvalidArgument, match="unknown claim kind 'closed_fom'; did you mean 'closed_form'"):
        check_theorems([t], CHECKS)


def test_every_registered_theorem_fits_its_schema():
    check_theorems(ssl_proofs.list_theorems(), CHECKS)   # what loading the verifiers does
    assert set(CHECKS) <= set(_SCHEMAS)


def test_an_instance_builder_declares_the_keys_it_reads():
    """``params["instances"]`` names a builder; its declared keys are allowed for any claim kind."""
    Theorem("toy.cliques", "simclr", "t", claim="closed_form", params={"instances": "simclr_cliques", "equal": True})
    with pytest.raises(InvalidArgument, match="no parameter 'equal'"):
        Theorem("toy.graphs", "vicreg", "t", claim="closed_form", params={"equal": True})


# -- equivalences are the methods' data -------------------------------------------------------------

def test_equivalences_are_declared_by_the_methods():
    # every same_subspace theorem names its other side as a Subspace in its own method's params
    same = [t for t in ssl_proofs.list_theorems() if t.claim == "same_subspace"]
    assert len(same) >= 5 and all(isinstance(t.params["same_as"], Subspace) for t in same)
    with pytest.raises(InvalidArgument, match="same_as"):
        Theorem("planted.pair", "barlowtwins", "old string key", claim="same_subspace",
                params={"pair": "bt_vicreg"})


@pytest.mark.parametrize("same_as, graphs, expected", [
    # a new equivalence needs no verifier change: BT declares the SC span (the mirror of sc_bt)...
    (Subspace("spectral_contrastive"), "no_isolated", "holds"),
    # ...and a wrong one is refuted: BT's span is not constrained VICReg's without the constant
    (Subspace("vicreg", "constrained"), "regular", "refuted"),
])
def test_a_declared_equivalence_is_checked(same_as, graphs, expected):
    th = Theorem("planted.same", "barlowtwins", "planted", claim="same_subspace",
                 params={"variant": "paper", "graphs": graphs, "same_as": same_as})
    r = run_theorem(th, examples=6, ctx=Context(device="cpu", starts=2, seed=0))
    assert r.verdict == expected, (r.verdict, r.counterexample)


def test_k_min_bounds_the_drawn_k():
    th = Theorem("planted.kmin", "vicreg", "k >= 2", claim="closed_form",
                 params={"variant": "squared", "k_min": 2, "k_max": 3})

    @settings(max_examples=30, database=None, deadline=None)
    @given(instances(th, ssl_proofs.get_method("vicreg")))
    def draws(inst):
        assert 2 <= inst.k <= min(3, inst.G.shape[0] - 1)

    draws()


# -- hyper-parameters checked once ----------------------------------------------------------------------

def test_checked_hyper_parameters_pass_inward_as_they_are(hyper_validations):
    vic = ssl_proofs.get_method("vicreg")
    hp = vic.check_hyper("squared", {"gamma": 0.5})
    assert hyper_validations["n"] == 1 and hp["beta"] == hp["alpha"] == 1.0 and hp["gamma"] == 0.5
    assert vic.check_hyper("squared", dict(**hp)) == hp                        # through **hp: not again
    assert vic.check_hyper("squared", {"gamma": hp["gamma"]}) == hp          # exactly the keys it was given
    assert hyper_validations["n"] == 1
    # anything else is validated again: another variant, a dropped key (back to its default), a new value
    assert vic.check_hyper("constrained", hp) == hp
    assert vic.check_hyper("squared", {"alpha": hp["alpha"]})["gamma"] == 1.0
    assert vic.check_hyper("squared", {**hp, "gamma": 2.0})["gamma"] == 2.0
    assert hyper_validations["n"] == 4
    with pytest.raises(InvalidArgument, match="gamma"):
        vic.check_hyper("squared", {**hp, "gamma": -1.0})
    # a checked value is a float; arithmetic on it is a plain float, so nothing derived passes as checked
    assert isinstance(hp["gamma"], float) and type(hp["gamma"] * 2) is float


def test_checked_values_of_another_method_are_validated_again(hyper_validations):
    bt = ssl_proofs.get_method("barlowtwins")
    hp = bt.check_hyper("paper", {"alpha": 0.01})
    with pytest.raises(InvalidArgument, match="no hyper-parameter"):
        ssl_proofs.get_method("simclr").check_hyper("paper", hp)
    assert hyper_validations["n"] == 2
