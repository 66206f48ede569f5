"""Run and claims JSON files are untrusted input: read them within limits and check them against a schema.

A run file (``verify --json``) or a claims file (``claims --json``) is exchanged between
researchers, so a report must never trust it: :func:`read_json` refuses files over
:data:`MAX_BYTES`, nested deeper than :data:`MAX_DEPTH` (counted before ``json.loads`` recurses),
not UTF-8 (UTF-16, binary), with ``NaN`` or integers too long to be a count; :func:`check`
then walks the document against a schema written as plain data (:data:`RUN`, :data:`CLAIMS`).
Every error names the JSON path of the bad field (``results[3].instance.edges[0][1]``), what it
should be, and how to get a good file; nothing is written before the check passes.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

import ssl_proofs
from ssl_proofs.claims import VERDICTS, list_claims
from ssl_proofs.errors import InvalidArgument
from ssl_proofs.evidence import LEVELS
from ssl_proofs.theorems import EXPECTED

#: largest run or claims file read (bytes); the recorded full run is ~110 KB
MAX_BYTES = 32 * 2 ** 20
#: deepest nesting of arrays / objects accepted (a run needs 5: results[].instance.edges[][])
MAX_DEPTH = 32
#: longest string value (characters); the longest recorded one is under 2,000
MAX_STRING = 20_000
#: most items of one array (results, edges, rows of X)
MAX_ITEMS = 100_000
#: most nodes / edges of a counterexample instance a report draws (shrunk ones have ~10; drawing 10^4 would hang)
MAX_NODES = 500
MAX_EDGES = 20_000

#: a theorem id, a method, a variant, an experiment: dotted lower-case names, never a path
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_+-]*(\.[A-Za-z0-9_+-]+)*")


class _Bad(Exception):
    """A schema violation at a JSON path (turned into :class:`InvalidArgument` by :func:`check`)."""

    def __init__(self, path, problem):
        super().__init__(path, problem)
        self.path, self.problem = path, problem


# -- reading within limits ------------------------------------------------------------------------

def _refuse_constant(name):
    raise ValueError(f"the literal {name} is not a number a run may hold")


def _finite_or_inf(text):
    value = float(text)
    if math.isnan(value):
        raise ValueError(f"the number {text} is not finite")
    return value


def _int(text):
    if len(text.lstrip("-")) > 30:  # no count, seed or index needs more; int() of a long string is slow
        raise ValueError(f"the integer {text[:20]}… has {len(text)} digits")
    return int(text)


def _constant(name):
    if name == "Infinity":  # a failing measurement's error may be infinite (a solver returned no finite array)
        return math.inf
    return _refuse_constant(name)


def nesting_depth(text):
    """The deepest nesting of ``[`` / ``{`` in a JSON text, counted outside strings (no recursion)."""
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', "", text)
    steps = np.frombuffer(bare.encode("ascii", "ignore"), dtype=np.uint8)
    steps = steps[np.isin(steps, np.frombuffer(b"[]{}", dtype=np.uint8))]
    if steps.size == 0:
        return 0
    depth = np.cumsum(np.where((steps == ord("[")) | (steps == ord("{")), 1, -1))
    return int(depth.max())


def read_json(path, flag, remedy):
    """The JSON document at ``path`` (given as ``flag``), read within the limits above.

    Raises
    ------
    InvalidArgument
        Unreadable, not a regular file, too large, not UTF-8, too deep, not JSON, NaN, or an over-long integer;
        the message ends with ``remedy``.
    """
    shown = f"{flag} {path}"
    p = Path(path)
    try:
        if p.exists() and not p.is_file():
            raise InvalidArgument(f"{shown}: not a regular file (a folder, FIFO or device); {remedy}")
        with open(p, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InvalidArgument(f"{shown}: cannot read it ({exc.strerror}); {remedy}") from None
    if len(raw) > MAX_BYTES:
        raise InvalidArgument(f"{shown}: larger than {MAX_BYTES // 2 ** 20} MiB, far beyond any run or claims file; "
                              f"{remedy}")
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in raw:
        raise InvalidArgument(f"{shown}: UTF-16/32 or binary data (NUL bytes), not a UTF-8 JSON file; save it as "
                              f"UTF-8, or {remedy}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidArgument(f"{shown}: not UTF-8 text (byte {exc.start}); save it as UTF-8, or {remedy}") from None
    depth = nesting_depth(text)
    if depth > MAX_DEPTH:
        raise InvalidArgument(f"{shown}: arrays/objects nested {depth} deep (at most {MAX_DEPTH}); {remedy}")
    try:
        return json.loads(text, parse_constant=_constant, parse_float=_finite_or_inf, parse_int=_int)
    except ValueError as exc:  # JSONDecodeError is a ValueError, and so are the refusals above
        raise InvalidArgument(f"{shown}: not JSON ({exc}); {remedy}") from None
    except RecursionError:  # only reachable if MAX_DEPTH were raised past the interpreter's limit
        raise InvalidArgument(f"{shown}: nested too deep to read; {remedy}") from None


# -- the schema as data ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Spec:
    """What one JSON value must be: a ``kind`` and its bounds.

    ``kind`` is one of ``str``, ``int``, ``num``, ``bool``, ``list``, ``obj``, ``map``, ``any``;
    ``item`` is the spec of a list's items or a map's values; ``keys`` / ``optional`` the fields of an object;
    ``choices`` a closed set of values; ``pattern`` a full-match regex; ``check`` a last test
    (``check(value) -> problem or None``).
    """

    kind: str
    nullable: bool = False
    lo: Optional[float] = None
    hi: Optional[float] = None
    inf: bool = False
    choices: Optional[tuple] = None
    pattern: Optional[re.Pattern] = None
    item: Optional["Spec"] = None
    keys: dict = field(default_factory=dict)
    optional: dict = field(default_factory=dict)
    length: Optional[int] = None
    check: Optional[Callable] = None
    what: str = "a dotted name of letters, digits, '_', '-' (no '/', no '..')"


def S(**kw):
    return Spec("str", **kw)


def I(lo=None, hi=None, **kw):  # noqa: E743 - one letter per kind keeps the schema readable
    return Spec("int", lo=lo, hi=hi, **kw)


def N(lo=None, **kw):
    return Spec("num", lo=lo, **kw)


def L(item, **kw):
    return Spec("list", item=item, **kw)


def O(keys, optional=None, **kw):  # noqa: E741
    return Spec("obj", keys=keys, optional=optional or {}, **kw)


def M(item, **kw):
    return Spec("map", item=item, **kw)


BOOL = Spec("bool")
ANY = Spec("any", nullable=True)
COUNT = I(0, 2 ** 63)
SECONDS = N(0)
NAME_S = S(pattern=NAME)

_JSON_TYPE = {dict: "an object", list: "an array", str: "a string", bool: "true/false", int: "an integer",
              float: "a number", type(None): "null"}


def _type(v):
    return _JSON_TYPE.get(type(v), type(v).__name__)


def _walk(value, spec, path):
    if value is None:
        if spec.nullable:
            return
        raise _Bad(path, f"is null; expected {spec.kind if spec.kind != 'obj' else 'an object'}")
    kind = spec.kind
    if kind == "any":
        _walk_any(value, path)
    elif kind == "str":
        if not isinstance(value, str):
            raise _Bad(path, f"is {_type(value)}; expected a string")
        if len(value) > MAX_STRING:
            raise _Bad(path, f"is a string of {len(value)} characters (at most {MAX_STRING})")
        if spec.pattern is not None and not spec.pattern.fullmatch(value):
            raise _Bad(path, f"is {value[:60]!r}; expected {spec.what}")
    elif kind == "bool":
        if not isinstance(value, bool):
            raise _Bad(path, f"is {_type(value)}; expected true or false")
    elif kind in ("int", "num"):
        ok = (int,) if kind == "int" else (int, float)
        if isinstance(value, bool) or not isinstance(value, ok):
            raise _Bad(path, f"is {_type(value)} ({str(value)[:40]!r}); expected "
                             f"{'an integer' if kind == 'int' else 'a number'}")
        if isinstance(value, float) and math.isinf(value) and not spec.inf:
            raise _Bad(path, "is infinite; expected a finite number")
        if spec.lo is not None and value < spec.lo or spec.hi is not None and value > spec.hi:
            raise _Bad(path, f"is {value!r}; expected a value in [{spec.lo}, {spec.hi if spec.hi is not None else '∞'}]")
    elif kind in ("list", "map", "obj"):
        _walk_container(value, spec, path)
    if spec.choices is not None and value not in spec.choices:
        raise _Bad(path, f"is {str(value)[:60]!r}; expected one of {', '.join(map(str, spec.choices))}")
    if spec.check is not None:
        problem = spec.check(value)
        if problem:
            raise _Bad(path, problem)


def _walk_container(value, spec, path):
    if spec.kind == "list":
        if not isinstance(value, list):
            raise _Bad(path, f"is {_type(value)}; expected an array")
        if len(value) > MAX_ITEMS or spec.length is not None and len(value) != spec.length:
            raise _Bad(path, f"has {len(value)} items; expected "
                             f"{spec.length if spec.length is not None else f'at most {MAX_ITEMS}'}")
        for t, v in enumerate(value):
            _walk(v, spec.item, f"{path}[{t}]")
        return
    if not isinstance(value, dict):
        raise _Bad(path, f"is {_type(value)}; expected an object")
    if spec.kind == "map":
        if len(value) > MAX_ITEMS:
            raise _Bad(path, f"has {len(value)} keys (at most {MAX_ITEMS})")
        for k, v in value.items():
            _walk(k, S(), f"{path} key {k[:40]!r}")
            _walk(v, spec.item, f"{path}[{k[:40]!r}]")
        return
    missing = [k for k in spec.keys if k not in value]
    if missing:
        raise _Bad(path or "the top level", f"lacks {missing}")
    for k, sub in {**spec.keys, **spec.optional}.items():
        if k in value:
            _walk(value[k], sub, f"{path}.{k}" if path else k)


def _walk_any(value, path):
    """Any JSON value (numbers finite, strings bounded): evidence tables of the claims run."""
    if isinstance(value, dict):
        _walk_container(value, M(ANY), path)
    elif isinstance(value, list):
        _walk_container(value, L(ANY), path)
    elif isinstance(value, float) and not math.isfinite(value):
        raise _Bad(path, "is not finite; expected a finite number")
    elif isinstance(value, str):
        _walk(value, S(), path)


def check(value, spec, shown, remedy):
    """Raise :class:`InvalidArgument` (naming the JSON path and ``remedy``) unless ``value`` meets ``spec``."""
    try:
        _walk(value, spec, "")
    except _Bad as bad:
        where = bad.path or "the top level"
        raise InvalidArgument(f"{shown}: {where} {bad.problem}; {remedy}") from None


# -- the run file (``verify --json``) -------------------------------------------------------------

def _edges_in_range(inst):
    n = inst["N"]
    for t, (a, b, _w) in enumerate(inst["edges"]):
        if not (0 <= a < n and 0 <= b < n):
            return f"edge {t} ({a}, {b}) names a node outside 0..{n - 1} (N = {n})"
    if inst.get("labels") is not None and len(inst["labels"]) != n:
        return f"has {len(inst['labels'])} labels for N = {n} nodes"
    if not 1 <= inst["k"] <= max(n, 1):
        return f"has k = {inst['k']} outside 1..N = {n}"
    return None


def _methods():
    return tuple(ssl_proofs.list_methods())


MEASUREMENT = O({"check": S(), "error": N(inf=True), "tol": N()}, {"why": S(nullable=True)})
SCALAR = Spec("any", check=lambda v: None if v is None or isinstance(v, (str, int, float, bool))
              else f"is {_type(v)}; expected a number, a string, true/false or null")
INSTANCE = O({"N": I(1, MAX_NODES), "edges": L(L(N(), length=3, check=lambda e: None if all(
                  isinstance(x, int) and not isinstance(x, bool) for x in e[:2]) else "nodes must be integers"),
                  check=lambda es: None if len(es) <= MAX_EDGES else f"has {len(es)} edges (at most {MAX_EDGES})"),
              "k": I(1, MAX_NODES), "variant": S(nullable=True, pattern=NAME)},
             {"hyper": M(SCALAR), "labels": L(I(0, MAX_NODES), nullable=True), "X": L(L(N()), nullable=True)},
             nullable=True, check=_edges_in_range)
EVIDENCE = O({"level": S(choices=LEVELS)},
             {"detail": S(nullable=True), "n": I(0, nullable=True), "m": I(0, nullable=True),
              "tol": N(0, nullable=True), "counterexample": S(nullable=True), "lemma": S(nullable=True)})
RESULT = O({"id": NAME_S, "method": Spec("str", check=lambda m: None if m in _methods() else
                                         f"is {m[:60]!r}, not a method of this ssl-proofs ({', '.join(_methods())})"),
            "statement": S(), "expected": S(choices=EXPECTED), "verdict": S(choices=("holds", "refuted")),
            "evidence": EVIDENCE, "examples": COUNT, "worst": Spec("obj", nullable=True, keys=MEASUREMENT.keys,
                                                                   optional=MEASUREMENT.optional),
            "seconds": SECONDS},
           {"source": S(nullable=True), "matches": BOOL, "counterexample": S(nullable=True),
            "failing": L(MEASUREMENT), "unclear": L(MEASUREMENT), "cpu_seconds": SECONDS,
            "device": S(), "instance": INSTANCE})
ENVIRONMENT = O({}, {"packages": M(S()), "git_commit": S(pattern=re.compile(r"[0-9a-f]{7,64}(\+dirty)?|unknown"),
                                                         what="a hex commit hash (optionally +dirty) or 'unknown'"),
                     "device": S(), "hypothesis": M(ANY)})


def _unique_ids(results):
    seen = set()
    for r in results:
        if r["id"] in seen:
            return f"holds the theorem id {r['id']!r} twice"
        seen.add(r["id"])
    return None


RUN = O({"seed": COUNT, "results": L(RESULT, check=_unique_ids)},
        {"examples": COUNT, "environment": ENVIRONMENT, "wall_seconds": SECONDS})


# -- the claims file (``claims --json``) ----------------------------------------------------------

def _registered_experiment(record):
    """A claim's experiment must be the registry's: it names a figure file, so it is never taken on trust."""
    known = {c.id: c.experiment for c in list_claims()}
    if record["id"] in known and record["experiment"] != known[record["id"]]:
        return (f"names the experiment {record['experiment'][:60]!r}; the claim {record['id']!r} is decided by "
                f"{known[record['id']]!r}")
    return None


CLAIM = O({"id": NAME_S, "title": S(), "wordings": M(S()), "statement": S(), "experiment": NAME_S,
           "verdict": S(choices=VERDICTS), "conditions": S(nullable=True), "evidence": M(ANY)},
          {"decision": S(nullable=True)}, check=_registered_experiment)
CLAIMS = O({"seed": COUNT, "claims": L(CLAIM)}, {"full": BOOL})
