"""Gradient-descent cross-check: minimise a method's loss in torch from random starts.

The optimiser is full-batch L-BFGS with strong-Wolfe line search in float64
(``max_iter`` iterations per start, stopping when the gradient's max-norm
falls below ``gtol``).  Constrained variants are optimised through the
method's feasible parametrisation ``Z = method.feasible(Y)`` (e.g. QR onto
``Cov(Z) = I``), so every iterate is feasible.  Runs on the GPU when
``device="cuda"`` (or ``"auto"`` and one is present), else on the CPU.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ssl_proofs.errors import InvalidArgument


def resolve_device(device="auto"):
    """``"auto"`` -> ``"cuda"`` when a GPU is visible, else ``"cpu"``."""
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda"):
        raise InvalidArgument(f"device must be 'cpu', 'cuda' or 'auto', got {device!r}.")
    if device == "cuda" and not torch.cuda.is_available():
        raise InvalidArgument("device='cuda' was requested but torch sees no GPU; use --device cpu or auto.")
    return device


@dataclass
class DescentResult:
    """Best of several L-BFGS runs.

    Attributes
    ----------
    Z : (N, K) ndarray  feasible minimiser found (best start)
    loss : float        its loss
    losses : list       final loss of every start
    grad_norm : float   max-norm of the gradient (w.r.t. the free parameters) at the best start
    iterations : int    L-BFGS iterations used by the best start
    device : str
    """

    Z: np.ndarray
    loss: float
    losses: list
    grad_norm: float
    iterations: int
    device: str


def minimise(method, G, k, *, variant, hyper, starts=3, seed=0, device="auto",
             max_iter=3000, gtol=1e-10, init_scale=1.0, shape=None):
    """Minimise ``method.loss`` over ``Z = method.feasible(Y)`` by L-BFGS from ``starts`` random starts.

    ``Y`` has shape ``(N, k)`` unless ``shape`` says otherwise (e.g. ``(D, k)`` for
    linear weights mapped to ``Z = XW`` by an adapter's ``feasible``).
    """
    device = resolve_device(device)
    f = method.objective(G, variant=variant, device=device, **hyper)
    n, k = shape if shape is not None else (G.shape[0], k)
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    best = None
    losses = []
    for _ in range(starts):
        Y0 = init_scale * torch.randn(n, k, generator=gen, dtype=torch.float64)
        Y = Y0.to(device).requires_grad_(True)
        opt = torch.optim.LBFGS([Y], lr=1, max_iter=max_iter, tolerance_grad=gtol,
                                tolerance_change=0.0, history_size=50, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            val = f(method.feasible(Y, G, variant, hyper))
            val.backward()
            return val

        opt.step(closure)
        with torch.no_grad():
            Z = method.feasible(Y, G, variant, hyper)
            val = float(f(Z))
        opt.zero_grad()
        grad_val = f(method.feasible(Y, G, variant, hyper))
        grad_val.backward()
        gnorm = float(Y.grad.abs().max())
        iters = int(opt.state[opt._params[0]].get("n_iter", 0))
        losses.append(val)
        if best is None or val < best[1]:
            best = (Z.detach().cpu().numpy(), val, gnorm, iters)
    return DescentResult(Z=best[0], loss=best[1], losses=losses, grad_norm=best[2],
                         iterations=best[3], device=device)
