"""docs/ are a report: the generated blocks of docs/*.md and README.md must match the recorded run.

Regenerates every block from docs/results/verify.json (no re-run) into a copy of the pages and
compares. Fix a failure with `python -m ssl_proofs_cli report --update-docs`.
"""
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("networkx")
pytest.importorskip("matplotlib")
pytest.importorskip("latex2mathml")

from ssl_proofs.errors import InvalidArgument  # noqa: E402
from ssl_proofs_cli.report import docs  # noqa: E402
from ssl_proofs_cli import main  # noqa: E402
from ssl_proofs_cli.report.facts import FACT_PAGES, quoted_facts  # noqa: E402
from ssl_proofs_cli.report.run import load_run  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["README.md", *docs.METHOD_PAGES.values()]
FIX = "run `python -m ssl_proofs_cli report --update-docs` and commit the result"


def _copy(tmp_path):
    for rel in sorted(set(PAGES) | set(FACT_PAGES)) + [docs.GENERATED_RUN.as_posix()]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp_path / rel)
    if (ROOT / docs.IMAGE_DIR).exists():
        shutil.copytree(ROOT / docs.IMAGE_DIR, tmp_path / docs.IMAGE_DIR)
    shutil.copytree(ROOT / "docs" / "results" / "diagnose", tmp_path / "docs" / "results" / "diagnose")


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


# -- numbers quoted in the prose (issue 19, item 5) -----------------------------------------------

def _prose(rel):
    """A page's text as a reader sees it (inline FACT comments removed, values kept)."""
    return re.sub(r"<!-- /?FACT[^>]*-->", "", (ROOT / rel).read_text())


def test_results_readme_quotes_the_recorded_seed_and_budget():
    run = load_run(ROOT / docs.GENERATED_RUN)
    m = re.search(r"run \(seed (\d+),\s+(\d+) hypothesis examples per\s+theorem", _prose("docs/results/README.md"))
    assert m, "docs/results/README.md no longer says which seed and budget verify.json used"
    assert (int(m.group(1)), int(m.group(2))) == (run["seed"], run["examples"])


def test_vicreg_prose_quotes_the_recorded_counterexamples():
    run = load_run(ROOT / docs.GENERATED_RUN)
    res = {r["id"]: r for r in run["results"]}
    text = " ".join(_prose("docs/vicreg.md").split())
    lm = res["vicreg.squared.local_minima"]
    m = re.search(r"shrank the counterexample to N = (\d+), k = (\d+), α = ([\d.]+), γ = ([\d.]+): a stationary "
                  r"point whose Hessian has the eigenvalue −(\d+(?:\.\d+)?)", text)
    assert m, "docs/vicreg.md no longer quotes the recorded local-minima counterexample"
    inst = lm["instance"]
    assert (int(m.group(1)), int(m.group(2))) == (inst["N"], inst["k"])
    assert (float(m.group(3)), float(m.group(4))) == (inst["hyper"]["alpha"], inst["hyper"]["gamma"])
    # the failing measurement is -min eig(Hessian), printed to 2 significant digits
    assert float(m.group(5)) == pytest.approx(lm["failing"][0]["error"], rel=0.05)
    le = res["vicreg.constrained.le_any_graph"]
    m = re.search(r"N = (\d+), edges ([\d, -]+), k = (\d+): ‖P\(span\{1, Z\*\}\) − P\(LE\)‖₂ = (\d+(?:\.\d+)?)", text)
    assert m and int(m.group(1)) == le["instance"]["N"] and int(m.group(3)) == le["instance"]["k"]
    assert m.group(2).strip(" ,") == ", ".join(f"{a}-{b}" for a, b, *_ in le["instance"]["edges"])
    assert float(m.group(4)) == pytest.approx(le["failing"][0]["error"], rel=0.05)


def test_a_fact_that_disagrees_with_the_record_is_stale(tmp_path):
    _copy(tmp_path)
    run_path = tmp_path / docs.GENERATED_RUN
    text = run_path.read_text()
    changed = re.sub(r'"examples": 100,', '"examples": 20,', text, count=1)
    assert changed != text
    run_path.write_text(changed)
    assert "docs/results/README.md" in docs.update_docs(root=tmp_path, check=True)
    docs.update_docs(root=tmp_path)
    assert quoted_facts((tmp_path / "docs/results/README.md").read_text())["run.examples"] == "20"


def _squared_vicreg(z, G, alpha, gamma):
    """Squared VICReg for K = 1 written out in numpy (independent of the package's torch loss)."""
    n = len(z)
    c = np.var(z)                                   # Z^T H Z / N
    return alpha * (c - 1) ** 2 + gamma / n * np.sum(G * (z[:, None] - z[None, :]) ** 2)


def test_the_hand_worked_local_minimum_example_is_right():
    # docs/vicreg.md: path 1-0-2, alpha = 1, gamma = 0.2, Z on lambda = 3: Hessian eigenvalue -0.533
    G = np.zeros((3, 3))
    G[0, 1] = G[1, 0] = G[0, 2] = G[2, 0] = 1.0
    L = np.diag(G.sum(1)) - G
    lam, U = np.linalg.eigh(L)
    assert np.allclose(lam, [0, 1, 3])
    z = np.sqrt(3) * U[:, 2] * np.sqrt(1 - 0.2 * 3)
    f = lambda v: _squared_vicreg(v, G, 1.0, 0.2)  # noqa: E731
    h = 1e-4                                        # central differences: error O(h^2) ~ 1e-8
    E = np.eye(3) * h
    Hess = np.array([[(f(z + E[i] + E[j]) - f(z + E[i] - E[j]) - f(z - E[i] + E[j]) + f(z - E[i] - E[j])) / (4 * h * h)
                      for j in range(3)] for i in range(3)])
    grad = np.array([(f(z + E[i]) - f(z - E[i])) / (2 * h) for i in range(3)])
    assert np.abs(grad).max() < 1e-6                # stationary
    assert np.linalg.eigvalsh(Hess).min() == pytest.approx(-0.533, abs=1e-3)
    assert "Hessian has eigenvalue −0.533" in _prose("docs/vicreg.md")


def test_diagnose_page_shows_what_the_recorded_embeddings_give(tmp_path, capsys):
    """docs/diagnose.md's output block is the CLI's output on the recorded batch (docs/results/diagnose/)."""
    rec = ROOT / "docs" / "results" / "diagnose"
    page = (ROOT / "docs" / "diagnose.md").read_text()
    start = page.index("$ ssl-proofs diagnose --embeddings Z_end.npy")
    shown = page[start:page.index("```", start)].split("\n", 2)[2]
    args = ["diagnose", "--embeddings", str(rec / "Z_end.npy"), "--graph", str(rec / "G.npz"), "--method", "vicreg",
            "--variant", "hinge", "--alpha", "1.5625", "--beta", "0.125", "--gamma", "1.5625",
            "--json", str(tmp_path / "d.json")]
    assert main(args) == 0
    assert capsys.readouterr().out == shown
    # the recorded JSON (whose numbers the page's table quotes) is what the CLI writes today
    new, old = json.loads((tmp_path / "d.json").read_text()), json.loads((rec / "end.json").read_text())
    for key in ("loss", "gap", "energy_in_optimal_subspace", "effective_rank", "state"):
        assert new[key] == pytest.approx(old[key], rel=1e-9) if isinstance(old[key], float) else new[key] == old[key]
