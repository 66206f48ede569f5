"""Data for the experiments: scikit-learn's bundled datasets (no download), planted labels, graphs.

Augmentations fit the data: digits (8 x 8 images, pixels 0..16) get a random
shift of at most one pixel in each direction and Gaussian pixel noise; the
tabular datasets (wine, breast_cancer, iris) get per-feature multiplicative
jitter and Gaussian noise scaled by each feature's spread.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ssl_proofs import graphs as _graphs
from ssl_proofs.errors import InvalidArgument

DATASETS = ("digits", "wine", "breast_cancer", "iris")
#: digits pixel noise std (pixels range 0..16); tabular: noise / jitter as fractions of each feature's std
DIGITS_NOISE = 1.0
TABULAR_NOISE = 0.1
TABULAR_JITTER = 0.05


def load(name):
    """``(X, y)`` of a bundled scikit-learn dataset, raw features (float64)."""
    if name not in DATASETS:
        raise InvalidArgument(f"unknown dataset {name!r}; bundled datasets: {', '.join(DATASETS)}.")
    # imported here, not at the top: sklearn.datasets costs ~1 s, and every CLI start imports this module
    from sklearn import datasets

    d = getattr(datasets, f"load_{name}")()
    return np.asarray(d.data, dtype=float), np.asarray(d.target)


def augment(X, name, rng):
    """One augmented view of every row of raw ``X`` (see module docstring)."""
    if name == "digits":
        imgs = X.reshape(-1, 8, 8)
        out = np.empty_like(imgs)
        shifts = rng.integers(-1, 2, size=(imgs.shape[0], 2))
        for i, (dy, dx) in enumerate(shifts):
            out[i] = _shift(imgs[i], dy, dx)
        out = out + DIGITS_NOISE * rng.standard_normal(out.shape)
        return np.clip(out, 0.0, 16.0).reshape(X.shape)
    scale = X.std(axis=0) + 1e-12
    jitter = 1.0 + TABULAR_JITTER * rng.standard_normal(X.shape)
    return X * jitter + TABULAR_NOISE * scale * rng.standard_normal(X.shape)


def _shift(img, dy, dx):
    """Shift an image by (dy, dx) pixels, filling with 0 (background)."""
    out = np.zeros_like(img)
    h, w = img.shape
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = img[max(-dy, 0):h + min(-dy, 0),
                                                                     max(-dx, 0):w + min(-dx, 0)]
    return out


def standardise(train, *others):
    """Centre and scale by the training split's statistics (constant features keep scale 1)."""
    mu = train.mean(axis=0)
    sd = train.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    return tuple((A - mu) / sd for A in (train, *others))


def planted(n_per_class, n_classes, dim, rng, *, spread=0.3):
    """Planted-label data: ``x = mu_y + N(0, I)`` with class means ``mu_c ~ N(0, spread^2 I)``.

    With the defaults (``dim = 64``) class means are ``~3.4`` noise stds apart, so
    a linear classifier is good but not perfect (the labels are learnable from X).
    """
    means = spread * rng.standard_normal((n_classes, dim))
    y = np.repeat(np.arange(n_classes), n_per_class)
    return means[y] + rng.standard_normal((y.size, dim)), y, means


def stratified(y, n_per_class, rng):
    """Indices of ``n_per_class`` random rows of every class (sorted by class)."""
    idx = []
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        if rows.size < n_per_class:
            raise InvalidArgument(f"class {c} has {rows.size} samples, fewer than n_per_class = {n_per_class}.")
        idx.append(rng.choice(rows, n_per_class, replace=False))
    return np.concatenate(idx)


def rewire(G, p, rng):
    """Move a fraction ``p`` of G's positive pairs to uniformly random non-pairs (edge count kept).

    ``p = 0`` returns G; ``p = 1`` keeps no original pair (an Erdos-Renyi-like graph with G's edge count).
    """
    if not 0.0 <= p <= 1.0:
        raise InvalidArgument(f"rewiring fraction p = {p} must lie in [0, 1].")
    A = _graphs.to_dense(G) > 0
    n = A.shape[0]
    iu, ju = np.triu_indices(n, 1)
    is_edge = A[iu, ju]
    edges = np.flatnonzero(is_edge)
    non_edges = np.flatnonzero(~is_edge)
    m = int(round(p * edges.size))
    if m > non_edges.size:
        raise InvalidArgument(f"cannot rewire {m} pairs: only {non_edges.size} non-pairs exist.")
    drop = rng.choice(edges, m, replace=False)
    add = rng.choice(non_edges, m, replace=False)
    keep = is_edge.copy()
    keep[drop] = False
    keep[add] = True
    out = np.zeros((n, n))
    out[iu[keep], ju[keep]] = 1.0
    return out + out.T


def knn_graph(X, k):
    """Symmetrised k-NN graph of the rows of X (Euclidean), dense 0/1."""
    from sklearn.neighbors import kneighbors_graph  # lazy: see load()

    A = kneighbors_graph(X, k, mode="connectivity", include_self=False)
    A = sp.csr_matrix(A).toarray()
    return np.maximum(A, A.T)
