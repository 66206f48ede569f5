"""The moment basis built from G, and the gradient-span test.

A loss that depends on Z only through the K x K matrices ``A_X = Z^T X Z``, X in a basis
``{X_1..X_m}`` of symmetric N x N matrices, has gradient ``sum_X 2 X Z dPhi/dA_X``: at every Z
it lies in ``{sum_X X Z B_X : B_X symmetric K x K}``.  The test measures the relative
least-squares residual of the autograd gradient in that span.  It proves nothing by itself
(a span of ``m K (K+1)/2`` directions in an ``N K`` space); its ``power`` (N K minus the span's
dimension) says how much it could have failed.  The decisive test is the exact fit
(:mod:`.canonical`).
"""
from __future__ import annotations

import numpy as np

from .identification import TestResult
from .lifting import gradient
from .tolerances import MOMENT

#: candidate basis, in order of preference (an element dependent on the earlier ones is dropped):
#: names are expressions of G (d = G 1, S = 1^T d, J = 1 1^T, D = diag(d))
BASIS_NAMES = ("I", "J", "G", "D", "dd^T", "1d^T+d1^T")


def basis(G):
    """``[(name, X)]``: the linearly independent elements of :data:`BASIS_NAMES` for this G."""
    G = np.asarray(G, dtype=float)
    n = G.shape[0]
    d = G.sum(axis=1)
    one = np.ones(n)
    full = {"I": np.eye(n), "J": np.outer(one, one), "G": (G + G.T) / 2, "D": np.diag(d),
            "dd^T": np.outer(d, d), "1d^T+d1^T": np.outer(one, d) + np.outer(d, one)}
    kept, vecs = [], []
    for name in BASIS_NAMES:
        X = full[name]
        v = X.ravel() / max(np.linalg.norm(X), 1e-300)
        if vecs:
            Q = np.linalg.qr(np.array(vecs).T)[0]
            if np.linalg.norm(v - Q @ (Q.T @ v)) < 1e-8:
                continue
        if np.linalg.norm(X) == 0:
            continue
        kept.append((name, X))
        vecs.append(v)
    return kept


def span_matrix(Xs, Z):
    """Columns ``vec(X Z E_ab)`` for every X and every symmetric unit ``E_ab`` (a <= b)."""
    k = Z.shape[1]
    cols = []
    for X in Xs:
        XZ = X @ Z
        for a in range(k):
            for b in range(a, k):
                E = np.zeros((k, k))
                E[a, b] = E[b, a] = 1.0
                cols.append((XZ @ E).ravel())
    return np.array(cols).T


def moment_test(f, G, k, *, samples=3, seed=0):
    """The gradient-span test at ``samples`` random Z (scale 1): a :class:`TestResult`."""
    named = basis(G)
    Xs = [X for _, X in named]
    rng = np.random.default_rng([seed, 17])
    n = np.asarray(G).shape[0]
    worst, power = 0.0, n * k
    for _ in range(samples):
        Z = rng.standard_normal((n, k))
        _, g = gradient(f, Z)
        Phi = span_matrix(Xs, Z)
        coef, *_ = np.linalg.lstsq(Phi, g.ravel(), rcond=None)
        res = np.linalg.norm(g.ravel() - Phi @ coef) / max(np.linalg.norm(g), 1e-300)
        worst = max(worst, float(res))
        power = min(power, n * k - int(np.linalg.matrix_rank(Phi)))
    names = ", ".join(name for name, _ in named)
    detail = (f"gradient in span{{X Z B_X}}, X in {{{names}}}, at {samples} random Z; power {power} "
              f"(N K = {n * k} minus the span's dimension)")
    if power <= 0:
        detail += ": vacuous here (the span is the whole space), the exact fit decides"
    return TestResult("moments", worst, MOMENT, bool(worst <= MOMENT), detail), named
