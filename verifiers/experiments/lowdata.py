"""Claim ``low_data``: VICReg's invariance weight gamma/alpha vs probe accuracy when data are few.

Digits, ``N'`` originals per class, two augmented views each (pixel shifts +
noise), the label-blind view graph; linear squared VICReg ``Z = XW`` in closed
form over a decade sweep of gamma/alpha, SimCLR (the v1 wording's other arm)
by L-BFGS.  The probe is fit on the clean training originals' embeddings and
scored on held-out digits.  The regime is low-data when
``K > invariant_dimension(G) = N' c - 1`` (:func:`ssl_proofs.claims.is_low_data`).
"""
from __future__ import annotations

from functools import partial

import numpy as np

import ssl_proofs
from ssl_proofs import graphs as _graphs
from ssl_proofs.claims import ClaimVerdict, decide, invariant_dimension, is_low_data, numerical_rank

from . import data, fit
from .cache import Cache, Cell, no_progress
from .pairing import by_seed, compare, rule_of, summary
from .plotting import mean_std, pyplot, save
from .registry import ExperimentResult, experiment

NAME = "lowdata"
#: "high" and "low" invariance weights as the claim is checked (gamma/alpha, alpha = 1): the rule's
HIGH, LOW = rule_of("low_data").params["high"], rule_of("low_data").params["low"]


def budget(full):
    rule = rule_of("low_data").params
    return {
        "dataset": "digits", "k": rule["k"], "ks": [8, 16, 32, 48] if full else [16, 32], "views": 2,
        "test_size": 500, "n_per_class": [1, 2, 3, 5, 10, 30] if full else [1, 3, 10],
        # the gamma/alpha sweep (figure) on the first sweep_seeds seeds; HIGH and LOW on every paired seed
        "ratios": [float(f"{x:.6g}") for x in np.logspace(-3, 2, 11 if full else 6)], "sweep_seeds": 5 if full else 3,
        "seeds": rule["seeds"],
        "simclr": {"tau": 0.5, "starts": 2 if full else 1, "max_iter": 500 if full else 200,
                   "seeds": rule["seeds"] if full else 10},
    }


def _split(P, n_per_class, seed):
    X, y = data.load(P["dataset"])
    rng = np.random.default_rng([seed, 13])
    tr = data.stratified(y, n_per_class, rng)
    rest = np.setdiff1d(np.arange(y.size), tr)
    te = rng.choice(rest, min(P["test_size"], rest.size), replace=False)
    views = np.vstack([data.augment(X[tr], P["dataset"], rng) for _ in range(P["views"])])
    Xv, Xtr, Xte = data.standardise(views, X[tr], X[te])
    G = _graphs.view_graph(tr.size, P["views"])
    return Xv, G, Xtr, y[tr], Xte, y[te]


def _vicreg_cell(split, ratio, k):
    Xv, G, Xtr, ytr, Xte, yte = split
    sol = ssl_proofs.get_method("vicreg").solve_linear(Xv, G, k, variant="squared", alpha=1.0, gamma=ratio)
    return {"accuracy": fit.probe_accuracy(Xtr @ sol.W, ytr, Xte @ sol.W, yte), "rank": numerical_rank(sol.Z)}


def _simclr_cell(split, k, seed, S):
    Xv, G, Xtr, ytr, Xte, yte = split
    f = fit.fit_linear("simclr", "paper", {"tau": S["tau"]}, Xv, G, k, seed=seed, starts=S["starts"],
                       max_iter=S["max_iter"])
    return {"accuracy": fit.probe_accuracy(Xtr @ f.W, ytr, Xte @ f.W, yte), "rank": numerical_rank(f.Z),
            "how": f.how}


def _spectrum(split, k):
    """Bottom generalized eigenvalues mu of X^T L X w = mu X^T H X w (NaN beyond rank)."""
    Xv, G = split[0], split[1]
    m = min(Xv.shape[1], k + 16)
    sol = ssl_proofs.get_method("vicreg").solve_linear(Xv, G, m, variant="squared", alpha=1.0, gamma=0.0)
    return [float(v) for v in sol.eigenvalues]


@experiment(NAME, claims=("low_data",), plot=lambda res, fmt="png": plot(res, fmt))
def run(seed=0, full=False, cache=None, progress=no_progress):
    """Probe accuracy vs gamma/alpha for several samples-per-class N' (digits, view graph, linear VICReg)."""
    cache = cache or Cache(None)
    P = budget(full)
    seeds = [seed + i for i in range(P["seeds"])]
    k = P["k"]
    slots, cells = [], []   # per cell (computed in one batch): ("record", its fields) or ("spectrum", N')
    for npc in P["n_per_class"]:
        for i, s in enumerate(seeds):
            split = _split(P, npc, s)
            G = split[1]
            base = {"n_per_class": npc, "seed": s, "k": k, "low_data": is_low_data(G, k),
                    "invariant_dim": invariant_dimension(G)}
            ratios = P["ratios"] if i < P["sweep_seeds"] else [LOW, HIGH]
            for kk in P["ks"]:
                for ratio in ratios:
                    cell = {**base, "k": kk, "low_data": is_low_data(G, kk), "method": "vicreg", "ratio": ratio}
                    slots.append(("record", cell))
                    cells.append(Cell({"budget": P, **cell}, partial(_vicreg_cell, split, ratio, kk),
                                      f"N'={npc} seed={s} K={kk} gamma/alpha={ratio:g}"))
            if i < P["simclr"]["seeds"]:
                cell = {**base, "method": "simclr", "ratio": None}
                slots.append(("record", cell))
                cells.append(Cell({"budget": P, **cell}, partial(_simclr_cell, split, k, s, P["simclr"]),
                                  f"N'={npc} seed={s} simclr"))
            if s == seed:
                slots.append(("spectrum", str(npc)))
                cells.append(Cell({"budget": P, **base, "spectrum": True}, partial(_spectrum, split, k),
                                  f"N'={npc} spectrum"))
    records, extra = [], {"spectra": {}}
    for (kind, what), value in zip(slots, cache.cells(NAME, cells, progress)):
        if kind == "record":
            records.append({**what, **value})
        else:
            extra["spectra"][what] = value
    return ExperimentResult(NAME, P, records, [_verdict(records, P)], extra)


def _mean_std(values):
    values = list(values)
    return [float(np.mean(values)), float(np.std(values))]


def _verdict(records, P):
    rule = rule_of("low_data")
    R = rule.params
    table, primary, secondary, simclr = {}, {}, {}, {}
    for npc in P["n_per_class"]:
        for k in P["ks"]:
            name = f"N'={npc},K={k}"
            at = {"method": "vicreg", "n_per_class": npc, "k": k}
            low_data = any(r["low_data"] for r in records if all(r.get(a) == v for a, v in at.items()))
            c = compare(records, "accuracy", {**at, "ratio": R["high"]}, {**at, "ratio": R["low"]}, rule)
            table[name] = {"low_data": low_data,
                           "high_mean_std": _mean_std(by_seed(records, "accuracy", **at, ratio=R["high"]).values()),
                           "low_mean_std": _mean_std(by_seed(records, "accuracy", **at, ratio=R["low"]).values()),
                           "high_minus_low": c}
            primary_cell = low_data and k == R["k"] and npc in R["primary_n_per_class"]
            (primary if primary_cell else secondary)[name] = c
            if k == R["k"]:
                sim = by_seed(records, "accuracy", method="simclr", n_per_class=npc)
                if len(sim) >= 2:
                    simclr[name] = compare(records, "accuracy", {"method": "simclr", "n_per_class": npc},
                                           {**at, "ratio": R["low"]}, rule)
                    table[name]["simclr_mean_std"] = _mean_std(sim.values())
    for family in (primary, secondary, simclr):   # Holm within each family; only the primary one votes
        decide(family, R["alpha"], R["margin"])
    up = [n for n, c in primary.items() if c["outcome"] == "positive"]
    down = [n for n, c in primary.items() if c["outcome"] == "negative"]
    evidence = {"definition": "low-data iff K > #components(G) - 1", "high": f"gamma/alpha = {R['high']:g}",
                "low": f"gamma/alpha = {R['low']:g}", "per_setting": table, "primary": primary,
                "secondary": secondary, "simclr_minus_vicreg_low": simclr, "high_better_at": up,
                "low_better_at": down}
    lines = "; ".join(f"{n}: high - low {summary(c)}" for n, c in primary.items())
    if primary and len(up) == len(primary):
        return ClaimVerdict("low_data", "holds", evidence, lines, rule.version)
    if up:
        return ClaimVerdict("low_data", "holds under conditions", evidence, lines, rule.version)
    if down:
        return ClaimVerdict("low_data", "refuted", evidence, lines, rule.version)
    return ClaimVerdict("low_data", "not supported", evidence, lines, rule.version)


def plot(result, fmt="png"):
    """Accuracy vs gamma/alpha per N'; rank of Z* vs gamma/alpha; spectrum with the kept directions."""
    plt = pyplot()
    res = result.to_dict() if hasattr(result, "to_dict") else result
    records, P, extra = res["records"], res["params"], res["extra"]
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(15, 4))
    first = min(r["seed"] for r in records)
    sweep = [r for r in records if r["seed"] - first < P["sweep_seeds"]]
    for i, npc in enumerate(P["n_per_class"]):
        col = f"C{i}"
        xs, mu, sd = mean_std(sweep, "ratio", "accuracy", method="vicreg", n_per_class=npc, k=P["k"])
        a.errorbar(xs, mu, yerr=sd, marker="o", capsize=3, color=col, label=f"N'={npc} VICReg")
        sim = [r["accuracy"] for r in records if r["method"] == "simclr" and r["n_per_class"] == npc]
        a.axhline(np.mean(sim), color=col, ls=":", lw=1.2, label=f"N'={npc} SimCLR")
        xs, mu, sd = mean_std(sweep, "ratio", "rank", method="vicreg", n_per_class=npc, k=P["k"])
        b.errorbar(xs, mu, yerr=sd, marker="o", capsize=3, color=col, label=f"N'={npc}")
    a.set_xscale("log")
    a.set_xlabel(r"$\gamma/\alpha$")
    a.set_ylabel("held-out probe accuracy (digits)")
    a.set_title(f"linear VICReg (squared), K = {P['k']}, view graph ({P['sweep_seeds']} seeds)")
    a.legend(fontsize=6, ncol=2)
    b.set_xscale("log")
    b.axhline(P["k"], color="k", lw=0.8, ls="--")
    b.set_xlabel(r"$\gamma/\alpha$")
    b.set_ylabel("numerical rank of Z* = XW*")
    b.set_title("rank of the optimum")
    b.legend(fontsize=7)
    npc = str(P["n_per_class"][-1])   # the largest N': a spread-out spectrum (N > D)
    mu = np.array(extra["spectra"][npc], dtype=float)
    idx = np.arange(1, mu.size + 1)
    c.plot(idx, mu, "o", color="0.6", ms=4, label=r"$\mu_k$ (generalized, $X^TLXw=\mu X^THXw$)")
    for j, ratio in enumerate([LOW, HIGH, 10 * HIGH]):
        kept = (idx <= P["k"]) & (mu < 1.0 / ratio)
        c.plot(idx[kept], mu[kept], "+x1"[j], ms=8 + 3 * j, color=f"C{j + 3}",
               label=fr"kept at $\gamma/\alpha$={ratio:g} ($\mu$ < $\alpha/\gamma$)")
    c.axvline(P["k"] + 0.5, color="k", lw=0.8, ls="--")
    c.set_yscale("symlog", linthresh=1e-3)
    c.set_ylim(bottom=-1e-4)
    c.set_xlabel("k")
    c.set_ylabel(r"$\mu_k$")
    c.set_title(f"spectrum, N'={npc}: kept directions marked")
    c.legend(fontsize=6)
    return save(fig, fmt)
