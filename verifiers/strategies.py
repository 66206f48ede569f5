"""Hypothesis strategies for positive-pair graphs ``G``.

Every graph strategy here draws a dense ``numpy.float64`` array of shape
``(N, N)`` that is symmetric, non-negative, has a zero diagonal and at least
one edge, so it passes :func:`ssl_proofs.graphs.check_graph` silently.

The builders follow hypothesis' own conventions:

* arguments are validated when the strategy is *built* (an impossible
  combination raises :class:`ssl_proofs.errors.InvalidArgument` at once, not
  deep inside a test);
* every graph is drawn as "number of nodes first, then structure", with each
  choice ordered so that the shrinker moves toward few nodes, few edges, unit
  weights and the identity node order.  A failing check therefore reports a
  graph such as ``N=3, edges 0-1, 1-2`` rather than a dense 12-node tangle;
* weights come from a small set of grid values (1 first), never from
  arbitrary floats, so counterexamples stay readable.

Families
--------
:func:`erdos_renyi_graphs`, :func:`weighted_graphs`, :func:`connected_graphs`,
:func:`view_graphs`, :func:`label_graphs` / :func:`labelled_graphs`,
:func:`sbm_graphs`, :func:`knn_graphs`, :func:`multi_component_graphs`,
:func:`repeated_eigenvalue_graphs`, :func:`regular_graphs`, and the
dispatcher :func:`graphs`.  :func:`embedding_dims`, :func:`hyper_parameters`
and :func:`hyper_parameter_sets` draw the other arguments of a loss;
:func:`describe_graph` prints a counterexample.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st

from ssl_proofs.errors import InvalidArgument
from ssl_proofs.graphs import label_graph, view_graph

__all__ = [
    "DEFAULT_MAX_NODES",
    "DEFAULT_WEIGHTS",
    "HYPER_PARAMETER_GRID",
    "FAMILIES",
    "graphs",
    "erdos_renyi_graphs",
    "weighted_graphs",
    "connected_graphs",
    "view_graphs",
    "label_graphs",
    "labelled_graphs",
    "sbm_graphs",
    "knn_graphs",
    "multi_component_graphs",
    "repeated_eigenvalue_graphs",
    "regular_graphs",
    "embedding_dims",
    "graphs_with_dims",
    "hyper_parameters",
    "hyper_parameter_sets",
    "describe_graph",
    "is_regular",
]

#: Default upper bound on N: keeps eigen-decompositions and sweeps fast.
DEFAULT_MAX_NODES = 12

#: Edge weights drawn by the weighted families.  1 comes first so that
#: shrinking ends on unit weights; the rest are exact binary fractions or
#: small integers so printed counterexamples stay exact.
DEFAULT_WEIGHTS = (1.0, 2.0, 0.5, 3.0, 4.0, 0.25, 10.0)

#: Log-scale grid for positive hyper-parameters, ordered from "most readable"
#: (1) outward so that shrinking lands on 1, then 0.5 / 2, and so on.
HYPER_PARAMETER_GRID = (1.0, 0.5, 2.0, 0.25, 4.0, 0.1, 10.0, 0.05, 20.0, 0.2, 5.0)


# -- argument validation ------------------------------------------------------

def _check_int(value, name, minimum=None):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidArgument(f"{name}={value!r} must be an integer.")
    value = int(value)
    if minimum is not None and value < minimum:
        raise InvalidArgument(f"{name}={value} must be at least {minimum}.")
    return value


def _check_range(lo, hi, lo_name, hi_name, minimum):
    lo = _check_int(lo, lo_name, minimum)
    hi = _check_int(hi, hi_name, minimum)
    if lo > hi:
        raise InvalidArgument(f"{lo_name}={lo} is larger than {hi_name}={hi}; swap them or widen the range.")
    return lo, hi


def _check_probability(p, name):
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)) or not 0 <= p <= 1:
        raise InvalidArgument(f"{name}={p!r} must be a probability in [0, 1].")
    return float(p)


def _check_weights(weights):
    if weights is None:
        return (1.0,)
    try:
        weights = tuple(float(w) for w in weights)
    except (TypeError, ValueError):
        raise InvalidArgument(f"weights={weights!r} must be a sequence of positive numbers.") from None
    if not weights or not all(math.isfinite(w) and w > 0 for w in weights):
        raise InvalidArgument(
            f"weights={weights!r} must be a non-empty sequence of finite, strictly positive numbers "
            "(a zero weight would be 'no edge'; drop it instead)."
        )
    return weights


def _node_bounds(min_nodes, max_nodes, floor=2):
    """Validate (min_nodes, max_nodes); ``None`` for max means the default."""
    if max_nodes is None:
        max_nodes = max(DEFAULT_MAX_NODES, min_nodes if isinstance(min_nodes, int) else 0)
    lo, hi = _check_range(min_nodes, max_nodes, "min_nodes", "max_nodes", 0)
    lo = max(lo, floor)
    _ensure(lo <= hi, f"max_nodes={hi}: these graphs need at least {lo} nodes; raise max_nodes.")
    return lo, hi


def _ensure(cond, message):
    if not cond:
        raise InvalidArgument(message)


# -- drawing primitives -------------------------------------------------------

def _present(draw, p):
    """Draw an edge indicator that is True with probability ``p``.

    Drawn as an integer so the shrinker (which moves integers to 0) removes
    edges: 0 means "absent" for every ``p < 1``.
    """
    if p <= 0:
        return False
    if p >= 1:
        return True
    return draw(st.integers(0, 999)) >= round(1000 * (1 - p))


def _weight(draw, weights):
    # sampled_from shrinks to the first element, i.e. weight 1 by default.
    return weights[0] if len(weights) == 1 else draw(st.sampled_from(weights))


def _symmetric(n, edges):
    """Dense float64 graph from ``{(i, j): w}`` with ``i != j``."""
    G = np.zeros((n, n), dtype=np.float64)
    for (i, j), w in edges.items():
        G[i, j] = G[j, i] = w
    return G


def _draw_forced_edge(draw, n):
    # One edge that always exists, so "at least one edge" holds by construction
    # rather than by filtering; it shrinks to the edge 0-1.
    i = draw(st.integers(0, n - 2))
    j = draw(st.integers(i + 1, n - 1))
    return i, j


def _draw_tree_edges(draw, n, offset=0):
    """Edges of a random spanning tree on nodes ``offset .. offset+n-1``.

    Node ``t`` attaches to a parent ``< t``; parents shrink to 0, so the
    minimal tree is a star centred on the first node.
    """
    return [(offset + draw(st.integers(0, t - 1)), offset + t) for t in range(1, n)]


def _permute(draw, G, shuffle):
    """Relabel nodes by a random permutation (shrinks to the identity)."""
    if not shuffle:
        return G, None
    n = G.shape[0]
    perm = np.array(draw(st.permutations(range(n))), dtype=np.intp)
    return G[np.ix_(perm, perm)], perm


@functools.lru_cache(maxsize=256)
def _partitions(min_parts, max_parts, min_size, max_size, min_total, max_total):
    """Every multiset of part sizes (as a non-increasing tuple) within bounds.

    Sorted smallest-first (total, then number of parts) so that
    ``sampled_from`` shrinks toward the smallest graph.
    """
    out = []

    def extend(prefix, total, largest):
        if min_parts <= len(prefix) and min_total <= total:
            out.append(tuple(prefix))
        if len(prefix) == max_parts:
            return
        for s in range(min(largest, max_size, max_total - total), min_size - 1, -1):
            extend(prefix + [s], total + s, s)

    extend([], 0, max_size)
    out.sort(key=lambda t: (sum(t), len(t), t))
    return tuple(out)


# -- families -----------------------------------------------------------------

def erdos_renyi_graphs(min_nodes=2, max_nodes=8, p=0.5, *, weights=None):
    """Erdős–Rényi graphs ``G(N, p)`` with at least one edge.

    Parameters
    ----------
    min_nodes, max_nodes : int
        Bounds on ``N`` (``2 <= min_nodes <= max_nodes``).
    p : float
        Probability of each pair being an edge.  One edge is always present
        (it shrinks to ``0-1``), so ``p = 0`` gives a single edge.
    weights : sequence of float, optional
        Edge weights to draw from; default unit weights.

    Returns
    -------
    SearchStrategy[ndarray]
    """
    lo, hi = _node_bounds(min_nodes, max_nodes)
    p = _check_probability(p, "p")
    weights = _check_weights(weights)
    return _erdos_renyi(lo, hi, p, weights)


@st.composite
def _erdos_renyi(draw, lo, hi, p, weights):
    n = draw(st.integers(lo, hi))
    forced = _draw_forced_edge(draw, n)
    edges = {}
    for i in range(n):
        for j in range(i + 1, n):
            if (i, j) == forced or _present(draw, p):
                edges[i, j] = _weight(draw, weights)
    return _symmetric(n, edges)


def weighted_graphs(min_nodes=2, max_nodes=8, p=0.5, *, weights=DEFAULT_WEIGHTS):
    """Erdős–Rényi graphs with positive weights drawn from ``weights``.

    Weights come from a small set whose first element is 1, so the shrinker
    turns every weight into 1 unless the weight matters.

    Parameters
    ----------
    min_nodes, max_nodes : int
        Bounds on ``N``.
    p : float
        Edge probability.
    weights : sequence of float
        Strictly positive candidate weights (default :data:`DEFAULT_WEIGHTS`).

    Returns
    -------
    SearchStrategy[ndarray]
    """
    return erdos_renyi_graphs(min_nodes, max_nodes, p, weights=weights)


def connected_graphs(min_nodes=2, max_nodes=8, p=0.2, *, weights=None):
    """Connected graphs: a random spanning tree plus random extra edges.

    Parameters
    ----------
    min_nodes, max_nodes : int
        Bounds on ``N``.
    p : float
        Probability of each non-tree pair being an extra edge.
    weights : sequence of float, optional
        Edge weights to draw from; default unit weights.

    Returns
    -------
    SearchStrategy[ndarray]
        Graphs with exactly one connected component.
    """
    lo, hi = _node_bounds(min_nodes, max_nodes)
    p = _check_probability(p, "p")
    weights = _check_weights(weights)
    return _connected(lo, hi, p, weights)


def _draw_connected_edges(draw, n, p, weights, offset=0):
    tree = set(_draw_tree_edges(draw, n, offset))
    edges = {}
    for i in range(offset, offset + n):
        for j in range(i + 1, offset + n):
            if (i, j) in tree or _present(draw, p):
                edges[i, j] = _weight(draw, weights)
    return edges


@st.composite
def _connected(draw, lo, hi, p, weights):
    n = draw(st.integers(lo, hi))
    return _symmetric(n, _draw_connected_edges(draw, n, p, weights))


def view_graphs(min_samples=1, max_samples=4, min_views=2, max_views=3, *,
                min_nodes=2, max_nodes=None, shuffle=False):
    """The paper's augmentation graph: ``N'`` samples times ``V`` views.

    Built with :func:`ssl_proofs.graphs.view_graph`: node ``v * N' + n`` is
    view ``v`` of sample ``n`` and the ``V`` views of a sample form a clique,
    so ``G`` is ``(V - 1)``-regular with ``N = N' V`` nodes.

    Parameters
    ----------
    min_samples, max_samples : int
        Bounds on the number of originals ``N'`` (at least 1).
    min_views, max_views : int
        Bounds on the number of views ``V`` (at least 2).
    min_nodes, max_nodes : int, optional
        Extra bounds on ``N = N' V`` (``max_nodes=None``: no extra bound).
    shuffle : bool
        Randomly relabel the nodes (shrinks to the paper's ordering).

    Returns
    -------
    SearchStrategy[ndarray]
    """
    s_lo, s_hi = _check_range(min_samples, max_samples, "min_samples", "max_samples", 1)
    v_lo, v_hi = _check_range(min_views, max_views, "min_views", "max_views", 2)
    n_lo = _check_int(min_nodes, "min_nodes", 0)
    n_hi = s_hi * v_hi if max_nodes is None else _check_int(max_nodes, "max_nodes", 0)
    shapes = sorted(
        ((s, v) for s in range(s_lo, s_hi + 1) for v in range(v_lo, v_hi + 1) if n_lo <= s * v <= n_hi),
        key=lambda sv: (sv[0] * sv[1], sv),
    )
    _ensure(shapes, f"no (samples, views) pair in [{s_lo}, {s_hi}] x [{v_lo}, {v_hi}] "
                    f"gives between {n_lo} and {n_hi} nodes; widen the bounds.")
    return _view(tuple(shapes), bool(shuffle))


@st.composite
def _view(draw, shapes, shuffle):
    n_samples, n_views = draw(st.sampled_from(shapes))
    G, _ = _permute(draw, view_graph(n_samples, n_views), shuffle)
    return G


def labelled_graphs(min_classes=1, max_classes=4, min_size=1, max_size=4, balanced=None, *,
                    min_nodes=2, max_nodes=None, shuffle=True):
    """Class graphs together with their labels, as ``(G, labels)``.

    ``G = label_graph(labels)``: a clique per class, no edges across classes.
    At least one class has two or more members, so ``G`` has an edge.

    Parameters
    ----------
    min_classes, max_classes : int
        Bounds on the number of classes.
    min_size, max_size : int
        Bounds on the size of each class (singletons are isolated nodes).
    balanced : bool or None
        ``True``: all classes the same size; ``False``: at least two sizes
        differ; ``None``: either.
    min_nodes, max_nodes : int, optional
        Extra bounds on ``N`` (``max_nodes=None``: no extra bound).
    shuffle : bool
        Randomly permute the samples (shrinks to sorted labels).

    Returns
    -------
    SearchStrategy[tuple[ndarray, ndarray]]
        ``labels`` is an int array of class ids ``0 .. C-1``.
    """
    c_lo, c_hi = _check_range(min_classes, max_classes, "min_classes", "max_classes", 1)
    z_lo, z_hi = _check_range(min_size, max_size, "min_size", "max_size", 1)
    n_lo = _check_int(min_nodes, "min_nodes", 0)
    n_hi = c_hi * z_hi if max_nodes is None else _check_int(max_nodes, "max_nodes", 0)
    if balanced not in (None, True, False):
        raise InvalidArgument(f"balanced={balanced!r} must be True, False or None.")
    sizes = [
        s for s in _partitions(c_lo, c_hi, z_lo, z_hi, max(n_lo, 2), n_hi)
        if s[0] >= 2  # some class of size >= 2, i.e. at least one edge
        and (balanced is None or (len(set(s)) == 1) == balanced)
    ]
    _ensure(sizes, f"no class sizes with {c_lo}..{c_hi} classes of size {z_lo}..{z_hi}, "
                   f"{max(n_lo, 2)}..{n_hi} nodes, balanced={balanced} and at least one edge; "
                   "widen the bounds (an unbalanced graph needs 2 classes and two distinct sizes).")
    return _labelled(tuple(sizes), bool(shuffle))


@st.composite
def _labelled(draw, size_choices, shuffle):
    sizes = draw(st.sampled_from(size_choices))
    labels = np.repeat(np.arange(len(sizes)), sizes)
    if shuffle:
        labels = labels[np.array(draw(st.permutations(range(labels.size))), dtype=np.intp)]
    return label_graph(labels), labels


def label_graphs(min_classes=1, max_classes=4, min_size=1, max_size=4, balanced=None, **kwargs):
    """Class graphs (cliques per class), without the labels.

    Same arguments as :func:`labelled_graphs`.

    Returns
    -------
    SearchStrategy[ndarray]
    """
    return labelled_graphs(min_classes, max_classes, min_size, max_size, balanced, **kwargs).map(
        lambda pair: pair[0])


def sbm_graphs(min_blocks=2, max_blocks=3, min_block_size=1, max_block_size=4, p_in=0.8, p_out=0.1, *,
               min_nodes=2, max_nodes=None, weights=None, with_blocks=False):
    """Stochastic block model graphs.

    Parameters
    ----------
    min_blocks, max_blocks : int
        Bounds on the number of blocks.
    min_block_size, max_block_size : int
        Bounds on each block's size.
    p_in, p_out : float
        Edge probability inside a block and across blocks.
    min_nodes, max_nodes : int, optional
        Extra bounds on ``N``.
    weights : sequence of float, optional
        Edge weights to draw from; default unit weights.
    with_blocks : bool
        Return ``(G, blocks)`` with ``blocks[i]`` the block of node ``i``.

    Returns
    -------
    SearchStrategy[ndarray] or SearchStrategy[tuple[ndarray, ndarray]]
    """
    b_lo, b_hi = _check_range(min_blocks, max_blocks, "min_blocks", "max_blocks", 1)
    z_lo, z_hi = _check_range(min_block_size, max_block_size, "min_block_size", "max_block_size", 1)
    n_lo = _check_int(min_nodes, "min_nodes", 0)
    n_hi = b_hi * z_hi if max_nodes is None else _check_int(max_nodes, "max_nodes", 0)
    p_in = _check_probability(p_in, "p_in")
    p_out = _check_probability(p_out, "p_out")
    sizes = _partitions(b_lo, b_hi, z_lo, z_hi, max(n_lo, 2), n_hi)
    _ensure(sizes, f"no block sizes with {b_lo}..{b_hi} blocks of size {z_lo}..{z_hi} and "
                   f"{max(n_lo, 2)}..{n_hi} nodes; widen the bounds.")
    return _sbm(sizes, p_in, p_out, _check_weights(weights), bool(with_blocks))


@st.composite
def _sbm(draw, size_choices, p_in, p_out, weights, with_blocks):
    sizes = draw(st.sampled_from(size_choices))
    blocks = np.repeat(np.arange(len(sizes)), sizes)
    n = blocks.size
    forced = _draw_forced_edge(draw, n)
    edges = {}
    for i in range(n):
        for j in range(i + 1, n):
            p = p_in if blocks[i] == blocks[j] else p_out
            if (i, j) == forced or _present(draw, p):
                edges[i, j] = _weight(draw, weights)
    G = _symmetric(n, edges)
    return (G, blocks) if with_blocks else G


def knn_graphs(min_nodes=3, max_nodes=10, min_k=1, max_k=3, *, dim=2, coordinate_range=5):
    """Symmetrised k-nearest-neighbour graphs of random integer points.

    Points have integer coordinates in ``[-coordinate_range, coordinate_range]``
    (they shrink to the origin; distance ties are broken by node index).
    ``G_ij = 1`` if ``j`` is among the ``k`` nearest neighbours of ``i`` or
    vice versa, so no node is isolated.

    Parameters
    ----------
    min_nodes, max_nodes : int
        Bounds on ``N``.
    min_k, max_k : int
        Bounds on ``k``; ``k`` is also capped at ``N - 1``.
    dim : int
        Dimension of the points.
    coordinate_range : int
        Half-width of the integer coordinate box.

    Returns
    -------
    SearchStrategy[ndarray]
    """
    lo, hi = _node_bounds(min_nodes, max_nodes)
    k_lo, k_hi = _check_range(min_k, max_k, "min_k", "max_k", 1)
    _ensure(k_lo <= hi - 1, f"min_k={k_lo} needs at least {k_lo + 1} nodes but max_nodes={hi}.")
    dim = _check_int(dim, "dim", 1)
    box = _check_int(coordinate_range, "coordinate_range", 0)
    return _knn(max(lo, k_lo + 1), hi, k_lo, k_hi, dim, box)


@st.composite
def _knn(draw, lo, hi, k_lo, k_hi, dim, box):
    n = draw(st.integers(lo, hi))
    k = draw(st.integers(k_lo, min(k_hi, n - 1)))
    X = np.array([[draw(st.integers(-box, box)) for _ in range(dim)] for _ in range(n)], dtype=np.float64)
    D = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(D, np.inf)
    # stable sort: ties go to the lower index, so the graph is deterministic
    nbrs = np.argsort(D, axis=1, kind="stable")[:, :k]
    G = np.zeros((n, n), dtype=np.float64)
    G[np.repeat(np.arange(n), k), nbrs.ravel()] = 1.0
    return np.maximum(G, G.T)


def multi_component_graphs(min_components=2, max_components=4, min_size=1, max_size=4, *,
                           isolated=None, p=0.3, min_nodes=2, max_nodes=None, weights=None,
                           shuffle=True, with_components=False):
    """Graphs with several connected components, possibly isolated nodes.

    Each component of size ``s >= 2`` is a random spanning tree plus random
    extra edges (so it is connected); a component of size 1 is an isolated
    node.  At least one component has an edge.

    Parameters
    ----------
    min_components, max_components : int
        Bounds on the number of components (isolated nodes included).
    min_size, max_size : int
        Bounds on each component's size.
    isolated : bool or None
        ``True``: at least one isolated node; ``False``: none; ``None``: either.
    p : float
        Probability of each extra edge inside a component.
    min_nodes, max_nodes : int, optional
        Extra bounds on ``N``.
    weights : sequence of float, optional
        Edge weights to draw from; default unit weights.
    shuffle : bool
        Interleave the components' nodes by a random permutation.
    with_components : bool
        Return ``(G, components)`` with ``components[i]`` the component id of
        node ``i``; the expected component count is ``components.max() + 1``.

    Returns
    -------
    SearchStrategy[ndarray] or SearchStrategy[tuple[ndarray, ndarray]]
    """
    c_lo, c_hi = _check_range(min_components, max_components, "min_components", "max_components", 1)
    z_lo, z_hi = _check_range(min_size, max_size, "min_size", "max_size", 1)
    n_lo = _check_int(min_nodes, "min_nodes", 0)
    n_hi = c_hi * z_hi if max_nodes is None else _check_int(max_nodes, "max_nodes", 0)
    if isolated not in (None, True, False):
        raise InvalidArgument(f"isolated={isolated!r} must be True, False or None.")
    sizes = [
        s for s in _partitions(c_lo, c_hi, z_lo, z_hi, max(n_lo, 2), n_hi)
        if s[0] >= 2 and (isolated is None or (s[-1] == 1) == isolated)
    ]
    _ensure(sizes, f"no component sizes with {c_lo}..{c_hi} components of size {z_lo}..{z_hi}, "
                   f"{max(n_lo, 2)}..{n_hi} nodes, isolated={isolated} and at least one edge; widen the bounds.")
    return _multi(tuple(sizes), _check_probability(p, "p"), _check_weights(weights),
                  bool(shuffle), bool(with_components))


@st.composite
def _multi(draw, size_choices, p, weights, shuffle, with_components):
    sizes = draw(st.sampled_from(size_choices))
    edges, offset = {}, 0
    for s in sizes:
        if s >= 2:
            edges.update(_draw_connected_edges(draw, s, p, weights, offset))
        offset += s
    comps = np.repeat(np.arange(len(sizes)), sizes)
    G, perm = _permute(draw, _symmetric(offset, edges), shuffle)
    if perm is not None:
        comps = comps[perm]
    return (G, comps) if with_components else G


# Kinds of graph with a degenerate Laplacian spectrum, with the node counts
# each can reach (used to keep only kinds that fit the bounds).
def _cycle(n):
    G = np.zeros((n, n))
    idx = np.arange(n)
    G[idx, (idx + 1) % n] = G[(idx + 1) % n, idx] = 1.0
    return G


def _complete(n):
    return np.ones((n, n)) - np.eye(n)


def _star(n):
    G = np.zeros((n, n))
    G[0, 1:] = G[1:, 0] = 1.0
    return G


def repeated_eigenvalue_graphs(min_nodes=3, max_nodes=None, *, weights=None, shuffle=True):
    """Graphs whose Laplacian has a repeated eigenvalue.

    Drawn from: cycles ``C_n`` (``n >= 3``; ``lambda_j = lambda_{n-j}``),
    complete graphs ``K_n`` (``n >= 3``; ``n`` with multiplicity ``n-1``),
    stars ``K_{1,m}`` (``m >= 3``; 1 with multiplicity ``m-1``) and disjoint
    unions of ``c >= 2`` copies of one connected graph (every eigenvalue at
    least doubled).  These exercise the eigenvector non-uniqueness that
    closed forms must handle (the optimum is only unique up to rotation
    within an eigenspace).

    Parameters
    ----------
    min_nodes, max_nodes : int
        Bounds on ``N`` (``max_nodes >= 3``; default ``max_nodes`` is
        :data:`DEFAULT_MAX_NODES`).
    weights : sequence of float, optional
        A single weight is drawn and applied to every edge (scaling keeps
        multiplicities); default unit weights.
    shuffle : bool
        Randomly relabel the nodes.

    Returns
    -------
    SearchStrategy[ndarray]
    """
    lo, hi = _node_bounds(min_nodes, max_nodes, floor=3)
    kinds = ["cycle", "complete"]
    if hi >= 4:
        kinds.append("star")
    # (copy size, number of copies) pairs that fit, smallest graph first
    unions = sorted(((size, c) for size in range(2, hi // 2 + 1) for c in range(2, hi // size + 1)
                     if lo <= size * c), key=lambda sc: (sc[0] * sc[1], sc))
    if unions:
        kinds.append("union")
    return _repeated(tuple(kinds), lo, hi, tuple(unions), _check_weights(weights), bool(shuffle))


@st.composite
def _repeated(draw, kinds, lo, hi, unions, weights, shuffle):
    kind = draw(st.sampled_from(kinds))
    if kind == "cycle":
        G = _cycle(draw(st.integers(max(lo, 3), hi)))
    elif kind == "complete":
        G = _complete(draw(st.integers(max(lo, 3), hi)))
    elif kind == "star":
        G = _star(draw(st.integers(max(lo, 4), hi)))
    else:
        size, copies = draw(st.sampled_from(unions))
        H = _symmetric(size, _draw_connected_edges(draw, size, 0.3, (1.0,)))
        G = np.kron(np.eye(copies), H)
    G = G * _weight(draw, weights)
    G, _ = _permute(draw, G, shuffle)
    return G


def regular_graphs(min_nodes=2, max_nodes=None, *, weights=None, shuffle=True):
    """Regular graphs: every node has the same (weighted) degree.

    Drawn from complete graphs, cycles, circulants ``C_n(S)`` (node ``i``
    adjacent to ``i +- s`` for ``s`` in a non-empty ``S``), the paper's view
    graphs and perfect matchings.  A single weight scales every edge.

    Parameters
    ----------
    min_nodes, max_nodes : int
        Bounds on ``N``.
    weights : sequence of float, optional
        Candidate common edge weights; default unit weights.
    shuffle : bool
        Randomly relabel the nodes.

    Returns
    -------
    SearchStrategy[ndarray]
    """
    lo, hi = _node_bounds(min_nodes, max_nodes)
    kinds = ["complete"]
    if hi >= max(lo, 3):
        kinds += ["cycle", "circulant"]
    if any(n % 2 == 0 for n in range(lo, hi + 1)):
        kinds.append("matching")
    views = [(s, v) for v in range(2, hi + 1) for s in range(1, hi // v + 1) if lo <= s * v]
    if views:
        kinds.append("view")
    views.sort(key=lambda sv: (sv[0] * sv[1], sv))
    return _regular(tuple(kinds), lo, hi, tuple(views), _check_weights(weights), bool(shuffle))


@st.composite
def _regular(draw, kinds, lo, hi, views, weights, shuffle):
    kind = draw(st.sampled_from(kinds))
    if kind == "complete":
        G = _complete(draw(st.integers(lo, hi)))
    elif kind == "cycle":
        G = _cycle(draw(st.integers(max(lo, 3), hi)))
    elif kind == "circulant":
        n = draw(st.integers(max(lo, 3), hi))
        offsets = draw(st.sets(st.integers(1, n // 2), min_size=1))  # shrinks to {1}: a cycle
        G = np.zeros((n, n))
        idx = np.arange(n)
        for s in offsets:
            G[idx, (idx + s) % n] = G[(idx + s) % n, idx] = 1.0
    elif kind == "matching":
        n = draw(st.sampled_from([n for n in range(lo, hi + 1) if n % 2 == 0]))
        G = np.kron(np.eye(n // 2), _complete(2))
    else:
        G = view_graph(*draw(st.sampled_from(views)))
    G = G * _weight(draw, weights)
    G, _ = _permute(draw, G, shuffle)
    return G


# -- predicates used by the dispatcher and the tests --------------------------

def is_regular(G, *, rtol=1e-12):
    """True if every (weighted) degree of ``G`` is the same."""
    d = np.asarray(G.sum(axis=1)).ravel()
    return bool(np.ptp(d) <= rtol * max(float(np.abs(d).max()), 1.0))


def _no_isolated(G):
    return bool(np.all(np.asarray(G.sum(axis=1)).ravel() > 0))


def _irregular(G):
    return not is_regular(G)


# -- dispatcher ---------------------------------------------------------------

def _family_builders(lo, hi):
    """Every family restricted to ``lo <= N <= hi``, in shrink order.

    The first entry is what ``one_of`` shrinks toward, so it is the family
    that produces the most readable small graphs (Erdős–Rényi, unit weights).
    """
    return {
        "erdos_renyi": lambda: erdos_renyi_graphs(lo, hi),
        "connected": lambda: connected_graphs(lo, hi),
        "view": lambda: view_graphs(1, hi // 2, 2, hi, min_nodes=lo, max_nodes=hi),
        # class sizes capped at 6 keeps the enumeration of size partitions small
        "label": lambda: label_graphs(1, hi, 1, min(hi, 6), min_nodes=lo, max_nodes=hi),
        "weighted": lambda: weighted_graphs(lo, hi),
        "sbm": lambda: sbm_graphs(2, 4, 1, max(hi // 2, 1), min_nodes=lo, max_nodes=hi),
        "knn": lambda: knn_graphs(lo, hi),
        "multi_component": lambda: multi_component_graphs(2, 4, 1, max(min(hi - 1, 6), 1), min_nodes=lo, max_nodes=hi),
        "repeated_eigenvalue": lambda: repeated_eigenvalue_graphs(lo, hi),
        "regular": lambda: regular_graphs(lo, hi),
    }


def _available(builders, names):
    out = []
    for name in names:
        try:
            out.append(builders[name]())
        except InvalidArgument:
            pass  # this family cannot reach the requested node range
    return out


#: Names accepted by :func:`graphs`.
FAMILIES = (
    "any", "regular", "connected", "view", "label", "irregular", "no_isolated",
    "erdos_renyi", "weighted", "sbm", "knn", "multi_component", "repeated_eigenvalue",
)


def graphs(family="any", min_nodes=2, max_nodes=DEFAULT_MAX_NODES):
    """Positive-pair graphs from one named family, or from all of them.

    Parameters
    ----------
    family : str
        ``"any"`` (one of every family), ``"regular"``, ``"connected"``,
        ``"view"``, ``"label"``, ``"irregular"`` (at least two distinct
        degrees), ``"no_isolated"`` (every degree positive), or a single
        family name: ``"erdos_renyi"``, ``"weighted"``, ``"sbm"``, ``"knn"``,
        ``"multi_component"``, ``"repeated_eigenvalue"``.
    min_nodes, max_nodes : int
        Bounds on ``N``; the default keeps ``N <= 12`` so checks stay fast.

    Returns
    -------
    SearchStrategy[ndarray]

    Raises
    ------
    InvalidArgument
        For an unknown family or bounds no graph of the family can meet.

    Examples
    --------
    >>> from hypothesis import given
    >>> @given(graphs("regular", max_nodes=6))
    ... def test_regular(G): ...
    """
    if family not in FAMILIES:
        raise InvalidArgument(f"unknown graph family {family!r}; choose one of: {', '.join(FAMILIES)}.")
    lo, hi = _node_bounds(min_nodes, max_nodes)
    b = _family_builders(lo, hi)
    if family == "any":
        parts = _available(b, list(b))
    elif family == "connected":
        parts = _available(b, ["connected"])
        # a view graph of one sample is a clique; cycles, cliques and stars are connected
        parts += _available({
            "clique": lambda: view_graphs(1, 1, 2, hi, min_nodes=lo, max_nodes=hi),
            "repeated": lambda: repeated_eigenvalue_graphs(lo, hi).filter(_is_connected),
        }, ["clique", "repeated"])
    elif family == "irregular":
        _ensure(hi >= 3, f"max_nodes={hi}: an irregular graph needs at least 3 nodes.")
        lo3 = max(lo, 3)
        b = _family_builders(lo3, hi)
        # trees on >= 3 nodes are always irregular (a leaf's degree is below its
        # neighbour's), so this branch never rejects; the rest are filtered.
        parts = [_trees(lo3, hi)] + [
            s.filter(_irregular) for s in _available(
                b, ["erdos_renyi", "label", "weighted", "sbm", "knn", "multi_component"])
        ]
    elif family == "no_isolated":
        parts = _available(b, ["connected", "view", "knn", "regular"])
        parts += _available({
            "label": lambda: label_graphs(1, hi, 2, min(max(hi, 2), 6), min_nodes=lo, max_nodes=hi),
            "multi": lambda: multi_component_graphs(2, 4, 2, max(hi // 2, 2), isolated=False,
                                                    min_nodes=lo, max_nodes=hi),
            "er": lambda: erdos_renyi_graphs(lo, hi, 0.6).filter(_no_isolated),
        }, ["label", "multi", "er"])
    else:
        parts = _available(b, [family])
    _ensure(parts, f"no {family!r} graph has between {lo} and {hi} nodes; widen the bounds.")
    return st.one_of(parts)


def _is_connected(G):
    from scipy.sparse.csgraph import connected_components

    return connected_components(sp.csr_matrix(G), directed=False)[0] == 1


def _trees(lo, hi):
    return _tree_strategy(lo, hi, (1.0,))


@st.composite
def _tree_strategy(draw, lo, hi, weights):
    n = draw(st.integers(lo, hi))
    return _symmetric(n, {e: _weight(draw, weights) for e in _draw_tree_edges(draw, n)})


# -- other arguments ----------------------------------------------------------

def embedding_dims(G_or_n, min_k=1, max_k=None):
    """Embedding dimensions ``k`` with ``1 <= k <= N - 1``.

    Parameters
    ----------
    G_or_n : array_like, sparse matrix or int
        The graph (its ``N`` is used) or ``N`` itself.
    min_k, max_k : int, optional
        Further bounds; ``max_k`` is capped at ``N - 1``.

    Returns
    -------
    SearchStrategy[int]
        Shrinks toward ``max(min_k, 1)``.
    """
    n = _check_int(G_or_n, "N", 2) if isinstance(G_or_n, (int, np.integer)) else int(G_or_n.shape[0])
    hi = n - 1 if max_k is None else min(_check_int(max_k, "max_k", 1), n - 1)
    lo = max(_check_int(min_k, "min_k", 1), 1)
    _ensure(lo <= hi, f"no k with {lo} <= k <= {hi} for a graph with N = {n} nodes; "
                      "lower min_k or use a larger graph.")
    return st.integers(lo, hi)


def graphs_with_dims(family="any", min_nodes=2, max_nodes=DEFAULT_MAX_NODES, *, max_k=None):
    """Pairs ``(G, k)`` with ``G`` from :func:`graphs` and ``1 <= k <= N - 1``."""
    base = graphs(family, min_nodes, max_nodes)
    return base.flatmap(lambda G: st.tuples(st.just(G), embedding_dims(G, 1, max_k)))


def hyper_parameters(min_value=0.05, max_value=20.0, *, grid=HYPER_PARAMETER_GRID):
    """Positive hyper-parameters from a log-scale grid.

    Parameters
    ----------
    min_value, max_value : float
        Inclusive bounds (``0 < min_value <= max_value``).
    grid : sequence of float
        Candidate values; the first one in range is the shrink target (1 by
        default), so counterexamples read ``alpha=1.0`` when ``alpha`` is
        irrelevant.

    Returns
    -------
    SearchStrategy[float]
    """
    try:
        lo, hi = float(min_value), float(max_value)
    except (TypeError, ValueError):
        raise InvalidArgument(f"min_value={min_value!r} and max_value={max_value!r} must be numbers.") from None
    _ensure(0 < lo <= hi and math.isfinite(hi),
            f"need 0 < min_value <= max_value < inf, got min_value={min_value!r}, max_value={max_value!r}.")
    values = [float(v) for v in grid if lo <= float(v) <= hi]
    _ensure(values, f"no grid value lies in [{lo:g}, {hi:g}]; pass a grid with values in range.")
    return st.sampled_from(values)


def hyper_parameter_sets(names=("alpha", "gamma"), min_value=0.05, max_value=20.0):
    """Dictionaries ``{name: value}`` of independent :func:`hyper_parameters`."""
    if isinstance(names, str):
        names = (names,)
    return st.fixed_dictionaries({str(n): hyper_parameters(min_value, max_value) for n in names})


# -- reporting ----------------------------------------------------------------

def describe_graph(G, *, max_edges=40):
    """A short, readable description of a graph for counterexample reports.

    Parameters
    ----------
    G : array_like or scipy.sparse matrix, shape (N, N)
    max_edges : int
        Longest edge list printed in full.

    Returns
    -------
    str
        E.g. ``"N=3, 2 edges: 0-1, 1-2 (w=2); degrees [1, 3, 2]"``.

    Examples
    --------
    >>> import numpy as np
    >>> describe_graph(np.array([[0, 1, 0], [1, 0, 2], [0, 2, 0]]))
    'N=3, 2 edges: 0-1, 1-2 (w=2); degrees [1, 3, 2]'
    """
    M = sp.coo_matrix(G)
    n = M.shape[0]
    pairs = sorted({(int(min(i, j)), int(max(i, j))): float(w)
                    for i, j, w in zip(M.row, M.col, M.data) if i != j and w != 0}.items())
    parts = [f"{i}-{j}" if w == 1 else f"{i}-{j} (w={w:g})" for (i, j), w in pairs]
    if len(parts) > max_edges:
        parts = parts[:max_edges] + [f"... ({len(pairs) - max_edges} more)"]
    d = np.asarray(M.tocsr().sum(axis=1)).ravel()
    degs = ", ".join(f"{x:g}" for x in d)
    return f"N={n}, {len(pairs)} edge{'s' if len(pairs) != 1 else ''}: {', '.join(parts)}; degrees [{degs}]"
