"""Claim ``simclr_isomap``: how close ("akin") SimCLR's optimum is to ISOMAP, as a number.

On connected graphs, SimCLR's optimum (L-BFGS, rows normalised: the loss sees
only directions) is compared by linear CKA with ISOMAP (classical MDS of the
graph's shortest-path distances), with Laplacian Eigenmaps (constrained VICReg,
the local method), with the spectral contrastive optimum (HaoChen et al.) and
with a random Gaussian embedding (the floor), all at the same K.
"""
from __future__ import annotations

from functools import partial

import numpy as np

import ssl_proofs
from ssl_proofs import graphs as _graphs
from ssl_proofs.claims import ClaimVerdict, classical_mds, decide, geodesic_distances, linear_cka

from . import data, fit
from .cache import Cache, no_progress, sweep
from .pairing import compare, rule_of, summary
from .plotting import pyplot, save
from .registry import ExperimentResult, experiment

NAME = "simclr_mds"
REFERENCES = ("isomap", "laplacian_eigenmaps", "spectral_contrastive", "random")


def budget(full):
    # seeds: each draws the graph's sample and SimCLR's starts; both CKAs of a seed share its optimum
    # default: tau = 0.5 only (20 paired seeds x 3 graphs of N = 200 is what 2 cores afford); --full: four tau
    return {"n": 200, "k": 8, "taus": [0.1, 0.2, 0.5, 1.0] if full else [0.5],
            "graphs": ["digits_knn", "moons_knn", "rewired_labels"], "starts": 3 if full else 1,
            "max_iter": 2000 if full else 600, "seeds": rule_of("simclr_isomap").params["seeds"]}


def make_graph(kind, n, seed):
    """A connected graph of ``n`` nodes: k-NN of digits / two moons, or a label graph with 20% rewired."""
    rng = np.random.default_rng([seed, 17])
    if kind == "rewired_labels":
        y = np.repeat(np.arange(4), n // 4)
        return data.rewire(_graphs.label_graph(y), 0.2, rng)
    if kind == "digits_knn":
        X, y = data.load("digits")
        X, k = data.standardise(X[rng.choice(y.size, n, replace=False)])[0], 10
    else:
        from sklearn.datasets import make_moons  # lazy: sklearn.datasets costs ~1 s at every CLI start

        X, k = make_moons(n, noise=0.05, random_state=int(rng.integers(2 ** 31)))[0], 8
    G = data.knn_graph(X, k)
    while _graphs.n_components(G) > 1:   # ISOMAP needs finite geodesics: grow k until connected
        k += 1
        G = data.knn_graph(X, k)
    return G


def _cell(graph, tau, P, seed):
    G = make_graph(graph, P["n"], seed)
    k = P["k"]
    sim = fit.fit_nonparametric("simclr", "paper", {"tau": tau}, G, k, seed=seed, starts=P["starts"],
                                max_iter=P["max_iter"])
    Zs = sim.Z / np.maximum(np.linalg.norm(sim.Z, axis=1, keepdims=True), 1e-300)
    refs = {
        "isomap": classical_mds(geodesic_distances(G), k),
        "laplacian_eigenmaps": ssl_proofs.get_method("vicreg").solve(G, k, variant="constrained").Z,
        "spectral_contrastive": ssl_proofs.get_method("spectral_contrastive").solve(G, k).Z,
        "random": np.random.default_rng([seed, 19]).standard_normal((G.shape[0], k)),
    }
    return {"cka": {name: linear_cka(Zs, R) for name, R in refs.items()},
            "cka_isomap_vs_le": linear_cka(refs["isomap"], refs["laplacian_eigenmaps"]),
            "components": _graphs.n_components(G), "loss": sim.loss, "how": sim.how}


@experiment(NAME, claims=("simclr_isomap",), plot=lambda res, fmt="png": plot(res, fmt))
def run(seed=0, full=False, cache=None, progress=no_progress):
    """Linear CKA of SimCLR's optimum with ISOMAP, Laplacian Eigenmaps, spectral contrastive and random."""
    cache = cache or Cache(None)
    P = budget(full)
    records = sweep(cache, NAME, P, {"graph": P["graphs"], "tau": P["taus"],
                                     "seed": [seed + i for i in range(P["seeds"])]},
                    partial(_cell, P=P), progress)
    return ExperimentResult(NAME, P, records, [_verdict(records)])


def _cells(records):
    """The (graph, tau) cells in record order."""
    return list(dict.fromkeys((r["graph"], r["tau"]) for r in records))


def _mean_std(records, g, t, name):
    v = [r["cka"][name] for r in records if r["graph"] == g and r["tau"] == t]
    return [float(np.mean(v)), float(np.std(v))]


def _verdict(records):
    rule = rule_of("simclr_isomap")
    flat = [{"graph": r["graph"], "tau": r["tau"], "seed": r["seed"], "iso": r["cka"]["isomap"],
             "le": r["cka"]["laplacian_eigenmaps"]} for r in records]
    comps, cka = {}, {}
    for g, t in _cells(records):
        name = f"{g} tau={t}"
        comps[name] = compare(flat, "iso", {"graph": g, "tau": t}, {"graph": g, "tau": t}, rule, "le")
        cka[name] = {ref: _mean_std(records, g, t, ref) for ref in REFERENCES}
    decide(comps, rule.params["alpha"], rule.params["margin"])
    closer_iso = [n for n, c in comps.items() if c["outcome"] == "positive"]
    closer_le = [n for n, c in comps.items() if c["outcome"] == "negative"]
    undecided = [n for n, c in comps.items() if c["outcome"] == "no detectable effect"]
    evidence = {"cka_mean_std": cka,
                "cka_isomap_vs_le_mean_std": {g: [float(np.mean(v)), float(np.std(v))] for g, v in
                                              ((g, [r["cka_isomap_vs_le"] for r in records if r["graph"] == g])
                                               for g in dict.fromkeys(r["graph"] for r in records))},
                "isomap_minus_le": comps,
                "mean_cka_simclr_isomap": float(np.mean([r["cka"]["isomap"] for r in records])),
                "mean_cka_simclr_le": float(np.mean([r["cka"]["laplacian_eigenmaps"] for r in records])),
                "closer_to_isomap": closer_iso, "closer_to_le": closer_le, "no_detectable_difference": undecided}
    named = "; ".join(f"{n}: CKA(ISOMAP) - CKA(LE) {summary(c)}" for n, c in comps.items())
    if len(closer_iso) == len(comps):
        return ClaimVerdict("simclr_isomap", "holds", evidence, named, rule.version)
    if len(closer_le) == len(comps):
        return ClaimVerdict("simclr_isomap", "refuted", evidence, named, rule.version)
    if len(undecided) == len(comps):
        return ClaimVerdict("simclr_isomap", "not supported", evidence, named, rule.version)
    return ClaimVerdict("simclr_isomap", "holds under conditions", evidence, named, rule.version)


def plot(result, fmt="png"):
    """Grouped bars: CKA of SimCLR's optimum with each reference embedding, per (graph, tau)."""
    plt = pyplot()
    res = result.to_dict() if hasattr(result, "to_dict") else result
    records = res["records"]
    cells = _cells(records)
    fig, ax = plt.subplots(figsize=(11, 4))
    x = np.arange(len(cells))
    w = 0.8 / len(REFERENCES)
    for j, name in enumerate(REFERENCES):
        ms = np.array([_mean_std(records, g, t, name) for g, t in cells])
        ax.bar(x + (j - 1.5) * w, ms[:, 0], w, yerr=ms[:, 1], capsize=2, label=name)
    ax.set_xticks(x, [f"{g}\ntau={t}" for g, t in cells], fontsize=7)
    ax.set_ylabel("linear CKA with SimCLR's optimum")
    ax.set_ylim(0, 1)
    ax.set_title(f"How 'akin' is SimCLR to ISOMAP? (N = {res['params']['n']}, K = {res['params']['k']}; "
                 f"mean and std over {res['params']['seeds']} seeds)")
    ax.legend(fontsize=7)
    return save(fig, fmt)
