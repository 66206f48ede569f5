"""Stationarity of a claimed minimiser, with polishing before a non-zero gradient refutes it.

A closed form computed with imprecise numerics (eigenvectors to 1e-7, say) has a gradient far above
the rounding tolerance although the formula is right.  A gradient alone therefore does not refute:
the point is *polished* (a few L-BFGS steps from it, :data:`POLISH_STEPS`), and

* if the polished point keeps the loss within the rounding tolerance and the same Gram matrix
  (``HZZ^TH`` or ``ZZ^T``, gauge-free: compared as matrices, never as bases) within the
  quadratic-growth tolerance, the claim stands: the gradient is reported as imprecision (a
  cross-check, never refuting) next to the two polish measurements that passed;
* otherwise the point is ``not stationary`` (the gradient refutes, by its margin), and the loss the
  polished point reached is a ``lower loss found`` measurement, refuting on its own when it beats
  the claim by the margin (docs/evidence.md, "Kinds of failure").
"""
from __future__ import annotations

import numpy as np

from ssl_proofs.search import polish

from . import tolerances as tols
from .core import LOWER_LOSS, NOT_STATIONARY, Measurement

#: L-BFGS iterations of the polish: enough to converge from a point within ~1e-4 of a minimiser (quadratic
#: model), few enough not to wander to another basin
POLISH_STEPS = 50


def _gram(Z, centred):
    Y = Z - Z.mean(axis=0) if centred else Z
    return Y @ Y.T


def stationarity(method, inst, Z, loss, grad, mag, *, device="cpu", name="stationarity |grad loss|_max"):
    """Measurements of the stationarity of ``Z`` (its gradient ``grad``), polished when the gradient fails.

    Parameters
    ----------
    method, inst : the method and the instance (graph, k, variant, hyper-parameters)
    Z : (N, K) array, the claimed minimiser; ``loss`` its loss; ``grad`` the gradient w.r.t. the free
        parameters at ``Z`` (``checks.gradient``); ``mag`` the loss magnitude of the rounding tolerances.

    Returns
    -------
    list of Measurement
    """
    n, k = inst.G.shape[0], inst.k
    tg = tols.rounding(mag, n * k, safety=256.0)
    gmax = float(np.abs(grad).max())
    if gmax <= tg.value:
        return [Measurement(name, gmax, tg.value, tg.reason, kind=NOT_STATIONARY)]
    hp = method.check_hyper(inst.variant, inst.hyper)
    Zp, lp, gp, steps = polish(method, inst.G, Z, variant=inst.variant, hyper=hp, steps=POLISH_STEPS, device=device,
                               gtol=tols.GD_GTOL)
    tl = tols.rounding(mag, n * k)
    drop = loss - lp if np.isfinite(lp) else 0.0
    M, Mp = _gram(Z, method.translation_invariant), _gram(Zp, method.translation_invariant)
    moved = float(np.linalg.norm(M - Mp) / max(1.0, np.linalg.norm(M)))
    tm = tols.gram(tl.value, 1.0)
    what = f"polished by {steps} L-BFGS step(s) to |grad|_max {gp:.1e}"
    kept = drop <= tl.value and moved <= tm.value
    out = [Measurement(f"{name}" + (f" (imprecision: {what}, same loss and Gram)" if kept else f" ({what})"),
                       gmax, tg.value, tg.reason, crosscheck=kept, kind=NOT_STATIONARY),
           Measurement(f"polish: loss(Z*) = {loss:.10g} vs polished {lp:.10g}", drop, tl.value, tl.reason,
                       kind=LOWER_LOSS),
           Measurement("polish: Gram of Z* vs polished, relative", moved, tm.value, tm.reason,
                       crosscheck=True, kind=NOT_STATIONARY)]
    return out
