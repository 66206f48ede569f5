"""Text made inert for each output format: every string a report prints goes through one of these.

A run or claims JSON is untrusted (:mod:`.schema`), and its strings reach HTML, Markdown and LaTeX.
Each helper here escapes everything its format would read as markup, after :func:`clean` has made
control characters and bidirectional marks visible (an RTL override could reorder what a reader sees).

=============  =====================================================================================
``html_text``  HTML text and quoted attribute values (``& < > " '`` as entities)
``md_text``    Markdown text and table cells (one line; ``\\ ` * _ [ ] | $ ~`` backslash-escaped, a ``<`` or ``&``
               that would open HTML as an entity, a leading ``# > + = -`` escaped)
``md_code``    a Markdown code span, fenced with more backticks than the text holds
``tex_text``   LaTeX text (the ten special characters as commands, Unicode mapped, other non-ASCII ``?``)
=============  =====================================================================================
"""
from __future__ import annotations

import html
import re

#: C0/C1 controls (tab, newline, carriage return aside) and the Unicode bidirectional formatting marks
_HIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")

_MD_ACTIVE = re.compile(r"([\\`*_\[\]|$~])")
#: what would start raw HTML (a tag, comment, declaration) or an entity; ``<->``, ``<=`` and ``>=`` stay readable
_MD_HTML = re.compile(r"<(?=[A-Za-z/!?])|&(?=#?[A-Za-z0-9]+;)")

#: characters LaTeX reads as commands, and the Unicode our texts use, as pdflatex-safe text
_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
        "$": r"\$", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}", "<": r"\textless{}",
        ">": r"\textgreater{}", "|": r"\textbar{}", "\n": " ", "\r": " ", "\t": " ",
        "≤": r"$\le$", "≥": r"$\ge$", "≠": r"$\ne$", "∝": r"$\propto$", "↔": r"$\leftrightarrow$",
        "→": r"$\to$", "←": r"$\leftarrow$", "²": r"\textsuperscript{2}", "³": r"\textsuperscript{3}",
        "‖": r"$\|$", "√": r"$\surd$", "−": "-", "–": "--", "—": "---", "×": r"$\times$", "·": r"$\cdot$",
        "⋆": r"$\star$", "∞": r"$\infty$", "“": "``", "”": "''", "’": "'", "…": r"\dots{}",
        "ᵀ": r"\textsuperscript{T}", "°": r"\textdegree{}", "§": r"\S{}",
        "α": r"$\alpha$", "β": r"$\beta$", "γ": r"$\gamma$", "λ": r"$\lambda$", "ρ": r"$\rho$", "τ": r"$\tau$",
        "μ": r"$\mu$", "σ": r"$\sigma$", "Σ": r"$\Sigma$", "ε": r"$\varepsilon$", "∈": r"$\in$", "≈": r"$\approx$"}


def clean(text):
    """``str(text)`` with hidden characters shown as ``\\uXXXX`` (controls, bidi marks, BOM)."""
    return _HIDDEN.sub(lambda m: f"\\u{ord(m.group()):04x}", str(text))


def html_text(text):
    """Text safe in HTML element content and in a double- or single-quoted attribute value."""
    return html.escape(clean(text), quote=True)


def md_text(text):
    """Text safe in Markdown (GitHub's included) and inside a table cell: nothing it holds is markup."""
    one_line = re.sub(r"\s*[\r\n]+\s*", " ", clean(text))
    text = _MD_ACTIVE.sub(r"\\\1", _MD_HTML.sub(lambda m: "&lt;" if m.group() == "<" else "&amp;", one_line))
    # at the start only: a numbered or bulleted list, a heading, a quote, a rule
    return re.sub(r"^(\s*\d*)([.)](?=\s|$)|#+(?=\s|$)|[-+](?=\s|$)|>|[-=]{2,})", r"\1\\\2", text)


def md_code(text):
    """A Markdown code span holding ``text`` verbatim (one line), whatever backticks it contains."""
    body = re.sub(r"\s*[\r\n]+\s*", " ", clean(text)).replace("|", r"\|")  # GFM: a bare | would end a table cell, even in code
    fence = "`" * (max((len(run) for run in re.findall(r"`+", body)), default=0) + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def tex_text(text):
    """Plain text made safe for LaTeX (special characters escaped, Unicode mapped; other non-ASCII as ``?``)."""
    return "".join(_TEX.get(c, c if ord(c) < 128 else "?") for c in clean(text))


_INLINE = re.compile(r"`(?P<code>[^`]*)`|\*\*(?P<strong>[^*\s][^*]*?)\*\*|(?<![\w*])\*(?P<em>[^*\s][^*]*?)\*(?![\w*])")


def inline_tokens(text):
    """Our own texts' inline Markdown as ``[(kind, text)]``, kind ``text`` / ``code`` / ``em`` / ``strong``.

    For texts the project writes (docs/conventions.md, claim statements); each renderer escapes every piece.
    """
    text, out, at = str(text), [], 0
    for m in _INLINE.finditer(text):
        if m.start() > at:
            out.append(("text", text[at:m.start()]))
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        at = m.end()
    if at < len(text):
        out.append(("text", text[at:]))
    return out
