"""No hang (issue 18, class 4): scheduler connections bounded by a real deadline, Ctrl-C ends a
parallel run within seconds, and the workers asked for are capped at what the machine can run.

Network: loopback only (127.0.0.1), every server here is local and every loop is bounded.
"""
import http.server
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import ssl_proofs
from ssl_proofs.errors import InvalidArgument
from ssl_proofs_cli import main
from ssl_proofs_verifiers import parallel

ROOT = Path(__file__).resolve().parents[1]
THEOREM = "vicreg.squared.closed_form"
#: the deadline these tests set ($SSL_PROOFS_CONNECT_TIMEOUT) and the slack allowed on a loaded 2-core machine
DEADLINE, SLACK = 2.0, 8.0


def _tcp_peer(greeting):
    """A TCP server on 127.0.0.1 that accepts connections, sends each ``greeting`` and then says nothing more."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    accepted = []
    stop = threading.Event()

    def serve():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn = srv.accept()[0]
            except OSError:
                continue
            accepted.append(conn)
            if greeting:
                conn.sendall(greeting)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield f"tcp://127.0.0.1:{srv.getsockname()[1]}"
    stop.set()
    t.join(timeout=5)
    for c in accepted:
        c.close()
    srv.close()


@pytest.fixture
def silent_peer():
    """A TCP server on 127.0.0.1 that accepts connections and never says a word."""
    yield from _tcp_peer(b"")


@pytest.fixture
def http_server():
    """A plain HTTP server on 127.0.0.1 (it waits for a request: silent to a Dask client)."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def chatty_peer():
    """A TCP server on 127.0.0.1 that greets in another protocol (an SSH-like banner)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)

    def greet():
        srv.settimeout(10)
        try:
            conn, _ = srv.accept()
            conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
            time.sleep(1)
            conn.close()
        except OSError:
            pass

    t = threading.Thread(target=greet, daemon=True)
    t.start()
    yield f"tcp://127.0.0.1:{srv.getsockname()[1]}"
    t.join(timeout=12)
    srv.close()


@pytest.fixture
def stalling_peer():
    """A TCP server on 127.0.0.1 that starts like a Dask scheduler (a frame length, a few bytes) and then stalls.

    It passes probe_scheduler; distributed.Client(timeout="2s") then waited 60 s and more on it.
    """
    yield from _tcp_peer(struct.pack("Q", 100) + b"\x00" * 10)  # 100 bytes announced, 10 sent, then silence


#: the watchdog's bound on a stalled handshake: the deadline plus the grace Dask gets to honour its own timeout
HANDSHAKE_BOUND = DEADLINE + getattr(parallel, "CLIENT_GRACE", 5.0)  # getattr: runs on old code too


@pytest.mark.parametrize("command", [
    ["verify", THEOREM, "--device", "cpu", "--scheduler"],
    ["experiment", "hinge", "--no-cache", "--scheduler"],
])
def test_a_scheduler_that_stalls_the_handshake_fails_within_the_deadline(command, stalling_peer, monkeypatch, capsys):
    pytest.importorskip("distributed", reason="Dask path: pip install 'ssl-proofs[dask]'")
    monkeypatch.setenv(parallel.CONNECT_TIMEOUT_ENV, str(DEADLINE))
    parallel.probe_scheduler(stalling_peer)  # the premise: the probe lets it through
    t0 = time.monotonic()
    assert main([*command, stalling_peer]) == 2
    elapsed = time.monotonic() - t0
    err = capsys.readouterr().err
    assert elapsed < HANDSHAKE_BOUND + SLACK, f"{elapsed:.1f} s"
    assert "handshake" in err and "stopped answering" in err and "Traceback" not in err


def test_a_cluster_without_workers_ends_the_run_instead_of_waiting(monkeypatch):
    """The scheduler answers, but no worker will ever take the theorem: refused after the deadline."""
    distributed = pytest.importorskip("distributed", reason="Dask path: pip install 'ssl-proofs[dask]'")
    monkeypatch.setenv(parallel.CONNECT_TIMEOUT_ENV, str(DEADLINE))
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        t0 = time.monotonic()
        with pytest.raises(InvalidArgument, match="no worker for"):
            parallel.run_theorems([ssl_proofs.get_theorem(THEOREM)], examples=1, scheduler=cluster.scheduler_address)
        # pings every DEADLINE s; refused once a ping finds no worker for more than DEADLINE s
        assert time.monotonic() - t0 < 3 * DEADLINE + SLACK


@pytest.mark.parametrize("command", [
    ["verify", THEOREM, "--device", "cpu", "--scheduler"],
    ["experiment", "hinge", "--no-cache", "--scheduler"],
])
@pytest.mark.parametrize("server", ["silent_peer", "http_server"])
def test_a_scheduler_that_never_answers_fails_within_the_deadline(command, server, request, monkeypatch, capsys):
    address = request.getfixturevalue(server)
    monkeypatch.setenv(parallel.CONNECT_TIMEOUT_ENV, str(DEADLINE))
    t0 = time.monotonic()
    assert main([*command, address]) == 2
    elapsed = time.monotonic() - t0
    err = capsys.readouterr().err
    assert elapsed < DEADLINE + SLACK, f"{elapsed:.1f} s"
    assert f"sent nothing within {DEADLINE:g} s" in err and "Traceback" not in err


def test_a_peer_speaking_another_protocol_is_refused(chatty_peer, monkeypatch):
    monkeypatch.setenv(parallel.CONNECT_TIMEOUT_ENV, str(DEADLINE))
    with pytest.raises(InvalidArgument, match="not in Dask's protocol"):
        parallel.probe_scheduler(chatty_peer)


@pytest.mark.parametrize("address, words", [
    ("tcp://127.0.0.1:1", "could not reach"),  # nothing listens on port 1
    ("tcp://127.0.0.1", "host and port"),
    ("tcp://127.0.0.1:99999", "host and port"),
    ("127.0.0.1:abc", "host and port"),
])
def test_unreachable_or_malformed_addresses_are_refused_at_once(address, words):
    t0 = time.monotonic()
    with pytest.raises(InvalidArgument, match=words):
        parallel.probe_scheduler(address, timeout=DEADLINE)
    assert time.monotonic() - t0 < DEADLINE + SLACK


@pytest.mark.parametrize("raw", ["0", "-3", "abc", "1e9", "nan"])
def test_a_bad_connect_timeout_is_refused(raw, monkeypatch):
    monkeypatch.setenv(parallel.CONNECT_TIMEOUT_ENV, raw)
    with pytest.raises(InvalidArgument, match=parallel.CONNECT_TIMEOUT_ENV):
        parallel.connect_timeout()


def test_a_real_dask_scheduler_passes_the_probe():
    distributed = pytest.importorskip("distributed", reason="Dask path: pip install 'ssl-proofs[dask]'")
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        t0 = time.monotonic()
        parallel.probe_scheduler(cluster.scheduler_address, timeout=10)  # raises InvalidArgument if refused
        assert time.monotonic() - t0 < 10, "a real scheduler must pass the probe before its deadline"


# -- the worker cap ------------------------------------------------------------------------------

def test_more_workers_than_the_machine_runs_are_refused_unless_forced(monkeypatch):
    monkeypatch.delenv(parallel.FORCE_WORKERS_ENV, raising=False)
    limit = parallel.max_workers()
    assert 1 <= limit <= parallel.WORKERS_PER_CORE * parallel.default_workers()
    assert parallel.check_workers(limit) == limit
    with pytest.raises(InvalidArgument, match=f"at most {limit} worker processes"):
        parallel.check_workers(limit + 1)
    assert parallel.check_workers(limit + 1, force=True) == limit + 1
    monkeypatch.setenv(parallel.FORCE_WORKERS_ENV, "1")
    assert parallel.check_workers(10_000) == 10_000


def test_the_cap_follows_memory(monkeypatch):
    monkeypatch.setattr(parallel, "available_memory", lambda: 3 * parallel.WORKER_MEMORY + 1)
    monkeypatch.setattr(parallel, "default_workers", lambda: 64)
    assert parallel.max_workers() == 3
    monkeypatch.setattr(parallel, "available_memory", lambda: 0)
    assert parallel.max_workers() == 1  # one process (this one's work) is always allowed


@pytest.mark.parametrize("argv", [
    ["verify", THEOREM, "--device", "cpu", "--dask", "--workers", "10000"],
    ["verify", THEOREM, "--device", "cpu", "--workers", "10000"],
    ["experiment", "hinge", "--no-cache", "--dask", "--workers", "10000"],
    ["experiment", "hinge", "--no-cache", "--workers", "10000"],
])
def test_ten_thousand_workers_are_refused_before_any_process_starts(argv, monkeypatch, capsys):
    monkeypatch.delenv(parallel.FORCE_WORKERS_ENV, raising=False)

    def no_pool(*args, **kwargs):
        raise AssertionError("a pool or cluster was started")

    monkeypatch.setattr(parallel, "ProcessPoolExecutor", no_pool)
    distributed = sys.modules.get("distributed")
    if distributed is not None:
        monkeypatch.setattr(distributed, "LocalCluster", no_pool)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--workers 10000" in err and "--force-workers" in err


# -- Ctrl-C ---------------------------------------------------------------------------------------

def _cpu_seconds(pid):
    """User + system CPU seconds of ``pid`` so far (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _session(sid):
    """Live processes of session ``sid`` (from /proc: the command and every worker it started)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] not in ("Z", "X"):
            pids.append(int(entry))
    return pids


def test_an_interrupted_pool_does_not_wait_for_running_tasks():
    """ProcessPoolExecutor's own exit waits for every running task (here 120 s); process_pool's does not."""
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        with parallel.process_pool(2) as pool:
            futures = [pool.submit(time.sleep, 120) for _ in range(4)]
            while not any(f.running() for f in futures) and time.monotonic() - t0 < 60:
                time.sleep(0.1)
            workers = list(pool._processes.values())
            raise KeyboardInterrupt
    assert time.monotonic() - t0 < 60 + 10
    assert all(not w.is_alive() for w in workers)
    assert all(f.cancelled() or f.done() for f in futures)


@pytest.mark.slow  # about 2 min on a loaded 2-core machine: the workers must get past their imports first
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
def test_ctrl_c_during_a_parallel_verify_exits_130_within_seconds_and_leaves_no_process(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "ssl_proofs_cli", "verify", "all", "--workers", "2",
                             "--device", "cpu", "--json", str(tmp_path / "r.json")],
                            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        t0 = time.monotonic()
        while len(_session(proc.pid)) < 4 and time.monotonic() - t0 < 180:  # the command, 2 workers, a helper
            assert proc.poll() is None, proc.communicate()[1]
            time.sleep(0.25)
        assert len(_session(proc.pid)) >= 4, "the workers never started"
        # wait until the workers are inside their first theorem, past the imports (a worker interrupted
        # while importing dies on its own, which is not the case to test): 2 of them with 12 CPU seconds
        while (sum(_cpu_seconds(p) > 12 for p in _session(proc.pid) if p != proc.pid) < 2
               and time.monotonic() - t0 < 240):
            assert proc.poll() is None, proc.communicate()[1]
            time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: to the command and its workers
        t1 = time.monotonic()
        _, err = proc.communicate(timeout=30)
        ended = time.monotonic() - t1
        assert proc.returncode == 130 and "Traceback" not in err, err
        assert ended < 10, f"{ended:.1f} s after Ctrl-C"
        t2 = time.monotonic()
        while _session(proc.pid) and time.monotonic() - t2 < 5:
            time.sleep(0.2)
        assert _session(proc.pid) == [], "worker processes outlived the command"
        assert not (tmp_path / "r.json").exists()  # interrupted: no partial results written
    finally:
        if proc.poll() is None or _session(proc.pid):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.communicate()
