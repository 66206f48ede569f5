"""Linear VICReg: from the loss in ``Z`` to the loss in ``W`` (``Z = X W``), and its optimum.

Notation (notes §3.1): ``S = X^T H X / N``, ``T = X^T L X / N`` (D x D),
``A~ = S^{-1/2} T S^{-1/2}``, ``V = S^{1/2} W``, ``M_W = V V^T``.

Steps (variant ``"squared"``, ``alpha = beta``, ``ddof = 0``)::

    alpha ||C - I||^2 + (2 gamma / N) Tr(Z^T L Z)
      = alpha ||W^T S W - I||^2 + 2 gamma Tr(W^T T W)                  (Z = XW)
      = alpha ||M_W - (I_D - (gamma/alpha) A~)||^2 + alpha K - alpha ||I_D - (gamma/alpha) A~||^2
    W* = S^{-1/2} Q_K diag(sqrt((1 - (gamma/alpha) mu_k)_+)) R^T      (Eckart-Young in V)

``"constrained"``: ``min Tr(W^T T W)`` s.t. ``W^T S W = I``: ``W* = S^{-1/2} Q_K R^T`` (LPP with H).
A final step states the label-graph identity ``X^T L X = sum_c n_c X_c^T H_c X_c``.

Evidence
--------
The derivation engine's concrete instances know the roles ``Z, G, D, L, H``
but not a data matrix ``X`` or weights ``W``, so every step here carries a
custom numeric check (random ``X, W``); the substitution steps are *also*
proved symbolically by the trace prover under :data:`LINEAR_TRACE`
(:func:`symbolic_proofs`), which the tests assert.
"""
from __future__ import annotations

from functools import partial

import numpy as np
import sympy

from ..derivation import C, D, Derivation, G, H, K, L, N, Step, Z, alpha, beta, cond, gamma, i, j, prose
from ..errors import InvalidArgument
from ..graphs import centering, label_graph, laplacian
from ..tracealgebra import TraceContext, frob2, prove
from .vicreg import EY_LEMMA, O_K

__all__ = ["VARIANTS", "derivation", "symbolic_proofs", "LINEAR_TRACE", "X", "W", "S", "T", "Dd"]

VARIANTS = ("squared", "constrained")

Dd = sympy.Symbol("D", positive=True, integer=True)
X = sympy.MatrixSymbol("X", N, Dd)
W = sympy.MatrixSymbol("W", Dd, K)
S = sympy.MatrixSymbol("S", Dd, Dd)
T = sympy.MatrixSymbol("T", Dd, Dd)
_I_K = sympy.Identity(K)
_I_D = sympy.Identity(Dd)
_MW = sympy.MatrixSymbol("M_W", Dd, Dd)
_At = sympy.MatrixSymbol(r"\tilde{A}", Dd, Dd)
_Ws = sympy.MatrixSymbol(r"W^{\star}", Dd, K)
_Sih = sympy.MatrixSymbol("S^{-1/2}", Dd, Dd)
_Q = sympy.MatrixSymbol("Q_K", Dd, K)
_Sig = sympy.MatrixSymbol(r"\Sigma_{\gamma/\alpha}", K, K)
_R = sympy.MatrixSymbol("R", K, K)
_nc = sympy.Symbol("n_c", positive=True)
_Xc = sympy.MatrixSymbol("X_c", N, Dd)
_Hc = sympy.MatrixSymbol("H_c", N, N)
_V = sympy.MatrixSymbol("V", Dd, K)
_mu = sympy.Symbol("mu")
_mu_k = sympy.Symbol("mu_k")
_w = sympy.MatrixSymbol("w", Dd, 1)
_y = sympy.IndexedBase("y")
_SW = sympy.MatrixSymbol("S_W", Dd, Dd)
_n = sympy.Symbol("n", positive=True, integer=True)
_c = sympy.Symbol("c", positive=True, integer=True)
_Sc = sympy.MatrixSymbol("S_c", Dd, Dd)
_diag = sympy.Function("diag")
_S_DEF = cond(S, X.T * H * X / N)

#: identities the prover may use for the substitution steps
LINEAR_TRACE = TraceContext(
    symmetric=(H, L, S, T),
    rules=(((H, H), (H,)), ((H, L), (L,))),
    definitions={C: Z.T * H * Z / N, Z: X * W, S: X.T * H * X / N, T: X.T * L * X / N},
)

_LOSS_Z = alpha * frob2(C - _I_K) + 2 * gamma / N * sympy.Trace(Z.T * L * Z)
_LOSS_W = alpha * frob2(W.T * S * W - _I_K) + 2 * gamma * sympy.Trace(W.T * T * W)
_SOFT_W = alpha * frob2(_MW - (_I_D - (gamma / alpha) * _At)) + alpha * K \
    - alpha * frob2(_I_D - (gamma / alpha) * _At)


# -- numeric helpers ------------------------------------------------------------------

def _draw(inst, rng):
    """Random X (N x D, D < N so S is invertible), W (D x K) on the instance's graph."""
    n, kk = inst.N, inst.K
    d = int(rng.integers(1, n))
    x = np.round(rng.normal(size=(n, d)), 2)
    w = np.round(rng.normal(size=(d, kk)), 2)
    h, lap = centering(n), laplacian(inst.G)
    s, t = x.T @ h @ x / n, x.T @ lap @ x / n
    return x, w, s, t


def _isqrt(s):
    lam, v = np.linalg.eigh(s)
    if lam.min() <= 1e-10 * lam.max():
        return None
    return v @ np.diag(lam ** -0.5) @ v.T


def _loss_z(z, g, a, c):
    n, kk = z.shape
    cov = z.T @ centering(n) @ z / n
    return a * np.sum((cov - np.eye(kk)) ** 2) + 2 * c / n * np.trace(z.T @ laplacian(g) @ z)


def _loss_w(w, s, t, a, c):
    return a * np.sum((w.T @ s @ w - np.eye(w.shape[1])) ** 2) + 2 * c * np.trace(w.T @ t @ w)


def _rel(u, v, tol):
    return abs(u - v) <= tol * max(1.0, abs(u), abs(v))


def _check_substitution(inst, rng, tol):
    x, w, s, t = _draw(inst, rng)
    a, c = inst.scalars["alpha"], inst.scalars["gamma"]
    lz, lw = _loss_z(x @ w, inst.G, a, c), _loss_w(w, s, t, a, c)
    return None if _rel(lz, lw, tol) else f"loss in Z = {lz:.12g}, loss in W = {lw:.12g}"


def _check_whitening(inst, rng, tol):
    x, w, s, t = _draw(inst, rng)
    si = _isqrt(s)
    if si is None:
        return None  # S singular: the step assumes rank(HX) = D (handled by solve_linear's range reduction)
    a, c = inst.scalars["alpha"], inst.scalars["gamma"]
    d, kk = w.shape
    lam, v = np.linalg.eigh(s)
    v_w = v @ np.diag(np.sqrt(lam)) @ v.T @ w           # V = S^{1/2} W
    target = np.eye(d) - (c / a) * si @ t @ si
    rhs = a * np.sum((v_w @ v_w.T - target) ** 2) + a * kk - a * np.sum(target ** 2)
    lw = _loss_w(w, s, t, a, c)
    return None if _rel(lw, rhs, tol) else f"loss in W = {lw:.12g}, whitened Frobenius form = {rhs:.12g}"


def _closed_form(method, s, t, kk, g, variant, **hp):
    """``S^{-1/2} Q_K diag(s(mu))`` with the profile ``s`` evaluated from VICReg's own spectral problem."""
    si = _isqrt(s)
    mu, q = np.linalg.eigh(si @ t @ si)
    prob = method.spectral_problem(g, kk, variant=variant, **hp)
    return si @ q[:, :kk] @ np.diag(prob.profile_values(mu[:kk])), mu


def _orth(rng, m):
    q, r = np.linalg.qr(rng.normal(size=(m, m)))
    return q * np.sign(np.diag(r))


def _check_optimum(method, inst, rng, tol):
    x, _, s, t = _draw(inst, rng)
    if _isqrt(s) is None:
        return None
    a, c = inst.scalars["alpha"], inst.scalars["gamma"]
    d = s.shape[0]
    kk = min(inst.K, d)
    w_star, mu = _closed_form(method, s, t, kk, inst.G, "squared", alpha=a, gamma=c)
    w_star = w_star @ _orth(rng, kk).T
    l_star = _loss_w(w_star, s, t, a, c)
    # Eckart-Young value in the whitened coordinates
    nu = np.sort(1 - (c / a) * mu)[::-1]
    best = a * (np.sum(nu ** 2) - np.sum(np.clip(nu[:kk], 0, None) ** 2)) + a * kk - a * np.sum(nu ** 2)
    if not _rel(l_star, best, tol):
        return f"loss(W*) = {l_star:.12g} but the Eckart-Young value is {best:.12g}"
    for trial in range(20):
        w = rng.normal(size=w_star.shape) if trial < 10 else w_star + 0.1 * rng.normal(size=w_star.shape)
        if _loss_w(w, s, t, a, c) < l_star - tol * max(1.0, abs(l_star)):
            return "a random W has a smaller loss than W*"
    return None


def _check_lpp(method, inst, rng, tol):
    x, _, s, t = _draw(inst, rng)
    if _isqrt(s) is None:
        return None
    d = s.shape[0]
    kk = min(inst.K, d)
    w_star, mu = _closed_form(method, s, t, kk, inst.G, "constrained")
    if np.abs(w_star.T @ s @ w_star - np.eye(kk)).max() > tol:
        return "W* violates W^T S W = I"
    f_star = float(np.trace(w_star.T @ t @ w_star))
    if not _rel(f_star, mu[:kk].sum(), tol):
        return f"Tr(W*^T T W*) = {f_star:.12g}, expected sum of bottom mu = {mu[:kk].sum():.12g}"
    si = _isqrt(s)
    for _ in range(20):  # random feasible W = S^{-1/2} O, O orthonormal columns
        w = si @ _orth(rng, d)[:, :kk]
        if np.trace(w.T @ t @ w) < f_star - tol * max(1.0, abs(f_star)):
            return "a feasible W has a smaller Tr(W^T T W) than W*"
    return None


def _check_label_scatter(inst, rng, tol):
    n = inst.N
    y = rng.integers(0, max(2, n // 2), size=n)
    x = rng.normal(size=(n, int(rng.integers(1, 4))))
    lhs = x.T @ laplacian(label_graph(y)) @ x
    rhs = np.zeros_like(lhs)
    for cl in np.unique(y):
        xc = x[y == cl] - x[y == cl].mean(axis=0)
        rhs += (y == cl).sum() * xc.T @ xc
    err = np.abs(lhs - rhs).max()
    return None if err <= tol * max(1.0, np.abs(lhs).max()) else f"|X^T L X - sum n_c S_c| = {err:.3g} (labels {y.tolist()})"


# -- the derivation ---------------------------------------------------------------

def _steps(method, variant):
    label = Step(X.T * L * X, sympy.Sum(_nc * _Xc.T * _Hc * _Xc, (sympy.Symbol("c"), 1, sympy.Symbol("C"))),
                 prose("label graph (", cond(G[i, j], 1), " when ", cond(_y[i], _y[j]), ", ", cond(i, j, r"\ne"),
                       "): ", L, " is block diagonal with blocks ", _nc * _Hc),
                 (prose(G, " the label graph"),),
                 note=prose("so ", cond(X.T * L * X, _n * _SW), " only for balanced classes (size ", _n,
                            "); in general it is the size-weighted within-class scatter ",
                            sympy.Sum(_nc * _Sc, (_c, 1, sympy.Symbol("C")))),
                 check="numeric", numeric=_check_label_scatter, tol=1e-10)
    if variant == "squared":
        return [
            Step(_LOSS_Z, _LOSS_W, prose("substitute ", cond(Z, X * W), ": ", cond(C, W.T * S * W), ", ",
                                         cond(sympy.Trace(Z.T * L * Z), N * sympy.Trace(W.T * T * W))),
                 ("squared variance term", prose(cond(beta, alpha)), "ddof = 0"),
                 check="numeric", numeric=_check_substitution, tol=1e-10),
            Step(_LOSS_W, _SOFT_W,
                 prose("whiten ", cond(_V, S ** sympy.Rational(1, 2) * W, ":="), ", ", cond(_MW, _V * _V.T, ":="), ", ",
                       cond(_At, S ** sympy.Rational(-1, 2) * T * S ** sympy.Rational(-1, 2), ":="),
                       "; complete the square"),
                 (prose(_S_DEF, " invertible"),), check="numeric", numeric=_check_whitening, tol=1e-9),
            Step(_Ws, _Sih * _Q * _Sig * _R.T,
                 prose("Eckart–Young on ", _MW, ": the top-", K, " positive part of ", _I_D - (gamma / alpha) * _At,
                       " (", cond(_V, S ** sympy.Rational(1, 2) * W), " reaches every ", Dd, "-by-", K, " matrix, so ",
                       _MW, " every PSD matrix of rank at most ", K, "; profile from VICReg's spectral problem)"),
                 (prose(S, " invertible"),), cite=EY_LEMMA,
                 note=prose(_Q, ", ", _mu_k, ": bottom eigenpairs of ", _At, " (generalized eigenproblem ",
                            cond(X.T * L * X * _w, _mu * X.T * H * X * _w), "); ",
                            cond(_Sig, _diag(sympy.sqrt(sympy.Max(0, 1 - gamma / alpha * _mu_k))), ":="), "; ",
                            cond(_R, O_K, r"\in")),
                 check="numeric", numeric=partial(_check_optimum, method), tol=1e-8),
            label,
        ]
    return [
        Step(sympy.Trace(Z.T * L * Z), N * sympy.Trace(W.T * T * W),
             prose("substitute ", cond(Z, X * W), " in the Dirichlet energy, ", cond(T, X.T * L * X / N, ":=")),
             check="numeric", numeric=lambda inst, rng, tol: _check_substitution(inst, rng, tol), tol=1e-10),
        Step(_Ws, _Sih * _Q * _R.T,
             prose("minimise ", sympy.Trace(W.T * T * W), " subject to ", cond(W.T * S * W, _I_K), ": LPP with ", H,
                   " in place of ", D, " (generalized eigenvectors)"),
             (prose(S, " invertible"), prose(cond(C, _I_K), " enforced exactly")), check="numeric", numeric=partial(_check_lpp, method), tol=1e-8),
        label,
    ]


def derivation(method, variant="squared") -> Derivation:
    """Linear VICReg (``Z = X W``) as an unchecked :class:`Derivation`; call ``.check()``.

    ``method`` is VICReg: the closed-form steps evaluate its own spectral problem's profile.

    Raises
    ------
    InvalidArgument
        For an unknown variant.
    """
    if variant not in VARIANTS:
        raise InvalidArgument(f"unknown linear VICReg variant {variant!r}; use one of {VARIANTS}.")
    return Derivation(prose(f"linear VICReg ({variant}): the loss in ", Z, ", the loss in ", W, ", then ", _Ws),
                      tuple(_steps(method, variant)))


def symbolic_proofs():
    """Trace-prover proofs of the substitution identities, for general N, D, K.

    Returns
    -------
    dict name -> bool
    """
    return {
        "squared: loss(Z = XW) = alpha||W^T S W - I||^2 + 2 gamma Tr(W^T T W)": prove(_LOSS_Z, _LOSS_W, LINEAR_TRACE),
        "Tr(Z^T L Z) = N Tr(W^T T W)": prove(sympy.Trace(Z.T * L * Z), N * sympy.Trace(W.T * T * W), LINEAR_TRACE),
        "Tr(C) = Tr(W^T S W)": prove(sympy.Trace(C), sympy.Trace(W.T * S * W), LINEAR_TRACE),
    }
