"""Spectral contrastive loss: population form -> matrix factorisation -> Eckart--Young.

Steps
-----
1. the torch implementation equals the population formula
   ``-(2/S) sum_ij G_ij z_i^T z_j + (1/S^2) sum_ij d_i d_j (z_i^T z_j)^2`` (numeric);
2. that formula is ``-(2/S) Tr(Z^T G Z) + (1/S^2) ||Z^T D Z||_F^2`` with
   ``S = Tr(D)`` (exact, symbolic entries);
3. = ``||A_bar - F F^T||_F^2 - ||A_bar||_F^2``, ``F = D^{1/2} Z / sqrt(S)``
   (HaoChen et al. Lemma 3.2; numeric: ``D^{1/2}`` is outside the exact evaluator);
4. reachability: ``Z -> F F^T`` reaches every PSD matrix of rank <= K;
5. Eckart--Young (cited lemma, checked numerically): ``Z* = sqrt(S) D^{-1/2} U_K diag(sqrt(rho_+))`` and
   ``min L = -sum_k (rho_k)_+^2`` (numeric, against random competitors).
"""
from __future__ import annotations

from functools import partial

import numpy as np
import sympy

from ..derivation import D, Derivation, G, K, N, Step, Z, cond, eq, i, j, k, prose
from ..errors import InvalidArgument
from ..tracealgebra import frob2
from .vicreg import EY_LEMMA

__all__ = ["VARIANTS", "derivation", "population_formula"]

VARIANTS = ("population",)

# symbols the justifications print (never evaluated)
_Abar = sympy.MatrixSymbol(r"\bar{A}", N, N)
_F = sympy.MatrixSymbol("F", N, K)
_V = sympy.MatrixSymbol("V", N, K)
_Lam = sympy.MatrixSymbol(r"\Lambda", K, K)
_rho = sympy.IndexedBase("rho")
_S = sympy.Symbol("S", positive=True)
_NO_ISOLATED = prose("no isolated node (", D, " invertible)")


def population_formula(z, g):
    """``-(2/S) sum G_ij z_i.z_j + (1/S^2) sum d_i d_j (z_i.z_j)^2`` (numpy)."""
    d = g.sum(axis=1)
    s = d.sum()
    gram = z @ z.T
    return float(-2 / s * np.sum(g * gram) + np.sum(np.outer(d, d) * gram ** 2) / s ** 2)


def _connected(g):
    g = g.copy()
    if np.any(g.sum(axis=1) == 0):
        n = g.shape[0]
        idx = np.arange(n - 1)
        g[idx, idx + 1] = g[idx + 1, idx] = np.maximum(g[idx, idx + 1], 1.0)
    return g


def _check_implementation(sc, inst, rng, tol):
    g = _connected(inst.G)
    ours, ref = sc.loss(inst.Z, g), population_formula(inst.Z, g)
    if abs(ours - ref) > tol * max(1.0, abs(ref)):
        return f"torch loss {ours:.12g} != population formula {ref:.12g}"
    return None


def _check_factorisation(inst, rng, tol):
    g, z = _connected(inst.G), inst.Z
    d = g.sum(axis=1)
    s = d.sum()
    a_bar = g / np.sqrt(np.outer(d, d))
    f = np.sqrt(d / s)[:, None] * z
    lhs = population_formula(z, g)
    rhs = float(np.sum((a_bar - f @ f.T) ** 2) - np.sum(a_bar ** 2))
    if abs(lhs - rhs) > tol * (1.0 + abs(lhs) + np.sum(a_bar ** 2)):
        return f"population form {lhs:.12g} != ||A_bar - FF^T||^2 - ||A_bar||^2 = {rhs:.12g}"
    return None


def _check_reachability(inst, rng, tol):
    """Z -> F = D^{1/2} Z / sqrt(S) is a bijection of N x K matrices (no isolated node), and F -> FF^T maps
    onto the PSD matrices of rank <= K (F = V Lambda^{1/2}): the loss over Z is ||A_bar - M||^2 - const
    over exactly that set."""
    g, kk = _connected(inst.G), inst.K
    n = g.shape[0]
    d = g.sum(axis=1)
    s = d.sum()
    r = int(rng.integers(0, kk + 1))
    v = np.linalg.qr(rng.normal(size=(n, r)))[0] if r else np.zeros((n, 0))
    target = v @ np.diag(rng.uniform(0.1, 3.0, size=r)) @ v.T
    w, e = np.linalg.eigh(target)
    keep = w > tol * max(1.0, float(w.max(initial=0.0)))
    f = np.zeros((n, kk))
    f[:, : int(keep.sum())] = e[:, keep] * np.sqrt(w[keep])[None, :]
    z = np.sqrt(s) * f / np.sqrt(d)[:, None]            # the inverse map
    f_back = np.sqrt(d / s)[:, None] * z
    if np.abs(f_back @ f_back.T - target).max() > tol * max(1.0, float(np.abs(target).max())):
        return f"the PSD rank-{r} matrix is not reached by F = D^(1/2) Z / sqrt(S)"
    return None


def _check_eckart_young(sc, inst, rng, tol):
    """Z* built from the solver's own problem (profile, scale, row weights) on an independent eigh."""
    g, kk = _connected(inst.G), inst.K
    d = g.sum(axis=1)
    prob = sc.spectral_problem(g, kk)
    rho, u = np.linalg.eigh(g / np.sqrt(np.outer(d, d)))
    rho, u = rho[::-1][:kk], u[:, ::-1][:, :kk]
    q, _ = np.linalg.qr(rng.normal(size=(kk, kk)))
    z = prob.scale * prob.row_weights[:, None] * u * prob.profile_values(rho)[None, :] @ q.T
    best = -float(np.sum(np.clip(rho, 0, None) ** 2))       # Eckart-Young value, from the eigenvalues alone
    val = population_formula(z, g)
    if abs(val - best) > tol * (1 + abs(best)):
        return f"L(Z*) = {val:.12g} != -sum rho_+^2 = {best:.12g}"
    s = d.sum()
    for t in range(20):
        y = rng.normal(size=z.shape) * np.sqrt(s / g.shape[0]) if t < 10 else z + 0.1 * rng.normal(size=z.shape)
        if population_formula(y, g) < best - tol * (1 + abs(best)):
            return "a random Z beats the Eckart-Young value"
    return None


def derivation(method, variant="population") -> Derivation:
    """The spectral contrastive loss's spectral rewrite (unchecked :class:`Derivation`).

    Raises
    ------
    InvalidArgument
        For an unknown variant.
    """
    if variant not in VARIANTS:
        raise InvalidArgument(f"unknown spectral contrastive variant {variant!r}; use one of {VARIANTS}.")
    S = sympy.Trace(D)
    zz = sympy.Sum(Z[i, k] * Z[j, k], (k, 0, K - 1))
    entry = (-2 / S * sympy.Sum(G[i, j] * zz, (i, 0, N - 1), (j, 0, N - 1))
             + sympy.Sum(D[i, i] * D[j, j] * zz ** 2, (i, 0, N - 1), (j, 0, N - 1)) / S ** 2)
    trace_form = -2 / S * sympy.Trace(Z.T * G * Z) + frob2(Z.T * D * Z) / S ** 2
    steps = (
        Step(sympy.Symbol(r"\mathcal{L}_{SC}(Z)"), entry,
             prose("the expectation over pairs drawn with probability ", G[i, j] / _S, " and over independent ",
                   "samples drawn with probability ", sympy.Indexed(sympy.IndexedBase("d"), i) / _S,
                   " (HaoChen eq. 3 on ", G, "), ", cond(_S, S)),
             (_NO_ISOLATED,), check="numeric", numeric=partial(_check_implementation, method), tol=1e-10),
        Step(entry, trace_form, prose(eq(sympy.Sum(G[i, j] * zz, (i, 0, N - 1), (j, 0, N - 1)), sympy.Trace(Z.T * G * Z)),
                                      "; ", eq(sympy.Sum(D[i, i] * D[j, j] * zz ** 2, (i, 0, N - 1), (j, 0, N - 1)),
                                               frob2(Z.T * D * Z)))),
        Step(trace_form, sympy.Symbol(r"\|\bar{A} - F F^T\|_F^2 - \|\bar{A}\|_F^2"),
             prose(cond(_Abar, D ** sympy.Rational(-1, 2) * G * D ** sympy.Rational(-1, 2), ":="), ", ",
                   cond(_F, D ** sympy.Rational(1, 2) * Z / sympy.sqrt(_S), ":="), " (HaoChen Lemma 3.2)"),
             check="numeric", numeric=_check_factorisation, tol=1e-10),
        Step(sympy.Symbol(r"\{F F^T\}"), sympy.Symbol(r"\{M \succeq 0 : \mathrm{rank} M \le K\}"),
             prose("reachability: ", cond(Z, D ** sympy.Rational(1, 2) * Z / sympy.sqrt(_S), r"\mapsto"),
                   " is invertible (no isolated node) and ", cond(_F, _F * _F.T, r"\mapsto"),
                   " maps onto the PSD matrices of rank at most ", K, " (", cond(_F, _V * _Lam ** sympy.Rational(1, 2)),
                   ")"),
             (_NO_ISOLATED,), check="numeric", numeric=_check_reachability, tol=1e-9),
        Step(sympy.MatrixSymbol(r"Z^{\star}", N, K), sympy.Symbol(r"\sqrt{S} D^{-1/2} U_K \Sigma_+^{1/2} R^T"),
             prose("Eckart–Young on the dense target ", _Abar, ": its top-", K, " eigenpairs, ",
                   cond(sympy.Symbol(r"\min \mathcal{L}"), -sympy.Sum(sympy.Max(0, _rho[k]) ** 2, (k, 1, K))),
                   " (profile, scale and row weights evaluated from the solver's spectral problem)"),
             note=prose(_Abar, ", ", _F, ": see step 3"), check="numeric", numeric=partial(_check_eckart_young, method), tol=1e-9, cite=EY_LEMMA),
    )
    return Derivation(prose("Spectral contrastive (population): from the loss to Eckart–Young on ", _Abar), steps)
