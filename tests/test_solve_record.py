"""``ssl-proofs solve``: the same record in every mode (issue 19, item 1).

Every mode (closed form, ``--linear``, ``--search``) prints and writes (``--json``) loss,
certificate with its note, rank of Z (and why it is below K), residual, search summary; a flag
that does not apply is refused, never ignored; one meaning of ``rank`` across solution types.
"""
import json

import numpy as np
import pytest
import scipy.sparse as sp

import ssl_proofs
from ssl_proofs.graphs import laplacian, view_graph
from ssl_proofs_cli import main

#: the fields every mode's record carries (the README promises loss, certificate and rank)
RECORD = {"loss", "certificate", "note", "rank", "rank_note", "residual", "eigenvalues", "hyper", "search"}


def _path(n):
    G = np.diag(np.ones(n - 1), 1)
    return G + G.T


@pytest.fixture
def files(tmp_path):
    G = _path(10)
    sp.save_npz(tmp_path / "g.npz", sp.csr_matrix(G))
    np.save(tmp_path / "X.npy", np.random.default_rng(0).normal(size=(10, 4)))
    return tmp_path


def _solve(tmp_path, *extra):
    return main(["solve", "vicreg", "--graph", str(tmp_path / "g.npz"), "-k", "3", "--out", str(tmp_path / "out.npy"),
                 *extra])


def test_linear_json_carries_the_same_record_as_the_closed_form(files, capsys):
    assert _solve(files, "--linear", "--data", str(files / "X.npy"), "--json", str(files / "lin.json")) == 0
    assert (files / "lin.json").is_file(), "--json was silently ignored with --linear"
    lin = json.loads((files / "lin.json").read_text())
    X, W = np.load(files / "X.npy"), np.load(files / "out.npy")
    assert _solve(files, "--json", str(files / "cf.json")) == 0
    cf = json.loads((files / "cf.json").read_text())
    assert RECORD <= set(lin) and RECORD <= set(cf)
    assert lin["certificate"] == "proved" and lin["note"]
    # rank of Z, measured independently of the solver: singular values of Z = X W
    s = np.linalg.svd(X @ W, compute_uv=False)
    assert lin["rank"] == int(np.sum(s > 1e-8 * max(1.0, s.max())))
    out = capsys.readouterr().out
    assert "certificate: proved" in out and "rank of Z:" in out and "backward error" in out


def test_search_with_linear_is_refused_not_ignored(files, capsys):
    code = _solve(files, "--linear", "--data", str(files / "X.npy"), "--search")
    assert code == 2
    assert "--search is not available with --linear" in capsys.readouterr().err


def test_linear_barlowtwins_candidate_warns_like_the_nonlinear_solve(tmp_path, capsys):
    # two views of 5 samples, 3 features with noise: top-3 rho < 1, several columns -> only a candidate
    sp.save_npz(tmp_path / "v.npz", sp.csr_matrix(view_graph(5, 2)))
    np.save(tmp_path / "X.npy", np.random.default_rng(1).normal(size=(10, 3)))
    api = ssl_proofs.get_method("barlowtwins").solve_linear(np.load(tmp_path / "X.npy"), view_graph(5, 2), 3)
    assert api.certificate == "candidate"          # the premise: the API says candidate
    code = main(["solve", "barlowtwins", "--graph", str(tmp_path / "v.npz"), "--data", str(tmp_path / "X.npy"),
                 "-k", "3", "--linear", "--out", str(tmp_path / "W.npy")])
    assert code == 0
    cap = capsys.readouterr()
    assert "certificate: candidate" in cap.out
    assert "warning: not a proved optimum" in cap.err


def test_collapse_says_why_w_is_zero(tmp_path, capsys):
    # features = the top Laplacian eigenvectors of a path: every generalized eigenvalue of
    # (X^T L X, X^T H X) is >= alpha/gamma = 1 (independent: numpy's eigh of L), so W* = 0
    G = _path(10)
    lam, U = np.linalg.eigh(laplacian(G).toarray() if sp.issparse(laplacian(G)) else laplacian(G))
    X = U[:, -3:]
    assert lam[-3:].min() >= 1.0
    sp.save_npz(tmp_path / "g.npz", sp.csr_matrix(G))
    np.save(tmp_path / "X.npy", X)
    assert _solve(tmp_path, "--linear", "--data", str(tmp_path / "X.npy"), "--json", str(tmp_path / "s.json")) == 0
    assert np.allclose(np.load(tmp_path / "out.npy"), 0)
    out = capsys.readouterr().out
    assert "rank of Z: 0" in out and "collapse" in out and "alpha/gamma" in out
    rec = json.loads((tmp_path / "s.json").read_text())
    assert rec["rank"] == 0 and "collapse" in rec["rank_note"]


def test_rank_means_rank_of_z_for_linear_and_nonlinear_solutions():
    G = _path(10)
    X = np.random.default_rng(0).normal(size=(10, 4))
    vic = ssl_proofs.get_method("vicreg")
    lin = vic.solve_linear(X, G, 3, variant="squared")
    # rank(X^T H X) = 4 (full column rank) but Z = XW has fewer non-zero columns here
    Xc = X - X.mean(axis=0)
    assert lin.metric_rank == np.linalg.matrix_rank(Xc.T @ Xc) == 4
    s = np.linalg.svd(lin.Z, compute_uv=False)
    assert lin.rank == int(np.sum(s > 1e-8 * s.max())) < 4
    full = vic.solve(G, 3, variant="squared")
    s = np.linalg.svd(full.Z, compute_uv=False)
    assert full.rank == int(np.sum(s > 1e-8 * s.max()))


def test_search_shows_progress_and_a_search_summary(tmp_path, capsys):
    sp.save_npz(tmp_path / "v.npz", sp.csr_matrix(view_graph(4, 2)))
    code = main(["solve", "barlowtwins", "--graph", str(tmp_path / "v.npz"), "-k", "5", "--search",
                 "--out", str(tmp_path / "Z.npy"), "--json", str(tmp_path / "s.json")])
    assert code == 0
    cap = capsys.readouterr()
    assert "L-BFGS runs" in cap.err                # progress while it runs (not a terminal: lines)
    rec = json.loads((tmp_path / "s.json").read_text())
    assert rec["certificate"] == "searched" and rec["search"]["runs"] >= 1
    assert rec["search"]["upper_bound"] == pytest.approx(rec["loss"])


def test_a_large_sparse_solve_shows_the_eigensolver_progress(tmp_path, capsys):
    # an Erdos-Renyi graph: its factorisation fills in, so the solver is LOBPCG (seconds, not instant)
    n = 1200
    A = sp.random(n, n, density=8 / n, random_state=0, format="csr")
    A.data[:] = 1.0
    G = ((A + A.T) > 0).astype(float)
    G.setdiag(0)
    G.eliminate_zeros()
    sp.save_npz(tmp_path / "g.npz", sp.csr_matrix(G))
    code = main(["solve", "vicreg", "--graph", str(tmp_path / "g.npz"), "-k", "3", "--variant", "constrained",
                 "--out", str(tmp_path / "Z.npy"), "--json", str(tmp_path / "s.json")])
    assert code == 0
    rec = json.loads((tmp_path / "s.json").read_text())
    assert rec["solver"] == "lobpcg"                 # the premise of the check
    err = capsys.readouterr().err
    assert "LOBPCG" in err and "backward error" in err   # a live line while it converges
