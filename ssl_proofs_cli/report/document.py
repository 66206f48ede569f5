"""A report: one run's results joined with the theory, written as HTML, Markdown and LaTeX/PDF."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ssl_proofs.errors import InvalidArgument

from ..io import OutputDir, save_bytes, save_text
from . import cells, content, run as _run
from .drawing import draw_result, require_optional
from .html import render_html
from .latex import render_tex
from .markdown import render_md

#: output formats, in the order they are written
FORMATS = ("html", "md", "tex", "pdf")


@dataclass
class Report:
    """Everything a rendered report shows.

    Attributes
    ----------
    target : str               what was verified ("all", a method, a theorem id)
    run : dict                 the run (see :mod:`.run`)
    results : list of dict     the results the report covers
    sections : list of content.MethodSection
    conventions : (header, rows) or None   the loss-convention table of docs/conventions.md
    figures : dict             theorem id -> PNG bytes of its counterexample
    environment : dict         packages, commit, device, hypothesis settings
    environment_recorded : bool   False when the run did not record it (the report's own is shown)
    source : str               where the run comes from ("this run" or the JSON path)
    claims : list of content.ClaimSection   the downstream claims (empty: no claims run given)
    claims_run : dict or None  the claims run (seed, full) the claims come from
    claims_source : str        where the claims run comes from
    """

    target: str
    run: dict
    results: list
    sections: list
    conventions: Optional[tuple]
    figures: dict = field(default_factory=dict)
    environment: dict = field(default_factory=dict)
    environment_recorded: bool = True
    source: str = "this run"
    claims: list = field(default_factory=list)
    claims_run: Optional[dict] = None
    claims_source: str = ""

    @property
    def title(self):
        return f"ssl-proofs report: {self.target}"


def build_report(run, target="all", *, source="this run", progress=None, claims=None, claim_figures=None,
                 claims_source=""):
    """Join a run with the derivations, closed forms, conventions and counterexample pictures.

    Parameters
    ----------
    run : dict
        From :func:`.run.record_run` or :func:`.run.load_run`.
    target : str
        "all", a method name or a theorem id (a subset of the run).
    source : str
        Shown in the report: where the run comes from.
    progress : callable, optional
        ``progress(message)`` for the long steps.
    claims : dict, optional
        A claims run (:func:`.run.load_claims`): the report then has a Claims section after the methods.
    claim_figures : dict, optional
        Experiment name -> PNG bytes of its figure (see :func:`.content.claim_figures`); none by default.
    claims_source : str
        Shown in the report: where the claims run comes from.
    """
    require_optional()
    results = _run.select(run, target)
    sections = content.method_sections(results, seed=int(run["seed"]), progress=progress)
    figures = {r["id"]: draw_result(r) for r in results if cells.drawable(r)}
    env = run.get("environment")
    recorded = isinstance(env, dict)
    if not recorded:
        devices = ", ".join(sorted({r.get("device", "?") for r in results}))
        env = _run.environment(run.get("examples", 0), run["seed"], devices)
    claim_sections = []
    if claims is not None:
        claim_sections = content.claim_sections(claims, claim_figures or {})
    return Report(target, run, results, sections, content.conventions_table(), figures, env, recorded,
                  cells.shown_path(source, _run.REPO_ROOT), claim_sections, claims,
                  cells.shown_path(claims_source, _run.REPO_ROOT))


#: TeX engines that turn report.tex into a PDF, in the order they are tried
TEX_ENGINES = ("pdflatex", "lualatex", "xelatex", "tectonic")
#: how far a line may run past the margin before the PDF counts as cut off (TeX's own slack is 0.1pt)
OVERFULL_PT = 1.0


def tex_engine():
    """The first TeX engine on PATH (a path), or None."""
    return next((shutil.which(e) for e in TEX_ENGINES if shutil.which(e)), None)


def require_tex_engine():
    """The TeX engine's path, or the project's error saying what to install (``--format pdf`` without one)."""
    engine = tex_engine()
    if engine is None:
        raise InvalidArgument("--format pdf needs a TeX engine (one of " + ", ".join(TEX_ENGINES) + ") on PATH: "
                              "install TeX Live (Debian/Ubuntu: apt-get install texlive-latex-base "
                              "texlive-latex-recommended texlive-fonts-recommended; macOS: MacTeX) or tectonic; "
                              "or use --format html,md,tex (report.tex compiles elsewhere).")
    return engine


def write_report(report, out, formats=FORMATS, *, pdf=True, inputs=()):
    """Write ``report`` under ``out``: ``report.html``, ``report.md`` (+ ``img/``), ``report.tex``, ``report.pdf``.

    ``out`` is a folder path or an :class:`~ssl_proofs_cli.io.OutputDir` checked before the work; every
    file goes through its atomic writer (names are slugs inside the folder, no link followed, no file of
    ``inputs`` overwritten), and every name is checked before the first write. ``"pdf"`` in ``formats``
    requires a TeX engine (:func:`require_tex_engine`); with ``"tex"`` and ``pdf`` true the PDF is also
    made when an engine exists. The PDF is compiled in a temporary folder, so only report.pdf lands in ``out``.

    Returns
    -------
    list of Path
        The files written.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise InvalidArgument(f"unknown report format(s) {unknown}; use any of {FORMATS}.")
    want_pdf = "pdf" in formats or ("tex" in formats and pdf and tex_engine() is not None)
    engine = require_tex_engine() if "pdf" in formats else tex_engine()
    folder = out if isinstance(out, OutputDir) else OutputDir(out, "--out", inputs=inputs)
    pictures = {cells.figure_name({"id": tid}): png for tid, png in report.figures.items()}
    pictures.update({c.figure_name: c.figure for c in report.claims if c.figure is not None})
    if not {"md", "tex", "pdf"} & set(formats):
        pictures = {}
    texts = [fmt for fmt in ("html", "md", "tex") if fmt in formats]
    folder.check([f"img/{name}" for name in pictures] + [f"report.{fmt}" for fmt in texts]
                 + (["report.pdf"] if want_pdf else []))  # every name, before the first write
    written = [folder.save_bytes(f"img/{name}", png) for name, png in pictures.items()]
    renderers = {"html": render_html, "md": render_md, "tex": render_tex}
    written += [folder.save_text(f"report.{fmt}", renderers[fmt](report)) for fmt in texts]
    if want_pdf:
        pdf_bytes, overfull = compile_pdf(render_tex(report), pictures, engine)
        written.append(folder.save_bytes("report.pdf", pdf_bytes))
        if overfull:
            print(f"report: {len(overfull)} line(s) of report.pdf run past the margin by more than {OVERFULL_PT}pt "
                  f"(widest {max(overfull):.0f}pt)", file=sys.stderr)
    elif "tex" in formats and pdf:
        print("report: no TeX engine found: report.tex written, no PDF (install TeX Live to get one)",
              file=sys.stderr)
    return written


def overfull_boxes(log, margin=OVERFULL_PT):
    """How far (pt) each line of a TeX log's ``Overfull \\hbox (Xpt too wide)`` runs past the margin, beyond
    ``margin``."""
    return [float(x) for x in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log) if float(x) > margin]


def compile_pdf(tex, pictures, engine=None):
    """Compile the LaTeX source ``tex`` (pictures: ``{name: PNG bytes}`` under ``img/``) in a temporary folder.

    Runs twice (table of contents). Returns ``(PDF bytes, overfull)`` with ``overfull`` from
    :func:`overfull_boxes` of the last run's log.

    Raises
    ------
    InvalidArgument
        If the engine fails (the log's last lines are in the message).
    """
    engine = engine or require_tex_engine()
    with tempfile.TemporaryDirectory(prefix="ssl-proofs-tex-") as tmp:
        folder = Path(tmp)
        (folder / "img").mkdir()
        for name, png in pictures.items():  # a scratch copy for the engine, not an output
            save_bytes(folder / "img" / name, png)
        save_text(folder / "report.tex", tex)
        tectonic = Path(engine).name == "tectonic"
        cmd = [engine, "--keep-logs", "report.tex"] if tectonic else [
            engine, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "report.tex"]
        for _ in range(1 if tectonic else 2):
            proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=300)
            if proc.returncode != 0:
                tail = "\n".join(proc.stdout.splitlines()[-15:])
                raise InvalidArgument(f"{Path(engine).name} failed on report.tex:\n{tail}\n"
                                      "use --format html,md,tex to skip the PDF.")
        log = (folder / "report.log").read_text(errors="replace") if (folder / "report.log").exists() else ""
        return (folder / "report.pdf").read_bytes(), overfull_boxes(log)
