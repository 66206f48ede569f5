"""``ssl-proofs identify MODULE:NAME``: is your loss a spectral embedding method, and what is its optimum?

MODULE is an importable module or a path to a ``.py`` file; NAME a function, a ``torch.nn.Module``
class (instantiated with no arguments) or instance, as a (dotted) attribute of MODULE.  The answer
(docs/identify.md) is printed; ``--json`` writes the record, ``--out`` the returned Z, ``--report``
a Markdown derivation and the record.  Every output path is checked before the work and written
atomically; bad input (a module that does not import, a loss that raises or returns no
differentiable scalar) exits 2 and writes nothing.
"""
from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from pathlib import Path

import ssl_proofs
from ssl_proofs.errors import InvalidArgument
from ssl_proofs.graphfiles import read_graph

from ..io import OutputDir, output_path, save_array, save_json
from ..progress import Stages
from ..report.escape import md_code, md_text, tex_text

NAME = "identify"
HELP = "recognise your own loss: spectral form, closed-form optimum and verdict, or why there is none"


def add_arguments(s):
    s.add_argument("loss", metavar="MODULE:NAME",
                   help="the loss: MODULE an importable module or a .py file, NAME a function or torch.nn.Module")
    s.add_argument("--form", choices=["views", "graph"], default="views",
                   help="views: loss(z1, z2) lifted by the pair listing of G (default); graph: loss(Z, G)")
    s.add_argument("--graph", required=True, help="graph file: .npz (scipy sparse), .mtx, .npy or edge list")
    s.add_argument("-k", type=int, required=True, help="embedding dimension K")
    s.add_argument("--seed", type=int, default=0, help="seed of the random probes and of the search")
    s.add_argument("--json", default=None, metavar="PATH", help="write the identification record to PATH")
    s.add_argument("--out", default=None, metavar="Z.npy", help="save the returned Z (closed form or searched)")
    s.add_argument("--report", default=None, metavar="DIR",
                   help="write DIR/identify.md (derivation, tests, verdict) and DIR/identify.json")


def load_loss(spec):
    """The object named by ``MODULE:NAME`` (raises :class:`InvalidArgument` saying what failed)."""
    if ":" not in spec:
        raise InvalidArgument(f"{spec!r}: give the loss as MODULE:NAME, e.g. mylosses.py:my_loss or "
                              "pytorch_metric_learning.losses:VICRegLoss.")
    module_name, name = spec.rsplit(":", 1)
    if not module_name or not name:
        raise InvalidArgument(f"{spec!r}: both MODULE and NAME are needed (MODULE:NAME).")
    module = _import(module_name)
    obj = module
    for part in name.split("."):
        if not hasattr(obj, part):
            public = sorted(x for x in dir(module) if not x.startswith("_") and callable(getattr(module, x)))
            raise InvalidArgument(f"{module_name} has no attribute {name!r}; its callables are: "
                                  f"{', '.join(public[:20]) or '(none)'}.")
        obj = getattr(obj, part)
    return obj


def _import(module_name):
    path = Path(module_name)
    try:
        if module_name.endswith(".py") or path.exists():
            if not path.is_file():
                raise InvalidArgument(f"{module_name}: no such file; give a .py file or an importable module.")
            spec = importlib.util.spec_from_file_location(f"ssl_proofs_user_{path.stem}", path)
            if spec is None or spec.loader is None:
                raise InvalidArgument(f"{module_name}: not a Python source file.")
            module = importlib.util.module_from_spec(spec)
            sys.path.insert(0, str(path.resolve().parent))  # the file's own imports of its neighbours
            try:
                spec.loader.exec_module(module)
            finally:
                sys.path.remove(str(path.resolve().parent))
            return module
        return importlib.import_module(module_name)
    except InvalidArgument:
        raise
    except Exception as exc:  # user code runs on import: any failure is bad input
        raise InvalidArgument(f"cannot import {module_name}: {type(exc).__name__}: {exc}") from None


def render_markdown(result, spec, graph, k):
    """The answer as a Markdown page: verdict, derivation steps with their evidence, tests (every string
    escaped: the loss and graph names are the user's)."""
    verdict = {True: "spectral", False: "not identified as spectral", "degenerate": "degenerate"}[result.spectral]
    lines = [f"# identify {md_code(spec)}", "", f"graph {md_code(str(graph))}, K = {int(k)}", "",
             f"**Verdict: {md_text(verdict)}**" + (f" ({md_text(result.form)})" if result.form else ""), ""]
    lines += [f"* {md_text(label)}: {md_text(text)}" for label, text in _facts(result)]
    if result.derivation:
        lines += ["", "## Derivation", "", "| step | rule | evidence |", "|---|---|---|"]
        lines += [f"| {md_text(st)} | {md_text(rule)} | {md_text(ev)} |" for st, rule, ev in result.derivation]
    lines += ["", "## Tests", "", "| test | residual | tolerance | passed | what |", "|---|---|---|---|---|"]
    lines += [f"| {md_text(t.name)} | {t.residual:.2e} | {t.tol:.0e} | {'yes' if t.passed else 'NO'} | "
              f"{md_text(t.detail)} |" for t in result.tests]
    if result.evidence:
        lines += ["", "## Evidence", ""] + [f"* {md_text(e)}" for e in result.evidence]
    return "\n".join(lines) + "\n"


def _facts(result):
    """(label, text) lines of an answer, in the order both renderers print them."""
    facts = [("lifting", result.lifting)]
    facts += [(name, value) for name, value in (("operator", result.operator), ("metric", result.metric),
                                                ("reason", result.reason)) if value]
    if result.same_as:
        sa = result.same_as
        facts.append(("same as", f"{sa['method']} ({sa['variant']}), hyper {sa['hyper']}, scale {sa['scale']:.6g}, "
                                 f"offset {sa['offset']:.6g}; on {sa['graphs']}"))
    if result.loss is not None:
        facts.append(("loss of the returned Z", f"{result.loss:.10g}, certificate {result.certificate}"))
    return facts


def render_tex(result, spec, graph, k):
    """The answer as a LaTeX document (every string escaped: the loss and graph names are the user's)."""
    verdict = {True: "spectral", False: "not identified as spectral", "degenerate": "degenerate"}[result.spectral]
    out = [r"\documentclass[10pt]{article}", r"\usepackage[margin=2cm]{geometry}", r"\usepackage{longtable}",
           r"\begin{document}", rf"\section*{{identify \texttt{{{tex_text(spec)}}}}}",
           rf"graph \texttt{{{tex_text(str(graph))}}}, $K = {int(k)}$.\par",
           rf"\textbf{{Verdict: {tex_text(verdict)}}}" + (f" ({tex_text(result.form)})" if result.form else "") + r"\par",
           r"\begin{itemize}"]
    out += [rf"\item {tex_text(label)}: {tex_text(text)}" for label, text in _facts(result)]
    out.append(r"\end{itemize}")
    if result.derivation:
        out += [r"\subsection*{Derivation}", r"\begin{longtable}{p{0.4\linewidth}p{0.3\linewidth}p{0.2\linewidth}}",
                r"step & rule & evidence \\ \hline"]
        out += [rf"{tex_text(st)} & {tex_text(rule)} & {tex_text(ev)} \\" for st, rule, ev in result.derivation]
        out.append(r"\end{longtable}")
    out += [r"\subsection*{Tests}", r"\begin{longtable}{p{0.16\linewidth}rrlp{0.4\linewidth}}",
            r"test & residual & tolerance & passed & what \\ \hline"]
    out += [rf"{tex_text(t.name)} & {t.residual:.2e} & {t.tol:.0e} & {'yes' if t.passed else 'NO'} & "
            rf"{tex_text(t.detail)} \\" for t in result.tests]
    out += [r"\end{longtable}", r"\end{document}", ""]
    return "\n".join(out)


def run(args):
    # every output is checked before the work; none may be an input (the graph, a loss given as a file)
    loss_file = args.loss.rpartition(":")[0]
    inputs = (("--graph", args.graph),) + ((("LOSS", loss_file),) if loss_file.endswith(".py") else ())
    json_out = None if args.json is None else output_path(args.json, "--json", suffixes=(".json",), add_suffix=".json",
                                                          inputs=inputs)
    out = None if args.out is None else output_path(args.out, "--out", suffixes=(".npy",), add_suffix=".npy",
                                                    inputs=inputs)
    report_dir = None
    if args.report is not None:
        report_dir = OutputDir(args.report, "--report", inputs=inputs)
        report_dir.check(["identify.md", "identify.tex", "identify.json"])
    loss = load_loss(args.loss)
    G = read_graph(args.graph)
    stages = Stages("identify")
    try:
        result = ssl_proofs.identify(loss, form=args.form, graph=G, k=args.k, seed=args.seed, progress=stages)
    finally:
        stages.close()
    print(result.summary())
    record = {"loss": args.loss, "graph": str(args.graph), "k": args.k, "form_argument": args.form,
              **result.as_dict()}
    if out is not None:
        if result.Z is None:
            print("no Z to save (nothing was returned)", file=sys.stderr)
        else:
            save_array(out, result.Z)
            print(f"saved Z {result.Z.shape} to {out}")
    if json_out is not None:
        save_json(json_out, record)
        print(f"saved {json_out}")
    if report_dir is not None:
        md_path = report_dir.save_text("identify.md", render_markdown(result, args.loss, args.graph, args.k))
        tex_path = report_dir.save_text("identify.tex", render_tex(result, args.loss, args.graph, args.k))
        json_path = report_dir.save_text("identify.json", json.dumps(record, indent=2, default=float) + "\n")
        print(f"saved {md_path}, {tex_path} and {json_path}")
    return 0
