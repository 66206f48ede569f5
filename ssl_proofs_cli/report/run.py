"""A verification run as plain data: recorded now, or loaded from ``verify --json``.

A *run* is the dict ``ssl-proofs verify --json`` writes (``seed``, ``examples``,
``results``: one :meth:`~ssl_proofs_verifiers.runner.TheoremResult.to_dict` per theorem),
optionally extended with ``environment`` (package versions, git commit, device,
hypothesis settings) and ``wall_seconds`` when the report command recorded it.
Reports are rendered from this dict only, so a recorded run and a fresh one give
the same document.
"""
from __future__ import annotations

import platform
import subprocess
import time
from importlib import metadata
from pathlib import Path

from ssl_proofs.claims import list_claims
from ssl_proofs.errors import InvalidArgument
from ssl_proofs_verifiers import parallel, runner

from ..io import save_text
from . import files, schema

#: distributions whose versions make a run reproducible
PACKAGES = ("ssl-proofs", "numpy", "scipy", "sympy", "torch", "hypothesis", "scikit-learn",
            "pytorch-metric-learning", "networkx", "matplotlib", "latex2mathml")

#: keys every result of a run must have for a report to be built from it
RESULT_KEYS = tuple(schema.RESULT.keys)

REPO_ROOT = Path(__file__).resolve().parents[2]


def package_versions():
    """``{distribution: version}`` ("not installed" where absent)."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit(root=REPO_ROOT):
    """``HEAD``'s hash (with ``+dirty`` when the work tree differs), or ``"unknown"`` outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def hypothesis_settings(examples, seed):
    """The hypothesis settings :func:`ssl_proofs_verifiers.runner.run_theorem` attacks each theorem with."""
    return {"max_examples": int(examples), "seed": int(seed), "database": None, "deadline": None,
            "phases": ["explicit", "generate", "shrink"], "shrink_budget_checks": runner.SHRINK_STEPS}


def environment(examples, seed, device):
    """Everything a reader needs to reproduce a run, timings aside."""
    return {"packages": package_versions(), "git_commit": git_commit(), "device": device,
            "hypothesis": hypothesis_settings(examples, seed)}


def record_run(target="all", *, examples=None, seed=0, device="auto", starts=3, progress=None):
    """Attack the theorems of ``target`` and return the run as plain data.

    Parameters
    ----------
    target : "all", a method name or a theorem id
    examples, seed, device, starts
        As for :func:`ssl_proofs_verifiers.runner.verify`.
    progress : object, optional
        With ``start(theorem)``, ``tick(theorem, n)``, ``done(result)`` (the CLI's live line).

    Returns
    -------
    dict
        ``{"seed", "examples", "results", "environment", "wall_seconds"}``.
    """
    examples = runner.DEFAULT_EXAMPLES if examples is None else int(examples)
    theorems = runner.resolve_theorems(target)
    t0 = time.perf_counter()
    # theorems in parallel over the cores (as `verify` does); the results do not depend on the workers
    workers = min(parallel.default_workers(), len(theorems))
    if device == "auto" and workers > 1:
        device = "cpu"  # several processes share the cores; the GPU path is one process
    results = [r.to_dict() for r in parallel.run_theorems(
        theorems, examples=examples, seed=seed, device=device, starts=starts, workers=workers,
        done=progress.done if progress else None, progress=progress.tick if progress else None)]
    devices = sorted({r["device"] for r in results}) or [device]
    return {"seed": int(seed), "examples": examples, "results": results,
            "environment": environment(examples, seed, ", ".join(devices)),
            "wall_seconds": round(time.perf_counter() - t0, 3)}


def load_run(path):
    """Read a run written by ``ssl-proofs verify --json`` (or ``report --json``), checked against
    :data:`.schema.RUN` (an untrusted file: see :mod:`.schema`).

    Raises
    ------
    InvalidArgument
        If the file is missing, too large or deep, not UTF-8 JSON, or any field breaks the schema
        (the message names its JSON path).
    """
    fix = "pass a file written by `ssl-proofs verify --json PATH` (re-record it with `ssl-proofs verify all --json PATH`)."
    run = schema.read_json(path, "--from-json", fix)
    if not isinstance(run, dict) or not isinstance(run.get("results"), list) or "seed" not in run:
        raise InvalidArgument(f"--from-json {path}: not a verify run (no 'seed' and 'results'); {fix}")
    schema.check(run, schema.RUN, f"--from-json {path}", fix)
    return run


def select(run, target):
    """The results of ``run`` that ``target`` ("all", a method or a theorem id) names, in run order."""
    if target in (None, "all"):
        return list(run["results"])
    picked = [r for r in run["results"] if r["method"] == target or r["id"] == target]
    if not picked:
        raise InvalidArgument(f"the recorded run has no result for {target!r}; it holds the methods "
                              f"{sorted({r['method'] for r in run['results']})}.")
    return picked


def write_run(run, path, *, inputs=()):
    """Write ``run`` as JSON (the format ``--from-json`` reads back), atomically; the path written."""
    return save_text(path, json.dumps(run, indent=2, default=float) + "\n", inputs=inputs)


#: keys every claim record of ``ssl-proofs claims --json`` must have for a report to show it
CLAIM_KEYS = tuple(schema.CLAIM.keys)

#: the recorded claims run a report built ``--from-json`` shows by default (when it exists)
DEFAULT_CLAIMS = Path("docs") / "results" / "claims.json"

#: where a claims JSON's experiment figures are looked for, relative to the JSON's folder
CLAIM_FIGURES = "claims_img"


def load_claims(path):
    """Read a claims run written by ``ssl-proofs claims --json PATH``, checked against :data:`.schema.CLAIMS`,
    and check it covers every claim.

    Returns
    -------
    dict
        ``{"seed", "full", "claims"}`` with ``claims`` in the registry's order.

    Raises
    ------
    InvalidArgument
        If the file is missing, too large or deep, not UTF-8 JSON, a field breaks the schema (an unknown verdict,
        an experiment other than the registry's), or a claim of :func:`ssl_proofs.claims.list_claims` has no record.
    """
    fix = "re-record it with `ssl-proofs claims --json PATH`."
    data = schema.read_json(path, "--claims-json", fix)
    if not isinstance(data, dict) or not isinstance(data.get("claims"), list) or "seed" not in data:
        raise InvalidArgument(f"--claims-json {path}: not a claims run (no 'seed' and 'claims'); {fix}")
    schema.check(data, schema.CLAIMS, f"--claims-json {path}", fix)
    by_id = {rec["id"]: rec for rec in data["claims"]}
    known = [c.id for c in list_claims()]
    absent = [c for c in known if c not in by_id]
    if absent:
        raise InvalidArgument(f"--claims-json {path}: no record for the claim(s) {absent}; {fix}")
    return {"seed": data["seed"], "full": bool(data.get("full", False)), "claims": [by_id[c] for c in known]}
