"""Seed-matched values from an experiment's records, compared by :func:`ssl_proofs.claims.paired_comparison`.

The experiments measure both sides of every deciding comparison on the same seeds
(same splits, augmentations, rewired graphs); this module pairs their records by
seed, so a comparison never mixes seeds, and reads the rule's significance level
and power from the claim's current decision rule in the registry.
"""
from __future__ import annotations

from ssl_proofs.claims import get_claim, paired_comparison
from ssl_proofs.errors import InvalidArgument


def by_seed(records, value, **match):
    """``{seed: record[value]}`` over the records matching ``match`` (one record per seed expected)."""
    out = {}
    for r in records:
        if all(r.get(k) == v for k, v in match.items()):
            if r["seed"] in out:
                raise InvalidArgument(f"two records for seed {r['seed']} match {match}: cannot pair them.")
            out[r["seed"]] = r[value]
    return out


def compare(records, value, left, right, rule, right_value=None):
    """Paired comparison of ``value`` for records matching ``left`` minus those matching ``right``.

    Seeds present on both sides are paired (sorted); ``rule`` is the claim's current
    :class:`ssl_proofs.claims.DecisionRule` (its ``alpha`` and ``power``).
    """
    a = by_seed(records, value, **left)
    b = by_seed(records, right_value or value, **right)
    seeds = sorted(set(a) & set(b))
    return paired_comparison([a[s] for s in seeds], [b[s] for s in seeds],
                             alpha=rule.params["alpha"], power=rule.params["power"])


def rule_of(claim_id):
    """The claim's current decision rule (the one every run decides by)."""
    return get_claim(claim_id).rule


def summary(c):
    """One line: effect [CI], p, n, MDE and the outcome of a decided comparison."""
    return (f"{c['effect']:+.3f} [{c['ci'][0]:+.3f}, {c['ci'][1]:+.3f}], p = {c.get('p_t_holm', c['p_t']):.2g} "
            f"(Holm; Wilcoxon {c.get('p_wilcoxon_holm', c['p_wilcoxon']):.2g}), n = {c['n']}, "
            f"MDE {c['mde']:.3f}: {c.get('outcome', 'not decided')}")
