"""Exact fits of the lifted loss to the spectral templates, and the spectral problems they give.

Templates (``A_X = Z^T X Z`` for X in the moment basis of :mod:`.moments`):

``eckart_young`` (rotation invariant)
    ``L(Z) = b Tr((Z^T B Z)^2) + Tr(Z^T C Z) + c`` with ``B`` positive semi-definite and
    ``C ker(B) = 0``.  With ``F = B^{1/2} Z`` and ``C' = -C / (2b)``:
    ``L = b ||F F^T - T||_F^2 + c - b ||T||_F^2``, ``T = B^{+1/2} C' B^{+1/2}``, so (Eckart--Young)
    ``Z* = U_K diag(sqrt((tau_k)_+))`` with ``C' u = tau B u`` (B-orthonormal u, the K largest tau,
    u orthogonal to ker B) and ``min L = c - b sum_k (tau_k)_+^2``.  VICReg (squared), the
    spectral contrastive loss and SSL-EY are of this form.
``trace_ratio`` (mixing invariant: the loss sees only span(Z))
    ``L(Z) = c + Tr((Z^T B Z)^{-1} Z^T A Z)`` (whitening losses, W-MSE): fitted on B-orthonormal Z
    for each candidate metric, checked on generic Z; ``Z*`` = the K smallest ``A u = lambda B u``
    (Ky Fan), ``min L = c + sum_k lambda_k``.
``quadratic``
    ``L(Z) = Tr(Z^T C Z) + c``: ``C >= 0`` gives ``Z* = 0`` (collapse), otherwise unbounded.

The general fit is a least-squares fit over the trace polynomials of degree <= 4 in Z
(``1``, ``Tr A_X``, ``Tr(A_X A_Y)``, ``Tr A_X Tr A_Y``) on random Z at three scales; it counts only
if it is exact on held-out Z (:data:`~.tolerances.FIT`).  The template's structure (quartic part
of rank one, no product of traces, B semi-definite, C vanishing on ker B) is then read off the
coefficients, each with its own measured size.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations, combinations_with_replacement

import numpy as np
import sympy
import torch

from ..spectral import SpectralProblem, lam
from .identification import TestResult
from .tolerances import FIT, STRUCTURE

#: Eckart--Young profile (positive part of each eigenvalue), trace-ratio profile (unit)
EY_PROFILE = sympy.sqrt(sympy.Max(0, lam))
UNIT_PROFILE = sympy.Integer(1)

#: scales of the random Z of the fits (the three degrees 0, 2, 4 separate)
SCALES = (0.5, 1.0, 2.0)
HELD_OUT_SCALES = (0.7, 1.5)


@dataclass
class Template:
    """A fitted template: what the loss is, and the spectral problem of its optimum (if any)."""

    kind: str
    tests: list = field(default_factory=list)
    exact: bool = False
    problem: object = None
    pad: int = 0
    operator: str = ""
    metric: str = ""
    predicted: float = float("nan")
    degenerate: str = ""
    no_closed_form: str = ""
    constants: dict = field(default_factory=dict)
    steps: list = field(default_factory=list)


def named_matrices(G):
    """Matrices of G with names, to print operators and metrics as expressions of G."""
    G = np.asarray(G, dtype=float)
    n = G.shape[0]
    d = G.sum(axis=1)
    S = d.sum()
    out = {"I": np.eye(n), "J = 11^T": np.ones((n, n)), "H = I - J/N": np.eye(n) - 1.0 / n,
           "G": G, "D": np.diag(d), "L = D - G": np.diag(d) - G}
    if S > 0:
        out["M = D - dd^T/S"] = np.diag(d) - np.outer(d, d) / S
        out["G - dd^T/S"] = G - np.outer(d, d) / S
    return out


def describe(X, G):
    """``X`` as ``p NAME`` or ``p NAME + q NAME'`` (exact to 1e-9), else its basis combination."""
    known = named_matrices(G)
    x = X.ravel()
    scale = max(np.linalg.norm(x), 1e-300)
    for name, M in known.items():
        m = M.ravel()
        p = float(x @ m / max(m @ m, 1e-300))
        if np.linalg.norm(x - p * m) <= 1e-9 * scale:
            return f"{p:.6g} ({name})" if " " in name else f"{p:.6g} {name}"
    for (n1, M1), (n2, M2) in combinations(known.items(), 2):
        A = np.stack([M1.ravel(), M2.ravel()], axis=1)
        coef, *_ = np.linalg.lstsq(A, x, rcond=None)
        if np.linalg.norm(x - A @ coef) <= 1e-9 * scale:
            return f"{coef[0]:.6g} ({n1}) {coef[1]:+.6g} ({n2})"
    return "a combination outside the named matrices"


def _random_Z(rng, n, k, count, scales):
    return [scales[i % len(scales)] * rng.standard_normal((n, k)) for i in range(count)]


def _values(f, Zs):
    with torch.no_grad():
        return np.array([float(f(torch.as_tensor(Z))) for Z in Zs])


def _moments(Xs, Z):
    return [Z.T @ X @ Z for X in Xs]


def _poly_features(Xs, Z, k):
    A = _moments(Xs, Z)
    m = len(A)
    tr = [float(np.trace(a)) for a in A]
    feats = [1.0] + tr
    feats += [float(np.sum(A[i] * A[j])) for i, j in combinations_with_replacement(range(m), 2)]
    if k > 1:  # for K = 1, Tr(A_i A_j) = Tr A_i Tr A_j: one family suffices
        feats += [tr[i] * tr[j] for i, j in combinations_with_replacement(range(m), 2)]
    return feats


def _fit(rows_train, y_train, rows_test, y_test):
    """Least squares on the training rows; relative max error on the held-out rows."""
    Phi = np.array(rows_train)
    # column scaling: the features span many orders of magnitude
    norms = np.maximum(np.linalg.norm(Phi, axis=0), 1e-300)
    coef, *_ = np.linalg.lstsq(Phi / norms, y_train, rcond=None)
    coef = coef / norms
    pred = np.array(rows_test) @ coef
    res = float(np.max(np.abs(pred - y_test)) / max(np.max(np.abs(y_test)), 1e-300))
    return coef, res


def _kernel(B):
    vals, vecs = np.linalg.eigh((B + B.T) / 2)
    big = max(np.max(np.abs(vals)), 1e-300)
    return vecs[:, np.abs(vals) <= STRUCTURE * big], vals, big


def _only_constant(V, n):
    if V.shape[1] != 1:
        return False
    v = V[:, 0]
    return abs(abs(v @ np.ones(n)) / np.sqrt(n) - 1.0) < 1e-8


def _safe(f, Z):
    """``f(Z)``, or NaN where the loss is undefined (a log-det or a Cholesky at Z = 0): the fit then fails."""
    try:
        with torch.no_grad():
            return float(f(torch.as_tensor(Z, dtype=torch.float64)))
    except Exception:  # user code: an undefined point is a failed fit, not an error
        return float("nan")


def homogeneous_parts(f, Z):
    """``(c, q2(Z), q4(Z))`` of an even polynomial of degree <= 4: from ``f(0)``, ``f(Z)``, ``f(2Z)``."""
    c = _safe(f, np.zeros(Z.shape))
    f1 = _safe(f, Z) - c
    f2 = _safe(f, 2.0 * Z) - c
    q4 = (f2 - 4.0 * f1) / 12.0
    return c, f1 - q4, q4


def _quadratic_form_fit(Xs, Zs, y, Zte, yte):
    """Fit ``y = sum_i w_i Tr(Z^T X_i Z)`` (unique: the X_i are independent); held-out relative error."""
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(yte))):
        return np.zeros(len(Xs)), float("inf")
    feats = [[float(np.sum(Z * (X @ Z))) for X in Xs] for Z in Zs]
    coef, *_ = np.linalg.lstsq(np.array(feats), np.asarray(y), rcond=None)
    pred = np.array([[float(np.sum(Z * (X @ Z))) for X in Xs] for Z in Zte]) @ coef
    yte = np.asarray(yte)
    return coef, float(np.max(np.abs(pred - yte)) / max(np.max(np.abs(yte)), 1e-300))


def fit_eckart_young(f, named, G, k, *, shift_invariant, seed=0):
    """Recover ``L = Tr((Z^T B Z)^2) sign + Tr(Z^T C Z) + c`` from the homogeneous parts, then check it exactly.

    On rank-one ``Z = z e_1^T`` the quartic part is ``b (z^T B z)^2``: its square root is a quadratic
    form in z, fitted in the moment basis (unique).  The quadratic part is fitted the same way.  The
    decisive test is the whole template against the loss on generic held-out Z.
    """
    Xs = [X for _, X in named]
    n, m = np.asarray(G).shape[0], len(Xs)
    rng = np.random.default_rng([seed, 31])
    count = 2 * m + 10
    c = homogeneous_parts(f, np.zeros((n, k)))[0]
    e1 = np.zeros((1, k))
    e1[0, 0] = 1.0
    zs = [rng.standard_normal((n, 1)) @ e1 for _ in range(count + 8)]
    q4r = np.array([homogeneous_parts(f, Z)[2] for Z in zs])
    Zs = [rng.standard_normal((n, k)) for _ in range(count + 8)]
    parts = [homogeneous_parts(f, Z) for Z in Zs]
    q2 = np.array([p[1] for p in parts])
    Ztr, Zte = Zs[:count], Zs[count:]
    a, res2 = _quadratic_form_fit(Xs, Ztr, q2[:count], Zte, q2[count:])
    C = sum(ai * X for ai, X in zip(a, Xs))
    t = Template("eckart_young")
    quartic_scale = float(np.max(np.abs(q4r)))
    total_scale = max(quartic_scale, float(np.max(np.abs(q2))), 1e-300)
    if quartic_scale <= FIT * total_scale:
        B, b = np.zeros_like(C), 0.0
    else:
        if not np.all(np.isfinite(q4r)):
            q4r = np.nan_to_num(q4r, nan=0.0, posinf=0.0, neginf=0.0)
        b = 1.0 if np.median(q4r) > 0 else -1.0
        root = np.sqrt(np.clip(b * q4r, 0, None))
        beta, _ = _quadratic_form_fit(Xs, zs[:count], root[:count], zs[count:], root[count:])
        B = sum(bi * X for bi, X in zip(beta, Xs))
    Zte2 = _random_Z(rng, n, k, 12, HELD_OUT_SCALES)
    if not np.isfinite(c):
        t.tests.append(TestResult("fit.eckart_young", float("inf"), FIT, False,
                                  "the loss is not finite at Z = 0: not a polynomial in Z"))
        return t
    pred = np.array([c + float(np.sum(Z * (C @ Z))) + b * float(np.sum((Z.T @ B @ Z) ** 2)) for Z in Zte2])
    y = _values(f, Zte2)
    res = float(np.max(np.abs(pred - y)) / max(np.max(np.abs(y)), 1e-300))
    fit = TestResult("fit.eckart_young", res, FIT, bool(res <= FIT),
                     "L = c + Tr(Z^T C Z) + b Tr((Z^T B Z)^2), B and C in the moment basis (recovered from the "
                     f"homogeneous parts; quadratic part's own fit {res2:.1e}), max relative error on "
                     f"{len(Zte2)} generic held-out Z")
    t.tests.append(fit)
    t.exact = fit.passed
    if not fit.passed:
        return t
    if b == 0.0:
        return _quadratic(t, C, c, G, shift_invariant)
    evB = np.linalg.eigvalsh(B)
    if evB.sum() < 0:
        B, evB = -B, -evB[::-1]
    indef = float(max(-evB.min(), 0.0) / max(evB.max(), 1e-300))
    t.tests.append(TestResult("structure.metric_semidefinite", indef, STRUCTURE, bool(indef <= STRUCTURE),
                              "most negative / largest eigenvalue of B"))
    if indef > STRUCTURE:
        t.no_closed_form = "the quartic part is b Tr((Z^T B Z)^2) with B indefinite: no Eckart-Young form"
        return t
    if b < 0:
        t.degenerate = "the quartic part is -Tr((Z^T B Z)^2) < 0: the loss is unbounded below (no minimum)"
        return t
    # normalise B (largest eigenvalue 1), the quartic coefficient b carries the scale
    b, B = float(evB.max()) ** 2, B / float(evB.max())
    cscale = max(np.max(np.abs(C)), 1e-300)
    Vk, _, _ = _kernel(B)
    leak = float(np.linalg.norm(C @ Vk) / cscale) if Vk.shape[1] else 0.0
    t.tests.append(TestResult("structure.linear_part_on_ker_B", leak, STRUCTURE, bool(leak <= STRUCTURE),
                              f"||C ker(B)|| / max|C|, dim ker B = {Vk.shape[1]}"))
    if leak > STRUCTURE:
        low = np.linalg.eigvalsh(Vk.T @ C @ Vk).min() if Vk.shape[1] else 0.0
        if low < -STRUCTURE * cscale:
            t.degenerate = "the quadratic part is negative on ker B, where the quartic part is 0: unbounded below"
        else:
            t.no_closed_form = "the quadratic part does not vanish on ker B: no Eckart-Young form"
        return t
    if Vk.shape[1] and not (shift_invariant and _only_constant(Vk, n)):
        t.degenerate = (f"rows of Z in ker B (dimension {Vk.shape[1]}, e.g. isolated nodes) are not seen by the loss "
                        "and are not explained by a tested invariance: the minimum set is not compact")
    Cp = -C / (2 * b)
    rank_B = n - Vk.shape[1]
    k_eff = min(k, rank_B)
    metric = B + Vk @ Vk.T if Vk.shape[1] else B
    t.problem = SpectralProblem(
        operator=Cp, metric=metric, deflate=Vk if Vk.shape[1] else None, k=k_eff, which="largest",
        profile=EY_PROFILE, scale=1.0,
        description=f"top-{k_eff} generalized eigenpairs C' u = tau B u (u orthogonal to ker B), "
                    "scaled by sqrt(tau_+)")
    t.pad = k - k_eff
    t.operator, t.metric = describe(Cp, G), describe(B, G)
    t.constants = {"b": b, "c": c}
    t.steps = [
        (f"L(Z) = b Tr((Z^T B Z)^2) + Tr(Z^T C Z) + c, b = {b:.6g}, c = {c:.6g}, B = {t.metric}",
         f"exact fit on generic held-out Z (residual {res:.1e})", "numeric"),
        ("L(Z) = b ||F F^T - T||_F^2 + c - b ||T||_F^2, F = B^{1/2} Z, T = B^{+1/2} C' B^{+1/2}, C' = -C/(2b)"
         f" = {t.operator}", "completing the square (b > 0, C ker B = 0)", "symbolic"),
        ("F* F*^T = sum_{k<=K} (tau_k)_+ w_k w_k^T, min L = c - b sum_{k<=K} (tau_k)_+^2",
         "Eckart-Young-Mirsky on the PSD matrices of rank <= K", "symbolic"),
        ("Z* = U_K diag(sqrt((tau_k)_+)) R^T, C' u = tau B u, U_K^T B U_K = I",
         "u = B^{+1/2} w, generalized eigenproblem (solve_spectral)", "numeric"),
    ]
    return t


def fit_trace_polynomial(f, named, G, k, *, seed=0):
    """Is the loss a trace polynomial of degree <= 4 at all?  (Diagnosis when no template fits.)"""
    Xs = [X for _, X in named]
    names = [nm for nm, _ in named]
    n = np.asarray(G).shape[0]
    rng = np.random.default_rng([seed, 43])
    n_feat = len(_poly_features(Xs, np.zeros((n, k)), k))
    Ztr = _random_Z(rng, n, k, 2 * n_feat + 12, SCALES)
    Zte = _random_Z(rng, n, k, 12, HELD_OUT_SCALES)
    _, res = _fit([_poly_features(Xs, Z, k) for Z in Ztr], _values(f, Ztr),
                  [_poly_features(Xs, Z, k) for Z in Zte], _values(f, Zte))
    return TestResult("fit.trace_polynomial", res, FIT, bool(res <= FIT),
                      f"L = c + sum a_X Tr A_X + sum b_XY Tr(A_X A_Y) + sum e_XY Tr A_X Tr A_Y, A_X = Z^T X Z, "
                      f"X in {{{', '.join(names)}}}: {len(Ztr)} random Z fitted, max relative error on "
                      f"{len(Zte)} held-out Z")


def _quadratic(t, C, c, G, shift_invariant):
    t.kind = "quadratic"
    n = C.shape[0]
    vals, vecs = np.linalg.eigh(C)
    big = max(np.max(np.abs(vals)), 1e-300)
    t.operator, t.constants = describe(C, G), {"c": c}
    if vals.min() < -STRUCTURE * big:
        t.degenerate = f"the loss is the quadratic Tr(Z^T C Z) + c with C = {t.operator} indefinite: unbounded below"
        return t
    ker = vecs[:, np.abs(vals) <= STRUCTURE * big]
    if ker.shape[1] and not (shift_invariant and _only_constant(ker, n)):
        t.degenerate = (f"the loss is Tr(Z^T C Z) + c with C >= 0 singular (kernel dimension {ker.shape[1]}): "
                        "minimised on a non-compact set")
        return t
    t.predicted = c
    t.steps = [(f"L(Z) = Tr(Z^T C Z) + c, C = {t.operator} >= 0", "exact fit on held-out Z", "numeric"),
               ("Z* = 0 (collapse), min L = c", "C positive semi-definite", "symbolic")]
    return t


def metric_candidates(G):
    """Metrics tried by the trace-ratio template: node-level and degree-weighted centring, I, D."""
    known = named_matrices(G)
    return [(name, known[name]) for name in ("H = I - J/N", "M = D - dd^T/S", "I", "D") if name in known]


def _orthonormalise(Z, B):
    vals, vecs = np.linalg.eigh(Z.T @ B @ Z)
    return Z @ vecs @ np.diag(vals ** -0.5) @ vecs.T


def fit_trace_ratio(f, named, G, k, *, seed=0):
    """Fit ``c + Tr((Z^T B Z)^{-1} Z^T A Z)`` for each candidate metric B; the first exact one wins."""
    Xs = [X for _, X in named]
    n = np.asarray(G).shape[0]
    rng = np.random.default_rng([seed, 37])
    t = Template("trace_ratio")
    for name, B in metric_candidates(G):
        Vk, _, _ = _kernel(B)
        if n - Vk.shape[1] < k:
            continue
        Ztr = [_orthonormalise(Z, B) for Z in _random_Z(rng, n, k, 2 * len(Xs) + 12, SCALES)]
        Zte = _random_Z(rng, n, k, 12, HELD_OUT_SCALES)
        train = [[1.0] + [float(np.trace(Z.T @ X @ Z)) for X in Xs] for Z in Ztr]
        Phi = np.array(train)
        coef, *_ = np.linalg.lstsq(Phi, _values(f, Ztr), rcond=None)
        A = sum(ai * X for ai, X in zip(coef[1:], Xs))
        pred = [coef[0] + float(np.trace(np.linalg.solve(Z.T @ B @ Z, Z.T @ A @ Z))) for Z in Zte]
        y = _values(f, Zte)
        res = float(np.max(np.abs(np.array(pred) - y)) / max(np.max(np.abs(y)), 1e-300))
        test = TestResult(f"fit.trace_ratio[{name.split(' ')[0]}]", res, FIT, bool(res <= FIT),
                          f"L = c + Tr((Z^T B Z)^-1 Z^T A Z), B = {name}: fitted on B-orthonormal Z, checked on "
                          f"{len(Zte)} generic held-out Z")
        t.tests.append(test)
        if not test.passed:
            continue
        t.exact = True
        leak = float(np.linalg.norm(A @ Vk) / max(np.max(np.abs(A)), 1e-300)) if Vk.shape[1] else 0.0
        t.tests.append(TestResult("structure.operator_on_ker_B", leak, STRUCTURE, bool(leak <= STRUCTURE),
                                  f"||A ker(B)|| / max|A|, dim ker B = {Vk.shape[1]}"))
        if leak > STRUCTURE:
            t.no_closed_form = "the numerator does not vanish on ker B: no Ky Fan form"
            return t
        if Vk.shape[1] and not _only_constant(Vk, n):
            t.degenerate = (f"rows of Z in ker B (dimension {Vk.shape[1]}) are not seen by the loss: the minimum set "
                            "is not compact beyond the tested mixing invariance")
        t.problem = SpectralProblem(
            operator=A, metric=B + Vk @ Vk.T if Vk.shape[1] else B, deflate=Vk if Vk.shape[1] else None, k=k,
            which="smallest", profile=UNIT_PROFILE, scale=1.0,
            description=f"bottom-{k} generalized eigenpairs A u = lambda B u (u orthogonal to ker B), B-orthonormal")
        t.operator, t.metric = describe(A, G), name
        t.constants = {"c": float(coef[0])}
        t.steps = [
            (f"L(Z) = c + Tr((Z^T B Z)^-1 Z^T A Z), B = {name}, A = {t.operator}, c = {coef[0]:.6g}",
             f"mixing invariance + exact fit on B-orthonormal Z, checked on generic Z (residual {res:.1e})",
             "numeric"),
            ("min over span(Z) of Tr(U^T A U), U^T B U = I: the K smallest generalized eigenvalues",
             "Ky Fan", "symbolic"),
            ("Z* = U_K A_mix for any invertible A_mix (the loss sees only span Z); returned with Z*^T B Z* = I",
             "generalized eigenproblem (solve_spectral)", "numeric"),
        ]
        return t
    return t
