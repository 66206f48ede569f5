"""Claim checks for BarlowTwins, the spectral contrastive loss and the global-vs-local coincidences.

Kinds registered here:

``bt_optimum``      BarlowTwins' eigen-candidate vs multi-start GD (loss, stationarity and, for
                    ``K <= #components``, that GD's columns lie in the rho = 1 eigenspace).
``bt_rank``         rank of the BT GD optimum vs a reading of "rank(Z) = rank(G)".
``uncentred_rank``  rank of the spectral contrastive GD optimum (no centring: the loss is not
                    translation invariant) vs ``#{rho_k > 0}``.
``global_fit``      spectral contrastive: ``F F^T`` of the closed form is the Eckart--Young fit of
                    the dense target ``A_bar`` (independent dense ``scipy.linalg.eigh`` oracle).
``same_subspace``   two methods' optimal subspaces coincide (projectors, Davis--Kahan tolerance;
                    ``Inapplicable`` on degenerate eigengaps).

BarlowTwins is scale-invariant per column, so its optimum is never unique as a matrix: every
comparison here uses column-normalised quantities (``W = D^{1/2} Z diag(Z^T D Z)^{-1/2}``, unit columns).
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla

import ssl_proofs
from ssl_proofs import graphs as _graphs
from ssl_proofs.theorems import Subspace

from . import tolerances as tols
from .checks import (Inapplicable, Measurement, solve_instance, check_closed_form, claim, eckart_young_value, gradient,
                     loss_magnitude, projector, rank_by_two_minimisations, search)
from .descent import DescentResult

#: a unit column counts in the rank when its singular value exceeds this
RANK_SV_THRESHOLD = 1e-2
#: predicted singular values in (0, RANK_MARGIN) are too close to the rank boundary
RANK_MARGIN = 0.1
#: below this eigengap the compared subspaces are not unique enough
SUBSPACE_MIN_GAP = 1e-3


def _degrees_or_skip(G):
    d = _graphs.degrees(G)
    if np.any(d <= 0):
        raise Inapplicable("isolated node: D_G is singular")
    return d


def _unit_columns(Z, d):
    """``D^{1/2} Z`` with unit columns (zero columns dropped): BT's scale-free representation."""
    W = np.sqrt(d)[:, None] * Z
    nrm = np.linalg.norm(W, axis=0)
    keep = nrm > 1e-8 * max(nrm.max(), 1e-300)
    return W[:, keep] / nrm[keep]


#: L-BFGS iterations per start for BarlowTwins checks
BT_MAX_ITER = 500


def _a_bar(G, d):
    return G / np.sqrt(np.outer(d, d))


# -- BarlowTwins ---------------------------------------------------------------

@claim("bt_optimum", params={"alpha_min": float})
def check_bt_optimum(theorem, method, inst, ctx):
    """Eigen-candidate vs GD; for K <= c also GD's columns in the rho = 1 eigenspace."""
    G, k = inst.G, inst.k
    n = G.shape[0]
    d = _degrees_or_skip(G)
    c = _graphs.n_components(G)
    within = theorem.params.get("k_le_components", theorem.params.get("graphs") == "multi_component")
    if within and k > c:
        raise Inapplicable(f"K = {k} > {c} components")
    if inst.hyper.get("alpha", 0.0) < theorem.params.get("alpha_min", 0.0):
        raise Inapplicable("alpha below the claim's range")
    Z = solve_instance(method, inst, ctx)
    if Z.shape != (n, k) or not np.all(np.isfinite(Z)):
        return [Measurement("shape/finite", np.inf, 0.0, f"solver returned shape {Z.shape}")]
    loss = method.loss(Z, G, variant=inst.variant, **inst.hyper)
    # |C_kl| <= 1, so the loss is a sum of K^2 terms of size <= (1 + alpha) * 4
    mag = 4.0 * (1.0 + inst.hyper.get("alpha", 0.0)) * k * k
    out = []
    live = np.linalg.norm(Z, axis=0) > 0
    if np.any(live):
        g = gradient(method, inst, Z, device=ctx.device)[:, live]
        # the loss is 0-homogeneous per column: rescale the gradient to unit D-norm columns
        scale = np.sqrt(np.einsum("ik,i,ik->k", Z[:, live], d, Z[:, live]))
        t = tols.rounding(mag, n * k, safety=256.0)
        out.append(Measurement("stationarity |grad|_max (non-zero columns, D-unit scale)",
                               float(np.abs(g * scale[None, :]).max()), t.value, t.reason))
    sr = search(method, inst, ctx, candidates=(Z,), max_iter=BT_MAX_ITER)
    t = tols.rounding(mag, n * k)
    # one-sided: only a point with strictly lower loss refutes the candidate
    out.append(Measurement(f"optimality loss(Z*) = {loss:.6g} vs best found {sr.loss:.6g}", loss - sr.loss,
                           t.value, f"{t.reason}; {sr.evidence}"))
    Zr, lr, gr = sr.extra["random"]
    gd = DescentResult(Z=Zr, loss=lr, losses=[lr], grad_norm=gr, iterations=0, device=sr.device)
    tg = _bt_descent_tol(method, inst, gd, mag)
    out.append(Measurement(f"cross-check: descent from random starts reaches the candidate's loss "
                           f"({lr:.6g} vs {loss:.6g})", abs(lr - loss), tg.value, tg.reason, crosscheck=True))
    if within:
        rho = np.linalg.eigvalsh(_a_bar(G, d))[::-1]
        gap = float(rho[c - 1] - rho[c]) if c < n else np.inf
        top = np.linalg.eigh(_a_bar(G, d))[1][:, ::-1][:, :c]
        W = _unit_columns(gd.Z, d)
        resid = float(np.linalg.norm(W - top @ (top.T @ W), 2))
        # (1 - rho(w))^2 <= loss(GD) and 1 - rho(w) >= gap * ||(I - P) w||^2, per unit column
        bound = np.sqrt(k) * (max(gd.loss, 0.0) + tg.value) ** 0.25 / np.sqrt(gap) + 1e3 * tols.EPS
        out.append(Measurement("GD columns in the rho = 1 eigenspace ||(I - P_top) W||_2", resid, bound,
                               f"sqrt(K) (loss(GD) + tol)^(1/4) / sqrt(eigengap {gap:.2g})"))
    return out


def _bt_descent_tol(method, inst, gd, mag):
    """Loss excess of GD's stopping point.

    BT's minimum can be degenerate (quartic, e.g. loss 0 for K <= c), so the
    quadratic-growth bound of :func:`tolerances.descent_loss` is not enough; we
    add the first-order bound ``2 sum_k ||grad_k|| ||z_k||`` (scale-free per column:
    the loss is 0-homogeneous in each column, the gradient scales as 1/||z_k||).
    """
    base = tols.descent_loss(mag, gd.grad_norm, gd.Z.size)
    g = gradient(method, inst, gd.Z)
    first = 2.0 * float(np.sum(np.linalg.norm(g, axis=0) * np.linalg.norm(gd.Z, axis=0)))
    return tols.Tol(base.value + first, f"{base.reason} + first-order 2 sum_k |grad_k||z_k| = {first:.1e}")


def _bt_rank(method, Z, G):
    """rank of the cross-correlation C: the number of directions in which the views agree.

    Scale-free; a column with C_kk = 0 and no correlation ("zeroed" in the loss) does not count,
    whatever its span.
    """
    sv = np.linalg.svd(method.cross_correlation(Z, G), compute_uv=False)
    return int(np.count_nonzero(sv > RANK_SV_THRESHOLD))


@claim("bt_rank")
def check_bt_rank(theorem, method, inst, ctx):
    """``rank = min(K, #components)`` as two minimisations (rank-constrained Z = AB^T vs free).

    The constraint is on Z (rank(C) <= rank(Z)); a refutation "rank > predicted" also needs the
    free best point's rank(C) to exceed the prediction.  The loss is >= 0 and the candidate reaches 0
    when K <= #components: that is the proved minimum for the "rank < predicted" direction.
    """
    G, k = inst.G, inst.k
    _degrees_or_skip(G)
    c = _graphs.n_components(G)
    predicted = min(k, c)
    cand = method.solve(G, k, variant=inst.variant, **inst.hyper).Z
    mag = 4.0 * (1.0 + inst.hyper.get("alpha", 0.0)) * k * k
    out, free = rank_by_two_minimisations(method, inst, ctx, predicted, mag=mag, candidates=(cand,),
                                          minimum=0.0 if k <= c else None, max_iter=BT_MAX_ITER, what="rank(C)")
    actual = _bt_rank(method, free.Z, G)
    if out and out[0].name.startswith(f"rank(C) <= {predicted}") and actual <= predicted:
        out[0].crosscheck = True  # the better free point does not have a larger rank(C): no evidence
    out.append(Measurement(f"cross-check: rank(C) of the best point found {actual} vs predicted {predicted}",
                           abs(predicted - actual), 0.0,
                           f"numerical rank of C: singular value > {RANK_SV_THRESHOLD:g}", crosscheck=True))
    return out


# -- spectral contrastive ----------------------------------------------------

@claim("uncentred_rank")
def check_uncentred_rank(theorem, method, inst, ctx):
    """rank(F) of GD's optimum, ``F = D^{1/2} Z / sqrt(S)``, vs ``#{rho_k > 0}``."""
    G, k = inst.G, inst.k
    d = _degrees_or_skip(G)
    rho = np.linalg.eigvalsh(_a_bar(G, d))[::-1][:k]
    sv_pred = np.sqrt(np.clip(rho, 0, None))
    if np.any((sv_pred > 0) & (sv_pred < RANK_MARGIN)):
        raise Inapplicable(f"a predicted singular value is in (0, {RANK_MARGIN:g})")
    predicted = method.predicted_rank(G, k, **inst.hyper)
    Zs = solve_instance(method, inst, ctx)
    out, free = rank_by_two_minimisations(method, inst, ctx, predicted, mag=loss_magnitude(method, inst, Zs),
                                          candidates=(Zs,), minimum=method.optimal_value(G, k))
    F = np.sqrt(d / d.sum())[:, None] * free.Z
    actual = int(np.count_nonzero(np.linalg.svd(F, compute_uv=False) > RANK_SV_THRESHOLD))
    out.append(Measurement(f"cross-check: rank(F) of the best point found {actual} vs predicted {predicted}",
                           abs(predicted - actual), 0.0,
                           f"singular values of F: predicted 0 or >= {RANK_MARGIN:g}, counted > {RANK_SV_THRESHOLD:g}",
                           crosscheck=True))
    return out


@claim("global_fit")
def check_global_fit(theorem, method, inst, ctx):
    """``F F^T`` of the closed form vs the Eckart--Young fit of the dense ``A_bar`` (scipy eigh)."""
    G, k = inst.G, inst.k
    d = _degrees_or_skip(G)
    A = _a_bar(G, d)
    Z = solve_instance(method, inst, ctx)
    F = np.sqrt(d / d.sum())[:, None] * Z
    M = F @ F.T
    n = G.shape[0]
    t = tols.rounding(1.0 + np.sum(A ** 2), n * n)
    out = [Measurement("||A_bar - FF^T||^2 - Eckart-Young value (dense eigvalsh)",
                       abs(float(np.sum((A - M) ** 2)) - eckart_young_value(A, k)), t.value, t.reason)]
    rho, U = sla.eigh(A)
    rho, U = rho[::-1], U[:, ::-1]
    pos = np.clip(rho[:k], 0, None)
    gap = float(rho[k - 1] - rho[k]) if k < n else np.inf
    if pos[-1] > 0 and gap < tols.MIN_GAP:
        raise Inapplicable("degenerate eigengap at K: the best rank-K fit is not unique")
    target = (U[:, :k] * pos) @ U[:, :k].T
    ts = tols.subspace(1e3 * tols.EPS * np.abs(A).sum(axis=1).max(), min(gap, 1.0) if np.isfinite(gap) else 1.0)
    out.append(Measurement("||FF^T - (A_bar)_K+||_F (target is dense N x N)",
                           float(np.linalg.norm(M - target)), ts.value, ts.reason))
    return out


# -- global vs local coincidences ------------------------------------------

def _span(space, G, k):
    """(basis, eigengap at the boundary) of the subspace a :class:`~ssl_proofs.theorems.Subspace` names."""
    if space.with_constant:
        if k < 2:
            raise Inapplicable(f"{space.name} with the constant needs K - 1 >= 1 directions of its own")
        k -= 1
    sol = ssl_proofs.get_method(space.method).solve(G, k, variant=space.variant).spectral
    V = sol.vectors if sol.problem.row_weights is None else sol.problem.row_weights[:, None] * sol.vectors
    if space.with_constant:
        V = np.column_stack([np.ones(G.shape[0]), V])
    return V, sol.gap


@claim("same_subspace", params={"same_as": Subspace})
def check_same_subspace(theorem, method, inst, ctx):
    """Projectors onto two methods' optimal subspaces coincide (Davis--Kahan tolerance).

    One side is the theorem's method (its default closed form), the other what the method
    declares it equivalent to (``params["same_as"]``, a :class:`~ssl_proofs.theorems.Subspace`).
    """
    G, k = inst.G, inst.k
    _degrees_or_skip(G)
    own, other = Subspace(method.name), theorem.params["same_as"]
    if other.with_constant and _graphs.n_components(G) != 1:
        raise Inapplicable(f"{other.name}'s constant direction is unique only on connected graphs")
    if k >= G.shape[0]:
        raise Inapplicable("K = N: both subspaces are everything")
    (A, gap_a), (B, gap_b) = _span(own, G, k), _span(other, G, k)
    gap = min(gap_a, gap_b)
    if gap < SUBSPACE_MIN_GAP:
        raise Inapplicable(f"degenerate eigengap {gap:.1e}: the subspaces are not unique")
    err = float(np.linalg.norm(projector(A) - projector(B), 2))
    t = tols.subspace(1e3 * tols.EPS * np.abs(G).sum(axis=1).max() * G.shape[0], gap)
    return [Measurement(f"||P({own.name}) - P({other.name})||_2", err, t.value, t.reason)]


@claim("closed_form_nondegenerate")
def check_closed_form_nondegenerate(theorem, method, inst, ctx):
    """Former name of the generic ``closed_form`` check (kept for old theorem lists).

    The instances with an eigenvalue rho = 0 among the top K that this claim used to exclude are
    now handled by ``closed_form`` itself: on such a profile boundary the minimum is quartic and
    only the Gram cross-check (which never refutes) is left out.
    """
    return check_closed_form(theorem, method, inst, ctx)
