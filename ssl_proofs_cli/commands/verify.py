"""``ssl-proofs verify``: attack theorems and print a verdict table."""
from __future__ import annotations

from verifiers import runner

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


def run(args):
    out = None if args.json is None else output_path(args.json, "--json", suffixes=(".json",), add_suffix=".json")
    theorems = runner.resolve_theorems(args.target)
    live = Live(len(theorems))
    results = []
    ctx_kwargs = dict(examples=args.examples, seed=args.seed, device=args.device, starts=args.starts)
    for t in theorems:
        live.start(t)
        res = runner.verify(t, progress=live.tick, **ctx_kwargs)[0]
        live.done(res)
        results.append(res)
    live.close()
    print(format_results(results))
    if out:
        save_json(out, {"seed": args.seed, "examples": args.examples or runner.DEFAULT_EXAMPLES,
                        "results": [r.to_dict() for r in results]})
    return 0 if all(r.matches for r in results) else 1
