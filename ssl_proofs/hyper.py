"""Hyper-parameters declared once, on the method: name, default, domain, help.

The CLI builds its ``--name`` flags from these declarations and the verifiers draw
instances from the domains; nothing else lists a method's hyper-parameters.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

__all__ = ["Hyper", "CheckedValue", "HyperCheck", "checked_set", "mark_checked"]


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


# -- checked hyper-parameters -----------------------------------------------------------------------
#
# Hyper-parameters travel as keyword arguments (``method.solve(G, k, **hp)``), and ``**hp`` builds a new
# dict at every call, so the mark of a checked set cannot sit on the dict (as it sits on a checked
# graph): it sits on each value.  :meth:`Method.check_hyper` validates once and returns values of type
# :class:`CheckedValue` (a drop-in ``float``) that share one :class:`HyperCheck`; given back the same
# values (the whole set, or exactly the keys it was given), it returns them without validating again.

@dataclass(frozen=True, eq=False)
class HyperCheck:
    """One validation: for which method and variant, the keys it was given, and the full checked set."""

    method: str
    variant: Optional[str]
    given: frozenset
    full: tuple          # ((name, float), ...), defaults filled in


class CheckedValue(float):
    """A hyper-parameter value that :meth:`~ssl_proofs.methods.base.Method.check_hyper` validated.

    A ``float`` (arithmetic on it gives plain floats); ``check`` is the validation it came from.
    """

    __slots__ = ("check",)

    def __new__(cls, value, check):
        out = super().__new__(cls, value)
        out.check = check
        return out

    def __reduce__(self):
        return CheckedValue, (float(self), self.check)

    __repr__ = float.__repr__


def mark_checked(method, variant, given, full):
    """The checked set ``full`` (a dict of floats) as :class:`CheckedValue` s of one new :class:`HyperCheck`."""
    check = HyperCheck(method, variant, frozenset(given), tuple((k, float(v)) for k, v in full.items()))
    return {k: CheckedValue(v, check) for k, v in full.items()}


def checked_set(hp, method, variant):
    """The full checked set when ``hp`` holds values of one validation for ``method`` and ``variant``
    (all its keys, or exactly the keys it was given), else ``None`` (validate it)."""
    checks = {getattr(v, "check", None) for v in hp.values()} if isinstance(hp, dict) else {None}
    if len(checks) != 1 or None in checks:
        return None
    (check,) = checks
    full = dict(check.full)
    if (check.method, check.variant) != (method, variant) or set(hp) not in (set(check.given), set(full)):
        return None
    if any(float(hp[k]) != full[k] for k in hp):
        return None
    return {k: CheckedValue(v, check) for k, v in full.items()}
