"""Fitting each method's optimum and probing it: the two steps every experiment repeats.

A method's optimum comes from its closed form where one is proved (VICReg,
spectral contrastive; BarlowTwins with ``K <= #components``) and otherwise
(SimCLR; BarlowTwins with ``K > #components``) from the project's one documented
global search, :func:`ssl_proofs.search.global_minimise`, started at the method's
unproved eigen-candidate where it has one (BarlowTwins), its perturbations and
``starts`` random starts.  Its budget (starts, iterations) is each experiment's
(docs/claims.md, "Methods").  The probe is scikit-learn's logistic regression on
the retained directions of ``Z`` (collapsed directions dropped).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch

import ssl_proofs
from ssl_proofs import graphs as _graphs
from ssl_proofs.claims import RANK_RTOL
from ssl_proofs.methods.barlowtwins import NORMALIZE_EPS

from ssl_proofs.search import global_minimise

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
    """An optimum and how it was obtained (``how``: 'closed form' or 'global search, R L-BFGS runs')."""

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


class Through(LinearAdapter):
    """The method seen as a function of ``A`` in ``Z = X A`` (weights, or a structure imposed on ``Z``).

    :func:`global_minimise` checks variant and hyper-parameters on what it is given: delegated.
    """

    def check_variant(self, variant, **kw):
        return self.method.check_variant(variant, **kw)

    def check_hyper(self, variant, hp):
        return self.method.check_hyper(variant, hp)


class BarlowTwinsGForm(Through):
    """BarlowTwins through ``Z = B A``, its loss evaluated in the G-form (the same function, faster).

    The registry's loss gathers both ends of every edge (``Z[rows]``, ``Z[cols]``); on a label graph of
    300 digits that is ~9,000 edges, and the backward of the gather took two thirds of a linear fit
    (profile, docs/claims.md "Cost").  The G-form of the same cross-correlation,
    ``C = Z^T G Z / (n n^T)`` with ``n_k = max(sqrt(sum_i d_i Z_ik^2), eps)`` (``d`` the degrees:
    :meth:`~ssl_proofs.methods.barlowtwins.BarlowTwins.cross_correlation`), costs two dense products;
    ``tests/test_claims.py`` checks it against the registry's loss and gradient.
    """

    def objective(self, G, *, variant, device="cpu", **hp):
        hp = self.method.check_hyper(variant, hp)
        Gd = torch.as_tensor(_graphs.to_dense(self.G), dtype=torch.float64, device=device)
        deg = torch.as_tensor(_graphs.degrees(self.G), dtype=torch.float64, device=device)
        alpha = float(hp["alpha"])

        def f(Z):
            n = torch.sqrt((deg[:, None] * Z * Z).sum(0)).clamp_min(NORMALIZE_EPS)
            C = (Z.T @ (Gd @ Z)) / (n[:, None] * n[None, :])
            diag = torch.diagonal(C)
            return (diag - 1).pow(2).sum() + alpha * (C - torch.diag_embed(diag)).pow(2).sum()

        return f


def loss_tolerance(*losses):
    """Two searched losses differ when apart by more than this: 1e-6 relative to the larger (at least 1e-6).

    It covers what L-BFGS leaves undone where it stops (gradient max-norm 1e-9 on smooth losses: an excess
    ~ |g|^2 / curvature, far below it; more on the hinge's kinks, whose stalls the experiments report) and
    float64 rounding of the loss's sums (~1e-11 relative at these sizes), so a gap above it is visible.
    """
    return 1e-6 * max(1.0, *(abs(float(v)) for v in losses))


def _searched(res):
    return f"global search, {res.starts} L-BFGS runs (best from a {res.origin} start)"


def fit_nonparametric(name, variant, hp, G, k, *, seed, starts=3, max_iter=500):
    """The optimum ``Z*`` of a method on ``G`` (closed form when proved, else the global search)."""
    method = ssl_proofs.get_method(name)
    if _closed_form_ok(name, G, k):
        sol = method.solve(G, k, variant=variant, **hp)
        return Fit(canonical(name, sol.Z)[0], None, sol.loss, "closed form")
    # the eigen-candidate (unproved here) as one start, where the method has one (BarlowTwins)
    cands = (method.solve(G, k, variant=variant, **hp).Z,) if variant in method.closed_form_variants else ()
    # BarlowTwins: the same loss in its G-form (Z = I A), without the gather over every edge
    searched = BarlowTwinsGForm(method, np.eye(G.shape[0]), G) if name == "barlowtwins" else method
    res = global_minimise(searched, G, k, variant=variant, hyper=hp, starts=starts, seed=seed, device="cpu",
                          candidates=cands, max_iter=max_iter, gtol=1e-9, shape=(G.shape[0], k))
    return Fit(canonical(name, res.Z)[0], None, res.loss, _searched(res))


def fit_structured(name, variant, hp, B, G, k, *, seed, starts=3, max_iter=500):
    """The best ``Z = B A`` (``A`` free): the method's loss with ``Z``'s columns forced into ``span(B)``.

    With ``B`` the one-hot labels this imposes class-constant rows (the structure of a
    structural claim's constrained minimisation); with ``B = X`` it is the linear regime.
    Returns a :class:`Fit` with ``W = A`` recovered on ``range(B^T)`` (min-norm, as
    ``solve_linear`` chooses it).
    """
    method = ssl_proofs.get_method(name)
    adapter = (BarlowTwinsGForm if name == "barlowtwins" else Through)(method, B, G)
    res = global_minimise(adapter, G, k, variant=variant, hyper=hp, starts=starts, seed=seed,
                          device="cpu", shape=(B.shape[1], k), max_iter=max_iter, gtol=1e-9)
    A = np.linalg.lstsq(B, res.Z, rcond=None)[0]
    return Fit(*canonical(name, B @ A, A), res.loss, _searched(res))


def fit_linear(name, variant, hp, X, G, k, *, seed, starts=2, max_iter=300):
    """The optimum ``W*`` of ``Z = XW`` (closed form when proved, else the global search over W)."""
    method = ssl_proofs.get_method(name)
    if _closed_form_ok(name, G, k):
        sol = method.solve_linear(X, G, k, variant=variant, **hp)
        return Fit(*canonical(name, sol.Z, sol.W), sol.loss, "closed form")
    # random starts only: the two methods searched here (SimCLR, BarlowTwins) ignore row / column scale, so
    # global_minimise's start scales are as good as any, and BT's linear eigen-candidate (zeroed columns) plus
    # its two perturbations cost 3 more runs for no gain (synthetic / digits, p = 0 and 1: within 2e-7)
    return fit_structured(name, variant, hp, X, G, k, seed=seed, starts=starts, max_iter=max_iter)


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


#: the probe's regularisation grid (C of LogisticRegression) and cross-validation folds
PROBE_CS = tuple(float(c) for c in np.logspace(-3, 3, 7))
PROBE_FOLDS = 5


def standardised_coordinates(Ztr, *others):
    """Coordinates of ``Ztr`` (and ``others``) on its retained directions, each scaled to unit variance.

    The retained directions are the principal axes of centred ``Ztr`` above :data:`RANK_RTOL`, so this is
    whitening of the retained subspace: what is left depends on *which* directions ``Z`` keeps, not on
    how much each is stretched (an invertible ``W`` gives the coordinates of ``X`` itself, rotated).
    Returns ``None`` when nothing is retained.
    """
    mu, V, s = retained_basis(Ztr)
    if V.shape[1] == 0:
        return None
    return tuple((Z - mu) @ V / s for Z in (Ztr, *others))


def probe_accuracy_standardised(Ztr, ytr, Zte, yte):
    """Held-out accuracy of a logistic probe on the whitened retained directions, regularisation cross-validated.

    The probe that measures what the alignment claims are about (which label information ``Z`` keeps):
    :func:`standardised_coordinates`, then scikit-learn's ``LogisticRegressionCV`` over
    :data:`PROBE_CS` with :data:`PROBE_FOLDS` stratified folds (shuffled with a fixed seed, so the
    same ``Z`` gives the same accuracy).  Unlike :func:`probe_accuracy` it cannot be fooled by
    anisotropy: a full-rank ``W`` with one dominant direction scores as ``X`` does.
    """
    from sklearn.linear_model import LogisticRegressionCV  # lazy, as in probe_accuracy
    from sklearn.model_selection import StratifiedKFold

    coords = standardised_coordinates(Ztr, Zte)
    if coords is None:
        return float(np.mean(yte == np.bincount(ytr).argmax()))
    folds = StratifiedKFold(min(PROBE_FOLDS, int(np.bincount(ytr)[np.unique(ytr)].min())), shuffle=True,
                            random_state=0)
    with warnings.catch_warnings():   # scikit-learn 1.9's notices of future defaults (scoring, l1_ratios):
        warnings.simplefilter("ignore", FutureWarning)   # the defaults used here are today's, stated above
        clf = LogisticRegressionCV(Cs=list(PROBE_CS), cv=folds, max_iter=5000).fit(coords[0], ytr)
    return float(clf.score(coords[1], yte))


def supervised_accuracy(Xtr, ytr, Xte, yte):
    """The supervised linear method: LDA (what linear VICReg on the label graph recovers, notes §3.1)."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis  # lazy, as above

    lda = LinearDiscriminantAnalysis(solver="lsqr", shrinkage=1e-3).fit(Xtr, ytr)
    return float(lda.score(Xte, yte))
