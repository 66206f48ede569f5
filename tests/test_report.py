"""Reports: what the HTML, Markdown and LaTeX documents must contain, built from a recorded run.

The recorded run is docs/results/verify.json (``verify all --json``): the tests rebuild the
report from it (no re-run), except the reproducibility test, which runs three fast theorems.
"""
import base64
import html
import io
import json
import re
import subprocess
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("networkx")
pytest.importorskip("latex2mathml")
pytest.importorskip("matplotlib")

import sympy  # noqa: E402
from PIL import Image  # noqa: E402

import ssl_proofs  # noqa: E402
from ssl_proofs.errors import InvalidArgument  # noqa: E402
from ssl_proofs.spectral import SpectralProblem, lam  # noqa: E402
from ssl_proofs_cli import main  # noqa: E402
from ssl_proofs_cli import report  # noqa: E402
from ssl_proofs_cli.report import content, document, drawing, markdown  # noqa: E402
from ssl_proofs_cli.report.latex import render_tex as report_tex  # noqa: E402
from ssl_proofs_cli.report.escape import md_text  # noqa: E402
from ssl_proofs_verifiers.checks import Instance  # noqa: E402
from ssl_proofs_verifiers.runner import instance_data  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "docs" / "results" / "verify.json"
CLAIMS = ROOT / "docs" / "results" / "claims.json"  # `claims --json`, seed 0, default budget
CLAIM_IMG = ROOT / "docs" / "results" / "claims_img"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def recorded():
    return json.loads(RUN.read_text())


@pytest.fixture(scope="module")
def written(tmp_path_factory, recorded):
    """The full report of the recorded run, in all three formats (no PDF here)."""
    out = tmp_path_factory.mktemp("report")
    claims = report.load_claims(CLAIMS)
    rep = report.build_report(report.load_run(RUN), "all", source=str(RUN), claims=claims,
                              claim_figures=report.claim_figures(claims, CLAIM_IMG), claims_source=str(CLAIMS))
    report.write_report(rep, out, pdf=False)
    return out, rep


def _refuted(run):
    return [r for r in run["results"] if r["verdict"] == "refuted"]


def test_recorded_run_has_refutations_with_instances(recorded):
    # the report's pictures need the shrunk instance, recorded as plain data by the runner
    refuted = _refuted(recorded)
    assert refuted, "the recorded run refutes several claims of the paper"
    for r in refuted:
        if r["id"].endswith(".derivation"):
            continue
        inst = r["instance"]
        n = inst["N"]
        assert n >= 2 and 1 <= inst["k"] <= n
        for a, b, w in inst["edges"]:
            assert 0 <= a <= b < n and w > 0


def test_instance_data_is_the_graph():
    G = np.array([[0, 2, 0, 0], [2, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0.5]])  # a self-loop on node 3
    inst = Instance(G, 2, {"alpha": np.float64(1.5), "beta": None}, "squared", labels=np.array([0, 0, 1, 1]))
    data = instance_data(inst)
    assert data["edges"] == [[0, 1, 2.0], [1, 2, 1.0], [3, 3, 0.5]]
    assert (data["N"], data["k"], data["variant"]) == (4, 2, "squared")
    assert data["hyper"] == {"alpha": 1.5, "beta": None} and data["labels"] == [0, 0, 1, 1]
    json.dumps(data)  # plain data


def test_every_refutation_is_drawn_in_html(written, recorded):
    out, _ = written
    page = (out / "report.html").read_text()
    for r in _refuted(recorded):
        m = re.search(rf'<figure id="cex-{re.escape(r["id"])}"><img src="data:image/png;base64,([^"]+)"', page)
        assert m, f"no inline picture for the refuted theorem {r['id']}"
        png = base64.b64decode(m.group(1))
        assert png.startswith(PNG)
        # the figure states the instance's numbers: N, k and every edge
        fig = page[m.start(): page.index("</figure>", m.start())]
        assert f"N={r['instance']['N']}" in fig and f"k={r['instance']['k']}" in fig
        for a, b, _w in r["instance"]["edges"]:
            assert f"{a}-{b}" in fig


def test_every_refutation_is_drawn_in_markdown_and_tex(written, recorded):
    out, _ = written
    md = (out / "report.md").read_text()
    tex = (out / "report.tex").read_text()
    for r in _refuted(recorded):
        name = f"img/{r['id']}.png"
        assert f"]({name})" in md, r["id"]
        assert f"\\includegraphics[width=6cm]{{{name}}}" in tex, r["id"]
        assert (out / name).read_bytes().startswith(PNG)


def test_picture_is_the_instance(recorded):
    # drawn from the instance, not from its text: two different graphs give two different pictures
    r = _refuted(recorded)[0]
    inst = dict(r["instance"])
    other = dict(inst, edges=inst["edges"][:-1] or [[0, 1, 2.0]])
    assert drawing.draw_instance(inst, "x") != drawing.draw_instance(other, "x")
    assert drawing.draw_instance(inst, "x") == drawing.draw_instance(inst, "x")  # deterministic bytes


def test_theorem_table_lists_every_result_with_its_verdict(written, recorded):
    out, _ = written
    md = (out / "report.md").read_text()
    for r in recorded["results"]:
        row = next((line for line in md.splitlines() if line.startswith(f"| `{r['id']}` |")), None)
        assert row is not None, r["id"]
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
        assert len(cells) == 6
        assert r["verdict"] in cells[5]
        assert cells[3] == str(r["examples"])
        if r["verdict"] == "refuted":
            # the margin a reader can see: a failing error beyond its tolerance
            err, tol = (float(x) for x in re.findall(r"[-\d.e+]+", cells[4].split("(")[0])[:2])
            assert err > tol


def test_regression_is_flagged_and_exits_1(tmp_path, recorded, capsys):
    run = json.loads(json.dumps(recorded))
    victim = next(r for r in run["results"] if r["verdict"] == "holds" and r["method"] == "vicreg")
    victim["verdict"] = "refuted"
    victim["matches"] = False
    path = tmp_path / "run.json"
    path.write_text(json.dumps(run))
    code = main(["report", "vicreg", "--from-json", str(path), "--out", str(tmp_path / "r"), "--format", "md"])
    assert code == 1
    md = (tmp_path / "r" / "report.md").read_text()
    assert "REGRESSION (expected holds)" in md
    assert "## Claims" in md, "a report built --from-json shows docs/results/claims.json by default"


def test_html_is_self_contained_and_formulas_are_mathml(written):
    out, rep = written
    page = (out / "report.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), "no network resources"
    assert "<script" not in page and "@import" not in page and "<link" not in page
    n_steps = sum(len(d.steps) for s in rep.sections for d in s.derivations)
    n_math = page.count("<math ")
    # every derivation step, every paper loss, every profile (+ one Z* formula per method with a closed form)
    assert n_math >= n_steps + sum(s.loss is not None for s in rep.sections) + sum(
        len(s.closed_forms) for s in rep.sections)
    text = re.sub(r"<math.*?</math>", "", page, flags=re.S)
    text = re.sub(r"<style>.*?</style>", "", text, flags=re.S)
    assert "$$" not in text and "```math" not in text
    assert not re.search(r"\\(frac|sum|operatorname|left|right|mathbb|mathcal|lambda|sqrt)\b", text), \
        "raw TeX outside MathML"


def test_paper_loss_and_steps_in_every_format(written):
    out, rep = written
    md = (out / "report.md").read_text()
    tex = (out / "report.tex").read_text()
    vic = next(s for s in rep.sections if s.name == "vicreg")
    assert vic.loss_variant == "hinge"  # the paper's form
    assert r"\max" in vic.loss.latex() and r"\alpha" in vic.loss.latex()
    for sec in rep.sections:
        for d in sec.derivations:
            for s in d.steps:
                # the words escaped (a `_` or `*` is text, not emphasis), the mathematics by sympy's LaTeX printer
                assert markdown.prose(s.rule) in md
                for part in s.rule.parts:
                    assert (md_text(part) if isinstance(part, str) else f"${part.latex() if hasattr(part, 'latex') else sympy.latex(part)}$") in md
                assert s.evidence.level != "unchecked", f"{d.title}: step not checked"
        assert f"(`{sec.name}`)" in md and "\\texttt{%s}" % sec.name.replace("_", r"\_\allowbreak{}") in tex


def test_closed_form_comes_from_the_solvers_profile():
    # a method whose solver uses another profile must print that profile
    class Fake:
        closed_form_variants = ("v",)

        def check_hyper(self, v, hp):
            return {}

        def spectral_problem(self, G, k, *, variant=None):
            return SpectralProblem(np.eye(len(G)), k, "largest", lam ** 3 + sympy.Symbol("q"),
                                   description="top-2 of a fake")

    (cf,) = content.closed_forms(Fake())
    assert cf.profile == lam ** 3 + sympy.Symbol("q")
    assert cf.description == "top-K of a fake"
    real = ssl_proofs.get_method("vicreg")
    profiles = {c.variant: c.profile for c in content.closed_forms(real)}
    G = np.ones((5, 5)) - np.eye(5)
    for v, p in profiles.items():
        assert p == real.spectral_problem(G, 3, variant=v, **real.check_hyper(v, {})).profile


def test_conventions_table_is_complete(written):
    out, rep = written
    lines = [ln for ln in (ROOT / "docs" / "conventions.md").read_text().splitlines() if ln.startswith("| ")]
    quantities = [ln.split("|")[1].strip() for ln in lines[1:]]  # first line is the header
    md = (out / "report.md").read_text()
    section = md[md.index("## Loss conventions"): md.index("## Reproducibility")]
    for q in quantities:
        assert f"| {q} |" in section, q
    assert len(rep.conventions[1]) == len(quantities)
    assert all(len(row) == len(rep.conventions[0]) for row in rep.conventions[1])


def _repro_md(run, tmp_path):
    rep = report.build_report(run, "barlowtwins")
    report.write_report(rep, tmp_path, ("md",))
    md = (tmp_path / "report.md").read_text()
    return md[md.index("## Reproducibility"):]


def test_reproducibility_block_without_recorded_environment(tmp_path, recorded):
    run = {k: v for k, v in recorded.items() if k not in ("environment", "wall_seconds")}
    repro = _repro_md(run, tmp_path)
    assert "did not store its environment" in repro  # said, not hidden
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    if head:
        assert head in repro
    assert f"| numpy | {metadata.version('numpy')} |" in repro
    assert f"| hypothesis | {metadata.version('hypothesis')} |" in repro
    assert f"max_examples={recorded['examples']}" in repro and f"| seed | {recorded['seed']} |" in repro
    for r in recorded["results"]:
        if r["method"] == "barlowtwins":
            assert f"| `{r['id']}` | {r['seconds']:.1f} s |" in repro  # wall time per theorem


def test_reproducibility_block_shows_the_recorded_environment(tmp_path, recorded):
    env = {"packages": {"numpy": "0.0.1-recorded"}, "git_commit": "f00dcafe", "device": "cuda",
           "hypothesis": {"max_examples": 7, "seed": 3}}
    repro = _repro_md({**recorded, "environment": env, "wall_seconds": 12.0}, tmp_path)
    assert "did not store" not in repro
    assert "| numpy | 0.0.1-recorded |" in repro and "`f00dcafe`" in repro and "| device | cuda |" in repro
    assert "max_examples=7, seed=3" in repro and "| wall time, whole run | 12.0 s |" in repro


def test_tex_is_pdflatex_safe(written):
    out, _ = written
    tex = (out / "report.tex").read_text()
    assert tex.isascii(), "pdflatex without unicode setup: every non-ASCII character must be mapped"
    assert tex.count(r"\begin{align*}") == tex.count(r"\end{align*}")


@pytest.mark.skipif(report.tex_engine() is None,
                    reason="no TeX engine on PATH (pdflatex, lualatex, xelatex or tectonic; Debian: apt-get install "
                           "texlive-latex-base texlive-latex-recommended texlive-fonts-recommended)")
def test_pdf_of_report_all_fits_the_margins(tmp_path, capsys):
    # issue 19: `--format pdf` works where a TeX engine is, and no line runs past the margin by more than 1pt
    # (TeX's log: "Overfull \hbox (Xpt too wide)"; the report of 1ccae61 had five equations 139-240pt past it)
    code = main(["report", "--from-json", str(RUN), "--claims-json", str(CLAIMS), "--out", str(tmp_path / "r"),
                 "--format", "pdf"])
    assert code == 0 and "past the margin" not in capsys.readouterr().err
    assert (tmp_path / "r" / "report.pdf").read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["img", "report.pdf"], "no TeX by-products"
    rep = report.build_report(report.load_run(RUN), "all", claims=report.load_claims(CLAIMS),
                              claim_figures=report.claim_figures(report.load_claims(CLAIMS), CLAIM_IMG))
    pictures = {p.name: p.read_bytes() for p in (tmp_path / "r" / "img").iterdir()}
    pdf, overfull = report.compile_pdf(report_tex(rep), pictures)
    assert pdf.startswith(b"%PDF") and overfull == [], f"lines past the margin by {overfull} pt"


def test_overfull_boxes_are_read_from_the_log():
    log = ("Overfull \\hbox (139.5pt too wide) in paragraph at lines 3--4\n"
           "Overfull \\hbox (0.4pt too wide) in alignment\nUnderfull \\hbox (badness 10000)\n"
           "Overfull \\hbox (240.25pt too wide) detected at line 9\n")
    assert document.overfull_boxes(log) == [139.5, 240.25]


def test_pdf_without_a_tex_engine_is_refused_with_what_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(document.shutil, "which", lambda name: None)
    code = main(["report", "--from-json", str(RUN), "--out", str(tmp_path / "r"), "--format", "html,pdf"])
    err = capsys.readouterr().err
    assert code == 2 and "TeX engine" in err and "texlive-latex-base" in err and "tectonic" in err
    assert not (tmp_path / "r").exists(), "refused before anything is written"


def _strip_timings(text):
    return re.sub(r"\d+\.\d s\b", "T", text)


def test_same_seed_same_report(tmp_path):
    ids = ["vicreg.linear.lda_unbalanced", "simclr.rank.algebraic", "vicreg.linear.lda_normalised_graph"]
    pages = []
    for t in range(2):
        run = report.record_run(ids, examples=3, seed=5, device="cpu")
        rep = report.build_report(run, "all")
        report.write_report(rep, tmp_path / str(t), ("html", "md"))
        pages.append({f: _strip_timings((tmp_path / str(t) / f"report.{f}").read_text()) for f in ("html", "md")})
        assert "wall time per theorem" in pages[-1]["md"].lower()
    assert pages[0] == pages[1]


def test_bad_input_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"results": 3}')
    assert main(["report", "--from-json", str(bad), "--out", str(tmp_path)]) == 2
    assert "not a verify run" in capsys.readouterr().err
    assert main(["report", "--from-json", str(tmp_path / "absent.json"), "--out", str(tmp_path)]) == 2
    assert main(["report", "--from-json", str(RUN), "--out", str(tmp_path), "--format", "docx"]) == 2
    assert "--format" in capsys.readouterr().err
    assert main(["report", "--from-json", str(RUN)]) == 2  # no --out
    assert main(["report", "nosuchmethod", "--from-json", str(RUN), "--out", str(tmp_path)]) == 2
    assert main(["report", "--from-json", str(RUN), "--out", str(tmp_path), "--examples", "3"]) == 2
    assert "recorded run" in capsys.readouterr().err


def test_missing_optional_dependency_is_a_clear_error(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "networkx" else real(name, *a))
    with pytest.raises(InvalidArgument, match=r"pip install -e '\.\[report\]'"):
        drawing.require_optional()


# --- the Claims section (issue 12): built from the recorded claims run, no experiment is run here ---

def _claim_block(text, start, end_marks):
    """The text of ``text`` from ``start`` to the first of ``end_marks`` after it."""
    i = text.index(start)
    ends = [text.find(m, i + len(start)) for m in end_marks]
    return text[i: min(e for e in ends if e != -1)]


def test_claims_section_lists_every_claim_with_its_recorded_verdict(written):
    out, _ = written
    recorded = {c["id"]: c for c in json.loads(CLAIMS.read_text())["claims"]}
    page = (out / "report.html").read_text()
    md = (out / "report.md").read_text()
    tex = (out / "report.tex").read_text()
    # after the methods, before the conventions, in every format
    assert page.index('id="method-') < page.index('<section id="claims">') < page.index('id="conventions"')
    assert md.index("## Claims") < md.index("## Loss conventions") and md.rindex("## Claims") == md.index("## Claims")
    assert tex.index(r"\section{Claims}") < tex.index(r"\section{Loss conventions}")
    claims = ssl_proofs.claims.list_claims()
    assert claims and {c.id for c in claims} == set(recorded)
    for c in claims:
        rec = recorded[c.id]
        html_block = _claim_block(page, f'<article id="claim-{c.id}">', ("</article>",))
        md_block = _claim_block(md, f"(`{c.id}`)", ("\n### ", "\n## "))
        assert '<strong class="v-' in html_block and f">{rec['verdict']}</strong>" in html_block
        assert f"Verdict: **{rec['verdict']}**" in md_block
        assert markdown.inline(c.statement) in md_block
        for words in c.wordings.values():  # every source's wording, as the registry has it
            assert html.escape(words) in html_block and md_text(words) in md_block
        assert html.escape(rec["conditions"]) in html_block and md_text(rec["conditions"]) in md_block
        for key in rec["evidence"]:  # every measured quantity is named
            assert html.escape(key).replace(".", ".<wbr>").replace("_", "_<wbr>") in html_block
            assert md_text(key) in md_block
        assert r"\texttt{" + c.id.replace("_", r"\_\allowbreak{}") + "}" in tex


def test_claim_figures_are_inline_in_html_and_files_for_md_and_tex(written):
    out, rep = written
    page = (out / "report.html").read_text()
    experiments = {c.experiment for c in rep.claims}
    assert experiments and all((CLAIM_IMG / f"{e}.png").is_file() for e in experiments)
    for c in rep.claims:
        block = _claim_block(page, f'<article id="claim-{c.id}">', ("</article>",))
        m = re.search(r'<img src="data:image/png;base64,([^"]+)"', block)
        assert m, f"no inline figure for the claim {c.id}"
        png = base64.b64decode(m.group(1))
        assert png == (CLAIM_IMG / f"{c.experiment}.png").read_bytes()
        img = Image.open(io.BytesIO(png))
        img.load()  # decodes the whole image, not only its header
        assert img.size[0] > 300 and img.size[1] > 200
        assert (out / "img" / f"claim-{c.experiment}.png").read_bytes() == png
        assert f"](img/claim-{c.experiment}.png)" in (out / "report.md").read_text()
        assert f"{{img/claim-{c.experiment}.png}}" in (out / "report.tex").read_text()


def test_a_changed_claim_verdict_shows_up_changed(tmp_path):
    data = json.loads(CLAIMS.read_text())
    victim = next(c for c in data["claims"] if c["verdict"] != "refuted")
    victim["verdict"], victim["conditions"] = "refuted", "a verdict changed by the test"
    path = tmp_path / "claims.json"
    path.write_text(json.dumps(data))
    assert main(["report", "vicreg.linear.lda_unbalanced", "--from-json", str(RUN), "--claims-json", str(path),
                 "--out", str(tmp_path / "r"), "--format", "md"]) == 0
    md = (tmp_path / "r" / "report.md").read_text()
    block = _claim_block(md, f"(`{victim['id']}`)", ("\n### ", "\n## "))
    assert "Verdict: **refuted** — conditions: a verdict changed by the test" in block
    # figures are looked for next to the given JSON (none there): said so, not a crash
    assert f"No figure of the experiment {victim['experiment']} was found." in block


@pytest.mark.parametrize("mutate, message", [
    (lambda d: "{not json", "not JSON"),
    (lambda d: json.dumps({"claims": 3}), "not a claims run"),
    (lambda d: json.dumps({**d, "claims": d["claims"][1:]}), "no record for the claim"),
    (lambda d: json.dumps({**d, "claims": [{**d["claims"][0], "verdict": "maybe"}] + d["claims"][1:]}),
     "claims[0].verdict is 'maybe'"),
    (lambda d: json.dumps({**d, "claims": [{k: v for k, v in d["claims"][0].items() if k != "evidence"}]
                           + d["claims"][1:]}), "lacks ['evidence']"),
])
def test_bad_claims_json_is_a_clear_error(tmp_path, capsys, mutate, message):
    bad = tmp_path / "claims.json"
    bad.write_text(mutate(json.loads(CLAIMS.read_text())))
    code = main(["report", "--from-json", str(RUN), "--claims-json", str(bad), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "ssl-proofs claims --json" in err, err
    assert not (tmp_path / "r").exists(), "checked before any work"


def test_absent_claims_json_and_conflicting_options_exit_2(tmp_path, capsys):
    assert main(["report", "--from-json", str(RUN), "--claims-json", str(tmp_path / "absent.json"),
                 "--out", str(tmp_path)]) == 2
    assert "cannot read it" in capsys.readouterr().err
    assert main(["report", "--from-json", str(RUN), "--claims-json", str(CLAIMS), "--no-claims",
                 "--out", str(tmp_path)]) == 2
    assert "exclude each other" in capsys.readouterr().err


# --- issue 19: what a reader sees (paths, reproduction, evidence, mathematics) ---

def test_report_leaks_no_absolute_path_and_says_how_to_reproduce(written, recorded):
    out, rep = written  # built with source=str(RUN), an absolute path inside the checkout
    for name in ("report.html", "report.md", "report.tex"):
        assert str(ROOT) not in (out / name).read_text(), f"{name} shows the checkout's location"
    md = (out / "report.md").read_text()
    assert "results from docs/results/verify.json" in md
    block = md[md.index("### Reproduce this report"): md.index("### Package versions")]
    env = recorded["environment"]
    assert f"git checkout {env['git_commit']}" in block
    assert f"pip install torch=={env['packages']['torch'].split('+')[0]}" in block
    assert f"ssl-proofs verify all --seed {recorded['seed']} --examples {recorded['examples']} --json run.json" in block
    assert "ssl-proofs report all --from-json run.json --claims-json claims.json --out report" in block
    for pkg in ("python", "ssl-proofs", "numpy", "scipy", "torch", "sympy"):
        assert f"{pkg} {env['packages'][pkg]}" in block, pkg
    page = (out / "report.html").read_text()
    assert '<pre class="repro">' in page and "git checkout" in page


def test_a_path_outside_the_project_shows_as_its_file_name(tmp_path):
    from ssl_proofs_cli.report import cells

    assert cells.shown_path(tmp_path / "deep" / "run.json", ROOT) == "run.json"
    assert cells.shown_path(RUN, ROOT) == "docs/results/verify.json"
    assert cells.shown_path("this run", ROOT) == "this run"


def test_claim_evidence_is_a_whole_readable_table(written):
    out, rep = written
    md = (out / "report.md").read_text()
    page = (out / "report.html").read_text()
    assert "whole value in the claims JSON" not in md + page, "evidence is not cut"
    for rec in json.loads(CLAIMS.read_text())["claims"]:
        block = _claim_block(md, f"(`{rec['id']}`)", ("\n### ", "\n## "))
        evidence = block[block.index("#### Evidence"):]
        assert '{"' not in evidence and '": ' not in evidence, "no raw JSON in the evidence table"
        for key, value in rec["evidence"].items():
            if isinstance(value, dict) and value:  # an object is one row per key, each value whole
                for sub, v in value.items():
                    assert f"| {md_text(f'{key} › {sub}')}" in evidence, (key, sub)  # nested objects: deeper rows
                    assert md_text(content.value_text(v)) in evidence or isinstance(v, (list, dict))
            else:
                assert f"| {md_text(key)} |" in evidence, key


def test_derivation_theorems_are_stated_as_the_checked_mathematics(written):
    out, rep = written
    page = (out / "report.html").read_text()
    md = (out / "report.md").read_text()
    for sec in rep.sections:
        for r in sec.results:
            if r["id"] not in sec.statement_math:
                continue
            d = next(d for d in sec.derivations if sympy.latex(d.steps[-1].rhs) in sec.statement_math[r["id"]])
            assert sec.statement_math[r["id"]].startswith(sympy.latex(d.steps[0].lhs))
            row = next(line for line in md.splitlines() if line.startswith(f"| `{r['id']}` |"))
            assert "$" in row and r["statement"] not in row
            cell = page[page.index(f">{r['id'].replace('.', '.<wbr>').replace('_', '_<wbr>')}</td>"):]
            assert cell.index("<math") < cell.index("</tr>")
    assert sum(len(s.statement_math) for s in rep.sections) >= 6, "each method's derivation theorem"


def test_conventions_markdown_is_rendered_not_shown(written):
    out, _ = written
    page = (out / "report.html").read_text()
    section = page[page.index('<section id="conventions">'): page.index('<section id="repro">')]
    text = re.sub(r"<[^>]+>", "", section)
    assert not re.search(r"(?<![\w*])\*[A-Za-z][^*]*\*(?![\w*])", text), "literal *asterisks*"
    assert "<em>symmetrised stack</em>" in section
