"""Ratio benchmark of the sparse closed-form solver against scikit-learn and scipy + pyamg.

    python benchmarks/scale.py [--quick] [--sizes 10000 100000 1000000] [--k 8 32]
                               [--families view knn sbm] [--solvers ...] [--timeout 900] [--json out.json]

Problem: Laplacian eigenmaps, the ``k`` smallest eigenpairs of ``L = D_G - G`` on ``1^perp``
(``vicreg.solve(G, k, variant="constrained")``), on the three families of ``benchmarks/graphs.py``.

Solvers, each in its own process (its peak memory is its own; a hard timeout kills it):

* ``ours``            ``vicreg.solve`` path (default: LOBPCG + block V-cycle AMG, random start, target 1e-5)
* ``ours-jacobi``     the same with the Jacobi preconditioner
* ``ours-multilevel`` the same from the multilevel start (coarse problem on AMG aggregates, prolongated)
* ``ours@sklearn``    ``ours`` asked only for the backward error ``sklearn-lobpcg`` reached on the same graph
  (run ``sklearn-lobpcg`` before it): the time ours takes to what scikit-learn returns
* ``sklearn-lobpcg``  ``sklearn.manifold.spectral_embedding(eigen_solver="lobpcg", norm_laplacian=False)``
* ``sklearn-amg``     the same with ``eigen_solver="amg"``
* ``scipy+pyamg``     ``scipy.sparse.linalg.lobpcg`` preconditioned by ``pyamg.smoothed_aggregation_solver``
  (defaults, as scikit-learn builds it), constraint ``Y = 1``, run until every one of its ``k`` vectors
  reaches the backward error ``ours`` reached on the same graph (equal accuracy)
* ``shift-invert``    the previous ARPACK shift-invert path (only at N <= 10^4: its LU fill explodes)

Accuracy: the backward error ``max_i ||L u_i - theta_i u_i|| / (||L||_2 ||u_i||)`` of what each returns,
``theta_i`` the Rayleigh quotients, measured by ``ssl_proofs.spectral.backward_error`` with the same
``||L||_2`` for everyone (scikit-learn returns no eigenvalues; its constant column is included, its
residual is ~0).  ``lam_k err``: relative error of the k-th Rayleigh quotient against ``ours``.
Ratios: time of each competitor / time of ``ours`` (> 1: ours is faster).

    python benchmarks/scale.py --crossover

measures the rule that sends a problem to shift-invert (``ssl_proofs.spectral.factorisation_is_cheap``):
for meshes, 3-D k-NN graphs and the three families it prints the RCM envelope / nnz against the time
of shift-invert and of LOBPCG on the same problem.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pyamg
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, lobpcg
from sklearn.manifold import spectral_embedding
from sklearn.neighbors import kneighbors_graph

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import graphs as families  # noqa: E402  (benchmarks/graphs.py)
import ssl_proofs  # noqa: E402
from ssl_proofs import spectral  # noqa: E402
from ssl_proofs_cli.io import save_array, save_json, write_graph  # noqa: E402

SOLVERS = ("ours", "ours-jacobi", "ours-multilevel", "ours@sklearn", "sklearn-lobpcg", "sklearn-amg", "scipy+pyamg",
           "shift-invert")
DEFAULT_SOLVERS = ("ours", "ours-jacobi", "ours-multilevel", "sklearn-lobpcg", "ours@sklearn", "sklearn-amg",
                   "scipy+pyamg", "shift-invert")


class _Timeout(Exception):
    pass


def _rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _laplacian(G):
    return (sp.diags(np.asarray(G.sum(axis=1)).ravel()) - G).tocsr()


def run_one(solver, graph_file, k, target, budget):
    """Run one solver on one saved graph; return time, peak memory, vectors and Rayleigh quotients."""
    G = sp.load_npz(graph_file).tocsr()
    n = G.shape[0]
    base = _rss_mb()
    t0 = time.perf_counter()
    iterations = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if solver.startswith("ours") or solver == "shift-invert":
            opts = {"ours": {}, "ours-jacobi": {"preconditioner": "jacobi"}, "ours-multilevel": {"start": "multilevel"},
                    "ours@sklearn": {"tol": target}, "shift-invert": {"solver": "shift-invert"}}[solver]
            vicreg = ssl_proofs.get_method("vicreg")
            prob = vicreg.spectral_problem(ssl_proofs.graphs.check_graph(G), k, variant="constrained")
            try:
                sol = spectral.solve_spectral(prob, on_unconverged="warn", progress=_progress, **opts)
            except spectral.NotConverged as exc:  # pragma: no cover - on_unconverged="warn"
                sol = exc.solution
            V, iterations = sol.vectors, sol.iterations
        elif solver.startswith("sklearn"):
            V = spectral_embedding(G, n_components=k + 1, eigen_solver=solver.split("-")[1], norm_laplacian=False,
                                   drop_first=False, random_state=0)
        elif solver == "scipy+pyamg":
            L = _laplacian(G)
            ml = pyamg.smoothed_aggregation_solver((L + 1e-5 * sp.identity(n)).tocsr())
            pc = ml.aspreconditioner()
            deadline = t0 + budget

            def apply(x):
                if time.perf_counter() > deadline:
                    raise _Timeout
                return pc(x)

            M = LinearOperator((n, n), matvec=apply, dtype=float)
            X = np.random.default_rng(0).standard_normal((n, k))
            norm = spectral.operator_norm(L)
            _, V, hist = lobpcg(L, X, M=M, Y=np.ones((n, 1)), tol=target * norm, maxiter=100000, largest=False,
                                retResidualNormsHistory=True)
            iterations = len(hist)
        else:
            raise SystemExit(f"unknown solver {solver}")
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "peak_mb": _rss_mb(), "extra_mb": _rss_mb() - base, "iterations": iterations}, V


def _progress(message):
    print(f"    {message}", end="\r", file=sys.stderr, flush=True)


def child(args):
    out, V = None, None
    try:
        out, V = run_one(args.child, args.graph, args.k_one, args.target, args.budget)
        save_array(args.vectors, V)
    except _Timeout:
        out = {"timeout": True}
    print("RESULT " + json.dumps(out), flush=True)


def measure(G, norm, V):
    """Backward error and Rayleigh quotients of V, by the one shared function."""
    V = np.asarray(V, dtype=float)
    LV = G @ V
    theta = np.einsum("ij,ij->j", V, (np.asarray(G.sum(axis=1)).ravel()[:, None] * V - LV)) / np.einsum("ij,ij->j", V, V)
    err = spectral.backward_error(_laplacian(G), V, theta, norm=norm)
    return float(err.max()), np.sort(theta)


def crossover(k=8):
    """Envelope / nnz against shift-invert and LOBPCG times (the rule behind CHEAP_FILL)."""
    def grid(side):
        g = sp.diags([np.ones(side - 1), np.ones(side - 1)], [-1, 1])
        return sp.kronsum(g, g).tocsr()

    def knn3(n):
        A = kneighbors_graph(np.random.default_rng(0).standard_normal((n, 3)), 10)
        return A.maximum(A.T).tocsr()

    cases = [("2-D grid 100^2", grid(100)), ("2-D grid 300^2", grid(300)), ("3-D kNN 10^4", knn3(10_000)),
             ] + [(f"{f} 10^4", families.make(f, 10_000)) for f in families.FAMILIES]
    vicreg = ssl_proofs.get_method("vicreg")
    print(f"{'graph':>16} {'N':>7} {'envelope/nnz':>12} {'shift-invert s':>14} {'lobpcg s':>9}  rule says")
    for name, G in cases:
        L = _laplacian(G)
        ratio = spectral.envelope_ratio(L)
        prob = vicreg.spectral_problem(ssl_proofs.graphs.check_graph(G), k, variant="constrained")
        times = {}
        for path in ("shift-invert", "lobpcg"):
            t = time.perf_counter()
            spectral.solve_spectral(prob, solver=path, on_unconverged="warn")
            times[path] = time.perf_counter() - t
        rule = "shift-invert" if spectral.factorisation_is_cheap(L) else "lobpcg"
        print(f"{name:>16} {G.shape[0]:>7} {ratio:>12.1f} {times['shift-invert']:>14.2f} {times['lobpcg']:>9.2f}  {rule}",
              flush=True)


def markdown(files):
    """The rows of one or more ``--json`` files as the markdown table of docs/benchmarks.md."""
    print("| family | N | k | solver | time s | ratio | peak MB | iters | backward err | λ_k err |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for f in files:
        with open(f) as fh:
            rows = json.load(fh)
        for r in rows:
            head = f"| {r['family']} | {r['n']:,} | {r['k']} | {r['solver']} |"
            if "seconds" not in r:
                what = "killed at the timeout" if r.get("timeout") else f"failed: {r.get('error')}"
                print(f"{head} {what} | | | | | |")
                continue
            it = "" if r.get("iterations") is None else r["iterations"]
            print(f"{head} {r['seconds']:.1f} | {r.get('ratio', float('nan')):.2f} | {r['peak_mb']:.0f} | {it} | "
                  f"{r['error']:.1e} | {r.get('lam_err', float('nan')):.1e} |")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="N = 10^4, k = 8, every family (about a minute)")
    p.add_argument("--sizes", type=float, nargs="+", default=[1e4, 1e5, 1e6])
    p.add_argument("--k", type=int, nargs="+", default=[8, 32])
    p.add_argument("--families", nargs="+", default=list(families.FAMILIES), choices=families.FAMILIES)
    p.add_argument("--solvers", nargs="+", default=list(DEFAULT_SOLVERS), choices=SOLVERS)
    p.add_argument("--target", type=float, default=1e-5, help="backward error target of ours")
    p.add_argument("--timeout", type=float, default=900, help="seconds per solver run (killed beyond)")
    p.add_argument("--json", default=None, help="also write every row to this file")
    p.add_argument("--crossover", action="store_true", help="measure the shift-invert / LOBPCG rule instead")
    p.add_argument("--markdown", nargs="+", default=None, help="print the rows of these --json files as markdown")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--graph", default=None, help=argparse.SUPPRESS)
    p.add_argument("--vectors", default=None, help=argparse.SUPPRESS)
    p.add_argument("--k-one", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--budget", type=float, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return child(args)
    if args.crossover:
        return crossover()
    if args.markdown:
        return markdown(args.markdown)
    if args.quick:
        args.sizes, args.k = [1e4], [8]

    rows = []
    tmp = tempfile.mkdtemp(prefix="ssl-proofs-bench-")
    print(f"{'family':>6} {'N':>8} {'k':>3} {'solver':>15} {'time s':>8} {'ratio':>6} {'peak MB':>8} "
          f"{'+MB':>7} {'iters':>6} {'backward err':>12} {'lam_k err':>9}", flush=True)
    for fam in args.families:
        for n in map(int, args.sizes):
            print(f"  building {fam} graph, N = {n} ...", end="\r", file=sys.stderr, flush=True)
            G = families.make(fam, n)
            gfile = os.path.join(tmp, f"{fam}-{n}.npz")
            write_graph(G, gfile)
            norm = spectral.operator_norm(_laplacian(G))
            for k in args.k:
                ours_t, ours_err, ours_lam, sk_err, group = None, None, None, None, []
                for solver in args.solvers:
                    if solver == "shift-invert" and n > 10_000:
                        continue
                    if (solver == "scipy+pyamg" and ours_err is None) or (solver == "ours@sklearn" and sk_err is None):
                        continue
                    print(f"  {fam} N={n} k={k}: {solver} ...", end="\r", file=sys.stderr, flush=True)
                    vfile = os.path.join(tmp, "V.npy")
                    target = {"scipy+pyamg": ours_err, "ours@sklearn": sk_err}.get(solver, args.target)
                    cmd = [sys.executable, os.path.abspath(__file__), "--child", solver, "--graph", gfile,
                           "--vectors", vfile, "--k-one", str(k), "--target", repr(target),
                           "--budget", repr(args.timeout)]
                    row = {"family": fam, "n": n, "k": k, "solver": solver, "nnz": int(G.nnz)}
                    try:
                        # the child's stderr (its progress line, any traceback) goes straight to ours
                        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=args.timeout + 60)
                        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
                        res = json.loads(lines[-1][7:]) if lines else {"error": f"exit {proc.returncode}, see stderr"}
                    except subprocess.TimeoutExpired:
                        res = {"timeout": True}
                    row.update(res)
                    if "seconds" in res:
                        row["error"], lam = measure(G, norm, np.load(vfile))
                        row["lam"] = lam[-k:] if solver.startswith("sklearn") else lam[:k]
                        if solver == "ours":
                            ours_t, ours_err, ours_lam = res["seconds"], row["error"], row["lam"]
                        if solver == "sklearn-lobpcg":
                            sk_err = row["error"]
                    if solver == "ours" and "seconds" not in res:
                        ours_t = None
                    rows.append(row)
                    group.append(row)
                    _compare(group, ours_t, ours_lam)
                    _print_row(row, args.timeout)
                    if args.json:  # after every row: a run stopped early keeps what it measured
                        save_json(args.json, rows, indent=1, default=lambda a: np.asarray(a).tolist())
                for r in group[:next((i for i, g in enumerate(group) if g["solver"] == "ours"), 0)]:
                    if "ratio" not in r:
                        continue
                    # rows measured before ours: their ratios now
                    print(f"{r['family']:>6} {r['n']:>8} {r['k']:>3} {r['solver']:>15} ratio to ours {r['ratio']:.2f}, "
                          f"lam_k err {r['lam_err']:.1e}", flush=True)
    return 0


def _compare(group, ours_t, ours_lam):
    """Ratio to ``ours`` and relative error of the k-th Rayleigh quotient, for every row of a group."""
    for r in group:
        if "seconds" in r and ours_t:
            r["ratio"] = r["seconds"] / ours_t
            r["lam_err"] = float(abs(r["lam"][-1] - ours_lam[-1]) / abs(ours_lam[-1]))


def _print_row(r, timeout):
    if r.get("timeout"):
        print(f"{r['family']:>6} {r['n']:>8} {r['k']:>3} {r['solver']:>15} {'>' + str(int(timeout)):>8}", flush=True)
        return
    if "seconds" not in r:
        print(f"{r['family']:>6} {r['n']:>8} {r['k']:>3} {r['solver']:>15} failed: {r.get('error')}", flush=True)
        return
    it = "" if r.get("iterations") is None else r["iterations"]
    print(f"{r['family']:>6} {r['n']:>8} {r['k']:>3} {r['solver']:>15} {r['seconds']:>8.2f} "
          f"{r.get('ratio', float('nan')):>6.2f} {r['peak_mb']:>8.0f} {r['extra_mb']:>7.0f} {it:>6} "
          f"{r['error']:>12.1e} {r.get('lam_err', float('nan')):>9.1e}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
