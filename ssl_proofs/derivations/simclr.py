"""SimCLR: from the paper's cross-entropy to its trace / log-partition and distance forms (notes §3.2).

``Zt`` is the row-normalised embedding (``zt_i = z_i / ||z_i||``), ``d = G 1``,
``D = diag(d)``, ``L = D - G``, ``lse_i = log sum_{k != i} exp(<zt_i, zt_k>/tau)``.

Steps
-----
1-3. trace algebra, valid for any matrix in place of ``Zt`` (checked by the
     prover / exactly): ``sum_ij G_ij <z_i, z_j> = Tr(Z^T G Z) = Tr(Z^T D Z) - Tr(Z^T L Z)``,
     ``sum_i d_i ||z_i||^2 = Tr(Z^T D Z)`` and the Dirichlet energy ``sum_ij G_ij ||z_i - z_j||^2 = 2 Tr(Z^T L Z)``;
4.   unit rows: ``Tr(Zt^T D Zt) = sum_i d_i`` (numeric: needs the normalisation);
5.   the rewrite ``loss = (1/tau) Tr(Zt^T L Zt) - (1/tau) sum_i d_i + sum_i d_i lse_i``;
6.   the distance (MDS-type) form, from ``||zt_i - zt_k||^2 = 2 - 2 <zt_i, zt_k>``:
     ``loss = (1/(2 tau)) sum_ij G_ij ||zt_i - zt_j||^2 + sum_i d_i log sum_{k != i} exp(-||zt_i - zt_k||^2 / (2 tau))``;
7.   Gibbs' inequality: ``loss >= sum_i d_i H(G_i. / d_i)``, equality iff ``Ghat(Z) = D^{-1} G``.

Steps 4-7 involve ``exp``/``log`` of a normalised matrix, which the exact
evaluator does not read; they are checked numerically against an independent
numpy transcription of the paper's listing.
"""
from __future__ import annotations

import numpy as np
import sympy
from scipy.special import logsumexp

from ..derivation import Notation, D, Derivation, G, K, L, N, Step, Z, cond, eq, i, j, k, prose
from ..errors import InvalidArgument
from ..tracealgebra import TraceContext

__all__ = ["VARIANTS", "derivation", "tau", "context", "paper_listing_numpy"]

VARIANTS = ("paper",)

tau = sympy.Symbol("tau", positive=True)
_l = sympy.Symbol("l", integer=True, nonnegative=True)
_Zt = sympy.MatrixSymbol(r"\tilde{Z}", N, K)
_d = sympy.IndexedBase("d")
_ONE = sympy.OneMatrix(N, 1)
_Ghat = sympy.MatrixSymbol(r"\hat{G}", N, N)
_UNIT_ROWS = cond(sympy.Sum(_Zt[i, _l] ** 2, (_l, 0, K - 1)), 1)
_SYMMETRIC_G = cond(G.T, G)


def context() -> Notation:
    """Symbols of the SimCLR derivation: Z (standing for Zt in steps 1-3), G, D, L and the scalar tau."""
    roles = {Z: "embedding", G: "graph", D: "degree", L: "laplacian"}
    trace = TraceContext(symmetric=(L, G, D), late_definitions={L: D - G})
    return Notation((N, K), roles, {}, trace, (tau,))


# -- display expressions (sympy) -------------------------------------------------

def _cos(a, b, M=_Zt):
    return sympy.Sum(M[a, _l] * M[b, _l], (_l, 0, K - 1))


def _lse(M=_Zt):
    return sympy.log(sympy.Sum((1 - sympy.KroneckerDelta(i, k)) * sympy.exp(_cos(i, k, M) / tau), (k, 0, N - 1)))


def _paper_expr():
    return sympy.Sum(G[i, j] * (_lse() - _cos(i, j) / tau), (i, 0, N - 1), (j, 0, N - 1))


def _rewrite_expr():
    return (sympy.Trace(_Zt.T * L * _Zt) / tau - sympy.Sum(_d[i], (i, 0, N - 1)) / tau
            + sympy.Sum(_d[i] * _lse(), (i, 0, N - 1)))


def _dist2(a, b):
    return sympy.Sum((_Zt[a, _l] - _Zt[b, _l]) ** 2, (_l, 0, K - 1))


def _distance_expr():
    part = sympy.log(sympy.Sum((1 - sympy.KroneckerDelta(i, k)) * sympy.exp(-_dist2(i, k) / (2 * tau)),
                               (k, 0, N - 1)))
    return (sympy.Sum(G[i, j] * _dist2(i, j), (i, 0, N - 1), (j, 0, N - 1)) / (2 * tau)
            + sympy.Sum(_d[i] * part, (i, 0, N - 1)))


# -- independent numpy evaluation ----------------------------------------------------

def _unit_rows(Z):
    """Row-normalise; an all-zero row (possible in rounded random instances) becomes e_1."""
    Z = np.array(Z, dtype=float)
    norms = np.linalg.norm(Z, axis=1)
    Z[norms == 0, 0] = 1.0
    return Z / np.linalg.norm(Z, axis=1, keepdims=True)


def _row_lse(S):
    """``logsumexp_{k != i} S_ik`` for every row."""
    off = S.copy()
    np.fill_diagonal(off, -np.inf)
    return logsumexp(off, axis=1)


def paper_listing_numpy(Z, G, tau_value):
    """The paper's PyTorch listing transcribed to numpy (independent of the torch implementation).

    ``Z_renorm = normalize(Z)``; ``cosim = Z_renorm Z_renorm^T / tau``;
    ``loss = sum(G * (logsumexp(off_diag(cosim), 1) - cosim))``.
    """
    Zn = _unit_rows(Z)
    cosim = Zn @ Zn.T / tau_value
    return float(np.sum(G * (_row_lse(cosim)[:, None] - cosim)))


def _rewrite_numpy(Z, G, tau_value):
    Zt = _unit_rows(Z)
    d = G.sum(axis=1)
    lap = np.diag(d) - G
    return float(np.trace(Zt.T @ lap @ Zt) / tau_value - d.sum() / tau_value
                 + d @ _row_lse(Zt @ Zt.T / tau_value))


def _distance_numpy(Z, G, tau_value):
    Zt = _unit_rows(Z)
    d = G.sum(axis=1)
    D2 = np.sum((Zt[:, None, :] - Zt[None, :, :]) ** 2, axis=2)
    return float(np.sum(G * D2) / (2 * tau_value) + d @ _row_lse(-D2 / (2 * tau_value)))


def _entropy_bound(G):
    d = G.sum(axis=1)
    P = np.divide(G, d[:, None], out=np.zeros_like(G), where=d[:, None] > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.where(P > 0, P * np.log(P), 0.0).sum(axis=1)
    return float(d @ ent)


def _scale(inst):
    """Magnitude of the summed terms: sum_i d_i (|lse_i| + 2/tau)."""
    d = inst.G.sum(axis=1)
    t = inst.scalars["tau"]
    return float(d.sum() * (2.0 / t + np.log(max(inst.N, 2)) + 1.0 / t))


def _agree(fa, fb, what):
    def check(inst, rng, tol):
        t = inst.scalars["tau"]
        a, b = fa(inst.Z, inst.G, t), fb(inst.Z, inst.G, t)
        if abs(a - b) > tol * max(1.0, _scale(inst)):
            return f"{what}: {a:.12g} vs {b:.12g}"
        return None
    return check


def _check_unit_trace(inst, rng, tol):
    Zt = _unit_rows(inst.Z)
    d = inst.G.sum(axis=1)
    lhs = float(np.trace(Zt.T @ np.diag(d) @ Zt))
    if abs(lhs - d.sum()) > tol * max(1.0, d.sum()):
        return f"Tr(Zt^T D Zt) = {lhs:.12g} but sum_i d_i = {d.sum():.12g}"
    return None


def _check_gibbs(inst, rng, tol):
    t = inst.scalars["tau"]
    bound = _entropy_bound(inst.G)
    for Z in (inst.Z, rng.normal(size=inst.Z.shape)):
        val = paper_listing_numpy(Z, inst.G, t)
        if val < bound - tol * max(1.0, _scale(inst)):
            return f"loss {val:.12g} below the cross-entropy bound sum_i d_i H(G_i/d_i) = {bound:.12g}"
    return None


#: relative tolerance of the numeric steps: float64 sums of O(N^2) exp/log terms (N <= 7 in the checks)
_NUM_TOL = 1e-11


def _steps():
    dirichlet = sympy.Sum(G[i, j] * sympy.Sum((Z[i, k] - Z[j, k]) ** 2, (k, 0, K - 1)),
                          (i, 0, N - 1), (j, 0, N - 1))
    inner = sympy.Sum(G[i, j] * sympy.Sum(Z[i, k] * Z[j, k], (k, 0, K - 1)), (i, 0, N - 1), (j, 0, N - 1))
    entropy = -sympy.Sum(G[i, j] * sympy.log(G[i, j] / _d[i]), (i, 0, N - 1), (j, 0, N - 1))
    return [
        Step(inner / tau, sympy.Trace(Z.T * G * Z) / tau,
             prose(eq(inner, sympy.Trace(Z.T * G * Z)), " (", Z, " standing for ", _Zt, ": any matrix)")),
        Step(sympy.Trace(Z.T * G * Z), sympy.Trace(Z.T * D * Z) - sympy.Trace(Z.T * L * Z),
             prose("the graph Laplacian ", eq(L, D - G))),
        Step(sympy.Sum(D[i, i] * sympy.Sum(Z[i, k] ** 2, (k, 0, K - 1)), (i, 0, N - 1)),
             sympy.Trace(Z.T * D * Z), prose("the degrees ", eq(D * _ONE, G * _ONE), " weight the squared row norms"),
             (prose(cond(D * _ONE, G * _ONE)),)),
        Step(dirichlet, 2 * sympy.Trace(Z.T * L * Z), prose("Dirichlet energy: expand the square, with ", eq(G.T, G)),
             (prose(_SYMMETRIC_G),)),
        Step(sympy.Trace(_Zt.T * D * _Zt), sympy.Sum(_d[i], (i, 0, N - 1)),
             prose("unit rows: ", cond(sympy.Sum(_d[i] * sympy.Sum(_Zt[i, _l] ** 2, (_l, 0, K - 1)), (i, 0, N - 1)),
                                       sympy.Sum(_d[i], (i, 0, N - 1)))),
             (prose(_UNIT_ROWS),),
             check="numeric", numeric=_check_unit_trace, tol=_NUM_TOL),
        Step(_paper_expr(), _rewrite_expr(),
             prose("split ", cond(sympy.log(_Ghat[i, j]), _cos(i, j) / tau - _lse()), "; ",
                   cond(sympy.Sum(G[i, j] * _cos(i, j), (i, 0, N - 1), (j, 0, N - 1)), sympy.Trace(_Zt.T * G * _Zt)),
                   " = ", sympy.Sum(_d[i], (i, 0, N - 1)) - sympy.Trace(_Zt.T * L * _Zt)),
             (prose(_UNIT_ROWS), prose(_SYMMETRIC_G)),
             note="Same Dirichlet (Laplacian-Eigenmaps) attraction as VICReg; the anti-collapse term is a "
                  "log-partition over all N(N-1) pairs (global).",
             check="numeric", numeric=_agree(paper_listing_numpy, _rewrite_numpy, "listing vs rewrite"),
             tol=_NUM_TOL),
        Step(_rewrite_expr(), _distance_expr(),
             prose(cond(_dist2(i, k), 2 - 2 * _cos(i, k)), ": the ", 1 / tau,
                   " constants cancel (distance / MDS-type form)"),
             (prose(_UNIT_ROWS),),
             note="An SNE-like objective on the sphere: squared distances on edges against a Gaussian-kernel "
                  "log-partition over all pairs.",
             check="numeric", numeric=_agree(_rewrite_numpy, _distance_numpy, "rewrite vs distance form"),
             tol=_NUM_TOL),
        Step(_paper_expr(), entropy,
             prose("Gibbs: the cross-entropy is at least the entropy of the row-normalised ", G,
                   ", with equality if and only if ", cond(_Ghat, D ** -1 * G)),
             note=prose("Equality needs ", cond(_Ghat[i, k], 0), " off the graph, impossible with bounded cosines "
                        "unless ", G, " is a complete graph with equal weights: the bound is not attained, the "
                        "minimum over the compact product of spheres is."),
             check="numeric", numeric=_check_gibbs, tol=_NUM_TOL, relation=r"\geq"),
    ]


def derivation(method, variant="paper") -> Derivation:
    """SimCLR's trace / log-partition and distance rewrites as an (unchecked) :class:`Derivation`.

    Parameters
    ----------
    method : Method
        SimCLR (every derivation receives its method; this one evaluates only numpy references).
    variant : {"paper"}
        Only the paper's form has a derivation.

    Raises
    ------
    InvalidArgument
        For another variant.
    """
    if variant not in VARIANTS:
        raise InvalidArgument(f"SimCLR has a derivation for the paper's form only ({VARIANTS}), not {variant!r}.")
    return Derivation("SimCLR (paper): from the loss to its trace / log-partition and distance forms", tuple(_steps()),
                      context=context())
