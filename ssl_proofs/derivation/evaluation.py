"""Evaluate derivation expressions: floats on a :class:`~.samples.Sample` (numpy), or exactly with
symbolic entries (sympy), one tree walk with two backends; and rebuild stored expressions."""
from __future__ import annotations

import numpy as np
import sympy
from sympy.matrices.expressions.diagonal import DiagonalMatrix
from sympy.matrices.expressions.matexpr import MatrixElement

from ..errors import InvalidArgument
from ..graphs import centering, laplacian
from ..tracealgebra import DiagPart, FrobeniusNormSq
from .notation import Notation
from .samples import Sample


class _Np:
    """numpy backend of :func:`evaluate`."""

    exact = False

    @staticmethod
    def eye(n):
        return np.eye(n)

    @staticmethod
    def zeros(r, c):
        return np.zeros((r, c))

    @staticmethod
    def ones(r, c):
        return np.ones((r, c))

    @staticmethod
    def number(x):
        return float(x)

    @staticmethod
    def matmul(a, b):
        if np.ndim(a) == 0 or np.ndim(b) == 0:
            return a * b
        return a @ b

    @staticmethod
    def T(a):
        return a.T

    @staticmethod
    def trace(a):
        return float(np.trace(a))

    @staticmethod
    def frob2(a):
        return float(np.sum(np.asarray(a) ** 2))

    @staticmethod
    def diag(a):
        return np.diag(np.diag(a))

    @staticmethod
    def max(*xs):
        return max(float(x) for x in xs)

    @staticmethod
    def min(*xs):
        return min(float(x) for x in xs)

    @staticmethod
    def pow(b, e):
        return np.linalg.matrix_power(b, int(e)) if np.ndim(b) == 2 else float(b) ** float(e)


class _Sy:
    """Exact sympy backend of :func:`evaluate` (explicit matrices)."""

    exact = True

    @staticmethod
    def eye(n):
        return sympy.eye(n)

    @staticmethod
    def zeros(r, c):
        return sympy.zeros(r, c)

    @staticmethod
    def ones(r, c):
        return sympy.ones(r, c)

    @staticmethod
    def number(x):
        return x

    @staticmethod
    def matmul(a, b):
        return a * b

    @staticmethod
    def T(a):
        return a.T

    @staticmethod
    def trace(a):
        return a.trace()

    @staticmethod
    def frob2(a):
        return sympy.Add(*[x ** 2 for x in a])

    @staticmethod
    def diag(a):
        return sympy.diag(*[a[t, t] for t in range(a.rows)])

    @staticmethod
    def max(*xs):
        return sympy.Max(*xs)

    @staticmethod
    def min(*xs):
        return sympy.Min(*xs)

    @staticmethod
    def pow(b, e):
        return b ** e


class Unreadable(Exception):
    """The evaluator does not know this node type."""


def _ev(e, env, B, defs):
    if e in env:
        return env[e]
    if isinstance(e, sympy.MatrixSymbol):
        if e in defs:
            env[e] = _ev(defs[e], env, B, defs)  # cache: definitions are reused
            return env[e]
        raise Unreadable(f"no value for matrix symbol {e}")
    if isinstance(e, sympy.Identity):
        return B.eye(int(_ev(e.rows, env, B, defs)))
    if isinstance(e, sympy.ZeroMatrix):
        return B.zeros(int(_ev(e.rows, env, B, defs)), int(_ev(e.cols, env, B, defs)))
    if isinstance(e, sympy.OneMatrix):
        return B.ones(int(_ev(e.rows, env, B, defs)), int(_ev(e.cols, env, B, defs)))
    if isinstance(e, sympy.Transpose):
        return B.T(_ev(e.arg, env, B, defs))
    if isinstance(e, sympy.MatAdd):
        vals = [_ev(a, env, B, defs) for a in e.args]
        out = vals[0]
        for v in vals[1:]:
            out = out + v
        return out
    if isinstance(e, sympy.MatMul):
        coeff, mats = e.as_coeff_matrices()
        out = _ev(mats[0], env, B, defs)
        for m in mats[1:]:
            out = B.matmul(out, _ev(m, env, B, defs))
        return out * _ev(coeff, env, B, defs)
    if isinstance(e, sympy.MatPow):
        return B.pow(_ev(e.base, env, B, defs), int(e.exp))
    if isinstance(e, DiagonalMatrix):
        return B.diag(_ev(e.args[0], env, B, defs))
    if isinstance(e, sympy.Trace):
        return B.trace(_ev(e.arg, env, B, defs))
    if isinstance(e, FrobeniusNormSq):
        return B.frob2(_ev(e.arg, env, B, defs))
    if isinstance(e, MatrixElement):
        m = _ev(e.parent, env, B, defs)
        return m[int(_ev(e.i, env, B, defs)), int(_ev(e.j, env, B, defs))]
    if isinstance(e, sympy.Sum):
        return _ev_sum(e.function, list(e.limits), env, B, defs)
    if isinstance(e, sympy.KroneckerDelta):
        a, b = (_ev(x, env, B, defs) for x in e.args)
        return B.number(sympy.S.One if a == b else sympy.S.Zero)
    if isinstance(e, sympy.Add):
        vals = [_ev(a, env, B, defs) for a in e.args]
        return sum(vals[1:], vals[0])
    if isinstance(e, sympy.Mul):
        out = _ev(e.args[0], env, B, defs)
        for a in e.args[1:]:
            out = out * _ev(a, env, B, defs)
        return out
    if isinstance(e, sympy.Pow):
        return B.pow(_ev(e.base, env, B, defs), _ev(e.exp, env, B, defs))
    if isinstance(e, sympy.Max):
        return B.max(*[_ev(a, env, B, defs) for a in e.args])
    if isinstance(e, sympy.Min):
        return B.min(*[_ev(a, env, B, defs) for a in e.args])
    if isinstance(e, sympy.Number):
        return B.number(e)
    if isinstance(e, sympy.Symbol):
        if B.exact:
            return e  # hyper-parameters stay symbolic in the exact check
        raise Unreadable(f"no value for symbol {e}")
    raise Unreadable(type(e).__name__)


def _ev_sum(f, limits, env, B, defs):
    var, lo, hi = limits[0]
    lo, hi = int(_ev(lo, env, B, defs)), int(_ev(hi, env, B, defs))
    total = B.number(sympy.S.Zero)
    for t in range(lo, hi + 1):
        inner = dict(env)
        inner[var] = B.number(sympy.Integer(t))
        total = total + (_ev_sum(f, limits[1:], inner, B, defs) if len(limits) > 1 else _ev(f, inner, B, defs))
    return total


def _numeric_env(ctx: Notation, inst: Sample):
    n_sym, k_sym = ctx.sizes
    env = {n_sym: float(inst.N), k_sym: float(inst.K)}
    g = inst.G
    d = np.diag(g.sum(axis=1))
    values = {"embedding": inst.Z, "graph": g, "degree": d, "laplacian": laplacian(g), "centering": centering(inst.N)}
    for s, r in ctx.roles.items():
        env[s] = values[r]
    for s in ctx.scalars:
        env[s] = inst.scalars[str(s)]
    return env


def _exact_env(ctx: Notation, n: int, kk: int):
    n_sym, k_sym = ctx.sizes
    env = {n_sym: sympy.Integer(n), k_sym: sympy.Integer(kk)}
    g = sympy.zeros(n, n)
    for a in range(n):
        for b in range(a + 1, n):
            g[a, b] = g[b, a] = sympy.Symbol(f"g_{a}{b}")
    z = sympy.Matrix(n, kk, lambda a, b: sympy.Symbol(f"z_{a}{b}"))
    d = sympy.diag(*[sum(g.row(a)) for a in range(n)])
    h = sympy.eye(n) - sympy.ones(n, n) / n
    values = {"embedding": z, "graph": g, "degree": d, "laplacian": d - g, "centering": h}
    for s, r in ctx.roles.items():
        env[s] = values[r]
    return env


def evaluate(expr, ctx: Notation, inst: Sample):
    """Evaluate a scalar expression on a float instance (numpy).

    Raises
    ------
    InvalidArgument
        If the expression uses a node the evaluator does not support.
    """
    try:
        return float(_ev(sympy.sympify(expr), _numeric_env(ctx, inst), _Np, ctx.definitions))
    except Unreadable as exc:
        raise InvalidArgument(f"cannot evaluate {expr} numerically ({exc}).") from None


def evaluate_value(expr, ctx: Notation, inst: Sample):
    """Evaluate a scalar (float) or matrix (2-d array) expression on a float instance (numpy).

    Raises
    ------
    InvalidArgument
        If the expression uses a node or symbol the evaluator does not know.
    """
    try:
        value = _ev(sympy.sympify(expr), _numeric_env(ctx, inst), _Np, ctx.definitions)
    except Unreadable as exc:
        raise InvalidArgument(f"cannot evaluate {expr} numerically ({exc}).") from None
    return np.asarray(value, dtype=float) if np.ndim(value) else float(value)


def exact_difference(lhs, rhs, ctx: Notation, n: int, kk: int):
    """``expand(lhs - rhs)`` with fully symbolic entries at sizes ``N = n``, ``K = kk``.

    Raises
    ------
    Unreadable
        If an expression uses a node the evaluator does not support.
    """
    env = _exact_env(ctx, n, kk)
    return sympy.expand(_ev(lhs, dict(env), _Sy, ctx.definitions) - _ev(rhs, dict(env), _Sy, ctx.definitions))


def from_srepr(text: str):
    """Rebuild an expression from the ``srepr`` stored by ``render("json")``.

    Only for trusted text (it is evaluated in a sympy namespace).
    """
    if not isinstance(text, str):
        raise InvalidArgument(f"from_srepr needs a string, got {type(text).__name__}.")
    ns = dict(vars(sympy))
    ns.update(Str=sympy.core.symbol.Str, MatrixElement=MatrixElement,
              FrobeniusNormSq=FrobeniusNormSq, DiagPart=DiagPart)
    return eval(text, {"__builtins__": {}}, ns)  # noqa: S307 - srepr is Python by design
