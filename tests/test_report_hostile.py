"""Run and claims files are untrusted (issue 18, class 2): hostile files are refused before anything is written,
file names never come from the JSON, and every string is inert in HTML, Markdown and LaTeX.

Each refused case must give exit 2, a message naming the bad field's JSON path, no traceback, and no file or
folder created. The cases go beyond the issue's examples (other fields, other encodings, other path tricks).
"""
import copy
import html.parser
import json
import os
import re
import shutil
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

pytest.importorskip("networkx")
pytest.importorskip("latex2mathml")
pytest.importorskip("matplotlib")

from ssl_proofs.errors import InvalidArgument  # noqa: E402
from ssl_proofs_cli import main  # noqa: E402
from ssl_proofs_cli import report  # noqa: E402
from ssl_proofs_cli.io import OutputDir  # noqa: E402
from ssl_proofs_cli.report import content, escape, files, schema  # noqa: E402
from ssl_proofs_cli.report.hostile import HOSTILE_STRINGS, hostile_claims_json, hostile_run_json, with_value  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RECORDED = json.loads((ROOT / "docs" / "results" / "verify.json").read_text())
CLAIMS = json.loads((ROOT / "docs" / "results" / "claims.json").read_text())
#: a small valid run: the recorded results of one method whose report builds in about a second
SMALL = {**{k: v for k, v in RECORDED.items() if k != "results"},
         "results": [r for r in RECORDED["results"] if r["method"] == "simsiam"]}
REFUTED = next(t for t, r in enumerate(SMALL["results"]) if r["verdict"] == "refuted" and r["instance"])


def _tree(folder):
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*"))


def _report(tmp_path, data, *extra, name="run.json"):
    """``report --from-json`` on ``data`` (bytes, or a document); returns (exit code, stderr, out folder)."""
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
    out = tmp_path / "out"
    code = main(["report", "--from-json", str(path), "--out", str(out), "--no-claims", "--format", "html,md,tex",
                 "--no-pdf", *extra])
    return code, out


R = ("results", REFUTED)
#: (what, the file's bytes or document, the JSON path the message must name)
REFUSED = [
    ("id with ../", with_value(SMALL, (*R, "id"), "../../../tmp/owned"), f"results[{REFUTED}].id"),
    ("absolute id", with_value(SMALL, (*R, "id"), "/tmp/owned"), f"results[{REFUTED}].id"),
    ("id with a backslash", with_value(SMALL, (*R, "id"), "..\\..\\owned"), f"results[{REFUTED}].id"),
    ("id with NUL-free control", with_value(SMALL, (*R, "id"), "a\tb"), f"results[{REFUTED}].id"),
    ("verdict as an attribute", with_value(SMALL, (*R, "verdict"), 'refuted" onmouseover="alert(1)'),
     f"results[{REFUTED}].verdict"),
    ("unknown method", with_value(SMALL, (*R, "method"), "../vicreg"), f"results[{REFUTED}].method"),
    ("seed as a string", with_value(SMALL, ("seed",), "0"), "seed"),
    ("seed beyond 2**63", with_value(SMALL, ("seed",), 2 ** 80), "seed"),
    ("examples negative", with_value(SMALL, ("examples",), -5), "examples"),
    ("seconds as a string", with_value(SMALL, (*R, "seconds"), "fast"), f"results[{REFUTED}].seconds"),
    ("N as a string", with_value(SMALL, (*R, "instance", "N"), "4"), f"results[{REFUTED}].instance.N"),
    ("N huge", with_value(SMALL, (*R, "instance", "N"), 10 ** 12), f"results[{REFUTED}].instance.N"),
    ("N too large to draw", with_value(SMALL, (*R, "instance", "N"), schema.MAX_NODES + 1), f"results[{REFUTED}].instance.N"),
    ("too many edges to draw", with_value(SMALL, (*R, "instance", "edges"), [[0, 1, 1.0]] * (schema.MAX_EDGES + 1)),
     f"results[{REFUTED}].instance.edges"),
    ("edge to a missing node", with_value(SMALL, (*R, "instance", "edges"), [[0, 99, 1.0]]), f"results[{REFUTED}].instance"),
    ("edge node as float", with_value(SMALL, (*R, "instance", "edges"), [[0.5, 1, 1.0]]),
     f"results[{REFUTED}].instance.edges[0]"),
    ("edge of two items", with_value(SMALL, (*R, "instance", "edges"), [[0, 1]]), f"results[{REFUTED}].instance.edges[0]"),
    ("k = 0", with_value(SMALL, (*R, "instance", "k"), 0), f"results[{REFUTED}].instance.k"),
    ("labels of the wrong length", with_value(SMALL, (*R, "instance", "labels"), [0]), f"results[{REFUTED}].instance"),
    ("tol infinite", with_value(SMALL, (*R, "failing"), [{"check": "x", "error": 1.0, "tol": 1e999}]),
     f"results[{REFUTED}].failing[0].tol"),
    ("evidence level unknown", with_value(SMALL, (*R, "evidence", "level"), "<b>proved</b>"),
     f"results[{REFUTED}].evidence.level"),
    ("result not an object", with_value(SMALL, ("results", 0), "holds"), "results[0]"),
    ("results an object", with_value(SMALL, ("results",), {"a": 1}), "results"),
    ("duplicate ids", {**SMALL, "results": SMALL["results"] + SMALL["results"][:1]}, "twice"),
    ("git commit as shell", with_value(SMALL, ("environment", "git_commit"), "abc; rm -rf ~"), "environment.git_commit"),
    ("statement too long", with_value(SMALL, (*R, "statement"), "x" * 30_000), f"results[{REFUTED}].statement"),
    ("NaN literal", json.dumps(SMALL).replace('"seed": 0', '"seed": NaN').encode(), "NaN"),
    ("-Infinity literal", json.dumps(SMALL).replace('"seed": 0', '"seed": -Infinity').encode(), "Infinity"),
    ("5,000-digit integer", json.dumps(SMALL).replace('"seed": 0', '"seed": 1' + "0" * 5000).encode(), "digits"),
    ("100,000-deep nesting", b"[" * 100_000 + b"]" * 100_000, "nested"),
    ("deep nesting in a field", json.dumps(SMALL).replace('"seed": 0', '"seed": 0, "pad": ' + "[" * 3000 + "]" * 3000)
     .encode(), "nested"),
    ("UTF-16", json.dumps(SMALL).encode("utf-16"), "UTF-16"),
    ("UTF-16 without BOM", json.dumps(SMALL).encode("utf-16-le"), "UTF-16"),
    ("Latin-1", json.dumps(SMALL).replace("paper", "papér").encode("latin-1"), "UTF-8"),
    ("binary", bytes(range(256)) * 4, "binary"),
    ("PNG bytes", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "binary"),
    ("truncated", json.dumps(SMALL).encode()[:500], "not JSON"),
    ("empty file", b"", "not JSON"),
    ("top level a list", b"[1, 2, 3]", "not a verify run"),
]


@pytest.mark.parametrize("what, data, where", REFUSED, ids=[c[0] for c in REFUSED])
def test_hostile_run_is_refused_before_anything_is_written(tmp_path, capsys, what, data, where):
    before = _tree(tmp_path)
    code, out = _report(tmp_path, data)
    err = capsys.readouterr().err
    assert code == 2, (what, err)
    assert "Traceback" not in err and where in err, err
    assert "ssl-proofs verify" in err, "the message says how to get a good file"
    assert _tree(tmp_path) == sorted(before + ["run.json"]), "nothing written"
    assert not Path("/tmp/owned").exists() and not Path("/tmp/owned.png").exists()


def test_a_fifo_or_folder_is_refused_without_hanging(tmp_path, capsys):
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)  # opening it would block forever
    for path in (fifo, tmp_path, Path("/dev/zero")):
        code = main(["report", "--from-json", str(path), "--out", str(tmp_path / "out"), "--no-claims"])
        err = capsys.readouterr().err
        assert code == 2 and "not a regular file" in err, err
    assert not (tmp_path / "out").exists()


def test_oversized_file_is_refused_unread(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(schema, "MAX_BYTES", 1000)
    code, out = _report(tmp_path, json.dumps(SMALL).encode())
    assert code == 2 and "larger than" in capsys.readouterr().err and not out.exists()


CLAIM0 = ("claims", 0)
CLAIMS_REFUSED = [
    ("experiment ../", with_value(CLAIMS, (*CLAIM0, "experiment"), "../../../../etc/hostname"), "claims[0]"),
    ("experiment absolute", with_value(CLAIMS, (*CLAIM0, "experiment"), "/usr/share/pixmaps/debian-logo"), "claims[0]"),
    ("experiment of another claim", with_value(CLAIMS, (*CLAIM0, "experiment"), "hinge"), "claims[0]"),
    ("verdict as markup", with_value(CLAIMS, (*CLAIM0, "verdict"), "<script>holds</script>"), "claims[0].verdict"),
    ("evidence NaN deep inside", json.dumps(CLAIMS).replace('"cells": ', '"cells": NaN, "x": ', 1).encode(), "NaN"),
    ("evidence not an object", with_value(CLAIMS, (*CLAIM0, "evidence"), [1, 2]), "claims[0].evidence"),
    ("wordings with a number", with_value(CLAIMS, (*CLAIM0, "wordings"), {"v1": 3}), "claims[0].wordings"),
    ("seed negative", with_value(CLAIMS, ("seed",), -1), "seed"),
    ("UTF-16", json.dumps(CLAIMS).encode("utf-16"), "UTF-16"),
]


@pytest.mark.parametrize("what, data, where", CLAIMS_REFUSED, ids=[c[0] for c in CLAIMS_REFUSED])
def test_hostile_claims_are_refused_before_anything_is_written(tmp_path, capsys, what, data, where):
    (tmp_path / "run.json").write_text(json.dumps(SMALL))
    (tmp_path / "claims.json").write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
    code = main(["report", "--from-json", str(tmp_path / "run.json"), "--claims-json", str(tmp_path / "claims.json"),
                 "--out", str(tmp_path / "out"), "--format", "html"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and where in err, (what, err)
    assert not (tmp_path / "out").exists()


def test_claim_figures_come_only_from_the_folder_named(tmp_path):
    # a PNG outside the folder, reachable by a link inside it, is not read; nor is a non-PNG with the right name
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"\x89PNG\r\n\x1a\n" + b"secret")
    folder = tmp_path / "claims_img"
    folder.mkdir()
    (folder / "alignment.png").symlink_to(outside)
    (folder / "hinge.png").write_bytes(b"GIF89a not a png")
    (folder / "lowdata.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"real")
    figures = content.claim_figures(CLAIMS, folder)
    assert figures == {"lowdata": b"\x89PNG\r\n\x1a\n" + b"real"}


class _Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs = set(), set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs.update(name for name, _ in attrs)


#: every free-text field a run may hold, with where it shows
TEXT_FIELDS = [(*R, "statement"), (*R, "counterexample"), (*R, "evidence", "detail"), (*R, "failing", 0, "check"),
               (*R, "failing", 0, "why"), (*R, "device"), ("environment", "device"),
               ("environment", "packages", "numpy"), (*R, "instance", "variant")]


@pytest.mark.parametrize("hostile", HOSTILE_STRINGS, ids=range(len(HOSTILE_STRINGS)))
def test_hostile_strings_are_inert_in_every_format(tmp_path, hostile):
    doc = copy.deepcopy(SMALL)
    for path in TEXT_FIELDS:
        if path[-1] == "variant":
            continue  # a name (checked by the schema); the others are free text
        doc = with_value(doc, path, hostile)
    code, out = _report(tmp_path, doc)
    assert code in (0, 1)
    assert _tree(tmp_path) == sorted(["run.json", "out", *(f"out/{p}" for p in _tree(out))])
    page = (out / "report.html").read_text()
    tags = _Tags()
    tags.feed(page)
    assert tags.tags <= {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "h4", "p",
                         "strong", "em", "nav", "ul", "li", "a", "main", "section", "article", "div", "table",
                         "colgroup", "col", "thead", "tbody", "tr", "th", "td", "span", "code", "pre", "small",
                         "ol", "figure", "img", "figcaption", "br", "wbr", "math", "mrow", "mi", "mo", "mn", "msub",
                         "msup", "msubsup", "mfrac", "msqrt", "mover", "munder", "munderover", "mtext", "mspace",
                         "mstyle", "mtable", "mtr", "mtd", "mpadded", "mroot", "menclose", "mphantom"}, tags.tags
    assert tags.attrs <= {"lang", "charset", "name", "content", "id", "href", "class", "src", "alt", "width",
                          "height", "display", "xmlns", "stretchy", "fence", "form", "separator", "lspace",
                          "rspace", "mathvariant", "columnalign", "columnspacing", "rowspacing", "accent",
                          "movablelimits", "minsize", "maxsize", "largeop", "symmetric", "linethickness",
                          "displaystyle", "scriptlevel", "accentunder"}, tags.attrs
    assert "\u202e" not in page and "\x07" not in page
    md = (out / "report.md").read_text()
    assert "<script" not in md and "<img" not in md and not re.search(r"(?<!\\)\]\(javascript:", md)
    assert "\u202e" not in md
    for line in md.splitlines():  # a table row keeps its columns: every | in a cell is escaped
        if line.startswith("| `") and "simsiam" in line:
            assert len(re.findall(r"(?<!\\)\|", line)) in (4, 7), line
    tex = (out / "report.tex").read_text()
    assert tex.isascii()
    assert not re.search(r"(?<!textbackslash\{\})\\(input|write18|immediate)\b", tex)
    assert tex.count(r"\end{document}") == 1


@pytest.mark.skipif(report.tex_engine() is None, reason="no TeX engine (pdflatex, lualatex, xelatex, tectonic)")
def test_hostile_strings_compile_to_a_pdf_without_running_anything(tmp_path):
    marker = tmp_path / "pwned"
    doc = with_value(SMALL, (*R, "statement"), " ".join(HOSTILE_STRINGS).replace("/tmp/pwned", str(marker)))
    code, out = _report(tmp_path, doc, name="run.json")
    assert code in (0, 1)
    tex = (out / "report.tex").read_text()
    pdf, overfull = report.compile_pdf(tex, {p.name: p.read_bytes() for p in (out / "img").glob("*.png")})
    assert pdf.startswith(b"%PDF") and not marker.exists()


def test_escape_helpers_on_hostile_strings():
    for s in HOSTILE_STRINGS:
        h = escape.html_text(s)
        assert not set("<>\"'") & set(h) and "\u202e" not in h and "\x1b" not in h
        m = escape.md_text(s)
        assert "\n" not in m and not re.search(r"(?<!\\)[`*_\[\]|$]|<[A-Za-z/!?]|^\s*(>|#+\s|[-+]\s)", m), m
        code = escape.md_code(s)
        fence = re.match(r"`+", code).group()
        assert code.endswith(fence) and fence not in code[len(fence):-len(fence)]
        t = escape.tex_text(s)
        assert t.isascii() and not re.search(r"(?<!\\textbackslash\{\})\\(input|write18|immediate|end)\b", t)
        assert not re.search(r"(?<!\\)[%#&~^$_{}]", re.sub(r"\\[a-z]+\{\}|\\[%#&$_{}]|\$\\[a-z]+\$", "", t)), t
    assert escape.clean("a\u202eb") == "a\\u202eb"
    assert escape.tex_text("100% #1 a_b {x} ~ ^ $") == r"100\% \#1 a\_b \{x\} \textasciitilde{} \textasciicircum{} \$"


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_slug_stays_in_its_folder(text):
    name = files.slug(text)
    assert name and len(name) <= files.MAX_STEM and not name.startswith(".")
    assert set(name) <= set(string.ascii_letters + string.digits + "._-") and ".." not in name
    assert Path(name).name == name


def test_slug_keeps_registry_names_and_separates_others():
    assert files.slug("vicreg.linear.lda_unbalanced") == "vicreg.linear.lda_unbalanced"
    assert files.slug("a/b") != files.slug("a_b") and files.slug("../x") != files.slug("x")


def test_output_folder_refuses_names_that_leave_it(tmp_path):
    folder = OutputDir(tmp_path / "out", "--out")
    for name in ("../x.png", "/tmp/x.png", "img/../../x.png", "..", ""):
        with pytest.raises(InvalidArgument):
            folder.save_bytes(name, b"x")
    assert _tree(tmp_path) == []


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=hostile_run_json(SMALL))
def test_fuzzed_runs_never_crash_nor_write_outside(tmp_path_factory, data):
    tmp = tmp_path_factory.mktemp("fuzz")
    code, out = _report(tmp, data)
    assert code in (0, 1, 2)
    if code == 2:
        assert _tree(tmp) == ["run.json"]
    else:
        assert all(p == "run.json" or p == "out" or p.startswith("out/") for p in _tree(tmp))
        assert "<script" not in (out / "report.html").read_text()


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=hostile_claims_json(CLAIMS))
def test_fuzzed_claims_never_crash(tmp_path_factory, data):
    tmp = tmp_path_factory.mktemp("fuzz")
    (tmp / "claims.json").write_bytes(data)
    try:
        report.load_claims(tmp / "claims.json")
    except InvalidArgument as exc:
        assert "claims --json" in str(exc)
    shutil.rmtree(tmp)
