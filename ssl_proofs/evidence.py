"""Evidence levels: how strongly a statement has been established.

Every verdict and every derivation step carries one :class:`Evidence`.  The
levels, strongest first:

``symbolic``   proved symbolically for general (symbolic) sizes N, K;
``exact``      proved exactly, with fully symbolic entries, for all sizes up to ``n``;
``cited``      a published lemma (``lemma`` names it) whose hypotheses this project
               establishes, and whose conclusion is checked numerically on ``m``
               instances (the lemma itself is not re-proved here);
``certified``  a minimum value certified on ``m`` instances: a point found and a certified lower bound
               (:mod:`ssl_proofs.bounds`, e.g. SimCLR's convex relaxation with its dual certificate) meet
               within ``gap``; the point is a global minimiser up to ``gap`` (rounding margin included);
``numeric``    checked numerically on ``m`` instances with tolerance ``tol``;
``refuted``    a counterexample was found (``counterexample`` holds it, shrunk);
``unchecked``  nothing has been checked yet.
"""
from __future__ import annotations

from dataclasses import dataclass, asdict
from typing import Optional

LEVELS = ("symbolic", "exact", "cited", "certified", "numeric", "refuted", "unchecked")
# a cited lemma is only reported when its numeric check passed too: at least numeric, below a proof here;
# a certified minimum is a proof per instance (both sides of the value known), not for every instance
_STRENGTH = {"symbolic": 3, "exact": 2, "cited": 1.5, "certified": 1.25, "numeric": 1, "unchecked": 0,
             "refuted": -1}


@dataclass(frozen=True)
class Evidence:
    level: str
    detail: str = ""
    n: Optional[int] = None
    m: Optional[int] = None
    tol: Optional[float] = None
    counterexample: Optional[str] = None
    lemma: Optional[str] = None
    gap: Optional[float] = None

    # -- constructors -------------------------------------------------
    @classmethod
    def symbolic(cls, detail="for general N, K"):
        return cls("symbolic", detail)

    @classmethod
    def exact(cls, n, detail=""):
        return cls("exact", detail, n=int(n))

    @classmethod
    def numeric(cls, m, tol, detail=""):
        return cls("numeric", detail, m=int(m), tol=float(tol))

    @classmethod
    def cited(cls, lemma, m, tol, detail=""):
        return cls("cited", detail, m=int(m), tol=float(tol), lemma=str(lemma))

    @classmethod
    def certified(cls, m, gap, detail=""):
        """A minimum certified by a lower bound on ``m`` instances, the point within ``gap`` of the bound."""
        return cls("certified", detail, m=int(m), gap=float(gap))

    @classmethod
    def refuted(cls, counterexample, detail=""):
        return cls("refuted", detail, counterexample=str(counterexample))

    @classmethod
    def unchecked(cls, detail="not checked"):
        return cls("unchecked", detail)

    # -- queries ------------------------------------------------------
    @property
    def holds(self) -> bool:
        return self.level in ("symbolic", "exact", "cited", "certified", "numeric")

    @property
    def strength(self) -> int:
        return _STRENGTH[self.level]

    def short(self) -> str:
        """One-line label used in tables."""
        if self.level == "symbolic":
            return "proved symbolically" + (f" ({self.detail})" if self.detail else "")
        if self.level == "exact":
            return f"proved exactly for sizes <= {self.n}" + (f" ({self.detail})" if self.detail else "")
        if self.level == "cited":
            return f"cited lemma ({self.lemma}) + checked numerically, m={self.m}, tol={self.tol:.1e}"
        if self.level == "certified":
            return f"certified by a convex relaxation: gap {self.gap:.1e}, m={self.m}"
        if self.level == "numeric":
            return f"checked numerically, m={self.m}, tol={self.tol:.1e}"
        if self.level == "refuted":
            return "refuted"
        return "unchecked"

    def __str__(self):
        s = self.short()
        if self.level in ("numeric", "cited", "certified") and self.detail:
            s += f" ({self.detail})"
        if self.level == "refuted" and self.counterexample:
            s += f": {self.counterexample}"
        return s

    def to_dict(self):
        return {k: v for k, v in asdict(self).items() if v is not None}
