"""The three graph families of the scale benchmark, made connected, at any size N.

* ``view``: the two views of each of N/2 samples joined (weight 1), plus weak random edges
  (weight 0.01, N of them) and a weak random path through all nodes (connected): an augmentation
  graph with label/augmentation noise.
* ``knn``: scikit-learn's bundled digits (1797 x 64), replicated to N nodes: node ``(i, c)`` is
  copy ``c`` of image ``i``; it is joined to copy ``c'`` of each of the 10 nearest images of ``i``
  (``c'`` drawn at random, heat-kernel weight of the distance) and to another random copy of its
  own image (weight 1).  An exact k-NN search on 10^6 noisy 64-D copies would dominate the run;
  this lifted graph has the same local structure and mixes the copies.
* ``sbm``: stochastic block model, 16 equal blocks, mean degree 10 inside the block and 1 across
  (unit weights), plus the weak random path.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.neighbors import NearestNeighbors

FAMILIES = ("view", "knn", "sbm")


def _assemble(n, rows, cols, vals):
    G = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)).tocsr()
    G = G + G.T
    G.setdiag(0)
    G.eliminate_zeros()
    G.sum_duplicates()
    return G.tocsr()


def _weak_path(n, rng, weight):
    perm = rng.permutation(n)
    return perm[:-1], perm[1:], np.full(n - 1, weight)


def view_graph(n, seed=0, weight=0.01):
    rng = np.random.default_rng(seed)
    half = n // 2
    i = np.arange(half)
    pr, pc, pv = _weak_path(n, rng, weight)
    return _assemble(n, [i, pr, rng.integers(0, n, n)], [i + half, pc, rng.integers(0, n, n)],
                     [np.ones(half), pv, np.full(n, weight)])


def knn_graph(n, seed=0, k_nn=10):
    rng = np.random.default_rng(seed)
    X = load_digits().data
    m = X.shape[0]
    dist, nbr = NearestNeighbors(n_neighbors=k_nn + 1).fit(X).kneighbors(X)
    dist, nbr = dist[:, 1:], nbr[:, 1:]
    sigma2 = np.median(dist) ** 2
    copies = -(-n // m)
    node = np.arange(n)
    image, copy = node % m, node // m
    last = n - (copies - 1) * m          # images present in the last copy

    def random_copy(img, size):
        c = rng.integers(0, copies, size)
        c = np.where((c == copies - 1) & (img >= last), rng.integers(0, max(copies - 1, 1), size), c)
        return c * m + img
    rows = [np.repeat(node, k_nn)]
    nb = nbr[image].ravel()
    cols = [random_copy(nb, n * k_nn)]
    vals = [np.exp(-dist[image].ravel() ** 2 / sigma2)]
    rows.append(node)
    cols.append(random_copy(image, n))
    vals.append(np.ones(n))
    G = _assemble(n, rows, cols, vals)
    pr, pc, pv = _weak_path(n, rng, 0.01)
    return (G + _assemble(n, [pr], [pc], [pv])).tocsr()


def sbm_graph(n, seed=0, blocks=16, deg_in=10.0, deg_out=1.0):
    rng = np.random.default_rng(seed)
    block = np.arange(n) * blocks // n
    size = np.bincount(block, minlength=blocks)
    start = np.r_[0, np.cumsum(size)[:-1]]
    e_in = rng.poisson(deg_in * n / 2)
    a = rng.integers(0, n, e_in)
    b = start[block[a]] + (rng.random(e_in) * size[block[a]]).astype(np.int64)
    e_out = rng.poisson(deg_out * n / 2)
    pr, pc, pv = _weak_path(n, rng, 0.01)
    return _assemble(n, [a, rng.integers(0, n, e_out), pr], [b, rng.integers(0, n, e_out), pc],
                     [np.ones(e_in), np.ones(e_out), pv])


def make(family, n, seed=0):
    """The ``family`` graph on ``n`` nodes (scipy CSR, symmetric, connected)."""
    return {"view": view_graph, "knn": knn_graph, "sbm": sbm_graph}[family](n, seed)
