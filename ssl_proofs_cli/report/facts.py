"""Numbers quoted in hand-written prose, generated from the recorded runs.

A number in a docs page that comes from a run is written as an inline fact,
``<!-- FACT: name -->value<!-- /FACT -->``; ``report --update-docs`` rewrites the value from
the recorded run and ``tests/test_docs_fresh.py`` fails when a page disagrees with the record
(the prose around it stays as written).  :func:`run_facts` lists every fact a page may quote.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from ssl_proofs.errors import InvalidArgument

#: pages whose prose quotes facts (relative to the repository root)
FACT_PAGES = ("docs/vicreg.md", "docs/results/README.md", "docs/diagnose.md")
#: the recorded ``diagnose --json`` of docs/diagnose.md's training run (start and end of training)
DIAGNOSE_RUNS = {tag: Path("docs") / "results" / "diagnose" / f"{tag}.json" for tag in ("start", "end", "end_squared")}
#: a direction of Cov(Z) with variance at most this counts as collapsed in docs/diagnose.md's prose
COLLAPSED_VARIANCE = 0.02

_FACT = re.compile(r"<!-- FACT: (?P<name>[\w.-]+) -->(?P<value>.*?)<!-- /FACT -->", re.S)


def _result(run, tid):
    for r in run["results"]:
        if r["id"] == tid:
            return r
    raise InvalidArgument(f"the recorded run has no result for {tid!r}, which docs prose quotes; re-record the run "
                          "or remove the fact from the page.")


def _num(x):
    return f"{x:.2g}".replace("-", "−")


def _counterexample(run, tid, prefix):
    """Facts of a recorded counterexample: N, edges, k, hyper-parameters, the failing measurement."""
    r = _result(run, tid)
    inst = r.get("instance") or {}
    out = {f"{prefix}.N": str(inst.get("N", "?")), f"{prefix}.k": str(inst.get("k", "?")),
           f"{prefix}.edges": ", ".join(f"{int(a)}-{int(b)}" for a, b, *_ in inst.get("edges", []))}
    for name, value in (inst.get("hyper") or {}).items():
        out[f"{prefix}.{name}"] = f"{value:g}"
    if r.get("failing"):
        out[f"{prefix}.error"] = _num(r["failing"][0]["error"])
        out[f"{prefix}.tol"] = f"{r['failing'][0]['tol']:.1g}"
    return out


def _diagnosis(d, tag):
    """Facts of one recorded diagnosis (a row of docs/diagnose.md's table)."""
    angles, spec = d["principal_angles"], d["covariance_spectrum"]
    return {f"diagnose.{tag}.loss": f"{d['loss']:.4g}", f"diagnose.{tag}.gap": f"{d['gap']:.4g}",
            f"diagnose.{tag}.angles": f"{sum(angles) / len(angles):.1f}° / {max(angles):.1f}°",
            f"diagnose.{tag}.energy": f"{d['energy_in_optimal_subspace']:.3f}",
            f"diagnose.{tag}.effective_rank": f"{d['effective_rank']:.2f}",
            f"diagnose.{tag}.spectrum": ", ".join(f"{v:.3g}" for v in spec[:4]) + f" … {spec[-1]:.2g}",
            f"diagnose.{tag}.state": d["state"],
            f"diagnose.{tag}.above_one": str(sum(v > 1 for v in spec)),
            f"diagnose.{tag}.collapsed": str(sum(v <= COLLAPSED_VARIANCE for v in spec)),
            f"diagnose.{tag}.predicted_rank": str(d["predicted_rank"]),
            f"diagnose.{tag}.coordinate_stds": " and ".join(f"{v:.3g}" for v in (min(d["coordinate_variances"]) ** 0.5,
                                                                              max(d["coordinate_variances"]) ** 0.5))}


def run_facts(run, root=None):
    """``{name: text}`` of every fact prose may quote, from a recorded ``verify --json`` run (and, under
    ``root``, the recorded diagnoses of :data:`DIAGNOSE_RUNS`)."""
    facts = {"run.seed": str(run["seed"]), "run.examples": str(run.get("examples", "?"))}
    facts.update(_counterexample(run, "vicreg.squared.local_minima", "vicreg.local_minima"))
    # the failing measurement is -min eig(Hessian): the eigenvalue is its negative
    facts["vicreg.local_minima.hessian"] = _num(-_result(run, "vicreg.squared.local_minima")["failing"][0]["error"])
    facts.update(_counterexample(run, "vicreg.constrained.le_any_graph", "vicreg.le_any_graph"))
    for tag, rel in DIAGNOSE_RUNS.items():
        path = Path(root) / rel if root is not None else None
        if path is not None and path.is_file():
            facts.update(_diagnosis(json.loads(path.read_text()), tag))
    return facts


def replace_facts(text, facts, page="page"):
    """``text`` with every inline fact's value rewritten; a fact without a value is an error."""
    def sub(m):
        name = m.group("name")
        if name not in facts:
            raise InvalidArgument(f"{page} quotes an unknown fact {name!r}; known: {sorted(facts)}.")
        return f"<!-- FACT: {name} -->{facts[name]}<!-- /FACT -->"
    return _FACT.sub(sub, text)


def quoted_facts(text):
    """``{name: value}`` of the facts a page quotes (as written)."""
    return {m.group("name"): m.group("value") for m in _FACT.finditer(text)}
