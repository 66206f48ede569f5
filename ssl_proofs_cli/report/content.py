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
