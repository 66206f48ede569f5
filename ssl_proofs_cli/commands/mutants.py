"""``ssl-proofs mutants``: the mutation campaign (wrong closed forms must be refuted, correct ones must not)."""
from __future__ import annotations

import sys

from ssl_proofs_verifiers import mutants as _mutants

from ..io import output_path, save_json

NAME = "mutants"
HELP = "mutation campaign: kill rate on planted wrong closed forms, false refutations of correct ones"


def add_arguments(p):
    p.add_argument("names", nargs="*", help="mutants to run (default: the whole catalogue)")
    p.add_argument("--quick", action="store_true", help="a subset covering every method (about a minute)")
    p.add_argument("--examples", type=int, default=None,
                   help=f"hypothesis examples per mutant (default {_mutants.QUICK_EXAMPLES} with --quick, else the runner's)")
    p.add_argument("--seed", type=int, default=0, help="random seed (hypothesis and GD starts)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="cpu", help="where gradient descent runs")
    p.add_argument("--starts", type=int, default=3, help="random starts per gradient-descent cross-check")
    p.add_argument("--json", metavar="PATH", help="write one record per mutant to PATH")


class _Progress:
    """``[i/n] name: examples`` rewritten in place on a terminal; one line per mutant otherwise."""

    def __init__(self, total):
        self.total, self.i, self.tty, self.name = total, 0, sys.stderr.isatty(), ""

    def start(self, mutant):
        self.i += 1
        self.name = mutant.name
        self._show("")

    def tick(self, theorem, n):
        self._show(f"{n} examples")

    def done(self, res):
        line = f"[{self.i}/{self.total}] {res.mutant.name}: {res.verdict} ({res.examples} examples, {res.seconds:.1f}s)"
        if self.tty:
            sys.stderr.write("\r\033[K")
        print(line, file=sys.stderr, flush=True)

    def _show(self, what):
        if self.tty:
            sys.stderr.write(f"\r\033[K[{self.i}/{self.total}] {self.name} {what}")
            sys.stderr.flush()


def _fmt_margin(r):
    return "-" if r.margin is None else f"{r.margin:.3g}"


def format_report(results):
    """The per-mutant table and the campaign's targets."""
    rows = [("mutant", "wrong", "verdict", "nodes", "margin", "loss margin", "ok", "attacks")]
    for r in results:
        rows.append((r.mutant.name, "yes" if r.mutant.wrong else "no", r.verdict,
                     "-" if r.nodes is None else str(r.nodes), _fmt_margin(r),
                     "-" if r.loss_margin is None else f"{r.loss_margin:.3g}", "ok" if r.ok else "MISS",
                     r.mutant.attacks))
    widths = [max(len(row[i]) for row in rows) for i in range(7)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row[:7], widths)) + "  " + row[7] for row in rows]
    s = _mutants.summarise(results)
    lines += [
        "",
        f"kill rate: {s['killed']}/{s['wrong']} wrong mutants refuted ({100 * s['kill_rate']:.0f}%)"
        + (f"; survivors: {', '.join(s['survivors'])}" if s["survivors"] else ""),
        f"largest counterexample: {s['max_nodes']} nodes (target <= {_mutants.MAX_NODES})"
        + (f"; too large: {', '.join(s['too_large'])}" if s["too_large"] else ""),
        f"smallest margin (worst failing error / tol): {s['min_margin']:.3g}" if s["min_margin"] is not None
        else "smallest margin: -",
        "margin = worst failing error / tol of the shrunk counterexample (the error itself for exact checks); "
        "loss margin = the same over competitors with strictly lower loss only",
        f"refuted without a lower-loss competitor: {', '.join(s['without_loss_competitor']) or 'none'}",
        f"false refutations: {len(s['false_refutations'])}/{s['correct']} correct solvers"
        + (f" ({', '.join(s['false_refutations'])})" if s["false_refutations"] else ""),
    ]
    if s["errors"]:
        lines.append(f"checker errors / inconclusive: {', '.join(s['errors'])}")
    return "\n".join(lines)


def run(args):
    out = None if args.json is None else output_path(args.json, "--json", suffixes=(".json",), add_suffix=".json")
    chosen = _mutants.select(args.names or None, quick=args.quick)
    live = _Progress(len(chosen))
    examples = args.examples if args.examples is not None else (_mutants.QUICK_EXAMPLES if args.quick else None)
    results = _mutants.run_campaign(chosen, examples=examples, seed=args.seed, device=args.device,
                                    starts=args.starts, on_start=live.start, on_done=live.done, progress=live.tick)
    if out:  # before the printing: a reader that goes away must not lose the file
        save_json(out, [r.to_dict() for r in results], default=None)
    print(format_report(results))
    return 0 if all(r.ok for r in results) else 1
