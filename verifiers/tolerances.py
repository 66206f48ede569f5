"""Tolerances derived from the problem, each with the reason it is printed with.

``EPS`` is float64 machine precision.  Rounding tolerances scale with the
number of floating-point terms accumulated and their magnitude; tolerances
on eigen-subspaces scale with the inverse eigengap (Davis-Kahan); tolerances
on gradient-descent outcomes scale with the gradient norm L-BFGS stopped at.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from ssl_proofs.spectral import lam

EPS = float(np.finfo(np.float64).eps)

#: L-BFGS stopping rule: max-norm of the gradient
GD_GTOL = 1e-10
#: below this eigengap, subspaces/Gram matrices are not unique enough to compare
MIN_GAP = 1e-6


@dataclass(frozen=True)
class Tol:
    value: float
    reason: str

    def __float__(self):
        return self.value


def rounding(magnitude, n_terms, *, safety=64.0):
    """Rounding error of a float64 sum of ``n_terms`` terms of total size ``magnitude``."""
    return Tol(safety * EPS * max(n_terms, 1) * max(float(magnitude), 1.0),
               f"{safety:g} eps x {int(n_terms)} terms x magnitude {float(magnitude):.2g}")


def subspace(residual, gap):
    """Davis-Kahan sin-theta bound ``||sin Theta|| <= residual / gap`` (doubled for projector norms)."""
    gap = max(float(gap), 1e-300)
    return Tol(2.0 * float(residual) / gap + 1e3 * EPS,
               f"Davis-Kahan: 2 x residual {float(residual):.1e} / eigengap {gap:.2g}")


def descent_loss(loss_scale, grad_norm, n_params, curvature_floor=1e-3):
    """How close L-BFGS's loss can be expected to be to the optimum.

    Near a minimiser with curvature ``mu`` along non-flat directions, stopping at
    gradient ``g`` leaves a loss excess ``<= |g|_2^2 / (2 mu)``; we bound
    ``|g|_2 <= sqrt(n_params) * max-norm`` and ``mu >= curvature_floor``.
    """
    g2 = float(grad_norm) ** 2 * n_params
    base = rounding(loss_scale, n_params)
    return Tol(base.value + g2 / (2 * curvature_floor),
               f"{base.reason} + |grad|^2/(2 mu) with |grad|_max={float(grad_norm):.1e}, mu>={curvature_floor:g}")


def gram(loss_tol, gap):
    """Distance between Gram matrices of two near-optimal points.

    Quadratic growth ``loss(Z) - loss* >= mu ||M - M*||_F^2`` with ``mu >= min(gap, 1)``
    (the eigengap at the selection boundary; 1 when nothing is left out) gives
    ``||M - M*||_F <= sqrt(loss_tol / mu)`` for each point, so twice that between two.
    """
    mu = min(float(gap), 1.0)
    return Tol(2.0 * np.sqrt(float(loss_tol) / mu),
               f"quadratic growth: 2 sqrt(loss tol {float(loss_tol):.1e} / min(eigengap {float(gap):.2g}, 1))")


#: a used direction whose profile switch (the ``x`` of ``Max(0, x)``) is within this of 0 is on the
#: boundary: there the minimum grows quartically in Z (e.g. VICReg with (gamma/alpha) lambda_k = 1,
#: spectral contrastive with rho_k = 0), so quadratic-growth tolerances on descent outcomes do not apply
BOUNDARY_WIDTH = 1e-3


def profile_switches(profile):
    """Expressions in ``lambda`` whose sign switches a profile on or off.

    ``Max(0, x)`` contributes ``x``; a ``Piecewise`` condition ``a > b`` contributes ``a - b``.
    """
    out = []
    for node in sympy.preorder_traversal(profile):
        if isinstance(node, sympy.Max):
            out += [a for a in node.args if a.free_symbols]
        elif isinstance(node, sympy.Piecewise):
            for _, cond in node.args:
                if isinstance(cond, sympy.core.relational.Relational):
                    out.append(cond.lhs - cond.rhs)
    return out


def boundary_distance(problem, eigenvalues):
    """Smallest ``|switch(lambda_j)|`` over the used eigenvalues (``inf`` for a profile without switch)."""
    subs = {sympy.Symbol(str(k), real=True) if isinstance(k, str) else k: v for k, v in problem.hyper.items()}
    best = np.inf
    for expr in profile_switches(problem.profile):
        f = sympy.lambdify(lam, expr.subs(subs), modules="numpy")
        vals = np.broadcast_to(np.asarray(f(np.asarray(eigenvalues, dtype=float)), dtype=float),
                               np.shape(eigenvalues))
        if vals.size:
            best = min(best, float(np.abs(vals).min()))
    return best
