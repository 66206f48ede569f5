"""Results cache and progress reporting shared by the experiments.

A cell (one fit + probe at one parameter setting and seed) is cached as JSON
under ``<dir>/<experiment>/<sha256 of its parameters>.json``; the key holds the
experiment name, every parameter of the cell, the seed and :data:`VERSION`, so a
change of budget or code version never reads a stale value.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import sys
from pathlib import Path

#: bump when a cell's computation changes (invalidates every cached value)
VERSION = 2
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


class Cache:
    """JSON cache of experiment cells; ``Cache(None)`` computes every time."""

    def __init__(self, directory=None):
        self.dir = None if directory is None else Path(directory)
        self.hits = 0
        self.misses = 0

    def cell(self, experiment, params, compute):
        """Return ``compute()`` (rounded) for ``params``, from the cache when present."""
        key = json.dumps({"experiment": experiment, "version": VERSION, **params}, sort_keys=True, default=str)
        path = None
        if self.dir is not None:
            path = self.dir / experiment / (hashlib.sha256(key.encode()).hexdigest()[:24] + ".json")
            if path.exists():
                try:
                    with open(path) as fh:
                        value = json.load(fh)
                    self.hits += 1
                    return value
                except (OSError, ValueError):
                    pass  # unreadable cache entry: recompute and overwrite
        value = rounded(compute())
        self.misses += 1
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            with open(tmp, "w") as fh:
                json.dump(value, fh)
            os.replace(tmp, path)
        return value


def sweep(cache, experiment, budget, axes, compute, progress, **fixed):
    """Every combination of ``axes`` (name -> values, first axis outermost) as one cached cell.

    ``compute(**combination)`` returns the cell's measurements; returns one record per
    combination: the axes' values, ``fixed`` and the measurements.
    """
    names = list(axes)
    combos = list(itertools.product(*axes.values()))
    records = []
    for i, values in enumerate(combos, 1):
        point = dict(zip(names, values))
        cell = {**point, **fixed}
        out = cache.cell(experiment, {"budget": budget, **cell}, lambda: compute(**point))
        records.append({**cell, **out})
        progress(i, len(combos), " ".join(f"{n}={v:g}" if isinstance(v, float) else f"{n}={v}"
                                          for n, v in point.items()))
    return records


def line_progress(name):
    """A progress callback printing ``[name] i/n label`` lines on stderr."""
    def report(done, total, label):
        print(f"[{name}] {done}/{total} {label}", file=sys.stderr, flush=True)
    return report


def no_progress(done, total, label):
    return None
