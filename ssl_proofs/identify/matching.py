"""``same_as``: is the user's lifted loss exactly ``scale * (a registered method's loss) + offset``?

For every registered method and variant (constrained variants excepted: their constraint is not
in the loss), the hyper-parameters are read from the loss itself:

* a hyper-parameter in which the method's loss is affine (VICReg's alpha, beta, gamma; BarlowTwins'
  alpha) enters as its own regression feature ``T_j = dL/dh_j``, so its value is a coefficient of
  the exact fit ``user = w_0 T_0 + sum_j w_j T_j + c``;
* one that takes only a few valid values (VICReg's ddof) is tried at each;
* a continuous non-affine one (SimCLR's tau) is searched on a log grid, then refined.

A match needs the fit exact on held-out Z (:data:`~.tolerances.FIT`), a positive scale, and
hyper-parameters the method accepts.  It is tested on the graphs named in the record only.
"""
from __future__ import annotations

import itertools

import numpy as np
import scipy.optimize as sopt
import torch

from .. import graphs as _graphs
from ..errors import SSLProofsError
from ..methods import get_method, list_methods
from .tolerances import FIT

#: log-grid of a continuous hyper-parameter (refined around the best point)
GRID = np.exp(np.linspace(np.log(0.02), np.log(50.0), 15))
TRAIN, TEST = 14, 8


def _valid(method, variant, hp):
    try:
        method.check_hyper(variant, dict(hp))
        return True
    except SSLProofsError:
        return False


def _loss_values(method, variant, G, hp, Zs):
    try:
        f = method.objective(G, variant=variant, **hp)
    except SSLProofsError:
        return None
    with torch.no_grad():
        vals = np.array([float(f(torch.as_tensor(Z))) for Z in Zs])
    return vals if np.all(np.isfinite(vals)) else None


def hyper_plan(method, variant, G, Zs):
    """``(base, affine, discrete, continuous)`` for the method's hyper-parameters."""
    base = {h.name: (1.0 if h.default is None else float(h.default)) for h in method.hypers}
    affine, discrete, continuous = [], {}, []
    for name, v in base.items():
        trials = [v, v + 1.0, v + 2.0] if v == 0 else [v, 2 * v, 3 * v]
        ok = [t for t in trials if _valid(method, variant, {**base, name: t})]
        if len(ok) < 3:
            discrete[name] = sorted({t for t in (v, 0.0, 1.0) if _valid(method, variant, {**base, name: t})})
            continue
        vals = [_loss_values(method, variant, G, {**base, name: t}, Zs[:3]) for t in trials]
        if any(x is None for x in vals):
            continue
        second = np.max(np.abs(vals[2] - 2 * vals[1] + vals[0])) / max(np.max(np.abs(vals[1])), 1e-300)
        (affine if second <= 1e-10 else continuous).append(name)
    return base, affine, discrete, continuous


def _fit_at(method, variant, G, hp, affine, Zs, y):
    """Exact-fit residual and the mapping at fixed non-affine values ``hp``."""
    L0 = _loss_values(method, variant, G, hp, Zs)
    if L0 is None:
        return np.inf, None
    T = []
    for name in affine:
        step = hp[name]
        Lj = _loss_values(method, variant, G, {**hp, name: 2 * step}, Zs)
        if Lj is None:
            return np.inf, None
        T.append((Lj - L0) / step)
    T0 = L0 - sum(hp[name] * t for name, t in zip(affine, T))
    homogeneous = np.max(np.abs(T0)) <= 1e-12 * max(np.max(np.abs(L0)), 1e-300)
    cols = ([] if homogeneous else [T0]) + T + [np.ones(len(Zs))]
    Phi = np.stack(cols, axis=1)
    tr, te = slice(0, TRAIN), slice(TRAIN, None)
    coef, *_ = np.linalg.lstsq(Phi[tr], y[tr], rcond=None)
    res = float(np.max(np.abs(Phi[te] @ coef - y[te])) / max(np.max(np.abs(y[te])), 1e-300))
    w = coef[:-1]
    offset = float(coef[-1])
    if homogeneous:
        nz = [i for i, x in enumerate(w) if abs(x) > 0]
        if not nz:
            return res, None
        scale = w[nz[0]] / hp[affine[nz[0]]]
        values = dict(zip(affine, w / scale))
    else:
        scale = w[0]
        values = dict(zip(affine, w[1:] / scale)) if scale != 0 else {}
    hyper = {**hp, **values}
    return res, {"scale": float(scale), "offset": offset, "hyper": {k: float(v) for k, v in hyper.items()}}


def match_method(method, variant, G, Zs, y):
    """Best exact mapping of ``y`` (user loss at ``Zs``) onto one method/variant: ``(residual, mapping)``."""
    base, affine, discrete, continuous = hyper_plan(method, variant, G, Zs)
    best = (np.inf, None)
    for values in itertools.product(*discrete.values()) if discrete else [()]:
        hp = {**base, **dict(zip(discrete, values))}
        if continuous:
            name = continuous[0]  # registered methods have at most one

            def res_at(logt, hp=hp):
                return _fit_at(method, variant, G, {**hp, name: float(np.exp(logt))}, affine, Zs, y)[0]

            grid = [(res_at(np.log(t)), t) for t in GRID]
            r0, t0 = min(grid)
            if r0 < 1e-2:
                opt = sopt.minimize_scalar(res_at, bounds=(np.log(t0) - 0.4, np.log(t0) + 0.4), method="bounded",
                                           options={"xatol": 1e-12})
                t0 = float(np.exp(opt.x))
            cand = _fit_at(method, variant, G, {**hp, name: t0}, affine, Zs, y)
        else:
            cand = _fit_at(method, variant, G, hp, affine, Zs, y)
        if cand[0] < best[0]:
            best = cand
    return best


def registry_match(f, G, k, *, seed=0, exclude_variants=()):
    """The registered method matching the lifted loss ``f`` on ``G`` exactly, and the nearest miss.

    Returns
    -------
    (match, nearest): ``match`` a dict (method, variant, hyper, scale, offset, residual) or None;
    ``nearest`` ``(residual, method, variant)`` of the best attempt.
    """
    n = np.asarray(G).shape[0]
    rng = np.random.default_rng([seed, 41])
    Zs = [rng.standard_normal((n, k)) * (0.5 + (i % 3) * 0.5) for i in range(TRAIN + TEST)]
    with torch.no_grad():
        y = np.array([float(f(torch.as_tensor(Z))) for Z in Zs])
    nearest = (np.inf, None, None)
    for name in list_methods():
        method = get_method(name)
        for variant in method.variants:
            if variant in method.constrained_variants or (name, variant) in exclude_variants:
                continue
            res, mapping = match_method(method, variant, G, Zs, y)
            if res < nearest[0]:
                nearest = (res, name, variant)
            if mapping is None or res > FIT or mapping["scale"] <= 0:
                continue
            if not _valid(method, variant, mapping["hyper"]):
                continue
            return {"method": name, "variant": variant, "hyper": mapping["hyper"], "scale": mapping["scale"],
                    "offset": mapping["offset"], "residual": res}, nearest
    return None, nearest


def regular_graph(samples=6):
    """The two-view graph (1-regular, N = 2 samples): where pair listing and node-level statistics agree."""
    return _graphs.view_graph(samples)
