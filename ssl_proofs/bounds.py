"""Certified lower bounds on the minimum of a searched loss (docs/evidence.md, "Lower bounds").

A searched value is an upper bound on the minimum (the loss of a point actually found).  This
module gives the other side: for each searched problem, the best lower bound the mathematics
gives, with a certificate a reader can re-check.  A point whose loss is within
:data:`GAP_RTOL` of a certified bound is a certified global minimiser.

SimCLR: the elliptope relaxation
--------------------------------
With ``Zt`` the row-normalised ``Z`` the loss depends on ``Z`` only through
``P = Zt Zt^T`` (``s = P / tau``), and as a function of a symmetric matrix ``P`` it is convex
(paper, SupCon and per-edge forms: a linear term plus non-negative multiples of log-sum-exps
of linear functions of ``P``).  Every ``P = Zt Zt^T`` lies in the elliptope
``E = {P >= 0, diag P = 1}``, and a zero row of ``Z`` (``F.normalize`` keeps it zero: cosines
0) gives the loss of the point of ``E`` that averages that row's signs ``+-u``, plus
``G_ii / tau >= 0``; so ``min_E f <= min_Z loss`` for every K.  The relaxed problem is solved
by L-BFGS on ``f(Vt Vt^T)``, ``V`` of size N x (N + 1) (Burer--Monteiro with more columns
than any rank: every point of ``E`` is reached), and certified by the gradient inequality
of the convex ``f`` at the point ``Ph`` found, for every ``Q`` in ``E``::

    f(Q) >= f(Ph) + <A, Q - Ph>,           A = grad f(Ph) (symmetrised)
    <A, Q> = <A - diag y, Q> + sum(y) >= N lambda_min(A - diag y) + sum(y)   (Q >= 0, tr Q = N)

for any ``y`` (the dual of ``min_E <A, Q>``; here ``y_i = (A Ph)_ii``, the KKT multipliers,
which make the bound exact at the optimum).  The bound is evaluated in float64 and lowered by
a stated rounding margin (:func:`_rounding_margin`).  When the relaxed optimum has rank
``<= K`` its rank-K factor is a point of the problem whose loss meets the bound: a certificate
of global optimality; otherwise the bound is still valid, with a gap.

Other searched problems (docs/evidence.md lists what is known and what is not)
-----------------------------------------------------------------------------
SimSiam / BYOL: ``cos <= 1`` gives ``L >= -1``, attained by the collapse ``1 v^T``: exact.
BarlowTwins (``K > #components``), hinge VICReg, W-MSE with normalisation: only the trivial
bound 0 (every term is non-negative), not attained; no tighter bound is known here and none is
claimed (:func:`lower_bound` raises :class:`~ssl_proofs.errors.NotProvided`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import scipy.optimize as sopt
import torch

from . import graphs as _graphs
from .errors import InvalidArgument, NotProvided

__all__ = ["LowerBound", "lower_bound", "rank_bound", "rank_one_minimum", "elliptope_bound", "lifted_simclr_loss", "min_linear_over_elliptope",
           "GAP_RTOL", "certified_gap", "BOUNDS_KNOWN"]

#: a point within ``GAP_RTOL * max(1, |bound|)`` of a certified lower bound is a certified global minimiser:
#: the searches stop at gradient max-norm 1e-10 and the relaxation's dual gap is ~1e-12, so an optimum
#: found by both meets the bound far inside it, while distinct local minima differ by ~1e-2 or more
GAP_RTOL = 1e-7
#: the relaxation's solve continues until its dual gap is within this (relative): far inside GAP_RTOL
GAP_DUAL = 1e-9
#: SimCLR variants whose lift to P = Zt Zt^T is convex (``summed_numerator`` is a difference of log-sum-exps)
CONVEX_SIMCLR_VARIANTS = ("paper", "supcon", "per_edge")
#: L-BFGS runs of the relaxation, each from the best point so far (a dual gap within GAP_DUAL stops the loop)
RELAXATION_STARTS = 4

#: what is known, per method (docs/evidence.md, "Lower bounds"); ``lower_bound`` answers where not None
BOUNDS_KNOWN = {
    "simclr": "elliptope relaxation of P = Zt Zt^T (convex in P), dual certificate; attained when rank P* <= K",
    "simsiam": "-1 (cos <= 1), attained by the collapse 1 v^T: exact",
    "barlowtwins": None,   # 0 (sum of squares): attained only for K <= #components (the proved closed form)
    "vicreg": None,        # 0 for the hinge form: not attained; the squared / constrained forms have closed forms
    "wmse": None,          # 0 for the normalised form: never attained (whitening forbids collapse)
}


@dataclass(frozen=True)
class LowerBound:
    """A certified lower bound on ``min_Z loss(Z)`` for one problem (graph, K, variant, hyper-parameters).

    Attributes
    ----------
    value : float        the certified lower bound (rounding margin already subtracted)
    kind : str           how it is certified (e.g. "elliptope relaxation, dual certificate")
    relaxed : float      the relaxation's value at its best point (``value + dual_gap``)
    dual_gap : float     accuracy of the relaxation's solve: ``relaxed - value``
    rank : int or None   numerical rank of the relaxed optimum
    Z : ndarray or None  its best rank-K factor (unit rows): a point of the problem
    attained_loss : float or None  the problem's loss at ``Z``
    detail : str         one line: what was solved and how well
    """

    value: float
    kind: str
    relaxed: float
    dual_gap: float
    rank: Optional[int] = None
    Z: Optional[np.ndarray] = None
    attained_loss: Optional[float] = None
    detail: str = ""

    @property
    def attained(self):
        """True when the rank-K factor's loss meets the bound: that point is a certified global minimiser.

        One-sided: False says only that the relaxed optimum *found* does not factor at K (the relaxed
        optimum need not be unique: on K_n every equiangular P, the rank-1 collapse included, is one)."""
        return self.attained_loss is not None and certified_gap(self.attained_loss, self.value)


def certified_gap(loss, bound):
    """``loss - bound <= GAP_RTOL * max(1, |bound|)``: the point with that loss is certified optimal."""
    return bool(loss - bound <= GAP_RTOL * max(1.0, abs(bound)))


# -- SimCLR ---------------------------------------------------------------------------

def lifted_simclr_loss(P, W, tau, variant="paper"):
    """SimCLR's loss as a function of ``P`` (= ``Zt Zt^T`` on the elliptope), torch, convex in ``P``.

    ``W`` the dense graph (tensor, zero diagonal), ``s = P / tau``; the formulas of
    :mod:`ssl_proofs.methods.simclr` with ``cos(z_i, z_j)`` read as ``P_ij``.  ``P`` may carry leading
    batch dimensions (``(..., N, N)``: one loss per matrix).
    """
    s = P / tau
    n = s.shape[-1]
    eye = torch.eye(n, dtype=torch.bool, device=s.device)
    lse = torch.logsumexp(s.masked_fill(eye, -torch.inf), dim=-1)
    if variant == "paper":
        return (W * (lse.unsqueeze(-1) - s)).sum(dim=(-2, -1))
    d = W.sum(dim=1)
    if variant == "supcon":
        per_row = (W * (lse.unsqueeze(-1) - s)).sum(dim=-1)
        return (per_row[..., d > 0] / d[d > 0]).sum(dim=-1)
    negatives = (W == 0) & ~eye
    lse_neg = torch.logsumexp(s.masked_fill(~negatives, -torch.inf), dim=-1, keepdim=True)
    return (W * (torch.logaddexp(s, lse_neg) - s)).sum(dim=(-2, -1))


def min_linear_over_elliptope(A, y):
    """Lower bound ``sum(y) + N lambda_min(A - diag y)`` on ``min {<A, Q> : Q >= 0, diag Q = 1}``, any ``y``.

    Valid for every ``y`` (``<A - diag y, Q> >= lambda_min tr Q`` and ``tr Q = N``), exact at the dual
    optimum; ``eigvalsh``'s error (``<= c N eps ||A - diag y||_2``, backward stability) is subtracted.
    """
    A = np.asarray(A, dtype=float)
    n = A.shape[0]
    S = A - np.diag(y)
    lam = float(np.linalg.eigvalsh(S)[0])
    eig_err = 16 * n * np.finfo(float).eps * float(np.linalg.norm(S, 2))
    return float(np.sum(y)) + n * (lam - eig_err)


def _rounding_margin(n, W, tau, A, P):
    """Float64 error bound of ``f(Ph) - <A, Ph> + bound(A)``: ``64 N^2 eps`` times the terms' magnitudes.

    ``f`` sums N^2 terms of size ``<= sum(W) (2/tau + log N)``; ``<A, Ph>`` sums N^2 products.
    """
    eps = np.finfo(float).eps
    mag = float(W.sum()) * (2.0 / tau + np.log(max(n, 2))) + float(np.abs(A).sum() * max(1.0, np.abs(P).max()))
    return 64 * n * n * eps * mag


def _relaxation_point(f, n, seed, starts, max_iter, gtol, certify):
    """Best certificate over a few L-BFGS runs of ``f(Vt Vt^T)``, ``V`` N x (N+1); stops at the first within
    :data:`GAP_DUAL`."""
    rng = np.random.default_rng([int(seed), n, 7])
    best, V0 = None, rng.standard_normal((n, n + 1))
    for _ in range(starts):

        def fun(v):
            V = torch.tensor(v.reshape(n, n + 1), dtype=torch.float64, requires_grad=True)
            U = torch.nn.functional.normalize(V, dim=1)
            val = f(U @ U.T)
            (g,) = torch.autograd.grad(val, V)
            return float(val.detach()), g.numpy().ravel()

        res = sopt.minimize(fun, V0.ravel(), jac=True, method="L-BFGS-B",
                            options={"maxiter": max_iter, "gtol": gtol, "ftol": 0.0, "maxcor": 50})
        U = res.x.reshape(n, n + 1)
        U = U / np.linalg.norm(U, axis=1, keepdims=True)
        cert = certify(U @ U.T)
        if best is None or cert[0] > best[0][0]:
            best = (cert, U)
        if cert[1] - cert[0] <= GAP_DUAL * max(1.0, abs(cert[0])):
            break
        V0 = best[1]  # the problem is convex: a fresh L-BFGS memory from the best point, not a new start
    return best


def elliptope_bound(G, k, *, tau, variant="paper", seed=0, starts=RELAXATION_STARTS, max_iter=5000, gtol=1e-11):
    """SimCLR's certified lower bound from the elliptope relaxation (module docstring).

    Parameters
    ----------
    G : (N, N) graph
    k : int
        Embedding dimension (only for the factor ``Z`` and whether the bound is attained).
    tau : float
        Temperature (> 0).
    variant : {"paper", "supcon", "per_edge"}
    seed, starts, max_iter, gtol
        Of the relaxation's L-BFGS runs.

    Returns
    -------
    LowerBound
    """
    if variant not in CONVEX_SIMCLR_VARIANTS:
        raise NotProvided(
            f"SimCLR variant {variant!r} has no convex lift (the summed-numerator form subtracts a log-sum-exp): "
            f"no certified lower bound is known for it. Use one of {CONVEX_SIMCLR_VARIANTS}.")
    if not (np.isfinite(tau) and tau > 0):
        raise InvalidArgument(f"tau = {tau!r}: the temperature must be a finite number > 0.")
    G = _graphs.check_graph(G)
    n = G.shape[0]
    k = _graphs.check_k(k, n)
    Wn = _graphs.to_dense(G).astype(float)
    W = torch.tensor(Wn, dtype=torch.float64)

    def f(P):
        return lifted_simclr_loss(P, W, tau, variant)

    def certify(Ph):
        """(lower bound, f(Ph)) from the gradient inequality at ``Ph``."""
        P = torch.tensor(Ph, dtype=torch.float64, requires_grad=True)
        val = f(P)
        (A,) = torch.autograd.grad(val, P)
        A = A.numpy()
        A = (A + A.T) / 2           # <A, Q> for symmetric Q only sees the symmetric part
        y = np.einsum("ij,ji->i", A, Ph)
        lower = float(val.detach()) - float(np.sum(A * Ph)) + min_linear_over_elliptope(A, y)
        return lower - _rounding_margin(n, Wn, tau, A, Ph), float(val.detach())

    (value, relaxed), U = _relaxation_point(f, n, seed, starts, max_iter, gtol, certify)
    Ph = U @ U.T
    w, V = np.linalg.eigh(Ph)
    w, V = w[::-1], V[:, ::-1]
    rank = int(np.count_nonzero(w > 1e-6 * max(1.0, w[0])))
    Z = V[:, :k] * np.sqrt(np.clip(w[:k], 0.0, None))
    norms = np.linalg.norm(Z, axis=1, keepdims=True)
    Z = np.where(norms > 0, Z / np.where(norms > 0, norms, 1.0), 0.0)
    with torch.no_grad():
        Zt = torch.tensor(Z, dtype=torch.float64)
        attained = float(f(Zt @ Zt.T)) if np.all(norms > 0) else None
    detail = (f"elliptope relaxation (N = {n}, Burer-Monteiro with N + 1 columns, L-BFGS): relaxed value "
              f"{relaxed:.9g}, certified lower bound {value:.9g} (dual gap {relaxed - value:.1e}, rounding "
              f"margin included), rank of the relaxed optimum {rank}")
    return LowerBound(value=value, kind="elliptope relaxation, dual certificate", relaxed=relaxed,
                      dual_gap=relaxed - value, rank=rank, Z=Z, attained_loss=attained, detail=detail)


#: the rank-1 problem is enumerated exactly (3^N sign patterns) up to this many nodes
RANK_ONE_MAX_N = 8


def rank_one_minimum(G, *, tau, variant="paper", chunk=4096):
    """SimCLR's exact minimum over embeddings of rank <= 1, by enumeration (N <= :data:`RANK_ONE_MAX_N`).

    A rank-<= 1 ``Z = a b^T`` has normalised rows ``sign(a_i) b/|b|`` or 0 (``F.normalize`` keeps a zero row):
    the loss sees only ``sigma = sign(a)`` in ``{-1, 0, 1}^N`` (cosines ``sigma_i sigma_j``), so the minimum over
    the ``3^N`` patterns is the exact minimum of the rank-<= 1 problem: a certificate of that side of a
    rank claim (value and point, no gap).
    """
    G = _graphs.check_graph(G)
    n = G.shape[0]
    if n > RANK_ONE_MAX_N:
        raise NotProvided(f"N = {n} > {RANK_ONE_MAX_N}: the 3^N sign patterns of a rank-1 embedding are too many "
                          "to enumerate; no certified rank-1 minimum.")
    if variant not in CONVEX_SIMCLR_VARIANTS:
        raise NotProvided(f"SimCLR variant {variant!r}: no rank-1 enumeration here (use one of "
                          f"{CONVEX_SIMCLR_VARIANTS}).")
    W = torch.tensor(_graphs.to_dense(G).astype(float), dtype=torch.float64)
    patterns = np.array(np.meshgrid(*[[-1.0, 0.0, 1.0]] * n, indexing="ij")).reshape(n, -1).T
    best, best_s = np.inf, None
    with torch.no_grad():
        for start in range(0, len(patterns), chunk):
            S = torch.tensor(patterns[start:start + chunk])
            vals = lifted_simclr_loss(S[:, :, None] * S[:, None, :], W, tau, variant)
            i = int(torch.argmin(vals))
            if float(vals[i]) < best:
                best, best_s = float(vals[i]), patterns[start + i]
    return LowerBound(value=best, kind="exhaustive rank-1 enumeration", relaxed=best, dual_gap=0.0, rank=1,
                      Z=best_s[:, None].copy(), attained_loss=best,
                      detail=f"exact minimum over the 3^{n} sign patterns of a rank-<= 1 embedding: {best:.9g}")


def rank_bound(method, G, r, *, variant=None, hyper=None, seed=0):
    """A certified lower bound on ``min loss`` over embeddings of rank ``<= r`` (``Z = A B^T``, inner dim ``r``).

    SimCLR: the exact rank-1 minimum (:func:`rank_one_minimum`) for ``r = 1`` on small graphs, else the
    elliptope bound (which bounds every rank); otherwise :func:`lower_bound` at ``K = r``.
    """
    variant = method.check_variant(variant)
    hp = method.check_hyper(variant, dict(hyper or {}))
    if method.name == "simclr" and r == 1 and _graphs.check_graph(G).shape[0] <= RANK_ONE_MAX_N:
        return rank_one_minimum(G, tau=hp["tau"], variant=variant)
    return lower_bound(method, G, r, variant=variant, hyper=hp, seed=seed)


# -- dispatch -----------------------------------------------------------------------

def lower_bound(method, G, k, *, variant=None, hyper=None, seed=0):
    """The best certified lower bound known for ``min_Z method.loss(Z)`` (``BOUNDS_KNOWN``).

    Raises :class:`~ssl_proofs.errors.NotProvided` where none is known (docs/evidence.md says so
    per method).
    """
    variant = method.check_variant(variant)
    hp = method.check_hyper(variant, dict(hyper or {}))
    if method.name == "simclr":
        return elliptope_bound(G, k, tau=hp["tau"], variant=variant, seed=seed)
    if method.name == "simsiam":
        Z = np.ones((_graphs.check_graph(G).shape[0], k))
        return LowerBound(value=-1.0, kind="closed form (cos <= 1)", relaxed=-1.0, dual_gap=0.0, rank=1, Z=Z,
                          attained_loss=float(method.loss(Z, G, variant=variant, **hp)),
                          detail="cos <= 1 gives L >= -1; the collapse 1 v^T reaches it")
    raise NotProvided(f"no certified lower bound is known for {method.name} ({variant}) beyond what "
                      "docs/evidence.md lists: its searched values are upper bounds only.")
