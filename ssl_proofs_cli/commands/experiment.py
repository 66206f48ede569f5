"""``ssl-proofs experiment NAME``: run one experiment, print its verdicts, optionally plot and save JSON."""
from __future__ import annotations

import contextlib
import json
import sys

from ssl_proofs.errors import InvalidArgument
from ssl_proofs_verifiers import parallel
from ssl_proofs_verifiers.experiments import Cache, default_cache_dir, get_experiment, line_progress, list_experiments
from ssl_proofs_verifiers.experiments.cluster import dask_runner, pool_runner

from ..io import output_path, write_atomic

NAME = "experiment"
HELP = "run one claim experiment (" + ", ".join(list_experiments()) + ")"


def add_arguments(p):
    p.add_argument("name", help="experiment name: " + ", ".join(list_experiments()))
    p.add_argument("--plot", metavar="PNG", help="save the experiment's figure")
    p.add_argument("--json", metavar="PATH", help="save params, verdicts and every measured cell")
    add_run_arguments(p)


def add_run_arguments(p):
    """Options shared with ``claims``: seed, budget, cache, and where the cells run (as ``verify``'s)."""
    p.add_argument("--seed", type=int, default=0, help="first seed of every experiment (same seed => same JSON)")
    p.add_argument("--full", action="store_true", help="heavier sweeps (more seeds, values, datasets)")
    p.add_argument("--cache", default=None, help="cache directory (default $SSL_PROOFS_CACHE or .ssl_proofs_cache)")
    p.add_argument("--no-cache", action="store_true", help="recompute every cell")
    p.add_argument("--workers", type=int, default=None,
                   help="compute the cells in N local processes, or on a --dask LocalCluster of N workers "
                        "(default: 1 process; with --dask, one worker per core); same JSON either way")
    p.add_argument("--dask", action="store_true",
                   help="compute the cells on Dask distributed: a LocalCluster of --workers processes "
                        "(pip install 'ssl-proofs[dask]')")
    p.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="address of a running Dask scheduler (tcp://host:8786) whose workers compute the cells "
                        "(implies --dask; its workers must import ssl-proofs)")


@contextlib.contextmanager
def cell_cache(args):
    """The cache the options ask for, with its runner (serial, local processes or Dask); checked first."""
    if args.seed < 0:
        raise InvalidArgument(f"--seed {args.seed}: seeds are integers >= 0.")
    if args.workers is not None and args.workers < 1:
        raise InvalidArgument(f"--workers {args.workers}: give a number of processes >= 1.")
    directory = None if args.no_cache else (args.cache or default_cache_dir())
    if args.dask or args.scheduler:
        workers = parallel.default_workers() if args.workers is None else args.workers
        with parallel.dask_client(workers, args.scheduler) as client:
            yield Cache(directory, runner=dask_runner(client))
    elif args.workers is not None and args.workers > 1:
        yield Cache(directory, runner=pool_runner(args.workers))
    else:
        yield Cache(directory)


def write_json(path, obj):
    """``obj`` as sorted, indented JSON, through the project's atomic writer (same object => same bytes)."""
    def write(tmp):
        with open(tmp, "w") as fh:
            json.dump(obj, fh, indent=2, sort_keys=True)
    return write_atomic(path, write)


def check_outputs(args, *flags):
    """Check the output paths the options name before any cell is computed."""
    for flag in flags:
        path = getattr(args, flag, None)
        if path:
            output_path(path, "--" + flag, suffixes=(".json",) if flag == "json" else (".png",))


def run(args):
    exp = get_experiment(args.name)
    check_outputs(args, "json", "plot")
    with cell_cache(args) as cache:
        res = exp.run(seed=args.seed, full=args.full, cache=cache, progress=line_progress(exp.name))
    for v in res.verdicts:
        print(f"{v.claim}: {v.verdict}" + (f" -- {v.conditions}" if v.conditions else ""))
    print(f"(cache: {cache.hits} cells read, {cache.misses} computed)", file=sys.stderr)
    if args.plot:
        print(f"saved {exp.plot(res, args.plot)}")
    if args.json:
        write_json(args.json, res.to_dict())
    return 0
