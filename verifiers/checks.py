"""Checks: how each kind of claim is attacked on one instance.

A check receives a theorem, its method, an :class:`Instance` (graph, k,
hyper-parameters, variant) and a :class:`Context` (device, number of GD
starts, the solver under test) and returns :class:`Measurement` s: an error,
the tolerance it is held to, and why that tolerance.  The runner turns a
measurement over tolerance into a refutation that hypothesis then shrinks.

Checks never trust the closed form they test: optimality is judged against
gradient descent from random starts, autograd stationarity and independent
oracles (dense eigh, scikit-learn).
"""
from __future__ import annotations

import importlib
import os
import pkgutil
from dataclasses import replace
from typing import Callable

import numpy as np
import scipy.linalg as sla
import torch

from ssl_proofs import graphs as _graphs

from ssl_proofs.bounds import BOUNDS_KNOWN, certified_gap, lower_bound, rank_bound
from ssl_proofs.errors import NotProvided, SSLProofsError
from ssl_proofs.methods import list_theorems
from ssl_proofs.search import default_starts, global_minimise, polish
from ssl_proofs.spectral import solve_spectral
from ssl_proofs.theorems import check_theorems, declare_claim

from . import tolerances as tols
# the shared objects of every check live in .core; re-exported here, where the claim modules find them
from .core import (DERIVATION, INFEASIBLE, LOWER_LOSS, MARGIN, MATERIAL, NOT_STATIONARY,  # noqa: F401
                   ORACLE_MISMATCH, STRUCTURE, Context, Inapplicable, Instance, Measurement)
from .polish import stationarity

#: claim kind -> its check function (:func:`claim`)
CHECKS = {}

#: modules of this package that hold no claim checks (everything else is imported for registration)
_NOT_CLAIMS = {"core", "checks", "runner", "parallel", "descent", "tolerances", "strategies", "instances",
               "references", "references_simclr", "references_identify", "mutants", "threads", "polish"}


def load_claim_modules():
    """Import every module of ``ssl_proofs_verifiers`` that registers claim checks with :func:`claim`."""
    # the package folder, not ``import verifiers`` (which would import this module's parent back)
    for info in pkgutil.iter_modules([os.path.dirname(__file__)]):
        if info.name not in _NOT_CLAIMS and not info.name.startswith("_"):
            importlib.import_module(f"{__package__}.{info.name}")
    # every registered theorem names a known claim kind with declared parameters (fails at import)
    check_theorems(list_theorems(), CHECKS)


def claim(kind, params=None):
    """Register the check function for claims of kind ``kind``, and the parameters its theorems may hold.

    ``params``: ``{key: type}`` beyond :data:`ssl_proofs.theorems.COMMON_PARAMS`
    (:func:`ssl_proofs.theorems.declare_claim`).
    """
    def deco(fn):
        CHECKS[kind] = fn
        declare_claim(kind, params)
        return fn
    return deco


# -- helpers -----------------------------------------------------------------

def solve_instance(method, inst, ctx):
    """The Z a claim is checked on: the method's closed form, or check_solver's user solver."""
    if ctx.solver is None:
        return method.solve(inst.G, inst.k, variant=inst.variant, **inst.hyper).Z
    out = ctx.solver(inst.G, inst.k, variant=inst.variant, **inst.hyper)
    return np.asarray(getattr(out, "Z", out), dtype=float)


def centred_gram(Z):
    Zc = Z - Z.mean(axis=0)
    return Zc @ Zc.T


def optimum_gram(method, Z):
    """The gauge-free summary of an optimum: ``HZZ^TH`` if the loss ignores the mean, else ``ZZ^T``."""
    return centred_gram(Z) if method.translation_invariant else Z @ Z.T


def loss_magnitude(method, inst, Z):
    """Rough size of the loss's terms, for rounding tolerances."""
    hp = inst.hyper
    # a loss without weights (W-MSE) is a mean of O(1) terms: scale 1, not 0 (the text read "magnitude 0")
    scale = sum(abs(v) for v in hp.values() if v is not None) or 1.0
    return scale * (1 + float(np.sum(Z ** 2))) * (1 + float(np.abs(inst.G).sum()))


def gradient(method, inst, Z, device="cpu"):
    """Autograd gradient of the loss w.r.t. the free parameters at ``Z``.

    For constrained variants the free parameter is ``Y`` with ``Z = feasible(Y)``,
    evaluated at ``Y = Z`` (a fixed point of the parametrisation on feasible Z),
    which gives the Riemannian (projected) gradient.
    """
    f = method.objective(inst.G, variant=inst.variant, device=device, **inst.hyper)
    Y = torch.as_tensor(Z, dtype=torch.float64, device=device).clone().requires_grad_(True)
    val = f(method.feasible(Y, inst.G, inst.variant, method.check_hyper(inst.variant, inst.hyper)))
    (g,) = torch.autograd.grad(val, Y)
    return g.cpu().numpy()


def perturbations(P, rng, scales=(1e-3, 1e-1), per_scale=4):
    """Random perturbations of a parameter ``P`` at relative ``scales`` (competitors near a candidate)."""
    size = max(1.0, float(np.abs(P).max()))
    for scale in scales:
        for _ in range(per_scale):
            yield P + scale * size * rng.standard_normal(P.shape)


def competitor_gap(method, inst, loss, params, to_Z):
    """``max loss - loss(to_Z(p))`` over competitor parameters ``p``: > 0 means a competitor wins."""
    worst = -np.inf
    for p in params:
        Zp = to_Z(p)
        Zp = Zp.detach().cpu().numpy() if isinstance(Zp, torch.Tensor) else np.asarray(Zp)
        worst = max(worst, loss - method.loss(Zp, inst.G, variant=inst.variant, **inst.hyper))
    return worst


def positive_degrees(G):
    """The degrees of G; :class:`Inapplicable` when a node is isolated (``D_G`` singular)."""
    d = _graphs.degrees(G)
    if np.any(d <= 0):
        raise Inapplicable("isolated node: D_G is singular")
    return d


def a_bar(G, d):
    """``A_bar = D^-1/2 G D^-1/2`` (dense), written here independently of the solver's operator (an oracle)."""
    return G / np.sqrt(np.outer(d, d))


def projector(Z, *, add_constant=False, rel=1e-8):
    """Orthogonal projector onto the column span of ``Z`` (optionally plus the constant vector)."""
    if add_constant:
        Z = np.column_stack([np.ones(Z.shape[0]), Z])
    U, s, _ = np.linalg.svd(Z, full_matrices=False)
    r = int(np.count_nonzero(s > rel * max(s.max(), 1e-300)))
    U = U[:, :r]
    return U @ U.T


def eckart_young_value(A, k):
    """``min ||M - A||_F^2`` over PSD M of rank <= k, from the eigenvalues of A (dense eigh)."""
    mu = np.linalg.eigvalsh((A + A.T) / 2)[::-1]
    return float(np.sum(mu ** 2) - np.sum(np.clip(mu[:k], 0, None) ** 2))


# -- closed forms --------------------------------------------------------------

@claim("closed_form")
def check_closed_form(theorem, method, inst, ctx):
    """Feasible, stationary, no worse than the global search, the oracle and perturbations.

    Optimality is one-sided: only a point with strictly lower loss refutes it.  Whether descent
    from random starts gets back to the candidate's loss and Gram matrix is a cross-check: when
    it does not, the search did not get there, which says nothing against the candidate.
    """
    out = []
    Z = solve_instance(method, inst, ctx)
    n, k = inst.G.shape[0], inst.k
    if Z.shape != (n, k) or not np.all(np.isfinite(Z)):
        return [Measurement("shape/finite", np.inf, 0.0, f"solver returned shape {Z.shape}, expected {(n, k)}")]
    hp = method.check_hyper(inst.variant, inst.hyper)
    if ctx.solver is None:  # the method's own closed form: on a degenerate eigenspace, its best point is the claim
        Z, note = best_in_eigenspace(method, inst, ctx, Z)
        if note:
            out.append(Measurement(f"claim judged at the best point of its eigenspace ({note})", 0.0, 0.0,
                                   "rule of docs/evidence.md, 'Degenerate eigenspaces'", crosscheck=True))
    loss = method.loss(Z, inst.G, variant=inst.variant, **inst.hyper)
    mag = loss_magnitude(method, inst, Z)

    res = method.constraint_residual(Z, inst.G, inst.variant, hp)
    if res is not None:
        t = tols.rounding(1 + float(np.sum(Z ** 2)) / n, n * k)
        out.append(Measurement("feasibility ||Cov(Z)-I||", res, t.value, t.reason, kind=INFEASIBLE))

    g = gradient(method, inst, Z, device=ctx.device)
    t = tols.rounding(mag, n * k, safety=256.0)
    kink = method.kink(Z, inst.G, inst.variant, hp)
    if kink:  # no derivative at Z*: a large autograd value there proves nothing, so it only cross-checks
        out.append(Measurement(f"stationarity |grad loss|_max (cross-check only: {kink})", float(np.abs(g).max()),
                               t.value, t.reason, crosscheck=True, kind=NOT_STATIONARY))
    else:  # a gradient over tolerance is polished before it refutes (imprecise numerics, right formula)
        out += stationarity(method, inst, Z, loss, g, mag, device=ctx.device)

    sr = search(method, inst, ctx, candidates=(Z,))
    # the search's loss is an upper bound on the true minimum: beating the candidate by more than
    # rounding proves it is not a global minimiser (never the other way round)
    t = tols.rounding(mag, n * k)
    out.append(Measurement(f"optimality loss(Z*) = {loss:.6g} vs best found {sr.loss:.6g}", loss - sr.loss,
                           t.value, f"{t.reason}; {sr.evidence}", kind=LOWER_LOSS))

    # local optimality against random feasible perturbations, and unrelated random competitors
    rng = np.random.default_rng(ctx.seed)

    def to_Z(Y):
        return method.feasible(torch.as_tensor(Y), inst.G, inst.variant, hp)

    out.append(Measurement("optimality loss(Z*) - loss(perturbed)",
                           competitor_gap(method, inst, loss, perturbations(Z, rng), to_Z), t.value, t.reason,
                           kind=LOWER_LOSS))
    randoms = (rng.standard_normal(Z.shape) * rng.choice([0.1, 1.0, 3.0]) for _ in range(4))
    out.append(Measurement("optimality loss(Z*) - loss(random)",
                           competitor_gap(method, inst, loss, randoms, to_Z), t.value, t.reason, kind=LOWER_LOSS))

    # independent oracle: Eckart-Young value from a dense eigvalsh of the full target
    target = method.eckart_young_target(inst.G, k, variant=inst.variant, **inst.hyper)
    if target is not None:
        A, w, c = target
        value = w * eckart_young_value(A, k) + c
        te = tols.rounding(mag + w * float(np.sum(A * A)), n * n)
        out.append(Measurement(f"oracle: loss(Z*) = {loss:.6g} vs Eckart-Young value {value:.6g} (eigvalsh of A)",
                               abs(loss - value), te.value, te.reason, kind=ORACLE_MISMATCH))
    out += descent_crosschecks(method, inst, Z, loss, sr, mag)
    return out


#: random starts of the search over the subspaces of a degenerate eigenspace (:func:`best_in_eigenspace`) ...
EIGENSPACE_STARTS = 8
#: ... and L-BFGS iterations of each
FAMILY_STEPS = 500


def best_in_eigenspace(method, inst, ctx, Z):
    """The closed form's best point when its last eigenvalue is repeated beyond K, and what was done.

    Where the selection boundary falls inside an eigenspace (eigenvalues within :data:`tolerances.MIN_GAP`), the
    closed form names a family, not a point: any ``j``-dimensional subspace of that ``m``-dimensional eigenspace
    completes the directions below it.  A loss constant on the family (every Eckart--Young method) is judged at
    the point given; one that is not (W-MSE with normalised rows on K4: 2.04 to 2.67 over the family) is judged at
    the best point of the family, found by L-BFGS over ``Q`` (``m x j``, orthonormalised) from
    :data:`EIGENSPACE_STARTS` starts -- otherwise a witness would only refute a basis, not the formula.

    Returns ``(Z, note)``: ``note`` is "" when nothing changed.
    """
    n, k = inst.G.shape[0], inst.k
    try:
        sol = method.solve(inst.G, k, variant=inst.variant, **inst.hyper).spectral
    except SSLProofsError:
        return Z, ""
    if sol is None or sol.gap >= tols.MIN_GAP or sol.problem.dimension <= k:
        return Z, ""
    full = solve_spectral(replace(sol.problem, k=sol.problem.dimension))
    last = sol.eigenvalues[-1]
    cluster = np.flatnonzero(np.abs(full.eigenvalues - last) < tols.MIN_GAP)
    cols = np.flatnonzero(np.abs(sol.eigenvalues - last) < tols.MIN_GAP)
    m, j = len(cluster), len(cols)
    V = full.vectors[:, cluster] * full.problem.scale
    if full.problem.row_weights is not None:
        V = np.asarray(full.problem.row_weights, dtype=float)[:, None] * V
    s = sol.scales[cols]
    hp = method.check_hyper(inst.variant, inst.hyper)
    base = torch.as_tensor(Z, dtype=torch.float64)
    Vt = torch.as_tensor(V, dtype=torch.float64)
    idx = torch.as_tensor(cols)

    def to_Z(Y):
        Q = torch.linalg.qr(Y)[0]
        out = base.to(Y.dtype).clone()
        out[:, idx] = (Vt @ Q) * torch.as_tensor(s, dtype=Y.dtype)
        return out

    family = Reparametrised(method, to_Z)
    rng = np.random.default_rng(ctx.seed)
    at_given = method.loss(Z, inst.G, variant=inst.variant, **inst.hyper)
    best, losses = (Z, at_given), []
    for _ in range(EIGENSPACE_STARTS):
        Zp, lp, _, _ = polish(family, inst.G, rng.standard_normal((m, j)), variant=inst.variant, hyper=hp,
                              steps=FAMILY_STEPS, device=ctx.device, gtol=tols.GD_GTOL)
        losses.append(lp)
        if np.isfinite(lp) and lp < best[1]:
            best = (Zp, lp)
    t = tols.rounding(loss_magnitude(method, inst, Z), n * k)
    if max(losses + [at_given]) - min(losses + [at_given]) <= t.value:
        return Z, ""  # the loss is constant on the family: the point given stands for all of it
    return best[0], (f"eigenvalue {last:.6g} repeated {m} times, {j} of its directions used: loss over the family "
                     f"{min(losses):.6g} to {max(losses + [at_given]):.6g} from {EIGENSPACE_STARTS} starts, "
                     f"point given {at_given:.6g}, best {best[1]:.6g}")


def search(method, inst, ctx, *, candidates=(), rank=None, max_iter=3000, starts=None, bound=None):
    """:func:`ssl_proofs.search.global_minimise` on an instance.

    Random starts: ``max(ctx.starts, default_starts(N, K))`` unless ``starts`` is given.  ``bound``: a
    :class:`ssl_proofs.bounds.LowerBound` for this problem; its point is one more candidate and the search
    stops once the bound is met.
    """
    hp = method.check_hyper(inst.variant, inst.hyper)
    n, k = inst.G.shape[0], inst.k
    starts = max(ctx.starts, default_starts(n, k)) if starts is None else starts
    if bound is not None and bound.Z is not None:
        # the bound's point has bound.Z.shape[1] <= K columns (a bound at K = r for the rank-r problem): pad
        candidates = tuple(candidates) + (np.pad(bound.Z, ((0, 0), (0, k - bound.Z.shape[1]))),)
    return global_minimise(method, inst.G, k, variant=inst.variant, hyper=hp,
                           starts=starts, seed=ctx.seed, device=ctx.device,
                           candidates=candidates, rank=rank, max_iter=max_iter, gtol=tols.GD_GTOL,
                           bound=None if bound is None else bound.value)


def certified_bound(method, inst, ctx, rank=None):
    """The certified lower bound on ``min loss`` for the instance, or None where none is known.

    Without ``rank``: over all N x K embeddings (:func:`ssl_proofs.bounds.lower_bound`); with ``rank = r``:
    over those of rank ``<= r`` (:func:`ssl_proofs.bounds.rank_bound`: SimCLR's exact rank-1 enumeration, or
    the bound at K = r).  Cached per instance in ``ctx.extra``.
    """
    if BOUNDS_KNOWN.get(method.name) is None or (rank is not None and rank < 1):
        return None
    cache = ctx.extra.setdefault("bounds", {})
    key = (method.name, _graphs.to_dense(inst.G).tobytes(), inst.G.shape, inst.k, rank, inst.variant,
           tuple(sorted(inst.hyper.items())), ctx.seed)
    if key not in cache:
        try:
            if rank is None:
                cache[key] = lower_bound(method, inst.G, inst.k, variant=inst.variant, hyper=inst.hyper,
                                         seed=ctx.seed)
            else:
                cache[key] = rank_bound(method, inst.G, rank, variant=inst.variant, hyper=inst.hyper, seed=ctx.seed)
        except NotProvided:
            cache[key] = None
    return cache[key]


def side_status(loss, bound):
    """How one side of a two-minimisation is known: certified (its loss meets a certified bound) or searched."""
    if bound is None:
        return "searched only (no certified bound known)"
    gap = loss - bound.value
    if certified_gap(loss, bound.value):
        return f"certified: meets the {bound.kind} bound {bound.value:.9g} (gap {gap:.1e})"
    return f"searched only: {gap:.3g} above the {bound.kind} bound {bound.value:.9g}"


def descent_crosschecks(method, inst, Z, loss, sr, mag):
    """Cross-checks (never refuting): descent from random starts reaches the candidate's loss and Gram.

    The Gram comparison needs quadratic growth; on a profile boundary (a used direction whose
    profile switch is within :data:`tolerances.BOUNDARY_WIDTH` of 0) the minimum is quartic and
    the comparison is left out, the same way for every method.
    """
    n, k = inst.G.shape[0], inst.k
    rnd = sr.extra.get("random")
    if rnd is None:
        return []
    Zr, lr, gr = rnd
    tg = tols.descent_loss(mag, gr, n * k)
    out = [Measurement(f"cross-check: descent from random starts reaches loss(Z*) ({lr:.6g} vs {loss:.6g})",
                       abs(lr - loss), tg.value, tg.reason, crosscheck=True)]
    try:
        sol = method.solve(inst.G, k, variant=inst.variant, **inst.hyper).spectral
    except SSLProofsError as exc:  # no closed form of the method's own here: the Gram is not compared, and says so
        out.append(Measurement(f"cross-check: descent's Gram not compared (the method's closed form: "
                               f"{type(exc).__name__}: {exc})", np.inf, 0.0, "left out", crosscheck=True))
        return out
    if tols.boundary_distance(sol.problem, sol.eigenvalues) < tols.BOUNDARY_WIDTH:
        return out
    gap = _optimum_gap(sol, k)
    w = sol.problem.row_weights
    if gap is not None and gap > tols.MIN_GAP:
        M_star, M_gd = whitened_gram(method, Z, w), whitened_gram(method, Zr, w)
        err = np.linalg.norm(M_star - M_gd) / max(1.0, np.linalg.norm(M_star))
        td = tols.gram(tg.value, gap)
        out.append(Measurement("cross-check: descent's Gram matches", err, td.value, td.reason, crosscheck=True))
    else:
        # spectra of the whitened Gram matrix are unique even inside degenerate eigenspaces
        ev_star = np.linalg.eigvalsh(whitened_gram(method, Z, w, small=True))
        ev_gd = np.linalg.eigvalsh(whitened_gram(method, Zr, w, small=True))
        err = np.abs(ev_star - ev_gd).max() / max(1.0, ev_star.max())
        td = tols.gram(tg.value, 1.0)
        out.append(Measurement("cross-check: descent's Gram spectrum matches (degenerate eigengap)", err,
                               td.value, td.reason, crosscheck=True))
    return out


def whitened_gram(method, Z, row_weights=None, *, small=False):
    """Gauge-free summary of an optimum: the Gram of ``diag(1/w) Z`` (centred if the loss ignores the mean).

    With row weights ``w`` (e.g. ``D^-1/2`` of the spectral contrastive loss) the problem is
    orthogonal in ``Z / w``: there the Gram matrix is unique up to rotation of ``Z`` and its
    spectrum is unique even inside a repeated eigenspace.  ``small``: the K x K form ``Y^T Y``.
    """
    Y = Z if row_weights is None else Z / np.asarray(row_weights, dtype=float)[:, None]
    if method.translation_invariant:
        Y = Y - Y.mean(axis=0)
    return Y.T @ Y if small else Y @ Y.T


def _optimum_gap(sol, k):
    """Eigengap that makes the Gram matrix of the optimum (spectral solution ``sol``, K = ``k``) unique."""
    spec = sol.spectrum
    if spec is None:
        return sol.gap
    vals = np.sort(spec)
    kept = sol.scales > 0
    if not np.any(kept):
        return np.inf
    # the boundary between the last *used* direction and the next one
    j = int(np.nonzero(kept)[0].max())
    if sol.problem.which == "largest":
        vals = vals[::-1]
    nxt = vals[j + 1] if j + 1 < len(vals) else np.inf
    # a used direction with scale ~0 next to an unused one is harmless
    return float(abs(nxt - vals[j])) if np.isfinite(nxt) else np.inf


# -- rank ------------------------------------------------------------------------

#: a direction counts in the rank when its standard deviation exceeds this
RANK_STD_THRESHOLD = 1e-2
#: a unit column (of a scale-free method, e.g. BarlowTwins' ``D^1/2 Z`` normalised) counts in the rank when
#: its singular value exceeds this
RANK_SV_THRESHOLD = 1e-2
#: instances with a predicted std (or singular value) in (0, RANK_MARGIN) sit on the rank boundary
#: numerically and are skipped
RANK_MARGIN = 10 * RANK_STD_THRESHOLD


class Reparametrised:
    """A method seen through ``Z = to_Z(Y)``: the structure of a structural claim, imposed.

    Exposes what :func:`ssl_proofs.search.global_minimise` calls (``check_variant``,
    ``check_hyper``, ``objective``, ``feasible``); pass ``shape`` = the shape of ``Y``.
    """

    def __init__(self, method, to_Z):
        self.method, self.to_Z = method, to_Z
        self.name = f"{method.name} (structured)"

    def check_variant(self, variant, **kw):
        return self.method.check_variant(variant, **kw)

    def check_hyper(self, variant, hp):
        return self.method.check_hyper(variant, hp)

    def objective(self, G, **kw):
        return self.method.objective(G, **kw)

    def feasible(self, Y, G, variant, hp):
        return self.method.feasible(self.to_Z(Y), G, variant, hp)


def structure_gap(method, inst, ctx, to_Z, shape, *, free, mag, what, candidates=()):
    """Two minimisations: the best loss with the structure ``Z = to_Z(Y)`` imposed vs ``free.loss``.

    Returns a measurement that refutes the structure when the free best beats the structured best
    by the margin (both losses named), and the structured search result.
    """
    n, k = inst.G.shape[0], inst.k
    hp = method.check_hyper(inst.variant, inst.hyper)
    con = global_minimise(Reparametrised(method, to_Z), inst.G, k, variant=inst.variant, hyper=hp,
                          starts=ctx.starts, seed=ctx.seed, device=ctx.device, candidates=candidates,
                          shape=shape, gtol=tols.GD_GTOL)
    t = tols.rounding(mag, n * k)
    m = Measurement(f"{what}: best loss without the structure {free.loss:.6g} vs with it {con.loss:.6g}",
                    con.loss - free.loss, t.value,
                    f"{t.reason}; free side {side_status(free.loss, certified_bound(method, inst, ctx))}; structured "
                    f"side searched only (no bound known for the structure); structured: {con.evidence}", kind=STRUCTURE)
    return m, con


def rank_by_two_minimisations(method, inst, ctx, predicted, *, mag, candidates=(), minimum=None,
                              max_iter=3000, what="rank(Z*)", free=None, lower=True):
    """``what = predicted`` as two minimisations each way (docs/evidence.md, "Structural claims").

    * ``rank > predicted`` is shown when the best point found without the constraint beats the best
      point found with ``Z = A B^T``, inner dimension ``predicted``, by more than the tolerance (sound
      in the sense of the search: the constrained search starts at the candidates, so its loss is an
      upper bound on the constrained minimum, and the free loss is that of a point actually found);
    * ``rank < predicted`` is shown when the best point with inner dimension ``predicted - 1`` reaches
      the minimum: the proved minimum ``minimum`` when one is known (Eckart--Young), else the best
      point found without the constraint (then it rests on the search, as every "holds" does).

    ``free``: a free search already made (reused); ``lower=False``: only the first direction (a bound).
    The constrained searches start at the candidates and at the free optimum (its best rank-r
    approximation), plus ``ctx.starts`` random starts.

    Returns the measurements (both losses named) and the free search result.
    """
    n, k = inst.G.shape[0], inst.k
    t = tols.rounding(mag, n * k)
    bound = certified_bound(method, inst, ctx)
    if free is None:
        free = search(method, inst, ctx, candidates=candidates, max_iter=max_iter, bound=bound)
    free_side = f"free side {side_status(free.loss, bound)}"
    out = []
    if predicted < k:
        b_con = certified_bound(method, inst, ctx, rank=predicted)
        con = search(method, inst, ctx, candidates=candidates + (free.Z,), rank=predicted, max_iter=max_iter,
                     starts=ctx.starts, bound=b_con)
        out.append(Measurement(
            f"{what} <= {predicted}: best loss without the constraint {free.loss:.6g} vs with rank <= {predicted} "
            f"(Z = AB^T) {con.loss:.6g}", con.loss - free.loss, t.value,
            f"{t.reason}; {free_side}; constrained side {side_status(con.loss, b_con)}; free: {free.evidence}; "
            f"constrained: {con.evidence}", kind=STRUCTURE))
    if predicted >= 1 and lower:
        b_lo = certified_bound(method, inst, ctx, rank=predicted - 1)
        lo = search(method, inst, ctx, candidates=candidates + (free.Z,), rank=predicted - 1, max_iter=max_iter,
                    starts=ctx.starts, bound=b_lo)
        ref, ref_name = (free.loss, "best found without the constraint") if minimum is None else (minimum,
                                                                                                   "proved minimum")
        reached = lo.loss - ref <= t.value
        ref_side = free_side if minimum is None else "free side certified: a proved minimum"
        out.append(Measurement(
            f"{what} >= {predicted}: best loss with rank <= {predicted - 1} {lo.loss:.6g} vs {ref_name} {ref:.6g}"
            + (" (reached: a lower-rank optimum)" if reached else ""),
            float(reached), 0.0, f"reached = within {t.value:.2g} ({t.reason}); {ref_side}; constrained side "
            f"{side_status(lo.loss, b_lo)}; {lo.evidence}", kind=STRUCTURE))
    return out, free


@claim("rank")
def check_rank(theorem, method, inst, ctx):
    """Predicted rank as two minimisations (rank-constrained vs free), see :func:`rank_by_two_minimisations`."""
    sol = method.solve(inst.G, inst.k, variant=inst.variant, **inst.hyper)
    std_pred = sol.spectral.scales * sol.spectral.problem.scale / np.sqrt(inst.G.shape[0])
    if np.any((std_pred > 0) & (std_pred < RANK_MARGIN)):
        raise Inapplicable(f"a predicted std is in (0, {RANK_MARGIN:g}): too close to the rank boundary")
    predicted = method.predicted_rank(inst.G, inst.k, **inst.hyper)
    minimum = None
    target = method.eckart_young_target(inst.G, inst.k, variant=inst.variant, **inst.hyper)
    if target is not None:
        A, w, c = target
        minimum = w * eckart_young_value(A, inst.k) + c
    out, free = rank_by_two_minimisations(method, inst, ctx, predicted, mag=loss_magnitude(method, inst, sol.Z),
                                          candidates=(sol.Z,), minimum=minimum)
    n = inst.G.shape[0]
    std = np.linalg.svd(free.Z - free.Z.mean(axis=0), compute_uv=False) / np.sqrt(n)
    actual = int(np.count_nonzero(std > RANK_STD_THRESHOLD))
    out.append(Measurement(f"cross-check: numerical rank of the best point found {actual} vs predicted {predicted}",
                           abs(predicted - actual), 0.0, f"std > {RANK_STD_THRESHOLD:g}", crosscheck=True))
    return out


# -- derivations -------------------------------------------------------------------

def derivation_key(theorem):
    return (theorem.method, theorem.id, theorem.params.get("variant"))


@claim("derivation", params={"derivation": Callable})
def check_derivation(theorem, method, inst, ctx):
    """Every step of the method's derivation checks out (run once, not per instance)."""
    cache = ctx.extra.setdefault("derivations", {})
    key = derivation_key(theorem)
    if key not in cache:
        # a theorem may carry its own derivation (an identity not tied to a loss variant)
        build = theorem.params.get("derivation") or (lambda: method.derivation(theorem.params.get("variant")))
        cache[key] = build().check(seed=ctx.seed)
    d = cache[key]
    out = []
    for i, step in enumerate(d.steps, 1):
        ev = step.evidence
        out.append(Measurement(f"step {i} ({step.rule}): {ev.short()}", 0.0 if ev.holds else 1.0, 0.0,
                               ev.counterexample or "", kind=DERIVATION))
    return out
