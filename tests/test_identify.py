"""``ssl_proofs.identify``: recognition of spectral losses from the loss as a black box (docs/identify.md).

Oracles are independent of the code under test: a multi-start L-BFGS written here (scipy, not
``ssl_proofs.search``) on a lifting written here (``np.nonzero``), registered losses through
``Method.loss``, and hand-built near-misses whose right answer follows from their formula.
Tolerances: identify's own (ssl_proofs/identify/tolerances.py); the independent minimum is
compared to 1e-6 (the issue's bar; L-BFGS stops at |grad| <= 1e-12 on O(1) losses).
Run time ~30 s on the shared 2-core machine (OMP_NUM_THREADS=1).
"""
import json
import shutil
import subprocess

import numpy as np
import pytest
import scipy.optimize as sopt
import torch

import ssl_proofs
from ssl_proofs import get_method, identify
from ssl_proofs.graphs import view_graph
from ssl_proofs.identify import LossError, probe_graph
from ssl_proofs_cli import main
from ssl_proofs_verifiers.references_identify import (log_det, near_miss, ssl_ey, unbounded, unequal_weights,
                                                      vicreg_cov, vicreg_einsum, vicreg_views, whitening_views)

FAST = dict(search_budget=3, structure=False)
QUICK = dict(search=False, structure=False)


def irregular_graph():
    """10 nodes, unweighted, connected, degrees 1..4 (np.nonzero is then the paper's pair listing)."""
    edges = [(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 5), (5, 3), (5, 6), (6, 7), (7, 8), (8, 9), (9, 7), (1, 4)]
    G = np.zeros((10, 10))
    for i, j in edges:
        G[i, j] = G[j, i] = 1.0
    return G


def lifted(loss, G):
    rows, cols = np.nonzero(G)
    return lambda Z: loss(Z[rows], Z[cols])


def independent_minimum(f, n, k, starts=8, seed=0):
    """Multi-start L-BFGS (scipy) on f, written here: the oracle of the closed forms' losses."""
    rng = np.random.default_rng(seed)

    def fun(x):
        Z = torch.tensor(x.reshape(n, k), dtype=torch.float64, requires_grad=True)
        v = f(Z)
        (g,) = torch.autograd.grad(v, Z)
        return float(v.detach()), g.numpy().ravel()

    best = np.inf
    for s in range(starts):
        x0 = rng.standard_normal(n * k) * (0.3, 1.0, 3.0)[s % 3]
        res = sopt.minimize(fun, x0, jac=True, method="L-BFGS-B",
                            options={"maxiter": 5000, "gtol": 1e-12, "ftol": 0.0, "maxcor": 30})
        best = min(best, float(res.fun))
    return best


# -- the vertical slice: views-form VICReg, end to end ----------------------------------------------


@pytest.mark.slow  # the default budget end to end: about a minute on 2 cores (the CLI test below runs in CI)
def test_views_vicreg_is_eckart_young_with_the_degree_weighted_metric():
    G = irregular_graph()
    r = identify(vicreg_views, form="views", graph=G, k=2, seed=0)
    assert r.spectral is True and r.closed_form and r.certificate == "proved"
    assert r.form == "penalty (Eckart-Young)"
    assert "M = D - dd^T/S" in r.metric and "pair listing" in r.lifting
    # independent oracle: our own lifting and multi-start L-BFGS
    best = independent_minimum(lifted(vicreg_views, G), 10, 2)
    assert abs(r.loss - best) <= 1e-6
    assert r.loss <= best + 1e-6


def node_level_closed_form(G, k, gamma=0.5):
    """The node-level reading of ``vicreg_views`` (centring by H, the registered VICReg), from numpy's eigh.

    2||Z^T H Z / N - I||^2 + (2 gamma / S) Tr(Z^T L Z) = 2||F F^T - T||^2 + const, F = HZ/sqrt(N),
    T = H - (gamma N / (2 S)) L, so HZ* = sqrt(N) U diag(sqrt(tau_+)) over the top-k eigenpairs of T.
    """
    n = G.shape[0]
    L = np.diag(G.sum(1)) - G
    T = np.eye(n) - 1.0 / n - gamma * n / (2 * G.sum()) * L
    vals, vecs = np.linalg.eigh(T)
    top = np.argsort(vals)[::-1][:k]
    return np.sqrt(n) * vecs[:, top] * np.sqrt(np.clip(vals[top], 0, None))


def test_node_level_and_pair_listing_liftings_differ_on_an_irregular_graph_only():
    for G, differ in ((irregular_graph(), True), (view_graph(5), False)):
        f = lifted(vicreg_views, G)
        r = identify(vicreg_views, form="views", graph=G, k=2, check_registry=False, **FAST)
        node_level = float(f(torch.as_tensor(node_level_closed_form(G, 2))))
        if differ:   # the node-level optimum is beaten under the pair listing by a visible margin
            assert node_level > r.loss + 1e-3
        else:        # on a regular graph the two readings are the same problem
            assert node_level == pytest.approx(r.loss, rel=1e-9, abs=1e-9)


def test_json_record_has_the_issue_fields(tmp_path):
    r = identify(vicreg_views, form="views", graph=irregular_graph(), k=2, check_registry=False, **FAST)
    record = json.loads(json.dumps(r.as_dict()))
    for key in ("spectral", "form", "operator", "metric", "lifting", "tests", "reason", "closed_form", "loss",
                "certificate", "same_as", "evidence"):
        assert key in record
    assert all({"name", "residual", "tol", "passed"} <= set(t) for t in record["tests"])


# -- registered methods, handed in as plain functions -----------------------------------------------


def registered(name, variant, **hp):
    method = get_method(name)
    return lambda Z, G: method.loss(Z, G.numpy(), variant=variant, **hp)


@pytest.mark.parametrize("name, variant, hp, spectral, certificate", [
    ("vicreg", "squared", {"alpha": 2.0, "gamma": 0.5}, True, "proved"),
    ("spectral_contrastive", "population", {}, True, "proved"),
    ("wmse", "no_norm", {}, True, "proved"),
    ("vicreg", "hinge", {}, False, "searched"),
    ("barlowtwins", "paper", {"alpha": 0.5}, False, None),
    ("simclr", "paper", {"tau": 0.7}, False, "searched"),
    ("simsiam", "no_predictor", {}, False, "searched"),
    ("simsiam", "predictor", {}, False, "searched"),
])
def test_registered_losses_are_recognised(name, variant, hp, spectral, certificate):
    r = identify(registered(name, variant, **hp), form="graph", k=2, **FAST)
    assert r.same_as is not None and (r.same_as["method"], r.same_as["variant"]) == (name, variant)
    assert r.same_as["graphs"] == "this graph"
    for key, v in hp.items():
        ratio = r.same_as["hyper"][key] / r.same_as["hyper"].get("alpha", 1.0) if name == "vicreg" else r.same_as["hyper"][key]
        expected = v / hp.get("alpha", 1.0) if name == "vicreg" else v
        assert ratio == pytest.approx(expected, rel=1e-6)
    assert r.spectral is spectral
    if certificate is not None:
        assert r.certificate == certificate
    if not spectral:
        assert r.reason and r.failing


def test_registry_closed_forms_agree_with_identify():
    """vicreg squared / spectral contrastive: identify's own closed form has the registry's loss."""
    G = probe_graph()
    for name, variant, hp in (("vicreg", "squared", {"gamma": 0.3}), ("spectral_contrastive", "population", {})):
        r = identify(registered(name, variant, **hp), form="graph", graph=G, k=3, **FAST)
        sol = get_method(name).solve(G, 3, variant=variant, **hp)
        assert r.loss == pytest.approx(sol.loss, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("loss, ddof, gamma_over_alpha", [
    # on the two-view graph the listing's mean over B = N pairs is (1/N) sum_ij G_ij |z_i - z_j|^2, the
    # registered invariance term at gamma = its weight; the variance-covariance weight is alpha = beta
    (vicreg_einsum, 0.0, 0.25 / 1.0),
    (vicreg_cov, 1.0, 0.7 / 5.0),
    (lambda z1, z2: 3.0 * vicreg_views(z1, z2) + 7.0, 0.0, 0.5 / 2.0),   # two views: alpha = 2
])
def test_rewrites_are_recognised_on_regular_graphs(loss, ddof, gamma_over_alpha):
    """On the two-view graph z1 = Z, so these rewrites are squared VICReg exactly (pair listing = node level)."""
    G = view_graph(6)
    r = identify(loss, form="views", graph=G, k=2, **FAST)
    assert r.spectral is True and r.certificate == "proved"
    s = r.same_as
    assert (s["method"], s["variant"]) == ("vicreg", "squared") and s["hyper"]["ddof"] == ddof
    assert s["hyper"]["gamma"] / s["hyper"]["alpha"] == pytest.approx(gamma_over_alpha, rel=1e-8)


def test_views_vicreg_on_irregular_graph_is_same_as_only_on_regular_graphs():
    r = identify(vicreg_views, form="views", graph=irregular_graph(), k=2, **FAST)
    assert r.same_as is not None and r.same_as["method"] == "vicreg"
    assert r.same_as["graphs"].startswith("regular graphs only")


# -- planted near-misses and refusals ----------------------------------------------------------------


def test_spectral_plus_tiny_entrywise_term_is_refused_naming_the_test():
    r = identify(near_miss, form="views", graph=irregular_graph(), k=2, check_registry=False, **FAST)
    assert r.spectral is False and not r.closed_form and r.certificate == "searched"
    failing = {t.name: t for t in r.failing}
    assert "moments" in failing and failing["moments"].residual > 10 * failing["moments"].tol
    assert r.refused_at == "moments" and "moments" in r.reason


def test_log_det_loss_is_not_identified_as_a_trace_polynomial():
    r = identify(log_det, form="views", graph=irregular_graph(), k=2, check_registry=False, **QUICK)
    assert r.spectral is False and not r.closed_form
    assert r.test("moments").passed and r.test("rotation").passed
    assert not r.test("fit.eckart_young").passed and not r.test("fit.trace_polynomial").passed
    assert r.test("fit.trace_polynomial").residual > 1e3 * r.test("fit.trace_polynomial").tol
    assert r.refused_at == "fit.eckart_young"


def test_whitening_loss_is_a_trace_ratio_with_its_constraint_metric():
    G = irregular_graph()
    r = identify(whitening_views, form="views", graph=G, k=2, check_registry=False, search_budget=3)
    assert r.spectral is True and r.form == "constraint (trace ratio / whitening)"
    assert r.metric.startswith("M = D - dd^T/S") and r.certificate == "proved"
    assert r.test("mixing").passed
    assert abs(r.loss - independent_minimum(lifted(whitening_views, G), 10, 2, starts=4)) <= 1e-6


def test_not_rotation_invariant_gets_only_the_search():
    r = identify(unequal_weights, form="views", graph=irregular_graph(), k=2, check_registry=False, **FAST)
    assert r.test("moments").passed and not r.test("rotation").passed
    assert r.spectral is False and not r.closed_form and r.certificate == "searched"
    assert "rotation" in r.reason


def test_isolated_node_makes_the_minimum_set_non_compact():
    G = irregular_graph()
    G = np.pad(G, ((0, 1), (0, 1)))  # node 10 has no edge: never in the pair listing
    r = identify(vicreg_views, form="views", graph=G, k=2, check_registry=False, **QUICK)
    assert r.spectral == "degenerate" and "ker B" in r.reason and r.certificate != "proved"


def test_unbounded_quadratic_is_degenerate():
    r = identify(unbounded, form="views", graph=irregular_graph(), k=2, check_registry=False, **FAST)
    assert r.spectral == "degenerate" and "unbounded" in r.reason
    assert r.Z is None and r.certificate is None   # no minimum: nothing is searched for


# -- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss, words", [
    (lambda z1, z2: 1 / 0, "ZeroDivisionError"),
    (lambda z1, z2: (z1 - z2) ** 2, "not a scalar"),
    (lambda z1, z2: (z1 * float("nan")).sum(), "nan"),
    (lambda z1, z2: float((z1 - z2).pow(2).sum()), "not differentiable"),
    (lambda z1, z2: (z1 - z2).pow(2).sum().detach(), "not differentiable"),
    (lambda z1, z2: ((z1 - z2).pow(2).sum(), 0), "not a scalar"),
    (lambda z: z.sum(), "signature"),
    ("not callable", "callable"),
])
def test_bad_losses_get_a_clear_error(loss, words):
    with pytest.raises(LossError, match=words):
        identify(loss, form="views", graph=irregular_graph(), k=2)


def test_cli_bad_module_exits_2_and_writes_nothing(tmp_path, capsys):
    np.save(tmp_path / "g.npy", irregular_graph())
    bad = tmp_path / "broken.py"
    bad.write_text("import not_a_module_anywhere\n")
    out = tmp_path / "z.npy"
    for spec in (f"{bad}:loss", "no_such_module_xyz:loss", f"{tmp_path / 'missing.py'}:f",
                 "ssl_proofs_verifiers.references_identify:nope"):
        code = main(["identify", spec, "--graph", str(tmp_path / "g.npy"), "-k", "2", "--out", str(out),
                     "--json", str(tmp_path / "r.json")])
        assert code == 2
        assert "ssl-proofs: error:" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.py", "g.npy"]


def test_cli_raising_loss_exits_2(tmp_path, capsys):
    np.save(tmp_path / "g.npy", irregular_graph())
    (tmp_path / "mine.py").write_text("def loss(z1, z2):\n    raise RuntimeError('boom')\n")
    code = main(["identify", f"{tmp_path / 'mine.py'}:loss", "--graph", str(tmp_path / "g.npy"), "-k", "2",
                 "--json", str(tmp_path / "r.json")])
    assert code == 2 and "boom" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


def test_cli_end_to_end_writes_json_z_and_report(tmp_path, capsys):
    np.save(tmp_path / "g.npy", irregular_graph())
    code = main(["identify", "ssl_proofs_verifiers.references_identify:ssl_ey", "--graph", str(tmp_path / "g.npy"),
                 "-k", "2", "--json", str(tmp_path / "r.json"), "--out", str(tmp_path / "z.npy"),
                 "--report", str(tmp_path / "rep")])
    assert code == 0
    record = json.loads((tmp_path / "r.json").read_text())
    assert record["spectral"] is True and record["certificate"] == "proved"
    Z = np.load(tmp_path / "z.npy")
    assert Z.shape == (10, 2)
    f = lifted(ssl_ey, irregular_graph())
    assert float(f(torch.as_tensor(Z))) == pytest.approx(record["loss"], rel=1e-12)
    assert "Derivation" in (tmp_path / "rep" / "identify.md").read_text()
    assert "\\subsection*{Derivation}" in (tmp_path / "rep" / "identify.tex").read_text()


def test_report_escapes_a_hostile_loss_name_and_compiles(tmp_path, capsys):
    """The loss file's name is the user's text: inert in Markdown and LaTeX; the .tex compiles where TeX exists."""
    np.save(tmp_path / "g.npy", irregular_graph())
    name = "ev$il_#1%{x}`.py"
    (tmp_path / name).write_text("from ssl_proofs_verifiers.references_identify import ssl_ey as loss\n")
    code = main(["identify", f"{tmp_path / name}:loss", "--graph", str(tmp_path / "g.npy"), "-k", "2",
                 "--report", str(tmp_path / "rep")])
    assert code == 0
    tex = (tmp_path / "rep" / "identify.tex").read_text()
    assert "ev\\$il\\_\\#1\\%\\{x\\}" in tex and "$il_#" not in tex
    md = (tmp_path / "rep" / "identify.md").read_text()
    assert md.splitlines()[0].startswith("# identify ``") and "ev$il_#1%{x}`.py" in md.splitlines()[0]
    engine = shutil.which("pdflatex")
    if engine is None:
        pytest.skip("no pdflatex on PATH: the escaping is checked, the compilation is not")
    proc = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
                           "-output-directory", str(tmp_path), str(tmp_path / "rep" / "identify.tex")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]


def test_pytorch_metric_learning_vicreg_class_is_accepted():
    pml = pytest.importorskip("pytorch_metric_learning.losses")
    r = identify(pml.VICRegLoss, form="views", graph=irregular_graph(), k=2, check_registry=False, **QUICK)
    assert r.test("moments").passed and not r.test("rotation").passed  # hinge on per-coordinate std
    assert r.spectral is False and not r.closed_form


def test_identify_is_exported():
    assert ssl_proofs.identify is identify and ssl_proofs.Identification is not None


def test_loss_undefined_at_some_points_does_not_crash_the_search():
    """A loss that raises away from the probe (here for |z| > 3) is NaN there: the search steps around it."""
    def picky(z1, z2):
        if float(z1.detach().abs().max()) > 3:
            raise RuntimeError("undefined here")
        return vicreg_views(z1, z2)
    r = identify(picky, form="views", graph=irregular_graph(), k=2, check_registry=False, **FAST)
    assert r.certificate in ("proved", "candidate", "searched") and r.loss is not None
