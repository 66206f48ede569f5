"""``ssl-proofs verify``: attack theorems and print a verdict table."""
from __future__ import annotations

from ssl_proofs_verifiers import parallel, runner

from ..io import output_path, save_json
from ..progress import Live
from ..table import format_results

NAME = "verify"
HELP = "attack theorems and print a verdict table (default: all)"


def add_arguments(v):
    v.add_argument("target", nargs="?", default="all", help="'all', a method name or a theorem id")
    v.add_argument("--examples", type=int, default=None, help="hypothesis examples per theorem")
    v.add_argument("--seed", type=int, default=0, help="random seed (hypothesis and GD starts)")
    v.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                   help="where gradient descent runs (auto: GPU when present)")
    v.add_argument("--starts", type=int, default=3, help="random starts per gradient-descent cross-check")
    v.add_argument("--json", metavar="PATH", help="also write machine-readable results to PATH")
    v.add_argument("--workers", type=int, default=None,
                   help="worker processes, theorems in parallel (default: the number of cores; 1 = serial); "
                        "the results do not depend on it")
    v.add_argument("--force-workers", action="store_true",
                   help="accept more --workers than this machine can run (default cap: 2 per core, 0.5 GiB each; "
                        "also $SSL_PROOFS_FORCE_WORKERS=1)")
    v.add_argument("--dask", action="store_true",
                   help="run on Dask distributed: a LocalCluster of --workers processes (pip install 'ssl-proofs[dask]')")
    v.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="address of a running Dask scheduler (tcp://host:8786) to run on (implies --dask)")


def run(args):
    out = None if args.json is None else output_path(args.json, "--json", suffixes=(".json",), add_suffix=".json")
    theorems = runner.resolve_theorems(args.target)
    workers = parallel.default_workers() if args.workers is None else args.workers
    device = args.device
    if device == "auto" and (workers > 1 or args.dask or args.scheduler):
        device = "cpu"  # several processes share the cores; the GPU path is one process (--device cuda --workers 1)
    live = Live(len(theorems), workers=workers if not (args.dask or args.scheduler) else None)
    results = parallel.run_theorems(theorems, examples=args.examples, seed=args.seed, device=device,
                                    starts=args.starts, workers=workers, dask=args.dask, scheduler=args.scheduler,
                                    done=live.done, progress=live.tick, force_workers=args.force_workers)
    live.close()
    print(format_results(results, requested=args.examples or runner.DEFAULT_EXAMPLES))
    if out:
        save_json(out, {"seed": args.seed, "examples": args.examples or runner.DEFAULT_EXAMPLES,
                        "results": [r.to_dict() for r in results]})
    return 0 if all(r.matches for r in results) else 1
