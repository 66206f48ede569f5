"""Theorems in parallel: local worker processes or a Dask cluster, merged in a fixed order.

Each theorem is attacked independently (its own hypothesis seed, its own descent seeds,
a shrink budget counted in checks, not seconds), so where it runs does not change its
result: :func:`run_theorems` returns the same results, in the order of the theorems
given, whether it runs serially, over ``workers`` local processes or on Dask workers.
Only the timings (``TheoremResult.seconds``) differ.

Dask (``distributed``) is optional (``pip install ssl-proofs[dask]``): it is imported
only when ``scheduler`` or ``dask=True`` asks for it.

Limits (docs/inputs.md, "Connections and workers"): a scheduler address is probed with a real
deadline (:data:`CONNECT_TIMEOUT` seconds, ``$SSL_PROOFS_CONNECT_TIMEOUT``) before Dask is handed
it; local worker processes are capped at what the machine can run (:func:`max_workers`) unless the
caller insists (``force``; ``--force-workers`` or ``$SSL_PROOFS_FORCE_WORKERS=1``); Ctrl-C cancels
the work not started and ends the worker processes at once (:func:`process_pool`).
"""
from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import signal
import socket
import struct
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from urllib.parse import urlsplit

import torch

import ssl_proofs
from ssl_proofs.errors import InvalidArgument, UnknownName

from . import runner
from .core import check_integer, check_run_options


#: claims whose checks run several global searches per example, slowest first (measured: docs/benchmarks.md,
#: "verify speed"): workers take them first, so that a long theorem does not start last and run alone
HEAVY_CLAIMS = ("minimiser_rank_bound", "hinge_std", "bt_rank", "rank", "simclr_rank", "uncentred_rank",
                "bt_optimum", "closed_form", "simclr_simplex", "simclr_collapse", "same_subspace")


def dispatch_order(theorems):
    """The order workers take ``theorems`` in: heavy claims first (results are merged back in the given order)."""
    rank = {c: i for i, c in enumerate(HEAVY_CLAIMS)}
    return sorted(theorems, key=lambda t: rank.get(t.claim, len(rank)))


#: memory one worker process takes (torch and ssl-proofs imported, one theorem or cell in flight):
#: measured 323 MiB peak RSS for a spawned worker running vicreg.squared.closed_form (2026-12-04, loaded
#: 2-core machine); heavier theorems hold more arrays, hence 512 MiB
WORKER_MEMORY = 2 ** 29
#: local worker processes per core at most (the work is CPU-bound: more only queue for the cores)
WORKERS_PER_CORE = 2
#: environment variable that lifts the cap of :func:`max_workers` (like ``--force-workers``)
FORCE_WORKERS_ENV = "SSL_PROOFS_FORCE_WORKERS"
#: seconds a scheduler has to accept a connection and start Dask's handshake
CONNECT_TIMEOUT = 10.0
CONNECT_TIMEOUT_ENV = "SSL_PROOFS_CONNECT_TIMEOUT"


def default_workers():
    """Worker processes by default: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def available_memory():
    """Bytes of memory available to new processes (``MemAvailable``), or None where unknown."""
    try:
        with open("/proc/meminfo", "rb") as fh:
            for line in fh:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def max_workers():
    """Worker processes this machine can run: :data:`WORKERS_PER_CORE` per core, one per :data:`WORKER_MEMORY`."""
    limit = WORKERS_PER_CORE * default_workers()
    memory = available_memory()
    if memory is not None:
        limit = min(limit, memory // WORKER_MEMORY)
    return max(1, limit)


def check_workers(workers, force=False):
    """``workers`` checked (an integer >= 1) and, unless ``force``, at most :func:`max_workers`.

    Raises
    ------
    InvalidArgument
        Naming the limit, what it comes from, and how to insist.
    """
    workers = check_integer("workers", workers, 1, "worker processes (--workers)")
    limit = max_workers()
    if workers > limit and not (force or os.environ.get(FORCE_WORKERS_ENV, "") not in ("", "0")):
        memory = available_memory()
        raise InvalidArgument(
            f"--workers {workers}: this machine runs at most {limit} worker processes ({default_workers()} cores "
            f"x {WORKERS_PER_CORE}" + ("" if memory is None else f"; {memory / 2**30:.1f} GiB available at "
                                       f"{WORKER_MEMORY / 2**30:.1f} GiB each") + f"). Use --workers {limit} or "
            f"fewer, or insist with --force-workers (or {FORCE_WORKERS_ENV}=1).")
    return workers


def run_theorems(theorems, *, examples=None, seed=0, device="cpu", starts=3, workers=1, dask=False,
                 scheduler=None, done=None, progress=None, force_workers=False):
    """Attack ``theorems`` (a list of :class:`~ssl_proofs.theorems.Theorem`) and return their results in order.

    Parameters
    ----------
    theorems : list of Theorem
    examples, seed, device, starts
        As for :func:`ssl_proofs_verifiers.runner.verify` (checked here, before any work).
    workers : int
        Processes: 1 runs in this process; more use a local process pool, or, with Dask, the
        number of workers of the :class:`distributed.LocalCluster` started.
    dask : bool
        Run on Dask distributed (a ``LocalCluster`` of ``workers`` processes unless ``scheduler``).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``): its workers must import ssl-proofs.
    done : callable, optional
        ``done(result)`` as each theorem finishes (in finishing order: a live progress line).
    progress : callable, optional
        ``progress(theorem, n_examples)`` as examples run (serial runs only).
    force_workers : bool
        Accept more local ``workers`` than :func:`max_workers`.

    Returns
    -------
    list of TheoremResult, in the order of ``theorems``
    """
    examples, seed, starts = check_run_options(examples, seed, starts)
    workers = check_workers(workers, force_workers) if scheduler is None else check_integer(
        "workers", workers, 1, "worker processes (--workers)")
    device = runner.resolve_device(device)
    if device == "cuda" and (workers > 1 or dask or scheduler):
        raise InvalidArgument("--device cuda runs in one process: use --workers 1 (and no Dask) with the GPU.")
    options = {"examples": examples, "seed": seed, "device": device, "starts": starts}
    theorems = list(theorems)
    if dask or scheduler is not None:
        ids = _registered(dispatch_order(theorems), "Dask")
        return _attach(theorems, _run_dask(ids, options, workers, scheduler, done, force_workers))
    if workers == 1 or len(theorems) <= 1:
        out = []
        for t in theorems:
            res = runner.verify(t, progress=progress, **options)[0]
            if done:
                done(res)
            out.append(res)
        return out
    ids = _registered(dispatch_order(theorems), "worker processes")
    return _attach(theorems, _run_pool(ids, options, workers, done))


def run_one(theorem_id, options):
    """Worker entry point: one registered theorem by id, its result without the Theorem object.

    (A Theorem may hold functions that do not pickle; the caller re-attaches it by id.)
    """
    torch.set_num_threads(1)  # the workers share the cores: one thread each
    res = runner.verify(ssl_proofs.get_theorem(theorem_id), **options)[0]
    return dataclasses.replace(res, theorem=theorem_id)


def _registered(theorems, where):
    for t in theorems:
        try:
            same = ssl_proofs.get_theorem(t.id) is t
        except UnknownName:
            same = False
        if not same:
            raise InvalidArgument(f"theorem {t.id!r} is not registered with ssl_proofs, so {where} cannot rebuild it "
                                  "from its id; run it with workers=1.")
    return [t.id for t in theorems]


def _attach(theorems, results):
    """Results (theorem ids in place of theorems) merged back in the order of ``theorems``."""
    by_id = {r.theorem: r for r in results}
    return [dataclasses.replace(by_id[t.id], theorem=t) for t in theorems]


def _finished(res, theorems_by_id, done):
    if done:
        done(dataclasses.replace(res, theorem=theorems_by_id[res.theorem]))


def _run_pool(ids, options, workers, done):
    by_id = {t: ssl_proofs.get_theorem(t) for t in ids}
    with process_pool(min(workers, len(ids))) as pool:
        futures = [pool.submit(run_one, t, options) for t in ids]
        return _gather(as_completed(futures), by_id, done)


@contextlib.contextmanager
def process_pool(workers):
    """A pool of ``workers`` spawned processes that Ctrl-C (or any error) stops at once.

    ``ProcessPoolExecutor``'s own exit waits for every running task (minutes of a theorem);
    here the work not started is cancelled and the workers are terminated, so the command
    exits within seconds. The workers ignore SIGINT (a terminal sends it to the whole process
    group): the parent alone decides, and no worker prints a traceback.
    """
    ctx = multiprocessing.get_context("spawn")  # fork after torch has started threads can hang
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_ignore_sigint)
    try:
        yield pool
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown(wait=True)


def _ignore_sigint():
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop(pool):
    """Cancel the pending tasks and end the worker processes now, without waiting for running ones."""
    processes = set((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    processes |= set((getattr(pool, "_processes", None) or {}).values())  # any started meanwhile
    _end(processes)
    # the executor's own thread then fails the tasks that were running (BrokenProcessPool): wait for it, so
    # that no future is left pending when the caller looks (it ends as soon as it sees the dead workers)
    manager = getattr(pool, "_executor_manager_thread", None)
    if manager is not None:
        manager.join(timeout=5)


def _end(processes, grace=5.0):
    """Terminate ``processes`` and return once none is alive (killed after ``grace`` seconds).

    ``join`` alone is not enough: its wait on the process sentinel can return while a worker that
    was still starting up is alive (seen about 1 run in 6 on the 2-core machine), so this polls
    ``is_alive``, which reaps the process.
    """
    for proc in processes:
        proc.terminate()
    deadline = time.monotonic() + grace
    for proc in processes:
        proc.join(timeout=max(0.0, deadline - time.monotonic()))
        while proc.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=grace)


def _gather(completed, by_id, done):
    """Results of futures in the order they finish, each reported to ``done`` as it arrives."""
    results = []
    for fut in completed:
        res = fut.result()
        _finished(res, by_id, done)
        results.append(res)
    return results


@contextlib.contextmanager
def dask_client(workers=1, scheduler=None, force_workers=False):
    """A Dask client on ``scheduler`` (an address), or on a ``LocalCluster`` of ``workers`` one-thread processes.

    The cluster it starts is closed on exit; a clear :class:`InvalidArgument` when ``distributed`` is
    missing, ``workers`` is above :func:`max_workers` (unless ``force_workers``), or the scheduler does
    not answer Dask's handshake within :func:`connect_timeout` seconds (:func:`probe_scheduler`).
    """
    if scheduler is not None:
        probe_scheduler(scheduler)
    try:
        from distributed import Client, LocalCluster  # noqa: PLC0415 -- optional
    except ImportError:
        raise InvalidArgument("Dask was asked for (--dask / --scheduler) but `distributed` is not installed: "
                              "pip install 'ssl-proofs[dask]', or run without Dask (--workers N).") from None
    cluster = None
    if scheduler is None:
        workers = check_workers(workers, force_workers)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        client = _connect(Client, cluster if cluster is not None else scheduler)
        try:
            yield client
        finally:
            # bounded too: Client.close waits for a scheduler that may have stopped answering
            with contextlib.suppress(InvalidArgument):
                within(connect_timeout() + CLIENT_GRACE, client.close, "closing the Dask client")
    finally:
        if cluster is not None:
            cluster.close()


def _run_dask(ids, options, workers, scheduler, done, force_workers=False):
    by_id = {t: ssl_proofs.get_theorem(t) for t in ids}
    with dask_client(workers, scheduler, force_workers) as client:
        from distributed import as_completed as dask_completed  # noqa: PLC0415 -- optional, present (dask_client)

        futures = [client.submit(run_one, t, options, key=f"verify-{t}-{options['seed']}", pure=False) for t in ids]
        return _gather(watched(client, dask_completed(futures)), by_id, done)


def watched(client, completed, poll=0.25):
    """The futures of Dask's ``as_completed`` iterator ``completed`` as they finish, while the cluster lives.

    A theorem may take minutes, so no deadline is put on a result; what is bounded is the silence of the
    cluster: every :func:`connect_timeout` seconds without a result the scheduler is asked for its
    identity, which it must give within :func:`connect_timeout` seconds (plus :data:`CLIENT_GRACE`), and
    it must have had a worker within the last :func:`connect_timeout` seconds. A scheduler that stops
    answering mid-run (stopped, partitioned, its proxy stalled) or a cluster whose workers are all gone
    ends the run with :class:`InvalidArgument` instead of waiting for ever.
    """
    timeout = connect_timeout()
    last_seen = time.monotonic()  # the last time the cluster was known to have a worker
    next_ping = time.monotonic() + timeout
    while not completed.is_empty():
        batch = completed.next_batch(block=False)
        yield from batch
        if batch or time.monotonic() < next_ping:
            time.sleep(0 if batch else poll)
            continue
        identity = within(timeout + CLIENT_GRACE, lambda: client.sync(client.scheduler.identity,
                                                                      callback_timeout=timeout),
                          "the Dask scheduler's answer to a liveness check during the run")
        now = time.monotonic()
        if identity.get("workers"):
            last_seen = now
        elif now - last_seen > timeout:
            raise InvalidArgument(f"the Dask cluster has had no worker for {now - last_seen:.0f} s, so the "
                                  f"theorems left cannot run. Start workers (`dask worker ADDRESS` where "
                                  f"ssl-proofs is installed), or run without --scheduler (--dask or --workers N); "
                                  f"{CONNECT_TIMEOUT_ENV} sets how long a cluster may be without workers.")
        next_ping = now + timeout


#: seconds a Dask call may take beyond its own timeout before the watchdog of :func:`within` gives up on it
CLIENT_GRACE = 5.0


def within(seconds, call, what):
    """``call()`` if it returns within ``seconds`` of wall-clock time, else :class:`InvalidArgument`.

    ``distributed`` does not always honour its own timeouts (a peer that starts Dask's handshake and
    stalls keeps ``Client(address, timeout="2s")`` waiting 60 s and more), so the call runs in a daemon
    thread watched from here; one given up on is left to end by itself (a client it creates late is closed).
    """
    box = {}
    given_up = threading.Event()

    def run():
        try:
            box["value"] = call()
        except BaseException as exc:  # re-raised in the caller's thread below
            box["error"] = exc
        if given_up.is_set() and hasattr(box.get("value"), "close"):
            with contextlib.suppress(Exception):
                box["value"].close()

    thread = threading.Thread(target=run, name=f"ssl-proofs watchdog: {what}", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        given_up.set()
        raise InvalidArgument(
            f"{what} took more than {seconds:g} s: the Dask scheduler accepted the connection but stopped "
            "answering (a stalled or overloaded scheduler, a proxy or firewall holding the connection, or a "
            f"server that is not Dask). Check that the scheduler is alive (`dask scheduler` logs), raise "
            f"{CONNECT_TIMEOUT_ENV} if it is only slow, or run without --scheduler (--dask or --workers N).")
    if "error" in box:
        error = box["error"]
        if isinstance(error, (OSError, TimeoutError)) and not isinstance(error, InvalidArgument):
            raise InvalidArgument(f"{what} failed ({type(error).__name__}: {error}): the Dask scheduler stopped "
                                  "answering. Check that it is alive, or run without --scheduler (--dask or "
                                  "--workers N).") from None
        raise error
    return box["value"]


def connect_timeout():
    """Seconds a scheduler has to answer: ``$SSL_PROOFS_CONNECT_TIMEOUT`` or :data:`CONNECT_TIMEOUT`."""
    raw = os.environ.get(CONNECT_TIMEOUT_ENV, "")
    try:
        value = float(raw) if raw else CONNECT_TIMEOUT
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise InvalidArgument(f"{CONNECT_TIMEOUT_ENV}={raw!r}: give a number of seconds in (0, 3600].")
    return value


def probe_scheduler(address, timeout=None):
    """Fail fast unless something at ``address`` accepts a TCP connection and starts Dask's handshake.

    A Dask scheduler speaks first (an 8-byte frame length, then its handshake); a silent peer, or a
    plain HTTP server that waits for a request, is refused after ``timeout`` seconds (default
    :func:`connect_timeout`) instead of hanging ``distributed.Client``. ``tls://`` addresses are only
    checked for the connection (the TLS handshake is the client's to start); other transports
    (``inproc://``, ``ucx://``) are left to Dask.

    Raises
    ------
    InvalidArgument
        The address is malformed, refuses the connection, stays silent or does not speak Dask.
    """
    timeout = connect_timeout() if timeout is None else timeout
    scheme, host, port = _tcp_address(address)
    if host is None:
        return
    remedy = ("start one (`dask scheduler` and `dask worker ADDRESS` where ssl-proofs is installed), or drop "
              "--scheduler to use a local cluster (--dask) or local processes (--workers).")
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            if scheme == "tls":
                return
            head = b""
            while len(head) < 8:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout
                sock.settimeout(left)
                chunk = sock.recv(8 - len(head))
                if not chunk:
                    raise InvalidArgument(f"the scheduler address {address!r} accepted the connection and closed it "
                                          f"without a word: not a Dask scheduler; {remedy}")
                head += chunk
    except socket.timeout:
        raise InvalidArgument(f"the scheduler address {address!r} sent nothing within {timeout:g} s: not a Dask "
                              f"scheduler (a silent peer, or a server of another protocol such as HTTP). "
                              f"Check the address and port (Dask's default is 8786), or {remedy}") from None
    except OSError as exc:
        raise InvalidArgument(f"could not reach the Dask scheduler at {address!r} ({exc.strerror or exc}); "
                              f"{remedy}") from None
    (nbytes,) = struct.unpack("Q", head)  # distributed.comm.tcp: frames are preceded by their length
    if not 0 < nbytes < 2 ** 24:
        raise InvalidArgument(f"the scheduler address {address!r} answered, but not in Dask's protocol (its first "
                              f"bytes are {head!r}): check the address and port (Dask's default is 8786).")


def _tcp_address(address):
    """``(scheme, host, port)`` of a ``tcp://`` / ``tls://`` / ``host:port`` address; host None for other transports."""
    text = str(address).strip()
    if "://" not in text:
        text = "tcp://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("tcp", "tls"):
        return parts.scheme, None, None
    try:
        port = parts.port
    except ValueError:
        port = -1
    if not parts.hostname or port is None or not 0 < port < 65536:
        raise InvalidArgument(f"--scheduler {address!r}: give an address such as tcp://host:8786 (host and port).")
    return parts.scheme, parts.hostname, port


def _connect(Client, address):
    """A Dask client, or a clear error naming the scheduler that could not be reached.

    ``Client(timeout=...)`` bounds the connection, but not every wait of the handshake after it, so the
    creation runs under the wall-clock watchdog of :func:`within` as well.
    """
    timeout = connect_timeout()
    try:
        return within(timeout + CLIENT_GRACE, lambda: Client(address, timeout=f"{timeout:g}s"),
                      f"connecting to the Dask scheduler at {address!r} (Dask's handshake)")
    except (OSError, TimeoutError) as exc:
        raise InvalidArgument(f"could not reach the Dask scheduler at {address!r} ({type(exc).__name__}: {exc}); "
                              "start one (`dask scheduler` and `dask worker ADDRESS` where ssl-proofs is installed), "
                              "or drop --scheduler to use a local cluster (--dask) or local processes (--workers).") from None
