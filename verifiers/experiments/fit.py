"""Fitting each method's optimum and probing it: the two steps every experiment repeats.

A method's optimum comes from its closed form where one is proved (VICReg,
spectral contrastive; BarlowTwins with ``K <= #components``) and from
:func:`verifiers.descent.minimise` (L-BFGS multistart) otherwise (SimCLR;
BarlowTwins with ``K > #components``).  The probe is scikit-learn's logistic
regression on the retained directions of ``Z`` (collapsed directions dropped).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import ssl_proofs
from ssl_proofs import graphs as _graphs
from ssl_proofs.claims import RANK_RTOL

from ..descent import minimise
from ..linear_checks import LinearAdapter

#: method specs used by the experiments: label -> (registry name, variant, hyper-parameters)
METHODS = {
    "vicreg_small": ("vicreg", "squared", {"alpha": 1.0, "gamma": 0.01}),
    "vicreg_large": ("vicreg", "squared", {"alpha": 1.0, "gamma": 10.0}),
    "spectral_contrastive": ("spectral_contrastive", "population", {}),
    "barlowtwins": ("barlowtwins", "paper", {"alpha": 0.005}),
    "simclr": ("simclr", "paper", {"tau": 0.5}),
}


def canonical(name, Z, W=None):
    """Remove the scale freedom a loss does not see before measuring rank or probing.

    BarlowTwins' loss is invariant to rescaling each column of Z (its cross-correlation is
    column-normalised), so a column's norm is arbitrary: columns are scaled to unit RMS (and W
    with them, so held-out inputs get the same map).  SimCLR's rows are normalised by the
    callers that need directions (S1, CKA).
    """
    if name != "barlowtwins":
        return Z, W
    s = np.sqrt(np.mean(Z ** 2, axis=0))
    s = np.where(s > 0, s, 1.0)
    return Z / s, None if W is None else W / s


@dataclass
class Fit:
    """An optimum and how it was obtained (``how``: 'closed form' or 'L-BFGS best of S')."""

    Z: np.ndarray
    W: np.ndarray | None
    loss: float
    how: str


def _closed_form_ok(name, G, k):
    if name in ("vicreg", "spectral_contrastive"):
        return True
    if name == "barlowtwins":
        return k <= _graphs.n_components(G)
    return False


def fit_nonparametric(name, variant, hp, G, k, *, seed, starts=3, max_iter=500):
    """The optimum ``Z*`` of a method on ``G`` (closed form when proved, else L-BFGS)."""
    method = ssl_proofs.get_method(name)
    if _closed_form_ok(name, G, k):
        sol = method.solve(G, k, variant=variant, **hp)
        return Fit(canonical(name, sol.Z)[0], None, sol.loss, "closed form")
    res = minimise(method, G, k, variant=variant, hyper=hp, starts=starts, seed=seed, device="cpu",
                   max_iter=max_iter, gtol=1e-9)
    return Fit(canonical(name, res.Z)[0], None, res.loss, f"L-BFGS best of {starts}")


def fit_linear(name, variant, hp, X, G, k, *, seed, starts=2, max_iter=300):
    """The optimum ``W*`` of ``Z = XW`` (closed form when proved, else L-BFGS over W)."""
    method = ssl_proofs.get_method(name)
    if _closed_form_ok(name, G, k):
        sol = method.solve_linear(X, G, k, variant=variant, **hp)
        return Fit(*canonical(name, sol.Z, sol.W), sol.loss, "closed form")
    # weights start at the scale that gives Z = XW unit-variance columns
    scale = 1.0 / np.sqrt(max(float(np.mean(np.sum(X ** 2, axis=1))), 1e-12))
    res = minimise(LinearAdapter(method, X, G), G, k, variant=variant, hyper=hp, starts=starts, seed=seed,
                   device="cpu", max_iter=max_iter, gtol=1e-9, init_scale=scale, shape=(X.shape[1], k))
    # minimise returns Z = X W; W is recovered on range(X^T) (min-norm), as solve_linear chooses it
    W = np.linalg.lstsq(X, res.Z, rcond=None)[0]
    return Fit(*canonical(name, X @ W, W), res.loss, f"L-BFGS best of {starts}")


def retained_basis(Z, rtol=RANK_RTOL):
    """Right singular vectors of centred ``Z`` with singular value > ``rtol`` x largest, and the centre."""
    mu = Z.mean(axis=0)
    _, s, Vt = np.linalg.svd(Z - mu, full_matrices=False)
    keep = s > rtol * max(float(s.max(initial=0.0)), np.finfo(float).tiny)
    return mu, Vt[keep].T, s[keep] / np.sqrt(Z.shape[0])


def probe_accuracy(Ztr, ytr, Zte, yte):
    """Held-out accuracy of a logistic-regression probe on the retained directions of ``Ztr``.

    Collapsed directions (below :data:`RANK_RTOL`) are projected out, and the kept
    coordinates are divided by their overall RMS (not per feature: rescaling each
    direction to unit variance would undo a collapse), so every method meets the
    same regularisation (``C = 1``).
    """
    from sklearn.linear_model import LogisticRegression  # lazy: sklearn costs ~1 s at every CLI start

    mu, V, s = retained_basis(Ztr)
    if V.shape[1] == 0:
        return float(np.mean(yte == np.bincount(ytr).argmax()))
    rms = float(np.sqrt(np.mean(s ** 2)))
    A, B = (Ztr - mu) @ V / rms, (Zte - mu) @ V / rms
    clf = LogisticRegression(max_iter=5000, C=1.0).fit(A, ytr)
    return float(clf.score(B, yte))


def supervised_accuracy(Xtr, ytr, Xte, yte):
    """The supervised linear method: LDA (what linear VICReg on the label graph recovers, notes §3.1)."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis  # lazy, as above

    lda = LinearDiscriminantAnalysis(solver="lsqr", shrinkage=1e-3).fit(Xtr, ytr)
    return float(lda.score(Xte, yte))
