"""Theorems in parallel: local worker processes or a Dask cluster, merged in a fixed order.

Each theorem is attacked independently (its own hypothesis seed, its own descent seeds,
a shrink budget counted in checks, not seconds), so where it runs does not change its
result: :func:`run_theorems` returns the same results, in the order of the theorems
given, whether it runs serially, over ``workers`` local processes or on Dask workers.
Only the timings (``TheoremResult.seconds``) differ.

Dask (``distributed``) is optional (``pip install ssl-proofs[dask]``): it is imported
only when ``scheduler`` or ``dask=True`` asks for it.
"""
from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed

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


def default_workers():
    """Worker processes by default: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def run_theorems(theorems, *, examples=None, seed=0, device="cpu", starts=3, workers=1, dask=False,
                 scheduler=None, done=None, progress=None):
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

    Returns
    -------
    list of TheoremResult, in the order of ``theorems``
    """
    examples, seed, starts = check_run_options(examples, seed, starts)
    workers = check_integer("workers", workers, 1, "worker processes (--workers)")
    device = runner.resolve_device(device)
    if device == "cuda" and (workers > 1 or dask or scheduler):
        raise InvalidArgument("--device cuda runs in one process: use --workers 1 (and no Dask) with the GPU.")
    options = {"examples": examples, "seed": seed, "device": device, "starts": starts}
    theorems = list(theorems)
    if dask or scheduler is not None:
        ids = _registered(dispatch_order(theorems), "Dask")
        return _attach(theorems, _run_dask(ids, options, workers, scheduler, done))
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
    ctx = multiprocessing.get_context("spawn")  # fork after torch has started threads can hang
    with ProcessPoolExecutor(max_workers=min(workers, len(ids)), mp_context=ctx) as pool:
        futures = [pool.submit(run_one, t, options) for t in ids]
        return _gather(as_completed(futures), by_id, done)


def _gather(completed, by_id, done):
    """Results of futures in the order they finish, each reported to ``done`` as it arrives."""
    results = []
    for fut in completed:
        res = fut.result()
        _finished(res, by_id, done)
        results.append(res)
    return results


@contextlib.contextmanager
def dask_client(workers=1, scheduler=None):
    """A Dask client on ``scheduler`` (an address), or on a ``LocalCluster`` of ``workers`` one-thread processes.

    The cluster it starts is closed on exit; a clear :class:`InvalidArgument` when ``distributed`` is
    missing or the scheduler cannot be reached.
    """
    try:
        from distributed import Client, LocalCluster  # noqa: PLC0415 -- optional
    except ImportError:
        raise InvalidArgument("Dask was asked for (--dask / --scheduler) but `distributed` is not installed: "
                              "pip install 'ssl-proofs[dask]', or run without Dask (--workers N).") from None
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        with _connect(Client, cluster if cluster is not None else scheduler) as client:
            yield client
    finally:
        if cluster is not None:
            cluster.close()


def _run_dask(ids, options, workers, scheduler, done):
    by_id = {t: ssl_proofs.get_theorem(t) for t in ids}
    with dask_client(workers, scheduler) as client:
        from distributed import as_completed as dask_completed  # noqa: PLC0415 -- optional, present (dask_client)

        futures = [client.submit(run_one, t, options, key=f"verify-{t}-{options['seed']}", pure=False) for t in ids]
        return _gather(dask_completed(futures), by_id, done)


def _connect(Client, address):
    """A Dask client, or a clear error naming the scheduler that could not be reached."""
    try:
        return Client(address, timeout="20s")
    except (OSError, TimeoutError) as exc:
        raise InvalidArgument(f"could not reach the Dask scheduler at {address!r} ({type(exc).__name__}: {exc}); "
                              "start one (`dask scheduler` and `dask worker ADDRESS` where ssl-proofs is installed), "
                              "or drop --scheduler to use a local cluster (--dask) or local processes (--workers).") from None
