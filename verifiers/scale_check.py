"""The gradient-descent cross-check of a closed form at scale, on the GPU when there is one.

:func:`cross_check_at_scale` runs L-BFGS on the method's own loss from a random start until the
loss is within a relative gap ``rel_gap`` of the closed-form optimum's loss, and says what it
reached.  Everything stays on the device: the loss is evaluated from G's edge list (no N x N
tensor is ever built; the peak device memory is reported so a reader can check), and the
optimiser is torch's L-BFGS with a strong-Wolfe line search, so no iterate crosses to the host.
(The small checks use scipy's Fortran L-BFGS-B instead, :func:`ssl_proofs.search.minimise`: on
tiny problems its bookkeeping is cheaper; at 4 million parameters the transfers would dominate.)

The verdict follows the project's rule for optimality claims: descent refutes the closed form only
by a point whose loss is *lower* than the closed form's by more than the tolerance and the margin
(``refuted``); reaching the gap is agreement (``agrees``); stopping above it is ``undecided``,
never a refutation.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from ssl_proofs.errors import InvalidArgument
from ssl_proofs.search import resolve_device

#: L-BFGS iterations between two looks at the gap (one ``LBFGS.step`` call; the history carries over)
CHUNK = 25
#: corrections kept by L-BFGS
HISTORY = 20


@dataclass
class ScaleCheck:
    """Outcome of :func:`cross_check_at_scale`.

    Attributes
    ----------
    verdict : {"agrees", "refuted", "undecided"}
    loss : float            loss of the descent's last iterate
    target : float          loss of the closed form
    gap : float             ``(loss - target) / |target|`` (negative: descent went lower)
    rel_gap : float         the gap asked for
    iterations : int        L-BFGS iterations
    seconds : float         wall-clock time of the descent (device synchronised)
    peak_bytes : int        peak device memory of the descent (CUDA), or 0 on the CPU
    device : str
    trace : list            (iteration, seconds, gap) at every look
    """

    verdict: str
    loss: float
    target: float
    gap: float
    rel_gap: float
    iterations: int
    seconds: float
    peak_bytes: int
    device: str
    trace: list

    def summary(self):
        mem = f", peak {self.peak_bytes / 2**20:.0f} MiB" if self.peak_bytes else ""
        return (f"{self.verdict}: loss {self.loss:.12g} vs closed form {self.target:.12g} "
                f"(relative gap {self.gap:+.2e}, asked {self.rel_gap:.0e}) after {self.iterations} L-BFGS "
                f"iterations, {self.seconds:.2f} s on {self.device}{mem}")


def _sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def cross_check_at_scale(method, G, k, *, variant=None, hyper=None, target=None, rel_gap=1e-6,
                         seed=0, device="auto", max_iter=20000, max_seconds=None,
                         dtype=torch.float64):
    """Descend on ``method``'s loss until it is within ``rel_gap`` of the closed form's loss.

    Parameters
    ----------
    method : Method
    G : (N, N) scipy.sparse matrix or array
        The positive-pair graph; the loss reads its edge list only.
    k : int
        Embedding dimension K.
    variant : str, optional
        A variant with a closed form (default: the method's first).
    hyper : dict, optional
        Hyper-parameters (paper names).
    target : float, optional
        The closed form's loss; computed with ``method.solve`` when not given.
    rel_gap : float
        Stop when ``(loss - target) / |target| <= rel_gap``.
    seed : int
        Seeds the random start (drawn on the CPU, so CPU and GPU runs start at the same point).
    device : {"auto", "cpu", "cuda"}
    max_iter : int
        L-BFGS iteration limit.
    max_seconds : float, optional
        Wall-clock limit (checked every :data:`CHUNK` iterations); reaching it leaves the
        verdict ``undecided`` unless the gap was reached.

    Returns
    -------
    ScaleCheck
    """
    if not (np.isfinite(rel_gap) and 0 < rel_gap < 1):
        raise InvalidArgument(f"rel_gap = {rel_gap!r}: give a relative loss gap in (0, 1), e.g. 1e-6.")
    if max_seconds is not None and not max_seconds > 0:
        raise InvalidArgument(f"max_seconds = {max_seconds!r}: give a positive time limit, or None for none.")
    if int(max_iter) < 1:
        raise InvalidArgument(f"max_iter = {max_iter!r}: give at least one L-BFGS iteration.")
    device = resolve_device(device)
    variant = method.check_variant(variant, closed_form=True)
    hyper = method.check_hyper(variant, dict(hyper or {}))
    if target is None:
        target = method.solve(G, k, variant=variant, **hyper).loss
    target = float(target)
    scale = max(abs(target), np.finfo(float).tiny)
    f = method.objective(G, variant=variant, device=device, dtype=dtype, **hyper)
    n = G.shape[0]
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    Y = torch.randn(n, int(k), generator=gen, dtype=dtype).to(device).requires_grad_(True)
    opt = torch.optim.LBFGS([Y], lr=1, max_iter=CHUNK, max_eval=int(1.25 * CHUNK) + 1, history_size=HISTORY,
                            tolerance_grad=0.0, tolerance_change=0.0, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        val = f(method.feasible(Y, G, variant, hyper))
        val.backward()
        return val

    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    _sync(device)
    start = time.perf_counter()
    trace, iterations, loss = [], 0, np.inf
    while iterations < max_iter:
        opt.step(closure)
        done = opt.state[Y]["n_iter"]
        with torch.no_grad():
            loss = float(f(method.feasible(Y, G, variant, hyper)))
        stalled = done == iterations  # the line search could not move: L-BFGS is finished
        iterations = done
        gap = (loss - target) / scale
        trace.append((iterations, time.perf_counter() - start, gap))
        out_of_time = max_seconds is not None and trace[-1][1] >= max_seconds
        if not np.isfinite(loss) or gap <= rel_gap or stalled or out_of_time:
            break
    _sync(device)
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() if device == "cuda" else 0
    gap = (loss - target) / scale
    # descent refutes only by going lower than the closed form beyond the tolerance, with a margin
    # (10 x rel_gap, as every refutation in the project); a higher stop proves nothing
    if np.isfinite(loss) and gap < -10 * rel_gap:
        verdict = "refuted"
    elif np.isfinite(loss) and gap <= rel_gap:
        verdict = "agrees"
    else:
        verdict = "undecided"
    return ScaleCheck(verdict=verdict, loss=loss, target=target, gap=gap, rel_gap=float(rel_gap),
                      iterations=iterations, seconds=seconds, peak_bytes=int(peak), device=device, trace=trace)
