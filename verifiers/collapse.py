"""Claim check for methods without a closed form whose loss has a proved minimum (SimSiam / BYOL).

Kinds registered here:

``collapse_rank``  "rank ``params["predict"](G, K)`` is enough and no lower rank is" as two
                   minimisations each way (:func:`ssl_proofs_verifiers.checks.rank_by_two_minimisations`):
                   the free best vs the best with ``Z = A B^T`` (inner dimension = the prediction),
                   and the best with one dimension less vs the proved minimum
                   ``params["minimum"](G, K)``.  No closed form is used: the searches start from
                   random points, the free optimum's truncations and the full collapse ``1 v^T``.
``minimiser_rank_bound``  "every global minimiser has rank <= ``params["bound"](G, K)``": the best point
                   of rank exactly K > bound (orthonormal columns) vs the proved minimum.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ssl_proofs.search import global_minimise

from . import tolerances as tols
from .checks import Inapplicable, Measurement, Reparametrised, claim, rank_by_two_minimisations

#: L-BFGS iterations per start: these losses are bounded in [-1, 1] and smooth away from zero rows
MAX_ITER = 500


@claim("collapse_rank", params={"predict": Callable, "minimum": Callable})
def check_collapse_rank(theorem, method, inst, ctx):
    """Both directions of ``rank = predict(G, K)``; the lower one against the proved minimum."""
    G, k = inst.G, inst.k
    predicted = int(theorem.params["predict"](G, k))
    minimum = float(theorem.params["minimum"](G, k))
    # the loss is a weighted mean of cosines: |L| <= 1, so rounding is relative to 1. Every search also starts at
    # the full collapse 1 v^T: rank-constrained L-BFGS cannot flip a row's sign through zero, and from random
    # starts it stalled at a sign pattern (soak, seed 2: C5, K = 2, rank 1 at -0.6 "beaten" by a free -0.809,
    # while the collapse reaches the proved minimum -1)
    out, free = rank_by_two_minimisations(method, inst, ctx, predicted, mag=1.0, minimum=minimum,
                                          candidates=(np.ones((G.shape[0], k)),), max_iter=MAX_ITER,
                                          what="rank(Z*)")
    sv = np.linalg.svd(free.Z, compute_uv=False)
    out.append(Measurement(f"cross-check: best loss found without the constraint {free.loss:.6g} vs the proved "
                           f"minimum {minimum:.6g} (singular values of that point {np.round(sv, 3).tolist()})",
                           abs(free.loss - minimum), 1e-6, "descent reaches the proved minimum", crosscheck=True))
    return out


def _orthonormal_columns(Y):
    """``Z = sqrt(N) Q``, ``Q`` = orth(Y): rank exactly K (all singular values sqrt(N)); signs fixed so the map is smooth."""
    Q, R = torch.linalg.qr(Y)
    Q = Q * torch.sign(torch.diagonal(R)).unsqueeze(0)
    return Q * np.sqrt(Y.shape[0])


@claim("minimiser_rank_bound", params={"bound": Callable, "minimum": Callable})
def check_minimiser_rank_bound(theorem, method, inst, ctx):
    """"Every global minimiser has rank <= ``params["bound"](G, K)``" against the proved minimum.

    For ``K > bound`` the loss is minimised over ``Z`` with orthonormal columns (times sqrt(N)), i.e. over
    points of rank exactly ``K``; the claim is refuted when that structured best reaches the proved minimum
    ``params["minimum"](G, K)`` (a minimiser of rank K > bound, both losses named).  A structured best above
    the minimum is no proof that none exists (the search is an upper bound): then the claim stands, as
    every "holds" does.  ``K <= bound``: outside the claim's reach (Inapplicable).
    """
    G, k = inst.G, inst.k
    bound = int(theorem.params["bound"](G, k))
    if k <= bound:
        raise Inapplicable(f"K = {k} <= bound {bound}: no rank above the bound fits in K columns")
    if k > G.shape[0]:
        raise Inapplicable(f"K = {k} > N = {G.shape[0]}: no N x K matrix has rank K")
    minimum = float(theorem.params["minimum"](G, k))
    hp = method.check_hyper(inst.variant, inst.hyper)
    con = global_minimise(Reparametrised(method, _orthonormal_columns), G, k, variant=inst.variant, hyper=hp,
                          starts=max(ctx.starts, 4), seed=ctx.seed, device=ctx.device, shape=(G.shape[0], k),
                          max_iter=MAX_ITER, gtol=tols.GD_GTOL, bound=minimum)  # the proved minimum bounds every Z
    t = tols.rounding(1.0, G.shape[0] * k)
    reached = con.loss - minimum <= t.value
    return [Measurement(
        f"rank(Z*) <= {bound} for every minimiser: best loss with rank exactly {k} (orthonormal columns) "
        f"{con.loss:.6g} vs proved minimum {minimum:.6g}" + (" (reached: a minimiser of rank K)" if reached else ""),
        float(reached), 0.0, f"reached = within {t.value:.2g} ({t.reason}); {con.evidence}")]
