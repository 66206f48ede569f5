"""The report as Markdown with GitHub math (```math blocks), pictures as files under ``img/``.

:func:`theorem_table` and :func:`counterexamples` are also what the generated
blocks of docs/ hold, so the pages and the report cannot say different things.
"""
from __future__ import annotations

import sympy

from . import cells
from .escape import inline_tokens, md_code, md_text

#: a string as Markdown text (escaped: nothing in it is markup); every untrusted string goes through it
cell = md_text


def inline(text):
    """Our own texts' inline Markdown kept (`code` spans, *emphasis*), everything else escaped."""
    wrap = {"text": md_text, "code": md_code, "em": lambda t: f"*{md_text(t)}*", "strong": lambda t: f"**{md_text(t)}**"}
    return "".join(wrap[kind](t) for kind, t in inline_tokens(text))


def table(header, rows):
    """A GitHub Markdown table; the header is escaped here, the cells come escaped (:func:`cell`, :func:`md_code`)."""
    out = ["| " + " | ".join(md_text(h) for h in header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def math_block(tex):
    return ["```math", tex, "```"]


def theorem_table(results, statement_math=None):
    """The theorem table (id, statement, evidence, examples, worst error / tol, verdict) as lines; a statement
    with mathematics in ``statement_math`` (theorem id -> LaTeX, from the checked objects) is printed as it."""
    rows = []
    for r in results:
        rid, statement, ev, ex, worst, verdict = (md_text(c) for c in cells.row(r))
        if r["verdict"] != "holds" or r["verdict"] != r["expected"]:
            verdict = f"**{verdict}**"
        if statement_math and r["id"] in statement_math:
            statement = f"${statement_math[r['id']]}$ (every step checked)".replace("|", r"\|")
        rows.append((md_code(r["id"]), statement, ev, ex, worst, verdict))
    return table(cells.THEOREM_COLUMNS, rows)


def counterexamples(results, img_dir="img"):
    """One paragraph (picture + numbers) per refuted result, as lines."""
    out = []
    for r in results:
        if r["verdict"] != "refuted":
            continue
        out += ["", f"#### {md_code(r['id'])} — {md_text(r['statement'])}", ""]
        if cells.drawable(r):
            inst = r["instance"]
            out += [f"![counterexample graph of {md_text(r['id'])}]({img_dir}/{cells.figure_name(r)})", "",
                    md_text(f"{cells.instance_caption(inst)}; edges: {cells.edge_list(inst)}"), ""]
        out += [f"- {md_text(x)}" for x in cells.failing(r)]
        if r.get("counterexample"):
            out += ["", f"Shrunk counterexample: {md_text(r['counterexample'])}"]
    return out


def prose(p):
    """A justification or title: the words escaped, the mathematics as ``$...$`` (same printer as statements)."""
    return p.render(md_text, lambda tex: f"${tex}$")


def _step(t, s):
    head = f"{t}. **{prose(s.rule)}**" + (f" (assuming {'; '.join(map(prose, s.assumptions))})" if s.assumptions else "")
    out = [head, "", *("   " + x for x in math_block(s.latex())), "", f"   *Evidence:* {md_text(s.evidence)}"]
    if s.note:
        out += ["", f"   {prose(s.note)}"]
    return out + [""]


def _section(sec):
    out = [f"## {md_text(sec.title)} ({md_code(sec.name)})", ""]
    if sec.loss is not None:
        out += [f"### The loss as the paper writes it (variant {md_code(sec.loss_variant)})", "",
                *math_block(sec.loss.latex()), "", f"Step “{prose(sec.loss.rule)}” of the derivation below.", ""]
    for d in sec.derivations:
        out += [f"### Derivation: {prose(d.title)}", ""]
        for t, s in enumerate(d.steps, 1):
            out += _step(t, s)
        out += [*([f"**Stops here:** {prose(d.stop)}", ""] if d.stop else []),f"Overall: {md_text(d.evidence.short())}", ""]
    if sec.closed_forms:
        out += ["### Closed forms (the solver's own profile)", "",
                f"${cells.ZSTAR_TEX}$: {cells.ZSTAR_TEXT}", ""]
        out += table(("variant", "end of the spectrum", "profile", "what is solved"),
                     [(md_text(c.variant), md_text(c.which), f"$s(\\lambda) = {sympy.latex(c.profile)}$",
                       md_text(c.description)) for c in sec.closed_forms])
        out.append("")
    out += ["### Theorems", "", *theorem_table(sec.results, sec.statement_math)]
    if any(r["verdict"] == "refuted" for r in sec.results):
        out += ["", "### Counterexamples (shrunk by hypothesis)", *counterexamples(sec.results)]
    return out + [""]


def claims_section(report, img_dir="img"):
    """The Claims section (wordings, statement, verdict, evidence, figure per claim) as lines."""
    out = ["## Claims", "", f"**{md_text(cells.claims_summary(report.claims))}**. {inline(cells.CLAIMS_INTRO)}", "",
           md_text(cells.claims_origin(report)), ""]
    for c in report.claims:
        out += [f"### {md_text(c.title)} ({md_code(c.id)})", "", "#### The paper's wordings", ""]
        out += table(("source", "wording"), [(md_text(src), f"“{md_text(w)}”") for src, w in c.wordings])
        out += ["", "#### What we check", "", inline(c.statement), "",
                f"Verdict: **{md_text(c.verdict)}**" + (f" — conditions: {md_text(c.conditions)}" if c.conditions else ""),
                "", "#### Evidence", ""]
        out += table(("measured", "value"), [(md_text(k), "<br>".join(md_text(x) for x in lines))
                                             for k, lines in c.evidence])
        out.append("")
        if c.figure is not None:
            out += [f"![figure of the experiment {md_text(c.experiment)}]({img_dir}/{c.figure_name})", "",
                    inline(cells.claim_figure_caption(c)), ""]
        else:
            out += [f"No figure of the experiment {md_text(c.experiment)} was found.", ""]
    return out


def _repro(report):
    env = report.environment
    out = ["## Reproducibility", "", "### Reproduce this report", "", "```sh", *cells.reproduce(report), "```", ""]
    if not report.environment_recorded:
        out += ["The recorded run did not store its environment: shown is the one that built this report.", ""]
    facts = [("source of the results", md_text(report.source)), ("seed", md_text(report.run["seed"])),
             ("versions", md_text(cells.versions_line(report))),
             ("examples per theorem", md_text(report.run.get("examples", "?"))),
             ("git commit", md_code(env.get("git_commit", "unknown"))), ("device", md_text(env.get("device", "?"))),
             ("hypothesis settings", md_code(", ".join(f"{k}={v}" for k, v in env.get("hypothesis", {}).items())))]
    if "wall_seconds" in report.run:
        facts.append(("wall time, whole run", cells.seconds(report.run["wall_seconds"])))
    out += table(("", ""), facts) + ["", "### Package versions", ""]
    out += table(("package", "version"), [(md_text(k), md_text(v)) for k, v in env.get("packages", {}).items()])
    out += ["", "### Wall time per theorem", ""]
    out += table(("theorem", "wall time", "device"),
                 [(md_code(r["id"]), cells.seconds(r["seconds"]), md_text(r.get("device", "?"))) for r in report.results])
    return out + [""]


def render_md(report):
    """The report as GitHub Markdown (str); pictures are referenced as ``img/<theorem id>.png``."""
    out = [f"# {md_text(report.title)}", "",
           f"**{md_text(cells.summary(report.results))}** · seed {md_text(report.run['seed'])} · "
           f"{md_text(report.run.get('examples', '?'))} hypothesis examples per theorem · results from "
           f"{md_text(report.source)}", "",
           "A refuted claim recorded as refuted is a result, not a failure: its shrunk counterexample is drawn "
           "below. Evidence levels: docs/evidence.md.", ""]
    for sec in report.sections:
        out += _section(sec)
    if report.claims:
        out += claims_section(report)
    out += ["## Loss conventions", "", "Our losses (the paper's graph forms) against the official code "
            "(docs/conventions.md).", ""]
    if report.conventions is None:
        out += ["docs/conventions.md was not found next to this installation."]
    else:
        header, rows = report.conventions
        out += table(header, [[inline(c) for c in row] for row in rows])
    out.append("")
    out += _repro(report)
    return "\n".join(out)
