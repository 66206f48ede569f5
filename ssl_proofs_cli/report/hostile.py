"""Hostile run and claims files for tests and fuzzing: valid containers with hostile contents.

The generator hook for a fuzz target (issue 18): :func:`hostile_run_json` and
:func:`hostile_claims_json` are hypothesis strategies of ``bytes`` that start from a valid
document (``base``, e.g. ``docs/results/verify.json``) and break it the way a forged or damaged
file would: one field replaced by a wrong type, a path, a huge or non-finite number, deep nesting,
a hostile string; or the whole file re-encoded (UTF-16), truncated, padded with binary.
``report --from-json`` / ``--claims-json`` must answer every one with exit 2 and a message naming
the field, or (for hostile *strings* in free-text fields, which are valid) a report in which
nothing is markup. :data:`HOSTILE_STRINGS` lists the strings every output format is tested with.

Usage from a fuzz target::

    from hypothesis import given
    from ssl_proofs_cli.report.hostile import hostile_run_json

    @given(hostile_run_json(json.loads(Path("docs/results/verify.json").read_text())))
    def test_reader(data): ...
"""
from __future__ import annotations

import copy
import json

from hypothesis import strategies as st

#: strings that are markup, commands or tricks in some output format (HTML, Markdown, LaTeX, a terminal)
HOSTILE_STRINGS = (
    '"><script>alert(1)</script>', "' onmouseover='alert(1)", '" onmouseover="alert(1)" x="', "<img src=x onerror=1>",
    "`rm -rf ~`", "```\nfence", "a | b | c", "**bold** _it_ [link](javascript:alert(1))", "![x](/etc/passwd)",
    r"\input{/etc/passwd}", r"\write18{touch /tmp/pwned}", r"\immediate\write18{id}", "$x^2$", "100% # _ {} ~ ^ &",
    r"\end{document}", "line1\nline2\r\nline3", "bell\x07nul-free\x1b[31mred", "\u202eevil\u202c RTL override",
    "\u200fmark\u200e", "\ufeffbom", "&lt;already&gt; &amp;", "<!-- comment -->", "../../etc/passwd", "C:\\Windows",
)

#: values that are no field's type, or out of any field's range, or a path where a name is expected
_WRONG = (
    "3", "", None, True, [], {}, -1, 2 ** 80, 1e308, -1e308, 0.5, "../../../tmp/owned", "/tmp/owned", "a/b",
    "..", ".", "x" * 30_000, [[[[1]]]], {"$ref": "#"},
)


def _paths(doc, prefix=()):
    """Every JSON path (tuple of keys / indices) in ``doc``, the root excluded."""
    out = []
    if isinstance(doc, dict):
        items = doc.items()
    elif isinstance(doc, list):
        items = enumerate(doc)
    else:
        return out
    for k, v in items:
        out.append(prefix + (k,))
        out += _paths(v, prefix + (k,))
    return out


def with_value(doc, path, value):
    """A deep copy of ``doc`` with the field at ``path`` (a tuple of keys / indices) set to ``value``."""
    doc = copy.deepcopy(doc)
    node = doc
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return doc


def _encode(doc, how):
    """``doc`` as the bytes of a damaged file (``how``: the damage)."""
    text = json.dumps(doc)
    if how == "utf16":
        return text.encode("utf-16")
    if how == "utf32":
        return text.encode("utf-32")
    if how == "truncated":
        return text.encode()[: max(1, len(text) // 2)]
    if how == "binary":
        return b"\x89PNG\r\n\x1a\n\x00\x00" + text.encode()
    if how == "latin1":
        return text.replace('"seed"', '"s\u00e9ed"').encode("latin-1", "replace")
    if how == "nan":
        return text.replace('"seed": ', '"seed": NaN, "x": ', 1).encode()
    if how == "deep":
        return ("[" * 100_000 + "]" * 100_000).encode()
    if how == "deep_in_field":
        return text.replace('"seed": ', '"pad": ' + "[" * 5000 + "]" * 5000 + ', "seed": ', 1).encode()
    if how == "huge_int":
        return text.replace('"seed": ', '"seed": 1' + "0" * 5000 + ', "x": ', 1).encode()
    return text.encode()


def _broken(base):
    """Strategy: ``base`` with one field made wrong (not a valid document any more, as far as it can tell)."""
    paths = _paths(base)
    return st.tuples(st.sampled_from(paths), st.sampled_from(_WRONG)).map(lambda pv: with_value(base, *pv))


def hostile_json(base):
    """Strategy of ``bytes``: ``base`` (a valid run or claims document) damaged or forged.

    Mixes one-field breakage (:data:`_WRONG` at any path), whole-file damage (UTF-16/32, truncation, binary,
    Latin-1, NaN, 100,000-deep nesting, a 5,000-digit integer) and valid documents whose free-text fields
    hold :data:`HOSTILE_STRINGS`.
    """
    damage = st.sampled_from(("utf16", "utf32", "truncated", "binary", "latin1", "nan", "deep", "deep_in_field",
                              "huge_int"))
    strings = st.tuples(st.sampled_from([p for p in _paths(base) if isinstance(_get(base, p), str)]),
                        st.sampled_from(HOSTILE_STRINGS)).map(lambda pv: with_value(base, *pv))
    return st.one_of(
        _broken(base).map(lambda d: _encode(d, "plain")),
        damage.map(lambda how: _encode(base, how)),
        strings.map(lambda d: _encode(d, "plain")),
    )


def _get(doc, path):
    for k in path:
        doc = doc[k]
    return doc


def hostile_run_json(base):
    """Strategy of ``bytes``: a damaged or forged ``verify --json`` run built from the valid run ``base``."""
    return hostile_json(base)


def hostile_claims_json(base):
    """Strategy of ``bytes``: a damaged or forged ``claims --json`` run built from the valid claims run ``base``."""
    return hostile_json(base)
