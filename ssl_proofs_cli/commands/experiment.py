"""``ssl-proofs experiment NAME``: run one experiment, print its verdicts, optionally plot and save JSON."""
from __future__ import annotations

import json
import sys

from verifiers.experiments import Cache, default_cache_dir, get_experiment, line_progress, list_experiments

NAME = "experiment"
HELP = "run one claim experiment (" + ", ".join(list_experiments()) + ")"


def add_arguments(p):
    p.add_argument("name", help="experiment name: " + ", ".join(list_experiments()))
    p.add_argument("--plot", metavar="PNG", help="save the experiment's figure")
    p.add_argument("--json", metavar="PATH", help="save params, verdicts and every measured cell")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--full", action="store_true", help="heavier sweeps (more seeds, values, datasets)")
    p.add_argument("--cache", default=None, help="cache directory (default $SSL_PROOFS_CACHE or .ssl_proofs_cache)")
    p.add_argument("--no-cache", action="store_true", help="recompute every cell")


def run(args):
    exp = get_experiment(args.name)
    cache = Cache(None if args.no_cache else (args.cache or default_cache_dir()))
    res = exp.run(seed=args.seed, full=args.full, cache=cache, progress=line_progress(exp.name))
    for v in res.verdicts:
        print(f"{v.claim}: {v.verdict}" + (f" -- {v.conditions}" if v.conditions else ""))
    print(f"(cache: {cache.hits} cells read, {cache.misses} computed)", file=sys.stderr)
    if args.plot:
        print(f"saved {exp.plot(res, args.plot)}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res.to_dict(), fh, indent=2, sort_keys=True)
    return 0
