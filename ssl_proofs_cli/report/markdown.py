"""The report as Markdown with GitHub math (```math blocks), pictures as files under ``img/``.

:func:`theorem_table` and :func:`counterexamples` are also what the generated
blocks of docs/ hold, so the pages and the report cannot say different things.
"""
from __future__ import annotations

import sympy

from . import cells


def cell(text):
    return str(text).replace("|", r"\|").replace("\n", " ")


def table(header, rows):
    """A GitHub Markdown table (cells escaped)."""
    out = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return out


def math_block(tex):
    return ["```math", tex, "```"]


def theorem_table(results):
    """The theorem table (id, statement, evidence, examples, worst error / tol, verdict) as lines."""
    rows = []
    for r in results:
        rid, statement, ev, ex, worst, verdict = cells.row(r)
        if r["verdict"] != "holds" or r["verdict"] != r["expected"]:
            verdict = f"**{verdict}**"
        rows.append((f"`{rid}`", statement, ev, ex, worst, verdict))
    return table(cells.THEOREM_COLUMNS, rows)


def counterexamples(results, img_dir="img"):
    """One paragraph (picture + numbers) per refuted result, as lines."""
    out = []
    for r in results:
        if r["verdict"] != "refuted":
            continue
        out += ["", f"#### `{r['id']}` — {r['statement']}", ""]
        if cells.drawable(r):
            inst = r["instance"]
            out += [f"![counterexample graph of {r['id']}]({img_dir}/{cells.figure_name(r)})", "",
                    f"{cells.instance_caption(inst)}; edges: {cells.edge_list(inst)}", ""]
        out += [f"- {x}" for x in cells.failing(r)]
        if r.get("counterexample"):
            out += ["", f"Shrunk counterexample: {r['counterexample']}"]
    return out


def _step(t, s):
    head = f"{t}. **{s.rule}**" + (f" (assuming {'; '.join(s.assumptions)})" if s.assumptions else "")
    out = [head, "", *("   " + x for x in math_block(s.latex())), "", f"   *Evidence:* {s.evidence}"]
    if s.note:
        out += ["", f"   {s.note}"]
    return out + [""]


def _section(sec):
    out = [f"## {sec.title} (`{sec.name}`)", ""]
    if sec.loss is not None:
        out += [f"### The loss as the paper writes it (variant `{sec.loss_variant}`)", "",
                *math_block(sec.loss.latex()), "", f"Step “{sec.loss.rule}” of the derivation below.", ""]
    for d in sec.derivations:
        out += [f"### Derivation: {d.title}", ""]
        for t, s in enumerate(d.steps, 1):
            out += _step(t, s)
        out += [f"Overall: {d.evidence.short()}", ""]
    if sec.closed_forms:
        out += ["### Closed forms (the solver's own profile)", "",
                f"${cells.ZSTAR_TEX}$: {cells.ZSTAR_TEXT}", ""]
        out += table(("variant", "end of the spectrum", "profile", "what is solved"),
                     [(c.variant, c.which, f"$s(\\lambda) = {sympy.latex(c.profile)}$", c.description)
                      for c in sec.closed_forms])
        out.append("")
    out += ["### Theorems", "", *theorem_table(sec.results)]
    if any(r["verdict"] == "refuted" for r in sec.results):
        out += ["", "### Counterexamples (shrunk by hypothesis)", *counterexamples(sec.results)]
    return out + [""]


def claims_section(report, img_dir="img"):
    """The Claims section (wordings, statement, verdict, evidence, figure per claim) as lines."""
    out = ["## Claims", "", f"**{cells.claims_summary(report.claims)}**. {cells.CLAIMS_INTRO}", "",
           cells.claims_origin(report), ""]
    for c in report.claims:
        out += [f"### {c.title} (`{c.id}`)", "", "#### The paper's wordings", ""]
        out += table(("source", "wording"), [(src, f"“{w}”") for src, w in c.wordings])
        out += ["", "#### What we check", "", c.statement, "",
                f"Verdict: **{c.verdict}**" + (f" — conditions: {c.conditions}" if c.conditions else ""), "",
                "#### Evidence", ""]
        out += table(("measured", "value"), c.evidence)
        out.append("")
        if c.figure is not None:
            out += [f"![figure of the experiment {c.experiment}]({img_dir}/{c.figure_name})", "",
                    cells.claim_figure_caption(c), ""]
        else:
            out += [f"No figure of the experiment {c.experiment} was found.", ""]
    return out


def _repro(report):
    env = report.environment
    out = ["## Reproducibility", ""]
    if not report.environment_recorded:
        out += ["The recorded run did not store its environment: shown is the one that built this report.", ""]
    facts = [("source of the results", report.source), ("seed", report.run["seed"]),
             ("examples per theorem", report.run.get("examples", "?")),
             ("git commit", f"`{env.get('git_commit', 'unknown')}`"), ("device", env.get("device", "?")),
             ("hypothesis settings", "`" + ", ".join(f"{k}={v}" for k, v in env.get("hypothesis", {}).items()) + "`")]
    if "wall_seconds" in report.run:
        facts.append(("wall time, whole run", cells.seconds(report.run["wall_seconds"])))
    out += table(("", ""), facts) + ["", "### Package versions", ""]
    out += table(("package", "version"), list(env.get("packages", {}).items()))
    out += ["", "### Wall time per theorem", ""]
    out += table(("theorem", "wall time", "device"),
                 [(f"`{r['id']}`", cells.seconds(r["seconds"]), r.get("device", "?")) for r in report.results])
    return out + [""]


def render_md(report):
    """The report as GitHub Markdown (str); pictures are referenced as ``img/<theorem id>.png``."""
    out = [f"# {report.title}", "",
           f"**{cells.summary(report.results)}** · seed {report.run['seed']} · "
           f"{report.run.get('examples', '?')} hypothesis examples per theorem · results from {report.source}", "",
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
        out += table(*report.conventions)
    out.append("")
    out += _repro(report)
    return "\n".join(out)
