"""Speed and memory of the closed-form solver on 3-D k-NN graphs (see scale.py for the ratio benchmark).

    python benchmarks/run.py [--sizes 500 2000 8000 50000] [--k 8] [--repeat 3]

For each graph size (a k-NN graph of random points, symmetrised, sparse) it
times ``vicreg.solve(G, k, variant="constrained")`` (dense ``eigh`` up to
``ssl_proofs.spectral.DENSE_LIMIT`` nodes, then the path ``solve_spectral`` picks) against
the reference scikit-learn ``spectral_embedding(norm_laplacian=False)`` (same
eigenproblem, different code), and reports peak Python-heap memory
(tracemalloc).  Ratios > 1 mean ssl-proofs is slower / larger.  It also times
the gradient-descent cross-check on CPU and, when torch sees one, on the GPU.
"""
from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
import warnings

import numpy as np
import scipy.sparse as sp


def knn_graph(n, k_nn=10, seed=0):
    from sklearn.neighbors import kneighbors_graph

    X = np.random.default_rng(seed).standard_normal((n, 3))
    A = kneighbors_graph(X, k_nn, mode="connectivity", include_self=False)
    return sp.csr_matrix(A.maximum(A.T))


def measure(fn, repeat):
    best, peak = np.inf, 0
    for _ in range(repeat):
        tracemalloc.start()
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
        peak = max(peak, tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return best, peak, out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[500, 2000, 8000, 30000])
    p.add_argument("--k", type=int, default=8)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)

    import ssl_proofs
    from sklearn.manifold import spectral_embedding

    vicreg = ssl_proofs.get_method("vicreg")
    print(f"{'N':>7} {'path':>12} {'ours s':>9} {'sklearn s':>10} {'time ratio':>10} {'ours MB':>8} "
          f"{'sk MB':>7} {'mem ratio':>9} {'subspace err':>12}")
    for n in args.sizes:
        print(f"  building N={n} ...", end="\r", file=sys.stderr, flush=True)
        G = knn_graph(n)
        ours_t, ours_m, sol = measure(lambda: vicreg.solve(G, args.k, variant="constrained"), args.repeat)

        def ref():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return spectral_embedding(G, n_components=args.k + 1, norm_laplacian=False,
                                          drop_first=False, random_state=0)

        ref_t, ref_m, E = measure(ref, args.repeat)
        # same eigenproblem: compare span{1, Z} with sklearn's span (which includes the constant)
        P1 = np.linalg.qr(np.column_stack([np.ones(n), sol.Z]))[0]
        P2 = np.linalg.qr(E)[0]
        err = np.linalg.norm(P1 @ (P1.T @ P2) - P2, 2)
        path = sol.spectral.solver
        print(f"{n:>7} {path:>12} {ours_t:>9.3f} {ref_t:>10.3f} {ours_t / ref_t:>10.2f} {ours_m / 2**20:>8.1f} "
              f"{ref_m / 2**20:>7.1f} {ours_m / max(ref_m, 1):>9.2f} {err:>12.1e}")

    # the GD cross-check, CPU vs GPU
    import torch

    from ssl_proofs_verifiers.descent import minimise

    G = ssl_proofs.graphs.view_graph(64, 2)
    hp = vicreg.check_hyper("squared", {"gamma": 0.3})
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    times = {}
    for d in devices:
        t = time.perf_counter()
        r = minimise(vicreg, G, 16, variant="squared", hyper=hp, starts=3, device=d)
        times[d] = time.perf_counter() - t
        print(f"GD cross-check N=128, K=16, 3 starts on {d}: {times[d]:.2f}s, loss {r.loss:.10f}")
    if "cuda" in times:
        print(f"GPU/CPU time ratio: {times['cuda'] / times['cpu']:.2f}")


if __name__ == "__main__":
    main()
