"""Mutation campaign (verifiers/mutants.py, `ssl-proofs mutants`): wrong closed forms are refuted with
small counterexamples and a visible margin; independently written correct solvers are not."""
import json

import numpy as np
import pytest

from ssl_proofs import get_method
from ssl_proofs.graphs import label_graph
from ssl_proofs.linear import solve_linear
from ssl_proofs_cli import main
from ssl_proofs_verifiers import mutants as M


def _gram(Z, centre):
    Z = Z - Z.mean(axis=0) if centre else Z
    return Z @ Z.T


def test_catalogue_shape():
    names = [m.name for m in M.CATALOGUE]
    assert len(names) == len(set(names))
    wrong = [m for m in M.CATALOGUE if m.wrong]
    correct = [m for m in M.CATALOGUE if not m.wrong]
    assert len(wrong) >= 30 and len(correct) >= 5
    methods = {"vicreg", "simclr", "barlowtwins", "spectral_contrastive"}
    assert {m.method for m in wrong} == methods and {m.method for m in correct} == methods
    assert {m.kind for m in wrong} >= {"solver", "linear", "predict"}
    quick = M.select(quick=True)
    assert {m.method for m in quick} == methods and any(not m.wrong for m in quick)


def test_unknown_mutant_is_a_clear_error():
    from ssl_proofs.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="unknown mutant"):
        M.select(["vicreg.nope"])


@pytest.mark.parametrize("name, method, kw, centre", [
    ("vicreg.squared.textbook", "vicreg", {"variant": "squared", "alpha": 1.0, "gamma": 0.3}, True),
    ("vicreg.squared.eckart_young", "vicreg", {"variant": "squared", "alpha": 2.0, "gamma": 0.1}, True),
    ("vicreg.constrained.textbook", "vicreg", {"variant": "constrained"}, True),
    ("spectral_contrastive.textbook", "spectral_contrastive", {}, False),
    ("spectral_contrastive.generalized", "spectral_contrastive", {}, False),
])
def test_correct_solvers_agree_with_the_library_on_a_nondegenerate_graph(name, method, kw, centre):
    # an irregular connected graph with a simple spectrum: the optimum's Gram matrix is unique
    G = np.zeros((6, 6))
    for i, j in [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (1, 4), (0, 2)]:
        G[i, j] = G[j, i] = 1.0
    mut = M.select([name])[0].make
    Z = mut(G, 2, **kw)
    variant = kw.pop("variant", None)
    ref = get_method(method).solve(G, 2, variant=variant, **kw).Z
    np.testing.assert_allclose(_gram(Z, centre), _gram(ref, centre), atol=1e-9)


def test_linear_correct_solvers_agree_with_solve_linear():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 12)
    X, G = rng.normal(size=(12, 4)), label_graph(y)
    for name, method, kw in [("vicreg.linear.squared.textbook", "vicreg", {"variant": "squared", "gamma": 0.4}),
                             ("vicreg.linear.constrained.textbook", "vicreg", {"variant": "constrained"}),
                             ("spectral_contrastive.linear.whitening", "spectral_contrastive", {}),
                             ("barlowtwins.linear.generalized", "barlowtwins", {})]:
        W = M.select([name])[0].make(X, G, 3, **kw)
        ref = solve_linear(get_method(method), X, G, 3, **kw)
        np.testing.assert_allclose(W @ W.T, ref.W @ ref.W.T, atol=1e-8, err_msg=name)


def test_quick_campaign_cli(tmp_path, capsys):
    out = tmp_path / "m.json"
    rc = main(["mutants", "--quick", "--json", str(out)])
    text = capsys.readouterr().out
    records = json.loads(out.read_text())
    assert {r["name"] for r in records} == set(M.QUICK)
    for r in records:
        assert set(r) >= {"name", "method", "wrong", "verdict", "nodes", "margin"}
        if r["wrong"]:
            assert r["verdict"] == "refuted", r
            assert r["nodes"] is not None and r["nodes"] <= M.MAX_NODES, r
            assert r["margin"] is not None and r["margin"] >= 1.0, r   # error/tol, or the error of an exact check
        else:
            assert r["verdict"] != "refuted", r
    assert "kill rate" in text and "false refutations: 0/" in text
    assert rc == 0


@pytest.mark.slow
def test_whole_catalogue_meets_the_targets():
    results = M.run_campaign(M.CATALOGUE)
    s = M.summarise(results)
    assert s["survivors"] == [] and s["too_large"] == []
    assert s["false_refutations"] == [] and s["errors"] == []
