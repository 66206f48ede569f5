"""`experiment` / `claims` cells on local processes or Dask give the serial run's JSON (timings aside: none kept).

A tiny hinge budget (two cells, a few short global searches each) keeps this to seconds of compute; the
cells carry their budget, so workers compute exactly what the serial run computes.  What could differ is
where each cell runs (another process, one thread) and the order cells finish in; neither may show.
"""
import json

import pytest

from ssl_proofs_cli import main
from ssl_proofs_verifiers.experiments import hinge

TINY = {"n_samples": 4, "views": 2, "k": 5, "alpha": 1.0, "betas": [1.0], "ratios": [1.0, 10.0],
        "starts": 2, "rank_starts": 1, "max_iter": 200}


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setattr(hinge, "budget", lambda full: dict(TINY))


def _run(tmp_path, name, *extra):
    out = tmp_path / f"{name}.json"
    assert main(["experiment", "hinge", "--json", str(out), *extra]) == 0
    return json.loads(out.read_text())


def test_a_two_worker_dask_cluster_gives_the_serial_json_and_the_cache_reads_it_back(tiny, tmp_path, capsys):
    distributed = pytest.importorskip("distributed", reason="Dask path: pip install 'ssl-proofs[dask]'")
    cache = str(tmp_path / "cache")
    serial = _run(tmp_path, "serial", "--cache", cache)
    assert "0 cells read, 2 computed" in capsys.readouterr().err
    # the comparison means something only if the cells measured real searches
    assert [r["ratio"] for r in serial["records"]] == [1.0, 10.0]
    assert all(r["rank_two_minimisations"]["rank"] >= 1 for r in serial["records"])
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        assert _run(tmp_path, "dask", "--no-cache", "--scheduler", cluster.scheduler_address) == serial
    assert _run(tmp_path, "again", "--cache", cache) == serial
    assert "2 cells read, 0 computed" in capsys.readouterr().err


@pytest.mark.slow
def test_local_processes_and_a_local_cluster_started_by_dask_flag_give_the_serial_json(tiny, tmp_path):
    pytest.importorskip("distributed", reason="Dask path: pip install 'ssl-proofs[dask]'")
    serial = _run(tmp_path, "serial", "--no-cache")
    assert _run(tmp_path, "pool", "--no-cache", "--workers", "2") == serial
    assert _run(tmp_path, "dask", "--no-cache", "--dask", "--workers", "2") == serial


@pytest.mark.parametrize("argv, message", [
    (["--workers", "0"], "--workers 0"),
    (["--seed", "-1"], "--seed -1"),
])
def test_bad_run_options_exit_2_before_any_work(argv, message, capsys):
    assert main(["experiment", "hinge", "--no-cache", *argv]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_unreachable_scheduler_is_a_clear_error(capsys):   # slow: the client waits 20 s before giving up
    pytest.importorskip("distributed", reason="Dask path: pip install 'ssl-proofs[dask]'")
    assert main(["experiment", "hinge", "--no-cache", "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert "could not reach the Dask scheduler" in capsys.readouterr().err
