"""Render a derivation as Markdown, LaTeX, JSON or plain text."""
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
            "rule": s.rule,
            "assumptions": list(s.assumptions),
            "note": s.note,
            "check": s.check,
            "evidence": s.evidence.to_dict(),
        }
        for s in derivation.steps
    ]


def _json(derivation):
    return json.dumps(to_list(derivation), indent=2)


def _md(derivation):
    out = [f"### {derivation.title}", ""]
    for t, s in enumerate(derivation.steps, 1):
        head = f"{t}. **{s.rule}**"
        if s.assumptions:
            head += " (assuming " + "; ".join(s.assumptions) + ")"
        out += [head, "", f"   $$ {s.latex()} $$", "", f"   *Evidence:* {s.evidence}"]
        if s.note:
            out += ["", f"   {s.note}"]
        out.append("")
    if derivation.stop:
        out += [f"**Stops here:** {derivation.stop}", ""]
    out.append(f"Overall: {derivation.evidence.short()}")
    return "\n".join(out) + "\n"


def _tex(derivation):
    out = [f"% {derivation.title}", r"\begin{align*}"]
    prev = None
    for t, s in enumerate(derivation.steps):
        label = _tex_escape(s.rule + (" [" + "; ".join(s.assumptions) + "]" if s.assumptions else ""))
        ev = _tex_escape(s.evidence.short())
        lhs = "" if prev is not None and s.lhs == prev else sympy.latex(s.lhs)
        end = r" \\" if t < len(derivation.steps) - 1 else ""
        out.append(f"{lhs} &{s.relation} {sympy.latex(s.rhs)} && \\text{{{label}; {ev}}}{end}")
        prev = s.rhs
    out.append(r"\end{align*}")
    if derivation.stop:
        out.append(f"% stops here: {derivation.stop}")
    return "\n".join(out) + "\n"


def _text(derivation):
    out = [derivation.title]
    for t, s in enumerate(derivation.steps, 1):
        out.append(f"{t}. {s.lhs} {s.relation} {s.rhs}")
        out.append(f"   by {s.rule}" + (f" [{'; '.join(s.assumptions)}]" if s.assumptions else ""))
        out.append(f"   evidence: {s.evidence}")
    if derivation.stop:
        out.append(f"stops here: {derivation.stop}")
    return "\n".join(out) + "\n"


_TEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "$": r"\$", "^": r"\^{}", "~": r"\~{}"}


def _tex_escape(s: str) -> str:
    # one pass, so the braces we insert are not escaped again
    return "".join(_TEX_ESCAPES.get(c, c) for c in s)
