"""Theorems in parallel (local processes, Dask) give the serial run's results; the shrink budget counts checks.

The theorems are fast ones that exercise every path of the runner: a "holds" over all examples,
refutations that shrink (so the counterexample depends on the shrink budget), a rejecting strategy.
"""
import json

import pytest

import ssl_proofs
from ssl_proofs.errors import InvalidArgument
from ssl_proofs_cli import main
from ssl_proofs_verifiers import parallel, runner

FAST = ["simclr.forms.one_positive", "simclr.forms.any_graph", "vicreg.constrained.le_any_graph",
        "spectral_contrastive.irregular.same_as_vicreg"]
OPTIONS = dict(examples=8, seed=3, device="cpu", starts=2)


def _plain(results):
    """The JSON of a run, timings removed (they are the only thing allowed to differ)."""
    out = [r.to_dict() for r in results]
    for d in out:
        d.pop("seconds"), d.pop("cpu_seconds")
    return json.loads(json.dumps(out))


@pytest.fixture(scope="module")
def serial():
    return _plain(parallel.run_theorems([ssl_proofs.get_theorem(t) for t in FAST], workers=1, **OPTIONS))


def test_serial_run_refutes_and_holds(serial):
    # the comparison below means something only if the run has both kinds of verdict and a shrunk instance
    verdicts = {d["id"]: d["verdict"] for d in serial}
    assert verdicts["simclr.forms.one_positive"] == "holds"
    assert verdicts["vicreg.constrained.le_any_graph"] == "refuted"
    assert any(d["instance"] for d in serial)


def test_two_worker_processes_give_the_serial_json(serial):
    done = []
    res = parallel.run_theorems([ssl_proofs.get_theorem(t) for t in FAST], workers=2, done=done.append, **OPTIONS)
    assert [r.theorem.id for r in res] == FAST  # merged in the order asked, whatever finished first
    assert sorted(r.theorem.id for r in done) == sorted(FAST)
    assert _plain(res) == serial


def test_dask_local_cluster_gives_the_serial_json(serial):
    pytest.importorskip("distributed", reason="Dask path: pip install 'ssl-proofs[dask]'")
    res = parallel.run_theorems([ssl_proofs.get_theorem(t) for t in FAST], workers=2, dask=True, **OPTIONS)
    assert _plain(res) == serial


def test_cli_workers_flag_writes_the_same_json(tmp_path, serial):
    out = tmp_path / "run.json"
    assert main(["verify", FAST[2], "--examples", "8", "--seed", "3", "--starts", "2", "--device", "cpu",
                 "--workers", "1", "--json", str(out)]) == 0
    (d,) = json.loads(out.read_text())["results"]
    assert isinstance(d.pop("seconds"), float) and isinstance(d.pop("cpu_seconds"), float)
    assert d == serial[2]


def test_shrink_budget_counts_checks(monkeypatch):
    theorem = ssl_proofs.get_theorem("vicreg.constrained.le_any_graph")
    calls, first_failure = [], []
    inner = runner.CHECKS[theorem.claim]

    def counting(*args):
        out = inner(*args)
        calls.append(1)
        if not first_failure and any(m.refutes for m in out):
            first_failure.append(len(calls))
        return out

    monkeypatch.setitem(runner.CHECKS, theorem.claim, counting)
    monkeypatch.setattr(runner, "SHRINK_STEPS", 2)
    (res,) = runner.verify(theorem, examples=8, seed=3, device="cpu", starts=2)
    assert res.verdict == "refuted" and first_failure
    # the first failure, then at most SHRINK_STEPS new instances checked while shrinking
    assert len(calls) <= first_failure[0] + 2


@pytest.mark.parametrize("kwargs, words", [
    ({"workers": 0}, "workers = 0"),
    ({"workers": 2.5}, "workers must be an integer"),
])
def test_bad_worker_counts_are_refused_before_work(kwargs, words, monkeypatch):
    monkeypatch.setattr(runner, "run_theorem", lambda *a, **k: pytest.fail("work started"))
    with pytest.raises(InvalidArgument, match=words):
        parallel.run_theorems([ssl_proofs.get_theorem(FAST[0])], **kwargs)
