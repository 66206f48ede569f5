"""The report as a LaTeX document (pdflatex; packages of a basic TeX Live install only)."""
from __future__ import annotations

import sympy

from . import cells
from .escape import inline_tokens, tex_text

_PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage[T1]{fontenc}
\usepackage[margin=2cm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{graphicx}
\usepackage{longtable}
\usepackage{array}
\usepackage[hidelinks]{hyperref}
\allowdisplaybreaks
\setlength{\emergencystretch}{3em}
% a formula wider than the line breaks after its left side, and each part is scaled down to the line if still
% wider (never past the margin)
\newsavebox{\fitbox}
\newcommand{\fitmath}[1]{\sbox{\fitbox}{$#1$}\ifdim\wd\fitbox>\linewidth\resizebox{\linewidth}{!}{\usebox{\fitbox}}\else\usebox{\fitbox}\fi}
\newcommand{\fitline}[1]{\sbox{\fitbox}{$\displaystyle #1$}\ifdim\wd\fitbox>\linewidth\resizebox{\linewidth}{!}{\usebox{\fitbox}}\else\usebox{\fitbox}\fi}
\newcommand{\fiteq}[3]{\par\smallskip\noindent\sbox{\fitbox}{$\displaystyle #1 #2 #3$}\ifdim\wd\fitbox>\linewidth\fitline{#1}\par\noindent\hspace*{2em}\parbox{\dimexpr\linewidth-2em}{\fitline{{} #2 #3}}\else\makebox[\linewidth]{\usebox{\fitbox}}\fi\par\smallskip}
"""


def _code(s):
    """Our own texts' inline Markdown (`code`, *emphasis*, **strong**) as LaTeX; everything escaped."""
    cmd = {"code": r"\texttt", "em": r"\emph", "strong": r"\textbf"}
    return "".join(tex_text(t) if kind == "text" else rf"{cmd[kind]}{{{tex_text(t)}}}"
                   for kind, t in inline_tokens(s))


def _eq(lhs, relation, rhs):
    """A displayed formula that fits the line (scaled down when wider)."""
    return rf"\fiteq{{{sympy.latex(lhs)}}}{{{relation}}}{{{sympy.latex(rhs)}}}"


def _tt(s):
    """Monospace text that may break after dots and underscores (theorem ids are long)."""
    return r"\texttt{" + tex_text(s).replace(".", r".\allowbreak{}").replace(r"\_", r"\_\allowbreak{}") + "}"


def _cols(*widths):
    """A longtable spec of ragged-right paragraph columns (cm)."""
    return "|" + "|".join(rf">{{\raggedright\arraybackslash}}p{{{w}cm}}" for w in widths) + "|"


def _longtable(spec, header, rows):
    out = [rf"\begin{{longtable}}{{{spec}}}", r"\hline", " & ".join(rf"\textbf{{{h}}}" for h in header) + r" \\",
           r"\hline\endhead"]
    out += [" & ".join(row) + r" \\ \hline" for row in rows]
    return out + [r"\end{longtable}"]


def _prose(p):
    """A justification or title: the words escaped, the mathematics inline (same printer as the statements)."""
    return p.render(tex_text, lambda tex: rf"\fitmath{{{tex}}}")


def _step(s):
    head = _prose(s.rule) + (rf" \emph{{(assuming {'; '.join(map(_prose, s.assumptions))})}}" if s.assumptions else "")
    note = [_prose(s.note)] if s.note else []
    return [rf"\item {head}", _eq(s.lhs, s.relation, s.rhs), rf"\textit{{Evidence:}} {tex_text(s.evidence)}", *note]


def _section(sec, figures):
    out = [rf"\section{{{tex_text(sec.title)} ({_tt(sec.name)})}}"]
    if sec.loss is not None:
        out += [rf"\subsection*{{The loss as the paper writes it (variant \texttt{{{tex_text(sec.loss_variant)}}})}}",
                _eq(sec.loss.lhs, sec.loss.relation, sec.loss.rhs)]
    for d in sec.derivations:
        out += [rf"\subsection*{{Derivation: {_prose(d.title)}}}", r"\begin{enumerate}"]
        for s in d.steps:
            out += _step(s)
        out += [r"\end{enumerate}", *([rf"\textbf{{Stops here:}} {_prose(d.stop)}", ""] if d.stop else []), rf"Overall: {tex_text(d.evidence.short())}"]
    if sec.closed_forms:
        out += [r"\subsection*{Closed forms (the solver's own profile)}",
                rf"\fitmath{{{cells.ZSTAR_TEX}}}: {tex_text(cells.ZSTAR_TEXT)}", ""]
        rows = [(tex_text(c.variant), tex_text(c.which), rf"\fitmath{{s(\lambda) = {sympy.latex(c.profile)}}}",
                 tex_text(c.description)) for c in sec.closed_forms]
        out += _longtable(_cols(2, 1.6, 5.5, 6),
                          ("variant", "end", "profile", "what is solved"), rows)
    rows = [(_tt(r["id"]), *(tex_text(c) for c in cells.row(r)[1:])) for r in sec.results]
    rows = [(rid, rf"\fitmath{{{sec.statement_math[r['id']]}}} (every step checked)", *rest)
            if r["id"] in sec.statement_math else (rid, statement, *rest)
            for r, (rid, statement, *rest) in zip(sec.results, rows)]
    out += [r"\subsection*{Theorems}", r"{\footnotesize"]
    out += _longtable(_cols(3.3, 4.5, 2.4, 1.2, 1.9, 1.6), ("theorem", "statement", "evidence", "ex.",
                                                            "worst error / tol", "verdict"), rows)
    out.append("}")
    refuted = [r for r in sec.results if r["verdict"] == "refuted"]
    if refuted:
        out.append(r"\subsection*{Counterexamples (shrunk by hypothesis)}")
    for r in refuted:
        out.append(rf"\paragraph{{{_tt(r['id'])}}} {tex_text(r['statement'])}")
        if r["id"] in figures:
            inst = r["instance"]
            out += [r"\begin{center}", rf"\includegraphics[width=6cm]{{img/{cells.figure_name(r)}}}",
                    r"\end{center}", tex_text(f"{cells.instance_caption(inst)}; edges: {cells.edge_list(inst)}")]
        out += [r"\begin{itemize}", *(rf"\item {tex_text(x)}" for x in cells.failing(r)), r"\end{itemize}"]
    return out


def _claims(report):
    out = [r"\section{Claims}", rf"\textbf{{{tex_text(cells.claims_summary(report.claims))}}}. "
           + tex_text(cells.CLAIMS_INTRO), "", tex_text(cells.claims_origin(report))]
    for c in report.claims:
        out += [rf"\subsection{{{tex_text(c.title)} ({_tt(c.id)})}}", r"\paragraph{The paper's wordings}",
                r"{\footnotesize"]
        out += _longtable(_cols(4, 12), ("source", "wording"), [(tex_text(s), tex_text(f"“{w}”")) for s, w in c.wordings])
        out += ["}", rf"\paragraph{{What we check}} {_code(c.statement)}", "",
                rf"\noindent Verdict: \textbf{{{tex_text(c.verdict)}}}"
                + (tex_text(f" — conditions: {c.conditions}") if c.conditions else ""),
                r"\paragraph{Evidence}", r"{\footnotesize"]
        out += _longtable(_cols(4, 12), ("measured", "value"),
                          [(_tt(k), r" \newline ".join(tex_text(x) for x in lines)) for k, lines in c.evidence])
        out.append("}")
        if c.figure is not None:
            out += [r"\begin{center}", rf"\includegraphics[width=\linewidth]{{img/{c.figure_name}}}",
                    r"\end{center}", _code(cells.claim_figure_caption(c))]
        else:
            out.append(tex_text(f"No figure of the experiment {c.experiment} was found."))
    return out


def _repro(report):
    env = report.environment
    out = [r"\section{Reproducibility}", r"\subsection*{Reproduce this report}", r"{\footnotesize\raggedright",
           *(rf"\texttt{{{tex_text(line)}}}\\" for line in cells.reproduce(report)), "}", ""]
    if not report.environment_recorded:
        out.append("The recorded run did not store its environment: shown is the one that built this report.")
    facts = [("source of the results", report.source), ("seed", report.run["seed"]),
             ("versions", cells.versions_line(report)),
             ("examples per theorem", report.run.get("examples", "?")), ("git commit", env.get("git_commit")),
             ("device", env.get("device", "?")),
             ("hypothesis settings", ", ".join(f"{k}={v}" for k, v in env.get("hypothesis", {}).items()))]
    if "wall_seconds" in report.run:
        facts.append(("wall time, whole run", cells.seconds(report.run["wall_seconds"])))
    facts += [(f"version of {k}", v) for k, v in env.get("packages", {}).items()]
    out += _longtable(_cols(4.5, 11.5), ("", ""), [(tex_text(a), tex_text(b)) for a, b in facts])
    out += [r"\subsection*{Wall time per theorem}"]
    out += _longtable(_cols(9, 2, 2), ("theorem", "wall time", "device"),
                      [(_tt(r["id"]), tex_text(cells.seconds(r["seconds"])),
                        tex_text(r.get("device", "?"))) for r in report.results])
    return out


def render_tex(report):
    """The report as a LaTeX document (str); pictures are included from ``img/<theorem id>.png``."""
    # ragged right: long ids and formulas in words never push a line past the margin
    out = [_PREAMBLE, rf"\title{{{tex_text(report.title)}}}", r"\date{}", r"\begin{document}", r"\maketitle",
           r"\raggedright",
           rf"\noindent\textbf{{{tex_text(cells.summary(report.results))}}}; seed {tex_text(report.run['seed'])}; "
           rf"{tex_text(report.run.get('examples', '?'))} hypothesis examples per theorem; results from "
           rf"{tex_text(report.source)}. A refuted claim recorded as refuted is a result, not a failure.",
           r"\tableofcontents"]
    for sec in report.sections:
        out += _section(sec, report.figures)
    if report.claims:
        out += _claims(report)
    out.append(r"\section{Loss conventions}")
    if report.conventions is None:
        out.append("docs/conventions.md was not found next to this installation.")
    else:
        header, rows = report.conventions
        out += [r"{\footnotesize"]
        out += _longtable(_cols(2.4, 4.6, 4.4, 4.4), [tex_text(h) for h in header],
                          [[_code(c) for c in row] for row in rows])
        out.append("}")
    out += _repro(report)
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"
