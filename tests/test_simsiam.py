"""SimSiam / BYOL on G: the loss against the official formulas, the recorded verdicts, planted wrong claims.

The references are transcribed from the official code (numpy, independent of the module's torch code):

* SimSiam, https://github.com/facebookresearch/simsiam/blob/a7bc1772896d0dad0806c51f0bb6f3b16d290468/main_simsiam.py
  ``criterion = nn.CosineSimilarity(dim=1)``; ``loss = -(criterion(p1, z2).mean() + criterion(p2, z1).mean()) * 0.5``
* BYOL, https://github.com/deepmind/deepmind-research/blob/master/byol/utils/helpers.py (``regression_loss``:
  ``sum((l2_normalize(x) - l2_normalize(y))**2, axis=-1)``, ``l2_normalize`` = ``x * rsqrt(max(|x|^2, 1e-12))``);
  found through a third-party copy that cites byol_experiment.py at commit 6fcb84268e74af981ae1496bfc2cb9ba9d701ef2.
"""
import numpy as np
import pytest
import torch

import ssl_proofs
from ssl_proofs import InvalidArgument, InvalidGraph, NoClosedForm
from ssl_proofs.derivation import Step, check_step
from ssl_proofs.graphs import view_graph
from ssl_proofs.methods.base import Method
from ssl_proofs.methods.simsiam import n_components, sides
from ssl_proofs.theorems import Theorem
from ssl_proofs_verifiers.checks import Context
from ssl_proofs_verifiers.descent import minimise
from ssl_proofs_verifiers.runner import run_theorem

ss = ssl_proofs.get_method("simsiam")
RNG = np.random.default_rng(0)


def _cosine(x, y, eps=1e-8):
    """torch.nn.CosineSimilarity(dim=1): x.y / (max(|x|, eps) max(|y|, eps)), row-wise."""
    nx = np.maximum(np.linalg.norm(x, axis=1), eps)
    ny = np.maximum(np.linalg.norm(y, axis=1), eps)
    return np.sum(x * y, axis=1) / (nx * ny)


def official_simsiam(p1, p2, z1, z2):
    return -(_cosine(p1, z2).mean() + _cosine(p2, z1).mean()) * 0.5


def official_byol(x, y):
    def l2n(v):
        return v / np.sqrt(np.maximum(np.sum(v * v, axis=-1, keepdims=True), 1e-12))
    return np.sum((l2n(x) - l2n(y)) ** 2, axis=-1)


def _repeated_listing(G):
    """The paper's pair listing with an integer edge weight w repeated w times (rows, cols)."""
    rows, cols = np.nonzero(G)
    reps = G[rows, cols].astype(int)
    return np.repeat(rows, reps), np.repeat(cols, reps)


# -- the loss -------------------------------------------------------------------

def test_no_predictor_equals_official_simsiam_on_two_views():
    n = 5
    z1, z2 = RNG.standard_normal((n, 3)), RNG.standard_normal((n, 3))
    Z = np.vstack([z1, z2])
    # h = identity: p = z
    assert ss.loss(Z, view_graph(n, 2), variant="no_predictor") == pytest.approx(
        official_simsiam(z1, z2, z1, z2), rel=1e-12)


def test_no_predictor_equals_official_formula_on_weighted_pair_listing():
    G = np.array([[0, 2, 1, 0], [2, 0, 0, 1], [1, 0, 0, 3], [0, 1, 3, 0]], float)
    Z = RNG.standard_normal((4, 3))
    rows, cols = _repeated_listing(G)
    # one direction of each pair is "view 1", the other "view 2": the symmetrised official loss
    ref = -_cosine(Z[rows], Z[cols]).mean()
    assert ss.loss(Z, G, variant="no_predictor") == pytest.approx(ref, rel=1e-12)
    # BYOL's regression loss on the same listing is 2 + 2 L
    assert official_byol(Z[rows], Z[cols]).mean() == pytest.approx(2 + 2 * ss.loss(Z, G, variant="no_predictor"),
                                                                   rel=1e-12)


def test_predictor_form_is_the_best_prediction_per_node():
    G = np.array([[0, 2, 1, 0], [2, 0, 0, 1], [1, 0, 0, 3], [0, 1, 3, 0]], float)
    Z = RNG.standard_normal((4, 3))
    rows, cols = _repeated_listing(G)
    value = ss.loss(Z, G)
    # any predictor (here random linear maps, and the identity) does no better ...
    for _ in range(20):
        W = RNG.standard_normal((3, 3))
        assert value <= -_cosine(Z[rows] @ W, Z[cols]).mean() + 1e-12
    # ... and an independent minimisation over free predictions p_i (torch L-BFGS) reaches it
    P = torch.tensor(RNG.standard_normal((4, 3)), requires_grad=True)
    Zt, r, c = torch.tensor(Z), torch.tensor(rows), torch.tensor(cols)
    opt = torch.optim.LBFGS([P], max_iter=500, tolerance_grad=1e-14, tolerance_change=1e-16,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        f = -torch.nn.functional.cosine_similarity(P[r], Zt[c], dim=1).mean()
        f.backward()
        return f

    opt.step(closure)
    best = float(closure().detach())
    assert best == pytest.approx(value, abs=1e-9)


def test_hand_computed_values():
    edge = np.array([[0, 1.0], [1.0, 0]])
    Z = np.eye(2)                                     # orthogonal rows: rank 2 on one edge
    assert ss.loss(Z, edge, variant="no_predictor") == pytest.approx(0.0, abs=1e-15)
    assert ss.loss(Z, edge) == pytest.approx(-1.0)    # p_0 along z_1, p_1 along z_0: a rank-2 minimiser
    tri = np.ones((3, 3)) - np.eye(3)
    assert ss.loss(np.ones((3, 2)), tri) == pytest.approx(-1.0)   # collapse
    assert ss.loss(np.zeros((3, 2)), tri) == pytest.approx(0.0)   # zero rows have cosine 0


def test_loss_is_differentiable_and_scale_invariant_per_row():
    G = view_graph(3, 2)
    Z = RNG.standard_normal((6, 2))
    Zt = torch.tensor(Z, requires_grad=True)
    ss.loss(Zt, G).backward()
    assert torch.isfinite(Zt.grad).all()
    assert ss.loss(Z * RNG.uniform(0.1, 10, (6, 1)), G) == pytest.approx(ss.loss(Z, G), rel=1e-12)


def test_rank_bounds_count_components_and_bipartite_sides():
    edge = np.array([[0, 1.0], [1.0, 0]])
    tri = np.ones((3, 3)) - np.eye(3)
    path_plus_isolated = np.zeros((4, 4))
    path_plus_isolated[0, 1] = path_plus_isolated[1, 0] = path_plus_isolated[1, 2] = path_plus_isolated[2, 1] = 1
    assert (n_components(edge), sides(edge)) == (1, 2)
    assert (n_components(tri), sides(tri)) == (1, 1)
    assert (n_components(path_plus_isolated), sides(path_plus_isolated)) == (2, 3)
    assert sides(view_graph(4, 2)) == 8 and sides(view_graph(4, 3)) == 4   # pairs bipartite, triangles not


def test_sides_against_networkx():
    nx = pytest.importorskip("networkx")
    rng = np.random.default_rng(1)
    for _ in range(50):
        n = int(rng.integers(2, 9))
        A = np.triu(rng.random((n, n)) < 0.3, 1).astype(float)
        A = A + A.T
        g = nx.from_numpy_array(A)
        expected = sum(2 if len(c) > 1 and nx.is_bipartite(g.subgraph(c)) else 1 for c in nx.connected_components(g))
        assert sides(A) == expected
        assert n_components(A) == nx.number_connected_components(g)


def test_errors_name_the_problem():
    with pytest.raises(NoClosedForm, match="--search"):
        ss.solve(view_graph(3, 2), 1)
    with pytest.raises(InvalidGraph, match="no edges"):
        ss.loss(np.ones((3, 2)), np.zeros((3, 3)))
    with pytest.raises(InvalidArgument, match="shape"):
        ss.loss(np.ones((5, 2)), view_graph(3, 2))
    with pytest.raises(InvalidArgument, match="variant"):
        ss.loss(np.ones((6, 2)), view_graph(3, 2), variant="ema")
    with pytest.raises(InvalidArgument, match="hyper-parameter"):
        ss.loss(np.ones((6, 2)), view_graph(3, 2), tau=0.5)


def test_descent_from_random_starts_reaches_the_proved_minimum():
    gd = minimise(ss, view_graph(4, 2), 3, variant="predictor", hyper={}, starts=2, device="cpu")
    assert gd.loss == pytest.approx(-1.0, abs=1e-9)


# -- recorded verdicts ------------------------------------------------------------

CTX = dict(device="cpu", starts=2, seed=0)


@pytest.mark.parametrize("tid, examples", [
    ("simsiam.collapse.optimal", 6),
    ("simsiam.no_predictor.collapse.optimal", 6),
    ("simsiam.rank.components", 6),
    ("simsiam.predictor.minimisers.components", 6),
    ("simsiam.no_predictor.minimisers.components", 3),
    ("simsiam.predictor.minimisers.sides", 3),
])
def test_recorded_verdicts(tid, examples):
    th = ssl_proofs.get_theorem(tid)
    r = run_theorem(th, examples=examples, ctx=Context(**CTX))
    assert r.verdict == th.expected, (r.verdict, r.counterexample)


# -- planted wrong claims ------------------------------------------------------------

class _WithUniformity(Method):
    """A planted loss for which collapse is NOT optimal: SimSiam (no predictor) + mean squared cosine of all pairs."""

    name, variants, defaults, domain, translation_invariant = "simsiam_uniform", ("paper",), {}, {}, False

    def _loss_torch(self, Z, G, variant, hp):
        U = torch.nn.functional.normalize(Z, dim=1)
        pos = -(G.weights * (U[G.rows] * U[G.cols]).sum(dim=1)).sum() / G.weights.sum()
        return pos + (U @ U.T).pow(2).mean()


def test_planted_contrastive_loss_refutes_collapse_optimal():
    th = ssl_proofs.get_theorem("simsiam.collapse.optimal")
    planted = Theorem("planted.collapse", _WithUniformity(), th.statement, claim=th.claim,
                      params={**th.params, "variant": "paper", "graphs": "connected", "k_max": 3,
                              "minimum": lambda G, k: -1.0})
    r = run_theorem(planted, examples=6, ctx=Context(**CTX))
    assert r.verdict == "refuted"
    assert "rank(Z*) <= 1" in r.failing[0].name       # the free best beat the rank-1 best, both losses named


def test_planted_wrong_bound_is_refuted():
    th = ssl_proofs.get_theorem("simsiam.no_predictor.minimisers.components")
    # "without a predictor every minimiser has rank <= 1" is false on graphs with two components
    planted = Theorem("planted.bound", "simsiam", "rank <= 1", claim=th.claim,
                      params={**th.params, "bound": lambda G, k: 1, "graphs": "multi_component"})
    r = run_theorem(planted, examples=6, ctx=Context(**CTX))
    assert r.verdict == "refuted"


def test_derivation_steps_hold_and_a_wrong_rewrite_is_caught():
    d = ss.derivation().check()
    assert [s.evidence.holds for s in d.steps] == [True] * 3
    # planted: the best prediction without normalising the neighbours (m_i = sum_j G_ij z_j) is wrong
    def wrong(inst, rng, tol):
        m = inst.G @ inst.Z
        claimed = -float(np.linalg.norm(m, axis=1).sum()) / inst.G.sum()
        ours = ss.loss(inst.Z, inst.G)
        return None if abs(claimed - ours) <= tol else f"{claimed} != {ours}"

    bad = check_step(Step("lhs", "rhs", "planted: unnormalised neighbours", check="numeric", numeric=wrong))
    assert not bad.evidence.holds
