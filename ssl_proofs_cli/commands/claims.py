"""``ssl-proofs claims``: every downstream claim of the paper with its measured verdict."""
from __future__ import annotations

import sys

from ssl_proofs.claims import list_claims
from ssl_proofs_verifiers.experiments import experiment_for_claim, line_progress, no_progress
from ssl_proofs_verifiers.experiments.cache import rounded

from ..io import save_json
from ..report.claims_docs import update_claims_doc
from .experiment import add_run_arguments, cell_cache, json_output

NAME = "claims"
HELP = "the paper's downstream claims, each with the verdict its experiment measures"


def add_arguments(p):
    p.add_argument("--json", metavar="PATH", help="write one record per claim (id, wordings, statement, verdict, evidence)")
    p.add_argument("--update-docs", action="store_true",
                   help="no run: regenerate docs/claims.md's generated tables from docs/results/claims.json")
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
        rule = claim.rules[verdict.rule_version - 1] if verdict.rule_version else claim.rule
        records.append({"id": claim.id, "title": claim.title, "wordings": dict(claim.wordings),
                        "statement": claim.statement, "decision": rule.text, "experiment": exp.name,
                        "rule": {"version": verdict.rule_version, "date": rule.date, "reason": rule.reason,
                                 "params": dict(rule.params)},
                        "rule_history": [{"version": r.version, "date": r.date, "reason": r.reason}
                                         for r in claim.rules],
                        "verdict": verdict.verdict, "conditions": verdict.conditions, "evidence": rounded(verdict.evidence),
                        "source": claim.source})
    return records, results


def run(args):
    if args.update_docs:
        changed = update_claims_doc()
        print("updated " + ", ".join(changed) if changed else "docs/claims.md is up to date")
        return 0
    out = json_output(args)  # before the work
    with cell_cache(args) as cache:
        records, _ = run_claims(args.seed, args.full, cache, line_progress)
    if out:  # before the printing: a reader that goes away must not lose the file
        save_json(out, {"seed": args.seed, "full": args.full, "claims": records}, sort_keys=True, default=None)
    width = max(len(r["id"]) for r in records)
    for r in records:
        print(f"{r['id']:<{width}}  {r['verdict']:<23}  rule v{r['rule']['version']}  {r['title']}")
        if r["conditions"]:
            print(f"{'':<{width}}  {'':<23}  conditions: {r['conditions']}")
    print(f"(cache: {cache.hits} cells read, {cache.misses} computed)", file=sys.stderr)
    return 0
