"""Downstream quantities the paper's claims are stated in, as pure linear algebra.

Everything here is a function of a representation ``Z`` (rows = samples), the
labels ``y`` or the graph ``G``; none of it fits a model.  The claims registry
(:mod:`ssl_proofs.claims.registry`) states its formalisations with these
functions, the experiments in ``ssl_proofs_verifiers.experiments`` measure them, and
:mod:`ssl_proofs.diagnose` reports some of them for a trained network.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla
from scipy.sparse.csgraph import shortest_path

from .. import graphs as _graphs
from ..errors import InvalidArgument

__all__ = ["one_hot", "probe_residual", "numerical_rank", "effective_rank", "centred_singular_values",
           "linear_cka", "subspace_overlap", "geodesic_distances", "classical_mds", "invariant_dimension",
           "is_low_data", "RANK_RTOL"]

#: singular values below RANK_RTOL * (largest) count as collapsed.  Closed forms give exact zeros
#: (~1e-15); L-BFGS optima stop at gradient ~1e-10, leaving collapsed directions ~1e-5 relative.
RANK_RTOL = 1e-3


def one_hot(labels):
    """``(N, c)`` indicator matrix of integer-coded labels (classes in sorted order)."""
    y = np.asarray(labels).ravel()
    classes = np.unique(y)
    return (y[:, None] == classes[None, :]).astype(float)


def _check_rows(Z, n=None, name="Z"):
    Z = np.asarray(Z, dtype=float)
    if Z.ndim == 1:
        Z = Z[:, None]
    if Z.ndim != 2 or (n is not None and Z.shape[0] != n):
        raise InvalidArgument(f"{name} must be an (N, K) array with one row per sample (N = {n}), got {Z.shape}.")
    if not np.all(np.isfinite(Z)):
        raise InvalidArgument(f"{name} contains NaN or infinite entries.")
    return Z


def probe_residual(Z, labels):
    """Relative least-squares residual of the class indicators on ``[1, Z]``.

    ``||(I - P) H Y||_F^2 / ||H Y||_F^2`` with ``P`` the orthogonal projector on
    ``span(H Z)`` and ``Y`` the one-hot labels: 0 iff an affine linear probe
    ``1 b^T + Z B = Y`` is exact, i.e. iff the centred class indicators lie in the
    span of the left singular vectors of ``H Z`` with non-zero singular value.
    1 when ``Z`` carries no linear information about the labels.
    """
    Y = one_hot(labels)
    Z = _check_rows(Z, Y.shape[0])
    HY = Y - Y.mean(axis=0)
    HZ = Z - Z.mean(axis=0)
    U, s, _ = np.linalg.svd(HZ, full_matrices=False)
    keep = s > RANK_RTOL * max(float(s.max(initial=0.0)), np.finfo(float).tiny)
    U = U[:, keep]
    R = HY - U @ (U.T @ HY)
    return float(np.sum(R ** 2) / np.sum(HY ** 2))


def centred_singular_values(Z, centre=True):
    """Singular values of ``H Z / sqrt(N)`` (the per-direction standard deviations), descending.

    ``centre=False`` uses ``Z / sqrt(N)`` (root second moments), for losses that see the mean of Z.
    """
    Z = _check_rows(Z)
    return np.linalg.svd((Z - Z.mean(axis=0) if centre else Z) / np.sqrt(Z.shape[0]), compute_uv=False)


def numerical_rank(Z, rtol=RANK_RTOL, centre=True):
    """Number of (centred) singular values above ``rtol`` times the largest."""
    s = centred_singular_values(Z, centre)
    if s.size == 0 or s[0] == 0:
        return 0
    return int(np.count_nonzero(s > rtol * s[0]))


def effective_rank(Z, centre=True):
    """Roy & Vetterli's effective rank ``exp(H(p))``, ``p = s / sum(s)`` over (centred) singular values."""
    s = centred_singular_values(Z, centre)
    total = float(s.sum())
    if total == 0:
        return 0.0
    p = s[s > 0] / total
    return float(np.exp(-np.sum(p * np.log(p))))


def linear_cka(A, B):
    """Linear CKA (Kornblith et al. 2019) between two representations of the same rows.

    ``||A_c^T B_c||_F^2 / (||A_c^T A_c||_F ||B_c^T B_c||_F)`` on column-centred
    matrices: 1 iff the centred Grams are proportional, invariant to rotations
    and isotropic scaling of either side.
    """
    A = _check_rows(A)
    B = _check_rows(B, A.shape[0], "B")
    A = A - A.mean(axis=0)
    B = B - B.mean(axis=0)
    den = np.linalg.norm(A.T @ A) * np.linalg.norm(B.T @ B)
    return float(np.linalg.norm(A.T @ B) ** 2 / den) if den > 0 else 0.0


def subspace_overlap(A, B):
    """Mean squared cosine of the principal angles between ``span(H A)`` and ``span(H B)`` (in [0, 1])."""
    A = _check_rows(A)
    B = _check_rows(B, A.shape[0], "B")
    angles = sla.subspace_angles(A - A.mean(axis=0), B - B.mean(axis=0))
    return float(np.mean(np.cos(angles) ** 2))


def geodesic_distances(G):
    """Shortest-path (hop, weighted by ``1 / G_ij``) distances on ``G``; ISOMAP's input.

    Raises
    ------
    InvalidArgument
        When G is disconnected (infinite distances: classical MDS is undefined).
    """
    G = _graphs.check_graph(G)
    W = _graphs.to_dense(G)
    lengths = np.where(W > 0, 1.0 / np.where(W > 0, W, 1.0), 0.0)
    D = shortest_path(lengths, method="D", directed=False)
    if not np.all(np.isfinite(D)):
        raise InvalidArgument(
            f"G has {_graphs.n_components(G)} connected components: geodesic distances between them are "
            "infinite. Use a connected graph (e.g. a k-NN graph with larger k)."
        )
    return D


def classical_mds(D, k):
    """Torgerson's classical MDS: top-``k`` eigenpairs of ``B = -H D^2 H / 2``, ``Y = U_k sqrt(lambda_+)``."""
    D = np.asarray(D, dtype=float)
    n = D.shape[0]
    H = _graphs.centering(n)
    B = -0.5 * H @ (D ** 2) @ H
    vals, vecs = np.linalg.eigh((B + B.T) / 2)
    vals, vecs = vals[::-1][:k], vecs[:, ::-1][:, :k]
    return vecs * np.sqrt(np.clip(vals, 0.0, None))[None, :]


def invariant_dimension(G, tol=1e-9):
    """``dim ker(L)`` on ``1^perp``: directions a representation can carry at zero invariance cost.

    Equals (number of connected components) - 1 (``L`` is PSD with kernel the component indicators).
    """
    return _graphs.n_components(G) - 1


def is_low_data(G, k):
    """The low-data regime as this project defines it: ``K > invariant_dimension(G)``.

    Then every K-dimensional centred representation must use directions that
    change across positive pairs (for the view graph: augmentation-specific
    directions), and VICReg's gamma/alpha decides whether they are kept.
    """
    return int(k) > invariant_dimension(G)
