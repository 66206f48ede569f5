"""Render a derivation as Markdown, LaTeX, JSON or plain text.

Statements and the mathematics in justifications (:class:`~.prose.Prose`) go through the same printers:
``sympy.latex`` (Markdown ``$...$``, LaTeX) and ``str`` (plain text).
"""
from __future__ import annotations

import json

import sympy

from ..errors import InvalidArgument

FORMATS = ("md", "tex", "json", "text")


def render(derivation, fmt="md") -> str:
    """Render a :class:`~.steps.Derivation` as ``"md"``, ``"tex"``, ``"json"`` or ``"text"``."""
    if fmt not in FORMATS:
        raise InvalidArgument(f"unknown format {fmt!r}; use one of {FORMATS}.")
    return {"md": _md, "tex": _tex, "json": _json, "text": _text}[fmt](derivation)


def to_list(derivation):
    """The steps of a derivation as JSON-ready dicts."""
    return [
        {
            "lhs": {"srepr": sympy.srepr(s.lhs), "latex": sympy.latex(s.lhs)},
            "rhs": {"srepr": sympy.srepr(s.rhs), "latex": sympy.latex(s.rhs)},
            "relation": s.relation,
            "rule": str(s.rule),
            "rule_parts": prose_parts(s.rule),
            "assumptions": [str(a) for a in s.assumptions],
            "note": str(s.note),
            "check": s.check,
            "evidence": s.evidence.to_dict(),
        }
        for s in derivation.steps
    ]


def prose_parts(p):
    """A :class:`~.prose.Prose` as JSON-ready parts: ``{"text": ...}`` or ``{"latex": ..., "text": ...}``."""
    return [{"text": x} if isinstance(x, str) else {"latex": sympy.latex(x) if isinstance(x, sympy.Basic)
                                                    else x.latex(), "text": str(x)} for x in p.parts]


def prose_md(p):
    """Markdown: the words as they are, the mathematics as ``$...$``."""
    return p.render(str, lambda tex: f"${tex}$")


def prose_tex(p):
    """LaTeX text: the words escaped, the mathematics as ``$...$``."""
    return p.render(_tex_escape, lambda tex: f"${tex}$")


def _assuming(s, fmt):
    return "; ".join(fmt(a) for a in s.assumptions)


def _json(derivation):
    return json.dumps(to_list(derivation), indent=2)


def _md(derivation):
    out = [f"### {prose_md(derivation.title)}", ""]
    for t, s in enumerate(derivation.steps, 1):
        head = f"{t}. **{prose_md(s.rule)}**"
        if s.assumptions:
            head += " (assuming " + _assuming(s, prose_md) + ")"
        out += [head, "", f"   $$ {s.latex()} $$", "", f"   *Evidence:* {s.evidence}"]
        if s.note:
            out += ["", f"   {prose_md(s.note)}"]
        out.append("")
    if derivation.stop:
        out += [f"**Stops here:** {prose_md(derivation.stop)}", ""]
    out.append(f"Overall: {derivation.evidence.short()}")
    return "\n".join(out) + "\n"


def _tex(derivation):
    out = [f"% {derivation.title}", rf"\paragraph{{{prose_tex(derivation.title)}}}", r"\begin{align*}"]
    prev = None
    for t, s in enumerate(derivation.steps):
        label = prose_tex(s.rule) + (" [" + _assuming(s, prose_tex) + "]" if s.assumptions else "")
        ev = _tex_escape(s.evidence.short())
        lhs = "" if prev is not None and s.lhs == prev else sympy.latex(s.lhs)
        end = r" \\" if t < len(derivation.steps) - 1 else ""
        out.append(f"{lhs} &{s.relation} {sympy.latex(s.rhs)} && \\text{{{label}; {ev}}}{end}")
        prev = s.rhs
    out.append(r"\end{align*}")
    if derivation.stop:
        out.append(rf"\noindent\textbf{{Stops here:}} {prose_tex(derivation.stop)}")
    return "\n".join(out) + "\n"


def _text(derivation):
    out = [str(derivation.title)]
    for t, s in enumerate(derivation.steps, 1):
        out.append(f"{t}. {s.lhs} {s.relation} {s.rhs}")
        out.append(f"   by {s.rule}" + (f" [{_assuming(s, str)}]" if s.assumptions else ""))
        out.append(f"   evidence: {s.evidence}")
    if derivation.stop:
        out.append(f"stops here: {derivation.stop}")
    return "\n".join(out) + "\n"


_TEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "$": r"\$", "^": r"\^{}", "~": r"\~{}"}


def _tex_escape(s: str) -> str:
    # one pass, so the braces we insert are not escaped again
    return "".join(_TEX_ESCAPES.get(c, c) for c in s)
