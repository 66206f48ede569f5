"""Claim checks for BarlowTwins (the spectral contrastive loss: :mod:`.eckart_young`; coincidences of two
methods' optima: :mod:`.coincidences`).

Kinds registered here:

``bt_optimum``      BarlowTwins' eigen-candidate vs multi-start GD (loss, stationarity and, for
                    ``K <= #components``, that GD's columns lie in the rho = 1 eigenspace).
``bt_rank``         rank of the BT GD optimum vs a reading of "rank(Z) = rank(G)".
``closed_form_nondegenerate``  former name of the generic ``closed_form`` check.

BarlowTwins is scale-invariant per column, so its optimum is never unique as a matrix: every
comparison here uses column-normalised quantities (``W = D^{1/2} Z diag(Z^T D Z)^{-1/2}``, unit columns).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ssl_proofs import graphs as _graphs

from . import tolerances as tols
from .checks import (LOWER_LOSS, NOT_STATIONARY, RANK_SV_THRESHOLD, Inapplicable, Measurement, a_bar,
                     check_closed_form, claim, gradient, positive_degrees, rank_by_two_minimisations, search,
                     solve_instance)
from .descent import DescentResult


def _unit_columns(Z, d):
    """``D^{1/2} Z`` with unit columns (zero columns dropped): BT's scale-free representation."""
    W = np.sqrt(d)[:, None] * Z
    nrm = np.linalg.norm(W, axis=0)
    keep = nrm > 1e-8 * max(nrm.max(), 1e-300)
    return W[:, keep] / nrm[keep]


#: L-BFGS iterations per start for BarlowTwins checks
BT_MAX_ITER = 500


# -- BarlowTwins ---------------------------------------------------------------

@claim("bt_optimum", params={"alpha_min": float})
def check_bt_optimum(theorem, method, inst, ctx):
    """Eigen-candidate vs GD; for K <= c also GD's columns in the rho = 1 eigenspace."""
    G, k = inst.G, inst.k
    n = G.shape[0]
    d = positive_degrees(G)
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
                               float(np.abs(g * scale[None, :]).max()), t.value, t.reason, kind=NOT_STATIONARY))
    sr = search(method, inst, ctx, candidates=(Z,), max_iter=BT_MAX_ITER)
    t = tols.rounding(mag, n * k)
    # one-sided: only a point with strictly lower loss refutes the candidate
    out.append(Measurement(f"optimality loss(Z*) = {loss:.6g} vs best found {sr.loss:.6g}", loss - sr.loss,
                           t.value, f"{t.reason}; {sr.evidence}", kind=LOWER_LOSS))
    Zr, lr, gr = sr.extra["random"]
    gd = DescentResult(Z=Zr, loss=lr, losses=[lr], grad_norm=gr, iterations=0, device=sr.device)
    tg = _bt_descent_tol(method, inst, gd, mag)
    out.append(Measurement(f"cross-check: descent from random starts reaches the candidate's loss "
                           f"({lr:.6g} vs {loss:.6g})", abs(lr - loss), tg.value, tg.reason, crosscheck=True))
    if within:
        rho = np.linalg.eigvalsh(a_bar(G, d))[::-1]
        gap = float(rho[c - 1] - rho[c]) if c < n else np.inf
        top = np.linalg.eigh(a_bar(G, d))[1][:, ::-1][:, :c]
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


@claim("bt_rank", params={"predict": Callable, "bound": bool})
def check_bt_rank(theorem, method, inst, ctx):
    """``rank = min(K, #components)`` (or ``params["predict"](G, K)``, another reading of "rank(G)") as two
    minimisations (rank-constrained Z = AB^T vs free).

    The constraint is on Z (rank(C) <= rank(Z)); a refutation "rank > predicted" also needs the
    free best point's rank(C) to exceed the prediction.  The loss is >= 0 and the candidate reaches 0
    when K <= #components: that is the proved minimum for the "rank < predicted" direction.
    """
    G, k = inst.G, inst.k
    positive_degrees(G)
    c = _graphs.n_components(G)
    predict = theorem.params.get("predict")
    predicted = min(k, c) if predict is None else int(predict(G, k))
    cand = method.solve(G, k, variant=inst.variant, **inst.hyper).Z
    mag = 4.0 * (1.0 + inst.hyper.get("alpha", 0.0)) * k * k
    bound = bool(theorem.params.get("bound"))  # rank(C*) <= predicted only: the first minimisation alone
    out, free = rank_by_two_minimisations(method, inst, ctx, predicted, mag=mag, candidates=(cand,),
                                          minimum=0.0 if k <= c else None, max_iter=BT_MAX_ITER, what="rank(C)",
                                          lower=not bound)
    actual = _bt_rank(method, free.Z, G)
    if out and out[0].name.startswith(f"rank(C) <= {predicted}") and actual <= predicted:
        out[0].crosscheck = True  # the better free point does not have a larger rank(C): no evidence
    out.append(Measurement(f"cross-check: rank(C) of the best point found {actual} vs predicted {predicted}",
                           abs(predicted - actual), 0.0,
                           f"numerical rank of C: singular value > {RANK_SV_THRESHOLD:g}", crosscheck=True))
    return out


@claim("closed_form_nondegenerate")
def check_closed_form_nondegenerate(theorem, method, inst, ctx):
    """Former name of the generic ``closed_form`` check (kept for old theorem lists).

    The instances with an eigenvalue rho = 0 among the top K that this claim used to exclude are
    now handled by ``closed_form`` itself: on such a profile boundary the minimum is quartic and
    only the Gram cross-check (which never refutes) is left out.
    """
    return check_closed_form(theorem, method, inst, ctx)
