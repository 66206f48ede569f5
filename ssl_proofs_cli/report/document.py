"""A report: one run's results joined with the theory, written as HTML, Markdown and LaTeX/PDF."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ssl_proofs.errors import InvalidArgument

from ..io import OutputDir
from . import cells, content, run as _run
from .drawing import draw_result, require_optional
from .html import render_html
from .latex import render_tex
from .markdown import render_md

#: output formats, in the order they are written
FORMATS = ("html", "md", "tex")


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
    return Report(target, run, results, sections, content.conventions_table(), figures, env, recorded, source,
                  claim_sections, claims, claims_source)


def write_report(report, out, formats=FORMATS, *, pdf=True, inputs=()):
    """Write ``report`` under ``out``: ``report.html``, ``report.md`` (+ ``img/``), ``report.tex`` (+ PDF).

    ``out`` is a folder path or an :class:`~ssl_proofs_cli.io.OutputDir` checked before the work;
    every file goes through its atomic writer (nothing outside the folder, no link followed, no
    file of ``inputs`` overwritten). The PDF is compiled when ``pdf`` and ``pdflatex`` is on PATH.

    Returns
    -------
    list of Path
        The files written.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise InvalidArgument(f"unknown report format(s) {unknown}; use any of {FORMATS}.")
    folder = out if isinstance(out, OutputDir) else OutputDir(out, "--out", inputs=inputs)
    written = []
    pictures = {f"{tid}.png": png for tid, png in report.figures.items()}
    pictures.update({c.figure_name: c.figure for c in report.claims if c.figure is not None})
    if not ("md" in formats or "tex" in formats):
        pictures = {}
    folder.check([f"img/{name}" for name in pictures] + [f"report.{fmt}" for fmt in formats]
                 + (["report.pdf"] if "tex" in formats and pdf else []))  # every name, before the first write
    if pictures:
        for name, png in pictures.items():
            written.append(folder.save_bytes(f"img/{name}", png))
    renderers = {"html": render_html, "md": render_md, "tex": render_tex}
    for fmt in FORMATS:
        if fmt in formats:
            written.append(folder.save_text(f"report.{fmt}", renderers[fmt](report)))
    if "tex" in formats and pdf:
        if shutil.which("pdflatex"):
            written.append(compile_pdf(folder.root / "report.tex", folder))
        else:
            print("report: pdflatex not found: report.tex written, no PDF (install TeX Live to get one)",
                  file=sys.stderr)
    return written


def compile_pdf(tex_path, folder=None):
    """Run ``pdflatex`` twice (table of contents) on ``tex_path``; return the PDF's path.

    pdflatex writes into a private temporary folder (its by-products stay there); the PDF is
    then saved next to ``tex_path`` by the atomic writer (``folder``, an
    :class:`~ssl_proofs_cli.io.OutputDir`, or the tex file's own folder).

    Raises
    ------
    InvalidArgument
        If pdflatex fails (the log's last lines are in the message).
    """
    tex_path = Path(tex_path)
    folder = folder if folder is not None else OutputDir(tex_path.parent, "--out")
    with tempfile.TemporaryDirectory(prefix="ssl-proofs-pdf.") as build:
        for _ in range(2):
            proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                                   f"-output-directory={build}", tex_path.name],
                                  cwd=tex_path.parent, capture_output=True, text=True, timeout=300)
            if proc.returncode != 0:
                tail = "\n".join(proc.stdout.splitlines()[-15:])
                raise InvalidArgument(f"pdflatex failed on {tex_path}:\n{tail}\nThe .tex file is kept; "
                                      "use --format html,md to skip the PDF.")
        pdf = (Path(build) / tex_path.with_suffix(".pdf").name).read_bytes()
    return folder.save_bytes(tex_path.with_suffix(".pdf").name, pdf)
