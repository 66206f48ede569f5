"""What a report says about each method, gathered once for every output format.

:func:`method_sections` joins the theory (derivations, the solver's profile) with
a run's results; :func:`conventions_table` reads the loss-convention table of
``docs/conventions.md``.  Renderers only format what these return.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import sympy
from sympy.core.function import AppliedUndef

import ssl_proofs
import ssl_proofs.claims
from ssl_proofs.derivation import Derivation, Step
from ssl_proofs.errors import SSLProofsError

from .run import REPO_ROOT

#: a small connected, irregular graph: the solver builds its spectral problem on it to expose the profile
_PROBE_GRAPH = np.array([[0, 1, 1, 0], [1, 0, 1, 0], [1, 1, 0, 1], [0, 0, 1, 0]], dtype=float)


@dataclass
class ClosedForm:
    """One closed-form variant: the solver's own profile ``s(lambda)`` and what it solves."""

    variant: str
    profile: sympy.Expr
    which: str
    description: str


@dataclass
class MethodSection:
    """Everything the report shows for one method."""

    name: str
    title: str
    loss: Optional[Step]
    loss_variant: str
    derivations: list = field(default_factory=list)
    closed_forms: list = field(default_factory=list)
    results: list = field(default_factory=list)


def paper_loss(derivation: Derivation) -> Optional[Step]:
    """The step of the paper-variant derivation that states the loss as the paper writes it.

    A step whose left side is the named loss (``\\mathcal{L}(...)``) states it outright;
    otherwise the step with the largest left side is the loss before any rewriting.
    """
    if not derivation.steps:
        return None
    for s in derivation.steps:
        if isinstance(s.lhs, AppliedUndef) or isinstance(s.lhs, sympy.Symbol) and s.lhs.name.startswith(r"\mathcal{L}"):
            return s
    return max(derivation.steps, key=lambda s: sympy.count_ops(s.lhs))


def closed_forms(method):
    """The closed-form variants of ``method`` with the profile its solver evaluates."""
    out = []
    for v in method.closed_form_variants:
        hp = method.check_hyper(v, {})
        problem = method.spectral_problem(_PROBE_GRAPH, 2, variant=v, **hp)
        desc = problem.description.replace("top-2", "top-K").replace("bottom-2", "bottom-K")
        out.append(ClosedForm(v, problem.profile, problem.which, desc))
    return out


def derivations(method, seed=0):
    """``{variant: checked Derivation}`` for every variant that has one, in variant order."""
    out = {}
    for v in method.variants:
        try:
            d = method.derivation(v)
        except (SSLProofsError, NotImplementedError):
            continue
        out[v] = d.check(seed=seed)
    return out


def method_sections(results, *, seed=0, progress=None):
    """One :class:`MethodSection` per method present in ``results`` (run dicts), registry order."""
    names = [n for n in ssl_proofs.list_methods() if any(r["method"] == n for r in results)]
    out = []
    for n in names:
        if progress:
            progress(f"checking the derivations of {n}")
        m = ssl_proofs.get_method(n)
        ds = derivations(m, seed=seed)
        # the paper's form is the first variant; a method may derive only later ones
        loss_variant = next(iter(ds), m.variants[0])
        out.append(MethodSection(
            name=n, title=m.title, loss=paper_loss(ds[loss_variant]) if ds else None, loss_variant=loss_variant,
            derivations=list(ds.values()), closed_forms=closed_forms(m),
            results=[r for r in results if r["method"] == n]))
    return out


def _split_row(line):
    """Cells of a Markdown table row; ``|`` inside backticks or escaped as ``\\|`` stays in its cell."""
    cells, cur, code, prev = [], [], False, ""
    for c in line.strip()[1:]:
        if c == "`":
            code = not code
        if c == "|" and not code and prev != "\\":
            cells.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        prev = c
    return [x.replace("\\|", "|") for x in cells]


def conventions_table(path=REPO_ROOT / "docs" / "conventions.md"):
    """``(header, rows)`` of the first Markdown table of ``docs/conventions.md`` (None when absent)."""
    path = Path(path)
    if not path.exists():
        return None
    rows = []
    for line in path.read_text().splitlines():
        if line.startswith("|"):
            cells = _split_row(line)
            if not all(set(c) <= set("-: ") for c in cells):
                rows.append(cells)
        elif rows:
            break
    return (rows[0], rows[1:]) if rows else None


#: an evidence value longer than this is cut in the report (the claims JSON holds it whole)
EVIDENCE_CHARS = 400


@dataclass
class ClaimSection:
    """Everything the report shows for one downstream claim (a record of ``ssl-proofs claims --json``)."""

    id: str
    title: str
    wordings: list
    statement: str
    verdict: str
    conditions: str
    evidence: list
    experiment: str
    figure: Optional[bytes] = None

    @property
    def figure_name(self):
        """File name of the experiment's figure next to the Markdown / LaTeX report (under ``img/``)."""
        return f"claim-{self.experiment}.png"


def evidence_text(value):
    """One evidence value as a line: strings as they are, numbers and tables as compact JSON (cut when long)."""
    text = value if isinstance(value, str) else json.dumps(value, separators=(", ", ": "), sort_keys=True)
    return text if len(text) <= EVIDENCE_CHARS else text[:EVIDENCE_CHARS] + " … (whole value in the claims JSON)"


def _paper_order(record):
    """The record's wordings as ``(source, words)`` in the registry's source order (the JSON sorts its keys)."""
    known = {c.id: list(c.wordings) for c in ssl_proofs.claims.list_claims()}.get(record["id"], [])
    rank = {src: t for t, src in enumerate(known)}
    return sorted(record["wordings"].items(), key=lambda kv: rank.get(kv[0], len(rank)))


def claim_sections(claims_run, figures):
    """One :class:`ClaimSection` per record of ``claims_run`` (from :func:`.run.load_claims`), in its order.

    ``figures`` maps an experiment name to its PNG bytes; a claim whose experiment has none shows no figure.
    """
    return [ClaimSection(id=r["id"], title=r["title"], wordings=_paper_order(r),
                         statement=r["statement"], verdict=r["verdict"], conditions=r["conditions"] or "",
                         evidence=[(k, evidence_text(v)) for k, v in r["evidence"].items()],
                         experiment=r["experiment"], figure=figures.get(r["experiment"]))
            for r in claims_run["claims"]]


def claim_figures(claims_run, directory):
    """``{experiment: PNG bytes}`` read from ``directory/<experiment>.png`` where that file exists.

    ``ssl-proofs experiment NAME --plot DIR/NAME.png`` (same seed, same cache as the claims run) writes them.
    """
    out = {}
    for name in sorted({r["experiment"] for r in claims_run["claims"]}):
        path = Path(directory) / f"{name}.png"
        if path.is_file():
            out[name] = path.read_bytes()
    return out
