"""VICReg: from the loss as the paper writes it to its spectral form (notes §3.1).

Variants
--------
``"hinge"``        the paper's loss; rewritten with the Dirichlet energy.
``"squared"``      squared variance term with ``alpha = beta``: a Frobenius
                   distance to ``H - (gamma/alpha) L`` plus an explicit
                   constant, minimised by Eckart--Young.
``"constrained"``  variance/covariance enforced exactly (``C = I``):
                   Laplacian Eigenmaps with ``H`` in place of ``D_G``.

Notation: ``C = Z^T H Z / N`` (``Cov(Z)``), ``M = H Z Z^T H / N``,
``L = D - G``, ``H = I - 11^T / N``.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import sympy
from scipy.linalg import eigh, null_space

from ..derivation import (C, D, Derivation, G, H, K, L, M, N, Step, Z, alpha, beta, gamma, i, j, k, l, cond, eq,
                          prose)
from ..errors import InvalidArgument
from ..graphs import centering, circulant_graph, laplacian
from ..tracealgebra import diag_part, frob2

__all__ = ["VARIANTS", "derivation", "dirichlet", "squared_loss_paper", "hinge_loss_paper", "EY_LEMMA",
           "check_centred_reachability"]

#: the lemma the Eckart--Young steps cite (PSD, rank-constrained version for a symmetric target)
EY_LEMMA = ("Eckart-Young-Mirsky for a symmetric target A: min ||M - A||_F over PSD M of rank <= K is "
            "attained at sum_{i <= K} (mu_i)_+ v_i v_i^T (Eckart & Young 1936; Dax 2014, Adv. Linear "
            "Algebra Matrix Theory 4:172, low-rank positive approximants)")

VARIANTS = ("hinge", "squared", "constrained")

I_K = sympy.Identity(K)
A_SOFT = H - (gamma / alpha) * L           # the target of the squared variant
_Zs = sympy.MatrixSymbol(r"Z^{\star}", N, K)
_U = sympy.MatrixSymbol("U_K", N, K)
_R = sympy.MatrixSymbol("R", K, K)
_S = sympy.MatrixSymbol(r"\Sigma_{\gamma/\alpha}", K, K)
_ZLE = sympy.MatrixSymbol(r"Z^{\star}_{\mathrm{LE}}", N, K)
P = sympy.Symbol("P", positive=True)
ONE = sympy.OneMatrix(N, 1)
ZERO = sympy.ZeroMatrix(N, 1)
_V = sympy.MatrixSymbol("V", N, K)
_Lam = sympy.MatrixSymbol(r"\Lambda", K, K)
_lam_k = sympy.Symbol(r"lambda_k")
_diag = sympy.Function("diag")
O_K = sympy.Function("O")(K)
#: conditions the steps assume, printed as mathematics
SYMMETRIC_G = cond(G.T, G)
DEGREES = cond(D * ONE, G * ONE)
LAPLACIAN_KILLS_ONE = cond(L * ONE, ZERO)
BETA_IS_ALPHA = cond(beta, alpha)


# -- the loss terms as the paper writes them ---------------------------------------

def dirichlet():
    r"""``\sum_{ij} G_{ij} \|z_i - z_j\|^2`` written entrywise."""
    return sympy.Sum(G[i, j] * sympy.Sum((Z[i, k] - Z[j, k]) ** 2, (k, 0, K - 1)),
                     (i, 0, N - 1), (j, 0, N - 1))


def _offdiag_sq(coef):
    return coef * sympy.Sum((1 - sympy.KroneckerDelta(k, l)) * C[k, l] ** 2, (k, 0, K - 1), (l, 0, K - 1))


def squared_loss_paper():
    """Squared-variance VICReg with ``alpha = beta``, entrywise."""
    return (alpha * sympy.Sum((C[k, k] - 1) ** 2, (k, 0, K - 1)) + _offdiag_sq(alpha)
            + gamma / N * dirichlet())


def _hinge():
    return alpha * sympy.Sum(sympy.Max(0, 1 - sympy.sqrt(C[k, k])), (k, 0, K - 1))


def hinge_loss_paper():
    """The paper's VICReg loss (§2.2), entrywise."""
    return _hinge() + _offdiag_sq(beta) + gamma / N * dirichlet()


# -- shared steps --------------------------------------------------------------------

def _dirichlet_steps():
    e1 = 2 * sympy.Sum(D[i, i] * sympy.Sum(Z[i, k] ** 2, (k, 0, K - 1)), (i, 0, N - 1)) \
        - 2 * sympy.Sum(G[i, j] * sympy.Sum(Z[i, k] * Z[j, k], (k, 0, K - 1)), (i, 0, N - 1), (j, 0, N - 1))
    e2 = 2 * sympy.Trace(Z.T * D * Z) - 2 * sympy.Trace(Z.T * G * Z)
    e3 = 2 * sympy.Trace(Z.T * L * Z)
    return [
        Step(dirichlet(), e1, prose("expand the square, with ", eq(G.T, G), " and the degrees ",
                                    eq(D * ONE, G * ONE)), (prose(SYMMETRIC_G), prose(DEGREES))),
        Step(e1, e2, prose(eq(sympy.Sum(D[i, i] * sympy.Sum(Z[i, k] ** 2, (k, 0, K - 1)), (i, 0, N - 1)),
                              sympy.Trace(Z.T * D * Z)), " and ",
                           eq(sympy.Sum(G[i, j] * sympy.Sum(Z[i, k] * Z[j, k], (k, 0, K - 1)), (i, 0, N - 1),
                                        (j, 0, N - 1)), sympy.Trace(Z.T * G * Z)))),
        Step(e2, e3, prose("the graph Laplacian ", eq(L, D - G), " (Dirichlet energy)")),
        Step(sympy.Trace(Z.T * L * Z), N * sympy.Trace(L * M),
             prose(eq(L, H * L * H), " since ", eq(L * ONE, ZERO), "; ", eq(M, H * Z * Z.T * H / N)),
             (prose(LAPLACIAN_KILLS_ONE),)),
    ]


# -- numeric-only steps ----------------------------------------------------------

def _spectrum(g):
    """Eigenpairs of L on 1-perp, ascending: (lam, U) with U orthonormal, U^T 1 = 0."""
    n = g.shape[0]
    q = null_space(np.ones((1, n)))
    lam, v = np.linalg.eigh(q.T @ laplacian(g) @ q)
    return lam, q @ v


def _orth(rng, n, kk):
    q, r = np.linalg.qr(rng.normal(size=(n, kk)))
    return q * np.sign(np.diag(r))


def _soft_loss(z, g, a, c):
    n, kk = z.shape
    h = centering(n)
    cov = z.T @ h @ z / n
    return a * np.sum((cov - np.eye(kk)) ** 2) + 2 * c / n * np.trace(z.T @ laplacian(g) @ z)


def _eckart_young_check(method, sign=-1.0):
    """Numeric check of the stated optimum, the profile evaluated from VICReg's own spectral problem.

    ``sign = -1``: the solver's ``SQUARED_PROFILE`` as is (the paper's claim); ``sign = +1`` plants a
    wrong profile ``sqrt((1 + (gamma/alpha) lambda)_+)`` (tests).
    """
    def check(inst, rng, tol):
        return _check_eckart_young(method, inst, rng, tol, sign)
    return check


def _stated_scales(method, g, kk, a, c, lam, sign):
    prob = method.spectral_problem(g, kk, variant="squared", alpha=a, gamma=c)
    if sign > 0:
        prob = replace(prob, profile=prob.profile.subs(_ratio_symbol(prob), -_ratio_symbol(prob)))
    return prob.scale, prob.profile_values(lam)


def _ratio_symbol(prob):
    """The ratio symbol of VICReg's squared profile (its one hyper-parameter)."""
    (r,) = tuple(prob.hyper)
    return r


def _check_eckart_young(method, inst, rng, tol, sign=-1.0):
    n, kk, g = inst.N, inst.K, inst.G
    a, c = inst.scalars["alpha"], inst.scalars["gamma"]
    h, lap = centering(n), laplacian(g)
    target = h - (c / a) * lap
    lam, u = _spectrum(g)
    scale, s = _stated_scales(method, g, kk, a, c, lam[:kk], sign)
    hz = scale * u[:, :kk] @ np.diag(s) @ _orth(rng, kk, kk).T
    z = hz + rng.normal(size=(1, kk))           # the mean of Z* is free
    if np.abs(h @ z - hz).max() > tol * max(1.0, np.abs(hz).max()):
        return "H Z* is not the stated centred embedding"
    m_star = h @ z @ z.T @ h / n
    mu = np.linalg.eigvalsh(target)[::-1]
    best = float(np.sum(mu ** 2) - np.sum(np.clip(mu[:kk], 0, None) ** 2))  # Eckart-Young value
    f_star = float(np.sum((m_star - target) ** 2))
    scale_t = 1.0 + np.sum(target ** 2)
    if abs(f_star - best) > tol * scale_t:
        return f"||M* - A||^2 = {f_star:.10g} but the Eckart-Young optimum is {best:.10g}"
    l_star = _soft_loss(z, g, a, c)
    for t in range(20):
        y = rng.normal(size=(n, kk)) if t < 10 else z + 0.1 * rng.normal(size=(n, kk))
        m = h @ y @ y.T @ h / n
        f = float(np.sum((m - target) ** 2))
        if f < f_star - tol * scale_t:
            return f"a rank-{kk} centred PSD M beats M*: {f:.10g} < {f_star:.10g}"
        if _soft_loss(y, g, a, c) < l_star - tol * a * scale_t:
            return "a random Z has a smaller squared VICReg loss than Z*"
    return None


def check_centred_reachability(inst, rng, tol):
    """Z -> M(Z) = HZZ^TH/N maps onto the centred PSD matrices of rank <= K.

    Into: M(Z) is symmetric, PSD, M 1 = 0, rank <= K (random Z).  Onto: a random centred PSD M of
    rank <= K is reached by ``Z = sqrt(N) V Lambda^{1/2}`` (V: its eigenvectors, orthogonal to 1, so
    HZ = Z).  With this, minimising the loss over Z is minimising ``||M - A||_F`` over that set.
    """
    n, kk = inst.N, inst.K
    h = centering(n)
    z = rng.normal(size=(n, kk))
    m = h @ z @ z.T @ h / n
    ev = np.linalg.eigvalsh(m)
    size = max(1.0, float(ev.max()))
    if np.abs(m @ np.ones(n)).max() > tol * size or ev.min() < -tol * size or np.sum(ev > tol * size) > kk:
        return "HZZ^TH/N is not a centred PSD matrix of rank <= K"
    r = int(rng.integers(0, kk + 1))
    v = h @ rng.normal(size=(n, r))
    v = np.linalg.qr(v)[0] if r else v
    target = v @ np.diag(rng.uniform(0.1, 3.0, size=r)) @ v.T
    w, e = np.linalg.eigh(target)
    keep = w > tol * max(1.0, float(w.max(initial=0.0)))
    zr = np.zeros((n, kk))
    zr[:, : int(keep.sum())] = np.sqrt(n) * e[:, keep] * np.sqrt(w[keep])[None, :]
    if np.abs(h @ zr @ zr.T @ h / n - target).max() > tol * max(1.0, float(np.abs(target).max())):
        return f"the centred PSD rank-{r} matrix is not reached by Z = sqrt(N) V Lambda^(1/2)"
    return None


def _check_constrained(inst, rng, tol):
    n, kk, g = inst.N, inst.K, inst.G
    h, lap = centering(n), laplacian(g)
    lam, u = _spectrum(g)
    z = np.sqrt(n) * u[:, :kk] @ _orth(rng, kk, kk).T + rng.normal(size=(1, kk))
    if np.abs(z.T @ h @ z / n - np.eye(kk)).max() > tol:
        return "Z* violates Z^T H Z / N = I"
    f_star = float(np.trace(z.T @ lap @ z))
    scale = 1.0 + n * abs(lam).sum()
    if abs(f_star - n * lam[:kk].sum()) > tol * scale:
        return f"Tr(Z*^T L Z*) = {f_star:.10g}, expected N sum_k lambda_k = {n * lam[:kk].sum():.10g}"
    q = null_space(np.ones((1, n)))
    for t in range(20):
        if t < 10:   # a random feasible point
            y = np.sqrt(n) * q @ _orth(rng, n - 1, kk)
        else:        # a feasible point near Z*, whitened back onto the constraint
            y = h @ (z + 0.1 * rng.normal(size=(n, kk)))
            w, v = np.linalg.eigh(y.T @ y / n)
            y = y @ v @ np.diag(w ** -0.5) @ v.T
        if np.trace(y.T @ lap @ y) < f_star - tol * scale:
            return "a feasible Z has a smaller Dirichlet energy than Z*"
    return None


def _regular_graph(rng, n):
    """Random circulant graph: regular, so D_G = P I."""
    offs = rng.choice(np.arange(1, n // 2 + 1), size=int(rng.integers(1, n // 2 + 1)), replace=False)
    return circulant_graph(n, offs)


def _check_le_regular(inst, rng, tol):
    n = max(inst.N, 4)
    kk = min(inst.K, n - 1)
    g = _regular_graph(rng, n)
    deg = g.sum(axis=1)
    p = float(deg[0])
    if np.ptp(deg) != 0:
        return "internal error: circulant graph is not regular"
    lap, dmat = laplacian(g), np.diag(deg)
    lam, u = _spectrum(g)
    z = np.sqrt(n) * u[:, :kk] @ _orth(rng, kk, kk).T       # constrained VICReg optimum (zero mean)
    z_le = z / np.sqrt(n * p)
    if np.abs(z_le.T @ dmat @ z_le - np.eye(kk)).max() > tol:
        return "Z*/sqrt(NP) violates Z^T D Z = I"
    if np.abs(z_le.T @ dmat @ np.ones(n)).max() > tol * n:
        return "Z*/sqrt(NP) is not D-orthogonal to 1"
    mu = eigh(lap, dmat, eigvals_only=True)
    le_opt = float(np.sort(mu)[1:kk + 1].sum())              # drop the constant eigenvector
    f = float(np.trace(z_le.T @ lap @ z_le))
    if abs(f - le_opt) > tol * (1.0 + abs(mu).sum()):
        return f"on a {p:g}-regular graph, LE optimum {le_opt:.10g} != value {f:.10g} of Z*/sqrt(NP)"
    return None


# -- the derivations -----------------------------------------------------------

def _squared_steps(method):
    lhs0 = alpha * frob2(C - I_K) + 2 * gamma / N * sympy.Trace(Z.T * L * Z)
    mid = alpha * frob2(C) - 2 * alpha * sympy.Trace(C) + alpha * K + 2 * gamma * sympy.Trace(L * M)
    soft = alpha * frob2(M - A_SOFT) + alpha * K - alpha * frob2(A_SOFT)
    return [
        Step(squared_loss_paper(), lhs0,
             prose("the diagonal and off-diagonal terms form ", frob2(C - I_K), "; Dirichlet energy ",
                   eq(dirichlet(), 2 * sympy.Trace(Z.T * L * Z))),
             ("squared variance term", prose(BETA_IS_ALPHA))),
        Step(lhs0, mid, prose("expand the Frobenius norm; ", eq(sympy.Trace(Z.T * L * Z), N * sympy.Trace(L * M))),
             (prose(LAPLACIAN_KILLS_ONE),)),
        Step(mid, soft, prose("complete the square: ", eq(frob2(C), frob2(M)), ", ", eq(sympy.Trace(C), sympy.Trace(H * M)),
                              ", ", eq(H * H, H), ", ", eq(H * L, L)),
             (prose(LAPLACIAN_KILLS_ONE),),
             note=prose("The constant ", alpha * K - alpha * frob2(A_SOFT), " does not depend on ", Z, ".")),
        Step(sympy.Symbol(r"\{H Z Z^T H / N\}"), sympy.Symbol(r"\{M \succeq 0 : M 1 = 0, \mathrm{rank} M \le K\}"),
             prose("reachability: ", cond(Z, H * Z * Z.T * H / N, r"\mapsto"), " maps onto the centred PSD matrices "
                   "of rank at most ", K, " (", cond(Z, sympy.sqrt(N) * _V * _Lam ** sympy.Rational(1, 2)), " for ",
                   cond(M, _V * _Lam * _V.T), ", ", cond(_V.T * ONE, sympy.ZeroMatrix(K, 1)), ")"),
             check="numeric", numeric=check_centred_reachability, tol=1e-9),
        Step(H * _Zs, sympy.sqrt(N) * _U * _S * _R.T,
             prose("Eckart–Young: the minimiser of ", frob2(M - A_SOFT), " over centred PSD ", M, " of rank at most ",
                   K, " is the top-", K, " positive part of the target (", eq(A_SOFT * ONE, ZERO),
                   ", so the PSD optimum is centred); the profile is evaluated from VICReg's spectral problem"),
             ("squared variance term", prose(BETA_IS_ALPHA)),
             note=prose(_U, ": eigenvectors of ", L, " orthogonal to ", ONE, " with the ", K, " smallest eigenvalues ",
                        _lam_k, "; ", cond(_S, _diag(sympy.sqrt(sympy.Max(0, 1 - gamma / alpha * _lam_k))), ":="),
                        "; ", cond(_R, O_K, r"\in"), " arbitrary."),
             check="numeric", numeric=_eckart_young_check(method, -1.0), tol=1e-8, cite=EY_LEMMA),
    ]


def _hinge_steps():
    rhs = _hinge() + beta * frob2(C - diag_part(C)) + 2 * gamma / N * sympy.Trace(Z.T * L * Z)
    return [Step(hinge_loss_paper(), rhs,
                 prose("the off-diagonal covariance term ",
                       eq(_offdiag_sq(1), frob2(C - diag_part(C))), "; Dirichlet energy ",
                       eq(dirichlet(), 2 * sympy.Trace(Z.T * L * Z))))]


def _constrained_steps():
    return [
        Step(H * _Zs, sympy.sqrt(N) * _U * _R.T,
             prose("minimise ", sympy.Trace(Z.T * L * Z), " subject to ", cond(Z.T * H * Z / N, I_K),
                   ": Laplacian Eigenmaps with ", H, " in place of ", D),
             (prose(cond(C, I_K), " enforced exactly"),),
             note=prose(_U, ": the bottom-", K, " eigenvectors of ", L, " orthogonal to ", ONE, "; ",
                        cond(_R, O_K, r"\in"), "; the mean of ", _Zs, " is free."),
             check="numeric", numeric=_check_constrained, tol=1e-8),
        Step(_ZLE, _Zs / sympy.sqrt(N * P),
             prose(G, " regular (", cond(D, P * sympy.Identity(N)), "): the ", H, "-constrained optimum, rescaled, "
                   "solves Laplacian Eigenmaps"),
             (prose(cond(D, P * sympy.Identity(N))),), check="numeric", numeric=_check_le_regular, tol=1e-8),
    ]


def derivation(method, variant="squared") -> Derivation:
    """VICReg's spectral rewrite as an (unchecked) :class:`Derivation`.

    Parameters
    ----------
    method : Method
        VICReg (its spectral problem gives the profile the Eckart-Young step evaluates).
    variant : {"squared", "hinge", "constrained"}

    Returns
    -------
    Derivation
        Call ``.check()`` to fill the evidence.

    Raises
    ------
    InvalidArgument
        For an unknown variant.
    """
    if variant not in VARIANTS:
        raise InvalidArgument(f"unknown VICReg variant {variant!r}; use one of {VARIANTS}.")
    steps = _dirichlet_steps()
    if variant == "squared":
        steps += _squared_steps(method)
    elif variant == "hinge":
        steps = steps[:3] + _hinge_steps()
        return Derivation(f"VICReg ({variant}): from the loss to its G-form (no spectral form)", tuple(steps),
                          stop=HINGE_STOP)
    else:
        steps += _constrained_steps()
    return Derivation(f"VICReg ({variant}): from the loss to its spectral form", tuple(steps))


#: why the hinge derivation ends at the G-form
HINGE_STOP = prose("the variance hinge ", sympy.Max(0, 1 - sympy.sqrt(C[k, k])), " is not a function of ",
                   H * Z * Z.T * H, " that Eckart–Young can minimise, so at finite ", beta, " the paper's loss has no "
                   "spectral form and no closed form; the derivation ends at the G-form. The spectral form is the "
                   "squared variant (--variant squared) or the constrained one; the decorrelated optimum as ",
                   cond(beta, sympy.oo, r"\to"), " is checked as vicreg.hinge.decorrelated_std.")
