"""Linear regime Z = XW: closed forms, degenerate inputs, kernels, derivation, GD cross-checks."""
import numpy as np
import pytest
import torch

import ssl_proofs
from ssl_proofs import get_method
from ssl_proofs.errors import InvalidArgument, SSLProofsError
from ssl_proofs.graphs import centering, label_graph, laplacian
from ssl_proofs.linear import LinearSolution, linear_problem, solve_kernel, solve_linear
from ssl_proofs.methods.vicreg import SQUARED_PROFILE, CONSTRAINED_PROFILE
from ssl_proofs_verifiers.checks import Context, centred_gram
from ssl_proofs_verifiers import linear_checks as lc

VIC = get_method("vicreg")


def _data(seed=0, n=12, d=4, classes=3):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    return rng.normal(size=(n, d)), label_graph(y), y


def _S_T(X, G):
    n = X.shape[0]
    H = centering(n)
    return X.T @ H @ X / n, X.T @ laplacian(G) @ X / n


def _isqrt(S):
    w, V = np.linalg.eigh(S)
    return V @ np.diag(w ** -0.5) @ V.T


# -- the closed form is the formula --------------------------------------------

@pytest.mark.parametrize("ratio", [0.02, 0.3, 2.0])
def test_squared_matches_stated_formula(ratio):
    X, G, _ = _data()
    k = 3
    S, T = _S_T(X, G)
    Si = _isqrt(S)
    mu, Q = np.linalg.eigh(Si @ T @ Si)
    W = Si @ Q[:, :k] @ np.diag(np.sqrt(np.clip(1 - ratio * mu[:k], 0, None)))
    sol = solve_linear(VIC, X, G, k, variant="squared", alpha=1.0, gamma=ratio)
    assert isinstance(sol, LinearSolution)
    assert sol.W.shape == (4, k) and sol.Z.shape == (12, k)
    np.testing.assert_allclose(sol.W @ sol.W.T, W @ W.T, atol=1e-10)   # equal up to R
    np.testing.assert_allclose(sol.eigenvalues, mu[:k], rtol=1e-10)
    assert sol.loss == pytest.approx(VIC.loss(X @ W, G, variant="squared", gamma=ratio), rel=1e-10)


def test_problem_reuses_vicreg_profile_and_is_generalized():
    X, G, _ = _data()
    p = linear_problem(get_method("vicreg"), X, G, 2, variant="squared", gamma=0.5)
    assert p.profile == SQUARED_PROFILE and p.which == "smallest"
    n = X.shape[0]
    np.testing.assert_allclose(p.operator, X.T @ laplacian(G) @ X, atol=1e-12)
    np.testing.assert_allclose(p.metric, X.T @ centering(n) @ X, atol=1e-12)
    assert linear_problem(get_method("vicreg"), X, G, 2, variant="constrained").profile == CONSTRAINED_PROFILE


def test_constrained_is_lpp_with_H():
    X, G, _ = _data(1)
    sol = solve_linear(VIC, X, G, 2, variant="constrained")
    S, T = _S_T(X, G)
    np.testing.assert_allclose(sol.W.T @ S @ sol.W, np.eye(2), atol=1e-10)   # Cov(XW) = I
    mu = np.sort(np.linalg.eigvals(np.linalg.solve(S, T)).real)
    np.testing.assert_allclose(sol.eigenvalues, mu[:2], rtol=1e-9)


@pytest.mark.parametrize("ddof", [0.0, 1.0])
def test_ddof_scale_factor(ddof):
    X, G, _ = _data(2)
    sol = solve_linear(VIC, X, G, 2, variant="constrained", ddof=ddof)
    Zc = sol.Z - sol.Z.mean(axis=0)
    np.testing.assert_allclose(Zc.T @ Zc / (X.shape[0] - ddof), np.eye(2), atol=1e-10)


@pytest.mark.parametrize("variant", ["squared", "constrained"])
def test_gd_on_weights_matches(variant):
    X, G, _ = _data(3)
    hp = VIC.check_hyper(variant, {"gamma": 0.2})
    sol = solve_linear(VIC, X, G, 2, variant=variant, gamma=0.2)
    gd = lc.minimise_weights(VIC, X, G, 2, variant=variant, hyper=hp, starts=3, seed=0, device="cpu")
    assert gd.loss == pytest.approx(sol.loss, abs=1e-9)
    np.testing.assert_allclose(centred_gram(gd.Z), centred_gram(sol.Z), atol=1e-5)


def test_planted_formulas_are_worse():
    X, G, _ = _data(4)
    hp = {"gamma": 0.3}
    best = solve_linear(VIC, X, G, 2, variant="squared", **hp).loss
    for formula in ("no_whitening", "top"):
        W = lc._planted(formula, VIC, X, G, 2, "squared", hp)
        assert VIC.loss(X @ W, G, variant="squared", **hp) > best + 1e-6, formula


# -- degenerate inputs -------------------------------------------------------------------

def test_collinear_features_null_space_freedom():
    X, G, _ = _data(5)
    X = np.column_stack([X, X[:, 0] - 2 * X[:, 1], np.ones(X.shape[0])])   # collinear + constant column
    sol = solve_linear(VIC, X, G, 2, variant="squared", gamma=0.3)
    assert sol.metric_rank == 4 and sol.null_space.shape == (6, 2)
    assert any("rank 4" in n for n in sol.notes)
    Y = np.random.default_rng(0).normal(size=(2, 2))
    other = VIC.loss(X @ (sol.W + sol.null_space @ Y), G, variant="squared", gamma=0.3)
    assert other == pytest.approx(sol.loss, abs=1e-10)
    # same optimum as with the redundant columns removed
    ref = solve_linear(VIC, X[:, :4], G, 2, variant="squared", gamma=0.3)
    assert ref.loss == pytest.approx(sol.loss, abs=1e-10)


def test_wide_data_reaches_nonlinear_optimum():
    rng = np.random.default_rng(6)
    X, G, _ = _data(6, n=8)
    X = rng.normal(size=(8, 11))                                         # D >= N
    for variant in ("squared", "constrained"):
        lin = solve_linear(VIC, X, G, 3, variant=variant, gamma=0.4)
        full = VIC.solve(G, 3, variant=variant, gamma=0.4)
        assert lin.loss == pytest.approx(full.loss, abs=1e-9)
        assert lin.metric_rank == 7 and lin.rank == full.rank and lin.null_space.shape[1] == 4
        # X^+ Z* reproduces the non-linear optimum's centred part
        W2 = np.linalg.pinv(X) @ (full.Z - full.Z.mean(axis=0))
        assert VIC.loss(X @ W2, G, variant=variant, gamma=0.4) == pytest.approx(full.loss, abs=1e-9)


def test_k_above_rank_constrained_is_a_clear_error():
    X, G, _ = _data(7, d=2)
    with pytest.raises(InvalidArgument, match="rank 2.*Lower k"):
        solve_linear(VIC, X, G, 3, variant="constrained")


def test_k_above_rank_squared_pads_zero_columns_and_stays_optimal():
    X, G, _ = _data(7, d=2)
    sol = solve_linear(VIC, X, G, 3, variant="squared", gamma=0.1)
    assert np.all(sol.W[:, 2] == 0) and np.isnan(sol.eigenvalues[2])
    hp = VIC.check_hyper("squared", {"gamma": 0.1})
    gd = lc.minimise_weights(VIC, X, G, 3, variant="squared", hyper=hp, starts=3, seed=0, device="cpu")
    assert gd.loss >= sol.loss - 1e-10
    assert gd.loss == pytest.approx(sol.loss, abs=1e-7)


@pytest.mark.parametrize("bad, match", [
    (np.ones((12, 3)), "constant"),
    (np.zeros((5, 3)), r"shape \(N, D\)"),
    (np.full((12, 3), np.nan), "NaN"),
    ("abc", "numeric"),
])
def test_bad_data_errors(bad, match):
    _, G, _ = _data()
    with pytest.raises(SSLProofsError, match=match):
        solve_linear(VIC, bad, G, 2, variant="squared")


def test_no_raw_numpy_error_on_degenerate_inputs():
    X, G, _ = _data()
    for Xb in (np.zeros((12, 4)), np.outer(np.arange(12.0), np.ones(4))):
        for variant in ("squared", "constrained"):
            try:
                sol = solve_linear(VIC, Xb, G, 2, variant=variant)
            except SSLProofsError as exc:
                assert str(exc)  # a diagnosis, not a bare numpy error
            else:
                assert np.all(np.isfinite(sol.W)) and np.all(np.isfinite(sol.Z))


# -- kernels -------------------------------------------------------------------

@pytest.mark.parametrize("variant", ["squared", "constrained"])
def test_linear_kernel_reproduces_linear_solution(variant):
    X, G, _ = _data(8)
    lin = solve_linear(VIC, X, G, 2, variant=variant, gamma=0.3)
    ker = solve_kernel(VIC, X @ X.T, G, 2, variant=variant, gamma=0.3)
    assert ker.kernel and ker.A.shape == (12, 2)
    np.testing.assert_allclose(ker.Z, (X @ X.T) @ ker.A)
    assert ker.loss == pytest.approx(lin.loss, abs=1e-9)
    np.testing.assert_allclose(centred_gram(ker.Z), centred_gram(lin.Z), atol=1e-8)


def test_rbf_kernel_full_rank_is_nonlinear_optimum():
    X, G, _ = _data(9)
    sq = ((X[:, None] - X[None]) ** 2).sum(-1)
    K = np.exp(-sq / 2)
    ker = solve_kernel(VIC, K, G, 3, variant="squared", gamma=0.4)
    assert ker.loss == pytest.approx(VIC.solve(G, 3, variant="squared", gamma=0.4).loss, abs=1e-8)
    reg = solve_kernel(VIC, K, G, 3, variant="squared", gamma=0.4, ridge=0.1)
    assert "ridge" in reg.notes[-1]


def test_kernel_validation():
    X, G, _ = _data()
    with pytest.raises(InvalidArgument, match="symmetric"):
        solve_kernel(VIC, np.triu(X @ X.T), G, 2)
    with pytest.raises(InvalidArgument, match="ridge"):
        solve_kernel(VIC, X @ X.T, G, 2, ridge=-1)


# -- derivation ---------------------------------------------------------------------

def test_derivation_checks_and_prover():
    from ssl_proofs.derivations import linear as dl

    for v in dl.VARIANTS:
        d = dl.derivation(VIC, v).check()
        assert d.evidence.holds, [str(s.evidence) for s in d.steps]
    assert all(dl.symbolic_proofs().values())


def test_derivation_refutes_wrong_substitution():
    import sympy
    from ssl_proofs.derivation import L, N, Z, alpha, gamma
    from ssl_proofs.derivations import linear as dl
    from ssl_proofs.tracealgebra import prove

    wrong = dl._LOSS_W.subs(gamma, gamma / N)   # forgot that Tr(Z^T L Z) = N Tr(W^T T W)
    assert not prove(dl._LOSS_Z, wrong, dl.LINEAR_TRACE)
    assert not prove(sympy.Trace(Z.T * L * Z), sympy.Trace(dl.W.T * dl.T * dl.W), dl.LINEAR_TRACE)


# -- theorems through the runner ------------------------------------------------------

@pytest.mark.parametrize("tid", [
    "vicreg.linear.squared.closed_form", "vicreg.linear.constrained.closed_form",
    "vicreg.linear.squared.planted_no_whitening", "vicreg.linear.squared.planted_top",
    "vicreg.linear.wide_equals_nonlinear", "vicreg.linear.kernel_linear", "vicreg.linear.derivation",
])
def test_theorem_verdicts(tid):
    from ssl_proofs_verifiers.runner import run_theorem

    th = next(t for t in get_method("vicreg").theorems() if t.id == tid)
    r = run_theorem(th, examples=6, ctx=Context(starts=2, seed=0))
    assert r.verdict == th.expected, r.counterexample


def test_minimise_adapter_shape():
    X, G, _ = _data()
    hp = VIC.check_hyper("squared", {})
    gd = lc.minimise_weights(VIC, X, G, 2, variant="squared", hyper=hp, starts=1, seed=0, device="cpu")
    assert gd.Z.shape == (12, 2)


# -- CLI ---------------------------------------------------------------------------

def test_cli_linear(tmp_path):
    import ssl_proofs_cli

    if not hasattr(VIC, "solve_linear"):
        pytest.skip("Method.solve_linear hook not applied to base.py yet")
    X, G, _ = _data()
    gpath, xpath, out = tmp_path / "g.npy", tmp_path / "x.npy", tmp_path / "w.npy"
    np.save(gpath, G)
    np.save(xpath, X)
    rc = ssl_proofs_cli.main(["solve", "vicreg", "--graph", str(gpath), "--data", str(xpath), "-k", "2",
                              "--linear", "--variant", "squared", "--out", str(out)])
    assert rc == 0
    W = np.load(out)
    ref = solve_linear(VIC, X, G, 2, variant="squared")
    np.testing.assert_allclose(W @ W.T, ref.W @ ref.W.T, atol=1e-10)


def test_kernel_gram_tolerance_when_nothing_is_left_out():
    # soak counterexample (seed 1, example 139): k = D = 3, eigengap "inf"; the uncapped Davis-Kahan
    # tolerance was 1e3 eps = 2.2e-13 while the two solves differ by 1.4e-12 of rounding
    G = np.zeros((5, 5))
    G[0, 1] = G[1, 0] = 1.0
    X = np.array([[1.97, 0.71, 0.23], [0.32, 0.11, 0.76], [-0.9, -0.68, -0.92], [-0.93, -0.49, -0.07],
                  [-1.8, -0.06, 1.8]])
    inst = lc.LinearInstance(G=G, k=3, hyper={"alpha": 2.0, "gamma": 1.0}, variant="squared", X=X)
    th = next(t for t in get_method("vicreg").theorems() if t.id == "vicreg.linear.kernel_linear")
    ms = lc.check_kernel_linear(th, VIC, inst, Context())
    gram = next(m for m in ms if "HZZ^TH" in m.name)
    # the old tolerance (gap uncapped: 1e3 eps = 2.2e-13) sat below the rounding of two solves (1.4e-12 then);
    # with the gap capped at 1 it is at least twice the loss-level residual the two solves share
    assert gram.tol > 2.3e-13 and gram.reason.endswith("eigengap 1")
    assert all(m.ok for m in ms)
