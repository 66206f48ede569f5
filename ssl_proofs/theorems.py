"""Theorems as data: what a method claims, and what we expect a check to find.

A :class:`Theorem` is a claim of the paper (or of our reconstruction of it)
stated precisely enough for a verifier to attack it.  The theory side says
*what* is claimed (``claim`` names the kind of claim, ``params`` holds its
data: a variant, a predictor function, ...); the ``ssl_proofs_verifiers`` package says
*how* to attack each kind of claim.  ``expected`` records the verdict our
analysis predicts: ``"holds"``, or ``"refuted"`` for a claim of the paper
that the checks disprove (a result, not a failure).

Parameters have a schema
------------------------
Each claim kind declares the keys its ``params`` may hold and their types,
where the kind is registered: the verifiers' ``@claim(kind, params={...})``
calls :func:`declare_claim` (this package never imports ``ssl_proofs_verifiers``, so the
schemas are *filled in* from there).  A theorem is checked against its kind's
schema when it is built (once the kind is declared) and again, together with
the claim kind itself, when the verifiers load their claim modules
(:func:`check_theorems`): a typo such as ``"graph"`` for ``"graphs"`` fails at
import, not at run time.  :data:`COMMON_PARAMS` are the keys every kind takes
(how instances are drawn, ``verifiers/instances.py``).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Callable, Mapping

from .errors import InvalidArgument

EXPECTED = ("holds", "refuted")

#: keys every claim kind takes: the variant and how its instances are drawn
COMMON_PARAMS = {"variant": str, "graphs": str, "instances": str, "k_min": int, "k_max": int,
                 "k_le_components": bool}

#: claim kind -> {key: type}, declared by the checks (:func:`declare_claim`)
_SCHEMAS = {}
#: instance builder name (``params["instances"]``) -> {key: type} it reads (:func:`declare_instances`)
_INSTANCE_SCHEMAS = {}


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
        if self.claim in _SCHEMAS:
            check_params(self)


@dataclass(frozen=True)
class Subspace:
    """The span of a method's closed-form optimum, named as data (``same_subspace`` claims).

    A method declares what its optimum is equivalent to in its own theorems
    (``params={"same_as": Subspace("vicreg", "constrained", with_constant=True)}``); the
    verifiers build the two spans and compare their projectors.

    Parameters
    ----------
    method : str
        Registry name of the method whose closed form spans the subspace.
    variant : str, optional
        Its closed-form variant (default: the method's first).
    with_constant : bool
        Add the constant vector to the span (methods whose loss is centred drop it; their
        span is compared with ``span{1, Z*}``, which needs K - 1 >= 1 directions of the method).
    label : str, optional
        Short name in the measurement (default: ``method``).
    """

    method: str
    variant: str = None
    with_constant: bool = False
    label: str = None

    @property
    def name(self):
        return self.label or self.method


def declare_claim(kind, params=None):
    """Declare the parameters of claims of kind ``kind``: ``{key: type}`` beyond :data:`COMMON_PARAMS`.

    A type is a Python type (``float`` accepts ``int`` too), a tuple of types, or
    ``typing.Callable`` for a function.
    """
    schema = dict(COMMON_PARAMS)
    schema.update(params or {})
    _SCHEMAS[kind] = schema
    return schema


def declare_instances(name, params=None):
    """Declare the parameters an instance builder (``params["instances"] == name``) reads; a theorem
    drawing its instances from it may hold them whatever its claim kind."""
    _INSTANCE_SCHEMAS[name] = dict(params or {})
    return _INSTANCE_SCHEMAS[name]


def claim_schema(kind):
    """The declared ``{key: type}`` of a claim kind (``None`` if not declared)."""
    return _SCHEMAS.get(kind)


def _type_ok(value, typ):
    if typ is Callable:
        return callable(value)
    types = typ if isinstance(typ, tuple) else (typ,)
    if float in types and isinstance(value, int) and not isinstance(value, bool):
        return True
    if bool not in types and isinstance(value, bool):
        return False
    return isinstance(value, types)


def _type_name(typ):
    if typ is Callable:
        return "a function"
    return " or ".join(t.__name__ for t in (typ if isinstance(typ, tuple) else (typ,)))


def check_params(theorem):
    """Raise :class:`InvalidArgument` when ``theorem.params`` has a key or a type its claim kind does not declare."""
    # no "instances" key: the default builder "graph" (verifiers.instances)
    schema = {**_INSTANCE_SCHEMAS.get(theorem.params.get("instances", "graph"), {}), **_SCHEMAS[theorem.claim]}
    for key, value in theorem.params.items():
        if key not in schema:
            near = difflib.get_close_matches(key, schema, n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise InvalidArgument(
                f"Theorem {theorem.id}: claim kind {theorem.claim!r} takes no parameter {key!r}; {hint}"
                f"it takes {sorted(schema)}. Fix the key, or declare it where the kind is registered "
                "(@claim(kind, params=...))."
            )
        if not _type_ok(value, schema[key]):
            raise InvalidArgument(
                f"Theorem {theorem.id}: parameter {key!r} must be {_type_name(schema[key])}, got {value!r}."
            )


def check_theorems(theorems, known_kinds):
    """Check every theorem: its claim kind is one of ``known_kinds`` and its parameters fit the kind's schema."""
    for t in theorems:
        if t.claim not in known_kinds:
            near = difflib.get_close_matches(t.claim, list(known_kinds), n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise InvalidArgument(
                f"Theorem {t.id}: unknown claim kind {t.claim!r}; {hint}known kinds: {sorted(known_kinds)}."
            )
        if t.claim in _SCHEMAS:
            check_params(t)
