"""The descent cross-check at scale (verifiers/scale_check.py), on the CPU at small N.

The GPU run at N = 65,536, K = 64 is a benchmark (benchmarks/gpu_descent.py, docs/benchmarks.md);
here the same code is held to the sound-verdict rule on graphs small enough for CI.
"""
import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sp

import ssl_proofs
from ssl_proofs.errors import InvalidArgument
from ssl_proofs_verifiers.scale_check import cross_check_at_scale

VICREG = ssl_proofs.get_method("vicreg")


def _ring_with_chords(n, seed=0):
    """A connected sparse graph: a ring plus n/2 random chords of weight 0.3."""
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    a, b = rng.integers(0, n, n // 2), rng.integers(0, n, n // 2)
    keep = a != b
    G = sp.coo_matrix((np.r_[np.ones(n), np.full(keep.sum(), 0.3)],
                       (np.r_[i, a[keep]], np.r_[(i + 1) % n, b[keep]])), shape=(n, n)).tocsr()
    G = G + G.T
    G.sum_duplicates()
    return G


def _eckart_young_loss(G, k, alpha=1.0, gamma=1.0):
    """Independent oracle: squared VICReg's optimal loss from the Laplacian's spectrum (dense eigh).

    With beta = alpha the loss is alpha ||HZZ^TH/N - (H - (gamma/alpha) L)||_F^2 + const
    (docs/vicreg.md); evaluating the loss at the optimum and at Z = 0 needs only the eigenvalues
    mu of A = H - (gamma/alpha) L on the centred space: min = loss(0) - alpha * sum_{top k} max(mu, 0)^2.
    """
    n = G.shape[0]
    L = np.diag(np.asarray(G.sum(axis=1)).ravel()) - G.toarray()
    H = np.eye(n) - np.ones((n, n)) / n
    mu = sla.eigh(H @ (H - gamma / alpha * L) @ H, eigvals_only=True)[::-1][:k]
    loss0 = VICREG.loss(np.zeros((n, k)), G, variant="squared", alpha=alpha, beta=alpha, gamma=gamma)
    return loss0 - alpha * float(np.sum(np.maximum(mu, 0.0) ** 2))


@pytest.fixture(scope="module")
def problem():
    G = _ring_with_chords(120)
    k = 4
    return G, k, _eckart_young_loss(G, k)


def test_descent_reaches_the_closed_form_within_the_gap(problem):
    G, k, oracle = problem
    # the closed form (computed by the solver) agrees with the independent spectral oracle first
    target = VICREG.solve(G, k, variant="squared").loss
    assert abs(target - oracle) <= 1e-9 * abs(oracle)
    r = cross_check_at_scale(VICREG, G, k, variant="squared", target=target, rel_gap=1e-6, device="cpu")
    assert r.verdict == "agrees", r.summary()
    assert -10 * 1e-6 <= r.gap <= 1e-6
    assert r.peak_bytes == 0 and r.device == "cpu" and r.iterations > 0


def test_a_closed_form_claiming_too_high_a_loss_is_refuted(problem):
    # a wrong closed form whose loss is 1% above the true optimum: descent goes lower, by a margin
    G, k, oracle = problem
    r = cross_check_at_scale(VICREG, G, k, variant="squared", target=oracle * 1.01, rel_gap=1e-6, device="cpu")
    assert r.verdict == "refuted", r.summary()
    assert r.gap < -10 * 1e-6


def test_stopping_above_an_unreachable_target_is_never_a_refutation(problem):
    # a target below the true minimum cannot be reached: descent stops above it, which proves nothing
    G, k, oracle = problem
    r = cross_check_at_scale(VICREG, G, k, variant="squared", target=oracle * 0.99, rel_gap=1e-6,
                             device="cpu", max_iter=400)
    assert r.verdict == "undecided", r.summary()
    assert r.loss >= oracle * (1 - 1e-9)


@pytest.mark.parametrize("kwargs, word", [({"rel_gap": 0}, "rel_gap"), ({"rel_gap": float("nan")}, "rel_gap"),
                                          ({"max_iter": 0}, "max_iter"), ({"max_seconds": -1}, "max_seconds")])
def test_bad_options_are_refused_before_any_work(problem, kwargs, word):
    G, k, _ = problem
    with pytest.raises(InvalidArgument, match=word):
        cross_check_at_scale(VICREG, G, k, variant="squared", target=1.0, device="cpu", **kwargs)
