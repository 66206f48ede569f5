"""Independent oracles: scikit-learn and dense eigen-decompositions.

scikit-learn is a test/verification dependency only.  ``spectral_embedding``
returns no eigenvalues and flips signs, so it is compared as a *subspace*
(projector onto the span of its columns together with the constant vector).
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg as sla

from ssl_proofs import graphs as _graphs

from . import tolerances as tols
from .checks import Inapplicable, Measurement, claim, eckart_young_value, projector, solve_instance  # noqa: F401


def laplacian_eigenmaps(G, k):
    """Belkin-Niyogi Laplacian Eigenmaps via scikit-learn (generalized ``L u = lambda D_G u``).

    Returns ``(k + 1)`` columns including the trivial constant one.
    """
    from sklearn.manifold import spectral_embedding

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return spectral_embedding(G, n_components=k + 1, norm_laplacian=True, drop_first=False,
                                  random_state=0)


@claim("le_oracle")
def check_le_oracle(theorem, method, inst, ctx):
    """Span{1, Z*} of constrained VICReg vs span of scikit-learn's Laplacian Eigenmaps."""
    G = inst.G
    n, k = G.shape[0], inst.k
    if _graphs.n_components(G) != 1 or k + 1 >= n:
        raise Inapplicable("needs a connected graph and k <= N - 2")
    d = _graphs.degrees(G)
    L = _graphs.laplacian(G)
    # eigengaps of both problems at position k (0-based: constant + k kept)
    ev_le = sla.eigh(L, np.diag(d), eigvals_only=True)
    ev_h = np.linalg.eigvalsh(L)
    gap = min(ev_le[k + 1] - ev_le[k], ev_h[k + 1] - ev_h[k])
    if gap < 1e-3:
        raise Inapplicable("degenerate eigengap at k: the subspaces are not unique")
    Z = solve_instance(method, inst, ctx)
    E = laplacian_eigenmaps(G, k)
    err = np.linalg.norm(projector(Z, add_constant=True) - projector(E), 2)
    # ARPACK (tol=0, machine precision) residual ~ eps * ||L||
    t = tols.subspace(1e3 * tols.EPS * np.abs(L).sum(axis=1).max() * n, gap)
    return [Measurement("||P(span{1,Z*}) - P(LE)||_2 (sklearn spectral_embedding)", err, t.value, t.reason)]
