"""Derivations as data: ordered equalities between sympy expressions, each checked.

A :class:`Step` claims ``lhs == rhs`` for sympy expressions built from the
standard symbols of this module (``Z`` (N x K), ``G``, ``D``, ``L``, ``H``,
``M`` (N x N), ``C`` (K x K), the scalars ``alpha, beta, gamma`` and the
symbolic sizes ``N, K``).  :meth:`Derivation.check` fills every step's
:class:`~ssl_proofs.evidence.Evidence` with the strongest level reached:

``symbolic``  the trace prover (:mod:`ssl_proofs.tracealgebra`) matched the
              canonical forms -- valid for general N, K;
``exact``     ``expand(lhs - rhs) == 0`` with fully symbolic entries for
              every size ``2 <= N <= n``, ``1 <= K <= 2``;
``numeric``   random instances agree to a stated float64 tolerance.

The numeric check **always** runs, even after a symbolic proof: a numeric
disagreement refutes the step whatever the prover said (a prover bug must not
be able to certify a false step).  Steps that are not equalities (an argmin,
an optimality claim) use ``check="numeric"`` with a custom function.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping, Optional, Tuple

import numpy as np
import sympy
from sympy.matrices.expressions.diagonal import DiagonalMatrix
from sympy.matrices.expressions.matexpr import MatrixElement

from .errors import InvalidArgument
from .evidence import Evidence
from .graphs import centering, laplacian
from .tracealgebra import DiagPart, FrobeniusNormSq, TraceContext, prove

__all__ = [
    "N", "K", "Z", "G", "D", "L", "H", "M", "C", "alpha", "beta", "gamma", "i", "j", "k", "l",
    "Context", "standard_context", "Instance", "random_instance",
    "Step", "Derivation", "check_step", "evaluate", "from_srepr", "FORMATS",
]

# -- the standard symbols -------------------------------------------------------
N, K = sympy.symbols("N K", positive=True, integer=True)
Z = sympy.MatrixSymbol("Z", N, K)
G = sympy.MatrixSymbol("G", N, N)
D = sympy.MatrixSymbol("D", N, N)
L = sympy.MatrixSymbol("L", N, N)
H = sympy.MatrixSymbol("H", N, N)
M = sympy.MatrixSymbol("M", N, N)
C = sympy.MatrixSymbol("C", K, K)
alpha, beta, gamma = sympy.symbols("alpha beta gamma", positive=True)
i, j, k, l = sympy.symbols("i j k l", integer=True, nonnegative=True)

ROLES = ("embedding", "graph", "degree", "laplacian", "centering")
FORMATS = ("md", "tex", "json", "text")


@dataclass(frozen=True)
class Context:
    """What the symbols of a derivation mean.

    Parameters
    ----------
    sizes : (Symbol, Symbol)
        The symbolic sizes ``(N, K)``.
    roles : mapping MatrixSymbol -> str
        How to build a concrete value: ``"embedding"`` (free N x K),
        ``"graph"`` (symmetric, non-negative, zero diagonal), ``"degree"``
        (``diag(G 1)``), ``"laplacian"`` (``D - G``), ``"centering"``.
    definitions : mapping MatrixSymbol -> matrix expression
        Derived symbols (``C := Z^T H Z / N``...), used by every check.
    trace : TraceContext
        Identities the symbolic prover may use; each must be true for the
        concrete values built from ``roles`` (they are, for the standard one).
    scalars : tuple of Symbol
        Positive hyper-parameters, drawn at random in numeric checks.
    """

    sizes: Tuple = (N, K)
    roles: Mapping = field(default_factory=dict)
    definitions: Mapping = field(default_factory=dict)
    trace: TraceContext = field(default_factory=TraceContext)
    scalars: Tuple = ()

    def __post_init__(self):
        for s, r in self.roles.items():
            if r not in ROLES:
                raise InvalidArgument(f"role of {s} must be one of {ROLES}, got {r!r}.")


def standard_context() -> Context:
    """The VICReg / spectral-embedding context (notes §1).

    ``H H = H``, ``H L = L`` (``L 1 = 0``), symmetric ``H, L, G, D, M``,
    ``C := Z^T H Z / N``, ``M := H Z Z^T H / N`` and, as a late definition,
    ``L := D - G``.
    """
    roles = {Z: "embedding", G: "graph", D: "degree", L: "laplacian", H: "centering"}
    defs = {C: Z.T * H * Z / N, M: H * Z * Z.T * H / N}
    trace = TraceContext(
        symmetric=(H, L, G, D),
        rules=(((H, H), (H,)), ((H, L), (L,))),
        definitions=defs,
        late_definitions={L: D - G},
    )
    return Context((N, K), roles, defs, trace, (alpha, beta, gamma))


# -- instances and evaluation ----------------------------------------------------

@dataclass(frozen=True)
class Instance:
    """One concrete (float) instance: sizes, graph, embedding, hyper-parameters."""

    N: int
    K: int
    G: np.ndarray
    Z: np.ndarray
    scalars: Mapping = field(default_factory=dict)

    def describe(self) -> str:
        """Short printable form, used as a counterexample."""
        sc = ", ".join(f"{s}={v:g}" for s, v in self.scalars.items())
        return (f"N={self.N}, K={self.K}, {sc}, G={np.round(self.G, 4).tolist()}, "
                f"Z={np.round(self.Z, 4).tolist()}")


def random_instance(rng, ctx: Optional[Context] = None, *, n_min=3, n_max=7, k_max=3, graph=None) -> Instance:
    """Draw a random instance.

    ``G`` has integer weights in {0, 1, 2} (at least one edge), ``Z`` has two
    decimals and scalars lie in [0.25, 3]: round values make counterexamples
    readable.  ``graph(rng, n)`` may supply another graph family.
    """
    ctx = ctx or standard_context()
    n = int(rng.integers(n_min, n_max + 1))
    kk = int(rng.integers(1, max(1, min(k_max, n - 1)) + 1))
    if graph is not None:
        g = np.asarray(graph(rng, n), dtype=float)
    else:
        g = np.triu(rng.choice([0.0, 1.0, 2.0], size=(n, n), p=[0.5, 0.35, 0.15]), 1)
        if not g.any():
            g[0, 1] = 1.0
        g = g + g.T
    z = np.round(rng.normal(size=(n, kk)), 2)
    sc = {str(s): float(np.round(rng.uniform(0.25, 3.0), 2)) for s in ctx.scalars}
    return Instance(n, kk, g, z, sc)


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


class _Unreadable(Exception):
    """The evaluator does not know this node type."""


def _ev(e, env, B, defs):
    if e in env:
        return env[e]
    if isinstance(e, sympy.MatrixSymbol):
        if e in defs:
            env[e] = _ev(defs[e], env, B, defs)  # cache: definitions are reused
            return env[e]
        raise _Unreadable(f"no value for matrix symbol {e}")
    if isinstance(e, sympy.Identity):
        return B.eye(int(_ev(e.rows, env, B, defs)))
    if isinstance(e, sympy.ZeroMatrix):
        return B.zeros(int(_ev(e.rows, env, B, defs)), int(_ev(e.cols, env, B, defs)))
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
        raise _Unreadable(f"no value for symbol {e}")
    raise _Unreadable(type(e).__name__)


def _ev_sum(f, limits, env, B, defs):
    var, lo, hi = limits[0]
    lo, hi = int(_ev(lo, env, B, defs)), int(_ev(hi, env, B, defs))
    total = B.number(sympy.S.Zero)
    for t in range(lo, hi + 1):
        inner = dict(env)
        inner[var] = B.number(sympy.Integer(t))
        total = total + (_ev_sum(f, limits[1:], inner, B, defs) if len(limits) > 1 else _ev(f, inner, B, defs))
    return total


def _numeric_env(ctx: Context, inst: Instance):
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


def _exact_env(ctx: Context, n: int, kk: int):
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


def evaluate(expr, ctx: Context, inst: Instance):
    """Evaluate a scalar expression on a float instance (numpy).

    Raises
    ------
    InvalidArgument
        If the expression uses a node the evaluator does not support.
    """
    try:
        return float(_ev(sympy.sympify(expr), _numeric_env(ctx, inst), _Np, ctx.definitions))
    except _Unreadable as exc:
        raise InvalidArgument(f"cannot evaluate {expr} numerically ({exc}).") from None


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


# -- steps -----------------------------------------------------------------------

NumericFn = Callable[[Instance, np.random.Generator, float], Optional[str]]


@dataclass(frozen=True)
class Step:
    """One claimed equality ``lhs == rhs`` with its justification.

    Parameters
    ----------
    lhs, rhs : sympy.Expr
        Scalar expressions (or, for ``check="numeric"``, any expressions
        used for display only).
    rule : str
        The justification, in words.
    assumptions : tuple of str
        Conditions the step needs (``"alpha = beta"``, ``"G regular"``...).
    note : str
        Free comment.
    check : {"auto", "numeric"}
        ``"auto"``: prover, exact and numeric checks of ``lhs == rhs``.
        ``"numeric"``: ``numeric(instance, rng, tol)`` decides instead; it
        returns ``None`` on success or a string describing the failure.
    numeric : callable, optional
        Custom numeric check, required with ``check="numeric"``.
    tol : float
        Tolerance handed to the custom check.
    relation : str
        LaTeX relation printed between the sides.
    cite : str
        A published lemma the step applies (e.g. Eckart--Young--Mirsky); with a passing numeric
        check the step's evidence is ``cited`` (the lemma is not re-proved here).
    evidence : Evidence
        Filled by :func:`check_step`.
    """

    lhs: sympy.Basic
    rhs: sympy.Basic
    rule: str
    assumptions: Tuple[str, ...] = ()
    note: str = ""
    check: str = "auto"
    numeric: Optional[NumericFn] = None
    tol: float = 1e-8
    relation: str = "="
    cite: str = ""
    evidence: Evidence = field(default_factory=Evidence.unchecked)

    def __post_init__(self):
        object.__setattr__(self, "lhs", sympy.sympify(self.lhs))
        object.__setattr__(self, "rhs", sympy.sympify(self.rhs))
        if not isinstance(self.rule, str) or not self.rule:
            raise InvalidArgument("Step.rule must be a non-empty string naming the justification.")
        if isinstance(self.assumptions, str):
            raise InvalidArgument("Step.assumptions must be a tuple of strings, not one string; wrap it: (a,).")
        object.__setattr__(self, "assumptions", tuple(self.assumptions))
        if self.check not in ("auto", "numeric"):
            raise InvalidArgument(f"Step.check must be 'auto' or 'numeric', got {self.check!r}.")
        if self.check == "numeric" and not callable(self.numeric):
            raise InvalidArgument("a Step with check='numeric' needs a callable numeric(instance, rng, tol).")

    def latex(self) -> str:
        return f"{sympy.latex(self.lhs)} {self.relation} {sympy.latex(self.rhs)}"


_EPS = float(np.finfo(np.float64).eps)
_TOL_FACTOR = 64.0  # safety factor over eps * N^2 for the O(N^2)-term sums we evaluate


def _terms(e):
    return e.args if isinstance(e, sympy.Add) else (e,)


def _numeric_check(step: Step, ctx: Context, m: int, rng, graph=None):
    """Return (evidence or None, relative tol).  None means all m agree."""
    insts = sorted((random_instance(rng, ctx, graph=graph) for _ in range(m)), key=lambda t: (t.N, t.K))
    if step.check == "numeric":
        for inst in insts:
            msg = step.numeric(inst, rng, step.tol)
            if msg is not None:
                return Evidence.refuted(f"{inst.describe()}: {msg}", "custom numeric check failed"), step.tol
        return None, step.tol
    worst = 0.0
    for inst in insts:
        rel = _TOL_FACTOR * _EPS * inst.N ** 2
        worst = max(worst, rel)
        lv, rv = evaluate(step.lhs, ctx, inst), evaluate(step.rhs, ctx, inst)
        scale = sum(abs(evaluate(t, ctx, inst)) for t in _terms(step.lhs) + _terms(step.rhs)) + abs(lv) + abs(rv)
        if not abs(lv - rv) <= rel * max(scale, 1.0):
            return Evidence.refuted(
                f"{inst.describe()}: lhs = {lv:.12g}, rhs = {rv:.12g}",
                f"numeric disagreement beyond {rel:.1e} * scale",
            ), rel
    return None, worst


def _exact_check(step: Step, ctx: Context, n: int, k_max: int = 2):
    """Return None if ``expand(lhs - rhs) == 0`` for all sizes, else a refutation."""
    for nn in range(2, n + 1):
        for kk in range(1, k_max + 1):
            env = _exact_env(ctx, nn, kk)
            diff = _ev(step.lhs, dict(env), _Sy, ctx.definitions) - _ev(step.rhs, dict(env), _Sy, ctx.definitions)
            diff = sympy.expand(diff)
            if diff != 0 and sympy.simplify(diff) != 0:
                text = str(diff)
                text = text if len(text) < 300 else text[:300] + "..."
                return Evidence.refuted(f"N={nn}, K={kk}: lhs - rhs = {text}", "exact symbolic-entry check")
    return None


def check_step(step: Step, ctx: Optional[Context] = None, *, exact_n=4, numeric_m=20, seed=0, graph=None) -> Step:
    """Check one step at the strongest level available.

    Parameters
    ----------
    step : Step
    ctx : Context, optional
        Defaults to :func:`standard_context`.
    exact_n : int
        Largest N of the exact check (sizes ``2..exact_n``, ``K <= 2``).
    numeric_m : int
        Number of random instances of the (always run) numeric check.
    seed : int
    graph : callable, optional
        ``graph(rng, n)`` for the random instances (default: random weights).

    Returns
    -------
    Step
        A copy with ``evidence`` filled.
    """
    if numeric_m < 1:
        raise InvalidArgument(f"numeric_m = {numeric_m}: the numeric check needs at least one instance.")
    if exact_n < 2:
        raise InvalidArgument(f"exact_n = {exact_n}: exact sizes start at N = 2.")
    ctx = ctx or standard_context()
    rng = np.random.default_rng(seed)
    try:
        bad, tol = _numeric_check(step, ctx, numeric_m, rng, graph)
    except InvalidArgument as exc:
        return replace(step, evidence=Evidence.unchecked(str(exc)))
    proved = step.check == "auto" and prove(step.lhs, step.rhs, ctx.trace)
    if bad is not None:
        if proved:  # the prover must never outvote the numbers
            bad = replace(bad, detail=bad.detail + "; the trace prover claimed equality: prover bug")
        return replace(step, evidence=bad)
    if proved:
        return replace(step, evidence=Evidence.symbolic("for general N, K"))
    if step.check == "auto":
        try:
            bad = _exact_check(step, ctx, exact_n)
        except _Unreadable:
            bad = "unreadable"
        if bad is None:
            return replace(step, evidence=Evidence.exact(exact_n, f"all N <= {exact_n}, K <= 2"))
        if isinstance(bad, Evidence):
            return replace(step, evidence=bad)
        detail = f"|lhs - rhs| <= {_TOL_FACTOR:g} eps N^2 (sum of |terms|)"
    else:
        detail = f"custom check, tol {step.tol:g}"
        if step.cite:
            return replace(step, evidence=Evidence.cited(step.cite, numeric_m, tol, detail))
    return replace(step, evidence=Evidence.numeric(numeric_m, tol, detail))


# -- derivations -----------------------------------------------------------------

@dataclass(frozen=True)
class Derivation:
    """A titled sequence of steps in one context.

    Parameters
    ----------
    title : str
    steps : tuple of Step
    context : Context
        Defaults to :func:`standard_context`.
    graph : callable, optional
        Graph family ``graph(rng, n)`` used by numeric checks.
    """

    title: str
    steps: Tuple[Step, ...]
    context: Context = field(default_factory=standard_context)
    graph: Optional[Callable] = None

    def __post_init__(self):
        steps = tuple(self.steps)
        for s in steps:
            if not isinstance(s, Step):
                raise InvalidArgument(f"Derivation steps must be Step objects, got {type(s).__name__}.")
        object.__setattr__(self, "steps", steps)

    def check(self, exact_n=4, numeric_m=20, seed=0) -> "Derivation":
        """Return a copy with every step's evidence filled (see :func:`check_step`)."""
        steps = tuple(
            check_step(s, self.context, exact_n=exact_n, numeric_m=numeric_m, seed=seed + t, graph=self.graph)
            for t, s in enumerate(self.steps)
        )
        return replace(self, steps=steps)

    @property
    def evidence(self) -> Evidence:
        """The weakest step's evidence (``unchecked`` for an empty derivation)."""
        if not self.steps:
            return Evidence.unchecked("empty derivation")
        return min((s.evidence for s in self.steps), key=lambda e: e.strength)

    def render(self, fmt="md") -> str:
        """Render as ``"md"``, ``"tex"``, ``"json"`` or ``"text"``."""
        if fmt not in FORMATS:
            raise InvalidArgument(f"unknown format {fmt!r}; use one of {FORMATS}.")
        return {"md": self._md, "tex": self._tex, "json": self._json, "text": self._text}[fmt]()

    def to_list(self):
        """The steps as JSON-ready dicts."""
        return [
            {
                "lhs": {"srepr": sympy.srepr(s.lhs), "latex": sympy.latex(s.lhs)},
                "rhs": {"srepr": sympy.srepr(s.rhs), "latex": sympy.latex(s.rhs)},
                "relation": s.relation,
                "rule": s.rule,
                "assumptions": list(s.assumptions),
                "note": s.note,
                "check": s.check,
                "evidence": s.evidence.to_dict(),
            }
            for s in self.steps
        ]

    def _json(self):
        return json.dumps(self.to_list(), indent=2)

    def _md(self):
        out = [f"### {self.title}", ""]
        for t, s in enumerate(self.steps, 1):
            head = f"{t}. **{s.rule}**"
            if s.assumptions:
                head += " (assuming " + "; ".join(s.assumptions) + ")"
            out += [head, "", f"   $$ {s.latex()} $$", "", f"   *Evidence:* {s.evidence}"]
            if s.note:
                out += ["", f"   {s.note}"]
            out.append("")
        out.append(f"Overall: {self.evidence.short()}")
        return "\n".join(out) + "\n"

    def _tex(self):
        out = [f"% {self.title}", r"\begin{align*}"]
        prev = None
        for t, s in enumerate(self.steps):
            label = _tex_escape(s.rule + (" [" + "; ".join(s.assumptions) + "]" if s.assumptions else ""))
            ev = _tex_escape(s.evidence.short())
            lhs = "" if prev is not None and s.lhs == prev else sympy.latex(s.lhs)
            end = r" \\" if t < len(self.steps) - 1 else ""
            out.append(f"{lhs} &{s.relation} {sympy.latex(s.rhs)} && \\text{{{label}; {ev}}}{end}")
            prev = s.rhs
        out.append(r"\end{align*}")
        return "\n".join(out) + "\n"

    def _text(self):
        out = [self.title]
        for t, s in enumerate(self.steps, 1):
            out.append(f"{t}. {s.lhs} {s.relation} {s.rhs}")
            out.append(f"   by {s.rule}" + (f" [{'; '.join(s.assumptions)}]" if s.assumptions else ""))
            out.append(f"   evidence: {s.evidence}")
        return "\n".join(out) + "\n"


_TEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "$": r"\$", "^": r"\^{}", "~": r"\~{}"}


def _tex_escape(s: str) -> str:
    # one pass, so the braces we insert are not escaped again
    return "".join(_TEX_ESCAPES.get(c, c) for c in s)
