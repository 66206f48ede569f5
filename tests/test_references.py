"""Our graph-form losses vs the official VICReg / Barlow Twins code and pytorch-metric-learning.

On a two-view batch ``Z = [x; y]`` with ``G = view_graph(B, 2)`` (row i of x and row i of y are positives).
Conversions (docs/conventions.md):

* invariance: ours ``(gamma/N) sum_ij G_ij ||z_i - z_j||^2`` counts each pair twice and divides by N = 2B,
  so it is ``gamma * K * mse(x, y)`` (upstream: ``sim_coeff * mse``).
* covariance / variance: ours pool both views in one covariance over N = 2B rows; upstream uses each view
  with ddof 1.  When the views have equal means and covariances (y = x with rows permuted) our pooled
  ``ddof = 0`` covariance of ``Z * sqrt(B / (B - 1))`` is upstream's per-view covariance.
* std: upstream ``sqrt(var + 1e-4)``; ours has no epsilon (take eps = 0 in the reference to compare exactly).
* Barlow Twins: ours is the uncentred cosine of (left, right) = ([x; y], [y; x]); upstream BatchNorm-standardises
  each view.  They agree exactly when the reference is applied to the symmetrised stack
  ``([x; y], [y; x])`` with column-centred Z and bn_eps = 0; otherwise they differ (shown below).
"""
import numpy as np
import pytest
import torch

import ssl_proofs
from ssl_proofs.graphs import view_graph
from ssl_proofs_verifiers.references import barlowtwins_official, vicreg_official, vicreg_pml

vic = ssl_proofs.get_method("vicreg")
bt = ssl_proofs.get_method("barlowtwins")
B, K = 7, 4


def _views(seed=0, permute=True):
    g = torch.Generator().manual_seed(seed)
    x = 0.6 * torch.randn(B, K, generator=g, dtype=torch.float64)
    y = x[torch.randperm(B, generator=g)] if permute else torch.randn(B, K, generator=g, dtype=torch.float64)
    return x, y


def _ours_terms(Z, G, ddof=0.0):
    """(variance, covariance, invariance) terms of our hinge VICReg, isolated through hyper-parameters."""
    base = vic.loss(Z, G, variant="hinge", alpha=1.0, beta=0.0, gamma=0.0, ddof=ddof)
    with_cov = vic.loss(Z, G, variant="hinge", alpha=1.0, beta=1.0, gamma=0.0, ddof=ddof)
    with_inv = vic.loss(Z, G, variant="hinge", alpha=1.0, beta=0.0, gamma=1.0, ddof=ddof)
    return base, with_cov - base, with_inv - base


def test_vicreg_matches_official_up_to_documented_constants():
    x, y = _views()
    G = view_graph(B, 2)
    Z = torch.cat([x, y]).numpy()
    _, ref = vicreg_official(x, y, eps=0.0, terms=True)
    _, _, inv = _ours_terms(Z, G)
    assert inv == pytest.approx(K * float(ref["repr"]), rel=1e-12)          # gamma K mse
    var, cov, _ = _ours_terms(Z * np.sqrt(B / (B - 1)), G)                  # ddof N-1 per view
    assert var == pytest.approx(K * float(ref["std"]), rel=1e-12)           # sum vs mean over K
    assert cov == pytest.approx(K / 2 * float(ref["cov"]), rel=1e-12)       # /K per view, two views
    # full loss with upstream coefficients, in our units
    sim, std, cv = 25.0, 25.0, 1.0
    total = sim * inv / K + std * var / K + cv * 2 * cov / K
    assert total == pytest.approx(float(vicreg_official(x, y, eps=0.0)), rel=1e-12)


def test_vicreg_epsilon_placement_is_the_only_gap_left():
    x, y = _views(1)
    exact, with_eps = float(vicreg_official(x, y, eps=0.0)), float(vicreg_official(x, y))
    assert 0 < abs(exact - with_eps) < 25.0 * 1e-4  # std shifts by <= eps / (2 std) per feature


def test_pytorch_metric_learning_equals_official():
    x, y = _views(2, permute=False)
    assert float(vicreg_pml(x, y)) == pytest.approx(float(vicreg_official(x, y)), rel=1e-10)


def test_barlowtwins_equals_official_on_symmetrised_centred_stack():
    x, y = _views(3, permute=False)
    Z = torch.cat([x, y])
    Z = Z - Z.mean(dim=0)
    G = view_graph(B, 2)
    left, right = Z, torch.cat([Z[B:], Z[:B]])
    ref = float(barlowtwins_official(left, right, lambd=0.0051, bn_eps=0.0))
    assert bt.loss(Z.numpy(), G, alpha=0.0051) == pytest.approx(ref, rel=1e-11)


def test_barlowtwins_differs_from_official_without_centring_or_per_view():
    x, y = _views(4, permute=False)
    Z = torch.cat([x + 3.0, y + 3.0])   # uncentred: ours is a cosine, BatchNorm centres
    G = view_graph(B, 2)
    ours = bt.loss(Z.numpy(), G, alpha=0.0051)
    sym = float(barlowtwins_official(Z, torch.cat([Z[B:], Z[:B]]), bn_eps=0.0))
    per_view = float(barlowtwins_official(Z[:B], Z[B:], bn_eps=0.0))
    assert abs(ours - sym) > 1e-3 and abs(ours - per_view) > 1e-3
