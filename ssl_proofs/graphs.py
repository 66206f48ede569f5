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

from .arrays import check_float_array, to_numpy
from .errors import InvalidGraph, InvalidArgument
from .limits import check_memory, from_env
from .sparsecheck import sparse_structure


class SelfLoopWarning(UserWarning):
    """G had a non-zero diagonal; it was dropped (see module docstring)."""


#: most nodes any graph may have: sparse storage needs O(N + edges) memory (N = 10^7: ~0.3 GB of
#: per-node vectors).  Raise it (``ssl_proofs.graphs.MAX_NODES = ...``) on a machine that has the memory.
MAX_NODES = from_env("SSL_PROOFS_MAX_NODES", 10_000_000)
#: most nodes for dense N x N work: one float64 copy is 8 N^2 bytes (2 GiB at 16384) and dense
#: checks and eigensolvers hold a few.  Larger graphs must be sparse and use a sparse solver.
MAX_DENSE_NODES = from_env("SSL_PROOFS_MAX_DENSE_NODES", 16_384)
#: dense N x N float64 copies a dense graph's check and solve hold at once (G, G - G^T, |.|, the symmetrised
#: copy, the eigensolver's work array): the memory estimate of :func:`check_size`
DENSE_COPIES = 5


class CheckedGraph:
    """Marker of a graph that :func:`check_graph` validated (see :class:`DenseGraph`, :class:`SparseGraph`).

    Only the object :func:`check_graph` returns carries the mark: arrays derived from it
    (``-G``, ``G[:3, :3]``, ``G + G.T``) are plain arrays or unmarked, so they are checked again.
    A checked graph must not be modified in place.
    """

    _checked = False

    @property
    def checked(self):
        return self._checked


class DenseGraph(np.ndarray, CheckedGraph):
    """A validated dense graph: a float64 ``ndarray`` (drop-in), returned by :func:`check_graph`."""

    def __array_wrap__(self, arr, context=None, return_scalar=False):
        # arithmetic on a checked graph (L = D - G, -G, ...) is no longer a checked graph
        return arr[()] if return_scalar else np.asarray(arr)


class SparseGraph(sp.csr_matrix, CheckedGraph):
    """A validated sparse graph: a float64 ``csr_matrix`` (drop-in), returned by :func:`check_graph`."""


def is_checked(G):
    """Whether ``G`` is the output of :func:`check_graph` (then checking it again is free)."""
    return isinstance(G, CheckedGraph) and G._checked


def check_size(n, *, dense, name="G"):
    """Refuse a graph of ``n`` nodes above the stated limits, before anything is allocated.

    Parameters
    ----------
    n : int
        Number of nodes.
    dense : bool or "input"
        Whether an ``N x N`` dense matrix is to be built (limit :data:`MAX_DENSE_NODES`),
        or only sparse storage (limit :data:`MAX_NODES`); ``"input"``: the dense matrix is the
        user's input (the message then suggests passing it sparse).

    Raises
    ------
    InvalidGraph
    """
    limit = MAX_DENSE_NODES if dense else MAX_NODES
    if n <= limit:
        if dense:
            check_memory(DENSE_COPIES * 8 * n * n, f"{name} as a dense N x N matrix (N = {n:,}; {DENSE_COPIES} "
                         "float64 copies)", "Pass G as a scipy.sparse matrix (a .npz/.mtx/edge-list file) or a "
                         "smaller graph")
        else:
            check_memory(_PER_NODE_VECTORS * 8 * n, f"{name}'s per-node vectors (N = {n:,})",
                         "Number the nodes that have edges 0 .. N-1 without gaps")
        return n
    if dense:
        remedy = ("Pass G as a scipy.sparse matrix (a .npz/.mtx/edge-list file) and use a method with a sparse "
                  "solver (VICReg), or a smaller graph." if dense == "input" else
                  "This step builds a dense matrix: only sparse solvers (today VICReg's) handle graphs this large; "
                  "use one, a smaller graph, or raise the limit on a machine with the memory.")
        raise InvalidGraph(
            f"{name} has N = {n:,} nodes: a dense N x N float64 matrix would take {_gib(8 * n * n)}, "
            f"above the dense limit of {limit:,} nodes (SSL_PROOFS_MAX_DENSE_NODES, or "
            f"ssl_proofs.graphs.MAX_DENSE_NODES from Python). {remedy}"
        )
    raise InvalidGraph(
        f"{name} has N = {n:,} nodes, above the limit of {limit:,} (SSL_PROOFS_MAX_NODES, or "
        f"ssl_proofs.graphs.MAX_NODES from Python); even sparse storage needs {_gib(8 * n)} per node vector. Number "
        "the nodes that have edges 0 .. N-1 without gaps, or raise SSL_PROOFS_MAX_NODES on a machine with the memory."
    )


#: float64 vectors of length N a sparse solve holds (degrees, LOBPCG's blocks are counted by the eigensolver)
_PER_NODE_VECTORS = 16


def _gib(nbytes):
    return f"{nbytes / 2 ** 30:,.3g} GiB"


def check_graph(G, *, name="G", copy=True):
    """Validate a positive-pair graph once and return it as a checked float64 graph.

    Parameters
    ----------
    G : array_like or scipy.sparse matrix, shape (N, N)
        Symmetric, non-negative, finite, real weights with at least one edge;
        at most :data:`MAX_NODES` nodes (:data:`MAX_DENSE_NODES` when dense).
        A graph this function returned is returned unchanged, without re-validation.
    name : str
        Name used in error messages.

    Returns
    -------
    G : DenseGraph or SparseGraph
        Float64 copy with the diagonal set to zero (an ``ndarray`` / ``csr_matrix`` subclass).

    Raises
    ------
    InvalidGraph
        With a message naming the problem and the fix.
    """
    if is_checked(G):
        return G
    return _validate(G, name, copy)


def _validate(G, name, copy):
    if sp.issparse(G):
        if len(G.shape) != 2 or G.shape[0] != G.shape[1]:
            raise _not_square(name, G.shape)
        check_size(G.shape[0], dense=False, name=name)
        G = sparse_structure(G, name)  # before any arithmetic: scipy's kernels trust the index arrays
        data = G.data
    else:
        G = to_numpy(G, name, error=InvalidGraph)  # no copy yet: the size is checked before the float64 copy
        if G.ndim == 2 and G.shape[0] == G.shape[1]:
            check_size(G.shape[0], dense="input", name=name)
        G = check_float_array(G, name, error=InvalidGraph, what="entries; edge weights are real")
        data = G
    if G.ndim != 2 or G.shape[0] != G.shape[1]:
        raise _not_square(name, G.shape)
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
            stacklevel=3,
        )
        if sp.issparse(G):
            G = G.tolil()
            G.setdiag(0)
            G = G.tocsr()
            G.eliminate_zeros()
        else:
            np.fill_diagonal(G, 0.0)
    # exact symmetry, so eigensolvers see a symmetric operator: (G + G^T)/2, halved first when the sum
    # would overflow (weights near the float64 maximum); both forms are exactly symmetric
    huge = scale > np.finfo(np.float64).max / 2
    if sp.issparse(G):
        G = sp.csr_matrix(G * 0.5 + G.T * 0.5 if huge else (G + G.T) * 0.5)
        if G.nnz == 0:
            raise _empty(name)
        out = SparseGraph(G)
    else:
        G = G * 0.5 + G.T * 0.5 if huge else (G + G.T) * 0.5
        if not np.any(G):
            raise _empty(name)
        out = G.view(DenseGraph)
    with np.errstate(over="ignore"):  # an overflow is what is checked for, and reported below
        top_degree = float(np.max(degrees(out)))
    if not np.isfinite(top_degree):
        raise InvalidGraph(
            f"{name}'s weights are so large that its degrees (row sums) overflow float64 (max weight "
            f"{_max_abs(out):.3g}). Rescale G, e.g. G / G.max(): a positive-pair graph's scale is a weight of the loss."
        )
    out._checked = True
    return out


def _not_square(name, shape):
    return InvalidGraph(
        f"{name} must be a square N x N matrix, got shape {shape}. "
        "Pass the adjacency matrix of the positive-pair graph (row i, column j = weight of pair i~j)."
    )


def _complex(name):
    return InvalidGraph(
        f"{name} has complex entries; edge weights are real. Pass {name}.real if the imaginary parts "
        "are rounding noise, otherwise rebuild G from real similarities."
    )


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


def check_no_isolated(G, what):
    """Degrees of ``G``; raise :class:`InvalidGraph` when a node has degree 0 (``D_G`` singular).

    ``what`` names the loss that needs ``D_G`` invertible (it appears in the message).
    """
    d = degrees(G)
    bad = np.flatnonzero(d <= 0)
    if bad.size:
        raise InvalidGraph(
            f"{what} needs D_G = diag(G 1) positive definite, but node(s) {bad[:10].tolist()} have no "
            "positive pair (isolated). The loss never sees their rows, so their embedding is arbitrary; "
            "remove them from G."
        )
    return d


def laplacian(G):
    """Unnormalised graph Laplacian ``L = D_G - G`` (same storage as G)."""
    d = degrees(G)
    if sp.issparse(G):
        return (sp.diags(d) - G).tocsr()
    return np.diag(d) - G


def centering(n):
    """Centering matrix ``H = I - 11^T / N`` (dense: ``N <= MAX_DENSE_NODES``)."""
    check_size(n, dense=True, name="the centering matrix H")
    return np.eye(n) - np.full((n, n), 1.0 / n)


def n_components(G):
    """Number of connected components of G (isolated nodes count)."""
    from scipy.sparse.csgraph import connected_components

    return int(connected_components(sp.csr_matrix(G), directed=False)[0])


def to_dense(G):
    """``G`` as a dense ndarray; refuses (before allocating) graphs above :data:`MAX_DENSE_NODES`."""
    if sp.issparse(G):
        check_size(G.shape[0], dense=True)
        return G.toarray()
    return np.asarray(G)


# -- builders ---------------------------------------------------------------

def pair_listing(G):
    """The paper's pair listing of G: ``rows, cols = G.nonzero()``, an edge of weight w repeated w times.

    A mini-batch loss written as a mean over its positive pairs equals its G-form on integer
    weights through this listing (both directions of an edge are listed: the symmetrisation).
    """
    coo = sp.coo_matrix(G)
    reps = np.rint(coo.data).astype(np.int64)
    return np.repeat(coo.row, reps), np.repeat(coo.col, reps)


def view_graph(n_samples, n_views=2, *, sparse=None):
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
    return label_graph(labels, sparse=sparse)


def label_graph(labels, *, sparse=None):
    """Class graph: ``G_ij = 1`` iff ``labels[i] == labels[j]`` and ``i != j``.

    Dense below :data:`MAX_DENSE_NODES` nodes, a CSR matrix above it (or as ``sparse`` says):
    the edges are built class by class, never as an N x N comparison.
    """
    y = np.asarray(labels).ravel()
    if y.size < 2:
        raise InvalidArgument("label_graph needs at least 2 labels.")
    sparse = y.size > MAX_DENSE_NODES if sparse is None else bool(sparse)
    if not sparse:
        G = (y[:, None] == y[None, :]).astype(np.float64)
        np.fill_diagonal(G, 0.0)
        return G
    _, inverse = np.unique(y, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    members = np.split(order, np.cumsum(np.bincount(inverse))[:-1])
    rows, cols = [], []
    for m in members:  # the clique of each class
        if m.size > 1:
            r, c = np.meshgrid(m, m, indexing="ij")
            off = r != c
            rows.append(r[off])
            cols.append(c[off])
    rows = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    cols = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    return sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(y.size, y.size))


def circulant_graph(n, offsets):
    """The circulant graph on ``n`` nodes: ``i ~ j`` iff the cyclic distance ``|i - j|`` is in ``offsets``
    (regular, so ``D_G = P I``)."""
    dist = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    return np.isin(np.minimum(dist, n - dist), offsets).astype(float)


# -- graphs built from embeddings (NNCLR, MeanShift: SimCLR's loss on another G) ----------

def _check_embeddings(Z, name="Z"):
    Z = check_float_array(Z, name)
    if Z.ndim != 2 or Z.shape[0] < 2:
        raise InvalidArgument(f"{name} must have shape (N, D) with N >= 2, got {Z.shape}.")
    if not np.all(np.isfinite(Z)):
        raise InvalidArgument(f"{name} contains NaN or infinite entries.")
    norms = np.linalg.norm(Z, axis=1)
    if np.any(norms == 0):
        raise InvalidArgument(f"{name} has zero rows {np.nonzero(norms == 0)[0].tolist()}: cosine similarity "
                              "is undefined for them; drop or perturb those rows.")
    Zn = Z / norms[:, None]
    return Zn @ Zn.T


def _check_views(n, n_views):
    if isinstance(n_views, bool) or not isinstance(n_views, (int, np.integer)) or n_views < 2:
        raise InvalidArgument(f"n_views = {n_views!r} must be an integer >= 2.")
    if n % n_views:
        raise InvalidArgument(f"N = {n} rows cannot be split into n_views = {n_views} equal view blocks.")
    return int(n_views)


def _symmetrise(A):
    G = np.maximum(A, A.T).astype(np.float64)
    np.fill_diagonal(G, 0.0)
    return G


def nnclr_graph(Z, n_views=2):
    """NNCLR's positive-pair graph (Dwibedi et al. 2021) over a stacked multi-view batch.

    Rows are stacked as in the paper: row ``v * N' + n`` is view ``v`` of sample
    ``n``.  NNCLR replaces an anchor ``z_i`` by its nearest neighbour (cosine) in
    a support set and contrasts it with the other views of ``i``; with the batch's
    own view-``v`` block (``i`` itself excluded) as the support set, the positives
    of row ``(v', n)`` are the nearest neighbours ``NN(z_(v, n))`` for ``v != v'``.
    The relation is symmetrised (``G = max(A, A^T)``).

    Parameters
    ----------
    Z : (N, D) array or tensor
        Embeddings of the stacked views (non-zero rows).
    n_views : int
        Number of views ``V`` (``N`` must be a multiple of it, ``N / V >= 2``).

    Returns
    -------
    G : (N, N) ndarray
        Binary, symmetric, zero diagonal; passes :func:`ssl_proofs.graphs.check_graph`.

    Raises
    ------
    InvalidArgument
        Bad shapes, non-finite or zero rows, ``N`` not a multiple of ``n_views``.
    """
    S = _check_embeddings(Z)
    n = S.shape[0]
    V = _check_views(n, n_views)
    m = n // V
    if m < 2:
        raise InvalidArgument(f"nnclr_graph needs at least 2 samples per view (got N / n_views = {m}): "
                              "the support set of an anchor is the other samples of its view.")
    A = np.zeros((n, n))
    for v in range(V):
        block = np.arange(v * m, (v + 1) * m)
        sim = S[np.ix_(block, block)].copy()
        np.fill_diagonal(sim, -np.inf)        # an anchor is not its own neighbour
        nn = block[np.argmax(sim, axis=1)]    # first index on ties: deterministic
        for w in range(V):
            if w != v:
                A[w * m + np.arange(m), nn] = 1.0
    return _symmetrise(A)


def meanshift_graph(Z, k, *, n_views=None):
    """MeanShift's positive-pair graph (Koohpayegani et al. 2021): the symmetrised k-NN graph.

    ``G_ij = 1`` iff ``j`` is among the ``k`` nearest neighbours (cosine) of
    ``i`` or ``i`` among those of ``j``.  MSF also keeps each target's own
    augmented view among its neighbours; pass ``n_views`` to add the paper's
    view graph (rows stacked as in :func:`ssl_proofs.graphs.view_graph`).

    Parameters
    ----------
    Z : (N, D) array or tensor
        Embeddings (non-zero rows).
    k : int
        Neighbours per row, ``1 <= k <= N - 1``.
    n_views : int, optional
        If given, the union with ``view_graph(N / n_views, n_views)``.

    Returns
    -------
    G : (N, N) ndarray
        Binary, symmetric, zero diagonal; passes :func:`ssl_proofs.graphs.check_graph`.

    Raises
    ------
    InvalidArgument
        Bad shapes, non-finite or zero rows, ``k`` out of range.
    """
    S = _check_embeddings(Z)
    n = S.shape[0]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n - 1:
        raise InvalidArgument(f"k = {k!r} must be an integer with 1 <= k <= N - 1 = {n - 1}.")
    sim = S.copy()
    np.fill_diagonal(sim, -np.inf)
    # stable sort: ties broken by index, so the graph is deterministic
    nn = np.argsort(-sim, axis=1, kind="stable")[:, :k]
    A = np.zeros((n, n))
    A[np.repeat(np.arange(n), k), nn.ravel()] = 1.0
    G = _symmetrise(A)
    if n_views is not None:
        V = _check_views(n, n_views)
        G = np.maximum(G, view_graph(n // V, V, sparse=False))  # G is dense here
    return G
