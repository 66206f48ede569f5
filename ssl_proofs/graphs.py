"""The positive-pair graph G and the operators built from it.

Notation (notes §1): ``D_G = diag(G 1)`` (degrees), ``L = D_G - G`` (graph
Laplacian), ``H = I - 11^T/N`` (centering).  ``G`` is symmetric, non-negative,
with a zero diagonal: ``G_ij > 0`` iff samples i and j are known positives.

Self-loops
----------
The paper puts 0 on the diagonal.  A self-loop contributes nothing to the
Dirichlet energy (``L`` is unchanged by it) and SimCLR excludes ``i = j`` from
its softmax, so ssl-proofs **ignores self-loops consistently**: the
diagonal is set to zero at the boundary, with a :class:`SelfLoopWarning`.
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

from .errors import InvalidGraph, InvalidArgument


class SelfLoopWarning(UserWarning):
    """G had a non-zero diagonal; it was dropped (see module docstring)."""


def check_graph(G, *, name="G", copy=True):
    """Validate a positive-pair graph and return it as float64.

    Parameters
    ----------
    G : array_like or scipy.sparse matrix, shape (N, N)
        Symmetric, non-negative, finite weights with at least one edge.
    name : str
        Name used in error messages.

    Returns
    -------
    G : ndarray or scipy.sparse.csr_matrix
        Float64 copy with the diagonal set to zero.

    Raises
    ------
    InvalidGraph
        With a message naming the problem and the fix.
    """
    if sp.issparse(G):
        G = sp.csr_matrix(G, dtype=np.float64, copy=copy)
        data = G.data
    else:
        try:
            G = np.array(G, dtype=np.float64) if copy else np.asarray(G, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidGraph(
                f"{name} could not be read as a numeric matrix ({exc}). "
                "Pass a square array of non-negative edge weights."
            ) from None
        data = G
    if G.ndim != 2 or G.shape[0] != G.shape[1]:
        raise InvalidGraph(
            f"{name} must be a square N x N matrix, got shape {G.shape}. "
            "Pass the adjacency matrix of the positive-pair graph (row i, column j = weight of pair i~j)."
        )
    n = G.shape[0]
    if n < 2:
        raise InvalidGraph(f"{name} has {n} node(s); a positive-pair graph needs at least 2 samples.")
    if not np.all(np.isfinite(data)):
        bad = int(np.size(data) - np.count_nonzero(np.isfinite(data)))
        raise InvalidGraph(f"{name} contains {bad} NaN or infinite entries. Replace them by 0 (no pair) or a finite weight.")
    if np.any(data < 0):
        if sp.issparse(G):
            r, c = G.nonzero()
            vals = np.asarray(G[r, c]).ravel()
            k = int(np.argmin(vals))
            where, val = (int(r[k]), int(c[k])), vals[k]
        else:
            where = np.unravel_index(int(np.argmin(G)), G.shape)
            where, val = (int(where[0]), int(where[1])), G[where]
        raise InvalidGraph(
            f"{name} has negative weights (e.g. {name}[{where[0]},{where[1]}] = {val:g}). "
            "Positive-pair graphs are non-negative; encode 'not a positive pair' as 0."
        )
    asym_max = _max_abs(G - G.T)
    scale = _max_abs(G)
    if asym_max > 1e-12 * max(scale, 1.0):
        raise InvalidGraph(
            f"{name} is not symmetric (max |G - G^T| = {asym_max:.3g}). "
            "Positive pairs are mutual: symmetrise with (G + G.T) / 2 or maximum(G, G.T)."
        )
    diag = G.diagonal()
    if np.any(diag != 0):
        warnings.warn(
            f"{name} has {int(np.count_nonzero(diag))} self-loop(s); they are ignored (diagonal set to 0).",
            SelfLoopWarning,
            stacklevel=2,
        )
        if sp.issparse(G):
            G = G.tolil()
            G.setdiag(0)
            G = G.tocsr()
            G.eliminate_zeros()
        else:
            np.fill_diagonal(G, 0.0)
    if sp.issparse(G):
        G = (G + G.T) * 0.5  # exact symmetry, so eigensolvers see a symmetric operator
        if G.nnz == 0:
            raise _empty(name)
    else:
        G = (G + G.T) * 0.5
        if not np.any(G):
            raise _empty(name)
    return G


def _max_abs(M):
    if sp.issparse(M):
        return float(abs(M).max()) if M.nnz else 0.0
    return float(np.max(np.abs(M))) if M.size else 0.0


def _empty(name):
    return InvalidGraph(
        f"{name} has no edges. Every SSL loss needs at least one positive pair; "
        "build G from views or labels (ssl_proofs.graphs.view_graph / label_graph)."
    )


def check_k(k, n, *, strict=True):
    """Check the embedding dimension K against the number of samples N."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise InvalidArgument(f"k must be an integer embedding dimension, got {k!r}.")
    k = int(k)
    if k < 1:
        raise InvalidArgument(f"k = {k}: the embedding dimension must be at least 1.")
    if strict and k >= n:
        raise InvalidArgument(
            f"k = {k} but G has only N = {n} nodes: centred embeddings live in an (N-1)-dimensional "
            f"space, so k must satisfy 1 <= k <= N-1 = {n - 1}. Lower k or use a larger graph."
        )
    return k


def degrees(G):
    """Degree vector ``d = G 1``."""
    return np.asarray(G.sum(axis=1)).ravel()


def laplacian(G):
    """Unnormalised graph Laplacian ``L = D_G - G`` (same storage as G)."""
    d = degrees(G)
    if sp.issparse(G):
        return (sp.diags(d) - G).tocsr()
    return np.diag(d) - G


def centering(n):
    """Centering matrix ``H = I - 11^T / N``."""
    return np.eye(n) - np.full((n, n), 1.0 / n)


def n_components(G):
    """Number of connected components of G (isolated nodes count)."""
    from scipy.sparse.csgraph import connected_components

    return int(connected_components(sp.csr_matrix(G), directed=False)[0])


def to_dense(G):
    return G.toarray() if sp.issparse(G) else np.asarray(G)


# -- builders ---------------------------------------------------------------

def view_graph(n_samples, n_views=2):
    """The paper's augmentation graph: ``n_views`` views of ``n_samples`` originals.

    Row ``v * n_samples + n`` is view ``v`` of original sample ``n`` (the
    paper's stacking ``X = [View_1(X')^T, ..., View_V(X')^T]^T``); views of
    the same original are connected, so each row has ``P = V - 1`` positives.
    """
    if n_samples < 1 or n_views < 2:
        raise InvalidArgument(
            f"view_graph needs n_samples >= 1 and n_views >= 2, got {n_samples}, {n_views}."
        )
    labels = np.tile(np.arange(n_samples), n_views)
    return label_graph(labels)


def label_graph(labels):
    """Class graph: ``G_ij = 1`` iff ``labels[i] == labels[j]`` and ``i != j``."""
    y = np.asarray(labels).ravel()
    if y.size < 2:
        raise InvalidArgument("label_graph needs at least 2 labels.")
    G = (y[:, None] == y[None, :]).astype(np.float64)
    np.fill_diagonal(G, 0.0)
    return G
