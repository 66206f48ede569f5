"""Label graph -> LDA (balanced / unbalanced) and view graph -> CCA (tied / untied weights)."""
import warnings

import numpy as np
import pytest
import scipy.linalg as sla
from hypothesis import HealthCheck, given, seed, settings

from ssl_proofs import get_method
from ssl_proofs.graphs import label_graph, laplacian, view_graph
from ssl_proofs.linear import class_scatters, solve_linear
from ssl_proofs.methods.barlowtwins import solve_barlowtwins_linear
from ssl_proofs_verifiers import linear_checks as lc
from ssl_proofs_verifiers.checks import Context, Inapplicable


def _proj(M):
    q, _ = np.linalg.qr(M)
    return q @ q.T


def _classes(sizes, d=4, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(sizes)), sizes)
    X = 3 * rng.normal(size=(len(sizes), d))[y] + rng.normal(size=(len(y), d)) @ rng.normal(size=(d, d))
    return X, y


def _dist(sizes, *, lda="standard", graph="label", seed=0):
    X, y = _classes(sizes, seed=seed)
    G = label_graph(y)
    if graph == "normalised":
        G = G / np.bincount(y)[y][:, None]
    k = len(sizes) - 1
    W = solve_linear(get_method("vicreg"), X, G, k, variant="constrained").W
    E = lc.lda_subspace(X, y, k) if lda == "standard" else lc.fisher_subspace(X, y, k, within=lda)[0]
    return np.linalg.norm(_proj(W) - _proj(E), 2)


# -- LDA --------------------------------------------------------------------------

def test_laplacian_of_label_graph_is_size_weighted_within_scatter():
    X, y = _classes([2, 5, 9])
    S, n = class_scatters(X, y)
    np.testing.assert_allclose(X.T @ laplacian(label_graph(y)) @ X, np.einsum("c,cij->ij", n, S), atol=1e-9)


@pytest.mark.parametrize("seed_", range(3))
def test_balanced_classes_give_lda(seed_):
    assert _dist([7, 7, 7], seed=seed_) < 1e-9


@pytest.mark.parametrize("seed_", range(3))
def test_unbalanced_classes_do_not_give_standard_lda(seed_):
    assert _dist([3, 8, 14], seed=seed_) > 1e-3


@pytest.mark.parametrize("seed_", range(3))
def test_unbalanced_is_fisher_ratio_with_size_weighted_within_scatter(seed_):
    # the formula: span W* = top-k of S_T w = nu (sum_c n_c S_c) w, scatters from their definitions
    assert _dist([3, 8, 14], lda="size_weighted", seed=seed_) < 1e-9


def test_textbook_scatters_by_hand():
    # two classes on a line: {0, 2} (mean 1) and {5} (mean 5); overall mean 7/3
    X = np.array([[0.0], [2.0], [5.0]])
    y = np.array([0, 0, 1])
    S_T, S_W = lc.textbook_scatters(X, y)
    assert S_T[0, 0] == pytest.approx((7 / 3) ** 2 + (1 / 3) ** 2 + (8 / 3) ** 2)
    assert S_W[0, 0] == pytest.approx(2.0)                     # (0-1)^2 + (2-1)^2 + 0
    assert lc.textbook_scatters(X, y, within="size_weighted")[1][0, 0] == pytest.approx(4.0)   # n_0 = 2


def test_priors_reading_was_a_solver_quirk():
    # "LDA with priors ∝ n_c^2" matches only scikit-learn's eigen solver (its between-class scatter is
    # S_t - S_w); the svd solver, or textbook LDA with both scatters weighted by those priors, differ
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    X, y = _classes([6, 3, 2], d=3, seed=1)
    k = 2
    W = solve_linear(get_method("vicreg"), X, label_graph(y), k, variant="constrained").W
    sizes = np.bincount(y).astype(float)
    priors = sizes ** 2 / np.sum(sizes ** 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eig = LinearDiscriminantAnalysis(solver="eigen", priors=priors).fit(X, y).scalings_[:, :k]
        svd = LinearDiscriminantAnalysis(solver="svd", priors=priors).fit(X, y).scalings_[:, :k]
    # textbook LDA with S_B and S_W both weighted by the priors
    m = X.mean(axis=0)
    SB = sum(p * np.outer(X[y == c].mean(0) - m, X[y == c].mean(0) - m) for c, p in enumerate(priors))
    SW = sum(p * np.cov(X[y == c].T, bias=True) for c, p in enumerate(priors))
    both = sla.eigh(SB, SW)[1][:, ::-1][:, :k]
    d = lambda E: np.linalg.norm(_proj(W) - _proj(E), 2)
    assert d(eig) < 1e-9
    assert d(svd) > 1e-2 and d(both) > 1e-3


@pytest.mark.parametrize("seed_", range(3))
def test_class_normalised_graph_gives_standard_lda(seed_):
    assert _dist([3, 8, 14], graph="normalised", seed=seed_) < 1e-9


def test_two_unbalanced_classes_still_differ():
    assert _dist([3, 12]) > 1e-3


def test_svd_solver_spans_the_same_subspace_when_balanced():
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    X, y = _classes([6, 6, 6], seed=4)
    W = solve_linear(get_method("vicreg"), X, label_graph(y), 2, variant="constrained").W
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        E = LinearDiscriminantAnalysis(solver="svd").fit(X, y).scalings_[:, :2]
    assert np.linalg.norm(_proj(W) - _proj(E), 2) < 1e-8


def test_squared_variant_spans_lda_subspace_when_directions_survive():
    X, y = _classes([6, 6, 6], seed=5)
    sol = solve_linear(get_method("vicreg"), X, label_graph(y), 2, variant="squared", gamma=0.01)
    assert np.all(sol.scales > 0)
    assert np.linalg.norm(_proj(sol.W) - _proj(lc.lda_subspace(X, y, 2)), 2) < 1e-9


@pytest.mark.parametrize("tid", ["vicreg.linear.lda_balanced", "vicreg.linear.lda_size_weighted",
                                 "vicreg.linear.lda_normalised_graph", "vicreg.linear.lda_unbalanced"])
def test_lda_theorem_verdicts(tid):
    from ssl_proofs_verifiers.runner import run_theorem

    th = next(t for t in get_method("vicreg").theorems() if t.id == tid)
    r = run_theorem(th, examples=15, ctx=Context(starts=1))
    assert r.verdict == th.expected, r.counterexample


# -- CCA ---------------------------------------------------------------------------

def _views(m=20, d=3, mix=0.5, noise=0.5, seed=0):
    rng = np.random.default_rng(seed)
    X1 = rng.normal(size=(m, d))
    X2 = X1 @ (np.eye(d) + mix * rng.normal(size=(d, d))) + noise * rng.normal(size=(m, d))
    return X1, X2


def test_bt_operator_and_metric_on_view_graph():
    X1, X2 = _views()
    X = np.vstack([X1, X2])
    G = view_graph(20)
    sol = solve_barlowtwins_linear(X, G, 2)
    np.testing.assert_allclose(sol.problem.operator, X1.T @ X2 + X2.T @ X1, atol=1e-10)
    np.testing.assert_allclose(sol.problem.metric, X1.T @ X1 + X2.T @ X2, atol=1e-10)


def test_tied_equals_untied_cca_of_pair_listing():
    X1, X2 = _views(mix=0.2, noise=0.3)
    X = np.vstack([X1, X2])
    G = view_graph(20)
    r, c = np.nonzero(G)
    rho = solve_barlowtwins_linear(X, G, 3).eigenvalues
    sv, M = lc.cca_correlations(X[r], X[c], 3)
    np.testing.assert_allclose(M, M.T, atol=1e-10)           # symmetrised pairs: Sigma_LR symmetric
    assert np.all(rho > 0)
    np.testing.assert_allclose(rho, sv, atol=1e-10)


def test_anti_correlated_direction_breaks_tied_cca():
    rng = np.random.default_rng(1)
    X1 = rng.normal(size=(30, 2))
    X2 = X1 * np.array([1.0, -1.0]) + 0.2 * rng.normal(size=(30, 2))   # 2nd feature flips sign
    X = np.vstack([X1, X2])
    G = view_graph(30)
    r, c = np.nonzero(G)
    rho = solve_barlowtwins_linear(X, G, 2).eigenvalues
    sv, _ = lc.cca_correlations(X[r], X[c], 2)
    # tied weights can only reach the anti-correlated direction as rho < 0; untied CCA takes W_b = -W_a
    assert rho[1] < 0
    np.testing.assert_allclose(np.sort(np.abs(rho))[::-1], sv, atol=1e-10)
    assert sv[0] > rho[0] + 1e-3


def test_tied_differs_from_one_way_cca():
    X1, X2 = _views(mix=0.8, noise=0.5)
    rho = solve_barlowtwins_linear(np.vstack([X1, X2]), view_graph(20), 2).eigenvalues
    sv, _ = lc.cca_correlations(X1, X2, 2)
    assert np.abs(rho - sv).max() > 1e-3


def test_exchangeable_views_tied_equals_one_way():
    # an exchangeable sample: every pair appears in both orders, so Sigma_11 = Sigma_22, Sigma_12 = Sigma_12^T
    U, V = _views(m=15, mix=0.3, noise=0.4, seed=2)
    X1, X2 = np.vstack([U, V]), np.vstack([V, U])
    S11, S22, S12 = X1.T @ X1, X2.T @ X2, X1.T @ X2
    assert np.allclose(S11, S22) and np.allclose(S12, S12.T)
    rho = solve_barlowtwins_linear(np.vstack([X1, X2]), view_graph(30), 2).eigenvalues
    sv, _ = lc.cca_correlations(X1, X2, 2)
    np.testing.assert_allclose(rho, sv, atol=1e-9)


def test_linear_kernel_cca_reproduces_linear_bt():
    X1, X2 = _views()
    X = np.vstack([X1, X2])
    G = view_graph(20)
    a = solve_barlowtwins_linear(X, G, 2)
    b = solve_barlowtwins_linear(X @ X.T, G, 2, kernel=True)
    np.testing.assert_allclose(a.eigenvalues, b.eigenvalues, atol=1e-9)


def test_kernel_cca_without_ridge_is_trivial():
    X1, X2 = _views(m=10)
    X = np.vstack([X1, X2])
    K = np.exp(-((X[:, None] - X[None]) ** 2).sum(-1) / 4)
    rho = solve_barlowtwins_linear(K, view_graph(10), 3, kernel=True).eigenvalues
    np.testing.assert_allclose(rho, 1.0, atol=1e-5)       # full-rank K: perfect correlations, uninformative
    reg = solve_barlowtwins_linear(K, view_graph(10), 3, kernel=True, ridge=0.1).eigenvalues
    assert reg.max() < 1 - 1e-3


@pytest.mark.parametrize("pairs, expected", [("listing", "holds"), ("one_way", "refuted")])
def test_cca_checks_over_hypothesis_instances(pairs, expected):
    th = next(t for t in get_method("barlowtwins").theorems() if t.params.get("pairs") == pairs)
    assert th.expected == expected
    failures, checked = [], []

    @seed(0)
    @settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(lc.view_instances(th, None))
    def run(inst):
        try:
            ms = lc.check_cca_oracle(th, None, inst, Context())
        except Inapplicable:
            return
        checked.append(1)
        failures.extend(m for m in ms if not m.ok)

    run()
    assert checked
    assert bool(failures) == (expected == "refuted")
