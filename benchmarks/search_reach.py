"""How often the global search reaches SimCLR's certified lower bound where the bound is attained.

    python benchmarks/search_reach.py [--instances 200] [--seed 0] [--search-from REV]

Draws ``--instances`` random small problems (N in 3..8; half Erdos-Renyi graphs with edge probability
in [0.3, 0.7], half cycles, paths, stars, complete bipartite and circulant graphs; K in {2, 3}, capped
at N - 1; tau in {0.5, 1, 2}), computes the elliptope bound (:func:`ssl_proofs.bounds.elliptope_bound`)
and, on every instance where the bound is attained (the relaxed optimum's rank-K factor meets it: the
minimum is known), runs ``global_minimise`` (seed 0, default budget, no candidate, no bound passed) and
counts the instances where its loss meets the bound (:func:`ssl_proofs.bounds.certified_gap`).

``--search-from REV`` takes ``ssl_proofs/search.py`` from git revision REV (e.g. ``1ccae61``, before
issue 16) instead of the working tree's: the bound is always today's, the search the one under test.
"""
from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ssl_proofs.bounds import certified_gap, elliptope_bound
from ssl_proofs.graphs import circulant_graph, to_dense
from ssl_proofs.methods.simclr import SIMCLR
from ssl_proofs_cli.io import save_text

ROOT = Path(__file__).resolve().parents[1]


def search_module(rev):
    """``ssl_proofs.search`` of the working tree, or of git revision ``rev`` (loaded as a package sibling)."""
    if rev is None:
        from ssl_proofs import search
        return search
    src = subprocess.run(["git", "show", f"{rev}:ssl_proofs/search.py"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "search_old.py"
        save_text(path, src)
        spec = importlib.util.spec_from_file_location("ssl_proofs._search_old", path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod  # dataclasses look their module up there
        spec.loader.exec_module(mod)
    return mod


def random_graph(rng):
    """One graph of the benchmark's mix (module docstring)."""
    n = int(rng.integers(3, 9))
    A = np.zeros((n, n))
    kind = rng.choice(["er", "er", "er", "er", "er", "cycle", "path", "star", "bipartite", "circulant"])
    if kind == "er":
        while not A.any():
            A = np.triu((rng.random((n, n)) < rng.uniform(0.3, 0.7)).astype(float), 1)
            A = A + A.T
    elif kind == "cycle":
        A = to_dense(circulant_graph(n, [1]))
    elif kind == "path":
        A[np.arange(n - 1), np.arange(1, n)] = 1
        A = A + A.T
    elif kind == "star":
        A[0, 1:] = A[1:, 0] = 1
    elif kind == "bipartite":
        a = int(rng.integers(1, n))
        A[:a, a:] = A[a:, :a] = 1
    else:
        A = to_dense(circulant_graph(n, sorted({int(x) for x in rng.integers(1, n // 2 + 1, size=2)})))
    return str(kind), np.asarray(A, dtype=float)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--instances", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--search-from", default=None, metavar="REV", help="git revision of ssl_proofs/search.py")
    args = p.parse_args(argv)
    search = search_module(args.search_from)
    rng = np.random.default_rng(args.seed)
    attained = reached = 0
    t_bound = t_search = 0.0
    missed = []
    for i in range(args.instances):
        kind, G = random_graph(rng)
        n = G.shape[0]
        k = min(int(rng.choice([2, 3])), n - 1)
        tau = float(rng.choice([0.5, 1.0, 2.0]))
        t0 = time.perf_counter()
        b = elliptope_bound(G, k, tau=tau)
        t_bound += time.perf_counter() - t0
        if b.attained:
            attained += 1
            t0 = time.perf_counter()
            sr = search.global_minimise(SIMCLR, G, k, hyper={"tau": tau}, seed=0)
            t_search += time.perf_counter() - t0
            if certified_gap(sr.loss, b.value):
                reached += 1
            else:
                edges = " / ".join(f"{a} {c}" for a, c in zip(*np.nonzero(np.triu(G))))
                missed.append(f"{kind} N={n} K={k} tau={tau:g}: bound {b.value:.7g}, search {sr.loss:.7g} "
                              f"({sr.starts} runs); edges {edges}")
        print(f"\r[{i + 1}/{args.instances}] attained {attained}, reached {reached}", end="", file=sys.stderr,
              flush=True)
    print(file=sys.stderr)
    label = "working tree" if args.search_from is None else args.search_from
    print(f"search from {label}: {args.instances} instances (seed {args.seed}), bound attained on {attained}; "
          f"the search reached it on {reached}/{attained} = {100.0 * reached / max(attained, 1):.1f}%")
    print(f"seconds: bounds {t_bound:.1f}, searches {t_search:.1f} (wall clock, load-dependent)")
    for line in missed:
        print("  missed:", line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
