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

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import scipy.linalg as sla
import torch

from ssl_proofs import graphs as _graphs

from . import tolerances as tols
from .descent import minimise


@dataclass
class Measurement:
    name: str
    error: float
    tol: float
    reason: str = ""

    @property
    def ok(self):
        return bool(np.isfinite(self.error) and self.error <= self.tol)

    @property
    def ratio(self):
        if not np.isfinite(self.error):
            return np.inf
        return self.error / self.tol if self.tol > 0 else (0.0 if self.error == 0 else np.inf)


@dataclass
class Instance:
    G: np.ndarray
    k: int
    hyper: dict
    variant: str
    labels: Optional[np.ndarray] = None
    X: Optional[np.ndarray] = None

    def describe(self):
        from .strategies import describe_graph

        hp = ", ".join(f"{k}={v:g}" for k, v in self.hyper.items() if v is not None)
        return f"{describe_graph(self.G)}; k={self.k}; variant={self.variant}; {hp}"


@dataclass
class Context:
    device: str = "cpu"
    starts: int = 3
    seed: int = 0
    solver: Optional[Callable] = None  # check_solver's user solver; None = method.solve
    extra: dict = field(default_factory=dict)


class Inapplicable(Exception):
    """The instance is outside the claim's domain (hypothesis discards it)."""


CHECKS = {}

#: modules of this package that hold no claim checks (everything else is imported for registration)
_NOT_CLAIMS = {"checks", "runner", "descent", "tolerances", "strategies", "instances",
               "references", "references_simclr"}


def load_claim_modules():
    """Import every module of ``verifiers`` that registers claim checks with :func:`claim`."""
    import importlib
    import pkgutil

    import verifiers

    for info in pkgutil.iter_modules(verifiers.__path__):
        if info.name not in _NOT_CLAIMS and not info.name.startswith("_"):
            importlib.import_module(f"verifiers.{info.name}")


def claim(kind):
    """Register the check function for claims of kind ``kind``."""
    def deco(fn):
        CHECKS[kind] = fn
        return fn
    return deco


# -- helpers -----------------------------------------------------------------

def _solve(method, inst, ctx):
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
    scale = sum(abs(v) for v in hp.values() if v is not None)
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


def projector(Z, *, add_constant=False, rel=1e-8):
    """Orthogonal projector onto the column span of ``Z`` (optionally plus the constant vector)."""
    if add_constant:
        Z = np.column_stack([np.ones(Z.shape[0]), Z])
    U, s, _ = np.linalg.svd(Z, full_matrices=False)
    r = int(np.count_nonzero(s > rel * max(s.max(), 1e-300)))
    U = U[:, :r]
    return U @ U.T


# -- closed forms --------------------------------------------------------------

@claim("closed_form")
def check_closed_form(theorem, method, inst, ctx):
    """Feasible, stationary, no worse than GD and perturbations, same Gram as GD."""
    out = []
    Z = _solve(method, inst, ctx)
    n, k = inst.G.shape[0], inst.k
    if Z.shape != (n, k) or not np.all(np.isfinite(Z)):
        return [Measurement("shape/finite", np.inf, 0.0, f"solver returned shape {Z.shape}, expected {(n, k)}")]
    hp = method.check_hyper(inst.variant, inst.hyper)
    loss = method.loss(Z, inst.G, variant=inst.variant, **inst.hyper)
    mag = loss_magnitude(method, inst, Z)

    res = method.constraint_residual(Z, inst.G, inst.variant, hp)
    if res is not None:
        t = tols.rounding(1 + float(np.sum(Z ** 2)) / n, n * k)
        out.append(Measurement("feasibility ||Cov(Z)-I||", res, t.value, t.reason))

    g = gradient(method, inst, Z, device=ctx.device)
    t = tols.rounding(mag, n * k, safety=256.0)
    out.append(Measurement("stationarity |grad loss|_max", float(np.abs(g).max()), t.value, t.reason))

    gd = minimise(method, inst.G, k, variant=inst.variant, hyper=hp, starts=ctx.starts,
                  seed=ctx.seed, device=ctx.device, gtol=tols.GD_GTOL)
    # GD's loss is an upper bound on the true minimum: beating it by more than
    # rounding proves the candidate is not a global minimiser.
    t = tols.rounding(mag, n * k)
    out.append(Measurement("optimality loss(Z*) - loss(GD)", loss - gd.loss, t.value,
                           f"{t.reason}; GD = best of {ctx.starts} L-BFGS starts on {gd.device}"))

    # local optimality against random feasible perturbations, and unrelated random competitors
    rng = np.random.default_rng(ctx.seed)

    def to_Z(Y):
        return method.feasible(torch.as_tensor(Y), inst.G, inst.variant, hp)

    out.append(Measurement("optimality loss(Z*) - loss(perturbed)",
                           competitor_gap(method, inst, loss, perturbations(Z, rng), to_Z), t.value, t.reason))
    randoms = (rng.standard_normal(Z.shape) * rng.choice([0.1, 1.0, 3.0]) for _ in range(4))
    out.append(Measurement("optimality loss(Z*) - loss(random)",
                           competitor_gap(method, inst, loss, randoms, to_Z), t.value, t.reason))

    # independent oracle: Eckart-Young value from a dense eigvalsh of the full target
    target = method.eckart_young_target(inst.G, k, variant=inst.variant, **inst.hyper)
    if target is not None:
        from .oracles import eckart_young_value

        A, w, c = target
        value = w * eckart_young_value(A, k) + c
        te = tols.rounding(mag + w * float(np.sum(A * A)), n * n)
        out.append(Measurement("oracle: loss(Z*) vs Eckart-Young value (eigvalsh of A)", abs(loss - value),
                               te.value, te.reason))

    # cross-check the other way: GD reaches the closed-form loss ...
    tg = tols.descent_loss(mag, gd.grad_norm, n * k)
    out.append(Measurement("GD reaches closed-form loss", abs(gd.loss - loss), tg.value, tg.reason))
    # ... and the same centred Gram matrix, when the optimum is unique (eigengap)
    gap = _optimum_gap(method, inst)
    if gap is not None and gap > tols.MIN_GAP:
        M_star, M_gd = optimum_gram(method, Z), optimum_gram(method, gd.Z)
        err = np.linalg.norm(M_star - M_gd) / max(1.0, np.linalg.norm(M_star))
        td = tols.gram(tg.value, gap)
        out.append(Measurement("GD Gram HZZ^TH matches", err, td.value, td.reason))
    else:
        # spectra of the Gram matrix are unique even inside degenerate eigenspaces
        ev_star = np.linalg.eigvalsh(optimum_gram(method, Z))
        ev_gd = np.linalg.eigvalsh(optimum_gram(method, gd.Z))
        err = np.abs(ev_star - ev_gd).max() / max(1.0, ev_star.max())
        td = tols.gram(tg.value, 1.0)
        out.append(Measurement("GD Gram spectrum matches (degenerate eigengap)", err, td.value, td.reason))
    return out


def _optimum_gap(method, inst):
    """Eigengap that makes the optimum's Gram matrix unique (None if unknown)."""
    try:
        sol = method.solve(inst.G, inst.k, variant=inst.variant, **inst.hyper).spectral
    except Exception:
        return None
    spec = sol.spectrum
    if spec is None:
        return sol.gap
    vals = np.sort(spec)
    k = inst.k
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
#: instances with a predicted std in (0, RANK_MARGIN) sit on the rank boundary numerically and are skipped
RANK_MARGIN = 10 * RANK_STD_THRESHOLD


@claim("rank")
def check_rank(theorem, method, inst, ctx):
    """Predicted rank vs the numerical rank of the gradient-descent optimum."""
    sol = method.solve(inst.G, inst.k, variant=inst.variant, **inst.hyper)
    std_pred = sol.spectral.scales * sol.spectral.problem.scale / np.sqrt(inst.G.shape[0])
    if np.any((std_pred > 0) & (std_pred < RANK_MARGIN)):
        raise Inapplicable(f"a predicted std is in (0, {RANK_MARGIN:g}): too close to the rank boundary")
    predicted = method.predicted_rank(inst.G, inst.k, **inst.hyper)
    hp = method.check_hyper(inst.variant, inst.hyper)
    gd = minimise(method, inst.G, inst.k, variant=inst.variant, hyper=hp, starts=ctx.starts,
                  seed=ctx.seed, device=ctx.device, gtol=tols.GD_GTOL)
    n = inst.G.shape[0]
    std = np.linalg.svd(gd.Z - gd.Z.mean(axis=0), compute_uv=False) / np.sqrt(n)
    actual = int(np.count_nonzero(std > RANK_STD_THRESHOLD))
    return [Measurement(f"rank: predicted {predicted}, GD optimum {actual}", abs(predicted - actual), 0.0,
                        f"numerical rank: std > {RANK_STD_THRESHOLD:g}; predicted stds are 0 or >= {RANK_MARGIN:g}")]


# -- invariances -------------------------------------------------------------------

@claim("ratio_only")
def check_ratio_only(theorem, method, inst, ctx):
    """GD optima at (alpha, gamma) and (c alpha, c gamma) have the same centred Gram matrix."""
    gap = _optimum_gap(method, inst)
    if gap is None or gap <= 1e-3:
        raise Inapplicable("degenerate eigengap: the optimum's Gram matrix is not unique")
    hp = method.check_hyper(inst.variant, inst.hyper)
    c = 3.0
    scaled = {k: (v * c if k in ("alpha", "beta", "gamma") else v) for k, v in hp.items()}
    runs = [minimise(method, inst.G, inst.k, variant=inst.variant, hyper=h, starts=ctx.starts,
                     seed=ctx.seed, device=ctx.device, gtol=tols.GD_GTOL) for h in (hp, scaled)]
    M0, M1 = optimum_gram(method, runs[0].Z), optimum_gram(method, runs[1].Z)
    err = np.linalg.norm(M0 - M1) / max(1.0, np.linalg.norm(M0))
    n = inst.G.shape[0] * inst.k
    mag = loss_magnitude(method, inst, runs[0].Z) * c
    t = tols.gram(max(tols.descent_loss(mag, r.grad_norm, n).value for r in runs), gap)
    return [Measurement(f"Gram(Z*(alpha,gamma)) vs Gram(Z*({c:g}alpha,{c:g}gamma)) by GD", err, t.value, t.reason)]


# -- derivations -------------------------------------------------------------------

def derivation_key(theorem):
    return (theorem.method, theorem.id, theorem.params.get("variant"))


@claim("derivation")
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
                               ev.counterexample or ""))
    return out
