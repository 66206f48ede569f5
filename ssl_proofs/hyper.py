"""Hyper-parameters declared once, on the method: name, default, domain, help.

The CLI builds its ``--name`` flags from these declarations and the verifiers draw
instances from the domains; nothing else lists a method's hyper-parameters.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

__all__ = ["Hyper"]


@dataclass(frozen=True)
class Hyper:
    """One hyper-parameter of a method (paper name).

    Attributes
    ----------
    name : str                  the paper's name, also the keyword of ``loss``/``solve`` and the CLI flag ``--name``
    default : float or None     ``None``: derived from the others (e.g. VICReg's ``beta = alpha``)
    help : str                  one line for ``--help``
    domain : (low, high) or None
        the range the method's theorems are stated for; the verifiers draw instances from it
        (``None``: not drawn, the default is used)
    """

    name: str
    default: Optional[float]
    help: str = ""
    domain: Optional[tuple] = None

    def __post_init__(self):
        if not self.name.isidentifier():
            raise ValueError(f"hyper-parameter name {self.name!r} must be a Python identifier (it is a keyword)")
        if self.domain is not None and not (len(self.domain) == 2 and self.domain[0] <= self.domain[1]):
            raise ValueError(f"domain of {self.name} must be (low, high) with low <= high, got {self.domain!r}")
