"""Results cache, cell runners and progress reporting shared by the experiments.

A cell (one fit + probe at one parameter setting and seed) is cached as JSON
under ``<dir>/<experiment>/<sha256 of its parameters>.json``; the key holds the
experiment name, every parameter of the cell, the seed and :data:`VERSION`, so a
change of budget or code version never reads a stale value.

An experiment hands its cells to :meth:`Cache.cells` as one batch: the cached ones
are read, the others computed by the cache's runner -- in this process
(:func:`serial`, the default) or on Dask workers
(:func:`ssl_proofs_verifiers.experiments.cluster.dask_runner`) -- each single-threaded and
rounded where it runs, so the values, and the JSON, do not depend on where.
"""
from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..threads import single_threaded

#: bump when a cell's computation changes (invalidates every cached value)
VERSION = 5
#: floats in results are rounded to this many significant digits, so that the same seed gives the
#: same JSON on any machine (BLAS reductions differ in the last bits across builds)
SIG_DIGITS = 6


def default_cache_dir():
    """``$SSL_PROOFS_CACHE`` or ``.ssl_proofs_cache`` in the current directory."""
    return Path(os.environ.get("SSL_PROOFS_CACHE", ".ssl_proofs_cache"))


def rounded(obj):
    """``obj`` with every float rounded to :data:`SIG_DIGITS` significant digits (recursively)."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, (int, str)):
        return obj
    if isinstance(obj, float) or hasattr(obj, "dtype") and getattr(obj, "ndim", 1) == 0:
        x = float(obj)
        if not math.isfinite(x) or x == 0:
            return x if math.isfinite(x) else str(x)
        return float(f"{x:.{SIG_DIGITS}g}")
    if isinstance(obj, dict):
        return {str(k): rounded(v) for k, v in obj.items()}
    if hasattr(obj, "tolist"):
        return rounded(obj.tolist())
    if isinstance(obj, (list, tuple)):
        return [rounded(v) for v in obj]
    return obj


@dataclass(frozen=True)
class Cell:
    """One cell of an experiment: its cache parameters, how to compute it, its progress label.

    ``compute`` takes no argument and must pickle (Dask ships it to a worker): a
    :func:`functools.partial` of a module-level function, never a closure over loop variables.
    """

    params: dict
    compute: Callable
    label: str = ""


@single_threaded
def compute_cell(compute):
    """``compute()`` rounded, on one torch / BLAS thread (the same in this process and on a worker)."""
    return rounded(compute())


def serial(computes):
    """The default runner: ``(index, value)`` of each of ``computes`` in order, in this process."""
    for i, compute in enumerate(computes):
        yield i, compute_cell(compute)


class Cache:
    """JSON cache of experiment cells; ``Cache(None)`` computes every time.

    ``runner(computes)`` yields ``(index, value)`` as cells finish (any order), ``value`` being
    :func:`compute_cell` of ``computes[index]``: :func:`serial` by default.

    ``save(relative_name, text)`` stores an entry under ``directory``: the caller's writer (the
    command line hands its checked, atomic one, ``ssl_proofs_cli.io.OutputDir(directory).save_text``),
    so that this package never opens a file for writing.  Without it the cache only reads.
    """

    def __init__(self, directory=None, runner=None, save=None):
        self.dir = None if directory is None else Path(directory)
        self.runner = runner or serial
        self.save = save
        self.hits = 0
        self.misses = 0

    def _path(self, experiment, params):
        """The entry's name relative to the cache folder, or None without a folder."""
        key = json.dumps({"experiment": experiment, "version": VERSION, **params}, sort_keys=True, default=str)
        if self.dir is None:
            return None
        return f"{experiment}/{hashlib.sha256(key.encode()).hexdigest()[:24]}.json"

    def _read(self, name):
        if name is None:
            return None
        path = self.dir / name
        if not path.is_file():
            return None
        try:
            with open(path) as fh:
                return json.load(fh)
        except (OSError, ValueError):
            return None  # unreadable cache entry: recompute and overwrite

    def _write(self, name, value):
        if name is not None and self.save is not None:
            self.save(name, json.dumps(value))

    def cells(self, experiment, cells, progress=None):
        """The values of ``cells`` (list of :class:`Cell`), in order: read from the cache or computed.

        ``progress(done, total, label)`` after each cell (read or computed), in finishing order.
        """
        progress = progress or no_progress
        paths = [self._path(experiment, c.params) for c in cells]
        values = [self._read(p) for p in paths]
        done, total = 0, len(cells)
        for i, v in enumerate(values):
            if v is not None:
                self.hits += 1
                done += 1
                progress(done, total, cells[i].label)
        todo = [i for i, v in enumerate(values) if v is None]
        for j, value in self.runner([cells[i].compute for i in todo]):
            i = todo[j]
            values[i] = value
            self.misses += 1
            self._write(paths[i], value)
            done += 1
            progress(done, total, cells[i].label)
        return values

    def cell(self, experiment, params, compute):
        """Return ``compute()`` (rounded) for ``params``, from the cache when present."""
        return self.cells(experiment, [Cell(params, compute)])[0]


def sweep(cache, experiment, budget, axes, compute, progress, **fixed):
    """Every combination of ``axes`` (name -> values, first axis outermost) as one cached cell.

    ``compute(**combination)`` returns the cell's measurements (``compute`` must pickle, see
    :class:`Cell`); returns one record per combination: the axes' values, ``fixed`` and the measurements.
    """
    names = list(axes)
    points = [dict(zip(names, values)) for values in itertools.product(*axes.values())]
    cells = [Cell({"budget": budget, **point, **fixed}, functools.partial(compute, **point), label(point))
             for point in points]
    values = cache.cells(experiment, cells, progress)
    return [{**point, **fixed, **out} for point, out in zip(points, values)]


def label(point):
    """``name=value`` pairs for a progress line."""
    return " ".join(f"{n}={v:g}" if isinstance(v, float) else f"{n}={v}" for n, v in point.items())


def line_progress(name):
    """A progress callback printing ``[name] i/n label`` lines on stderr."""
    def report(done, total, label):
        print(f"[{name}] {done}/{total} {label}", file=sys.stderr, flush=True)
    return report


def no_progress(done, total, label):
    return None
