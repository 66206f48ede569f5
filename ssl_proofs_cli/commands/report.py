"""``ssl-proofs report``: one document per run (HTML, Markdown, LaTeX/PDF); ``--update-docs`` for docs/."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from ssl_proofs.errors import InvalidArgument
from ssl_proofs_verifiers import runner
from ssl_proofs_verifiers.experiments import Cache, default_cache_dir, get_experiment, line_progress

from .. import report as _report
from ..io import OutputDir, output_path
from ..progress import Live
from .claims import run_claims
from ..report.drawing import require_optional
from ..report.run import REPO_ROOT

NAME = "report"
HELP = "derivation and verification report (HTML, Markdown, LaTeX) of a run; --update-docs regenerates docs/"


def add_arguments(r):
    r.add_argument("target", nargs="?", default="all", help="'all', a method name or a theorem id")
    r.add_argument("--out", metavar="DIR", help="directory for report.html / report.md / report.tex (+ img/, PDF)")
    r.add_argument("--format", default="html,md,tex",
                   help="comma-separated subset of html,md,tex,pdf (default html,md,tex, plus report.pdf when a TeX "
                        "engine - pdflatex, lualatex, xelatex or tectonic - is on PATH; pdf without one is refused)")
    r.add_argument("--examples", type=int, default=None, help="hypothesis examples per theorem")
    r.add_argument("--seed", type=int, default=0, help="random seed (hypothesis and GD starts)")
    r.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="where gradient descent runs")
    r.add_argument("--starts", type=int, default=3, help="random starts per gradient-descent cross-check")
    r.add_argument("--from-json", metavar="RUN.json", help="build the report from a recorded `verify --json` run")
    r.add_argument("--json", metavar="PATH", help="also write the run (with its environment) to PATH")
    r.add_argument("--claims-json", metavar="PATH",
                   help="add the Claims section from a recorded `claims --json` run (default with --from-json: "
                        f"{_report.DEFAULT_CLAIMS.as_posix()} when it exists)")
    r.add_argument("--claims-figures", metavar="DIR",
                   help="the experiments' figures (DIR/<experiment>.png) for --claims-json "
                        f"(default: {_report.CLAIM_FIGURES}/ next to the claims JSON)")
    r.add_argument("--claims", action="store_true",
                   help="run the claims' experiments now (cached, seed --seed) and add the Claims section")
    r.add_argument("--no-claims", action="store_true", help="no Claims section")
    r.add_argument("--no-pdf", action="store_true", help="do not compile report.tex to a PDF by default")
    r.add_argument("--update-docs", nargs="?", const="", metavar="RUN.json",
                   help="regenerate the generated blocks of docs/*.md and README.md from a recorded run "
                        f"(default {_report.GENERATED_RUN.as_posix()}) and exit")
    r.add_argument("--check-docs", action="store_true", help="with --update-docs: write nothing, exit 1 if stale")
    r.add_argument("--record-docs", action="store_true",
                   help=f"run the theorems, store the run as {_report.GENERATED_RUN.as_posix()} and regenerate "
                        "docs/ from it (one command; --out also writes the report)")


class _Progress(Live):
    """The verify progress line plus, off a terminal, the estimated time left."""

    def __init__(self, total):
        super().__init__(total)
        self.t0 = time.perf_counter()

    def done(self, res):
        if self.bar:
            return super().done(res)
        self.i += 1
        elapsed = time.perf_counter() - self.t0
        left = elapsed / self.i * (self.total - self.i)
        print(f"[{self.i}/{self.total}] {res.theorem.id}: {res.verdict} ({res.examples} examples, "
              f"{res.seconds:.1f}s; ~{left:.0f}s left)", file=sys.stderr, flush=True)


def _note(message):
    print(f"report: {message}", file=sys.stderr, flush=True)


def _docs(args):
    changed = _report.update_docs(args.update_docs or None, check=args.check_docs)
    if args.check_docs:
        if changed:
            print("stale generated docs (regenerate with `python -m ssl_proofs_cli report --update-docs`):\n  "
                  + "\n  ".join(changed))
            return 1
        print("generated docs are up to date")
        return 0
    print("updated: " + (", ".join(changed) if changed else "nothing (already up to date)"))
    return 0


def _live_claims(seed):
    """Run the claims (cached) and plot each experiment; return ``(claims run, {experiment: PNG bytes})``."""
    cache = Cache(default_cache_dir(), save=OutputDir(default_cache_dir(), "cache").save_text)
    records, results = run_claims(seed, False, cache, line_progress)
    figures = {name: get_experiment(name).plot(res) for name, res in results.items()
               if get_experiment(name).plot is not None}
    return {"seed": seed, "full": False, "claims": records}, figures


def _claims(args):
    """``(claims run or None, figures or None, source)`` as the options ask; the file is read before any work."""
    picked = [o for o, on in (("--claims", args.claims), ("--claims-json", args.claims_json),
                              ("--no-claims", args.no_claims)) if on]
    if len(picked) > 1:
        raise InvalidArgument(f"{' and '.join(picked)} exclude each other: pick one source for the Claims section.")
    if args.claims_figures and not args.claims_json and not args.from_json:
        raise InvalidArgument("--claims-figures goes with a recorded claims run (--claims-json or --from-json).")
    path, shown = Path(args.claims_json or ""), args.claims_json
    if not args.claims_json:
        path, shown = REPO_ROOT / _report.DEFAULT_CLAIMS, _report.DEFAULT_CLAIMS.as_posix()
        if not (args.from_json and not args.no_claims and not args.claims and path.exists()):
            return None, None, ""
    claims = _report.load_claims(path)
    figures_dir = Path(args.claims_figures) if args.claims_figures else path.parent / _report.CLAIM_FIGURES
    return claims, _report.claim_figures(claims, figures_dir), shown


def run(args):
    if args.update_docs is not None:
        return _docs(args)
    if args.record_docs and args.from_json:
        raise InvalidArgument("--record-docs runs the theorems itself; to regenerate docs/ from a recorded run "
                              "use --update-docs RUN.json.")
    if args.from_json and (args.examples is not None or args.json):
        raise InvalidArgument("--from-json reports a recorded run as it is: --examples and --json apply to a fresh "
                              "run only; drop them, or drop --from-json to re-run.")
    if args.record_docs and args.target != "all":
        raise InvalidArgument("--record-docs records every theorem (target 'all'): docs/ cover all methods.")
    if not args.out and not args.record_docs:
        raise InvalidArgument("report needs --out DIR (where report.html, report.md, report.tex go).")
    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    bad = [f for f in formats if f not in _report.FORMATS]
    if bad or not formats:
        raise InvalidArgument(f"--format {args.format!r}: use a comma-separated subset of {','.join(_report.FORMATS)}.")
    require_optional()
    if "pdf" in formats:
        if args.no_pdf:
            raise InvalidArgument("--format pdf and --no-pdf contradict each other; drop one.")
        _report.require_tex_engine()
    inputs = (("--from-json", args.from_json), ("--claims-json", args.claims_json))
    folder = None if not args.out else OutputDir(args.out, "--out", inputs=inputs)  # before the work
    if folder is not None:
        folder.check([f"report.{fmt}" for fmt in formats])
    json_out = None if not args.json else output_path(args.json, "--json", suffixes=(".json",), add_suffix=".json",
                                                      inputs=inputs)
    # every input file is read and checked before anything is written or run
    claims, claim_figures, claims_source = _claims(args)
    run_data = _report.load_run(args.from_json) if args.from_json else None
    if run_data is not None:
        source = args.from_json
    else:
        theorems = runner.resolve_theorems(args.target)
        live = _Progress(len(theorems))
        run_data = _report.record_run(args.target, examples=args.examples, seed=args.seed, device=args.device,
                                      starts=args.starts, progress=live)
        live.close()
        source = "this run"
    if json_out is not None:
        _report.write_run(run_data, json_out)
    ok = all(r["verdict"] == r["expected"] for r in run_data["results"])
    if args.record_docs:
        path = REPO_ROOT / _report.GENERATED_RUN
        _report.write_run(run_data, path)
        changed = _report.update_docs(path)
        print(f"recorded {path}; updated: " + (", ".join(changed) if changed else "nothing"))
        if not args.out:
            return 0 if ok else 1
    if args.claims:
        _note("running the claims' experiments (cached)")
        claims, claim_figures = _live_claims(args.seed)
        claims_source = "this run"
    rep = _report.build_report(run_data, args.target, source=source, progress=_note, claims=claims,
                               claim_figures=claim_figures, claims_source=claims_source)
    for path in _report.write_report(rep, folder, formats, pdf=not args.no_pdf):
        print(path)
    return 0 if ok else 1
