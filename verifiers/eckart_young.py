"""Claim checks for the spectral contrastive loss: Eckart--Young on ``A_bar = D^-1/2 G D^-1/2``.

Kinds registered here:

``uncentred_rank``  rank of the spectral contrastive GD optimum (no centring: the loss is not
                    translation invariant) vs ``#{rho_k > 0}``.
``global_fit``      ``F F^T`` of the closed form is the Eckart--Young fit of the dense target
                    ``A_bar`` (independent dense ``scipy.linalg.eigh`` oracle).
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from . import tolerances as tols
from .checks import (RANK_MARGIN, RANK_SV_THRESHOLD, Inapplicable, Measurement, a_bar, claim, eckart_young_value,
                     loss_magnitude, positive_degrees, rank_by_two_minimisations, solve_instance)


@claim("uncentred_rank")
def check_uncentred_rank(theorem, method, inst, ctx):
    """rank(F) of GD's optimum, ``F = D^{1/2} Z / sqrt(S)``, vs ``#{rho_k > 0}``."""
    G, k = inst.G, inst.k
    d = positive_degrees(G)
    rho = np.linalg.eigvalsh(a_bar(G, d))[::-1][:k]
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
    d = positive_degrees(G)
    A = a_bar(G, d)
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
