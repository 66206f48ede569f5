"""What the wheel installs: three top-level names of the project's own, beside other packages.

The numeric side lives in the folder ``verifiers/`` and installs as ``ssl_proofs_verifiers``:
a widely used PyPI distribution (an LLM reinforcement-learning library) owns the top-level
name ``verifiers``, and two wheels that install one top-level name overwrite each other's
files. The wheel is built from a copy of the checkout and installed, non-editable, into a fresh
virtual environment that already holds a stand-in top-level ``verifiers`` package.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: folder in the checkout -> the import name it installs under
FOLDERS = {"ssl_proofs": "ssl_proofs", "ssl_proofs_cli": "ssl_proofs_cli", "verifiers": "ssl_proofs_verifiers"}
TOP_LEVEL = set(FOLDERS.values())
STANDIN_MARKER = "stand-in verifiers package of another distribution"


def _declared():
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    return set(conf["packages"]), conf["package-dir"]


def _on_disk():
    found = set()
    for folder, name in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((name, *rel)))
    return found


def test_every_package_folder_is_declared():
    """setuptools cannot rename a found package, so pyproject lists them: a new folder must be added."""
    declared, package_dir = _declared()
    assert package_dir == {"ssl_proofs_verifiers": "verifiers"}
    assert declared == _on_disk()


def _run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)
    assert proc.returncode == 0, f"{cmd}\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
    return proc


def _wheel(src, out):
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), str(src)])
    (whl,) = out.glob("*.whl")
    return whl


def _standin(tmp):
    """A distribution of another name whose only package is a top-level ``verifiers``."""
    src = tmp / "standin"
    (src / "verifiers").mkdir(parents=True)
    (src / "verifiers" / "__init__.py").write_text(f"MARKER = {STANDIN_MARKER!r}\n")
    (src / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "verifiers-standin"\nversion = "1.0"\n'
        '[tool.setuptools]\npackages = ["verifiers"]\n')
    return _wheel(src, tmp / "standin-dist")


def _copy_checkout(dest):
    """The checkout without its virtual environments and build leftovers (the build writes into it)."""
    skip = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                                  ".hypothesis", ".pytest_cache", ".ssl_proofs_cache", "docs", "tests")
    shutil.copytree(ROOT, dest, ignore=skip)
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv holding the stand-in ``verifiers``, then the ssl-proofs wheel (non-editable).

    The fresh venv borrows this interpreter's third-party packages (numpy, torch, ...) through a
    path file placed *after* its own site-packages; path files inside borrowed folders are not
    processed, so the editable install of the checkout is not visible in it.
    """
    tmp = tmp_path_factory.mktemp("wheel")
    whl = _wheel(_copy_checkout(tmp / "src"), tmp / "dist")
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    py = venv / "bin" / "python"
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    borrowed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz_borrowed_dependencies.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", "--no-index"]
    _run(pip + [str(_standin(tmp))])
    _run(pip + [str(whl)])
    return {"whl": whl, "py": py, "site": site, "bin": venv / "bin", "cwd": tmp}


def test_wheel_top_level_names_are_the_projects_own(installed):
    with zipfile.ZipFile(installed["whl"]) as zf:
        tops = {n.split("/")[0] for n in zf.namelist() if not n.split("/")[0].endswith(".dist-info")}
        top_level_txt = [n for n in zf.namelist() if n.endswith("top_level.txt")]
        assert tops == TOP_LEVEL
        if top_level_txt:
            assert set(zf.read(top_level_txt[0]).decode().split()) == TOP_LEVEL


def test_wheel_leaves_the_other_verifiers_untouched(installed):
    standin = installed["site"] / "verifiers" / "__init__.py"
    assert standin.read_text() == f"MARKER = {STANDIN_MARKER!r}\n"
    assert sorted(p.name for p in standin.parent.iterdir() if p.suffix == ".py") == ["__init__.py"]
    code = ("import verifiers, ssl_proofs_verifiers, ssl_proofs_verifiers.strategies as st; "
            "from ssl_proofs_verifiers import check_solver, verify; "
            "print(verifiers.MARKER); print(ssl_proofs_verifiers.__file__); print(callable(st.graphs))")
    out = _run([str(installed["py"]), "-c", code], cwd=installed["cwd"]).stdout.splitlines()
    assert out[0] == STANDIN_MARKER
    assert Path(out[1]).is_relative_to(installed["site"]), "imported from the checkout, not the wheel"
    assert out[2] == "True"


def test_installed_command_runs_a_theorem(installed):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    proc = _run([str(installed["bin"] / "ssl-proofs"), "verify", "vicreg.derivation", "--examples", "5",
                 "--workers", "1"], cwd=installed["cwd"], env=env)
    assert "1/1 verdicts as recorded" in proc.stdout
