"""Linear BarlowTwins: the pulled-back problem uses BarlowTwins' own profile (issue 8, finding 1)."""
import numpy as np
import pytest

from ssl_proofs import Theorem, get_method
from ssl_proofs.linear import linear_problem, solve_linear
from ssl_proofs.methods.barlowtwins import solve_barlowtwins_linear
from ssl_proofs.methods.barlowtwins import BT_PROFILE
from ssl_proofs_verifiers import linear_checks as lc
from ssl_proofs_verifiers.checks import Context, Inapplicable
from ssl_proofs_verifiers.descent import DescentResult

BT = get_method("barlowtwins")


def _path(n):
    G = np.zeros((n, n))
    for i in range(n - 1):
        G[i, i + 1] = G[i + 1, i] = 1.0
    return G


def test_path_p4_identity_inputs_drop_negative_rho():
    # P4: G u = rho D u has rho = 1, 1/2, -1/2, -1.  With X = I the linear problem IS the
    # non-linear one, so the linear optimum must be BT's closed form: the rho = -1/2 column
    # zeroed (cost exactly 1) instead of kept (cost (1 + 1/2)^2 = 2.25).
    G = _path(4)
    sol = solve_linear(get_method("barlowtwins"), np.eye(4), G, 3)
    np.testing.assert_allclose(sol.eigenvalues, [1.0, 0.5, -0.5], atol=1e-12)
    np.testing.assert_array_equal(sol.scales, [1.0, 1.0, 0.0])
    # by hand: (1-1)^2 + (1/2-1)^2 + (0-1)^2 = 1.25 (columns D-orthogonal: no off-diagonal term)
    assert sol.loss == pytest.approx(1.25, abs=1e-12)
    assert sol.loss == pytest.approx(BT.solve(G, 3).loss, abs=1e-12)
    assert sol.certificate == "candidate"          # several columns, rho_2 < 1: not proved


def test_problem_carries_the_methods_profile_object():
    G = _path(5)
    X = np.random.default_rng(0).normal(size=(5, 3))
    assert linear_problem(get_method("barlowtwins"), X, G, 2).profile is BT_PROFILE
    assert solve_barlowtwins_linear(X, G, 2).problem.profile is BT_PROFILE


def test_negative_rho_column_is_never_kept_on_random_inputs():
    rng = np.random.default_rng(3)
    G = _path(6)
    for _ in range(5):
        X = rng.normal(size=(6, 4))
        sol = solve_linear(get_method("barlowtwins"), X, G, 4)
        assert np.all(sol.scales[sol.eigenvalues <= 0] == 0)
        assert np.all(sol.scales[sol.eigenvalues > 0] == 1)


def test_certificate_proved_at_loss_zero_and_for_one_column():
    G = np.kron(np.eye(3), np.ones((2, 2)) - np.eye(2))     # 3 components: rho = 1 three times
    sol = solve_linear(get_method("barlowtwins"), np.eye(6), G, 3)
    assert sol.loss < 1e-20 and sol.certificate == "proved"
    one = solve_linear(get_method("barlowtwins"), np.random.default_rng(1).normal(size=(4, 2)), _path(4), 1)
    assert one.certificate == "proved"
    assert solve_linear(get_method("vicreg"), np.eye(4), _path(4), 2, variant="squared").certificate == "proved"
    assert solve_linear(get_method("spectral_contrastive"), np.eye(4), _path(4), 2).certificate == "proved"


# -- the linear check: one-sided, and it sees the profile bug ---------------------------------


_TH = Theorem("t", "barlowtwins", "linear BT", claim="linear_closed_form",
              params={"variant": "paper", "instances": "linear"})


def _path_inst(X, k=1, alpha=1.0):
    return lc.LinearInstance(G=_path(len(X)), k=k, hyper={"alpha": alpha}, variant="paper", X=np.asarray(X, float))


def test_profile_one_is_refuted_by_the_zero_column_competitor():
    # P3 with one feature alternating in sign: X^T G X < 0, so rho_1 < 0 and k = 1 is in the proved range;
    # keeping the column costs (1 - rho)^2 > 1, the zero column costs exactly 1
    inst = _path_inst([[1.0], [-1.0], [1.0]])
    sol = solve_linear(get_method("barlowtwins"), inst.X, inst.G, 1)
    assert sol.eigenvalues[0] < 0 and sol.scales[0] == 0 and sol.certificate == "proved"
    ok = lc.check_linear_closed_form(_TH, BT, inst, Context(starts=1))
    assert all(m.ok for m in ok)
    old = lambda X, G, k, **kw: np.ones((1, 1))                    # the old profile 1: column kept
    bad = lc.check_linear_closed_form(_TH, BT, inst, Context(starts=1, solver=old))
    failed = [m for m in bad if not m.ok]
    assert failed and any("column zeroed" in m.name for m in failed)
    assert max(m.error for m in failed) == pytest.approx((1 - sol.eigenvalues[0]) ** 2 - 1, rel=1e-9)


def test_descent_stopping_higher_does_not_refute(monkeypatch):
    # one-sided: a GD run that ends above the candidate is not evidence against it
    inst = lc.LinearInstance(G=_path(4), k=2, hyper={"alpha": 1.0, "gamma": 0.5}, variant="squared",
                             X=np.random.default_rng(0).normal(size=(4, 3)))
    vic = get_method("vicreg")

    def stalled(method, X, G, k, **kw):
        return DescentResult(Z=np.zeros((4, k)), loss=1e6, losses=[1e6], grad_norm=1.0, iterations=1, device="cpu")

    monkeypatch.setattr(lc, "minimise_weights", stalled)
    th = Theorem("v", "vicreg", "linear VICReg", claim="linear_closed_form",
                 params={"variant": "squared", "instances": "linear"})
    assert all(m.ok for m in lc.check_linear_closed_form(th, vic, inst, Context(starts=1)))


def test_candidates_are_skipped_unless_the_theorem_attacks_them():
    inst = _path_inst(np.eye(4), k=3)
    with pytest.raises(Inapplicable, match="candidate"):
        lc.check_linear_closed_form(_TH, BT, inst, Context(starts=1))
