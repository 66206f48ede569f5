"""``diagnose``: known optima, known saddles, bad input, and a real VICReg training run.

The training run: a small MLP trained on digits augmentations (pixel shifts +
noise) with pytorch-metric-learning's ``VICRegLoss``; the batch embeddings at
the start and at the end of training are diagnosed against the paper's hinge
loss with matching weights (pml's lambda/mu/nu are per-dimension means:
gamma = lambda/K, alpha = mu/K, beta ~ 2 nu/K on the stacked batch).
"""
import json

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sp
import torch
from pytorch_metric_learning.losses import VICRegLoss

import ssl_proofs
from ssl_proofs.diagnose import diagnose, from_official, hinge_candidate
from ssl_proofs.errors import InvalidArgument, InvalidGraph, NoClosedForm
from ssl_proofs.graphs import laplacian, view_graph
from ssl_proofs_cli import main
from ssl_proofs_verifiers.experiments import data


def _path(n):
    G = np.diag(np.ones(n - 1), 1)
    return G + G.T


def test_closed_form_optimum_is_diagnosed_at_the_optimum_with_the_predicted_rank():
    G = _path(12)                              # simple spectrum: no degenerate eigenspaces
    alpha, gamma = 1.0, 1.5
    Z = ssl_proofs.get_method("vicreg").solve(G, 5, variant="squared", alpha=alpha, gamma=gamma).Z
    d = diagnose(Z + 3.0, G, "vicreg", alpha=alpha, gamma=gamma)   # the mean is free
    assert abs(d.gap) <= 1e-9 * max(1, abs(d.optimal_loss))
    assert max(d.principal_angles) < 1e-5
    lam = np.sort(np.linalg.eigvalsh(laplacian(G)))[1:6]            # independent: dense eigvalsh
    assert d.predicted_rank == int(np.sum(lam < alpha / gamma)) == d.numerical_rank
    assert [c["index"] for c in d.collapsed_directions] == [j for j in range(5) if lam[j] >= alpha / gamma]
    assert d.state == "near the optimum"


def test_spectral_contrastive_optimum_has_the_eckart_young_rank_uncentred():
    G = _path(9)
    G[0, 8] = G[8, 0] = 1.0                    # a 9-cycle: A_bar has negative eigenvalues too
    k = 7
    Z = ssl_proofs.get_method("spectral_contrastive").solve(G, k).Z
    d = diagnose(Z, G, "spectral_contrastive")
    rho = np.sort(np.linalg.eigvalsh(G / 2))[::-1][:k]     # D = 2I on the cycle: A_bar = G / 2
    assert d.predicted_rank == d.numerical_rank == int(np.sum(rho > 1e-12))
    assert abs(d.gap) <= 1e-9 and d.state == "near the optimum"


def test_another_eigenvector_subset_is_a_saddle_at_ninety_degrees():
    G = _path(12)
    n, alpha, gamma = 12, 1.0, 0.2
    lam, U = np.linalg.eigh(laplacian(G))
    # bottom-3 non-constant eigenvectors would be columns 1..3; use 1, 2 and 5 instead
    cols = [1, 2, 5]
    Z = np.sqrt(n) * U[:, cols] * np.sqrt(1 - gamma / alpha * lam[cols])
    d = diagnose(Z, G, "vicreg", alpha=alpha, gamma=gamma)
    assert d.relative_grad_norm < 1e-8         # stationary
    assert d.gap > 1e-3
    assert d.state.startswith("near a saddle")
    assert max(d.principal_angles) > 89.0


def test_hinge_candidate_is_stationary_for_large_beta():
    G = view_graph(6, 2)                       # eigenvalues 0 (x5 on 1^perp) and 2
    alpha, gamma = 1.0, 2.0
    Z, lam, t = hinge_candidate(G, 8, alpha, gamma)
    assert np.allclose(t[lam > 1], alpha / (8 * gamma))          # min(1, alpha / (4 gamma * 2))
    # invariant directions: any std >= 1 is optimal; 1.5 keeps them off the hinge's kink at 1
    Z = Z * np.where(lam > 1, 1.0, 1.5)[None, :]
    f = ssl_proofs.get_method("vicreg").objective(G, variant="hinge", alpha=alpha, beta=1e3, gamma=gamma)
    Y = torch.as_tensor(Z).requires_grad_(True)
    (g,) = torch.autograd.grad(f(Y), Y)
    assert float(g.abs().max()) < 1e-8


@pytest.mark.parametrize("bad, exc, match", [
    (lambda Z, G: (Z[:-1], G, {}), InvalidArgument, "rows but G has"),
    (lambda Z, G: (np.where(np.arange(Z.size).reshape(Z.shape) == 3, np.nan, Z), G, {}), InvalidArgument, "NaN"),
    (lambda Z, G: (Z, G, {"alpha": -1.0}), InvalidArgument, "alpha"),
    (lambda Z, G: (Z, G, {"tau": 0.5}), InvalidArgument, "tau"),
    (lambda Z, G: (Z, G[:-1], {}), InvalidGraph, "square"),
])
def test_bad_inputs_are_refused_with_the_problem_named(bad, exc, match):
    G = _path(8)
    Z = np.random.default_rng(0).standard_normal((8, 3))
    Zb, Gb, hp = bad(Z, G)
    with pytest.raises(exc, match=match):
        diagnose(Zb, Gb, "vicreg", **hp)


def test_simclr_has_no_closed_form_to_diagnose_against():
    with pytest.raises(NoClosedForm):
        diagnose(np.random.default_rng(0).standard_normal((8, 3)), _path(8), "simclr")


def test_cli_bad_input_exits_2_with_a_message(tmp_path, capsys):
    np.save(tmp_path / "Z.npy", np.zeros((7, 3)))
    sp.save_npz(tmp_path / "G.npz", sp.csr_matrix(_path(8)))
    code = main(["diagnose", "--embeddings", str(tmp_path / "Z.npy"), "--graph", str(tmp_path / "G.npz")])
    assert code == 2
    assert "7 rows but G has 8 nodes" in capsys.readouterr().err


# -- a real training run ------------------------------------------------------------------------

B, K, EPOCHS = 64, 16, 8


def _batch_views(X, idx, rng):
    return [data.standardise(data.augment(X[idx], "digits", rng), X)[0] for _ in range(2)]


def _train_and_diagnose(tmp_path):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    X, _ = data.load("digits")
    net = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, K)).double()
    loss_fn = VICRegLoss()                     # lambda = 25, mu = 25, nu = 1
    hp = {"alpha": 25 / K, "beta": 2 / K, "gamma": 25 / K}
    probe_idx = rng.choice(len(X), B, replace=False)
    probe_views = _batch_views(X, probe_idx, np.random.default_rng(1))   # the same batch at start and end
    G = view_graph(B, 2)

    def embed():
        with torch.no_grad():
            return torch.cat([net(torch.as_tensor(v)) for v in probe_views]).numpy()

    Z0 = embed()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(EPOCHS):
        for start in range(0, len(X) - B + 1, B):
            idx = rng.permutation(len(X))[:B]
            v1, v2 = (torch.as_tensor(v) for v in _batch_views(X, idx, rng))
            loss = loss_fn(net(v1), ref_emb=net(v2))
            opt.zero_grad()
            loss.backward()
            opt.step()
    Z1 = embed()
    np.save(tmp_path / "Z0.npy", Z0)
    np.save(tmp_path / "Z1.npy", Z1)
    sp.save_npz(tmp_path / "G.npz", sp.csr_matrix(G))
    return [diagnose(Z, G, "vicreg", variant="hinge", **hp) for Z in (Z0, Z1)], hp


def test_vicreg_training_run_moves_toward_the_closed_form(tmp_path):
    (start, end), hp = _train_and_diagnose(tmp_path)
    # training on the pml loss lowers the paper's loss of the held batch and closes the gap
    assert end.loss < start.loss and 0 <= end.gap < start.gap
    # the batch becomes more invariant: Z's span turns toward the zero eigenspace of L (pair-constant)
    assert np.mean(end.principal_angles) < np.mean(start.principal_angles)
    assert end.energy_in_optimal_subspace > start.energy_in_optimal_subspace
    out = tmp_path / "d.json"
    args = ["diagnose", "--embeddings", str(tmp_path / "Z1.npy"), "--graph", str(tmp_path / "G.npz"),
            "--method", "vicreg", "--variant", "hinge", "--json", str(out)]
    args += [x for k, v in hp.items() for x in (f"--{k}", str(v))]
    assert main(args) == 0
    rec = json.loads(out.read_text())
    assert {"loss", "optimal_loss", "gap", "principal_angles", "effective_rank"} <= set(rec)
    assert abs(rec["gap"] - end.gap) < 1e-9 * max(1, abs(end.loss))


# -- cannot be misread (issue 19, item 3) -------------------------------------------------------

def _cli(tmp_path, Z, G, *extra):
    np.save(tmp_path / "Z.npy", Z)
    sp.save_npz(tmp_path / "G.npz", sp.csr_matrix(G))
    return main(["diagnose", "--embeddings", str(tmp_path / "Z.npy"), "--graph", str(tmp_path / "G.npz"), *extra])


def test_extra_directions_are_not_hidden_behind_zero_angles(tmp_path, capsys):
    G = _path(12)
    alpha, gamma = 1.0, 3.0                    # lambda_k >= 1/3 collapse: the optimum has rank 2 of K = 5
    lam, U = np.linalg.eigh(laplacian(G))
    assert int(np.sum(lam[1:6] < alpha / gamma)) == 2
    Zs = ssl_proofs.get_method("vicreg").solve(G, 5, variant="squared", alpha=alpha, gamma=gamma).Z
    Z = Zs.copy()
    Z[:, 2:] = np.sqrt(12) * U[:, 8:11]        # three unit-variance directions outside the optimum's span
    d = diagnose(Z, G, "vicreg", alpha=alpha, gamma=gamma)
    # the angles run over the directions both subspaces have: all 0 here, which alone would mislead
    assert d.subspace_rank == 5 and d.optimal_subspace_dim == 2 and len(d.principal_angles) == 2
    assert max(d.principal_angles) < 1e-6
    assert d.verdict.startswith("far from the optimum") and "spans 5 directions" in d.verdict
    assert _cli(tmp_path, Z, G, "--alpha", "1", "--gamma", "3") == 0
    out = capsys.readouterr().out
    assert "over the 2 direction(s) both subspaces have (Z spans 5, the optimum's eigenspace 2)" in out
    Zc = Z - Z.mean(axis=0)
    energy = np.sum((U[:, 1:3].T @ Zc) ** 2) / np.sum(Zc ** 2)     # independent: eigh's eigenvectors
    assert energy < 0.3
    assert f"energy of Z inside the eigenspace {energy:.3f}" in out


def test_a_point_below_the_barlowtwins_candidate_is_not_called_near_the_optimum():
    G = np.ones((3, 3)) - np.eye(3)            # triangle, K = 2 > 1 component: only a candidate
    bt = ssl_proofs.get_method("barlowtwins")
    cand = bt.solve(G, 2, alpha=0.5)
    assert cand.certificate == "candidate"
    better = bt.solve(G, 2, search=True, alpha=0.5, seed=0)
    assert better.loss < cand.loss - 0.1       # docs/barlowtwins.md: 2/3 against 1
    # rel_tol 0.5 > |relative gap| 1/3: the old classification said "near the optimum"
    d = diagnose(better.Z, G, "barlowtwins", alpha=0.5, rel_tol=0.5)
    assert d.state.startswith("lower than the candidate")
    assert d.verdict.startswith("lower than the candidate") and "not optimal here" in d.verdict
    assert "near the optimum" not in d.state + d.verdict


def test_exact_zero_is_zero_and_the_two_view_gap_is_the_loss(tmp_path, capsys):
    G = view_graph(8, 2)                       # K = 3 <= 7 invariant directions: the optimum has loss 0
    vic = ssl_proofs.get_method("vicreg")
    Zs = vic.solve(G, 3, variant="squared").Z
    raw = vic.loss(Zs, G, variant="squared")
    n, k = Zs.shape
    assert abs(raw) <= 64 * n * k * np.finfo(float).eps          # the premise: 0 to rounding
    Z = Zs + 0.1 * np.random.default_rng(0).standard_normal(Zs.shape)
    d = diagnose(Z, G, "vicreg")
    assert d.optimal_loss == 0.0 and d.gap == d.loss
    assert "gap is the loss itself" in d.verdict
    d0 = diagnose(Zs, G, "vicreg")
    assert d0.verdict.startswith("at the optimum")
    assert _cli(tmp_path, Zs, G) == 0
    out = capsys.readouterr().out
    assert "optimal 0 (" in out and "e-1" not in out.split("optimal")[1].split("(")[0]


def test_covariance_spectrum_shows_the_collapse_that_coordinate_stds_hide(tmp_path, capsys):
    G = view_graph(16, 2)
    rng = np.random.default_rng(0)
    U = rng.standard_normal((32, 4))
    U = np.linalg.qr(U - U.mean(axis=0))[0]                      # centred orthonormal columns
    spectrum = np.array([4.0, 2.0, 0.5, 0.002])
    Z = np.sqrt(32) * U * np.sqrt(spectrum) @ (sla.hadamard(4) / 2)   # rotation: equal coordinate variances
    d = diagnose(Z, G, "vicreg", variant="hinge")
    oracle = np.sort(np.linalg.eigvalsh(np.cov(Z, rowvar=False, bias=True)))[::-1]    # independent: numpy
    np.testing.assert_allclose(d.covariance_spectrum, oracle, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(d.covariance_spectrum, spectrum, rtol=1e-9)
    np.testing.assert_allclose(d.coordinate_variances, spectrum.sum() / 4, rtol=1e-9)
    assert "dimensional collapse" in d.verdict
    assert _cli(tmp_path, Z, G, "--variant", "hinge") == 0
    out = capsys.readouterr().out
    assert "covariance spectrum (eigenvalues of Cov(Z)): 4, 2, 0.5, 0.002" in out
    assert "dimensional collapse hidden by the per-coordinate stds" in out


# -- official coefficients -> the paper's hyper-parameters ------------------------------------

def official_vicreg(x, y, sim_coeff=25.0, std_coeff=25.0, cov_coeff=1.0):
    """Transcription of the official VICReg loss, single process (FullGatherLayer is the identity):
    https://github.com/facebookresearch/vicreg/blob/8c487baab2e2e6062e73abaf878989c6c09c2871/main_vicreg.py#L194-L220
    (batch_size = B, num_features = K)."""
    B, K = x.shape
    repr_loss = torch.nn.functional.mse_loss(x, y)
    x = x - x.mean(dim=0)
    y = y - y.mean(dim=0)
    std_x = torch.sqrt(x.var(dim=0) + 0.0001)
    std_y = torch.sqrt(y.var(dim=0) + 0.0001)
    std_loss = torch.mean(torch.nn.functional.relu(1 - std_x)) / 2 + torch.mean(torch.nn.functional.relu(1 - std_y)) / 2
    cov_x = (x.T @ x) / (B - 1)
    cov_y = (y.T @ y) / (B - 1)
    off = ~torch.eye(K, dtype=torch.bool)
    cov_loss = cov_x[off].pow(2).sum().div(K) + cov_y[off].pow(2).sum().div(K)
    return float(sim_coeff * repr_loss + std_coeff * std_loss + cov_coeff * cov_loss)


def official_barlowtwins(z1, z2, lambd=0.0051):
    """Transcription of the official Barlow Twins loss, single process (all_reduce is the identity):
    https://github.com/facebookresearch/barlowtwins/blob/8e8d284ca0bc02f88b92328e53f9b901e86b4a3c/main.py#L207-L221
    (self.bn = BatchNorm1d(K, affine=False) in training mode: biased variance, eps 1e-5)."""
    B, K = z1.shape
    bn = torch.nn.BatchNorm1d(K, affine=False).double().train()
    c = bn(z1).T @ bn(z2) / B
    on_diag = (torch.diagonal(c) - 1).pow(2).sum()
    off_diag = c[~torch.eye(K, dtype=torch.bool)].pow(2).sum()
    return float(on_diag + lambd * off_diag)


def test_official_vicreg_maps_to_the_papers_hinge_loss():
    B, K = 64, 6
    rng = np.random.default_rng(0)
    m = from_official("vicreg", K)                                  # 25, 25, 1
    assert m.variant == "hinge"
    assert m.hyper == pytest.approx({"alpha": 25 / K, "beta": 2 / K, "gamma": 25 / K, "ddof": 1.0})
    vic = ssl_proofs.get_method("vicreg")
    G = view_graph(B, 2)
    # 1. the invariance term is exact on any batch: the part that depends on sim_coeff / gamma
    x, y = rng.standard_normal((B, K)), rng.standard_normal((B, K))
    Z = np.vstack([x, y])
    ours = vic.loss(Z, G, variant="hinge", **m.hyper) - vic.loss(Z, G, variant="hinge", **{**m.hyper, "gamma": 0.0})
    theirs = official_vicreg(torch.as_tensor(x), torch.as_tensor(y)) - \
        official_vicreg(torch.as_tensor(x), torch.as_tensor(y), sim_coeff=0.0)
    assert ours == pytest.approx(theirs, rel=1e-12)
    # 2. on an invariant batch (x = y) the losses differ by exactly what docs/diagnose.md derives: the
    # stacked C is rho cov_x with rho = 2(B-1)/(2B-1) (ddof 1 on 2B rows), and the official eps 1e-4
    # sits inside the std
    x = rng.standard_normal((B, K)) @ np.diag([0.3, 0.6, 0.9, 1.2, 1.5, 2.0]) @ np.linalg.qr(rng.standard_normal((K, K)))[0]
    Z = np.vstack([x, x])
    xc = x - x.mean(axis=0)
    cov = xc.T @ xc / (B - 1)
    rho = 2 * (B - 1) / (2 * B - 1)
    off = ~np.eye(K, dtype=bool)
    v = np.diag(cov)
    relu = lambda t: np.maximum(t, 0.0)  # noqa: E731
    predicted = (m.hyper["alpha"] * np.sum(relu(1 - np.sqrt(rho * v)) - relu(1 - np.sqrt(v + 1e-4)))
                 + m.hyper["beta"] * (rho ** 2 - 1) * np.sum(cov[off] ** 2))
    ours = vic.loss(Z, G, variant="hinge", **m.hyper)
    theirs = official_vicreg(torch.as_tensor(x), torch.as_tensor(x))
    assert ours - theirs == pytest.approx(predicted, rel=1e-9, abs=1e-12)
    assert abs(predicted) < 0.05 * theirs      # O(1/B) at B = 64: the mapping carries the agreement
    # a wrong factor (beta = cov_coeff / K, the per-view term once) breaks the agreement by far more
    wrong = vic.loss(Z, G, variant="hinge", **{**m.hyper, "beta": 1 / K})
    assert abs(wrong - theirs - predicted) > 0.1 * theirs


def test_official_barlowtwins_maps_to_the_papers_loss():
    B, K, eps = 64, 5, 1e-5
    rng = np.random.default_rng(1)
    m = from_official("barlowtwins", K)
    assert m.hyper == {"alpha": 0.0051}
    x = rng.standard_normal((B, K))
    x = x - x.mean(axis=0)
    x = x @ np.linalg.inv(np.linalg.cholesky(x.T @ x / B)).T     # centred and whitened: x^T x / B = I
    v = rng.standard_normal(K)
    R = np.eye(K) - 2 * np.outer(v, v) / (v @ v)                # symmetric orthogonal: c = R is symmetric
    y = x @ R
    ours = ssl_proofs.get_method("barlowtwins").loss(np.vstack([x, y]), view_graph(B, 2), **m.hyper)
    theirs = official_barlowtwins(torch.as_tensor(x), torch.as_tensor(y), lambd=0.0051)
    # BatchNorm's eps scales c by 1/(1 + eps): |d (c_kk - 1)^2| <= 5 eps, |d c_kl^2| <= 2 eps per entry
    assert abs(ours - theirs) <= 5 * eps * K + 0.0051 * 2 * eps * K * K
    assert ours == pytest.approx(np.sum((np.diag(R) - 1) ** 2) + 0.0051 * np.sum(R[~np.eye(K, dtype=bool)] ** 2),
                                 rel=1e-9)


def test_cli_from_official_maps_and_refuses_mixed_flags(tmp_path, capsys):
    G = view_graph(8, 2)
    Z = np.random.default_rng(0).standard_normal((16, 4))
    assert _cli(tmp_path, Z, G, "--from-official", "sim_coeff=25,std_coeff=25,cov_coeff=1",
                "--json", str(tmp_path / "d.json")) == 0
    out = capsys.readouterr().out
    assert "alpha=6.25, beta=0.5, gamma=6.25, ddof=1" in out
    rec = json.loads((tmp_path / "d.json").read_text())
    assert rec["variant"] == "hinge" and rec["hyper"]["alpha"] == pytest.approx(25 / 4)
    assert _cli(tmp_path, Z, G, "--from-official", "--alpha", "1") == 2
    assert "--from-official replaces" in capsys.readouterr().err
    assert _cli(tmp_path, Z, G, "--from-official", "lambda=3") == 2
    assert "official coefficients are" in capsys.readouterr().err
