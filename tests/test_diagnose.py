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
import scipy.sparse as sp
import torch
from pytorch_metric_learning.losses import VICRegLoss

import ssl_proofs
from ssl_proofs.diagnose import diagnose, hinge_candidate
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
