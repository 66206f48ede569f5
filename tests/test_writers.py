"""Files the tool writes (issue 18, class 3): one checked, atomic writer, never through a link,
never over an input, checked before the work, write errors as the project's error (exit 2).

Each output flag of each command is tried against a table of hostile targets; "hostile" means
what a shared folder can hold: a symbolic link to a victim file (final component), a link inside a
report folder, a hard link to an input, the input itself, a FIFO, a missing folder. The victim's
bytes must be unchanged and the command must exit 2 before its work starts.
"""
import errno
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ssl_proofs_verifiers.experiments.registry as registry
from ssl_proofs_verifiers.experiments import hinge
import ssl_proofs_verifiers.mutants as mutants
import ssl_proofs_verifiers.runner as runner
from ssl_proofs.errors import OutputError
from ssl_proofs_cli import io as cli_io
from ssl_proofs_cli import main
from ssl_proofs_cli.commands import diagnose, plot, solve

ROOT = Path(__file__).resolve().parents[1]
GRAPH = "0 1\n1 2\n2 3\n3 0\n"
VICTIM = b"precious bytes that must survive\n"


@pytest.fixture
def no_work(monkeypatch):
    """Fails the test if a command reads its inputs, runs an experiment, a campaign or a theorem
    before refusing an output."""
    def work(*args, **kwargs):
        raise AssertionError("the work started before the output path was checked")

    for module in (solve, plot, diagnose):
        monkeypatch.setattr(module, "read_graph", work)
    monkeypatch.setattr(diagnose, "load_array", work)
    for name, exp in list(registry.EXPERIMENTS.items()):
        monkeypatch.setitem(registry.EXPERIMENTS, name, exp.__class__(exp.name, exp.claims, work, exp.plot,
                                                                       exp.summary))
    monkeypatch.setattr(mutants, "run_campaign", work)
    monkeypatch.setattr(runner, "resolve_theorems", work)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A working folder with inputs (g.npy graph, Z.npy embeddings, g.txt), a victim file and hostile names."""
    monkeypatch.chdir(tmp_path)
    G = np.array([[0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0.]])
    np.save("g.npy", G)
    np.save("Z.npy", np.ones((4, 1)))
    Path("g.txt").write_text(GRAPH)
    outside = tmp_path.parent / f"{tmp_path.name}-victim"
    outside.mkdir()
    for name in ("victim.json", "victim.npy", "victim.png"):
        (outside / name).write_bytes(VICTIM)
        os.symlink(outside / name, f"link-{name}")
    os.link("g.npy", "hard-g.npy")
    os.mkfifo("fifo.json")
    yield tmp_path, outside
    for name in ("victim.json", "victim.npy", "victim.png"):
        assert (outside / name).read_bytes() == VICTIM, f"{name} was written through a link"


def _snapshot(root):
    return {p: (p.read_bytes() if p.is_file() and not p.is_fifo() else None)
            for p in sorted(root.rglob("*")) if not p.is_symlink() and not p.is_fifo()}


# (command line, the flag whose path is hostile, words of the message)
HOSTILE = [
    (["solve", "vicreg", "--graph", "g.npy", "-k", "1", "--out", "link-victim.npy"], "symbolic link"),
    (["solve", "vicreg", "--graph", "g.npy", "-k", "1", "--out", "g.npy"], "is the input --graph"),
    (["solve", "vicreg", "--graph", "g.npy", "-k", "1", "--out", "hard-g.npy"], "is the input --graph"),
    (["solve", "vicreg", "--graph", "hard-g.npy", "-k", "1", "--out", "g.npy"], "is the input --graph"),
    (["solve", "vicreg", "--graph", "g.txt", "-k", "1", "--out", "z.npy", "--json", "link-victim.json"],
     "symbolic link"),
    (["solve", "vicreg", "--graph", "g.txt", "-k", "1", "--out", "z.npy", "--json", "fifo.json"],
     "not a regular file"),
    (["solve", "vicreg", "--graph", "g.txt", "-k", "1", "--linear", "--data", "Z.npy", "--out", "Z.npy"],
     "is the input --data"),
    (["plot", "vicreg", "--graph", "g.txt", "-k", "1", "--out", "link-victim.png"], "symbolic link"),
    (["diagnose", "--embeddings", "Z.npy", "--graph", "g.txt", "--json", "link-victim.json"], "symbolic link"),
    (["diagnose", "--embeddings", "Z.npy", "--graph", "g.txt", "--json", "missing/d.json"], "does not exist"),
    (["diagnose", "--embeddings", "Z.npy", "--graph", "g.txt", "--json", "fifo.json"], "not a regular file"),
    (["experiment", "hinge", "--no-cache", "--json", "link-victim.json"], "symbolic link"),
    (["experiment", "hinge", "--no-cache", "--json", "missing/dir/e.json"], "does not exist"),
    (["experiment", "hinge", "--no-cache", "--plot", "link-victim.png"], "symbolic link"),
    (["experiment", "hinge", "--no-cache", "--plot", "missing/p.png"], "does not exist"),
    (["claims", "--no-cache", "--json", "link-victim.json"], "symbolic link"),
    (["claims", "--no-cache", "--json", "missing/c.json"], "does not exist"),
    (["mutants", "--quick", "--json", "link-victim.json"], "symbolic link"),
    (["mutants", "--quick", "--json", "fifo.json"], "not a regular file"),
    (["verify", "vicreg.squared.closed_form", "--json", "link-victim.json"], "symbolic link"),
]


@pytest.mark.parametrize("argv, words", HOSTILE, ids=[f"{a[0]}-{a[-1]}-{i}" for i, (a, _) in enumerate(HOSTILE)])
def test_a_hostile_output_is_refused_before_the_work_and_nothing_is_written(argv, words, folder, capsys,
                                                                          no_work):
    root, _ = folder
    before = _snapshot(root)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("ssl-proofs: error:") and words in err and "Traceback" not in err
    assert _snapshot(root) == before


def test_report_refuses_links_and_inputs_in_its_folder(folder, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    root, outside = folder
    run = ROOT / "docs" / "results" / "verify.json"
    out = root / "rep"
    out.mkdir()
    os.symlink(outside / "victim.json", out / "report.md")
    assert main(["report", "--from-json", str(run), "--out", str(out), "--format", "md", "--no-claims"]) == 2
    assert "symbolic link" in capsys.readouterr().err
    (out / "report.md").unlink()
    os.symlink(outside, out / "img")  # a linked sub-folder: the pictures would land outside
    assert main(["report", "--from-json", str(run), "--out", str(out), "--format", "md", "--no-claims"]) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert sorted(p.name for p in outside.iterdir()) == ["victim.json", "victim.npy", "victim.png"]


def test_report_never_writes_over_its_recorded_run(folder, capsys):
    """A report file that is a hard link to the --from-json input: refused before the work."""
    pytest.importorskip("matplotlib")
    root, _ = folder
    run = root / "run.json"
    run.write_bytes((ROOT / "docs" / "results" / "verify.json").read_bytes())
    before = run.read_bytes()
    out = root / "rep"
    out.mkdir()
    os.link(run, out / "report.html")
    assert main(["report", "--from-json", str(run), "--out", str(out), "--format", "html", "--no-claims"]) == 2
    assert "is the input --from-json" in capsys.readouterr().err
    assert run.read_bytes() == before


@pytest.mark.parametrize("name", ["../escape.txt", "/tmp/abs.txt", "a/../../b.txt", "", "img/../../c.txt"])
def test_an_output_folder_never_writes_outside_itself(tmp_path, name):
    out = cli_io.OutputDir(tmp_path / "out")
    with pytest.raises(cli_io.InvalidArgument):
        out.save_text(name, "x")
    assert list(tmp_path.rglob("*")) == []  # not even the folder: it is created at the first write


def test_an_output_folder_writes_into_new_subfolders(tmp_path):
    out = cli_io.OutputDir(tmp_path / "a" / "b")
    p = out.save_bytes("img/x.png", b"png")
    assert p == tmp_path / "a" / "b" / "img" / "x.png" and p.read_bytes() == b"png"


def test_a_symlinked_folder_the_user_named_is_followed(tmp_path):
    """The documented choice: the user's own path components may be links; the final name may not."""
    real = tmp_path / "real"
    real.mkdir()
    os.symlink(real, tmp_path / "via")
    p = cli_io.output_path(str(tmp_path / "via" / "z.npy"), "--out", suffixes=(".npy",))
    cli_io.save_array(p, np.arange(3.0))
    assert np.load(real / "z.npy").tolist() == [0, 1, 2]


def test_the_temporary_is_never_a_link_the_writer_follows(tmp_path, monkeypatch):
    """A writer given a temporary name writes in a private folder; a link planted there is refused."""
    target = tmp_path / "out.json"
    victim = tmp_path / "victim"
    victim.write_bytes(VICTIM)

    def plants_a_link(tmp):
        folder = os.path.dirname(tmp)
        assert (os.stat(folder).st_mode & 0o077) == 0, "the temporary folder is readable by others"
        os.symlink(victim, tmp)  # what an attacker racing us would do, if the folder let them
        cli_io._fill(tmp, "wb", lambda fh: fh.write(b"x"))

    with pytest.raises(OSError):
        cli_io.write_atomic(target, plants_a_link)
    assert victim.read_bytes() == VICTIM and not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["victim"]


def test_a_full_disk_is_the_projects_error_and_leaves_the_old_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("g.txt").write_text(GRAPH)
    Path("r.json").write_text('{"old": true}')
    real_dump = json.dump

    def full(obj, fh, **kw):
        real_dump(obj, fh, **kw)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(cli_io.json, "dump", full)
    assert main(["solve", "vicreg", "--graph", "g.txt", "-k", "1", "--out", "z.npy", "--json", "r.json"]) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Traceback" not in err
    assert Path("r.json").read_text() == '{"old": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.txt", "r.json", "z.npy"]  # no temporary left


def _tmpfs(path, size):
    path.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True,
                       capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        pytest.skip("mounting a small tmpfs is not permitted here (needs root)")


def test_a_really_full_disk_leaves_no_truncated_file(tmp_path):
    """A 64 KiB tmpfs: an array of 1 MiB cannot fit; the old file stays whole, exit 2, no temporary."""
    disk = tmp_path / "disk"
    _tmpfs(disk, "64k")
    try:
        np.save(tmp_path / "big.npy", np.zeros(2 ** 17))
        (disk / "Z.npy").write_bytes(b"old")
        proc = subprocess.run([sys.executable, "-c", "import numpy as np, sys; from ssl_proofs_cli.io import "
                               "save_array; from ssl_proofs.errors import OutputError\n"
                               "try: save_array(sys.argv[1], np.load(sys.argv[2]))\n"
                               "except OutputError as e: print(e); sys.exit(2)",
                               str(disk / "Z.npy"), str(tmp_path / "big.npy")],
                              capture_output=True, text=True, timeout=120, cwd=ROOT)
        # numpy reports a short write ("131072 requested and 7664 written"), the OS "No space left on device"
        assert proc.returncode == 2 and "writing failed" in proc.stdout, proc.stdout + proc.stderr
        assert (disk / "Z.npy").read_bytes() == b"old" and sorted(p.name for p in disk.iterdir()) == ["Z.npy"]
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True, timeout=10)


def test_write_errors_are_output_errors_and_os_errors(tmp_path):
    def fails(tmp):
        raise OSError(errno.EIO, "I/O error")

    with pytest.raises(OutputError) as info:
        cli_io.write_atomic(tmp_path / "x.json", fails)
    assert isinstance(info.value, OSError) and info.value.errno == errno.EIO


def test_a_closed_stdout_does_not_stop_the_files_being_written(tmp_path):
    """`solve --json ... | true` used to exit 0 without the JSON (the first print raised BrokenPipeError)."""
    (tmp_path / "g.txt").write_text(GRAPH)
    cmd = (f"{sys.executable} -m ssl_proofs_cli solve vicreg --graph g.txt -k 1 --out z.npy --json r.json | true; "
           "exit ${PIPESTATUS[0]}")
    proc = subprocess.run(["bash", "-c", cmd], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert json.loads((tmp_path / "r.json").read_text())["certificate"] == "proved"
    assert np.load(tmp_path / "z.npy").shape == (4, 1)


# -- the before-stop hook's grep, as a test: no file is opened for writing outside ssl_proofs_cli/io.py --

WRITERS = re.compile(r"open\([^)]*['\"][wax]b?\+?['\"]|\.savefig\((out|path)|\.write_text\(|\.write_bytes\("
                     r"|np\.save[z]?(_compressed)?\((?!buf)|save_npz\((?!buf)|mmwrite\((?!buf)|\.tofile\(")


#: a line that writes into an in-memory buffer (a zip member of a BytesIO) says so, and is not a file write
IN_MEMORY = "# in memory, not a file"
MESSAGE = re.compile(r"""(["'])(?:(?!\1).)*\s(?:(?!\1).)*\1""")  # a string literal with a space in it


def test_every_file_written_goes_through_the_one_writer():
    offenders = []
    for package in ("ssl_proofs", "ssl_proofs_cli", "verifiers", "benchmarks"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "ssl_proofs_cli" / "io.py":
                continue
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if line.rstrip().endswith(IN_MEMORY):
                    continue
                code = MESSAGE.sub('""', line.split("#", 1)[0])  # advice in messages ("Write it with np.save(...)")
                if WRITERS.search(code):
                    offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, "write through ssl_proofs_cli.io instead:\n" + "\n".join(offenders)


TINY_HINGE = {"n_samples": 4, "views": 2, "k": 5, "alpha": 1.0, "betas": [1.0], "ratios": [1.0, 10.0],
              "starts": 2, "rank_starts": 1, "max_iter": 200}  # as tests/test_experiment_cluster.py: seconds


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"),  # the vector formats: ~11 s each, slow
                                           pytest.param(".pdf", b"%PDF", marks=pytest.mark.slow),
                                           pytest.param(".svg", b"<?xml", marks=pytest.mark.slow)])
def test_experiment_plot_and_json_go_through_the_writer_and_the_cache_under_its_folder(suffix, magic, tmp_path,
                                                                                        monkeypatch, capsys):
    """The figure is drawn to bytes by the verifier and written by the CLI, in the format its suffix names."""
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(hinge, "budget", lambda full: dict(TINY_HINGE))
    monkeypatch.chdir(tmp_path)
    assert main(["experiment", "hinge", "--cache", "c", "--plot", f"f{suffix}", "--json", "e.json"]) == 0
    assert Path(f"f{suffix}").read_bytes().startswith(magic)
    assert json.loads(Path("e.json").read_text())["verdicts"]
    cached = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert cached[:-2] and all(re.fullmatch(r"c/hinge/[0-9a-f]{24}\.json", p) for p in cached[:-2])
    assert cached[-2:] == ["e.json", f"f{suffix}"]
