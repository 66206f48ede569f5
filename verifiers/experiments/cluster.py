"""Experiment cells in parallel: runners for :class:`~ssl_proofs_verifiers.experiments.cache.Cache`.

Each cell is computed by :func:`~ssl_proofs_verifiers.experiments.cache.compute_cell` where it runs (one thread,
rounded there, as in a serial run), so local worker processes or a Dask cluster give the serial run's
JSON.  Dask workers must import ssl-proofs (a ``LocalCluster`` started here does; a remote scheduler's
workers need it installed).
"""
from __future__ import annotations

from concurrent.futures import as_completed

from ..parallel import process_pool
from .cache import compute_cell


def pool_runner(workers):
    """A cell runner over ``workers`` local processes (:func:`~ssl_proofs_verifiers.parallel.process_pool`:
    spawned, and stopped at once by Ctrl-C)."""
    def run(computes):
        if not computes:
            return
        with process_pool(min(workers, len(computes))) as pool:
            index = {pool.submit(compute_cell, c): i for i, c in enumerate(computes)}
            for fut in as_completed(index):
                yield index[fut], fut.result()
    return run


def dask_runner(client):
    """A cell runner submitting every cell to a Dask ``client``, yielding ``(index, value)`` as they finish."""
    def run(computes):
        from distributed import as_completed as dask_completed  # noqa: PLC0415 -- optional; a client exists

        futures = [client.submit(compute_cell, c, pure=False) for c in computes]
        index = {f.key: i for i, f in enumerate(futures)}
        for fut in dask_completed(futures):
            yield index[fut.key], fut.result()
    return run
