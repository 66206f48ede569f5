"""W-MSE on G: the loss against the official code, the closed form against dense scipy eigh and the search.

Official code, transcribed in numpy below (commit d9662c8 of htdt/self-supervised):
https://github.com/htdt/self-supervised/blob/d9662c8d07dafd194a9045375f4f6aa09f5b03e9/methods/whitening.py
https://github.com/htdt/self-supervised/blob/d9662c8d07dafd194a9045375f4f6aa09f5b03e9/methods/norm_mse.py
https://github.com/htdt/self-supervised/blob/d9662c8d07dafd194a9045375f4f6aa09f5b03e9/methods/w_mse.py
(``loss_f = norm_mse_loss if cfg.norm else F.mse_loss``).
"""
import numpy as np
import pytest
import scipy.linalg as sla
import torch

import ssl_proofs
from ssl_proofs import InvalidArgument
from ssl_proofs.graphs import check_graph, laplacian, to_dense, view_graph
from ssl_proofs.search import global_minimise
from ssl_proofs.theorems import Subspace, Theorem
from ssl_proofs_verifiers import check_solver
from ssl_proofs_verifiers.checks import CHECKS, Context, Instance, best_in_eigenspace
from ssl_proofs_verifiers.runner import run_theorem
from ssl_proofs_verifiers.threads import single_threaded

WMSE = ssl_proofs.get_method("wmse")
CTX = dict(device="cpu", starts=2, seed=0)


# -- the official code, in numpy ----------------------------------------------------------------

def official_whitening(x):
    """Whitening2d.forward, training mode, eps = 0: centre, cov / (N - 1), Cholesky, conv2d with L^-1."""
    xn = x - x.mean(axis=0, keepdims=True)
    f_cov = xn.T @ xn / (x.shape[0] - 1)
    inv_sqrt = sla.solve_triangular(np.linalg.cholesky(f_cov), np.eye(x.shape[1]), lower=True)
    return xn @ inv_sqrt.T        # conv2d(xn, inv_sqrt[:, :, None, None]): out_j = sum_i inv_sqrt[j, i] xn_i


def official_norm_mse(x0, x1):
    x0 = x0 / np.maximum(np.linalg.norm(x0, axis=1, keepdims=True), 1e-12)   # F.normalize
    x1 = x1 / np.maximum(np.linalg.norm(x1, axis=1, keepdims=True), 1e-12)
    return 2 - 2 * np.mean(np.sum(x0 * x1, axis=1))


def official_mse(x0, x1):
    return np.mean((x0 - x1) ** 2)    # F.mse_loss: mean over pairs and features


def _random_graph(n, rng, p=0.6):
    A = np.triu(rng.random((n, n)) < p, 1) * rng.integers(1, 4, (n, n))
    G = (A + A.T).astype(float)
    G[np.arange(n - 1), np.arange(1, n)] = G[np.arange(1, n), np.arange(n - 1)] = 1.0   # a path: connected
    return G


# -- the loss -----------------------------------------------------------------------------------

@pytest.mark.parametrize("variant, official", [("norm", official_norm_mse), ("no_norm", official_mse)])
def test_loss_is_the_official_loss_on_the_two_view_graph(variant, official):
    rng = np.random.default_rng(0)
    n, k = 7, 3
    H = rng.standard_normal((2 * n, k))
    z = official_whitening(H)           # the batch whitened as one (a graph has no views: docs/wmse.md)
    ref = official(z[:n], z[n:])
    ours = WMSE.loss(H, view_graph(n), variant=variant)
    assert abs(ours - ref) <= 1e-12 * max(1.0, abs(ref))


def test_whitening_is_the_official_one_and_the_loss_sees_only_the_whitened_rows():
    rng = np.random.default_rng(1)
    H = rng.standard_normal((9, 4))
    ours = WMSE.feasible(torch.as_tensor(H), None, "norm", {}).numpy()
    assert np.allclose(ours, official_whitening(H), atol=1e-12)
    assert np.allclose(ours.T @ ours / 8, np.eye(4), atol=1e-12)
    # any invertible mixing A of the encoder output is undone by whitening (up to a rotation)
    G = _random_graph(9, rng)
    A = rng.standard_normal((4, 4)) + 4 * np.eye(4)
    for variant in WMSE.variants:
        assert abs(WMSE.loss(H @ A + 5.0, G, variant=variant) - WMSE.loss(H, G, variant=variant)) < 1e-10


def test_weighted_graph_is_the_mean_over_the_repeated_pair_listing():
    rng = np.random.default_rng(2)
    G = _random_graph(6, rng)
    H = rng.standard_normal((6, 2))
    z = official_whitening(H)
    rows, cols = np.nonzero(G)
    reps = G[rows, cols].astype(int)
    rows, cols = np.repeat(rows, reps), np.repeat(cols, reps)
    assert abs(WMSE.loss(H, G, variant="norm") - official_norm_mse(z[rows], z[cols])) < 1e-12
    assert abs(WMSE.loss(H, G, variant="no_norm") - official_mse(z[rows], z[cols])) < 1e-12


def test_bad_input_gets_a_clear_error():
    G = _random_graph(4, np.random.default_rng(3))
    with pytest.raises(InvalidArgument, match="non-singular covariance"):
        WMSE.loss(np.ones((4, 2)), G)                          # collapsed: nothing to whiten
    with pytest.raises(InvalidArgument, match="k <= N-1"):
        WMSE.solve(G, 4)
    with pytest.raises(InvalidArgument, match="no hyper-parameter"):
        WMSE.loss(np.eye(4)[:, :2], G, alpha=1.0)


# -- the closed form against independent oracles -------------------------------------------------

def dense_eigh_solver(G, k, **_):
    """Independent: sqrt(N-1) x the bottom-k eigenvectors of L restricted to 1-perp (scipy.linalg.eigh)."""
    n = G.shape[0]
    P = sla.null_space(np.ones((1, n)))                    # orthonormal basis of 1-perp
    L = to_dense(laplacian(G))
    _, V = sla.eigh(P.T @ L @ P)
    return np.sqrt(n - 1.0) * P @ V[:, :k]


def adjacency_solver(G, k):
    """Wrong off regular graphs: the top-k eigenvectors of G (not L) on 1-perp."""
    n = G.shape[0]
    P = sla.null_space(np.ones((1, n)))
    _, V = sla.eigh(P.T @ to_dense(G) @ P)
    return np.sqrt(n - 1.0) * P @ V[:, ::-1][:, :k]


def test_closed_form_against_dense_eigh_and_the_ky_fan_value():
    rng = np.random.default_rng(4)
    for n, k in [(6, 2), (8, 3), (10, 4)]:
        G = _random_graph(n, rng)
        sol = WMSE.solve(G, k, variant="no_norm")
        Zd = dense_eigh_solver(G, k)
        lam = np.sort(sla.eigvalsh(to_dense(laplacian(G))))[1:k + 1]          # connected: drop the 0
        assert sol.certificate == "proved"
        assert abs(sol.loss - 2 * (n - 1) * lam.sum() / (k * G.sum())) < 1e-10
        gap = np.sort(sla.eigvalsh(to_dense(laplacian(G))))[k + 1] - lam[-1]
        assert gap > 1e-3                                                        # unique subspace: Grams agree
        assert np.allclose(sol.Z @ sol.Z.T, Zd @ Zd.T, atol=1e-8 / gap)


def test_same_point_as_constrained_vicreg_with_ddof_1():
    G = _random_graph(7, np.random.default_rng(5))
    z = WMSE.solve(G, 3).Z
    v = ssl_proofs.get_method("vicreg").solve(G, 3, variant="constrained", ddof=1).Z
    assert np.allclose(z @ z.T, v @ v.T, atol=1e-9)


def test_search_from_random_starts_does_not_beat_the_closed_form():
    rng = np.random.default_rng(6)
    for n, k in [(5, 2), (7, 3)]:
        G = _random_graph(n, rng)
        sol = WMSE.solve(G, k, variant="no_norm")
        sr = global_minimise(WMSE, G, k, variant="no_norm", starts=6, seed=0)   # no candidate given
        assert sr.loss >= sol.loss - 1e-10 and sr.loss <= sol.loss + 1e-6, (sr.loss, sol.loss)


def test_norm_variant_is_only_a_candidate_and_a_lower_point_is_next_to_it():
    G = np.ones((4, 4)) - np.eye(4)                                              # K4, the recorded counterexample
    cand = WMSE.solve(G, 2, variant="norm")
    assert cand.certificate == "candidate" and WMSE.kink(cand.Z, G, "norm", {}) == ""
    Z = torch.as_tensor(cand.Z).requires_grad_(True)
    (g,) = torch.autograd.grad(WMSE.loss(Z, G, variant="norm"), Z)
    step = cand.Z - 1e-3 * g.numpy() / np.abs(g.numpy()).max()
    rows = np.linalg.norm(WMSE.feasible(torch.as_tensor(step), G, "norm", {}).numpy(), axis=1)
    # not stationary, and a small step down the gradient is strictly lower, every whitened row far from 0
    assert np.abs(g.numpy()).max() > 0.05 and rows.min() > 0.1
    assert WMSE.loss(step, G, variant="norm") < cand.loss - 1e-5


def test_kink_names_a_zero_row():
    G = np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0.0]])                            # star: u = (0, 1, -1)
    Z = WMSE.solve(G, 1, variant="norm").Z
    assert "row 0" in WMSE.kink(Z, G, "norm", {}) and WMSE.kink(Z, G, "no_norm", {}) == ""


# -- the verifier: correct solvers hold, wrong ones are refuted ------------------------------------

def test_an_independent_correct_solver_holds(budget):
    r = check_solver("wmse", dense_eigh_solver, examples=min(budget, 5), device="cpu", starts=2)
    assert r.verdict == "holds", (r.verdict, r.counterexample)


@pytest.mark.parametrize("wrong", [
    lambda G, k, **_: dense_eigh_solver(G, G.shape[0] - 1)[:, -k:],             # top instead of bottom
    lambda G, k, **_: adjacency_solver(G, k),                                     # G's top, not L's bottom
])
def test_planted_wrong_solvers_are_refuted(wrong):
    r = check_solver("wmse", wrong, examples=10, device="cpu", starts=2)
    assert r.verdict == "refuted"


@pytest.mark.parametrize("tid, examples", [
    ("wmse.derivation", 5), ("wmse.no_norm.closed_form", 4), ("wmse.no_norm.same_as_vicreg", 10),
])
def test_recorded_verdicts(tid, examples):
    th = ssl_proofs.get_theorem(tid)
    r = run_theorem(th, examples=examples, ctx=Context(**CTX))
    assert r.verdict == th.expected, (r.verdict, r.counterexample)


def test_norm_closed_form_is_refuted_on_its_recorded_counterexample():
    # K4 was the recorded counterexample until issue 16 (a degenerate family: see the two tests below); the run
    # of helper i16b (seed 0, 100 examples) shrank to a star P3 plus an isolated node, K = 2, where the boundary
    # eigenvalue is simple (L on 1-perp: 0, 1, 3): there the Laplacian-eigenmaps point loses by a lower loss
    G = np.zeros((4, 4))
    G[0, 1] = G[1, 0] = G[0, 2] = G[2, 0] = 1.0
    th = ssl_proofs.get_theorem("wmse.norm.closed_form")
    inst = Instance(check_graph(G), 2, {}, "norm")
    bad = [m for m in single_threaded(CHECKS[th.claim])(th, WMSE, inst, Context(**CTX)) if m.refutes]
    assert any(m.kind == "lower loss found" and m.name.startswith("optimality") for m in bad), \
        [m.line() for m in bad]


def test_a_wrong_equivalence_is_refuted():
    th = ssl_proofs.get_theorem("wmse.no_norm.same_as_vicreg")
    sq = Theorem("planted.same", "wmse", "W-MSE spans the spectral contrastive optimum's subspace", claim=th.claim,
                 params={**th.params, "same_as": Subspace("spectral_contrastive")})
    r = run_theorem(sq, examples=10, ctx=Context(**CTX))
    assert r.verdict == "refuted"


# -- issue 16, finding 3: a witness on a degenerate eigenspace must refute the formula, not a basis ----------------

def _complete(n):
    return np.ones((n, n)) - np.eye(n)


def test_k4_closed_form_is_judged_at_the_best_point_of_its_eigenspace():
    """On K4, L = 4I off the constant vector: every whitened Z (K = 2) is a Laplacian-eigenmaps point, and the
    normalised loss is not constant over them. The check must judge the claim at the family's best point, which
    is lower than the basis `solve` happens to return (before: the basis was judged, and a search point that is
    itself a member of the family "refuted" it). The family's values are checked against random members drawn
    here independently: every one is >= the best point reported."""
    G = _complete(4)
    inst = Instance(G, 2, {}, "norm")
    Z0 = WMSE.solve(G, 2, variant="norm").Z
    Zb, note = single_threaded(best_in_eigenspace)(WMSE, inst, Context(**CTX), Z0)
    best = WMSE.loss(Zb, G, variant="norm")
    assert note and best < WMSE.loss(Z0, G, variant="norm") - 1e-3
    # independent members of the family: sqrt(N-1) x an orthonormal basis of a random 2-plane in 1-perp
    rng = np.random.default_rng(3)
    Q = sla.null_space(np.ones((1, 4)))
    for _ in range(200):
        U = Q @ np.linalg.qr(rng.standard_normal((3, 2)))[0]
        assert WMSE.loss(np.sqrt(3.0) * U, G, variant="norm") >= best - 1e-9


def test_p5_simple_spectrum_still_refutes_with_a_lower_loss():
    """P5 has a simple spectrum (no family to minimise over): the Laplacian-eigenmaps point (1.16197) is beaten by
    a point of loss ~1.00004 found by the search, far beyond the margin: the verdict stands on substance."""
    G = np.zeros((5, 5))
    for a in range(4):
        G[a, a + 1] = G[a + 1, a] = 1.0
    ms = single_threaded(CHECKS["closed_form"])(ssl_proofs.get_theorem("wmse.norm.closed_form"), WMSE,
                                                Instance(G, 2, {}, "norm"), Context(**CTX))
    lower = [m for m in ms if m.refutes and m.kind == "lower loss found"]
    assert lower and max(m.error for m in lower) > 0.15
    assert WMSE.loss(WMSE.solve(G, 2, variant="norm").Z, G, variant="norm") == pytest.approx(1.16197, abs=1e-5)
