"""Verification of a closed form against the lifted loss: stationarity, global search, structure.

Sound in one direction only (docs/evidence.md): a search point with strictly lower loss, beyond
the margin, refutes the closed form; not finding one is evidence.  The closed form's optimality
itself rests on the template's theorem (Eckart--Young, Ky Fan), applied to the exactly fitted form.
"""
from __future__ import annotations

import numpy as np
import torch

from ..methods.base import Method
from ..search import global_minimise
from .identification import TestResult
from .lifting import gradient
from .tolerances import MARGIN_ABS, MARGIN_REL, STATIONARITY


class LiftedMethod(Method):
    """The lifted user loss seen as a (never registered) method, so the project's search can run on it."""

    name = "identify"
    title = "a loss handed to identify"
    variants = ("user",)
    closed_form_variants = ()

    def __init__(self, lifted):
        self.lifted = lifted

    def objective(self, G, *, variant=None, device="cpu", dtype=torch.float64, **hp):
        return self.lifted

    def _loss_torch(self, Z, G, variant, hp):
        return self.lifted(Z)


def margin(loss):
    """How far below ``loss`` a point must be to refute it."""
    return max(MARGIN_ABS, MARGIN_REL * abs(loss))


def stationarity(lifted, Z):
    value, g = gradient(lifted, Z)
    res = float(np.max(np.abs(g)) / max(1.0, abs(value)))
    return value, TestResult("verify.stationarity", res, STATIONARITY, bool(res <= STATIONARITY),
                             "max |grad L(Z*)| / max(1, |L(Z*)|) (autograd)")


def search(lifted, G, k, candidates=(), *, seed=0, rank=None, starts=None):
    """The project's global search (:func:`ssl_proofs.search.global_minimise`) on the lifted loss."""
    return global_minimise(LiftedMethod(lifted), G, k, seed=seed, candidates=candidates, rank=rank, starts=starts)


def verify_closed_form(lifted, G, k, Z, *, seed=0, structure=True, starts=None):
    """Attack ``Z``: stationarity, a global search from it and from random starts, and its rank.

    Returns ``(tests, evidence, search_result)``.
    """
    value, stat = stationarity(lifted, Z)
    sr = search(lifted, G, k, candidates=(Z,), seed=seed, starts=starts)
    gap = value - sr.loss
    m = margin(value)
    tests = [stat, TestResult("verify.search", max(gap, 0.0) / max(1.0, abs(value)), m / max(1.0, abs(value)),
                              bool(gap <= m), f"closed form L* = {value:.10g}; best of the search {sr.loss:.10g}")]
    evidence = [sr.evidence]
    rnd = sr.extra.get("random")
    if rnd is not None:
        evidence.append(f"descent from random starts alone reached {rnd[1]:.10g} (closed form {value:.10g})")
    if structure:
        r = int(np.linalg.matrix_rank(Z, tol=1e-8 * max(1.0, float(np.abs(Z).max()))))
        if r >= 1:
            low = search(lifted, G, k, seed=seed, rank=r - 1, starts=starts)
            higher = low.loss - value
            tests.append(TestResult(
                "verify.rank", 0.0 if higher > m else 1.0, 0.5, bool(higher > m),
                f"two minimisations: rank <= {r - 1} imposed, best {low.loss:.10g} (searched, an upper bound); "
                f"free: {value:.10g} at rank {r} (closed form)"))
            evidence.append(f"rank <= {r - 1}: {low.evidence}")
    return tests, evidence, sr
