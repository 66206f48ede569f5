"""Claims about SimCLR's optimum (no closed form): structure of the gradient-descent optimum.

SimCLR's loss only sees row directions, so every check works with the
row-normalised GD optimum ``Zt`` (rows on the unit sphere; the minimum over
that compact set is attained).  Rank, collapse and subspace claims use one
threshold derived from what GD reached:

* loss excess ``eps <= rounding + |grad|_2^2 / (2 mu)`` (:func:`tolerances.descent_loss`,
  gradient taken at ``Zt``, curvature floor ``mu = 1e-3``);
* quadratic growth ``eps >= (mu / 2) ||Zt - Zt*||_F^2`` gives
  ``delta = sqrt(2 eps / mu)``: GD's ``Zt`` is within ``delta`` of an exact
  minimiser, so a singular value ``<= delta`` counts as zero, two rows of a
  collapsed class are within ``2 delta`` and ``Zt`` lies within ``delta`` of a
  subspace containing the exact minimiser.

Instances whose singular values fall in ``(delta, 10 delta]`` have an
ambiguous numerical rank and are discarded, and so are ``K = 1`` (unit rows are
``+-1``: the loss is piecewise constant, GD cannot move) and complete graphs
with equal weights (every equiangular configuration attains the Gibbs bound:
the optimum, hence its rank, is not unique).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import scipy.linalg as sla
import torch
from hypothesis import strategies as st

from ssl_proofs import graphs as _graphs
from ssl_proofs.graphs import label_graph, view_graph

from . import references_simclr as refs
from . import tolerances as tols
from .checks import (Inapplicable, Instance, Measurement, certified_bound, claim, gradient, rank_by_two_minimisations,
                     search, structure_gap)
from .instances import hyper_grid, instance_builder

#: curvature floor of the quadratic-growth argument (as in tolerances.descent_loss)
MU = 1e-3


# -- instances -------------------------------------------------------------------

@instance_builder("simclr_cliques", params={"equal": bool, "min_classes": int, "max_classes": int})
def clique_instances(theorem, method):
    """Label graphs (disjoint cliques, classes of size >= 2), ``k`` and ``tau``.

    ``params``: ``equal`` (equal class sizes), ``min_classes``, ``max_classes``,
    ``k_min_rel`` ("c-1": ``k >= c - 1`` so the simplex fits).
    """
    return _cliques(theorem.params, method)


@st.composite
def _cliques(draw, params, method):
    c = draw(st.integers(params.get("min_classes", 1), params.get("max_classes", 4)))
    if params.get("equal", True):
        sizes = [draw(st.integers(2, 4))] * c
    else:
        sizes = [draw(st.integers(2, 5)) for _ in range(c)]
    G = label_graph(np.repeat(np.arange(c), sizes))
    n = G.shape[0]
    # K >= 2: on K = 1 unit rows are +-1 and GD cannot move (see gd_optimum)
    lo = max(2, c - 1) if params.get("k_min_rel") == "c-1" else 2
    k = draw(st.integers(min(lo, n - 1), min(n - 1, 6)))
    tau = draw(hyper_grid(*method.domain["tau"]))
    return Instance(G=G, k=k, hyper={"tau": tau}, variant="paper")


@instance_builder("simclr_views")
def view_instances(theorem, method):
    """The paper's view graphs ``view_graph(n, V)`` with ``V`` in ``params["views"]``."""
    return _views(tuple(theorem.params.get("views", (2,))), method)


@st.composite
def _views(draw, views, method):
    V = draw(st.sampled_from(views))
    n = draw(st.integers(2, 5))
    G = view_graph(n, V)
    k = draw(st.integers(2, 4))
    tau = draw(hyper_grid(*method.domain["tau"]))
    return Instance(G=G, k=k, hyper={"tau": tau}, variant="paper")


# -- the GD optimum and its threshold ---------------------------------------------

def _unit(Z):
    return Z / np.linalg.norm(Z, axis=1, keepdims=True)


def gd_optimum(method, inst, ctx):
    """Best L-BFGS optimum (row-normalised) with its rank threshold ``delta`` (module docstring).

    Returns
    -------
    dict with ``Z`` (unit rows), ``loss``, ``sv`` (singular values), ``rank``,
    ``delta``, ``reason``, ``gd`` (the DescentResult).
    """
    cache = ctx.extra.setdefault("simclr_gd", {})
    key = (inst.G.tobytes(), inst.G.shape, inst.k, tuple(sorted(inst.hyper.items())), ctx.starts, ctx.seed)
    if key in cache:
        return cache[key]
    if inst.k < 2:
        raise Inapplicable("K = 1: unit rows are +-1, the loss is piecewise constant and GD cannot move them")
    if _complete_equal(inst.G):
        raise Inapplicable("G is a complete graph with equal weights: every equiangular configuration "
                           "(collapse, regular simplex, ...) attains the Gibbs bound, the optimum is not unique")
    hp = method.check_hyper(inst.variant, inst.hyper)
    # the global search (docs/evidence.md), not a bare descent, started also at the elliptope bound's point:
    # where the bound is attained the free side is a certified global minimum
    gd = search(method, inst, ctx, bound=certified_bound(method, inst, ctx))
    Zt = _unit(gd.Z)
    g = float(np.abs(gradient(method, inst, Zt, device=ctx.device)).max())
    n, k = Zt.shape
    mag = abs(gd.loss) + inst.G.sum() * (2.0 / hp["tau"] + np.log(n))
    eps = tols.descent_loss(mag, g, n * k, curvature_floor=MU)
    delta = float(np.sqrt(2 * eps.value / MU))
    sv = np.linalg.svd(Zt, compute_uv=False)
    if np.any((sv > delta) & (sv <= 10 * delta)):
        raise Inapplicable(f"numerical rank ambiguous: a singular value lies in (delta, 10 delta], delta={delta:.1e}")
    out = {"Z": Zt, "loss": gd.loss, "sv": sv, "rank": int(np.count_nonzero(sv > delta)), "delta": delta,
           "reason": f"delta = sqrt(2 eps / mu) = {delta:.1e}, eps from {eps.reason}", "gd": gd}
    cache[key] = out
    return out


def _complete_equal(G):
    off = G[~np.eye(G.shape[0], dtype=bool)]
    return bool(np.all(off == off[0]) and off[0] > 0)


def _classes(G):
    from scipy.sparse.csgraph import connected_components

    return connected_components(G, directed=False)[1]


def top_eigenspace(G, m):
    """Eigenvectors of ``G`` with the ``m`` largest eigenvalues, and the gap below them."""
    w, V = np.linalg.eigh(G)
    w, V = w[::-1], V[:, ::-1]
    gap = w[m - 1] - w[m] if m < len(w) else np.inf
    return V[:, :m], float(gap)


# -- checks ------------------------------------------------------------------------

@claim("simclr_rank", params={"equal": bool, "min_classes": int, "max_classes": int, "predict": Callable, "bound": bool})
def check_rank(theorem, method, inst, ctx):
    """Predicted rank (``params["predict"](G, K)``) vs the numerical rank of the GD optimum."""
    opt = gd_optimum(method, inst, ctx)
    pred = theorem.params["predict"](inst.G, inst.k)
    bound = bool(theorem.params.get("bound"))
    mag = abs(opt["loss"]) + inst.G.sum() * (2.0 / inst.hyper["tau"] + np.log(inst.G.shape[0]))
    out, _ = rank_by_two_minimisations(method, inst, ctx, pred, mag=mag, free=opt["gd"], lower=not bound,
                                       what="rank(Zt*)")
    if bound and out and opt["rank"] <= pred:
        out[0].crosscheck = True  # the better free point is not of higher rank: no evidence against the bound
    out.append(Measurement(f"cross-check: rank(Zt*) of the best point found {opt['rank']} vs predicted {pred} "
                           f"(sv {np.round(opt['sv'], 4).tolist()})",
                           float(max(0, opt["rank"] - pred) if bound else abs(opt["rank"] - pred)), 0.0,
                           f"numerical rank: sv > {opt['reason']}", crosscheck=True))
    return out


def _indicator(lab):
    P = np.zeros((len(lab), lab.max() + 1))
    P[np.arange(len(lab)), lab] = 1.0
    return P


def _magnitude(inst, loss):
    return abs(loss) + inst.G.sum() * (2.0 / inst.hyper["tau"] + np.log(inst.G.shape[0]))


def _collapsed(method, inst, ctx, opt):
    """Two minimisations for "each class collapses": Z = P Y (P the class indicator, Y c x K) vs free."""
    lab = _classes(inst.G)
    P = torch.as_tensor(_indicator(lab))
    c = P.shape[1]
    means = np.stack([opt["Z"][lab == a].mean(axis=0) for a in range(c)])
    m, con = structure_gap(method, inst, ctx, lambda Y: P.to(Y.device) @ Y, (c, inst.k), free=opt["gd"],
                           mag=_magnitude(inst, opt["loss"]), what="class collapse (Z = P_classes Y)",
                           candidates=(means,))
    return m, con, lab, c


@claim("simclr_collapse", params={"equal": bool, "min_classes": int, "max_classes": int})
def check_collapse(theorem, method, inst, ctx):
    """Each class (component) collapses to one direction: two minimisations (collapsed vs free).

    A collapsed Z has its columns in span of the class indicators = the top-c eigenspace of a label
    graph, so the one comparison covers both halves of the claim; the free best point's spread and
    distance to that eigenspace are reported as cross-checks.
    """
    opt = gd_optimum(method, inst, ctx)
    Zt, delta = opt["Z"], opt["delta"]
    m, con, lab, c = _collapsed(method, inst, ctx, opt)
    spread = max(float(np.linalg.norm(Zt[lab == a][:, None] - Zt[lab == a][None], axis=2).max()) for a in range(c))
    U, gap = top_eigenspace(inst.G, c)
    out_of = float(np.linalg.norm(Zt - U @ (U.T @ Zt)))
    return [
        m,
        Measurement("cross-check: class spread of the best point found max_a max_{i,j in a} ||zt_i - zt_j||",
                    spread, 2 * delta, f"2 delta; {opt['reason']}", crosscheck=True),
        Measurement(f"cross-check: ||(I - P_top-{c}(G)) Zt*||_F (eigengap {gap:.2g})", out_of, delta,
                    opt["reason"], crosscheck=True),
    ]


def regular_simplex(c, k):
    """``c`` unit vectors in R^k (k >= c - 1) with pairwise cosine -1/(c-1)."""
    E = np.eye(c) - 1.0 / c
    U, s, _ = np.linalg.svd(E)
    V = U[:, :c - 1] * s[:c - 1]          # rows: the centred vertices in R^{c-1}
    V = V / np.linalg.norm(V, axis=1, keepdims=True)
    out = np.zeros((c, k))
    out[:, :c - 1] = V
    return out


@claim("simclr_simplex", params={"equal": bool, "min_classes": int, "max_classes": int, "k_min_rel": str, "subspace": bool})
def check_simplex(theorem, method, inst, ctx):
    """Class directions form a regular simplex: its loss vs the best found without that structure.

    The regular-simplex configuration is unique up to rotation, which the loss ignores: the
    structured minimum is the loss of one point.  Without the structure: the better of the free
    search and the collapsed search.  The best point's class Gram and span are cross-checks.
    """
    lab = _classes(inst.G)
    c = lab.max() + 1
    if not 2 <= c <= inst.k + 1:
        raise Inapplicable("the simplex claim needs 2 <= c <= K + 1")
    opt = gd_optimum(method, inst, ctx)
    Zt, delta = opt["Z"], opt["delta"]
    m_col, con, _, _ = _collapsed(method, inst, ctx, opt)
    Zs = _indicator(lab) @ regular_simplex(c, inst.k)
    ls = method.loss(Zs, inst.G, variant=inst.variant, **inst.hyper)
    best = min(opt["loss"], con.loss)
    n, k = inst.G.shape
    t = tols.rounding(_magnitude(inst, ls), n * k)
    out = [Measurement(f"regular simplex (c={c}): best loss without it {best:.6g} (free {opt['loss']:.6g}, "
                       f"collapsed {con.loss:.6g}) vs the simplex {ls:.6g}", ls - best, t.value,
                       f"{t.reason}; collapsed: {con.evidence}")]
    M = _unit(np.stack([Zt[lab == a].mean(axis=0) for a in range(c)]))
    target = (c * np.eye(c) - np.ones((c, c))) / (c - 1)
    err = float(np.abs(M @ M.T - target).max())
    out.append(Measurement(f"cross-check: class Gram of the best point found vs (cI - J)/(c-1), c={c}", err,
                           4 * delta, f"4 delta (two rows each within 2 delta); {opt['reason']}", crosscheck=True))
    if theorem.params.get("subspace", True):
        U, gap = top_eigenspace(inst.G, c)
        B = np.column_stack([np.ones(len(Zt)) / np.sqrt(len(Zt)), Zt])
        Ub, sb, _ = np.linalg.svd(B, full_matrices=False)
        r = int(np.count_nonzero(sb > delta))
        if r != c:
            out.append(Measurement(f"cross-check: dim span{{1, Zt*}} = {r} vs c = {c}", abs(r - c), 0.0,
                                   opt["reason"], crosscheck=True))
        else:
            s_ = float(np.sin(sla.subspace_angles(Ub[:, :r], U).max()))
            tt = delta / sb[r - 1] + delta / max(gap, 1e-300)
            out.append(Measurement(f"cross-check: sin angle(span{{1, Zt*}}, top-{c} eigvecs of G)", s_, tt,
                                   f"delta / sigma_min(1, Zt) + delta / eigengap {gap:.2g}; {opt['reason']}",
                                   crosscheck=True))
    return out


def unit_rows_in(U, dU=0.0):
    """Certificate that no matrix with unit rows has its columns in ``S = col(U)`` (``U`` N x m orthonormal).

    Such a matrix is ``U A`` with ``u_i^T M u_i = 1`` for every row ``u_i`` of ``U``, ``M = A A^T``: a linear
    system ``Psi x = 1`` in the entries ``x`` of ``M``, and ``||x|| <= ||M||_F <= tr M = ||U A||_F^2 = N``.
    For any ``y``, a solution gives ``y^T 1 = (Psi^T y)^T x <= ||Psi^T y|| N``; with ``Psi`` known to ``e``
    (``U`` within ``dU`` of an orthonormal basis of the exact S: ``e = 2 sqrt(2 m) dU`` plus rounding) no
    solution exists when ``y^T 1 / (N ||y||) > ||Psi^T y|| / ||y|| + e``. ``y`` is the least-squares
    residual of ``Psi x = 1`` (none when that residual is at rounding level). Returns ``(y^T 1 / (N ||y||), ||Psi^T y|| / ||y|| + e)``: the first
    beyond the second proves it (the claim's structured minimum is then ``+inf``).
    """
    n, m = U.shape
    a, b = np.triu_indices(m)
    Psi = U[:, a] * U[:, b] * np.where(a == b, 1.0, 2.0)
    x, *_ = np.linalg.lstsq(Psi, np.ones(n), rcond=None)
    y = 1.0 - Psi @ x
    ny = float(np.linalg.norm(y))
    e = 2 * np.sqrt(2 * m) * dU + tols.rounding(1.0, n * m * m).value
    if ny <= 64 * np.sqrt(n) * e * (1.0 + float(np.linalg.norm(x))):
        return 0.0, e                     # residual at rounding level: the system is consistent, no certificate
    return float(y.sum() / (n * ny)), float(np.linalg.norm(Psi.T @ y) / ny + e)


def _is_indicator_span(U, tol):
    """``S = col(U)`` is spanned by the indicators of a partition (the groups of equal rows of ``U``)."""
    groups = np.unique(np.round(U / tol), axis=0, return_inverse=True)[1].ravel()
    return len(np.unique(groups)) == U.shape[1]


@claim("simclr_alignment", params={"subspace": Callable})
def check_alignment(theorem, method, inst, ctx):
    """``span{1, Zt*}`` = the top-m eigenspace S of G (m = dim span{1, Zt} of the best point found), as two
    minimisations: the best loss with the columns of ``Zt`` in S vs the free best (docs/simclr.md).

    * When no unit-row matrix has its columns in S (:func:`unit_rows_in`: a certificate from a linear
      system, valid up to the stated rounding) the structured minimum is ``+inf``: refuted, whatever
      the search.
    * Otherwise ``Z = U A`` (``U`` an orthonormal basis of S, ``A`` m x K) against the free search. The
      loss normalises rows; when S is spanned by the indicators of a partition (label graphs) the
      normalised ``Zt`` stays in S and this is the structure exactly, otherwise it is a relaxation
      (rows of ``Zt`` are positive multiples of rows in S), whose minimum is at most the literal one:
      a refutation still refutes the claim. Refuted when the free best beats the structured best by the
      margin, both losses named; tolerance: the rounding of the two loss evaluations (both are losses
      of points actually found).
    * Cross-checks: the best point's subspace angle to S.

    ``params["subspace"]``: ``(G, m) -> (U, eigengap)`` predicting S (default :func:`top_eigenspace`).
    """
    opt = gd_optimum(method, inst, ctx)
    Zt, delta, r = opt["Z"], opt["delta"], opt["rank"]
    n = len(Zt)
    B = np.column_stack([np.ones(n) / np.sqrt(n), Zt])
    Ub, sb, _ = np.linalg.svd(B, full_matrices=False)
    m = int(np.count_nonzero(sb > delta))
    if m >= n:
        raise Inapplicable("span{1, Zt*} is the whole space: nothing to align")
    predict = theorem.params.get("subspace", top_eigenspace)
    U, gap = predict(inst.G, m)
    if gap < tols.MIN_GAP:
        raise Inapplicable("degenerate eigengap of G at the span's dimension")
    U = np.ascontiguousarray(U)
    what = (f"span{{1, Zt*}} = S (top-{m} eigenspace of G)" if predict is top_eigenspace
            else f"span{{1, Zt*}} = S ({getattr(predict, '__name__', 'predicted')}(G, {m}))")
    # U from eigh is within sqrt(2) 64 eps N ||G|| / eigengap of a basis of the exact eigenspace (backward
    # stability + Davis-Kahan)
    res, t_res = unit_rows_in(U, np.sqrt(2) * tols.rounding(np.abs(inst.G).sum(axis=1).max(), n).value / gap)
    out = [Measurement(f"{what}: no unit-row Z has its columns in S (certificate y of u_i^T M u_i = 1, ||M|| <= N), "
                       f"so the best loss with the structure is +inf vs without it {opt['loss']:.6g}", res, t_res,
                       f"||Psi^T y|| / ||y|| + e, Psi within e of exact (U within 64 eps N ||G|| / eigengap {gap:.2g})")]
    if out[0].ok:
        exact = _is_indicator_span(U, 1e-8)
        Ut = torch.as_tensor(U)
        structured, _ = structure_gap(method, inst, ctx, lambda A: Ut.to(A.device) @ A, (m, inst.k),
                                      free=opt["gd"], mag=_magnitude(inst, opt["loss"]),
                                      what=f"{what}, Z = U_S A ({'exact: S is an indicator span' if exact else 'relaxed: rows up to scale'})",
                                      candidates=(U.T @ Zt,))
        out.append(structured)
    s = float(np.sin(sla.subspace_angles(Ub[:, :m], U).max()))
    out.append(Measurement(f"cross-check: sin angle(span{{1, Zt*}} (dim {m}, rank Zt*={r}) of the best point "
                           "found, S)", s, delta / sb[m - 1] + delta / gap,
                           f"delta / sigma_min + delta / eigengap {gap:.2g}; {opt['reason']}", crosscheck=True))
    return out


def _random_Z(inst, ctx):
    rng = np.random.default_rng([ctx.seed, inst.G.shape[0], inst.k])
    return rng.standard_normal((inst.G.shape[0], max(inst.k, 2)))


@claim("simclr_forms", params={"views": tuple})
def check_forms(theorem, method, inst, ctx):
    """The paper's form against the three multi-positive forms, at a random Z."""
    Z = _random_Z(inst, ctx)
    tau = inst.hyper["tau"]
    paper = method.loss(Z, inst.G, variant="paper", tau=tau)
    n = inst.G.shape[0]
    t = tols.rounding(abs(paper) + inst.G.sum() * (2.0 / tau + np.log(n)), n * n)
    return [Measurement(f"|{form} - paper|", abs(method.loss(Z, inst.G, variant=form, tau=tau) - paper),
                        t.value, t.reason)
            for form in ("summed_numerator", "per_edge", "supcon")]


@claim("simclr_reference", params={"views": tuple})
def check_reference(theorem, method, inst, ctx):
    """Each form against the implementation people train with, up to the documented constants."""
    Z = _random_Z(inst, ctx)
    tau = inst.hyper["tau"]
    G = inst.G
    n = G.shape[0]
    labels = _classes(G)
    V = n // (labels.max() + 1)
    t = tols.rounding(method.loss(Z, G, tau=tau) + G.sum() * (2.0 / tau + np.log(n)), n * n)
    # pytorch-metric-learning adds its tiny `small_val` inside a log: far below rounding
    out = [
        Measurement("per_edge = #edges x pml NTXentLoss(labels)",
                    abs(method.loss(Z, G, variant="per_edge", tau=tau) - G.sum() * refs.pml_ntxent_labels(Z, labels, tau)),
                    t.value, t.reason),
        Measurement("supcon = N x pml SupConLoss(labels)",
                    abs(method.loss(Z, G, variant="supcon", tau=tau) - n * refs.pml_supcon_labels(Z, labels, tau)),
                    t.value, t.reason),
    ]
    if V == 2:
        m = n // 2
        paper = method.loss(Z, G, tau=tau)
        out += [
            Measurement("paper = 2n x pml SelfSupervisedLoss(NTXentLoss)",
                        abs(paper - 2 * m * refs.pml_ntxent_two_view(Z[:m], Z[m:], tau)), t.value, t.reason),
            Measurement("paper = n x google add_contrastive_loss",
                        abs(paper - m * refs.google_add_contrastive_loss(Z, temperature=tau)), t.value, t.reason),
        ]
    return out
