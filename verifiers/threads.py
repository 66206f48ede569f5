"""One thread per verification: the instances hypothesis draws are tiny (N up to a few dozen nodes).

On such sizes torch's intra-op threads and the BLAS thread pool cost far more than they save, and
parallel workers (``ssl_proofs_verifiers.parallel``) would oversubscribe the cores. Measured on the 2-core
machine: one SimSiam theorem (``simsiam.predictor.minimisers.components``, 100 examples) took 37 s
with the default threads and 5.3 s with one.
"""
from __future__ import annotations

import functools

import torch
from threadpoolctl import threadpool_limits


def single_threaded(fn):
    """Run ``fn`` with one torch thread and one BLAS/OpenMP thread, restoring both afterwards."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with threadpool_limits(limits=1):
                return fn(*args, **kwargs)
        finally:
            torch.set_num_threads(before)
    return wrapper
