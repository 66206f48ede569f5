"""Spectral contrastive loss: population form, Eckart-Young closed form, rank, global-vs-local."""
import numpy as np
import pytest

import ssl_proofs
from ssl_proofs import InvalidGraph
from ssl_proofs.derivations.spectral_contrastive import population_formula
from ssl_proofs.graphs import label_graph, view_graph
from ssl_proofs.theorems import Theorem
from ssl_proofs_verifiers import verify
from ssl_proofs_verifiers.checks import Context
from ssl_proofs_verifiers.runner import run_theorem
from ssl_proofs_verifiers.descent import minimise

sc = ssl_proofs.get_method("spectral_contrastive")
RNG = np.random.default_rng(1)


def _path(n):
    G = np.zeros((n, n))
    i = np.arange(n - 1)
    G[i, i + 1] = G[i + 1, i] = 1.0
    return G


def test_loss_equals_population_formula_and_factorisation():
    G = _path(6) * np.array([1, 2, 1, 1, 3, 1])[:, None]
    G = G + G.T
    Z = RNG.standard_normal((6, 3))
    assert sc.loss(Z, G) == pytest.approx(population_formula(Z, G), rel=1e-12)
    d = G.sum(axis=1)
    A = G / np.sqrt(np.outer(d, d))
    F = np.sqrt(d / d.sum())[:, None] * Z
    assert sc.loss(Z, G) == pytest.approx(np.sum((A - F @ F.T) ** 2) - np.sum(A ** 2), rel=1e-12)


def test_derivation_evidence_levels():
    levels = [s.evidence.level for s in sc.derivation().check().steps]
    assert levels == ["numeric", "exact", "numeric", "numeric", "cited"]   # reachability, Eckart-Young (cited lemma)


def test_closed_form_value_rank_and_gd():
    G = _path(7)
    for k in (1, 3, 6):
        sol = sc.solve(G, k)
        assert sol.loss == pytest.approx(sc.optimal_value(G, k), abs=1e-12)
        gd = minimise(sc, G, k, variant="population", hyper={}, starts=2, device="cpu")
        assert gd.loss == pytest.approx(sol.loss, abs=1e-9)
    # path on 7 nodes: A_bar = cos(pi j / 6): 1, .87, .5, 0, ... -> 3 positive, the exact 0 does not count
    assert sc.predicted_rank(G, 6) == 3


def test_rank_on_label_graph_is_number_of_classes():
    G = label_graph(np.repeat(np.arange(3), 4))
    assert sc.predicted_rank(G, 6) == 3


def test_recorded_verdicts(budget):
    ids = ["spectral_contrastive.closed_form", "spectral_contrastive.rank",
           "spectral_contrastive.global.mds_oracle", "spectral_contrastive.regular.same_as_vicreg",
           "spectral_contrastive.irregular.same_as_vicreg", "spectral_contrastive.any.same_as_barlowtwins"]
    for r in verify(ids, examples=min(budget, 6), device="cpu", starts=2):
        assert r.matches, (r.theorem.id, r.verdict, r.counterexample)


def _no_sqrt_solver(G, k, *, variant=None, **hp):
    """Planted error: forgets the sqrt(rho) scaling (unit columns)."""
    sol = sc.solve(G, k)
    return sol.spectral.problem.scale * sol.spectral.problem.row_weights[:, None] * sol.spectral.vectors


def test_planted_wrong_closed_form_is_refuted():
    th = Theorem("spectral_contrastive.user", "spectral_contrastive", "no sqrt(rho)",
                 claim="closed_form_nondegenerate", params={"variant": "population", "graphs": "connected"})
    r = run_theorem(th, examples=5, ctx=Context(device="cpu", starts=2, solver=_no_sqrt_solver))
    assert r.verdict == "refuted"


def test_isolated_nodes_raise():
    G = np.zeros((3, 3))
    G[0, 1] = G[1, 0] = 1.0
    with pytest.raises(InvalidGraph, match="isolated"):
        sc.solve(G, 1)
    assert np.isfinite(sc.loss(np.ones((3, 2)), G))     # the loss itself is defined (zero mass)


def test_rank_does_not_count_a_zero_eigenvalue_left_by_rounding():
    """Soak counterexample (seed 1, 300 examples): two trees on 8 nodes, K = 5. rho_4 = 0 exactly (the
    loss of a rank-3 point equals the proved minimum), but the dense solver returned 2.0e-15 and the
    old threshold sqrt(K eps) counted it: predicted rank 4."""
    n = 8
    G = np.zeros((n, n))
    for a, b in [(0, 3), (0, 4), (1, 6), (2, 3), (2, 4), (3, 7), (5, 6)]:
        G[a, b] = G[b, a] = 1.0
    # independent count: eigenvalues of D^-1/2 G D^-1/2 clearly above rounding
    d = G.sum(axis=1)
    rho = np.linalg.eigvalsh(G / np.sqrt(np.outer(d, d)))[::-1][:5]
    assert int(np.count_nonzero(rho > 1e-10)) == 3
    assert ssl_proofs.get_method("spectral_contrastive").solve(G, 5).rank == 3
