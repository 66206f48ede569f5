"""Justifications as data: text interleaved with sympy expressions and checkable identities.

A step's rule ("expand the square; Tr(Z^T D Z) = ...") used to be an ASCII string next to statements
printed as mathematics. A :class:`Prose` is a sequence of parts, each a plain string (words), a sympy
expression (printed as mathematics, never evaluated) or an :class:`Identity` (a claimed equality, printed
as mathematics *and* evaluated on the derivation's sampled instances by :func:`.steps.check_step`: sympy
matrix calculus can fail silently, so an identity a justification states is checked like a step).

Every format prints the expressions with the printers the statements use: ``sympy.latex`` for Markdown
(``$...$``), LaTeX and HTML (MathML from that LaTeX), ``str`` for plain text.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Tuple, Union

import sympy

from ..errors import InvalidArgument


@dataclass(frozen=True)
class Identity:
    r"""A relation ``lhs relation rhs`` inside a justification.

    ``checked=True`` (:func:`eq`): a claimed equality, evaluated on the derivation's samples; every symbol in
    it must have a value there. ``checked=False`` (:func:`cond`): a condition, constraint or definition that
    is printed only (``Z^T H Z / N = I`` imposed, ``R \in O(K)``).
    """

    lhs: sympy.Basic
    rhs: sympy.Basic
    relation: str = "="
    checked: bool = True

    def __post_init__(self):
        object.__setattr__(self, "lhs", sympy.sympify(self.lhs))
        object.__setattr__(self, "rhs", sympy.sympify(self.rhs))
        if not isinstance(self.relation, str) or not self.relation:
            raise InvalidArgument("Identity.relation must be a non-empty LaTeX relation such as '='.")

    def latex(self) -> str:
        return f"{sympy.latex(self.lhs)} {self.relation} {sympy.latex(self.rhs)}"

    def __str__(self) -> str:
        return f"{self.lhs} {_TEXT_RELATIONS.get(self.relation, self.relation)} {self.rhs}"


#: plain-text spelling of the LaTeX relations identities use
_TEXT_RELATIONS = {r"\le": "<=", r"\ge": ">=", r"\ne": "!=", r"\in": "in", r"\succeq": ">=", r"\to": "->",
                   r"\mapsto": "->"}

Part = Union[str, sympy.Basic, Identity]


def _part(p):
    if isinstance(p, (str, Identity)):
        return p
    if isinstance(p, sympy.Basic):
        return p
    raise InvalidArgument(f"a justification part must be text, a sympy expression or an Identity, "
                          f"got {type(p).__name__}; wrap numbers as sympy.Integer.")


@dataclass(frozen=True)
class Prose:
    """Text and mathematics in order; ``str()`` is the plain-text rendering.

    Parameters
    ----------
    parts : tuple of (str | sympy.Basic | Identity)
    """

    parts: Tuple[Part, ...]

    def __post_init__(self):
        if isinstance(self.parts, (str, sympy.Basic, Identity)):
            raise InvalidArgument("Prose.parts must be a tuple of parts; use prose(...) for one part.")
        object.__setattr__(self, "parts", tuple(_part(p) for p in self.parts))

    def render(self, text: Callable[[str], str], math: Callable[[str], str]) -> str:
        """``text(words)`` for every string, ``math(latex)`` for every expression or identity, joined."""
        return "".join(text(p) if isinstance(p, str) else math(_latex(p)) for p in self.parts)

    def identities(self) -> Tuple[Identity, ...]:
        """The equalities stated (the ones a numeric check evaluates)."""
        return tuple(p for p in self.parts if isinstance(p, Identity) and p.checked and p.relation == "=")

    def words(self) -> str:
        """The text parts only (what a reader sees outside the mathematics)."""
        return "".join(p for p in self.parts if isinstance(p, str))

    def __str__(self) -> str:
        return "".join(str(p) for p in self.parts)

    def __bool__(self) -> bool:
        return any(str(p) for p in self.parts)


def _latex(p) -> str:
    return p.latex() if isinstance(p, Identity) else sympy.latex(p)


def prose(*parts) -> Prose:
    """``Prose`` from its parts; a single :class:`Prose` is returned as is, ``""`` gives empty prose."""
    if len(parts) == 1 and isinstance(parts[0], Prose):
        return parts[0]
    return Prose(tuple(p for p in parts if not (isinstance(p, str) and p == "")))


def eq(lhs, rhs) -> Identity:
    """A claimed equality ``lhs = rhs``: printed, and evaluated by the numeric check."""
    return Identity(lhs, rhs, "=", True)


def cond(lhs, rhs, relation="=") -> Identity:
    """A condition, constraint or definition ``lhs relation rhs``: printed only, never evaluated."""
    return Identity(lhs, rhs, relation, False)
