"""``ssl-proofs claims``: every downstream claim of the paper with its measured verdict."""
from __future__ import annotations

import sys

from ssl_proofs.claims import list_claims
from ssl_proofs_verifiers.experiments import experiment_for_claim, line_progress, no_progress
from ssl_proofs_verifiers.experiments.cache import rounded

from ..io import save_json
from .experiment import add_run_arguments, cell_cache, json_output

NAME = "claims"
HELP = "the paper's downstream claims, each with the verdict its experiment measures"


def add_arguments(p):
    p.add_argument("--json", metavar="PATH", help="write one record per claim (id, wordings, statement, verdict, evidence)")
    add_run_arguments(p)


def run_claims(seed=0, full=False, cache=None, progress_for=None):
    """Run each claim's experiment once; return ``(records, results)`` (records: one per claim)."""
    results, records = {}, []
    for claim in list_claims():
        exp = experiment_for_claim(claim.id)
        if exp.name not in results:
            progress = progress_for(exp.name) if progress_for else no_progress
            results[exp.name] = exp.run(seed=seed, full=full, cache=cache, progress=progress)
        verdict = next(v for v in results[exp.name].verdicts if v.claim == claim.id)
        records.append({"id": claim.id, "title": claim.title, "wordings": dict(claim.wordings),
                        "statement": claim.statement, "decision": claim.decision, "experiment": exp.name,
                        "verdict": verdict.verdict, "conditions": verdict.conditions, "evidence": rounded(verdict.evidence),
                        "source": claim.source})
    return records, results


def run(args):
    out = json_output(args)  # before the work
    with cell_cache(args) as cache:
        records, _ = run_claims(args.seed, args.full, cache, line_progress)
    if out:  # before the printing: a reader that goes away must not lose the file
        save_json(out, {"seed": args.seed, "full": args.full, "claims": records}, sort_keys=True, default=None)
    width = max(len(r["id"]) for r in records)
    for r in records:
        print(f"{r['id']:<{width}}  {r['verdict']:<23}  {r['title']}")
        if r["conditions"]:
            print(f"{'':<{width}}  {'':<23}  conditions: {r['conditions']}")
    print(f"(cache: {cache.hits} cells read, {cache.misses} computed)", file=sys.stderr)
    return 0
