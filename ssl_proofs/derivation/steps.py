"""Derivation steps and derivations as data, and how each step is checked.

A :class:`Step` claims ``lhs == rhs`` with its justification; :func:`check_step` fills its
:class:`~ssl_proofs.evidence.Evidence` with the strongest level reached (the trace prover, the
exact symbolic-entry check, and the numeric check that always runs); a :class:`Derivation` is a
titled sequence of steps in one :class:`~.notation.Notation`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Optional, Tuple

import numpy as np
import sympy

from ..errors import InvalidArgument
from ..evidence import Evidence
from ..tracealgebra import prove
from .evaluation import Unreadable, evaluate, evaluate_value, exact_difference
from .notation import Notation, standard_notation
from .prose import Prose, prose
from .render import render, to_list
from .samples import Sample, random_sample

NumericFn = Callable[[Sample, np.random.Generator, float], Optional[str]]


@dataclass(frozen=True)
class Step:
    """One claimed equality ``lhs == rhs`` with its justification.

    Parameters
    ----------
    lhs, rhs : sympy.Expr
        Scalar expressions (or, for ``check="numeric"``, any expressions
        used for display only).
    rule : Prose or str
        The justification: text and sympy expressions (:mod:`.prose`); every
        :class:`~.prose.Identity` in it is evaluated by the numeric check.
    assumptions : tuple of (Prose or str)
        Conditions the step needs (``alpha = beta``, ``G`` regular...).
    note : Prose or str
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
    rule: Prose
    assumptions: Tuple[Prose, ...] = ()
    note: Prose = Prose(())
    check: str = "auto"
    numeric: Optional[NumericFn] = None
    tol: float = 1e-8
    relation: str = "="
    cite: str = ""
    evidence: Evidence = field(default_factory=Evidence.unchecked)

    def __post_init__(self):
        object.__setattr__(self, "lhs", sympy.sympify(self.lhs))
        object.__setattr__(self, "rhs", sympy.sympify(self.rhs))
        if not isinstance(self.rule, (str, Prose)) or not self.rule:
            raise InvalidArgument("Step.rule must be a non-empty Prose (or string) naming the justification.")
        object.__setattr__(self, "rule", prose(self.rule))
        if isinstance(self.assumptions, (str, Prose)):
            raise InvalidArgument("Step.assumptions must be a tuple of conditions, not one; wrap it: (a,).")
        object.__setattr__(self, "assumptions", tuple(prose(a) for a in self.assumptions))
        object.__setattr__(self, "note", prose(self.note))
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


def _rel_tol(inst):
    return _TOL_FACTOR * _EPS * inst.N ** 2


def _identity_check(step: Step, ctx: Notation, insts):
    """Evaluate every identity the justification states on the instances: a refutation or None."""
    for ident in step.rule.identities():
        for inst in insts:
            lv, rv = evaluate_value(ident.lhs, ctx, inst), evaluate_value(ident.rhs, ctx, inst)
            if np.shape(lv) != np.shape(rv):
                return Evidence.refuted(f"{inst.describe()}: {ident} compares shapes {np.shape(lv)} and "
                                        f"{np.shape(rv)}", "justification identity ill-formed")
            scale = max(float(np.max(np.abs(lv), initial=0.0)) + float(np.max(np.abs(rv), initial=0.0)), 1.0)
            if not float(np.max(np.abs(np.subtract(lv, rv)), initial=0.0)) <= _rel_tol(inst) * scale:
                return Evidence.refuted(f"{inst.describe()}: {ident} fails (lhs {np.round(lv, 6).tolist()}, "
                                        f"rhs {np.round(rv, 6).tolist()})", "justification identity refuted")
    return None


def _numeric_check(step: Step, ctx: Notation, m: int, rng, graph=None):
    """Return (evidence or None, relative tol).  None means all m agree."""
    insts = sorted((random_sample(rng, ctx, graph=graph) for _ in range(m)), key=lambda t: (t.N, t.K))
    if step.check == "numeric":
        for inst in insts:
            msg = step.numeric(inst, rng, step.tol)
            if msg is not None:
                return Evidence.refuted(f"{inst.describe()}: {msg}", "custom numeric check failed"), step.tol
        return None, step.tol
    worst = 0.0
    for inst in insts:
        rel = _rel_tol(inst)
        worst = max(worst, rel)
        lv, rv = evaluate(step.lhs, ctx, inst), evaluate(step.rhs, ctx, inst)
        scale = sum(abs(evaluate(t, ctx, inst)) for t in _terms(step.lhs) + _terms(step.rhs)) + abs(lv) + abs(rv)
        if not abs(lv - rv) <= rel * max(scale, 1.0):
            return Evidence.refuted(
                f"{inst.describe()}: lhs = {lv:.12g}, rhs = {rv:.12g}",
                f"numeric disagreement beyond {rel:.1e} * scale",
            ), rel
    return None, worst


def _exact_check(step: Step, ctx: Notation, n: int, k_max: int = 2):
    """Return None if ``expand(lhs - rhs) == 0`` for all sizes, else a refutation."""
    for nn in range(2, n + 1):
        for kk in range(1, k_max + 1):
            diff = exact_difference(step.lhs, step.rhs, ctx, nn, kk)
            if diff != 0 and sympy.simplify(diff) != 0:
                text = str(diff)
                text = text if len(text) < 300 else text[:300] + "..."
                return Evidence.refuted(f"N={nn}, K={kk}: lhs - rhs = {text}", "exact symbolic-entry check")
    return None


def check_step(step: Step, ctx: Optional[Notation] = None, *, exact_n=4, numeric_m=20, seed=0, graph=None) -> Step:
    """Check one step at the strongest level available.

    First every equality its justification states (:func:`.prose.eq`) is evaluated on ``numeric_m`` samples
    (a stream of their own): one that disagrees refutes the step, a symbol without a value leaves it
    ``unchecked`` (write it as :func:`.prose.cond` if it is a condition, not a claim).

    Parameters
    ----------
    step : Step
    ctx : Notation, optional
        Defaults to :func:`standard_notation`.
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
    ctx = ctx or standard_notation()
    rng = np.random.default_rng(seed)
    try:
        side = np.random.default_rng([seed, 1])  # its own stream: the step's own check sees the same samples
        bad = _identity_check(step, ctx, [random_sample(side, ctx, graph=graph) for _ in range(numeric_m)]
                              if step.rule.identities() else [])
        if bad is not None:  # a justification that states a false identity does not justify the step
            return replace(step, evidence=bad)
        bad, tol = _numeric_check(step, ctx, numeric_m, rng, graph)
    except InvalidArgument as exc:
        return replace(step, evidence=Evidence.unchecked(str(exc)))
    # the identities the justification states only ever refute (above): the evidence level is the step's own
    return replace(step, evidence=_evidence(step, ctx, bad, tol, exact_n, numeric_m))


def _evidence(step, ctx, bad, tol, exact_n, numeric_m):
    proved = step.check == "auto" and prove(step.lhs, step.rhs, ctx.trace)
    if bad is not None:
        if proved:  # the prover must never outvote the numbers
            bad = replace(bad, detail=bad.detail + "; the trace prover claimed equality: prover bug")
        return bad
    if proved:
        return Evidence.symbolic("for general N, K")
    if step.check == "auto":
        try:
            bad = _exact_check(step, ctx, exact_n)
        except Unreadable as exc:  # the weaker numeric evidence stands, and says why
            bad = f"exact check not possible: {exc}"
        if bad is None:
            return Evidence.exact(exact_n, f"all N <= {exact_n}, K <= 2")
        if isinstance(bad, Evidence):
            return bad
        detail = f"|lhs - rhs| <= {_TOL_FACTOR:g} eps N^2 (sum of |terms|); {bad}"
    else:
        detail = f"custom check, tol {step.tol:g}"
        if step.cite:
            return Evidence.cited(step.cite, numeric_m, tol, detail)
    return Evidence.numeric(numeric_m, tol, detail)


def _short(text, width=70):
    """One line of a progress display (a justification's plain text can run long)."""
    text = str(text)
    return text if len(text) <= width else text[:width - 3] + "..."


@dataclass(frozen=True)
class Derivation:
    """A titled sequence of steps in one context.

    Parameters
    ----------
    title : Prose or str
        Text and mathematics (:mod:`.prose`).
    steps : tuple of Step
    context : Notation
        Defaults to :func:`standard_notation`.
    graph : callable, optional
        Graph family ``graph(rng, n)`` used by numeric checks.
    stop : Prose or str
        Why the derivation ends before a spectral form, when it does (empty when it reaches one);
        rendered after the last step.
    """

    title: Prose
    steps: Tuple[Step, ...]
    context: Notation = field(default_factory=standard_notation)
    graph: Optional[Callable] = None
    stop: Prose = Prose(())

    def __post_init__(self):
        if not isinstance(self.title, (str, Prose)) or not isinstance(self.stop, (str, Prose)):
            raise InvalidArgument("Derivation.title and .stop must be Prose (or strings).")
        object.__setattr__(self, "title", prose(self.title))
        object.__setattr__(self, "stop", prose(self.stop))
        steps = tuple(self.steps)
        for s in steps:
            if not isinstance(s, Step):
                raise InvalidArgument(f"Derivation steps must be Step objects, got {type(s).__name__}.")
        object.__setattr__(self, "steps", steps)

    def check(self, exact_n=4, numeric_m=20, seed=0, progress=None) -> "Derivation":
        """Return a copy with every step's evidence filled (see :func:`check_step`).

        ``progress(message)`` before each step (checks take seconds each: a live line for the CLI).
        """
        steps = []
        for t, s in enumerate(self.steps):
            if progress is not None:
                progress(f"checking step {t + 1}/{len(self.steps)}: {_short(s.rule)}")
            steps.append(check_step(s, self.context, exact_n=exact_n, numeric_m=numeric_m, seed=seed + t,
                                    graph=self.graph))
        return replace(self, steps=tuple(steps))

    @property
    def evidence(self) -> Evidence:
        """The weakest step's evidence (``unchecked`` for an empty derivation)."""
        if not self.steps:
            return Evidence.unchecked("empty derivation")
        return min((s.evidence for s in self.steps), key=lambda e: e.strength)

    def render(self, fmt="md") -> str:
        """Render as ``"md"``, ``"tex"``, ``"json"`` or ``"text"`` (:mod:`.render`)."""
        return render(self, fmt)

    def to_list(self):
        """The steps as JSON-ready dicts."""
        return to_list(self)
