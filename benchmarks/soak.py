"""Soak the true theorems: many examples, 0 refutations expected (issue 8; outside CI).

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nice -n 5 python -m benchmarks.soak \\
        [--examples 1000] [--slow-examples 300] [--seed 2] [--workers 2] [--regime nonlinear|linear|all]
        [--json soak.json] [ids ...]

Attacks every theorem recorded as *holding* (or the ids given) with ``--examples`` hypothesis examples
(``--slow-examples`` for the slow ones: over ``SLOW`` CPU seconds per example in the recorded run
docs/results/verify.json) at ``--seed``, exactly as ``ssl-proofs verify THEOREM --examples N --seed S --device cpu`` does, theorems in
parallel over ``--workers`` processes. ``--regime nonlinear`` (default) leaves out the linear theorems (ids
with ``.linear.``, soaked separately in docs/mutants.md). Prints, per theorem, the distinct instances checked
(hypothesis draws some instances twice; each is checked once), its verdict and CPU seconds, then the total,
the wall time and the load average. Exit 1 when a true theorem is refuted (a bug of the checker or the
library: reproduce it with ``ssl-proofs verify ID --examples N --seed S``).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import ssl_proofs
from ssl_proofs_cli.io import save_json
from ssl_proofs_verifiers import parallel

RECORDED = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "docs", "results", "verify.json")
#: CPU seconds per example above which a theorem is soaked with --slow-examples
SLOW = 0.1


def slow_ids():
    """Theorems whose recorded run took more than ``SLOW`` CPU seconds per distinct example."""
    with open(RECORDED) as f:
        run = json.load(f)["results"]
    return {r["id"] for r in run if r["examples"] and r["cpu_seconds"] / r["examples"] > SLOW}


def true_theorems(regime, ids=()):
    """The theorems recorded as holding, of the regime asked for (or exactly ``ids``)."""
    if ids:
        return [ssl_proofs.get_theorem(i) for i in ids]
    out = [t for t in ssl_proofs.list_theorems() if t.expected == "holds"]
    if regime == "all":
        return out
    linear = regime == "linear"
    return [t for t in out if (".linear." in t.id) == linear]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("ids", nargs="*", help="theorem ids (default: every true theorem of --regime)")
    p.add_argument("--examples", type=int, default=1000)
    p.add_argument("--slow-examples", type=int, default=None,
                   help=f"examples for the theorems over {SLOW} CPU s per example in the recorded run (default: --examples)")
    p.add_argument("--seed", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--regime", choices=("nonlinear", "linear", "all"), default="nonlinear")
    p.add_argument("--json", metavar="PATH", help="write the per-theorem results and the totals to PATH")
    args = p.parse_args(argv)
    theorems = true_theorems(args.regime, args.ids)
    load0, t0, n = os.getloadavg(), time.perf_counter(), [0]

    def done(res):
        n[0] += 1
        print(f"[{n[0]}/{len(theorems)}] {res.theorem.id}: {res.verdict} ({res.examples} distinct instances, "
              f"{res.cpu_seconds:.0f} CPU s, {time.perf_counter() - t0:.0f} s since start)", file=sys.stderr,
              flush=True)

    slow = slow_ids() if args.slow_examples is not None else set()
    groups = [([t for t in theorems if t.id not in slow], args.examples),
              ([t for t in theorems if t.id in slow], args.slow_examples)]
    by_id = {}
    for group, examples in groups:
        if group:
            for r in parallel.run_theorems(group, examples=examples, seed=args.seed, device="cpu",
                                           workers=args.workers, done=done):
                by_id[r.theorem.id] = (r, examples)
    results = [by_id[t.id][0] for t in theorems]
    wall, load1 = time.perf_counter() - t0, os.getloadavg()
    bad = [r for r in results if r.verdict != "holds"]
    total = sum(r.examples for r in results)
    slow_note = f" ({args.slow_examples} for the {len(slow & {t.id for t in theorems})} slow ones)" if slow else ""
    print(f"soak ({args.regime}): {len(results)} true theorems, {args.examples} examples each{slow_note}, "
          f"seed {args.seed}, {args.workers} workers")
    print(f"  {'drawn':>5} {'distinct':>8} {'CPU s':>7}  verdict   theorem")
    for r in results:
        print(f"  {by_id[r.theorem.id][1]:5} {r.examples:8} {r.cpu_seconds:7.1f}  {r.verdict:8}  {r.theorem.id}")
    print(f"  total {total} distinct instances; wall {wall:.0f} s, CPU in the checks "
          f"{sum(r.cpu_seconds for r in results):.0f} s; load average {load0[0]:.1f} -> {load1[0]:.1f} "
          f"(15 min: {load1[2]:.1f}) on {os.cpu_count()} cores; {len(bad)} not holding")
    for r in bad:
        print(f"  {r.theorem.id}: {r.verdict}: {r.counterexample}\n    " +
              "\n    ".join(m.line() for m in r.failing))
    if args.json:
        save_json(args.json, {"regime": args.regime, "examples": args.examples, "slow_examples": args.slow_examples,
                       "slow": sorted(slow), "seed": args.seed, "workers": args.workers,
                       "wall_seconds": round(wall, 1), "load_average": [load0, load1], "distinct_instances": total,
                       "results": [{**r.to_dict(), "drawn": by_id[r.theorem.id][1]} for r in results]}, indent=1)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
