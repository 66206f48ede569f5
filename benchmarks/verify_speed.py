"""Time ``ssl-proofs verify``: wall-clock and CPU seconds (the command and its worker processes), per theorem.

    python benchmarks/verify_speed.py [--examples 100] [--workers 2] [--seed 0] [--target all] [--top 12]

CPU seconds (user + sys of the command and every worker, from ``getrusage(RUSAGE_CHILDREN)``) do not
depend on what else the machine runs; wall-clock seconds do, so both are printed, with the load average.
The issue-11 target: ``verify all`` with 100 examples per theorem within 180 s wall on 2 idle cores.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--examples", type=int, default=100)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--target", default="all")
    p.add_argument("--top", type=int, default=12, help="theorems listed, by CPU seconds")
    args = p.parse_args(argv)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        load0 = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "ssl_proofs_cli", "verify", args.target, "--examples",
                               str(args.examples), "--seed", str(args.seed), "--device", "cpu", "--workers",
                               str(args.workers), "--json", str(out)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        run = json.loads(out.read_text())["results"]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    ok = sum(r["matches"] for r in run)
    print(f"verify {args.target}: {args.examples} examples per theorem, {args.workers} workers, seed {args.seed}")
    print(f"  wall {wall:.1f} s, CPU {cpu:.1f} s (user+sys, all processes), load average {load0:.1f} -> "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {ok}/{len(run)} verdicts as recorded "
          f"(exit {proc.returncode})")
    print(f"  CPU in the checks: {sum(r['cpu_seconds'] for r in run):.1f} s; longest theorem "
          f"{max(r['cpu_seconds'] for r in run):.1f} CPU s")
    print(f"  {'CPU s':>7} {'wall s':>7} {'ex.':>4}  verdict   theorem")
    for r in sorted(run, key=lambda r: -r["cpu_seconds"])[:args.top]:
        print(f"  {r['cpu_seconds']:7.1f} {r['seconds']:7.1f} {r['examples']:4}  {r['verdict']:8}  {r['id']}")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
