"""The ``ssl-proofs`` command line: the one place where the theory (``ssl_proofs``)
and what attacks it (``verifiers``) meet.

Commands: ``verify`` (default: ``all``), ``derive``, ``solve``, ``plot``, ``list``.
Exit codes: 0 success / every verdict as recorded; 1 a verdict differs from
the record (a regression); 2 bad input (message, no traceback).
"""
from __future__ import annotations

import argparse
import json
import sys
import textwrap

import numpy as np

import ssl_proofs
from ssl_proofs.errors import SSLProofsError

from .table import format_results


def _parser():
    p = argparse.ArgumentParser(
        prog="ssl-proofs",
        description="Check the spectral-embedding theory of SSL (Balestriero & LeCun, NeurIPS 2022).",
    )
    sub = p.add_subparsers(dest="command")

    v = sub.add_parser("verify", help="attack theorems and print a verdict table (default: all)")
    v.add_argument("target", nargs="?", default="all", help="'all', a method name or a theorem id")
    v.add_argument("--examples", type=int, default=None, help="hypothesis examples per theorem")
    v.add_argument("--seed", type=int, default=0, help="random seed (hypothesis and GD starts)")
    v.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                   help="where gradient descent runs (auto: GPU when present)")
    v.add_argument("--starts", type=int, default=3, help="random starts per gradient-descent cross-check")
    v.add_argument("--json", metavar="PATH", help="also write machine-readable results to PATH")

    d = sub.add_parser("derive", help="print a method's derivation, step by step, with evidence")
    d.add_argument("method")
    d.add_argument("--variant", default=None)
    d.add_argument("--format", choices=["md", "tex", "json", "text"], default="md")
    d.add_argument("--no-check", action="store_true", help="print the steps without checking them")

    s = sub.add_parser("solve", help="closed-form optimal representation for your own graph")
    s.add_argument("method")
    s.add_argument("--graph", required=True, help="graph file: .npz (scipy sparse), .mtx, .npy or edge list")
    s.add_argument("-k", type=int, required=True, help="embedding dimension K")
    s.add_argument("--variant", default=None, help="loss variant (default: the method's closed-form one)")
    s.add_argument("--out", required=True, help="where to save Z (.npy)")
    for name in ("alpha", "beta", "gamma", "tau"):
        s.add_argument(f"--{name}", type=float, default=None)
    s.add_argument("--data", default=None, help="inputs X (.npy) for the linear regime (--linear)")
    s.add_argument("--linear", action="store_true", help="solve for W in Z = XW (needs --data)")

    f = sub.add_parser("plot", help="figure: spectrum and per-direction variance vs gamma/alpha (vicreg)")
    f.add_argument("method")
    f.add_argument("--graph", required=True, help="graph file (as for solve)")
    f.add_argument("-k", type=int, required=True)
    f.add_argument("--out", required=True, help="image path (.png, .pdf, .svg)")

    sub.add_parser("list", help="list methods and theorem ids")
    return p


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["verify"] + argv
    args = _parser().parse_args(argv)
    try:
        return {"verify": _verify, "derive": _derive, "solve": _solve, "list": _list, "plot": _plot}[args.command](args)
    except SSLProofsError as exc:
        print(f"ssl-proofs: error: {exc}", file=sys.stderr)
        return 2


def _list(args):
    for name in ssl_proofs.list_methods():
        m = ssl_proofs.get_method(name)
        print(f"{name}: {m.title}  (variants: {', '.join(m.variants)}; closed forms: {', '.join(m.closed_form_variants) or 'none'})")
        for t in m.theorems():
            mark = "" if t.expected == "holds" else "  [expected: refuted]"
            print(f"  {t.id}: {t.statement}{mark}")
    return 0


def _verify(args):
    from verifiers import runner

    theorems = runner.resolve_theorems(args.target)
    live = _Live(len(theorems))
    results = []
    ctx_kwargs = dict(examples=args.examples, seed=args.seed, device=args.device, starts=args.starts)
    for t in theorems:
        live.start(t)
        res = runner.verify(t, progress=live.tick, **ctx_kwargs)[0]
        live.done(res)
        results.append(res)
    live.close()
    print(format_results(results))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"seed": args.seed, "examples": args.examples or runner.DEFAULT_EXAMPLES,
                       "results": [r.to_dict() for r in results]}, fh, indent=2, default=float)
    return 0 if all(r.matches for r in results) else 1


class _Live:
    """A live progress line on a terminal; one line per theorem otherwise."""

    def __init__(self, total):
        self.total, self.i, self.tty = total, 0, sys.stderr.isatty()
        self.bar = None
        if self.tty:
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=sys.stderr, unit="thm", leave=False)

    def start(self, theorem):
        self.i += 1
        if self.bar:
            self.bar.set_description(theorem.id)

    def tick(self, theorem, n):
        if self.bar:
            self.bar.set_postfix_str(f"{n} examples")

    def done(self, res):
        if self.bar:
            self.bar.update(1)
        else:
            print(f"[{self.i}/{self.total}] {res.theorem.id}: {res.verdict} ({res.examples} examples, "
                  f"{res.seconds:.1f}s)", file=sys.stderr, flush=True)

    def close(self):
        if self.bar:
            self.bar.close()


def _derive(args):
    method = ssl_proofs.get_method(args.method)
    d = method.derivation(args.variant)
    if not args.no_check:
        d = d.check()
    print(d.render(args.format))
    return 0


def _solve(args):
    from ssl_proofs.graphfiles import read_graph

    method = ssl_proofs.get_method(args.method)
    G = read_graph(args.graph)
    hp = {k: getattr(args, k) for k in ("alpha", "beta", "gamma", "tau")
          if getattr(args, k) is not None}
    if args.linear or args.data:
        if not (args.linear and args.data):
            raise ssl_proofs.InvalidArgument("the linear regime needs both --linear and --data X.npy.")
        if not hasattr(method, "solve_linear"):
            raise ssl_proofs.NoClosedForm(f"{method.name} has no linear-regime solver yet.")
        X = _load_array(args.data, "--data")
        sol = method.solve_linear(X, G, args.k, variant=args.variant, **hp)
        np.save(args.out, sol.W)
        print(f"saved W {sol.W.shape} to {args.out}; loss {sol.loss:.6g}")
        return 0
    sol = method.solve(G, args.k, variant=args.variant, **hp)
    np.save(args.out, sol.Z)
    ev = ", ".join(f"{x:.4g}" for x in sol.eigenvalues)
    print(f"saved Z {sol.Z.shape} to {args.out}; variant {sol.variant}; loss {sol.loss:.6g}; "
          f"rank {sol.rank}; eigenvalues used: {ev}")
    return 0


def _plot(args):
    from ssl_proofs.graphfiles import read_graph

    from .plots import plot_vicreg

    method = ssl_proofs.get_method(args.method)
    if method.name != "vicreg":
        raise ssl_proofs.InvalidArgument(f"plot supports vicreg only (got {method.name}).")
    print(f"saved {plot_vicreg(method, read_graph(args.graph), args.k, args.out)}")
    return 0


def _load_array(path, flag):
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ssl_proofs.InvalidArgument(f"{flag} {path}: cannot read a .npy array ({exc}).") from None
