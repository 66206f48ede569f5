"""The report as one self-contained HTML file: MathML formulas, inline PNG pictures, no network.

Formulas go through one LaTeX source (``sympy.latex``, the same text the Markdown
and LaTeX reports print) and ``latex2mathml``: sympy's own MathML printer splits
TeX-named symbols (``Z^{\\star}``, ``\\mathcal{L}_{BT}``) into raw TeX fragments.
"""
from __future__ import annotations

import base64
import re

import sympy

from . import cells, escape

CSS = """
:root { --fg: #1d2430; --muted: #5b6575; --line: #d9dee7; --ok: #1b7f3b; --bad: #b3261e; --bg: #ffffff; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
       background: var(--bg); }
main, header, nav { max-width: 62rem; margin: 0 auto; padding: 0 1rem; }
header { padding-top: 1.5rem; }
h1 { font-size: 1.7rem; margin: 0 0 .3rem; }
h2 { font-size: 1.35rem; border-bottom: 2px solid var(--line); padding-bottom: .2rem; margin-top: 2.2rem; }
h3 { font-size: 1.1rem; margin-top: 1.6rem; }
h4 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
.muted, figcaption, .rule small { color: var(--muted); }
nav ul { padding-left: 1.2rem; columns: 2 14rem; }
.wrap { margin: .6rem 0; max-width: 100%; }
/* tables fit the page: fixed layout, long cells wrap, so the last (verdict) column is always in view */
table { border-collapse: collapse; width: 100%; font-size: .88rem; table-layout: fixed; }
th, td { border: 1px solid var(--line); padding: .3rem .45rem; vertical-align: top; text-align: left;
         overflow-wrap: anywhere; }
th { background: #f3f5f9; }
table.theorems col.c-theorem { width: 19%; } table.theorems col.c-statement { width: 31%; }
table.theorems col.c-evidence { width: 16%; } table.theorems col.c-examples { width: 8%; }
table.theorems col.c-worst { width: 13%; } table.theorems col.c-verdict { width: 13%; }
table.facts col:first-child, table.evidence col:first-child { width: 32%; }
table.closed col.c-variant { width: 14%; } table.closed col.c-which { width: 14%; }
table.closed col.c-profile { width: 34%; } table.closed col.c-what { width: 38%; }
td .math, td .cell-math { max-width: 100%; overflow-x: auto; }
ul.ev-list { margin: 0; padding-left: 1.1rem; }
pre.repro { white-space: pre-wrap; overflow-wrap: anywhere; background: #f3f5f9; padding: .6rem; border-radius: 4px;
            font-size: .85rem; }
code { font-size: .85em; background: #f3f5f9; padding: 0 .2em; border-radius: 3px; word-break: break-word; }
.math { overflow-x: auto; max-width: 100%; padding: .25rem 0; }
math { font-family: "Latin Modern Math", "STIX Two Math", "DejaVu Math TeX Gyre", "Cambria Math", math; }
math[display="block"] { font-size: 1.05rem; }
ol.steps > li { margin-bottom: 1rem; }
.ev { font-size: .85rem; }
.ev-symbolic, .ev-exact, .ev-numeric, .v-holds { color: var(--ok); }
.ev-refuted, .v-refuted { color: var(--bad); }
.v-conditions { color: #8a5a00; }
figure.claim { display: block; }
figure.claim img { width: 100%; }
.v-regression { color: #fff; background: var(--bad); padding: 0 .25em; }
figure { margin: 1rem 0; display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figcaption { flex: 1 1 16rem; min-width: 0; font-size: .88rem; overflow-wrap: anywhere; }
@media (max-width: 600px) {
  body { font-size: 15px; }
  h1 { font-size: 1.35rem; }
  th, td { padding: .25rem .3rem; }
  nav ul { columns: 1; }
}
"""


def mathml(tex, display="block"):
    """MathML for a LaTeX formula (display or inline)."""
    from latex2mathml.converter import convert

    return convert(tex, display=display)


_e = escape.html_text


def _inline(text):
    """Our own texts' inline Markdown (`code`, *emphasis*, **strong**) as HTML; everything else escaped."""
    tag = {"code": "code", "em": "em", "strong": "strong"}
    return "".join(_e(t) if kind == "text" else f"<{tag[kind]}>{_e(t)}</{tag[kind]}>"
                   for kind, t in escape.inline_tokens(text))


_code = _inline


def _id(text):
    """A dotted id that may break after its dots and underscores (long theorem ids in narrow columns)."""
    return re.sub(r"([._])", r"\1<wbr>", _e(text))


def _table(header, rows, classes=None, kind=None, cols=None):
    """A table that fits its column (``kind``: a CSS class; ``cols``: one class per column for its width)."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    thead = f"<thead><tr>{head}</tr></thead>" if any(header) else ""
    body = []
    for row in rows:
        tds = "".join(f'<td class="{classes[t]}">{c}</td>' if classes and classes[t] else f"<td>{c}</td>"
                      for t, c in enumerate(row))
        body.append(f"<tr>{tds}</tr>")
    table = f'<table class="{kind}">' if kind else "<table>"
    group = "<colgroup>" + "".join(f'<col class="{c}">' for c in cols) + "</colgroup>" if cols else ""
    return f'<div class="wrap">{table}{group}{thead}<tbody>{"".join(body)}</tbody></table></div>'


def _verdict_cell(r):
    cls = "v-regression" if r["verdict"] != r["expected"] else f"v-{r['verdict']}"
    return f'<span class="{cls}">{_e(cells.verdict(r))}</span>'


def _prose(p):
    """A justification or title: the words escaped, the mathematics as inline MathML (same printer as statements)."""
    return p.render(_e, lambda tex: mathml(tex, display="inline"))


def _step(s):
    head = f"<strong>{_prose(s.rule)}</strong>"
    if s.assumptions:
        head += f" <small>(assuming {'; '.join(map(_prose, s.assumptions))})</small>"
    out = [f'<li><p class="rule">{head}</p>', f'<div class="math">{mathml(s.latex())}</div>',
           f'<p class="ev ev-{s.evidence.level}">Evidence: {_e(s.evidence)}</p>']
    if s.note:
        out.append(f'<p class="muted">{_prose(s.note)}</p>')
    return "".join(out) + "</li>"


def _derivation(d, level=3):
    """A derivation's title, steps, stop reason and overall evidence (HTML fragments)."""
    stop = [f'<p><strong>Stops here:</strong> {_prose(d.stop)}</p>'] if d.stop else []
    return [f"<h{level}>Derivation: {_prose(d.title)}</h{level}>", '<ol class="steps">', *map(_step, d.steps),
            "</ol>", *stop, f'<p class="ev ev-{d.evidence.level}">Overall: {_e(d.evidence.short())}</p>']


def render_derivation_html(d):
    """One derivation as a self-contained HTML page (``ssl-proofs derive --format html``)."""
    body = "\n".join(_derivation(d, level=1))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(d.title)}</title>
<style>{CSS}</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"""


def _closed_form(c):
    profile = mathml(r"s(\lambda) = " + sympy.latex(c.profile), display="inline")
    return (_e(c.variant), _e(c.which), f'<div class="cell-math">{profile}</div>', _e(c.description))


def _statement(r, sec):
    """A theorem's statement: the mathematics it checks where the theory has it as objects, else its words."""
    tex = sec.statement_math.get(r["id"])
    if tex is None:
        return _e(r["statement"])
    return (f'<div class="cell-math">{mathml(tex, display="inline")}</div>'
            '<span class="muted">every step checked (derivation above)</span>')


def _figure(r, png):
    inst = r["instance"]
    src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    fails = "".join(f"<li>{_e(x)}</li>" for x in cells.failing(r))
    return (f'<figure id="cex-{_e(r["id"])}"><img src="{src}" alt="counterexample graph of {_e(r["id"])}" '
            f'width="360" height="340"><figcaption><strong>{_e(r["id"])}</strong>: {_e(r["statement"])}<br>'
            f"{_e(cells.instance_caption(inst))}; edges: {_e(cells.edge_list(inst))}<ul>{fails}</ul>"
            f"<span class=\"muted\">{_e(r.get('counterexample') or '')}</span></figcaption></figure>")


def _section(sec, figures):
    out = [f'<section id="method-{_e(sec.name)}"><h2>{_e(sec.title)} (<code>{_e(sec.name)}</code>)</h2>']
    if sec.loss is not None:
        out += [f"<h3>The loss as the paper writes it (variant <code>{_e(sec.loss_variant)}</code>)</h3>",
                f'<div class="math">{mathml(sec.loss.latex())}</div>',
                f'<p class="muted">Step “{_prose(sec.loss.rule)}” of the derivation below.</p>']
    for d in sec.derivations:
        out += _derivation(d)
    if sec.closed_forms:
        out += ["<h3>Closed forms (the solver's own profile)</h3>",
                f"<p>{mathml(cells.ZSTAR_TEX, 'inline')}: {_e(cells.ZSTAR_TEXT)}</p>",
                _table(("variant", "end of the spectrum", "profile", "what is solved"),
                       [_closed_form(c) for c in sec.closed_forms], None, "closed",
                       ("c-variant", "c-which", "c-profile", "c-what"))]
    rows = [(_id(r["id"]), _statement(r, sec), _e(cells.evidence(r)), _e(r["examples"]), _e(cells.worst(r)),
             _verdict_cell(r)) for r in sec.results]
    out += ["<h3>Theorems</h3>", _table(cells.THEOREM_COLUMNS, rows, ("id", None, None, "num", "num", None),
                                        "theorems", ("c-theorem", "c-statement", "c-evidence", "c-examples",
                                                     "c-worst", "c-verdict"))]
    refuted = [r for r in sec.results if r["verdict"] == "refuted"]
    if refuted:
        out.append("<h3>Counterexamples (shrunk by hypothesis)</h3>")
        for r in refuted:
            if r["id"] in figures:
                out.append(_figure(r, figures[r["id"]]))
            else:
                out.append(f"<p><strong>{_e(r['id'])}</strong>: {_e(r.get('counterexample') or '')}</p>")
    return "\n".join(out) + "</section>"


def _claim_verdict(c):
    cls = "v-holds" if c.verdict == "holds" else "v-refuted" if c.verdict == "refuted" else "v-conditions"
    cond = f" — conditions: {_e(c.conditions)}" if c.conditions else ""
    return f'<p>Verdict: <strong class="{cls}">{_e(c.verdict)}</strong>{cond}</p>'


def _claim(c):
    out = [f'<article id="claim-{_e(c.id)}"><h3>{_e(c.title)} (<code>{_e(c.id)}</code>)</h3>',
           "<h4>The paper's wordings</h4>",
           _table(("source", "wording"), [(_e(src), f"“{_e(w)}”") for src, w in c.wordings], None, "facts",
                  ("", "")),
           f"<h4>What we check</h4><p>{_code(c.statement)}</p>", _claim_verdict(c),
           "<h4>Evidence</h4>", _table(("measured", "value"), [(_id(k), _evidence_value(v)) for k, v in c.evidence],
                                       None, "evidence", ("", ""))]
    if c.figure is not None:
        src = "data:image/png;base64," + base64.b64encode(c.figure).decode("ascii")
        out.append(f'<figure class="claim"><img src="{src}" alt="figure of the experiment {_e(c.experiment)}">'
                   f"<figcaption>{_code(cells.claim_figure_caption(c))}</figcaption></figure>")
    else:
        out.append(f'<p class="muted">No figure of the experiment {_e(c.experiment)} was found.</p>')
    return "\n".join(out) + "</article>"


def _evidence_value(lines):
    if len(lines) == 1:
        return _e(lines[0])
    return '<ul class="ev-list">' + "".join(f"<li>{_e(x)}</li>" for x in lines) + "</ul>"


def _claims(report):
    return "\n".join(['<section id="claims"><h2>Claims</h2>',
                      f"<p><strong>{_e(cells.claims_summary(report.claims))}</strong>. {_e(cells.CLAIMS_INTRO)}</p>",
                      f'<p class="muted">{_e(cells.claims_origin(report))}</p>',
                      *map(_claim, report.claims), "</section>"])


def _conventions(conv):
    if conv is None:
        return "<p>docs/conventions.md was not found next to this installation.</p>"
    header, rows = conv
    return _table(header, [[_code(c) for c in row] for row in rows])


def _repro(report):
    env = report.environment
    pk = env.get("packages", {})
    hyp = env.get("hypothesis", {})
    note = "" if report.environment_recorded else (
        '<p class="muted">The recorded run did not store its environment: shown is the one that built this '
        "report.</p>")
    facts = [("source of the results", _e(report.source)), ("seed", _e(report.run["seed"])),
             ("versions", _e(cells.versions_line(report))),
             ("examples per theorem", _e(report.run.get("examples", "?"))),
             ("git commit", f"<code>{_e(env.get('git_commit', 'unknown'))}</code>"),
             ("device", _e(env.get("device", "?"))),
             ("hypothesis settings", "<code>" + _e(", ".join(f"{k}={v}" for k, v in hyp.items())) + "</code>")]
    if "wall_seconds" in report.run:
        facts.append(("wall time, whole run", f'<span class="time">{cells.seconds(report.run["wall_seconds"])}</span>'))
    times = [(_id(r["id"]), f'<span class="time">{cells.seconds(r["seconds"])}</span>', _e(r.get("device", "?")))
             for r in report.results]
    commands = "\n".join(_e(line) for line in cells.reproduce(report))
    return "\n".join(["<h3>Reproduce this report</h3>", f'<pre class="repro"><code>{commands}</code></pre>',
                      note, _table(("", ""), facts, None, "facts", ("", "")), "<h3>Package versions</h3>",
                      _table(("package", "version"), [(_e(k), _e(v)) for k, v in pk.items()]),
                      "<h3>Wall time per theorem</h3>",
                      _table(("theorem", "wall time", "device"), times)])


def render_html(report):
    """The report as one self-contained HTML page (str)."""
    toc = "".join(f'<li><a href="#method-{_e(s.name)}">{_e(s.title)}</a></li>' for s in report.sections)
    if report.claims:
        toc += '<li><a href="#claims">Claims</a></li>'
    toc += '<li><a href="#conventions">Loss conventions</a></li><li><a href="#repro">Reproducibility</a></li>'
    body = "\n".join(_section(s, report.figures) for s in report.sections)
    if report.claims:
        body += "\n" + _claims(report)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(report.title)}</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>{_e(report.title)}</h1>
<p><strong>{_e(cells.summary(report.results))}</strong> · seed {_e(report.run["seed"])} ·
{_e(report.run.get("examples", "?"))} hypothesis examples per theorem · results from {_e(report.source)}</p>
<p class="muted">A refuted claim recorded as refuted is a result, not a failure: its shrunk counterexample is drawn
below. Evidence levels: docs/evidence.md.</p>
</header>
<nav><ul>{toc}</ul></nav>
<main>
{body}
<section id="conventions"><h2>Loss conventions</h2>
<p>Our losses (the paper's graph forms) against the official code (docs/conventions.md).</p>
{_conventions(report.conventions)}
</section>
<section id="repro"><h2>Reproducibility</h2>
{_repro(report)}
</section>
</main>
</body>
</html>
"""
