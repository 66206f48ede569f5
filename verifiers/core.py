"""What every check and run shares: the objects a check receives and returns, the margin rule, results.

* :class:`Instance` (a claim's test case: graph, K, hyper-parameters, variant) and :class:`Context`
  (device, starts, seed, the solver under test) go into a check;
* :class:`Measurement` (an error, its tolerance and why) comes out, or :class:`Inapplicable` when the
  instance is outside the claim's domain;
* the margin rule: a measurement refutes only beyond :data:`MARGIN` tolerances and :data:`MATERIAL`
  (tolerances themselves: :mod:`ssl_proofs_verifiers.tolerances`);
* :class:`TheoremResult`, the outcome of attacking one theorem;
* the run options (:func:`check_run_options`), checked once at the boundary of every runner.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from ssl_proofs.errors import InvalidArgument
from ssl_proofs.evidence import Evidence
from ssl_proofs.theorems import Theorem

from .strategies import describe_graph


#: a refutation needs the error to exceed this many tolerances ...
MARGIN = 10.0
#: ... and this absolute size (errors are losses, Gram/projector distances, sines, counts of order 1):
#: a 1e-8 residue at a point where a wrong formula happens to equal the right one is not a counterexample
MATERIAL = 1e-6


@dataclass
class Measurement:
    """One measured error against its tolerance.

    ``ok``: within tolerance.  ``refutes``: beyond tolerance by a margin a reader can see
    (``error >= MARGIN x tol`` and ``error >= material``) on a measurement that may refute;
    in between the instance does not count (the runner keeps looking).  A ``crosscheck``
    (e.g. "descent from random starts reaches the candidate's loss") never refutes: failing
    it only says the search did not get there.
    """

    name: str
    error: float
    tol: float
    reason: str = ""
    material: float = MATERIAL
    crosscheck: bool = False

    @property
    def ok(self):
        return bool(np.isfinite(self.error) and self.error <= self.tol)

    @property
    def refutes(self):
        if self.ok or self.crosscheck:
            return False
        if not np.isfinite(self.error):
            return True
        return bool(self.error >= MARGIN * self.tol and self.error >= self.material)

    def line(self):
        """``name: error E > tol T (R x tol) (reason)`` for reports."""
        r = self.ratio
        times = f"{r:.3g} x tol" if np.isfinite(r) else "tol 0"
        return f"{self.name}: error {self.error:.3g} > tol {self.tol:.3g} ({times}; {self.reason})"

    @property
    def ratio(self):
        if not np.isfinite(self.error):
            return np.inf
        return self.error / self.tol if self.tol > 0 else (0.0 if self.error == 0 else np.inf)


@dataclass
class Instance:
    G: np.ndarray
    k: int
    hyper: dict
    variant: str
    labels: Optional[np.ndarray] = None
    X: Optional[np.ndarray] = None

    def describe(self):
        hp = ", ".join(f"{k}={v:g}" for k, v in self.hyper.items() if v is not None)
        return f"{describe_graph(self.G)}; k={self.k}; variant={self.variant}; {hp}"


@dataclass
class Context:
    device: str = "cpu"
    starts: int = 3
    seed: int = 0
    solver: Optional[Callable] = None  # check_solver's user solver; None = method.solve
    extra: dict = field(default_factory=dict)


class Inapplicable(Exception):
    """The instance is outside the claim's domain (hypothesis discards it)."""


#: default number of hypothesis examples per theorem (``ssl-proofs verify`` and ``verify()``); ``examples`` in a
#: result counts the distinct instances checked, fewer where the strategy draws the same instance twice
DEFAULT_EXAMPLES = 100


@dataclass
class TheoremResult:
    """Outcome of attacking one theorem.

    ``verdict`` is ``"holds"`` or ``"refuted"`` (``"inconclusive"`` when no
    instance fell in the claim's domain, ``"error"`` when the checker itself
    crashed); ``matches`` says whether it is the verdict the theorem records.
    """

    theorem: Theorem
    verdict: str
    evidence: Evidence
    examples: int
    worst: Optional[Measurement] = None
    counterexample: Optional[str] = None
    failing: list = field(default_factory=list)
    seconds: float = 0.0
    device: str = "cpu"
    #: the shrunk counterexample as plain data (edges, N, k, hyper, variant) for reports that draw it
    instance: Optional[dict] = None
    #: measurements over tolerance that did not refute (cross-checks, or inside the margin band)
    unclear: list = field(default_factory=list)
    #: CPU seconds of the process that checked it (``seconds`` is wall-clock, and grows with the machine's load)
    cpu_seconds: float = 0.0

    @property
    def matches(self):
        return self.verdict == self.theorem.expected

    def to_dict(self):
        w = self.worst
        return {
            "id": self.theorem.id,
            "method": self.theorem.method,
            "statement": self.theorem.statement,
            "source": self.theorem.source,
            "expected": self.theorem.expected,
            "verdict": self.verdict,
            "matches": self.matches,
            "evidence": self.evidence.to_dict(),
            "examples": self.examples,
            "worst": None if w is None else {"check": w.name, "error": w.error, "tol": w.tol, "why": w.reason},
            "counterexample": self.counterexample,
            "failing": [{"check": m.name, "error": m.error, "tol": m.tol, "why": m.reason} for m in self.failing],
            "seconds": round(self.seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "device": self.device,
            "instance": self.instance,
            "unclear": [{"check": m.name, "error": m.error, "tol": m.tol, "why": m.reason} for m in self.unclear],
        }


# -- run options (every input is checked once, before the work) ------------------------------

def check_run_options(examples, seed, starts):
    """Validate the run options of :func:`~ssl_proofs_verifiers.runner.verify` / ``check_solver`` / the parallel runner
    once, before any work; returns ``(examples, seed, starts)`` (``examples=None``: :data:`DEFAULT_EXAMPLES`)."""
    examples = DEFAULT_EXAMPLES if examples is None else check_integer(
        "examples", examples, 1, "hypothesis examples per theorem (--examples)")
    seed = check_integer("seed", seed, 0, "the random seed (--seed) of hypothesis and the descent starts")
    starts = check_integer("starts", starts, 1, "random starts of each gradient-descent cross-check (--starts, default 3)")
    return examples, seed, starts


def check_integer(name, value, low, what):
    """``value`` as an ``int >= low`` (not a bool), else :class:`InvalidArgument` naming ``name`` and ``what`` it is."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidArgument(f"{name} must be an integer, got {value!r}: it is {what}.")
    if not low <= value < 2 ** 63:
        raise InvalidArgument(f"{name} = {value}: it is {what} and must be an integer >= {low} and < 2**63 "
                              f"(at most {2 ** 63 - 1:,}).")
    return int(value)
