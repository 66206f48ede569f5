"""The descent cross-check at scale, GPU against CPU (issue 11).

    python benchmarks/gpu_descent.py [--n 65536] [--k 64] [--family view] [--rel-gap 1e-6]
                                     [--devices cpu cuda] [--cpu-seconds 300] [--json out.json]

On one graph of a family of the scale benchmark (``benchmarks/graphs.py``; default: the view graph
with weak random edges, N = 65,536 nodes) it computes VICReg's closed form (squared variant, K = 64)
with the sparse solver, then runs :func:`ssl_proofs_verifiers.scale_check.cross_check_at_scale` -- L-BFGS on
the loss from one random start, on the device, until the loss is within ``--rel-gap`` of the closed
form's -- on each device from the same start, and prints time, iterations, the gap reached, the
peak device memory and the GPU/CPU ratios (time to the gap, and time per iteration).

No N x N tensor is built: the loss reads G's edge list; the peak memory printed for CUDA is the
proof (a dense float64 G at N = 65,536 alone would take 32 GiB).  The CPU run may be capped
(``--cpu-seconds``); then the time ratio is per iteration and the line says so.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import torch

import ssl_proofs
from ssl_proofs.errors import SSLProofsError
from ssl_proofs_cli.io import save_json
from ssl_proofs_verifiers.scale_check import cross_check_at_scale

from graphs import FAMILIES, make


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=65536)
    p.add_argument("--k", type=int, default=64)
    p.add_argument("--family", choices=FAMILIES, default="view")
    p.add_argument("--gamma", type=float, default=1.0, help="VICReg invariance weight (alpha = beta = 1)")
    p.add_argument("--rel-gap", type=float, default=1e-6)
    p.add_argument("--devices", nargs="+", default=["cpu", "cuda"], choices=["cpu", "cuda"])
    p.add_argument("--cpu-seconds", type=float, default=None, help="cap on the CPU descent's wall time")
    p.add_argument("--gpu-seconds", type=float, default=None, help="cap on the GPU descent's wall time")
    p.add_argument("--max-iter", type=int, default=20000)
    p.add_argument("--target", type=float, default=None,
                   help="the closed form's loss, when already known (skips the sparse solve)")
    p.add_argument("--json", default=None, help="write the figures here")
    args = p.parse_args(argv)

    devices = [d for d in args.devices if d == "cpu" or torch.cuda.is_available()]
    if "cuda" in args.devices and "cuda" not in devices:
        print("torch sees no GPU: the CUDA run is skipped (no GPU figure is made up).", file=sys.stderr)
    vicreg = ssl_proofs.get_method("vicreg")
    hyper = {"alpha": 1.0, "beta": 1.0, "gamma": args.gamma}
    G = make(args.family, args.n)
    record = {"n": args.n, "k": args.k, "family": args.family, "nnz": int(G.nnz), "hyper": hyper,
              "rel_gap": args.rel_gap, "torch": torch.__version__, "runs": {}}
    if torch.cuda.is_available():
        record["gpu"] = torch.cuda.get_device_name(0)
    print(f"{args.family} graph: N = {args.n}, nnz = {G.nnz}, K = {args.k}, VICReg squared, gamma = {args.gamma}")
    if args.target is None:
        t = time.perf_counter()
        sol = vicreg.solve(G, args.k, variant="squared", **hyper)
        record["closed_form"] = {"loss": sol.loss, "seconds": time.perf_counter() - t, "residual": sol.residual,
                                 "solver": sol.spectral.solver, "certificate": sol.certificate}
        target = sol.loss
        print(f"closed form: loss {sol.loss:.12g} in {record['closed_form']['seconds']:.1f} s "
              f"({sol.spectral.solver}, backward error {sol.residual:.1e})")
    else:
        target = args.target
        record["closed_form"] = {"loss": target, "given": True}
        print(f"closed form: loss {target:.12g} (given)")

    runs = {}
    for device in devices:
        cap = args.cpu_seconds if device == "cpu" else args.gpu_seconds
        r = cross_check_at_scale(vicreg, G, args.k, variant="squared", hyper=hyper, target=target,
                                 rel_gap=args.rel_gap, device=device, max_iter=args.max_iter, max_seconds=cap)
        runs[device] = r
        record["runs"][device] = {"verdict": r.verdict, "loss": r.loss, "gap": r.gap, "iterations": r.iterations,
                                  "seconds": r.seconds, "peak_bytes": r.peak_bytes, "trace": r.trace}
        print(f"{device:>4}: {r.summary()}", flush=True)
    if "cpu" in runs and "cuda" in runs:
        c, g = runs["cpu"], runs["cuda"]
        per_it = (g.seconds / max(g.iterations, 1)) / (c.seconds / max(c.iterations, 1))
        record["gpu_cpu_time_per_iteration"] = per_it
        print(f"GPU/CPU time per L-BFGS iteration: {per_it:.3f}")
        if c.verdict == g.verdict == "agrees":
            record["gpu_cpu_time_to_gap"] = g.seconds / c.seconds
            print(f"GPU/CPU time to the gap {args.rel_gap:.0e}: {g.seconds / c.seconds:.3f}")
        else:
            print("GPU/CPU time to the gap: not both runs reached it (see the verdicts); the per-iteration "
                  "ratio above is the comparable figure")
    if "cuda" in runs:
        dense = args.n * args.n * 8
        print(f"peak GPU memory {runs['cuda'].peak_bytes / 2**20:.0f} MiB; a dense float64 G alone would be "
              f"{dense / 2**30:.0f} GiB")
    if args.json:
        save_json(args.json, record, indent=1)
    return 0 if all(r.verdict != "refuted" for r in runs.values()) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SSLProofsError as exc:
        sys.exit(f"error: {exc}")
