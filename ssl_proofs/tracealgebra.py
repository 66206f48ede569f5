"""A small, sound-but-incomplete prover for trace / matrix-polynomial identities.

Both sides of a claimed scalar identity are expanded into a polynomial in
traces of *words* (products of matrix letters, each letter a
:class:`~sympy.MatrixSymbol` or its transpose), with scalar sympy
coefficients.  The context supplies identities that are *true by
assumption* (symmetric letters, rewrite rules such as ``H H -> H`` or
``H L -> L``, definitions such as ``C := Z^T H Z / N``).  Each trace word is
then canonicalised by cyclic rotation and by ``Tr(W) = Tr(W^T)`` (reverse the
word, transpose every letter).  Two sides whose canonical polynomials match
exactly are equal for *all* sizes N, K: every transformation used is an
identity of matrix algebra.

The prover is incomplete: ``prove`` returns ``False`` when it cannot show
equality, which is **not** a refutation.  It deliberately never uses sympy's
matrix calculus (``.diff`` on traces is unreliable, sympy#26585).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Mapping, Tuple

import sympy
from sympy.matrices.expressions.diagonal import DiagonalMatrix
from sympy.matrices.expressions.matexpr import MatrixElement

from .errors import InvalidArgument

__all__ = ["FrobeniusNormSq", "DiagPart", "frob2", "diag_part", "TraceContext", "canonical_form", "prove"]


# -- expression helpers -------------------------------------------------------

class FrobeniusNormSq(sympy.Expr):
    """Unevaluated ``||A||_F^2``; the prover reads it as ``Tr(A^T A)``.

    A separate class keeps the derivation readable (it prints as a norm) and
    sidesteps sympy building ``Trace`` of non-square intermediate products.
    """

    is_commutative = True

    def __new__(cls, A):
        A = sympy.sympify(A)
        if not getattr(A, "is_Matrix", False):
            raise InvalidArgument(f"FrobeniusNormSq needs a matrix expression, got {A!r}.")
        return sympy.Expr.__new__(cls, A)

    @property
    def arg(self):
        return self.args[0]

    def _latex(self, printer):
        return r"\left\| %s \right\|_F^{2}" % printer._print(self.arg)

    def _sympystr(self, printer):
        return "||%s||_F^2" % printer._print(self.arg)


class DiagPart(DiagonalMatrix):
    """``diag(A)``: A with its off-diagonal entries set to zero."""

    def _latex(self, printer):
        return r"\operatorname{diag}\left(%s\right)" % printer._print(self.args[0])


def frob2(A):
    """Squared Frobenius norm ``||A||_F^2`` as an unevaluated expression."""
    return FrobeniusNormSq(A)


def diag_part(A):
    """Diagonal part of the square matrix expression ``A``."""
    return DiagPart(A)


# -- context ------------------------------------------------------------------

@dataclass(frozen=True)
class TraceContext:
    """Identities the prover may use, all stated by the caller.

    Parameters
    ----------
    symmetric : tuple of MatrixSymbol
        Letters with ``X^T = X``.
    rules : tuple of (tuple of MatrixSymbol, tuple of MatrixSymbol)
        Word rewrites ``pattern -> replacement`` (replacement strictly shorter,
        so rewriting terminates).  The transposed rule is added automatically.
    definitions : mapping MatrixSymbol -> matrix expression
        Expanded when an expression is read (e.g. ``C := Z^T H Z / N``).
    late_definitions : mapping MatrixSymbol -> matrix expression
        Expanded only in a second attempt, after the rules had their chance
        (e.g. ``L := D - G`` would otherwise hide ``H L -> L``).
    """

    symmetric: Tuple = ()
    rules: Tuple = ()
    definitions: Mapping = field(default_factory=dict)
    late_definitions: Mapping = field(default_factory=dict)

    def __post_init__(self):
        for pat, rep in self.rules:
            if len(rep) >= len(pat):
                raise InvalidArgument(
                    f"rewrite rule {pat} -> {rep} does not shorten words; the prover needs "
                    "strictly shrinking rules to terminate."
                )


class _Unsupported(Exception):
    """The expression is outside the fragment the prover reads."""


Letter = Tuple[str, bool]          # (symbol name, transposed?)
Word = Tuple[Letter, ...]
MatPoly = Dict[Word, sympy.Expr]    # linear combination of words
Monomial = Tuple[Word, ...]         # sorted product of canonical trace words
TracePoly = Dict[Monomial, sympy.Expr]


def _add(acc, key, c):
    v = acc.get(key, 0) + c
    if v == 0:
        acc.pop(key, None)
    else:
        acc[key] = v


class _Reader:
    """Expands sympy expressions into word polynomials under a context."""

    def __init__(self, ctx: TraceContext, definitions: Mapping):
        self.ctx = ctx
        self.defs = {s.name: d for s, d in definitions.items()}
        self.sym = {s.name for s in ctx.symmetric}
        rules = []
        for pat, rep in ctx.rules:
            p = tuple((s.name, False) for s in pat)
            r = tuple((s.name, False) for s in rep)
            rules.append((self._norm(p), self._norm(r)))
            rules.append((self._transpose(self._norm(p)), self._transpose(self._norm(r))))
        self.rules = rules

    # -- words ------------------------------------------------------------
    def _norm(self, w: Word) -> Word:
        return tuple((n, t and n not in self.sym) for n, t in w)

    def _transpose(self, w: Word) -> Word:
        return self._norm(tuple((n, not t) for n, t in reversed(w)))

    def _rewrite_linear(self, w: Word) -> Word:
        changed = True
        while changed:
            changed = False
            for pat, rep in self.rules:
                for s in range(len(w) - len(pat) + 1):
                    if w[s:s + len(pat)] == pat:
                        w = w[:s] + rep + w[s + len(pat):]
                        changed = True
                        break
        return w

    def _rewrite_cyclic(self, w: Word) -> Word:
        # Tr is invariant under rotation, so a rule may match across the seam.
        changed = True
        while changed and w:
            changed = False
            for r in range(len(w)):
                rot = w[r:] + w[:r]
                new = self._rewrite_linear(rot)
                if new != rot:
                    w, changed = new, True
                    break
        return w

    def _canonical_cyclic(self, w: Word) -> Word:
        w = self._rewrite_cyclic(w)
        if not w:
            return w
        cands = []
        for base in (w, self._transpose(w)):
            cands.extend(base[r:] + base[:r] for r in range(len(base)))
        return min(cands)

    # -- matrices ----------------------------------------------------------
    def matrix(self, e) -> MatPoly:
        if isinstance(e, sympy.MatrixSymbol):
            if e.name in self.defs:
                return self.matrix(self.defs[e.name])
            return {self._norm(((e.name, False),)): sympy.S.One}
        if isinstance(e, sympy.Identity):
            return {(): sympy.S.One}
        if isinstance(e, sympy.ZeroMatrix):
            return {}
        if isinstance(e, sympy.Transpose):
            return {self._transpose(w): c for w, c in self.matrix(e.arg).items()}
        if isinstance(e, sympy.MatAdd):
            acc: MatPoly = {}
            for a in e.args:
                for w, c in self.matrix(a).items():
                    _add(acc, w, c)
            return acc
        if isinstance(e, sympy.MatMul):
            coeff, mats = e.as_coeff_matrices()
            acc = {(): self._constant(coeff)}
            for m in mats:
                acc = self._mul(acc, self.matrix(m))
            return acc
        if isinstance(e, sympy.MatPow):
            exp = e.exp
            if not (exp.is_Integer and exp >= 1):
                raise _Unsupported(f"matrix power {exp}")
            p = self.matrix(e.base)
            acc = p
            for _ in range(int(exp) - 1):
                acc = self._mul(acc, p)
            return acc
        raise _Unsupported(type(e).__name__)

    def _mul(self, a: MatPoly, b: MatPoly) -> MatPoly:
        acc: MatPoly = {}
        for wa, ca in a.items():
            for wb, cb in b.items():
                _add(acc, self._rewrite_linear(wa + wb), ca * cb)
        return acc

    # -- scalars -----------------------------------------------------------
    def _constant(self, e):
        if e.has(sympy.MatrixExpr, MatrixElement, sympy.Trace, FrobeniusNormSq, sympy.Sum):
            raise _Unsupported("matrix inside a scalar coefficient")
        return e

    def scalar(self, e) -> TracePoly:
        if isinstance(e, sympy.Trace):
            return self._trace(e.arg)
        if isinstance(e, FrobeniusNormSq):
            A = e.arg
            return self._trace(sympy.MatMul(sympy.Transpose(A), A))
        if isinstance(e, sympy.Add):
            acc: TracePoly = {}
            for a in e.args:
                for m, c in self.scalar(a).items():
                    _add(acc, m, c)
            return acc
        if isinstance(e, sympy.Mul):
            acc = {(): sympy.S.One}
            for a in e.args:
                acc = self._smul(acc, self.scalar(a))
            return acc
        if isinstance(e, sympy.Pow) and e.base.has(sympy.Trace, FrobeniusNormSq):
            if not (e.exp.is_Integer and e.exp >= 0):
                raise _Unsupported("non-polynomial power of a trace")
            acc = {(): sympy.S.One}
            p = self.scalar(e.base)
            for _ in range(int(e.exp)):
                acc = self._smul(acc, p)
            return acc
        return {(): self._constant(e)}

    def _smul(self, a: TracePoly, b: TracePoly) -> TracePoly:
        acc: TracePoly = {}
        for ma, ca in a.items():
            for mb, cb in b.items():
                _add(acc, tuple(sorted(ma + mb)), ca * cb)
        return acc

    def _trace(self, A) -> TracePoly:
        if not A.is_square:
            raise _Unsupported("trace of a non-square matrix")
        acc: TracePoly = {}
        for w, c in self.matrix(A).items():
            cw = self._canonical_cyclic(w)
            if cw:
                _add(acc, (cw,), c)
            else:  # trace of an identity of the operand's size
                _add(acc, (), c * A.shape[0])
        return acc


def canonical_form(expr, ctx: TraceContext, *, late=False) -> TracePoly:
    """Canonical trace polynomial of a scalar expression.

    Parameters
    ----------
    expr : sympy.Expr
        Scalar built from traces, Frobenius norms, matrix symbols and scalars.
    ctx : TraceContext
    late : bool
        Also expand ``ctx.late_definitions``.

    Returns
    -------
    dict
        ``{monomial: coefficient}``; a monomial is a sorted tuple of canonical
        trace words, each word a tuple of ``(name, transposed)`` letters.

    Raises
    ------
    InvalidArgument
        If the expression is outside the supported fragment.
    """
    defs = dict(ctx.definitions)
    if late:
        defs.update(ctx.late_definitions)
    try:
        poly = _Reader(ctx, defs).scalar(sympy.sympify(expr))
    except _Unsupported as exc:
        raise InvalidArgument(f"the trace prover cannot read this expression ({exc}).") from None
    return {m: c for m, c in poly.items()}


def _same(p: TracePoly, q: TracePoly) -> bool:
    for key in set(p) | set(q):
        d = sympy.cancel(sympy.expand(p.get(key, 0) - q.get(key, 0)))
        if d != 0:
            return False
    return True


def prove(lhs, rhs, ctx: TraceContext) -> bool:
    """Try to prove ``lhs == rhs`` for general sizes.

    Returns
    -------
    bool
        ``True`` if the canonical forms match (a proof, given the context's
        identities); ``False`` if the prover cannot decide or cannot read the
        expressions -- never a refutation.
    """
    for late in (False, True):
        if late and not ctx.late_definitions:
            break
        try:
            if _same(canonical_form(lhs, ctx, late=late), canonical_form(rhs, ctx, late=late)):
                return True
        except InvalidArgument:
            return False
    return False
