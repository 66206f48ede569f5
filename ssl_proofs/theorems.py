"""Theorems as data: what a method claims, and what we expect a check to find.

A :class:`Theorem` is a claim of the paper (or of our reconstruction of it)
stated precisely enough for a verifier to attack it.  The theory side says
*what* is claimed (``claim`` names the kind of claim, ``params`` holds its
data: a variant, a predictor function, ...); the ``verifiers`` package says
*how* to attack each kind of claim.  ``expected`` records the verdict our
analysis predicts: ``"holds"``, or ``"refuted"`` for a claim of the paper
that the checks disprove (a result, not a failure).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from .errors import InvalidArgument

EXPECTED = ("holds", "refuted")


@dataclass(frozen=True)
class Theorem:
    """One checkable claim.

    Parameters
    ----------
    id : str
        Stable dotted id, ``"<method>.<variant-or-topic>.<claim>"``.
    method : str
        Registry name of the method the claim is about.
    statement : str
        The claim in one line (printed in tables).
    claim : str
        Kind of claim; the verifiers dispatch on it (e.g. ``"closed_form"``).
    expected : {"holds", "refuted"}
        The verdict our analysis records.
    params : mapping
        Claim-specific data (variant, graph family, predictor callables...).
    source : str
        Where the claim comes from (paper theorem / notes section / ours).
    """

    id: str
    method: str
    statement: str
    claim: str
    expected: str = "holds"
    params: Mapping = field(default_factory=dict)
    source: str = ""

    def __post_init__(self):
        if self.expected not in EXPECTED:
            raise InvalidArgument(f"Theorem {self.id}: expected must be one of {EXPECTED}, got {self.expected!r}.")
