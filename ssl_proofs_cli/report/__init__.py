"""Derivation and verification reports: one document per run, in HTML, Markdown and LaTeX.

``record_run`` / ``load_run`` give a run as plain data, ``build_report`` joins it
with the theory (derivations, the solver's profiles, conventions, counterexample
pictures) and, given a recorded claims run (``load_claims``), the paper's downstream claims, ``write_report`` renders it; ``update_docs`` regenerates the marked
blocks of docs/ and the README from a recorded run.
"""
from .docs import GENERATED_RUN, docs_blocks, update_docs
from .document import FORMATS, Report, build_report, compile_pdf, require_tex_engine, tex_engine, write_report
from .content import claim_figures
from .run import CLAIM_FIGURES, DEFAULT_CLAIMS, load_claims, load_run, record_run, write_run

__all__ = ["CLAIM_FIGURES", "DEFAULT_CLAIMS", "claim_figures", "FORMATS", "GENERATED_RUN", "Report", "build_report", "compile_pdf", "docs_blocks",
           "require_tex_engine", "tex_engine",
           "load_claims", "load_run", "record_run", "update_docs", "write_report", "write_run"]
