"""BarlowTwins: from the paper's pair-listing loss to its G-form (notes §3.3).

Steps
-----
1. the pair listing ``Z_left = Z[rows], Z_right = Z[cols]`` (rows scaled by
   ``sqrt(G_ij)``) gives the same loss as the G-form of ``C`` (numeric: it
   checks the torch implementation against the formula);
2. ``Z_left^T Z_right = Z^T G Z`` entrywise (exact, symbolic entries);
3. ``||(Z_left)_{., k}||^2 = (Z^T D_G Z)_kk`` (exact);
4. summed diagonal: ``Tr(Z^T G Z) = Tr(Z^T D Z) - Tr(Z^T L Z)`` -- ``C_kk`` is
   ``1 -`` a Laplacian-Eigenmaps Rayleigh quotient (symbolic, trace prover);
5. ``K <= #components``: the top-K generalized eigenvectors of
   ``G u = rho D_G u`` give ``C = I`` and loss 0, the global minimum (numeric);
6. linear regime on the view graph: ``X^T G X = X_1^T X_2 + X_2^T X_1`` and
   ``X^T D X = X_1^T X_1 + X_2^T X_2`` -- tied-weight CCA (exact);
7. regular G: the generalized eigenvectors are the eigenvectors of ``L``
   (``BT recovers VICReg``'s directions) (numeric).
"""
from __future__ import annotations

from functools import partial

import numpy as np
import scipy.linalg as sla
import sympy
from sympy.matrices.expressions.matexpr import MatrixElement

from ..derivation import D, Derivation, G, K, L, N, Step, Z, alpha, cond, eq, i, j, k, l, prose
from ..errors import InvalidArgument
from ..graphs import circulant_graph, laplacian, view_graph
from ..tracealgebra import diag_part, frob2
from .vicreg import DEGREES, ONE, P

__all__ = ["VARIANTS", "derivation", "bt_loss_gform"]

VARIANTS = ("paper",)

_C = sympy.MatrixSymbol("C", K, K)
_Zs = sympy.MatrixSymbol(r"Z^{\star}", N, K)
_U = sympy.MatrixSymbol("U_K", N, K)
# linear regime on the view graph: X stacks the two views X_1, X_2 (n = N/2 rows each, F features)
_F, _n = sympy.Symbol("F", integer=True, positive=True), sympy.Symbol("n", integer=True, positive=True)
_X = sympy.MatrixSymbol("X", N, _F)
_X1, _X2 = sympy.MatrixSymbol("X_1", _n, _F), sympy.MatrixSymbol("X_2", _n, _F)
# symbols the justifications print (never evaluated): the listed pairs, a direction u, its eigenvalue rho
_E = sympy.Symbol("E", integer=True, positive=True)
_Zl, _Zr = sympy.MatrixSymbol(r"Z_{left}", _E, K), sympy.MatrixSymbol(r"Z_{right}", _E, K)
_u = sympy.MatrixSymbol("u", N, 1)
_rho = sympy.Symbol("rho")
_c = sympy.Symbol("c", integer=True, positive=True)
_W = sympy.MatrixSymbol("W", _F, K)
_V = sympy.Symbol("V", integer=True, positive=True)
_e = sympy.Symbol("e", integer=True, nonnegative=True)
_REGULAR = cond(D, P * sympy.Identity(N))


def bt_loss_gform(z, g, a):
    """The loss from the G-form of C (numpy; reference for step 1)."""
    d = g.sum(axis=1)
    nrm = np.sqrt(np.einsum("ik,i,ik->k", z, d, z))
    c = (z.T @ g @ z) / np.outer(nrm, nrm)
    off = c - np.diag(np.diag(c))
    return float(np.sum((np.diag(c) - 1) ** 2) + a * np.sum(off ** 2))


def _check_pair_listing(bt, inst, rng, tol):
    g, z, a = inst.G, inst.Z, inst.scalars["alpha"]
    if np.any(g.sum(axis=1) == 0):
        g = g.copy()
        g[0, 1:] = g[1:, 0] = 1.0   # D_G must be invertible for the G-form
    ours, ref = bt.loss(z, g, alpha=a), bt_loss_gform(z, g, a)
    if abs(ours - ref) > tol * max(1.0, abs(ref)):
        return f"pair-listing loss {ours:.12g} != G-form loss {ref:.12g}"
    return None


def _block_graph(rng, sizes):
    n = int(sum(sizes))
    g = np.zeros((n, n))
    start = 0
    for s in sizes:
        blk = np.triu(rng.choice([1.0, 2.0], size=(s, s)), 1)
        # a path keeps each block connected, random extra edges make degrees irregular
        blk = np.where(np.eye(s, k=1) > 0, blk, blk * (rng.random((s, s)) < 0.4))
        g[start:start + s, start:start + s] = blk + blk.T
        start += s
    return g


def _check_components_optimum(bt, inst, rng, tol):
    kk = inst.K
    c = kk + int(rng.integers(0, 2))
    g = _block_graph(rng, rng.integers(2, 4, size=c))
    sol = bt.solve(g, kk, alpha=inst.scalars["alpha"])
    cmat = bt.cross_correlation(sol.Z, g)
    if np.abs(cmat - np.eye(kk)).max() > tol:
        return f"{c} components, K={kk}: C(Z*) != I (max dev {np.abs(cmat - np.eye(kk)).max():.2e})"
    if abs(sol.loss) > tol:
        return f"loss(Z*) = {sol.loss:.3g} != 0"
    return None


def _check_regular(inst, rng, tol):
    n = max(inst.N, 4)
    offs = rng.choice(np.arange(1, n // 2 + 1), size=int(rng.integers(1, n // 2 + 1)), replace=False)
    g = circulant_graph(n, offs)
    d = g.sum(axis=1)
    rho, u = sla.eigh(g, np.diag(d))
    lap = laplacian(g)
    # every generalized eigenvector is an eigenvector of L with eigenvalue P (1 - rho)
    res = np.abs(lap @ u - u * (d[0] * (1 - rho))[None, :]).max()
    if res > tol * max(1.0, d[0]):
        return f"regular graph: generalized eigenvectors are not eigenvectors of L (residual {res:.2e})"
    return None


def _check_cca(inst, rng, tol):
    n1 = max(inst.N // 2, 2)
    x1, x2 = rng.normal(size=(n1, 3)), rng.normal(size=(n1, 3))
    x, g = np.vstack([x1, x2]), view_graph(n1, 2)
    d = np.diag(g.sum(axis=1))
    e1 = np.abs(x.T @ g @ x - (x1.T @ x2 + x2.T @ x1)).max()
    e2 = np.abs(x.T @ d @ x - (x1.T @ x1 + x2.T @ x2)).max()
    if max(e1, e2) > tol * max(1.0, np.abs(x).max() ** 2 * n1):
        return f"view graph: X^T G X or X^T D X differs from the CCA blocks ({e1:.2e}, {e2:.2e})"
    return None


def _pair_sum(weight_entry, left_col, right_col):
    return sympy.Sum(weight_entry * Z[i, left_col] * Z[j, right_col], (i, 0, N - 1), (j, 0, N - 1))


def derivation(method, variant="paper") -> Derivation:
    """BarlowTwins' G-form as an (unchecked) :class:`Derivation`.

    Raises
    ------
    InvalidArgument
        For an unknown variant.
    """
    if variant not in VARIANTS:
        raise InvalidArgument(f"unknown BarlowTwins variant {variant!r}; use one of {VARIANTS}.")
    cross = sympy.Sum((_pair_sum(G[i, j], k, l) - (Z.T * G * Z)[k, l]) ** 2, (k, 0, K - 1), (l, 0, K - 1))
    norms = sympy.Sum((sympy.Sum(G[i, j] * Z[i, k] ** 2, (i, 0, N - 1), (j, 0, N - 1))
                       - (Z.T * D * Z)[k, k]) ** 2, (k, 0, K - 1))
    loss_c = frob2(diag_part(_C) - sympy.Identity(K)) + alpha * frob2(_C - diag_part(_C))
    steps = (
        Step(sympy.Symbol(r"\mathcal{L}_{BT}(Z_{left}, Z_{right})"), loss_c,
             prose("list the nonzeros of ", G, " as (left, right) rows scaled by ", sympy.sqrt(G[i, j]), "; ", _C,
                   " is the cosine of their columns"),
             (prose("no isolated node (", D, " invertible)"),),
             note=prose(cond(_C, diag_part(Z.T * D * Z) ** sympy.Rational(-1, 2) * Z.T * G * Z
                             * diag_part(Z.T * D * Z) ** sympy.Rational(-1, 2), ":="),
                        "; checks the torch implementation"),
             check="numeric", numeric=partial(_check_pair_listing, method), tol=1e-10),
        Step(cross, sympy.Integer(0), prose(cond(_Zl.T * _Zr, Z.T * G * Z), " entrywise: ",
                                            cond(_pair_sum(G[i, j], k, l), MatrixElement(Z.T * G * Z, k, l)))),
        Step(norms, sympy.Integer(0), prose("column ", k, " of ", _Zl, " has squared norm ",
                                            cond(sympy.Sum(_Zl[_e, k] ** 2, (_e, 0, _E - 1)),
                                                 sympy.Sum(G[i, j] * Z[i, k] ** 2, (i, 0, N - 1), (j, 0, N - 1)))
                                            , " = ", MatrixElement(Z.T * D * Z, k, k)),
             (prose(DEGREES),)),
        Step(sympy.Trace(Z.T * G * Z), sympy.Trace(Z.T * D * Z) - sympy.Trace(Z.T * L * Z),
             prose(eq(L, D - G), ": ", cond(_C[k, k], 1 - MatrixElement(Z.T * L * Z, k, k) / MatrixElement(Z.T * D * Z, k, k)),
                   " (before the normalisation), a Laplacian-Eigenmaps Rayleigh quotient")),
        Step(_Zs, _U, prose(cond(K, _c, r"\le"), ", the number of connected components: the generalized "
                            "eigenvectors with ", cond(_rho, 1), " (component indicators scaled to unit volume) "
                            "give ", cond(_C, sympy.Identity(K)), " and loss 0, the minimum"),
             (prose(cond(K, _c, r"\le"), ", the number of connected components"),),
             note=prose(_U, ": the top-", K, " generalized eigenvectors of ", cond(G * _u, _rho * D * _u), " (",
                        D, "-orthonormal)"),
             check="numeric", numeric=partial(_check_components_optimum, method), tol=1e-9),
        Step(sympy.Tuple(_X.T * G * _X, _X.T * D * _X),
             sympy.Tuple(_X1.T * _X2 + _X2.T * _X1, _X1.T * _X1 + _X2.T * _X2),
             prose("linear regime ", cond(Z, _X * _W), " on the view graph: BarlowTwins' generalized problem is "
                   "tied-weight CCA"),
             (prose(G, " the view graph of ", cond(_V, 2), " views"),), check="numeric", numeric=_check_cca, tol=1e-10),
        Step(sympy.Symbol(r"U_{BT}"), sympy.Symbol(r"U_{L}"),
             prose(G, " regular (", _REGULAR, "): ", cond(G * _u, _rho * D * _u), " if and only if ",
                   cond(L * _u, P * (1 - _rho) * _u), ", so BarlowTwins' directions are VICReg's"),
             (prose(_REGULAR),), check="numeric", numeric=_check_regular, tol=1e-9),
    )
    return Derivation("BarlowTwins (paper): from the loss to its G-form and a generalized eigenproblem", steps)
