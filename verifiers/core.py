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


#: kinds of failure a refuting measurement names (docs/evidence.md, "Kinds of failure")
LOWER_LOSS = "lower loss found"          # a point beating the claimed minimiser's loss by the margin
INFEASIBLE = "infeasible"                # the claimed point violates the hard constraint
NOT_STATIONARY = "not stationary"        # the gradient is not zero and polishing moves the point (loss or Gram)
ORACLE_MISMATCH = "oracle mismatch"      # an independent computation (eigvalsh, scikit-learn, ...) disagrees
STRUCTURE = "structure not reached"      # a structural claim: the imposed structure loses to the free best, or a
                                         # smaller structure reaches it (two minimisations)
DERIVATION = "derivation step fails"     # a symbolic step does not check out numerically
MISMATCH = "measured mismatch"           # any other measured quantity differs from the claimed one
#: which failing measurement decides a refutation: the first kind in this order (then the largest error / tol);
#: a competitor with lower loss is the strongest evidence, a non-zero gradient the weakest
KIND_ORDER = (LOWER_LOSS, INFEASIBLE, STRUCTURE, ORACLE_MISMATCH, DERIVATION, MISMATCH, NOT_STATIONARY)

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
    it only says the search did not get there.  ``kind``: what a refutation by this measurement
    means (:data:`KIND_ORDER`).
    """

    name: str
    error: float
    tol: float
    reason: str = ""
    material: float = MATERIAL
    crosscheck: bool = False
    kind: str = MISMATCH

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

    def to_dict(self):
        return {"check": self.name, "kind": self.kind, "error": self.error, "tol": self.tol, "why": self.reason}


def deciding(failing):
    """The refuting measurement a verdict is reported by: first by :data:`KIND_ORDER`, then largest error / tol."""
    if not failing:
        return None
    rank = {k: i for i, k in enumerate(KIND_ORDER)}
    return min(failing, key=lambda m: (rank.get(m.kind, len(KIND_ORDER)), -m.ratio))


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

    @property
    def decided_by(self):
        """The measurement the verdict stands on, what the CLI table and the reports print: for a refutation
        the deciding failing measurement (:func:`deciding`, its ``kind`` names the kind of failure), else the
        passing measurement closest to its tolerance (``worst``)."""
        return deciding(self.failing) if self.verdict == "refuted" else self.worst

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
            "worst": None if w is None else w.to_dict(),
            "decided_by": None if self.decided_by is None else {**self.decided_by.to_dict(),
                                                                "refutes": self.verdict == "refuted"},
            "counterexample": self.counterexample,
            "failing": [m.to_dict() for m in self.failing],
            "seconds": round(self.seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "device": self.device,
            "instance": self.instance,
            "unclear": [m.to_dict() for m in self.unclear],
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
