"""Claims about the loss landscape: local minima, saddles, decorrelated optima."""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ssl_proofs.spectral import solve_spectral

from ssl_proofs.search import global_minimise

from . import tolerances as tols
from .checks import Inapplicable, Measurement, Reparametrised, claim, gradient, loss_magnitude


@claim("local_minima")
def check_local_minima(theorem, method, inst, ctx):
    """Is the stationary point built from another K-subset of eigenvectors a local minimum?

    The subset swaps the last kept eigenvector for the next one.  Stationarity is
    measured (it should hold); local minimality needs a PSD Hessian, so the
    error is the most negative Hessian eigenvalue (autograd, float64).
    """
    G, k = inst.G, inst.k
    n = G.shape[0]
    if k + 1 > n - 1:
        raise Inapplicable("no eigenvector left to swap in (needs k <= N - 2)")
    prob = method.spectral_problem(G, k + 1, variant=inst.variant, **inst.hyper)
    sol = solve_spectral(prob)
    lam = sol.eigenvalues
    # a genuinely different, non-collapsed stationary point: distinct eigenvalues, and both the
    # dropped and the swapped-in direction carry variance (positive scale)
    if not (lam[k] - lam[k - 1] > 1e-6 and sol.scales[k - 1] > 1e-6 and sol.scales[k] > 1e-6):
        raise Inapplicable("the swapped subset is not a different stationary point (equal eigenvalues or zero scale)")
    subset = list(range(k - 1)) + [k]
    Z = sol.Z[:, subset]
    g = gradient(method, inst, Z, device=ctx.device)
    mag = loss_magnitude(method, inst, Z)
    ts = tols.rounding(mag, n * k, safety=256.0)
    f = method.objective(G, variant=inst.variant, device="cpu", **inst.hyper)
    Zt = torch.as_tensor(Z, dtype=torch.float64)
    Hs = torch.autograd.functional.hessian(lambda z: f(z.reshape(n, k)), Zt.reshape(-1))
    hmin = float(torch.linalg.eigvalsh((Hs + Hs.T) / 2)[0])
    th = tols.rounding(mag, (n * k) ** 2, safety=256.0)
    return [
        Measurement("other subset is stationary |grad|_max", float(np.abs(g).max()), ts.value, ts.reason),
        Measurement("local minimum: -min eig(Hessian)", max(0.0, -hmin), th.value,
                    f"{th.reason}; min Hessian eigenvalue {hmin:.3g}"),
    ]


#: L-BFGS iterations per start on the (non-smooth) hinge; a start that stalls at a kink
#: is not evidence either way, so a longer budget buys little
HINGE_MAX_ITER = 1000
#: GD counts as having reached the predicted loss within this relative gap
HINGE_LOSS_TOL = 1e-7


@claim("hinge_std", params={"predict": Callable})
def check_hinge_std(theorem, method, inst, ctx):
    """Decorrelated hinge VICReg (beta -> inf): predicted per-direction stds vs a GD optimum.

    Z = sqrt(N) Q diag(t), Q orthonormal in 1^perp (QR), t free: exactly the
    decorrelated feasible set.  The predicted optimum puts std
    ``predict(lambda_k)`` on the bottom eigenvectors.
    """
    G, k = inst.G, inst.k
    n = G.shape[0]
    hp = method.check_hyper(inst.variant, inst.hyper)
    if hp["ddof"] != 0:
        raise Inapplicable("the prediction is stated for ddof = 0")
    predict = theorem.params["predict"]
    prob = method.spectral_problem(G, k, variant="constrained", **inst.hyper)
    lam = solve_spectral(prob).eigenvalues
    std_pred = predict(lam, hp["alpha"], hp["gamma"])
    f = method.objective(G, variant="hinge", device="cpu", **inst.hyper)

    def param(P):
        # P = [Y; t]: Y (N x K) orthonormalised in 1^perp, t (1 x K) the per-direction stds
        return method.feasible(P[:n], G, "constrained", hp) * P[n:]

    # the predicted decorrelated point
    U = solve_spectral(prob).Z
    Zp = torch.as_tensor(U * std_pred[None, :])
    loss_pred = float(f(Zp))
    # the one global search over the decorrelated set, started at the prediction too
    sr = global_minimise(Reparametrised(method, param), G, k, variant="hinge", hyper=hp,
                         # the non-smooth hinge makes every start run to max_iter: ctx.starts random starts
                         starts=ctx.starts, seed=ctx.seed, device=ctx.device,
                         candidates=(np.vstack([U, std_pred[None, :]]),), shape=(n + 1, k),
                         max_iter=HINGE_MAX_ITER, gtol=tols.GD_GTOL)
    Zb = sr.Z
    std_b = np.sort(np.sqrt(np.diag((Zb - Zb.mean(axis=0)).T @ (Zb - Zb.mean(axis=0))) / n))
    best = (sr.loss, std_b)
    mag = loss_magnitude(method, inst, Zp.cpu().numpy())
    tr = tols.rounding(mag, n * k)
    out = [Measurement(f"predicted point no worse than the search: loss(pred) = {loss_pred:.6g} vs best found "
                       f"{best[0]:.6g}", loss_pred - best[0], tr.value, f"{tr.reason}; {sr.evidence}")]
    # L-BFGS can stall at the hinge's kink; its stds are evidence only when it reached the predicted loss
    if abs(best[0] - loss_pred) <= HINGE_LOSS_TOL * max(1.0, abs(loss_pred)):
        std_gd = np.minimum(best[1], 1.0)  # std >= 1 costs nothing on lambda = 0 directions
        err = float(np.abs(np.sort(np.minimum(std_pred, 1.0)) - std_gd).max())
        # each direction's cost alpha(1-t)_+ + 2 gamma lambda t^2 has curvature 4 gamma lambda in t,
        # so a loss excess d moves t by at most sqrt(2 d / (4 gamma lambda))
        pos = lam[lam > 1e-12]
        excess = abs(best[0] - loss_pred) + tr.value
        curv = 4 * hp["gamma"] * pos.min() if pos.size and hp["gamma"] > 0 else np.inf
        tol = float(np.sqrt(2 * excess / curv)) + 1e3 * tols.EPS if np.isfinite(curv) else 1e3 * tols.EPS
        out.append(Measurement("per-direction std: |predicted - GD|_max", err, tol,
                               f"sqrt(2 x loss excess {excess:.1e} / curvature 4 gamma lambda_min {curv:.2g})"))
    return out
