"""The command line: exit codes, outputs, bad input without tracebacks."""
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ssl_proofs
import ssl_proofs.graphfiles
from ssl_proofs.graphs import view_graph
from ssl_proofs.methods import vicreg as vicreg_module
from ssl_proofs.evidence import Evidence
from ssl_proofs_cli import main
from ssl_proofs_cli.table import format_results
from ssl_proofs_verifiers.core import LOWER_LOSS, NOT_STATIONARY, Measurement, TheoremResult

ROOT = Path(__file__).resolve().parents[1]  # subprocesses import this checkout, not an installed copy


def test_list_shows_methods_and_theorem_ids(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "vicreg" in out
    for t in ssl_proofs.list_theorems("vicreg"):
        assert t.id in out


def test_verify_one_theorem_prints_a_table_and_json(tmp_path, capsys):
    path = tmp_path / "r.json"
    code = main(["verify", "vicreg.squared.closed_form", "--examples", "3", "--seed", "1",
                 "--device", "cpu", "--json", str(path)])
    out = capsys.readouterr()
    assert code == 0
    assert "vicreg.squared.closed_form" in out.out and "holds" in out.out
    assert "[1/1]" in out.err  # the live line (one line per theorem when not a terminal)
    data = json.loads(path.read_text())
    (r,) = data["results"]
    assert r["verdict"] == "holds" and r["matches"] and r["examples"] == 3
    assert r["evidence"]["level"] == "numeric" and r["worst"]["error"] <= r["worst"]["tol"]


def test_refuted_claim_recorded_as_refuted_exits_zero_and_prints_counterexample(capsys):
    assert main(["verify", "vicreg.constrained.le_any_graph", "--examples", "10", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "refuted (as recorded)" in out
    assert "Counterexamples" in out and "edges" in out


def test_a_verdict_that_differs_from_the_record_is_a_regression(monkeypatch, capsys):
    th = list(vicreg_module.VICREG_THEOREMS)
    i = next(i for i, t in enumerate(th) if t.id == "vicreg.constrained.le_any_graph")
    th[i] = dataclasses.replace(th[i], expected="holds")
    monkeypatch.setattr(vicreg_module, "VICREG_THEOREMS", th)
    assert main(["verify", "vicreg.constrained.le_any_graph", "--examples", "10", "--device", "cpu"]) == 1
    assert "REGRESSION" in capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["md", "tex", "json", "text"])
def test_derive_formats(fmt, capsys):
    assert main(["derive", "vicreg", "--variant", "squared", "--format", fmt]) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        steps = json.loads(out)
        steps = steps["steps"] if isinstance(steps, dict) else steps
        assert len(steps) >= 5 and all("evidence" in s for s in steps)
    else:
        assert "symbolic" in out.lower()


def test_solve_from_an_edge_list(tmp_path, capsys):
    G = view_graph(4, 2)
    edges = tmp_path / "g.txt"
    edges.write_text("\n".join(f"{i} {j}" for i, j in zip(*np.nonzero(np.triu(G)))) + "\n")
    out = tmp_path / "Z.npy"
    assert main(["solve", "vicreg", "--graph", str(edges), "-k", "3", "--alpha", "1", "--gamma", "0.3",
                 "--out", str(out)]) == 0
    Z = np.load(out)
    ref = ssl_proofs.get_method("vicreg").solve(G, 3, variant="squared", alpha=1, gamma=0.3)
    np.testing.assert_allclose(Z @ Z.T, ref.Z @ ref.Z.T, atol=1e-10)


@pytest.mark.parametrize("argv, words", [
    (["solve", "vicreg", "--graph", "missing.txt", "-k", "2", "--out", "Z.npy"], "missing.txt"),
    (["solve", "vicreg", "--graph", "{graph}", "-k", "9", "--variant", "constrained", "--out", "Z.npy"], "k = 9"),
    (["solve", "vicreg", "--graph", "{graph}", "-k", "2", "--alpha", "0", "--out", "Z.npy"], "alpha"),
    (["solve", "vicreg", "--graph", "{graph}", "-k", "2", "--variant", "hinge", "--out", "Z.npy"], "closed-form"),
    (["verify", "nosuchmethod"], "neither a method"),
    (["derive", "nosuchmethod"], "unknown method"),
])
def test_bad_input_exits_2_with_a_message_and_no_traceback(argv, words, tmp_path):
    graph = tmp_path / "g.txt"
    graph.write_text("0 1\n1 2\n2 3\n")
    argv = [a.replace("{graph}", str(graph)) for a in argv]
    proc = subprocess.run([sys.executable, "-m", "ssl_proofs_cli", *argv], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2, proc.stderr
    assert words in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unreadable_graph_file(tmp_path, capsys):
    bad = tmp_path / "g.txt"
    bad.write_text("0 1\nthis is not an edge\n")
    assert main(["solve", "vicreg", "--graph", str(bad), "-k", "1", "--out", str(tmp_path / "Z.npy")]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err


def test_no_argument_runs_verify_all(monkeypatch):
    called = {}
    import ssl_proofs_verifiers.runner as runner

    def fake_resolve(target):
        called["target"] = target
        return []

    monkeypatch.setattr(runner, "resolve_theorems", fake_resolve)
    assert main([]) == 0
    assert called["target"] == "all"


def test_plot_writes_a_png_whose_curves_follow_the_rank_formula(tmp_path):
    pytest.importorskip("matplotlib")
    from ssl_proofs_cli.plots import variance_profile

    graph = tmp_path / "g.txt"
    graph.write_text("0 1\n1 2\n2 0\n3 4\n4 5\n5 3\n")  # two triangles: one zero eigenvalue on 1-perp
    out = tmp_path / "fig.png"
    assert main(["plot", "vicreg", "--graph", str(graph), "-k", "4", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    G = ssl_proofs.graphfiles.read_graph(graph)
    V = variance_profile(ssl_proofs.get_method("vicreg"), G, 4, [1e-3, 1e3])
    assert np.all(V[0] > 0.99) and np.count_nonzero(V[1]) == 1  # only the lambda=0 direction survives


def test_a_crashing_check_is_reported_as_error_not_a_traceback(monkeypatch, capsys):
    import ssl_proofs_verifiers.checks as checks

    def boom(theorem, method, inst, ctx):
        raise ZeroDivisionError("planted bug")

    monkeypatch.setitem(checks.CHECKS, "closed_form", boom)
    assert main(["verify", "vicreg.squared.closed_form", "--examples", "2", "--device", "cpu"]) == 1
    out = capsys.readouterr().out
    assert "error" in out and "planted bug" in out and "REGRESSION" in out


def test_cuda_request_without_gpu_is_a_clear_error(capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert main(["verify", "vicreg.derivation", "--device", "cuda"]) == 2
    assert "no GPU" in capsys.readouterr().err


# -- output paths: checked before the work, written atomically, printed as written -------------

GRAPH = "0 1\n1 2\n2 3\n"


@pytest.fixture
def no_work(monkeypatch):
    """Fails the test if a command starts its work (reads the graph, verifies) before refusing its output path."""
    import ssl_proofs_verifiers.runner as runner
    from ssl_proofs_cli.commands import plot as plot_cmd, solve as solve_cmd

    def work(*args, **kwargs):
        raise AssertionError("the work started before the output path was checked")

    for module in (solve_cmd, plot_cmd):
        monkeypatch.setattr(module, "read_graph", work)
    monkeypatch.setattr(runner, "resolve_theorems", work)


BAD_OUTPUTS = [
    ("", "is empty"),
    ("missing/Z.npy", "does not exist"),
    ("g.txt/Z.npy", "is a file, not a folder"),
    ("adir", "is a directory"),
    ("new/", "names a folder"),
    ("Z.txt", "unsupported suffix '.txt'"),
]


@pytest.mark.parametrize("out, words", BAD_OUTPUTS)
def test_solve_refuses_a_bad_out_before_the_work_and_writes_nothing(out, words, tmp_path, monkeypatch, capsys,
                                                                     no_work):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "g.txt").write_text(GRAPH)
    (tmp_path / "adir").mkdir()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    assert main(["solve", "vicreg", "--graph", "g.txt", "-k", "1", "--out", out]) == 2
    err = capsys.readouterr().err
    assert words in err and err.startswith("ssl-proofs: error: --out")
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("out, words", [(o.replace("Z.npy", "r.json"), w) for o, w in BAD_OUTPUTS[:5]]
                         + [("r.txt", "unsupported suffix '.txt'")])
def test_verify_refuses_a_bad_json_before_verifying(out, words, tmp_path, monkeypatch, capsys, no_work):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "g.txt").write_text(GRAPH)
    (tmp_path / "adir").mkdir()
    assert main(["verify", "vicreg.derivation", "--json", out]) == 2
    assert words in capsys.readouterr().err


@pytest.mark.parametrize("out, words", [("x.xyz", "'.xyz'"), ("fig", "(none)"), ("nodir/x.png", "does not exist")])
def test_plot_refuses_a_bad_out_before_plotting(out, words, tmp_path, monkeypatch, capsys, no_work):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "g.txt").write_text(GRAPH)
    assert main(["plot", "vicreg", "--graph", "g.txt", "-k", "1", "--out", out]) == 2
    assert words in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.txt"]


def test_solve_prints_the_path_it_wrote(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "g.txt").write_text(GRAPH)
    (tmp_path / "out").mkdir()
    assert main(["solve", "vicreg", "--graph", "g.txt", "-k", "1", "--out", "out/Zplain"]) == 0
    printed = capsys.readouterr().out
    assert "to out/Zplain.npy;" in printed
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["Zplain.npy"]  # no temporary left behind
    assert np.load(tmp_path / "out" / "Zplain.npy").shape == (4, 1)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    from ssl_proofs_cli.io import write_atomic

    target = tmp_path / "Z.npy"
    target.write_bytes(b"old")

    def fails(tmp):
        with open(tmp, "wb") as fh:
            fh.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_atomic(target, fails)
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["Z.npy"]


@pytest.mark.parametrize("flags, words", [
    (["--starts", "0"], "starts = 0"),
    (["--starts", "-2"], "starts = -2"),
    (["--examples", "0"], "examples = 0"),
    (["--examples", "-1"], "examples = -1"),
    (["--seed", "-1"], "seed = -1"),
])
def test_verify_run_options_are_checked_before_the_work(flags, words, capsys):
    assert main(["verify", "vicreg.squared.closed_form", "--device", "cpu", *flags]) == 2
    err = capsys.readouterr().err
    assert words in err and "must be an integer >=" in err


# -- internal errors: exit 3, never reported as bad input -------------------------------------

def test_a_bug_in_a_command_exits_3_and_says_internal_error(monkeypatch, capsys):
    from ssl_proofs_cli.commands import list_cmd

    def bug(args):
        raise KeyError("planted bug")

    monkeypatch.setattr(list_cmd, "run", bug)
    assert main(["list"]) == 3
    err = capsys.readouterr().err
    assert "internal error" in err and "planted bug" in err and "not of your input" in err


def test_a_project_error_raised_inside_a_check_is_internal_not_bad_input(monkeypatch, capsys):
    import ssl_proofs_verifiers.checks as checks
    from ssl_proofs.errors import InvalidArgument

    def misused(theorem, method, inst, ctx):
        raise InvalidArgument("planted: a check passed the solver a bad k")

    monkeypatch.setitem(checks.CHECKS, "closed_form", misused)
    assert main(["verify", "vicreg.squared.closed_form", "--examples", "2", "--device", "cpu"]) == 3
    err = capsys.readouterr().err
    assert "internal error" in err and "planted" in err and "ssl-proofs: error:" not in err


def test_output_piped_into_head_stops_quietly(tmp_path):
    proc = subprocess.run(f"{sys.executable} -m ssl_proofs_cli list | head -c 10", shell=True, capture_output=True,
                          text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0 and proc.stderr == "" and len(proc.stdout) == 10


# -- validated once -----------------------------------------------------------------------------

@pytest.mark.parametrize("method, linear", [("vicreg", False), ("vicreg", True), ("barlowtwins", False),
                                            ("spectral_contrastive", True)])
def test_solve_validates_the_graph_once(method, linear, tmp_path, monkeypatch, validations):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "g.txt").write_text(GRAPH)
    np.save(tmp_path / "X.npy", np.random.default_rng(0).standard_normal((4, 3)))
    extra = ["--linear", "--data", "X.npy"] if linear else []
    assert main(["solve", method, "--graph", "g.txt", "-k", "1", "--out", "Z.npy", *extra]) == 0
    assert validations["n"] == 1


@pytest.mark.parametrize("method, linear, flags", [("vicreg", False, ["--gamma", "0.5"]), ("vicreg", True, []),
                                                    ("barlowtwins", False, ["--alpha", "0.01"])])
def test_solve_checks_the_hyper_parameters_once(method, linear, flags, tmp_path, monkeypatch, hyper_validations):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "g.txt").write_text(GRAPH)
    np.save(tmp_path / "X.npy", np.random.default_rng(0).standard_normal((4, 3)))
    extra = ["--linear", "--data", "X.npy"] if linear else []
    assert main(["solve", method, "--graph", "g.txt", "-k", "1", "--out", "Z.npy", *flags, *extra]) == 0
    assert hyper_validations["n"] == 1


def test_one_verify_example_checks_its_hyper_parameters_once(hyper_validations):
    from ssl_proofs_verifiers import verify

    (res,) = verify("vicreg.squared.closed_form", examples=1, device="cpu", starts=1)
    assert res.examples == 1 and hyper_validations["n"] == 1


def test_one_verify_example_validates_its_graph_once(validations):
    from ssl_proofs_verifiers import verify

    (res,) = verify("vicreg.squared.closed_form", examples=1, device="cpu", starts=1)
    assert res.examples == 1 and validations["n"] == 1


@pytest.mark.parametrize("content, words", [
    (None, "complex entries"),
    (b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }"
     + b" " * 50 + b"\n", "truncated"),
    (bytes(range(200)), "not a NumPy .npy array"),
])
def test_bad_data_files_are_refused_before_loading(content, words, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "g.txt").write_text(GRAPH)
    if content is None:
        np.save(tmp_path / "X.npy", np.ones((4, 2)) * 1j)
    else:
        (tmp_path / "X.npy").write_bytes(content)
    assert main(["solve", "vicreg", "--graph", "g.txt", "-k", "1", "--out", "W.npy", "--linear", "--data", "X.npy"]) == 2
    err = capsys.readouterr().err
    assert words in err and "allow_pickle" not in err and not (tmp_path / "W.npy").exists()


def test_table_and_json_show_the_measurement_that_decided_a_refutation():
    """Issue 16, finding 4: the table's error / tol column of a refuted theorem printed the worst *passing* check
    (vicreg.squared.local_minima: 6.5e-15 / 2.3e-08 while the report showed 1.3e-01 failing). The result
    carries the deciding measurement (TheoremResult.decided_by), its kind and tolerance; table and JSON read it."""
    th = ssl_proofs.get_theorem("vicreg.squared.local_minima")
    passing = Measurement("other subset is stationary", 6.5e-15, 2.3e-08)
    grad = Measurement("stationarity", 5e-3, 1e-10, kind=NOT_STATIONARY)
    loss = Measurement("local minimum: lower loss nearby", 1.3e-01, 1e-3, kind=LOWER_LOSS)
    res = TheoremResult(th, "refuted", Evidence.refuted("N=3"), 5, passing, "N=3", [grad, loss])
    assert res.decided_by is loss  # a competitor with lower loss decides before a larger gradient ratio
    table = format_results([res])
    assert "1.3e-01 / 1.0e-03 (lower loss found)" in table and "6.5e-15" not in table
    d = res.to_dict()["decided_by"]
    assert d["kind"] == LOWER_LOSS and d["error"] == 1.3e-01 and d["tol"] == 1e-3 and d["refutes"]
