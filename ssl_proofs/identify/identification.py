"""What ``identify`` returns: the :class:`Identification` record and its :class:`TestResult` steps."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np


@dataclass(frozen=True)
class TestResult:
    """One measured step of the decision procedure.

    Attributes
    ----------
    name : str         e.g. ``"rotation"``, ``"moments"``, ``"fit.eckart_young"``
    residual : float   what was measured (relative, see docs/identify.md)
    tol : float        the tolerance it is held to
    passed : bool
    detail : str       what was compared, on what
    """

    __test__ = False  # not a pytest class

    name: str
    residual: float
    tol: float
    passed: bool
    detail: str = ""

    def as_dict(self):
        return {"name": self.name, "residual": _num(self.residual), "tol": _num(self.tol),
                "passed": bool(self.passed), "detail": self.detail}


@dataclass
class Identification:
    """The answer of :func:`ssl_proofs.identify`.

    Attributes
    ----------
    spectral : True, False or "degenerate"
        True: an exact spectral template was fitted (``form``, ``operator``, ``metric``);
        False: no template fits (``reason`` names the failing test and its residual; this is not a
        proof that no spectral form exists); "degenerate": the template fits but the minimum is not
        attained on a compact set (unbounded below, or free directions beyond the tested invariances).
    form : str or None
        ``"penalty (Eckart-Young)"``, ``"constraint (trace ratio / whitening)"``, ...
    operator, metric : str or None
        As expressions of G (``D = diag(d)``, ``d = G 1``, ``S = 1^T d``, ``J = 1 1^T``, ``L = D - G``).
    lifting : str
        How the loss was read on G (pair listing of the two views, or the graph form as given).
    tests : list of TestResult
    reason : str
        Why not spectral, or why no closed form ("" when there is one).
    closed_form : bool
    loss : float or None
        Loss of the returned ``Z`` on the given graph.
    certificate : {"proved", "candidate", "searched"} or None
    same_as : dict or None
        A registered method and variant, with the hyper-parameters and the constants mapping one loss to
        the other (``user = scale * method + offset``) and the graphs where that was tested.
    evidence : list of str
        What was run to back the answer.
    Z : (N, K) ndarray or None
    problem : SpectralProblem or None
        The spectral problem solved for the closed form.
    refused_at : str or None
        The test the refusal rests on (``reason`` names it with its residual).
    derivation : list of (str, str, str)
        ``(statement, rule, evidence level)`` steps from the loss to its spectral form.
    """

    spectral: object
    lifting: str
    tests: list = field(default_factory=list)
    form: Optional[str] = None
    operator: Optional[str] = None
    metric: Optional[str] = None
    reason: str = ""
    closed_form: bool = False
    loss: Optional[float] = None
    certificate: Optional[str] = None
    same_as: Optional[dict] = None
    evidence: list = field(default_factory=list)
    Z: Optional[np.ndarray] = None
    problem: object = None
    derivation: list = field(default_factory=list)
    constants: dict = field(default_factory=dict)
    refused_at: Optional[str] = None

    def test(self, name):
        """The first test called ``name`` (``KeyError`` if none ran)."""
        for t in self.tests:
            if t.name == name:
                return t
        raise KeyError(name)

    @property
    def failing(self):
        return [t for t in self.tests if not t.passed]

    def as_dict(self):
        """The JSON record of ``ssl-proofs identify --json`` (docs/identify.md)."""
        return {
            "spectral": self.spectral, "form": self.form, "operator": self.operator, "metric": self.metric,
            "lifting": self.lifting, "tests": [t.as_dict() for t in self.tests], "reason": self.reason,
            "closed_form": bool(self.closed_form), "loss": _num(self.loss), "certificate": self.certificate,
            "same_as": self.same_as, "evidence": list(self.evidence), "constants": self.constants,
            "refused_at": self.refused_at,
            "derivation": [{"statement": s, "rule": r, "evidence": e} for s, r, e in self.derivation],
        }

    def summary(self):
        """A few lines for the terminal."""
        verdict = {True: "spectral", False: "not identified as spectral", "degenerate": "degenerate"}[self.spectral]
        lines = [f"verdict: {verdict}" + (f" ({self.form})" if self.form else ""),
                 f"lifting: {self.lifting}"]
        if self.operator:
            lines.append(f"operator: {self.operator}" + (f"; metric: {self.metric}" if self.metric else ""))
        for t in self.tests:
            mark = "ok  " if t.passed else "FAIL"
            lines.append(f"  [{mark}] {t.name}: residual {t.residual:.2e} (tol {t.tol:.0e}) {t.detail}")
        if self.reason:
            lines.append(f"reason: {self.reason}")
        if self.same_as:
            s = self.same_as
            hp = ", ".join(f"{k}={v:.6g}" for k, v in s["hyper"].items())
            lines.append(f"same as: {s['method']} ({s['variant']}{', ' + hp if hp else ''}) x {s['scale']:.6g} "
                         f"{s['offset']:+.6g}, on {s['graphs']}")
        if self.loss is not None:
            lines.append(f"loss of the returned Z: {self.loss:.10g}; certificate: {self.certificate}")
        lines.extend(f"evidence: {e}" for e in self.evidence)
        return "\n".join(lines)


def _num(x):
    if x is None:
        return None
    x = float(x)
    return x if np.isfinite(x) else str(x)
