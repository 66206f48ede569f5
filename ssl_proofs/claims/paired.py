"""Paired comparisons that decide a claim: effect, interval, p-values, n and the stated power.

Every comparison a verdict rests on is *paired*: the two settings compared are
measured on the same seeds (same splits, augmentations, rewired graphs), so the
seed-to-seed variation common to both cancels in the per-seed differences
``d_i = a_i - b_i``.  :func:`paired_comparison` reports

* the effect ``mean(d)`` and its two-sided ``1 - alpha`` t-interval,
* the paired t-test p-value and the Wilcoxon signed-rank p-value (a check that
  does not assume normal differences),
* the minimal detectable effect (MDE): the smallest ``|effect|`` the two-sided
  paired t-test at ``alpha`` detects with probability ``power``, given the
  measured paired SD (noncentral t, solved exactly, not the normal shortcut),

and an outcome: ``"positive"`` / ``"negative"`` when both tests reject at the
(Holm-adjusted, :func:`holm`) level and the effect is beyond the practical
margin, else ``"no detectable effect"`` -- which is never evidence of absence
beyond the MDE the record states.
"""
from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from ..errors import InvalidArgument

__all__ = ["paired_comparison", "holm", "decide", "minimal_detectable_effect", "OUTCOMES"]

#: outcomes of one decided comparison
OUTCOMES = ("positive", "negative", "no detectable effect")


def _diffs(a, b):
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    if a.shape != b.shape:
        raise InvalidArgument(f"a paired comparison needs one value per seed on both sides, got {a.size} and {b.size}.")
    if a.size < 2:
        raise InvalidArgument(f"a paired comparison needs at least 2 seeds, got {a.size}.")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise InvalidArgument("a paired comparison got NaN or infinite values.")
    return a - b


def minimal_detectable_effect(sd, n, alpha=0.05, power=0.8):
    """Smallest ``|mean difference|`` a two-sided paired t-test at ``alpha`` detects with ``power``.

    Exact for normal differences with SD ``sd``: the power at effect ``delta`` is
    ``P(|T| > t_{1-alpha/2, n-1})`` with ``T`` noncentral t (``n - 1`` degrees of freedom,
    noncentrality ``delta sqrt(n) / sd``); solved for ``delta`` by Brent's method.  0 when ``sd = 0``.
    """
    if n < 2:
        raise InvalidArgument(f"the minimal detectable effect needs n >= 2 seeds, got {n}.")
    if sd <= 0:
        return 0.0
    df = n - 1
    crit = stats.t.ppf(1 - alpha / 2, df)

    def shortfall(nc):
        value = stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc)
        return (value if np.isfinite(value) else 1.0) - power   # NaN only far out in the tail: power ~ 1

    hi = 1.0
    while shortfall(hi) < 0:   # bracket the root: the power grows with the noncentrality
        hi *= 2.0
        if hi > 1e6:
            return float("inf")
    nc = optimize.brentq(shortfall, 0.0, hi, xtol=1e-10)
    return float(nc * sd / np.sqrt(n))


def paired_comparison(a, b, alpha=0.05, power=0.8):
    """Effect ``mean(a - b)``, its interval, both p-values, n, the paired SD and the MDE.

    ``a[i]`` and ``b[i]`` must come from the same seed.  Returns a dict (JSON-ready):
    ``effect``, ``ci`` (two-sided ``1 - alpha`` t-interval), ``p_t`` (paired t-test),
    ``p_wilcoxon`` (signed-rank, zero differences split), ``n``, ``sd`` (of the differences),
    ``mde`` (:func:`minimal_detectable_effect`), ``alpha``, ``power``.
    """
    d = _diffs(a, b)
    n = d.size
    effect = float(d.mean())
    sd = float(d.std(ddof=1))
    if sd == 0.0:   # every seed gives the same difference: no sampling variation to test against
        p_t = p_w = 1.0 if effect == 0.0 else 0.0
        ci = [effect, effect]
    else:
        se = sd / np.sqrt(n)
        half = float(stats.t.ppf(1 - alpha / 2, n - 1) * se)
        ci = [effect - half, effect + half]
        p_t = float(stats.ttest_1samp(d, 0.0).pvalue)
        p_w = 1.0 if not np.any(d) else float(stats.wilcoxon(d, zero_method="zsplit").pvalue)
    return {"effect": effect, "ci": ci, "p_t": p_t, "p_wilcoxon": p_w, "n": int(n), "sd": sd,
            "mde": minimal_detectable_effect(sd, n, alpha, power), "alpha": alpha, "power": power}


def holm(pvalues):
    """Holm–Bonferroni adjusted p-values (same order as given), controlling the family-wise error."""
    p = np.asarray(pvalues, dtype=float)
    m = p.size
    order = np.argsort(p, kind="stable")
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    return [float(x) for x in adj]


def decide(comparisons, alpha=0.05, margin=0.0):
    """Outcome of each comparison of one family (a dict name -> :func:`paired_comparison`), in place.

    Both p-values are Holm-adjusted over the family (``p_t_holm``, ``p_wilcoxon_holm``); a comparison is
    ``positive`` / ``negative`` when both adjusted p-values are below ``alpha`` and ``|effect| > margin``
    (the practical margin the rule states), else ``no detectable effect``.  Returns ``comparisons``.
    """
    names = list(comparisons)
    if not names:
        return comparisons
    pt = holm([comparisons[k]["p_t"] for k in names])
    pw = holm([comparisons[k]["p_wilcoxon"] for k in names])
    for k, a, b in zip(names, pt, pw):
        c = comparisons[k]
        c["p_t_holm"], c["p_wilcoxon_holm"] = a, b
        significant = a < alpha and b < alpha and abs(c["effect"]) > margin
        c["outcome"] = OUTCOMES[2] if not significant else OUTCOMES[0] if c["effect"] > 0 else OUTCOMES[1]
    return comparisons
