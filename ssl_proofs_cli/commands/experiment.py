"""``ssl-proofs experiment NAME``: run one experiment, print its verdicts, optionally plot and save JSON."""
from __future__ import annotations

import contextlib
import sys

from ssl_proofs.errors import InvalidArgument
from ssl_proofs_verifiers import parallel
from ssl_proofs_verifiers.experiments import Cache, default_cache_dir, get_experiment, line_progress, list_experiments
from ssl_proofs_verifiers.experiments.cluster import dask_runner, pool_runner

from ..io import IMAGE_SUFFIXES, OutputDir, output_path, save_bytes, save_json

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
    p.add_argument("--force-workers", action="store_true",
                   help="accept more --workers than this machine can run (default cap: 2 per core, 0.5 GiB each; "
                        "also $SSL_PROOFS_FORCE_WORKERS=1)")
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
    if args.workers is not None and not args.scheduler:  # a remote scheduler's workers are its own
        parallel.check_workers(args.workers, args.force_workers)
    directory = None if args.no_cache else (args.cache or default_cache_dir())
    save = None if directory is None else OutputDir(directory, "--cache").save_text
    if args.dask or args.scheduler:
        workers = parallel.default_workers() if args.workers is None else args.workers
        with parallel.dask_client(workers, args.scheduler, args.force_workers) as client:
            yield Cache(directory, runner=dask_runner(client), save=save)
    elif args.workers is not None and args.workers > 1:
        yield Cache(directory, runner=pool_runner(args.workers), save=save)
    else:
        yield Cache(directory, save=save)


def json_output(args):
    """``--json``'s path, checked before the work (None when not asked)."""
    return None if args.json is None else output_path(args.json, "--json", suffixes=(".json",), add_suffix=".json")


def run(args):
    exp = get_experiment(args.name)
    plot_out = None if args.plot is None else output_path(args.plot, "--plot", suffixes=IMAGE_SUFFIXES)
    if plot_out is not None and exp.plot is None:
        raise InvalidArgument(f"experiment {exp.name} has no figure: drop --plot.")
    json_out = json_output(args)
    if plot_out is not None and json_out is not None and plot_out.resolve() == json_out.resolve():
        raise InvalidArgument(f"--plot and --json name the same file {plot_out}: give two paths.")
    with cell_cache(args) as cache:
        res = exp.run(seed=args.seed, full=args.full, cache=cache, progress=line_progress(exp.name))
    for v in res.verdicts:
        print(f"{v.claim}: {v.verdict}" + (f" -- {v.conditions}" if v.conditions else ""))
    print(f"(cache: {cache.hits} cells read, {cache.misses} computed)", file=sys.stderr)
    if plot_out:
        save_bytes(plot_out, exp.plot(res, plot_out.suffix[1:].lower()))
    if json_out:
        save_json(json_out, res.to_dict(), sort_keys=True, default=None)
    for path in (plot_out, json_out):
        if path:
            print(f"saved {path}")
    return 0
