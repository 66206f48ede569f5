"""What a report says about each method, gathered once for every output format.

:func:`method_sections` joins the theory (derivations, the solver's profile) with
a run's results; :func:`conventions_table` reads the loss-convention table of
``docs/conventions.md``.  Renderers only format what these return.
"""
from __future__ import annotations

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

from . import files
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
    #: theorem id -> LaTeX of what a derivation theorem states, from the checked steps (first side to last)
    statement_math: dict = field(default_factory=dict)


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


def derivation_statement(derivation):
    """LaTeX of what a derivation shows, from its checked steps: the first step's left side, the relation that
    chains them (``=`` when every step is an equality), the last step's right side."""
    steps = derivation.steps
    relations = {s.relation for s in steps}
    relation = relations.pop() if len(relations) == 1 else r"\;\cdots\;"
    return f"{sympy.latex(steps[0].lhs)} {relation} {sympy.latex(steps[-1].rhs)}"


def _statement_math(method, results, derivations_by_variant):
    """``{theorem id: LaTeX}`` for the results that are derivation theorems of a derived variant."""
    theorems = {t.id: t for t in method.theorems()}
    out = {}
    for r in results:
        t = theorems.get(r["id"])
        variant = (t.params or {}).get("variant") if t is not None else None
        if t is not None and t.claim == "derivation" and variant in derivations_by_variant:
            d = derivations_by_variant[variant]
            if d.steps:
                out[r["id"]] = derivation_statement(d)
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
        mine = [r for r in results if r["method"] == n]
        out.append(MethodSection(
            name=n, title=m.title, loss=paper_loss(ds[loss_variant]) if ds else None, loss_variant=loss_variant,
            derivations=list(ds.values()), closed_forms=closed_forms(m), results=mine,
            statement_math=_statement_math(m, mine, ds)))
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
        """File name of the experiment's figure next to the Markdown / LaTeX report (under ``img/``): a slug of
        the registry's experiment name, never a path taken from the claims JSON."""
        return f"claim-{files.slug(self.experiment)}.png"


def value_text(value):
    """One scalar or flat list of an evidence table as words: numbers with 6 significant digits, lists
    joined with commas, ``–`` for null and for an empty list."""
    if value is None or value == []:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return ", ".join(value_text(v) if not isinstance(v, (list, dict)) else "(" + value_text(v) + ")"
                         for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {value_text(v)}" for k, v in value.items())
    return str(value)


def evidence_rows(key, value):
    """``[(label, [lines])]``: one evidence entry as readable rows, whole (the JSON is not cut).

    An object gives one row per key (``key › sub``); a list of lists one line per item; anything else one line.
    """
    if isinstance(value, dict) and value:
        return [row for k, v in value.items() for row in evidence_rows(f"{key} › {k}", v)]
    if isinstance(value, list) and value and all(isinstance(v, (list, dict)) for v in value):
        return [(key, [value_text(v) for v in value])]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return [(key, list(value))]
    return [(key, [value_text(value)])]


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
                         evidence=[row for k, v in r["evidence"].items() for row in evidence_rows(k, v)],
                         experiment=_experiment(r["id"]), figure=figures.get(_experiment(r["id"])))
            for r in claims_run["claims"]]


def _experiment(claim_id):
    """The experiment that decides ``claim_id``, from the registry (the JSON's own field is only checked)."""
    return ssl_proofs.claims.get_claim(claim_id).experiment


def claim_figures(claims_run, directory):
    """``{experiment: PNG bytes}`` read from ``directory/<experiment>.png`` where that file exists.

    Only the registry's experiments of the claims are looked for, only inside ``directory`` (a name that
    resolves elsewhere, through ``..`` or a link, is skipped), and only files that start as a PNG and fit in
    :data:`MAX_FIGURE_BYTES` are read. ``ssl-proofs experiment NAME --plot DIR/NAME.png`` (same seed, same
    cache as the claims run) writes them.
    """
    folder = Path(directory).resolve()
    out = {}
    for name in sorted({_experiment(r["id"]) for r in claims_run["claims"]}):
        path = (folder / f"{files.slug(name)}.png").resolve()
        if path.parent != folder or not path.is_file() or path.stat().st_size > MAX_FIGURE_BYTES:
            continue
        with open(path, "rb") as fh:
            data = fh.read(MAX_FIGURE_BYTES + 1)
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            out[name] = data
    return out


#: the largest figure a report embeds (bytes); an experiment's figure is ~100 KB
MAX_FIGURE_BYTES = 8 * 2 ** 20
