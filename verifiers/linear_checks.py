"""Checks of the linear-regime theorems (``Z = X W``) and their instance builders.

Instances carry inputs ``X`` next to ``G``: generic Gaussian features,
collinear features (rank-deficient ``X^T H X``), wide data (``D >= N``),
features alternating in sign from node to node (``X^T G X`` negative on paths)
and planted-label data whose clusters are aligned or misaligned with ``G``.

Optimality is judged against the one gradient-descent loop
(:func:`ssl_proofs_verifiers.descent.minimise`) run on the *weights*: a method adapter
maps free ``Y`` (D x k) to ``Z = feasible(X Y)``.  LDA is judged against
scikit-learn's ``LinearDiscriminantAnalysis`` (closed-form ``eigen`` solver);
CCA against a direct SVD of ``Sigma_aa^{-1/2} Sigma_ab Sigma_bb^{-1/2}``
(scikit-learn's iterative NIPALS ``CCA`` is not used as an oracle).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Optional

import numpy as np
import scipy.linalg as sla
import torch
from hypothesis import strategies as st

import ssl_proofs
from ssl_proofs import graphs as _graphs
from ssl_proofs import linear as _lin
from ssl_proofs.derivations.linear import derivation as linear_derivation
from ssl_proofs.errors import InvalidArgument

from . import tolerances as tols
from .checks import (INFEASIBLE, LOWER_LOSS, Inapplicable, Instance, Measurement, centred_gram, claim,
                     competitor_gap, loss_magnitude, optimum_gram, perturbations, projector)
from .descent import minimise
from .instances import hyper_values, instance_builder
from .strategies import describe_graph, graphs, labelled_graphs, view_graphs

DATA_MODES = ("generic", "collinear", "wide", "aligned", "misaligned", "alternating")


# -- instances -------------------------------------------------------------------

@dataclass
class LinearInstance(Instance):
    mode: str = "generic"

    def describe(self):
        hp = ", ".join(f"{k}={v:g}" for k, v in self.hyper.items() if v is not None)
        X = np.round(self.X, 3).tolist() if self.X.size <= 60 else f"array {self.X.shape}"
        lab = "" if self.labels is None else f"; labels={np.asarray(self.labels).tolist()}"
        return (f"{describe_graph(self.G)}; X ({self.mode}, {self.X.shape[0]}x{self.X.shape[1]}) = {X}{lab}; "
                f"k={self.k}; variant={self.variant}; {hp}")


def make_data(mode, n, d, seed, labels=None):
    """Inputs of one of :data:`DATA_MODES`, rounded to 2 decimals (readable counterexamples)."""
    rng = np.random.default_rng(seed)
    if mode in ("aligned", "misaligned"):
        y = np.asarray(labels)
        if mode == "misaligned":
            y = rng.permutation(y)
        means = 3.0 * rng.standard_normal((int(y.max()) + 1, d))
        X = means[y] + rng.standard_normal((n, d))
    else:
        X = np.round(rng.standard_normal((n, d)), 2)
        if mode == "alternating":
            # features whose sign flips from node to node: on paths and bipartite graphs X^T G X < 0,
            # the boundary where every rho <= 0 (BarlowTwins then zeroes its columns)
            X = np.abs(X) * np.where(np.arange(n) % 2 == 0, 1.0, -1.0)[:, None]
        if mode == "collinear" and d >= 2:
            X[:, -1] = X[:, 0] - 0.5 * X[:, 1 % (d - 1)]  # linear dependence after rounding (exact to eps)
        return X
    return np.round(X, 2)


@instance_builder("linear")
def linear_instances(theorem, method):
    return _linear_instances(theorem, method)


@st.composite
def _linear_instances(draw, theorem, method, max_nodes=9):
    variant = theorem.params.get("variant") or method.variants[0]
    mode = theorem.params.get("data") or draw(st.sampled_from(DATA_MODES))
    labels = None
    if mode in ("aligned", "misaligned"):
        G, labels = draw(labelled_graphs(2, 3, 2, 4, max_nodes=max_nodes))
    else:
        G = draw(graphs(family=theorem.params.get("graphs", "any"), min_nodes=3, max_nodes=max_nodes))
    n = G.shape[0]
    d = draw(st.integers(n, n + 2)) if mode == "wide" else draw(st.integers(2 if mode == "collinear" else 1,
                                                                            min(5, n - 1)))
    X = make_data(mode, n, d, draw(st.integers(0, 2 ** 16)), labels)
    k = draw(st.integers(1, max(1, min(4, n - 1))))
    hp = draw(hyper_values(method, variant))
    return LinearInstance(G=G, k=k, hyper=hp, variant=variant, labels=labels, X=X, mode=mode)


@instance_builder("linear_labels")
def label_instances(theorem, method):
    return _label_instances(theorem)


@st.composite
def _label_instances(draw, theorem):
    balanced = theorem.params.get("balanced")
    if balanced:
        G, y = draw(labelled_graphs(2, 4, 3, 6, balanced=True, min_nodes=6))
    else:
        G, y = draw(labelled_graphs(2, 4, 2, 7, balanced=False, min_nodes=6))
    n = y.size
    C = int(y.max()) + 1
    d = draw(st.integers(C, max(C, min(5, n - C - 1))))
    X = make_data("aligned", n, d, draw(st.integers(0, 2 ** 16)), y)
    if theorem.params.get("label_graph") == "normalised":
        G = G / np.bincount(y)[y][:, None]  # G_ij = 1/n_c inside class c (symmetric: same class)
    k = draw(st.integers(1, C - 1))
    return LinearInstance(G=G, k=k, hyper={}, variant=theorem.params.get("variant", "constrained"),
                          labels=y, X=X, mode="aligned")


@instance_builder("linear_views")
def view_instances(theorem, method):
    return _view_instances(theorem)


@st.composite
def _view_instances(draw, theorem):
    m = draw(st.integers(6, 12))
    d = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    X1 = rng.standard_normal((m, d))
    mix = np.eye(d) + draw(st.sampled_from([0.0, 0.3, 0.8])) * rng.standard_normal((d, d))
    X2 = X1 @ mix + draw(st.sampled_from([0.3, 0.1, 1.0])) * rng.standard_normal((m, d))
    X = np.round(np.vstack([X1, X2]), 2)
    k = draw(st.integers(1, d))
    return LinearInstance(G=_graphs.view_graph(m, 2), k=k, hyper={}, variant=None, X=X, mode="two views")


# -- gradient descent on W ---------------------------------------------------------------

class LinearAdapter:
    """The method seen as a function of the weights: ``Y (D x k) -> Z = feasible(X Y)``."""

    def __init__(self, method, X, G):
        self.method, self.G = method, G
        self.Xt = torch.as_tensor(X, dtype=torch.float64)

    def objective(self, G, *, variant, device="cpu", **hp):
        self.Xt = self.Xt.to(device)
        return self.method.objective(self.G, variant=variant, device=device, **hp)

    def feasible(self, Y, G, variant, hp):
        return self.method.feasible(self.Xt.to(Y.device) @ Y, self.G, variant, hp)


def minimise_weights(method, X, G, k, *, variant, hyper, starts, seed, device):
    """:func:`minimise` over ``W`` (D x k) through :class:`LinearAdapter`."""
    return minimise(LinearAdapter(method, X, G), G, k, variant=variant, hyper=hyper, starts=starts,
                    seed=seed, device=device, gtol=tols.GD_GTOL, shape=(X.shape[1], k))


def weight_gradient(method, inst, W, device="cpu"):
    """Autograd gradient of the loss w.r.t. the free weights at ``W``."""
    hp = method.check_hyper(inst.variant, inst.hyper)
    ad = LinearAdapter(method, inst.X, inst.G)
    f = ad.objective(inst.G, variant=inst.variant, device=device, **inst.hyper)
    Y = torch.as_tensor(W, dtype=torch.float64, device=device).clone().requires_grad_(True)
    (g,) = torch.autograd.grad(f(ad.feasible(Y, inst.G, inst.variant, hp)), Y)
    return g.cpu().numpy()


# -- planted wrong formulas ---------------------------------------------------------

def _planted(formula, method, X, G, k, variant, hp):
    """Closed forms that must be refuted: ``"no_whitening"`` (S^{-1/2} dropped), ``"top"`` (wrong end),
    ``"no_metric"`` (Euclidean eigh of ``X^T A X``, metric ignored, method's profile and scale kept),
    ``"no_sqrt"`` (profile ``rho_+`` instead of ``sqrt(rho_+)``)."""
    hp = method.check_hyper(variant, hp)
    lp = _lin.linear_problem(method, X, G, k, variant=variant, **hp)
    n = X.shape[0]
    if formula == "no_whitening":
        A = lp.operator / n                          # T = X^T L X / N, Euclidean eigh
        mu, Q = np.linalg.eigh(A)
        return Q[:, :k] * lp.profile_values(mu[:k])[None, :]
    if formula == "no_metric":
        rho, Q = np.linalg.eigh(lp.operator)
        rho, Q = rho[::-1][:k], Q[:, ::-1][:, :k]
        return lp.scale * Q * lp.profile_values(rho)[None, :]
    if formula == "no_sqrt":
        sol = _lin.solve_pulled(method, X, G, k, variant, hp, replace(lp, profile=lp.profile ** 2))
        return sol.W
    if formula == "top":
        sol = _lin.solve_pulled(method, X, G, k, variant, hp, replace(lp, which="largest"))
        return sol.W
    raise InvalidArgument(f"unknown planted formula {formula!r}.")


def _weights(theorem, method, inst, ctx):
    """The weights under test: a user's linear solver (``ctx.solver(X, G, k, variant=, **hyper) -> W``),
    a planted formula, or :func:`ssl_proofs.linear.solve_linear`."""
    if ctx.solver is not None:
        out = ctx.solver(inst.X, inst.G, inst.k, variant=inst.variant, **inst.hyper)
        return np.asarray(getattr(out, "W", out), dtype=float)
    formula = theorem.params.get("formula")
    if formula:
        return _planted(formula, method, inst.X, inst.G, inst.k, inst.variant, inst.hyper)
    return _lin.solve_linear(method, inst.X, inst.G, inst.k, variant=inst.variant, **inst.hyper).W


def _solvable(method, inst):
    try:
        return _lin.solve_linear(method, inst.X, inst.G, inst.k, variant=inst.variant, **inst.hyper)
    except InvalidArgument as exc:
        raise Inapplicable(str(exc)) from None


# -- claims -----------------------------------------------------------------------

#: step lengths (relative to |W|) of the line search along -grad from the candidate; at most 0.1 |W|
#: so a step cannot annihilate W (Z = 0 is outside a hard constraint's feasible set)
LINE_STEPS = tuple(10.0 ** -e for e in range(1, 12))


def descend_from(method, inst, W, g, to_Z):
    """Best loss along ``W - t g`` over :data:`LINE_STEPS`: a competitor that exists whenever the
    gradient at ``W`` is not rounding (a non-stationary candidate is beaten by a point, not a norm)."""
    gn = float(np.linalg.norm(g))
    if gn == 0:
        return 0.0              # exactly stationary: no competitor along this line
    base = max(float(np.linalg.norm(W)), 1.0) / gn
    steps = (W - t * base * g for t in LINE_STEPS)
    return competitor_gap(method, inst, method.loss(to_Z(W).detach().cpu().numpy(), inst.G, variant=inst.variant,
                                                    **inst.hyper), steps, to_Z)


@claim("linear_closed_form", params={"candidates": bool, "formula": str})
def check_linear_closed_form(theorem, method, inst, ctx):
    """W* is refuted only by a feasible W with strictly lower loss beyond rounding (one-sided):
    GD on W from random starts, a line search along -grad from W*, random perturbations of W*.
    A hard-constraint variant also needs ``X W*`` feasible.  Outside the closed form's proved range
    (``LinearSolution.certificate == "candidate"``) the instance is skipped: nothing is claimed there."""
    sol = _solvable(method, inst)
    if sol.certificate != "proved" and not theorem.params.get("candidates"):
        raise Inapplicable("outside the closed form's proved range (certificate 'candidate')")
    W = _weights(theorem, method, inst, ctx)
    n, d = inst.X.shape
    k = inst.k
    if W.shape != (d, k) or not np.all(np.isfinite(W)):
        return [Measurement("shape/finite", np.inf, 0.0, f"solver returned W of shape {W.shape}, expected {(d, k)}")]
    hp = method.check_hyper(inst.variant, inst.hyper)
    adapter = LinearAdapter(method, inst.X, inst.G)

    def to_Z(Y):
        return adapter.feasible(torch.as_tensor(Y, dtype=torch.float64), inst.G, inst.variant, hp)

    Z = inst.X @ W
    loss = method.loss(Z, inst.G, variant=inst.variant, **inst.hyper)
    out = []
    res = method.constraint_residual(Z, inst.G, inst.variant, hp)
    if res is not None:
        t = tols.rounding((1 + float(np.sum(Z ** 2)) / n) * _metric_condition(sol), n * d * k)
        out.append(Measurement("feasibility ||Cov(XW*) - I||", res, t.value, t.reason + " x cond(X^T B X)",
                               kind=INFEASIBLE))
        if res > t.value:
            return out          # not a feasible point: its loss says nothing about the constrained minimum
    # the loss is evaluated at Z = XW in float64: rounding ~ eps x terms x their size; an error dW ~
    # eps cond(X^T B X) |W| in the candidate changes the loss only to second order (it is stationary)
    kappa = _metric_condition(sol)
    mag = max(loss_magnitude(method, inst, Z), 1.0) * (1 + float(np.abs(inst.X).max()) ** 2)
    t = tols.rounding(mag * (1.0 + (1e3 * tols.EPS * kappa) ** 2 * n * d * k), n * d * k)
    why = f"{t.reason} (x (1 + (1e3 eps cond(X^T B X))^2 ndk), cond = {kappa:.2g})"
    g = weight_gradient(method, inst, W, device=ctx.device)
    out.append(Measurement(f"optimality loss(XW*) - loss(line search along -grad, |grad|_max = "
                           f"{float(np.abs(g).max()):.2g})", descend_from(method, inst, W, g, to_Z), t.value, why,
                           kind=LOWER_LOSS))
    gd = minimise_weights(method, inst.X, inst.G, k, variant=inst.variant, hyper=hp, starts=ctx.starts,
                          seed=ctx.seed, device=ctx.device)
    out.append(Measurement("optimality loss(XW*) - loss(GD on W)", loss - gd.loss, t.value,
                           f"{why}; GD = best of {ctx.starts} L-BFGS starts on W, loss {gd.loss:.6g} vs {loss:.6g}",
                           kind=LOWER_LOSS))
    worst = competitor_gap(method, inst, loss, perturbations(W, np.random.default_rng(ctx.seed)), to_Z)
    out.append(Measurement("optimality loss(XW*) - loss(X(W*+E))", worst, t.value, why, kind=LOWER_LOSS))
    if inst.variant not in method.constrained_variants:
        # a dropped column is a point descent cannot reach (scale-invariant losses such as BarlowTwins
        # see a column only through its direction until it is exactly 0)
        worst = competitor_gap(method, inst, loss, _columns_dropped(W), to_Z)
        out.append(Measurement("optimality loss(XW*) - loss(XW* with one column zeroed)", worst, t.value, why,
                               kind=LOWER_LOSS))
    return out


def _columns_dropped(W):
    for j in range(W.shape[1]):
        V = W.copy()
        V[:, j] = 0.0
        yield V


def _gram_tol(residual, gap):
    """Davis-Kahan tolerance between two computed optimum Grams, the gap capped at 1: with nothing left
    out (gap inf) the two Grams still differ by the rounding of each solve (soak: 1.4e-12 against an
    uncapped 2.2e-13 on N = 5, D = k = 3)."""
    return tols.subspace(residual, min(float(gap), 1.0))


def _metric_condition(sol):
    """Condition number of ``X^T B X`` on its range (the directions solve_linear keeps)."""
    lam = np.diag(sol.spectral.problem.metric)
    return float(lam.max() / lam.min())


def _gap(sol):
    """Eigengap at the boundary of the used directions (inf when nothing is left out)."""
    spec = sol.spectral
    used = np.nonzero(spec.scales > 0)[0]
    if spec.spectrum is None or used.size == 0:
        return np.inf
    vals = np.sort(spec.spectrum)
    if spec.problem.which == "largest":
        vals = vals[::-1]
    j = int(used.max())
    return float(abs(vals[j + 1] - vals[j])) if j + 1 < len(vals) else np.inf


@claim("linear_reaches_nonlinear", params={"data": str})
def check_reaches_nonlinear(theorem, method, inst, ctx):
    """rank(HX) = N-1: the linear optimum has the non-linear optimum's HZZ^TH and loss.

    For a loss that sees the mean of Z (``translation_invariant = False``) every Z must be
    reachable: rank(X) = N, and the uncentred ZZ^T is compared.
    """
    n = inst.X.shape[0]
    inv = method.translation_invariant
    HX = inst.X - inst.X.mean(axis=0) if inv else inst.X
    need = n - 1 if inv else n
    if np.linalg.matrix_rank(HX) < need or inst.k > need:
        raise Inapplicable(f"rank({'HX' if inv else 'X'}) < {need}: not every {'centred ' if inv else ''}Z is reachable")
    lin = _lin.solve_linear(method, inst.X, inst.G, inst.k, variant=inst.variant, **inst.hyper)
    full = method.solve(inst.G, inst.k, variant=inst.variant, **inst.hyper)
    sv = np.linalg.svd(HX, compute_uv=False)
    sv = sv[sv > 1e-8 * sv.max()]                  # HX always has the null direction 1
    cond = float(sv.max() / sv.min())
    mag = max(loss_magnitude(method, inst, full.Z), 1.0)
    t = tols.rounding(mag * cond ** 2, n * inst.X.shape[1])
    out = [Measurement("loss(XW*) - loss(Z* non-linear)", abs(lin.loss - full.loss), t.value,
                       t.reason + f"; x cond(HX)^2 = {cond ** 2:.2g}")]
    gap = _gap(lin)
    if gap > 1e-6:
        Mf = optimum_gram(method, full.Z)
        err = np.linalg.norm(optimum_gram(method, lin.Z) - Mf) / max(1.0, np.linalg.norm(Mf))
        ts = _gram_tol(t.value, gap)
        out.append(Measurement(f"{'HZZ^TH' if inv else 'ZZ^T'} linear vs non-linear", err, ts.value, ts.reason))
    return out


@claim("kernel_linear")
def check_kernel_linear(theorem, method, inst, ctx):
    """Kernel solver with K = XX^T vs the linear solver: same loss, same HZZ^TH (when unique)."""
    lin = _solvable(method, inst)
    K = inst.X @ inst.X.T
    try:
        ker = _lin.solve_kernel(method, K, inst.G, inst.k, variant=inst.variant, **inst.hyper)
    except InvalidArgument as exc:
        raise Inapplicable(str(exc)) from None
    n = inst.X.shape[0]
    # K = XX^T squares the conditioning of X: rounding grows with cond(HX)^2
    sv = np.linalg.svd(inst.X - inst.X.mean(axis=0), compute_uv=False)
    sv = sv[sv > 1e-8 * sv.max()]
    cond2 = float((sv.max() / sv.min()) ** 2)
    mag = loss_magnitude(method, inst, lin.Z)
    t = tols.rounding(mag * cond2 ** 2, n * n)
    out = [Measurement("loss kernel - loss linear", abs(ker.loss - lin.loss), t.value,
                       t.reason + f"; x cond(HX)^4 = {cond2 ** 2:.2g}")]
    gap = _gap(lin)
    if gap > 1e-6:
        err = np.linalg.norm(centred_gram(ker.Z) - centred_gram(lin.Z)) / max(1.0, np.linalg.norm(centred_gram(lin.Z)))
        ts = _gram_tol(t.value, gap)
        out.append(Measurement("HZZ^TH kernel vs linear", err, ts.value, ts.reason))
    return out


def lda_subspace(X, labels, k):
    """scikit-learn's standard LDA (closed-form ``eigen`` solver, default priors): the first k
    columns of ``scalings_``."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = LinearDiscriminantAnalysis(solver="eigen").fit(X, np.asarray(labels))
    return m.scalings_[:, :k]


def textbook_scatters(X, labels, *, within="standard"):
    """``(S_T, S_within)`` from their definitions, one sample at a time (no Laplacian, no ``class_scatters``).

    ``S_T = sum_i (x_i - m)(x_i - m)^T``;  ``S_c = sum_{i in c} (x_i - m_c)(x_i - m_c)^T``;
    ``within="standard"``: ``S_W = sum_c S_c`` (Fisher / Duda-Hart-Stork §3.8.3);
    ``within="size_weighted"``: ``sum_c n_c S_c``.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(labels)
    m = X.mean(axis=0)
    S_T = sum(np.outer(x - m, x - m) for x in X)
    S_W = np.zeros_like(S_T)
    for c in np.unique(y):
        rows = X[y == c]
        mc = rows.mean(axis=0)
        S_c = sum(np.outer(x - mc, x - mc) for x in rows)
        S_W = S_W + (len(rows) if within == "size_weighted" else 1.0) * S_c
    return S_T, S_W


def fisher_subspace(X, labels, k, *, within="standard"):
    """Top-k generalized eigenvectors of ``S_T w = nu S_within w`` (Fisher's ratio ``w^T S_T w / w^T S_within w``),
    scatters from :func:`textbook_scatters`; with the standard ``S_W`` this is LDA (``S_T = S_B + S_W``)."""
    S_T, S_W = textbook_scatters(X, labels, within=within)
    nu, V = sla.eigh(S_T, S_W)
    return V[:, ::-1][:, :k], nu[::-1]


def _span_projector(M):
    q, _ = np.linalg.qr(M)
    return q @ q.T


@claim("lda_oracle", params={"balanced": bool, "lda": str, "label_graph": str})
def check_lda_oracle(theorem, method, inst, ctx):
    """span(W*) of linear constrained VICReg on a label graph vs an LDA-type oracle (input space).

    ``params["lda"]``: ``"standard"`` -> scikit-learn's LDA; ``"size_weighted"`` -> Fisher's ratio
    with the size-weighted within-class scatter ``sum_c n_c S_c`` (:func:`fisher_subspace`, written
    from the definitions).
    """
    X, y, k = inst.X, np.asarray(inst.labels), inst.k
    n, d = X.shape
    lda = theorem.params.get("lda", "standard")
    S_T, S_W = textbook_scatters(X, y, within="size_weighted" if lda == "size_weighted" else "standard")
    if np.linalg.matrix_rank(S_W) < d or k > len(np.unique(y)) - 1:
        raise Inapplicable("singular within-class scatter or k > C - 1")
    sol = _lin.solve_linear(method, X, inst.G, k, variant=inst.variant, **inst.hyper)
    E, nu = fisher_subspace(X, y, k, within="size_weighted" if lda == "size_weighted" else "standard")
    # the oracle's own eigengap at k, on the scale of ours (S_within w = mu S_T w, mu = 1 / nu)
    gap = min(_gap(sol), float(1.0 / nu[k] - 1.0 / nu[k - 1]) if k < d else np.inf)
    if gap < 1e-3:
        raise Inapplicable("degenerate eigengap at k: subspaces not unique")
    if lda == "standard":
        E, what = lda_subspace(X, y, k), "sklearn LDA (eigen)"
    else:
        what = "Fisher ratio S_T / sum_c n_c S_c, textbook scatters"
    err = np.linalg.norm(_span_projector(sol.W) - _span_projector(E), 2)
    cond = np.linalg.cond(S_T)
    t = tols.subspace(1e3 * tols.EPS * cond * max(n, d), gap)
    return [Measurement(f"||P(span W*) - P(span oracle)||_2 ({what})", err,
                        t.value, t.reason + f"; residual ~ 1e3 eps cond(S_T)={cond:.2g} max(N,D)")]


def cca_correlations(A, B, k):
    """Direct CCA (uncentred second moments, as BT does not centre): top-k singular values of
    ``Sigma_aa^{-1/2} Sigma_ab Sigma_bb^{-1/2}``; also the signed eigenvalues when the matrix is symmetric."""
    def isqrt(M):
        w, V = np.linalg.eigh((M + M.T) / 2)
        return V @ np.diag(w ** -0.5) @ V.T

    M = isqrt(A.T @ A) @ (A.T @ B) @ isqrt(B.T @ B)
    return np.linalg.svd(M, compute_uv=False)[:k], M


def _bt_linear(X, G, k):
    return _lin.solve_linear(ssl_proofs.get_method("barlowtwins"), X, G, k)


@claim("cca_oracle", params={"pairs": str})
def check_cca_oracle(theorem, method, inst, ctx):
    """Linear BT's rho_k (generalized eigh) vs canonical correlations from an SVD."""
    X, G, k = inst.X, inst.G, inst.k
    m = X.shape[0] // 2
    if theorem.params.get("pairs") == "listing":
        rows, cols = np.nonzero(G)                   # the paper's X_left, X_right
        A, B = X[rows], X[cols]
    else:
        A, B = X[:m], X[m:]
    if min(np.linalg.matrix_rank(A), np.linalg.matrix_rank(B)) < X.shape[1]:
        raise Inapplicable("a view is rank-deficient")
    rho = _bt_linear(X, G, k).eigenvalues
    sv, M = cca_correlations(A, B, k)
    if theorem.params.get("pairs") == "listing":
        lam = np.linalg.eigvalsh((M + M.T) / 2)
        top = np.sort(np.abs(lam))[::-1][:k]
        if np.sort(lam)[::-1][:k].min() < top.min() - 1e-9:
            raise Inapplicable("a top-k canonical correlation comes from a negative eigenvalue (anti-correlated views)")
    cond = np.linalg.cond(A.T @ A) + np.linalg.cond(B.T @ B)
    t = tols.rounding(cond, X.size, safety=1e3)
    return [Measurement("max_k |rho_k(BT) - sigma_k(CCA)|", float(np.abs(rho - sv).max()), t.value,
                        t.reason + " (magnitude = cond of the view covariances)")]


@claim("linear_derivation")
def check_linear_derivation(theorem, method, inst, ctx):
    """Every step of the linear derivation checks out (computed once, cached)."""
    cache = ctx.extra.setdefault("linear_derivations", {})
    key = theorem.params.get("variant", "squared")
    if key not in cache:
        cache[key] = linear_derivation(method, key).check(seed=ctx.seed)
    out = []
    for i, step in enumerate(cache[key].steps, 1):
        ev = step.evidence
        out.append(Measurement(f"step {i} ({step.rule}): {ev.short()}", 0.0 if ev.holds else 1.0, 0.0,
                               ev.counterexample or ""))
    return out


@claim("linear_same_subspace", params={"other": str})
def check_linear_same_subspace(theorem, method, inst, ctx):
    """span of the used columns of W* equals span of another method's linear W* (input space).

    Both generalized problems ``X^T A X w = rho X^T B X w`` are solved by eigh; each basis is
    accurate to ~ eps cond(X^T B X) / eigengap, the gap taken at the selection boundary
    (including the boundary rho = 0 for profiles that zero non-positive rho).
    """
    other = ssl_proofs.get_method(theorem.params["other"])
    a = _solvable(method, inst)
    try:
        b = _lin.solve_linear(other, inst.X, inst.G, inst.k)
    except InvalidArgument as exc:
        raise Inapplicable(str(exc)) from None
    spec = a.spectral
    if spec.spectrum is None:
        raise Inapplicable("no spectrum")
    vals = np.sort(spec.spectrum)[::-1]
    kk = spec.eigenvalues.size
    gap = float(vals[kk - 1] - vals[kk]) if kk < vals.size else np.inf
    pos = spec.eigenvalues[spec.eigenvalues > 0]
    gap = min(gap, float(np.abs(spec.eigenvalues).min()))     # boundary rho = 0 of the profile
    if gap < 1e-3:
        raise Inapplicable(f"degenerate eigengap {gap:.1e} (at k or at rho = 0): the subspaces are not unique")
    if pos.size == 0:
        raise Inapplicable("no positive rho among the top k: both optima are 0")
    Wa = a.W[:, a.scales > 0]
    Wb = b.W[:, np.nan_to_num(b.eigenvalues, nan=-np.inf) > 0]   # the other's columns with rho > 0
    if Wa.shape[1] != Wb.shape[1]:
        return [Measurement("number of used columns differs", float(abs(Wa.shape[1] - Wb.shape[1])), 0.0, "exact")]
    # compare in the B_X geometry (span of X W), where both bases are orthonormal
    err = float(np.linalg.norm(projector(inst.X @ Wa) - projector(inst.X @ Wb), 2))
    kappa = _metric_condition(a)
    n, d = inst.X.shape
    t = tols.subspace(1e3 * tols.EPS * kappa * max(n, d), gap)
    return [Measurement(f"||P(X W {method.name}) - P(X W {other.name})||_2", err, t.value,
                        t.reason + f"; residual ~ 1e3 eps cond(X^T D X)={kappa:.2g} max(N,D)")]
