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
from ssl_proofs.claims import ClaimVerdict, classical_mds, geodesic_distances, linear_cka

from . import data, fit
from .cache import Cache, no_progress, sweep
from .plotting import pyplot, save
from .registry import ExperimentResult, experiment

NAME = "simclr_mds"
REFERENCES = ("isomap", "laplacian_eigenmaps", "spectral_contrastive", "random")


def budget(full):
    return {"n": 200, "k": 8, "taus": [0.1, 0.2, 0.5, 1.0] if full else [0.1, 0.5],
            "graphs": ["digits_knn", "moons_knn", "rewired_labels"], "starts": 3 if full else 2,
            "max_iter": 2000 if full else 600}


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
    records = sweep(cache, NAME, P, {"graph": P["graphs"], "tau": P["taus"]},
                    partial(_cell, P=P, seed=seed), progress, seed=seed)
    return ExperimentResult(NAME, P, records, [_verdict(records)])


def _verdict(records):
    closer_iso = [(r["graph"], r["tau"]) for r in records if r["cka"]["isomap"] > r["cka"]["laplacian_eigenmaps"]]
    closer_le = [(r["graph"], r["tau"]) for r in records if r["cka"]["isomap"] <= r["cka"]["laplacian_eigenmaps"]]
    evidence = {"cka": {f"{r['graph']} tau={r['tau']}": r["cka"] for r in records},
                "cka_isomap_vs_le": {r["graph"]: r["cka_isomap_vs_le"] for r in records},
                "mean_cka_simclr_isomap": float(np.mean([r["cka"]["isomap"] for r in records])),
                "mean_cka_simclr_le": float(np.mean([r["cka"]["laplacian_eigenmaps"] for r in records])),
                "closer_to_isomap": closer_iso, "closer_to_le": closer_le}
    if not closer_le:
        return ClaimVerdict("simclr_isomap", "holds", evidence)
    if not closer_iso:
        return ClaimVerdict("simclr_isomap", "refuted", evidence,
                            "SimCLR's optimum is closer to Laplacian Eigenmaps than to ISOMAP on every graph and tau")
    return ClaimVerdict("simclr_isomap", "holds under conditions", evidence,
                        f"closer to ISOMAP on {closer_iso}; closer to Laplacian Eigenmaps on {closer_le}")


def plot(result, fmt="png"):
    """Grouped bars: CKA of SimCLR's optimum with each reference embedding, per (graph, tau)."""
    plt = pyplot()
    res = result.to_dict() if hasattr(result, "to_dict") else result
    records = res["records"]
    fig, ax = plt.subplots(figsize=(11, 4))
    x = np.arange(len(records))
    w = 0.8 / len(REFERENCES)
    for j, name in enumerate(REFERENCES):
        ax.bar(x + (j - 1.5) * w, [r["cka"][name] for r in records], w, label=name)
    ax.set_xticks(x, [f"{r['graph']}\ntau={r['tau']}" for r in records], fontsize=7)
    ax.set_ylabel("linear CKA with SimCLR's optimum")
    ax.set_ylim(0, 1)
    ax.set_title(f"How 'akin' is SimCLR to ISOMAP? (N = {res['params']['n']}, K = {res['params']['k']})")
    ax.legend(fontsize=7)
    return save(fig, fmt)
