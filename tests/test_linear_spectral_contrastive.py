"""Linear spectral contrastive loss (Z = XW): closed form vs a dense computation, GD on W, planted
wrong formulas, linear BarlowTwins, the wide case, bad inputs; SimCLR has no linear closed form.

Derivation (docs/linear.md): with A_X = X^T G X, B_X = X^T D_G X and V = B_X^{1/2} W / sqrt(S),
L(XW) = ||C - VV^T||_F^2 - ||C||_F^2, C = B_X^{-1/2} A_X B_X^{-1/2}, so
W* = sqrt(S) [w_1..w_K] diag(sqrt((rho_k)_+)), X^T G X w = rho X^T D_G X w, w B_X-orthonormal.
"""
import numpy as np
import pytest

from ssl_proofs import get_method
from ssl_proofs.errors import InvalidArgument, InvalidGraph, NoClosedForm
from ssl_proofs.linear import linear_problem, solve_linear
from ssl_proofs.methods.spectral_contrastive import EY_PROFILE
from ssl_proofs_verifiers import linear_checks as lc

SC = get_method("spectral_contrastive")
EPS = np.finfo(float).eps


def _graph(seed, n=10, p=0.5):
    rng = np.random.default_rng(seed)
    G = rng.random((n, n)) * (rng.random((n, n)) < p)
    G = np.triu(G, 1)
    G = G + G.T
    G[np.arange(n), (np.arange(n) + 1) % n] += 0.5      # a ring: no isolated node
    G[(np.arange(n) + 1) % n, np.arange(n)] += 0.5
    return G


def _data(seed, n=10, d=3):
    return _graph(seed, n), np.random.default_rng(seed + 100).standard_normal((n, d))


def _dense_optimum(X, G, k):
    """Eckart-Young on range(D^{1/2} X) written directly: Q^T A_bar Q, no generalized eigh."""
    d = G.sum(axis=1)
    S = d.sum()
    A_bar = G / np.sqrt(np.outer(d, d))
    Q, _ = np.linalg.qr(np.sqrt(d)[:, None] * X)
    rho, V = np.linalg.eigh(Q.T @ A_bar @ Q)
    rho, V = rho[::-1], V[:, ::-1]                    # all D values, descending
    F = Q @ V[:, :k] * np.sqrt(np.clip(rho[:k], 0, None))
    return np.sqrt(S) * F / np.sqrt(d)[:, None], rho


def _tol(X, G):
    """Rounding of two eigen-solvers: ~ eps * N * cond(X^T D X) (times a safety factor 1e3)."""
    d = G.sum(axis=1)
    return 1e3 * EPS * X.shape[0] * np.linalg.cond(X.T @ (d[:, None] * X))


def test_problem_is_G_and_D_with_sqrtS_scale_and_sc_profile():
    G, X = _data(0)
    p = linear_problem(SC, X, G, 2)
    d = G.sum(axis=1)
    np.testing.assert_allclose(p.operator, X.T @ G @ X, atol=1e-12)
    np.testing.assert_allclose(p.metric, X.T @ np.diag(d) @ X, atol=1e-12)
    assert p.which == "largest" and p.profile == EY_PROFILE and p.row_weights is None
    assert p.scale == pytest.approx(np.sqrt(d.sum()), rel=1e-15)


@pytest.mark.parametrize("seed, k", [(0, 1), (1, 2), (2, 3)])
def test_closed_form_matches_dense_computation(seed, k):
    G, X = _data(seed)
    sol = solve_linear(SC, X, G, k)
    Z, rho_all = _dense_optimum(X, G, k)
    rho = rho_all[:k]
    t = _tol(X, G)
    np.testing.assert_allclose(sol.eigenvalues, rho, atol=t)
    # Z Z^T is unique (only R^T is free) when rho_k > rho_{k+1}; Davis-Kahan: error ~ t / gap
    gap = rho_all[k - 1] - rho_all[k] if k < rho_all.size else 1.0
    assert gap > 1e-3
    M = Z @ Z.T
    np.testing.assert_allclose(sol.Z @ sol.Z.T, M, atol=t / gap * max(1.0, np.abs(M).max()))
    assert sol.loss == pytest.approx(-np.sum(np.clip(rho, 0, None) ** 2), abs=t)
    assert sol.loss == pytest.approx(SC.loss(Z, G), abs=t)


def test_closed_form_matches_gd_on_weights():
    G, X = _data(3)
    sol = solve_linear(SC, X, G, 2)
    gd = lc.minimise_weights(SC, X, G, 2, variant="population", hyper={}, starts=3, seed=0, device="cpu")
    # GD cannot beat the closed form (rounding only) and reaches it within L-BFGS's gtol
    assert gd.loss >= sol.loss - 1e-12
    assert gd.loss == pytest.approx(sol.loss, abs=1e-9)
    np.testing.assert_allclose(gd.Z @ gd.Z.T, sol.Z @ sol.Z.T, atol=1e-4)


def test_scale_sqrtS_and_sqrt_rho_are_both_needed():
    G, X = _data(4)
    sol = solve_linear(SC, X, G, 2)
    S = G.sum()
    assert SC.loss(sol.Z / np.sqrt(S), G) > sol.loss + 1e-6                 # scale sqrt(S) dropped
    for formula in ("no_metric", "no_sqrt"):
        W = lc._planted(formula, SC, X, G, 2, "population", {})
        assert SC.loss(X @ W, G) > sol.loss + 1e-6, formula


def test_same_directions_as_linear_barlowtwins():
    G, X = _data(5)
    sc = solve_linear(SC, X, G, 3)
    bt = solve_linear(get_method("barlowtwins"), X, G, 3)
    np.testing.assert_allclose(sc.eigenvalues, bt.eigenvalues, atol=_tol(X, G))
    pos = sc.eigenvalues > 0
    assert pos.any()
    P = lambda M: M @ np.linalg.pinv(M)
    np.testing.assert_allclose(P(X @ sc.W[:, pos]), P(X @ bt.W[:, pos]), atol=1e-8)


def test_wide_data_reaches_nonlinear_optimum():
    G = _graph(6, n=8)
    X = np.random.default_rng(6).standard_normal((8, 11))                  # rank(X) = N
    lin = solve_linear(SC, X, G, 3)
    full = SC.solve(G, 3)
    assert lin.loss == pytest.approx(full.loss, abs=1e-10)
    np.testing.assert_allclose(lin.Z @ lin.Z.T, full.Z @ full.Z.T, atol=1e-8)
    assert lin.metric_rank == 8 and lin.rank == full.rank and lin.null_space.shape[1] == 3


def test_constant_feature_is_allowed_and_k_above_rank_pads():
    """No centring: a constant column is a real direction; k > rank(X) pads zero columns (still optimal)."""
    G, X = _data(7, d=2)
    X = np.column_stack([X, np.ones(X.shape[0])])
    sol = solve_linear(SC, X, G, 4)
    assert sol.metric_rank == 3 and np.all(sol.W[:, 3] == 0)
    gd = lc.minimise_weights(SC, X, G, 4, variant="population", hyper={}, starts=3, seed=0, device="cpu")
    assert gd.loss >= sol.loss - 1e-12
    assert gd.loss == pytest.approx(sol.loss, abs=1e-9)


@pytest.mark.parametrize("bad, match", [
    (np.zeros((10, 3)), "constant"),
    (np.zeros((5, 3)), r"shape \(N, D\)"),
    (np.full((10, 3), np.nan), "NaN"),
])
def test_bad_data_is_a_clear_error(bad, match):
    G, _ = _data(8)
    with pytest.raises(InvalidArgument, match=match):
        solve_linear(SC, bad, G, 2)


def test_isolated_node_and_bad_variant_are_clear_errors():
    G, X = _data(9)
    G[0, :] = G[:, 0] = 0
    with pytest.raises(InvalidGraph):
        solve_linear(SC, X, G, 2)
    with pytest.raises(InvalidArgument, match="variant"):
        solve_linear(SC, X, _graph(9), 2, variant="nope")


def test_simclr_has_no_linear_closed_form():
    G, X = _data(10)
    with pytest.raises(NoClosedForm, match="SimCLR has no known closed-form optimum.*numerically"):
        get_method("simclr").solve_linear(X, G, 2)


def test_theorems_attached():
    ids = {t.id for t in SC.theorems()}
    assert {"spectral_contrastive.linear.closed_form", "spectral_contrastive.linear.planted_no_metric",
            "spectral_contrastive.linear.planted_no_sqrt", "spectral_contrastive.linear.same_as_barlowtwins",
            "spectral_contrastive.closed_form"} <= ids
