"""Claim ``hinge_finite_beta``: rank and local minima of the paper's hinge VICReg at finite beta.

On a low-data view graph (8 originals x 2 views, K = 12 > 7 invariant
directions; L has eigenvalues 0 and 2), every (beta, gamma/alpha) cell runs
the global search (:func:`ssl_proofs.search.global_minimise`) from several
single random starts (so every start's final loss and gradient are kept: the
landscape), then from the beta -> inf candidate and the best landscape point.
Measured: numerical and effective rank of the optimum and that rank as two
minimisations (rank <= r imposed vs free), its per-direction std against the
beta -> inf prediction ``min(1, alpha / (4 gamma lambda))``, the loss of that
decorrelated candidate, and how many distinct converged loss values the starts reach.
"""
from __future__ import annotations

from functools import partial

import numpy as np

import ssl_proofs
from ssl_proofs import graphs as _graphs
from ssl_proofs.claims import ClaimVerdict, centred_singular_values, effective_rank, numerical_rank
from ssl_proofs.diagnose import hinge_candidate
from ssl_proofs.search import global_minimise

from . import fit
from .cache import Cache, no_progress, sweep
from .pairing import rule_of
from .plotting import mean_std, pyplot, save
from .registry import ExperimentResult, experiment

NAME = "hinge"
#: a start counts as converged when its gradient max-norm is below this (L-BFGS stops at 1e-9 when smooth)
CONVERGED = 1e-6
#: two converged losses are distinct local minima when they differ by more than this, relative to max(1, |L|)
DISTINCT = 1e-6


def budget(full):
    return {"n_samples": 8, "views": 2, "k": 12, "alpha": 1.0, "betas": [1.0, 10.0, 100.0],
            "ratios": [float(x) for x in np.logspace(-2, 2, 9 if full else 5)],
            "starts": 16 if full else 6, "rank_starts": 6 if full else 2, "max_iter": 3000 if full else 1500}


def _search(vic, G, P, hp, seed, **kw):
    return global_minimise(vic, G, P["k"], variant="hinge", hyper=hp, seed=seed, device="cpu",
                           max_iter=P["max_iter"], gtol=1e-9, **kw)


def _rank_two_minimisations(vic, G, P, hp, seed, free):
    """Rank of the optimum as two minimisations each way (``Z = A B^T``, inner dimension r, vs free).

    ``rank <= r`` *reaches* the minimum found when its best is within :func:`fit.loss_tolerance` of the
    free best (or below it); otherwise it is *beaten*.  Starting at the free best's numerical rank
    (``K - 1`` if full), r moves down while ``rank <= r - 1`` still reaches, or up while ``rank <= r`` is
    beaten; the rank established is the smallest r that reaches with ``r - 1`` beaten (``K`` when even
    ``K - 1`` is beaten: full rank shown).  Each constrained search starts at the free best's best rank-r
    approximation (and its perturbations) plus ``rank_starts`` random starts.
    """
    k = P["k"]
    out = {}

    def reaches(inner):
        if f"rank<={inner}" not in out:
            con = _search(vic, G, P, hp, seed, starts=P["rank_starts"], rank=inner, candidates=(free.Z,))
            tol = fit.loss_tolerance(free.loss, con.loss)
            out[f"rank<={inner}"] = {"loss": con.loss, "gap_constrained_minus_free": con.loss - free.loss,
                                     "tolerance": tol, "reaches": bool(con.loss <= free.loss + tol)}
        return out[f"rank<={inner}"]["reaches"]

    r = min(numerical_rank(free.Z), k - 1)
    if reaches(r):
        while r > 0 and reaches(r - 1):
            r -= 1
        rank = r
    else:
        while r + 1 < k and not reaches(r + 1):
            r += 1
        rank = r + 1
    return {"searches": out, "rank": rank}


def _cell(P, beta, ratio, seed):
    """One (beta, gamma/alpha): the landscape from ``starts`` single random starts, then the global search.

    The landscape (distinct converged minima, M) needs each start's own end point, so each random start
    is its own one-start global search (seed ``1000 seed + i``).  The optimum is the global search from the
    beta -> inf candidate and the best landscape point (each perturbed twice), never worse than either.
    """
    vic = ssl_proofs.get_method("vicreg")
    G = _graphs.view_graph(P["n_samples"], P["views"])
    hp = {"alpha": P["alpha"], "beta": beta, "gamma": ratio * P["alpha"]}
    runs = [_search(vic, G, P, hp, seed * 1000 + i, starts=1) for i in range(P["starts"])]
    best = min(runs, key=lambda r: r.loss)
    Zc, _, t = hinge_candidate(G, P["k"], P["alpha"], hp["gamma"])
    cand_loss = vic.loss(Zc, G, variant="hinge", **hp)
    free = _search(vic, G, P, hp, seed, starts=0, candidates=(Zc, best.Z))
    conv = sorted(r.loss for r in runs if r.grad_norm < CONVERGED)
    distinct = []
    for v in conv:
        if not distinct or v - distinct[-1] > DISTINCT * max(1.0, abs(v)):
            distinct.append(v)
    return {"best_loss": free.loss, "landscape_best_loss": best.loss, "candidate_loss": cand_loss,
            "best_grad": free.grad_norm, "optimum": free.origin, "search": free.evidence,
            "rank": numerical_rank(free.Z), "effective_rank": effective_rank(free.Z),
            "rank_two_minimisations": _rank_two_minimisations(vic, G, P, hp, seed, free),
            "std": centred_singular_values(free.Z).tolist(), "predicted_std": sorted(t.tolist(), reverse=True),
            "losses": [r.loss for r in runs], "grads": [r.grad_norm for r in runs],
            "converged": len(conv), "distinct_minima": len(distinct), "distinct_values": distinct,
            "squared_rank": int(np.count_nonzero(
                np.clip(vic.solve(G, P["k"], variant="constrained").eigenvalues, 0, None) < 1.0 / ratio))}


@experiment(NAME, claims=("hinge_finite_beta",), plot=lambda res, fmt="png": plot(res, fmt))
def run(seed=0, full=False, cache=None, progress=no_progress):
    """Hinge VICReg at finite beta: rank, std vs the beta -> inf formula, and distinct local minima."""
    cache = cache or Cache(None)
    P = budget(full)
    records = sweep(cache, NAME, P, {"beta": P["betas"], "ratio": P["ratios"]},
                    partial(_cell, P, seed=seed), progress, seed=seed)
    return ExperimentResult(NAME, P, records, [_verdict(records, P)])


def _two_rank(r):
    return r["rank_two_minimisations"]["rank"]


def _verdict(records, P):
    k = P["k"]
    betas = P["betas"]
    # ranks as two minimisations (rank <= r imposed vs free), not the numerical rank of one point
    full_at = {b: [r["ratio"] for r in records if r["beta"] == b and _two_rank(r) == k] for b in betas}
    r1_fail = [(r["beta"], r["ratio"], _two_rank(r)) for r in records if _two_rank(r) < k]
    r2_fail = [(r["beta"], r["ratio"], r["best_loss"], r["candidate_loss"]) for r in records
               if r["best_loss"] < r["candidate_loss"] - DISTINCT * max(1.0, abs(r["candidate_loss"]))]
    multi = [(r["beta"], r["ratio"], r["distinct_minima"]) for r in records if r["distinct_minima"] > 1]
    two = {f"beta={r['beta']:g} gamma/alpha={r['ratio']:g}": {
        "free_loss": r["best_loss"], **{key: [v["loss"], v["reaches"]]
                                        for key, v in r["rank_two_minimisations"]["searches"].items()}, "rank": _two_rank(r)} for r in records}
    evidence = {"R0_full_rank_at(beta -> gamma/alpha list)": full_at,
                "R1_full_rank_failures(beta, gamma/alpha, rank)": r1_fail,
                "R1_two_minimisations(free loss; rank<=r: [loss, reaches])": two,
                "R2_candidate_beaten(beta, gamma/alpha, best, candidate)": r2_fail,
                "M_cells_with_several_converged_minima(beta, gamma/alpha, count)": multi,
                "cells": len(records), "invariant_directions": P["n_samples"] - 1, "k": k}
    r0 = all(full_at[b] for b in betas)
    version = rule_of("hinge_finite_beta").version
    if not r0:
        return ClaimVerdict("hinge_finite_beta", "refuted", evidence,
                            "some beta admits no gamma/alpha with a full-rank optimum", version)
    if not r1_fail and not r2_fail:
        return ClaimVerdict("hinge_finite_beta", "holds", evidence, rule_version=version)
    return ClaimVerdict("hinge_finite_beta", "holds under conditions", evidence,
                        "full rank is reachable by choosing gamma/alpha (paper's wording, R0) at every beta; "
                        f"the beta -> inf reading fails at finite beta: rank drops (a rank <= r < K search reaches the "
                        f"free best) at {len(r1_fail)} and the "
                        f"decorrelated formula is beaten at {len(r2_fail)} of {len(records)} (beta, gamma/alpha) "
                        f"cells; {len(multi)} cells show several distinct converged minima", version)


def plot(result, fmt="png"):
    """:func:`figure` as image bytes in format ``fmt`` (the CLI's atomic writer saves them)."""
    return save(figure(result), fmt)


def figure(result):
    """Rank of the hinge optimum (two minimisations; effective) vs gamma/alpha per beta, next to the squared
    variant's rank; the beta -> inf candidate's loss minus the best found.  Legends sit below the axes,
    outside the data (inside, the seven-entry legend covered the rank curves)."""
    plt = pyplot()
    res = result.to_dict() if hasattr(result, "to_dict") else result
    records, P = res["records"], res["params"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 5.5))
    for i, beta in enumerate(P["betas"]):
        cells = sorted((r for r in records if r["beta"] == beta), key=lambda r: r["ratio"])
        a.plot([r["ratio"] for r in cells], [_two_rank(r) for r in cells], "o-", color=f"C{i}",
               label=f"hinge, beta={beta:g} (rank by two minimisations)")
        xs, mu, _ = mean_std(records, "ratio", "effective_rank", beta=beta)
        a.plot(xs, mu, "s:", color=f"C{i}", label=f"hinge, beta={beta:g} (effective rank)")
        xs, gap, _ = mean_std(records, "ratio", "best_loss", beta=beta)
        _, cand, _ = mean_std(records, "ratio", "candidate_loss", beta=beta)
        b.plot(xs, cand - gap, "o-", color=f"C{i}", label=f"beta={beta:g}")
    xs, mu, _ = mean_std(records, "ratio", "squared_rank", beta=P["betas"][0])
    a.step(xs, mu, "k--", where="mid", label="squared variant: #{lambda < alpha/gamma}")
    a.set_xscale("log")
    a.set_xlabel(r"$\gamma/\alpha$")
    a.set_ylabel("rank of the optimum")
    a.set_title(f"view graph 8x2, K = {P['k']}")
    a.yaxis.set_major_locator(plt.MaxNLocator(integer=True))   # ranks are integers
    a.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)
    b.set_xscale("log")
    b.set_yscale("symlog", linthresh=1e-6)
    b.axhline(0, color="k", lw=0.8)
    b.set_xlabel(r"$\gamma/\alpha$")
    b.set_ylabel("candidate loss - best loss of the global search")
    b.set_title(r"$\beta\to\infty$ formula vs best found (> 0: formula beaten)")
    b.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=3)
    return fig
