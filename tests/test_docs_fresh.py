"""docs/ are a report: the generated blocks of docs/*.md and README.md must match the recorded run.

Regenerates every block from docs/results/verify.json (no re-run) into a copy of the pages and
compares. Fix a failure with `python -m ssl_proofs_cli report --update-docs`.
"""
import re
import shutil
from pathlib import Path

import pytest

pytest.importorskip("networkx")
pytest.importorskip("matplotlib")
pytest.importorskip("latex2mathml")

from ssl_proofs.errors import InvalidArgument  # noqa: E402
from ssl_proofs_cli.report import docs  # noqa: E402
from ssl_proofs_cli.report.run import load_run  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["README.md", *docs.METHOD_PAGES.values()]
FIX = "run `python -m ssl_proofs_cli report --update-docs` and commit the result"


def _copy(tmp_path):
    for rel in PAGES + [docs.GENERATED_RUN.as_posix()]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp_path / rel)
    if (ROOT / docs.IMAGE_DIR).exists():
        shutil.copytree(ROOT / docs.IMAGE_DIR, tmp_path / docs.IMAGE_DIR)


def test_generated_docs_are_fresh():
    stale = docs.update_docs(root=ROOT, check=True)
    assert not stale, f"stale generated docs: {stale}; {FIX}"


def test_every_page_has_its_block_and_images():
    run = load_run(ROOT / docs.GENERATED_RUN)
    for rel in PAGES:
        text = (ROOT / rel).read_text()
        names = re.findall(r"<!-- BEGIN GENERATED: ([\w.-]+) -->", text)
        assert names and names == re.findall(r"<!-- END GENERATED: ([\w.-]+) -->", text), rel
        for img in re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", text):
            assert (ROOT / rel).parent.joinpath(img).is_file(), f"{rel} shows a missing picture {img}"
    refuted = [r["id"] for r in run["results"] if r["verdict"] == "refuted" and r.get("instance")]
    for tid in refuted:
        assert (ROOT / docs.IMAGE_DIR / f"{tid}.png").is_file(), tid


def test_staleness_is_detected_and_prose_kept(tmp_path):
    # the check can fail: a changed verdict in the recorded run makes the pages stale
    _copy(tmp_path)
    run_path = tmp_path / docs.GENERATED_RUN
    text = run_path.read_text()
    changed = text.replace('"verdict": "holds"', '"verdict": "refuted"', 1)
    assert changed != text
    run_path.write_text(changed)
    assert docs.update_docs(root=tmp_path, check=True), "a changed run must make some page stale"
    # regenerating rewrites only the inside of the blocks: the hand-written prose stays byte for byte
    page = tmp_path / "docs" / "vicreg.md"
    page.write_text("Hand-written intro.\n\n" + page.read_text() + "\nHand-written outro.\n")
    before = page.read_text()
    docs.update_docs(root=tmp_path)
    after = page.read_text()
    outside = re.compile(r"<!-- BEGIN GENERATED: (\S+) -->.*?<!-- END GENERATED: \1 -->", re.S)
    assert outside.sub("", before) == outside.sub("", after)
    assert docs.update_docs(root=tmp_path, check=True) == []


def test_readme_without_markers_is_a_clear_error(tmp_path):
    _copy(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(re.sub(r"<!-- (BEGIN|END) GENERATED: [\w.-]+ -->\n", "", readme.read_text()))
    with pytest.raises(InvalidArgument, match="markers"):
        docs.update_docs(root=tmp_path)
