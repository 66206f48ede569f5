"""Mutation campaign: plausible wrong closed forms that the checks must refute, correct ones they must not.

The catalogue (:data:`CATALOGUE`) is data: each :class:`Mutant` names the method, whether it is
``wrong`` (a planted error) or a correct solver written independently from the math (numpy /
scipy, never :meth:`Method.solve`), what it attacks, and the theorem whose claim and instances
it is run against.  Three kinds:

``"solver"``  ``solver(G, k, *, variant, **hyper) -> Z``, run by :func:`ssl_proofs_verifiers.runner.check_solver`
              with the target theorem's claim and parameters (the user-facing entry point);
``"linear"``  ``solver(X, G, k, *, variant, **hyper) -> W``, run by the target's linear claim
              (``linear_closed_form``) with the solver in the context;
``"predict"`` a replacement for the target theorem's ``params["predict"]`` (a structural
              prediction such as SimCLR's rank), run by the target's claim.

:func:`run_mutant` returns a :class:`MutantResult`: the verdict, the size of the shrunk
counterexample (nodes) and its margin (worst failing measurement, error / tolerance).
Targets: every wrong mutant refuted with a counterexample of at most 8 nodes, no correct
one refuted (docs/mutants.md).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Callable, Optional

import numpy as np
import scipy.linalg as sla
from scipy.sparse.csgraph import connected_components

import ssl_proofs
from ssl_proofs.errors import InvalidArgument

from . import runner as _runner
from .checks import Context
from .descent import resolve_device

__all__ = ["Mutant", "MutantResult", "CATALOGUE", "QUICK", "QUICK_EXAMPLES", "select", "run_mutant", "run_campaign",
           "summarise", "MAX_NODES"]

#: the campaign's size target for counterexamples
MAX_NODES = 8
#: a small perturbation (relative to max |Z|) that must still be refuted
PERTURBATION = 1e-4


@dataclass(frozen=True)
class Mutant:
    """One entry of the catalogue.

    Attributes
    ----------
    name : str       unique, ``<method>.<what>``
    method : str     registry name of the method whose loss the solver claims to minimise
    wrong : bool     True for a planted error (must be refuted), False for a correct solver
    attacks : str    what the mutation changes (or, for a correct solver, how it is computed)
    target : str     theorem id whose claim, parameters and instances are used
    kind : str       "solver", "linear" or "predict" (see the module docstring)
    make : callable  the solver / predictor
    """

    name: str
    method: str
    wrong: bool
    attacks: str
    target: str
    kind: str
    make: Callable = field(repr=False)


@dataclass
class MutantResult:
    mutant: Mutant
    verdict: str
    nodes: Optional[int]
    margin: Optional[float]
    check: Optional[str]
    counterexample: Optional[str]
    examples: int
    seconds: float
    failing: list = field(default_factory=list)

    @property
    def loss_margin(self):
        """Largest error / tol among failing *optimality* measurements (a competitor with strictly lower
        loss); None when the refutation rests on another kind of measurement (stationarity, rank, feasibility)."""
        vals = [r for name, r in self.failing if name.startswith("optimality") and r is not None]
        return max(vals) if vals else None

    @property
    def ok(self):
        """Wrong mutants must be refuted (within :data:`MAX_NODES` nodes); correct ones must not."""
        if self.mutant.wrong:
            return self.verdict == "refuted" and self.nodes is not None and self.nodes <= MAX_NODES
        return self.verdict != "refuted"

    def to_dict(self):
        m = self.mutant
        return {"name": m.name, "method": m.method, "wrong": m.wrong, "attacks": m.attacks,
                "target": m.target, "kind": m.kind, "verdict": self.verdict, "nodes": self.nodes,
                "margin": self.margin, "check": self.check, "loss_margin": self.loss_margin,
                "failing": [{"check": n, "margin": r} for n, r in self.failing],
                "counterexample": self.counterexample,
                "examples": self.examples, "seconds": round(self.seconds, 2), "ok": self.ok}


# -- building blocks, written from the math (numpy / scipy only) -----------------------

def _dense(G):
    return np.asarray(G.toarray() if hasattr(G, "toarray") else G, dtype=float)


def _complement(n):
    """Orthonormal basis (N, N-1) of the vectors orthogonal to the constant vector."""
    q, _ = np.linalg.qr(np.column_stack([np.ones(n), np.eye(n)[:, : n - 1]]))
    return q[:, 1:]


def _ratio(n, hyper):
    ddof = hyper.get("ddof", 0.0) or 0.0
    return hyper.get("gamma", 1.0) / hyper.get("alpha", 1.0) * (n - ddof) / n


def _pick(vals, vecs, k, which, offset=0, rows=False):
    order = np.argsort(vals) if which == "bottom" else np.argsort(vals)[::-1]
    idx = order[offset: offset + k]
    V = vecs.T if rows else vecs            # rows: the transposed eigenvector matrix (a classic slip)
    out_vals, out = vals[idx], V[:, idx]
    if out.shape[1] < k:                    # off-by-one ran out of eigenvectors
        out = np.column_stack([out, np.zeros((out.shape[0], k - out.shape[1]))])
        out_vals = np.r_[out_vals, np.zeros(k - out_vals.size)]
    return out_vals, out


def _vicreg_squared(G, k, *, which="bottom", profile="sqrt", ratio_x=1.0, invert=False, scale_minus=0,
                    centre=True, offset=0, laplacian="combinatorial", threshold="ratio", rows=False, **hyper):
    """Squared VICReg from notes §3.1, with one knob per plausible slip."""
    G = _dense(G)
    n = G.shape[0]
    d = G.sum(axis=1)
    if laplacian == "symmetric":
        s = 1.0 / np.sqrt(np.where(d > 0, d, 1.0))
        L = np.eye(n) - s[:, None] * G * s[None, :]
    else:
        L = np.diag(d) - G
    r = _ratio(n, hyper) * ratio_x
    if invert:
        r = 1.0 / r
    if centre:
        Q = _complement(n)
        lam, V = np.linalg.eigh(Q.T @ L @ Q)
        lam, U = _pick(lam, V, k, which, offset, rows)
        U = Q @ U
    else:
        lam, V = np.linalg.eigh(L)
        lam, U = _pick(lam, V, k, which, offset, rows)
    target = 1.0 - r * lam
    if threshold == "lambda":
        target = np.where(lam < 1.0, target, 0.0)
    target = np.clip(target, 0.0, None)
    s = {"sqrt": np.sqrt(target), "none": target,
         "sign": np.sqrt(np.clip(1.0 + r * lam, 0.0, None))}[profile]
    return np.sqrt(n - scale_minus) * U * s[None, :]


def _vicreg_eckart_young(G, k, **hyper):
    """Squared VICReg as Eckart--Young on the full N x N target ``H - r L`` (no deflation)."""
    G = _dense(G)
    n = G.shape[0]
    A = np.eye(n) - np.ones((n, n)) / n - _ratio(n, hyper) * (np.diag(G.sum(axis=1)) - G)
    sig, V = sla.eigh(A)
    sig, V = sig[::-1][:k], V[:, ::-1][:, :k]
    return np.sqrt(n) * V * np.sqrt(np.clip(sig, 0.0, None))[None, :]


def _vicreg_constrained(G, k, *, which="bottom", scale_minus=0, metric="H", **hyper):
    """Constrained VICReg: ``sqrt(N)`` x bottom eigenvectors of L on 1-perp (or a slip)."""
    G = _dense(G)
    n = G.shape[0]
    L = np.diag(G.sum(axis=1)) - G
    if metric == "D":
        # Laplacian Eigenmaps' metric D_G, then made feasible (centred, orthonormalised)
        d = G.sum(axis=1)
        d = np.where(d > 0, d, 1.0)
        lam, V = sla.eigh(L, np.diag(d))
        U = V[:, 1: k + 1]
        U = np.linalg.qr(U - U.mean(axis=0))[0]
    else:
        Q = _complement(n)
        lam, V = np.linalg.eigh(Q.T @ L @ Q)
        U = Q @ _pick(lam, V, k, which)[1]
    return np.sqrt(n - scale_minus) * U


def _a_bar(G):
    d = G.sum(axis=1)
    s = 1.0 / np.sqrt(d)
    return s[:, None] * G * s[None, :], d


def _sc(G, k, *, which="top", rows="sqrt", profile="sqrt", scale="S", offset=0, clip="positive", **hyper):
    """Spectral contrastive (HaoChen et al. Lemma 3.1): ``Z = sqrt(S) D^{-1/2} U_K sqrt(rho_+)``."""
    G = _dense(G)
    A, d = _a_bar(G)
    S = d.sum()
    rho, V = np.linalg.eigh(A)
    rho, U = _pick(rho, V, k, which, offset)
    r = np.abs(rho) if clip == "abs" else np.clip(rho, 0.0, None)
    s = np.sqrt(r) if profile == "sqrt" else r
    w = {"sqrt": 1.0 / np.sqrt(d), "none": np.ones_like(d), "inverse": 1.0 / d}[rows]
    c = {"S": np.sqrt(S), "one": 1.0, "half": np.sqrt(S / 2)}[scale]
    return c * w[:, None] * U * s[None, :]


def _sc_generalized(G, k, **hyper):
    """Spectral contrastive through the generalized problem ``G u = rho D u`` (scipy, D-orthonormal u)."""
    G = _dense(G)
    d = G.sum(axis=1)
    rho, V = sla.eigh(G, np.diag(d))
    rho, V = rho[::-1][:k], V[:, ::-1][:, :k]
    return np.sqrt(d.sum()) * V * np.sqrt(np.clip(rho, 0.0, None))[None, :]


def _bt(G, k, *, which="top", metric="D", rows=True, **hyper):
    """BarlowTwins' eigen-candidate ``G u = rho D u`` (top K, rho <= 0 zeroed), or a slip."""
    G = _dense(G)
    d = G.sum(axis=1)
    if metric == "D":
        rho, V = sla.eigh(G, np.diag(d))
    elif metric == "sym":
        A, _ = _a_bar(G)
        rho, V = np.linalg.eigh(A)      # eigenvectors of D^-1/2 G D^-1/2, D^-1/2 not applied
    else:
        rho, V = np.linalg.eigh(G)      # Euclidean: metric D_G missing
    rho, U = _pick(rho, V, k, "top" if which == "top" else "bottom")
    return U * (rho > 0)[None, :] if which == "top" else U


def _bt_indicators(G, k, **hyper):
    """K <= #components: one (unit-norm) component indicator per column -- loss 0."""
    c, lab = connected_components(_dense(G), directed=False)
    Z = np.zeros((len(lab), k))
    for j in range(min(k, c)):
        Z[lab == j, j] = 1.0 / np.sqrt(np.count_nonzero(lab == j))
    return Z


# -- linear regime (Z = X W) --------------------------------------------------------

def _range_isqrt(M, rtol=1e-10):
    """``E_r diag(lam_r^{-1/2})``: the inverse square root of a PSD matrix on its range."""
    lam, E = np.linalg.eigh((M + M.T) / 2)
    keep = lam > rtol * max(float(lam.max()), 1e-300)
    return E[:, keep] / np.sqrt(lam[keep])[None, :], E[:, keep] * np.sqrt(lam[keep])[None, :]


def _pad(W, k):
    return W if W.shape[1] >= k else np.column_stack([W, np.zeros((W.shape[0], k - W.shape[1]))])


def _lin_vicreg(X, G, k, *, variant="squared", whiten="inverse", which="bottom", centre=True, **hyper):
    """Notes §3.1: ``W* = S^{-1/2} Q_K diag(sqrt((1 - (gamma/alpha) mu)_+))``, S = X^T H X / N, T = X^T L X / N."""
    G = _dense(G)
    n = G.shape[0]
    Xc = X - X.mean(axis=0) if centre else X
    S = Xc.T @ Xc / n
    T = X.T @ (np.diag(G.sum(axis=1)) - G) @ X / n
    Si, Sh = _range_isqrt(S)
    if whiten == "none":
        Si = np.eye(X.shape[1])
    elif whiten == "sqrt":
        Si = Sh                           # S^{+1/2} instead of S^{-1/2}
    mu, Q = np.linalg.eigh(Si.T @ T @ Si)
    mu, Q = _pick(mu, Q, min(k, Q.shape[1]), which)
    if variant == "constrained":
        return _pad(Si @ Q, k)
    s = np.sqrt(np.clip(1.0 - _ratio(n, hyper) * mu, 0.0, None))
    return _pad(Si @ Q * s[None, :], k)


def _top_correlations(X, G, k, metric):
    """``(d, B^-1/2, rho, Q)``: top-k eigenpairs of ``C = B^-1/2 A B^-1/2``, ``A = X^T G X``, ``B = X^T D X``
    (``B^-1/2`` on the range of ``B``; the identity when ``metric`` is False)."""
    G = _dense(G)
    d = G.sum(axis=1)
    A, B = X.T @ G @ X, X.T @ (d[:, None] * X)
    Bi = _range_isqrt(B)[0] if metric else np.eye(X.shape[1])
    rho, Q = np.linalg.eigh(Bi.T @ A @ Bi)
    rho, Q = _pick(rho, Q, min(k, Q.shape[1]), "top")
    return d, Bi, rho, Q


def _lin_sc(X, G, k, *, metric=True, profile="sqrt", scale="S", **hyper):
    """``L(XW) = ||C - V V^T||^2 - ||C||^2``, ``C = B^{-1/2} A B^{-1/2}``, ``V = B^{1/2} W / sqrt(S)``."""
    d, Bi, rho, Q = _top_correlations(X, G, k, metric)
    r = np.clip(rho, 0.0, None)
    s = np.sqrt(r) if profile == "sqrt" else r
    c = np.sqrt(d.sum()) if scale == "S" else 1.0
    return _pad(c * Bi @ Q * s[None, :], k)


def _lin_bt(X, G, k, *, metric=True, keep_negative=False, **hyper):
    """Linear BarlowTwins: top-k of ``X^T G X w = rho X^T D X w`` on the range of ``X^T D X``, rho <= 0 zeroed."""
    _, Bi, rho, Q = _top_correlations(X, G, k, metric)
    keep = np.ones_like(rho) if keep_negative else (rho > 0).astype(float)
    return _pad(Bi @ Q * keep[None, :], k)


# -- generic slips applied to a correct solver ------------------------------------------

def _perturbed(base):
    def solver(*args, **kw):
        Z = base(*args, **kw)
        rng = np.random.default_rng(12345)
        return Z + PERTURBATION * max(1.0, float(np.abs(Z).max())) * rng.standard_normal(Z.shape)
    return solver


def _roll_rows(base):
    def solver(*args, **kw):
        return np.roll(base(*args, **kw), 1, axis=0)     # node i gets node i-1's row
    return solver


def _zero_last_column(base):
    def solver(*args, **kw):
        Z = base(*args, **kw).copy()
        Z[:, -1] = 0.0
        return Z
    return solver


def _with(fn, **opts):
    def solver(*args, variant=None, **hyper):
        return fn(*args, **{**hyper, **opts})
    return solver


def _lin_with(fn, **opts):
    def solver(X, G, k, *, variant=None, **hyper):
        return fn(np.asarray(X, dtype=float), G, k, **{"variant": variant, **hyper, **opts})
    return solver


# -- SimCLR: rank predictions (its claims are structural; no closed form) --------------------

def _components(G):
    return connected_components(_dense(G), directed=False)[0]


def _rank_simplex(G, k):
    """Equal cliques: the class means form a regular simplex in c - 1 dimensions."""
    return min(_components(G) - 1, k)


def _rank_c(G, k):
    return min(_components(G), k)


def _rank_k_minus_1(G, k):
    return min(_components(G) - 1, k - 1)


# -- the catalogue ------------------------------------------------------------------------

_VSQ = "vicreg.squared.closed_form"
_VCON = "vicreg.constrained.closed_form"
_SC = "spectral_contrastive.closed_form"
_BT = "barlowtwins.components.closed_form"
_LVSQ = "vicreg.linear.squared.closed_form"
_LVCON = "vicreg.linear.constrained.closed_form"
_LSC = "spectral_contrastive.linear.closed_form"
_LBT = "barlowtwins.linear.closed_form"
_SIM = "simclr.rank.simplex"

_vsq = _with(_vicreg_squared)
_sc_ok = _with(_sc)
_bt_ok = _with(_bt)

CATALOGUE = [
    # -- correct solvers, written from the math -------------------------------------
    Mutant("vicreg.squared.textbook", "vicreg", False,
           "numpy eigh of L on an explicit basis of 1-perp, soft-threshold sqrt((1 - (gamma/alpha) lambda)_+)",
           _VSQ, "solver", _vsq),
    Mutant("vicreg.squared.eckart_young", "vicreg", False,
           "scipy eigh of the N x N target H - (gamma/alpha) L, top-K, sqrt of the positive part",
           _VSQ, "solver", _with(_vicreg_eckart_young)),
    Mutant("vicreg.constrained.textbook", "vicreg", False, "sqrt(N) x bottom eigenvectors of L on 1-perp",
           _VCON, "solver", _with(_vicreg_constrained)),
    Mutant("spectral_contrastive.textbook", "spectral_contrastive", False,
           "numpy eigh of D^-1/2 G D^-1/2, Z = sqrt(S) D^-1/2 U sqrt(rho_+)", _SC, "solver", _sc_ok),
    Mutant("spectral_contrastive.generalized", "spectral_contrastive", False,
           "scipy eigh(G, D): D-orthonormal u, Z = sqrt(S) u sqrt(rho_+)", _SC, "solver", _with(_sc_generalized)),
    Mutant("barlowtwins.indicators", "barlowtwins", False,
           "K <= #components: unit component indicators (scipy connected_components)", _BT, "solver",
           _with(_bt_indicators)),
    Mutant("barlowtwins.generalized", "barlowtwins", False,
           "scipy eigh(G, D_G), top K, rho <= 0 zeroed", _BT, "solver", _bt_ok),
    Mutant("vicreg.linear.squared.textbook", "vicreg", False,
           "W = S^-1/2 Q_K diag(sqrt((1 - (gamma/alpha) mu)_+)) on the range of S = X^T H X / N", _LVSQ, "linear",
           _lin_with(_lin_vicreg)),
    Mutant("vicreg.linear.constrained.textbook", "vicreg", False, "W = S^-1/2 Q_K (LPP with H)", _LVCON, "linear",
           _lin_with(_lin_vicreg)),
    Mutant("spectral_contrastive.linear.whitening", "spectral_contrastive", False,
           "Eckart-Young on C = B^-1/2 A B^-1/2 (A = X^T G X, B = X^T D X), W = sqrt(S) B^-1/2 Q sqrt(rho_+)",
           _LSC, "linear", _lin_with(_lin_sc)),
    Mutant("barlowtwins.linear.generalized", "barlowtwins", False,
           "top-k of C = B^-1/2 A B^-1/2 (A = X^T G X, B = X^T D X), rho <= 0 columns zeroed", _LBT, "linear",
           _lin_with(_lin_bt)),
    Mutant("simclr.rank.simplex_textbook", "simclr", False, "rank = min(#classes - 1, K) (regular simplex)",
           _SIM, "predict", _rank_simplex),

    # -- VICReg squared ------------------------------------------------------------------
    Mutant("vicreg.squared.top", "vicreg", True, "top instead of bottom eigenvectors of L", _VSQ, "solver",
           _with(_vicreg_squared, which="top")),
    Mutant("vicreg.squared.sign", "vicreg", True, "sign: sqrt((1 + (gamma/alpha) lambda)_+)", _VSQ, "solver",
           _with(_vicreg_squared, profile="sign")),
    Mutant("vicreg.squared.no_sqrt", "vicreg", True, "missing square root: (1 - (gamma/alpha) lambda)_+", _VSQ,
           "solver", _with(_vicreg_squared, profile="none")),
    Mutant("vicreg.squared.inverted_ratio", "vicreg", True, "(alpha/gamma) lambda instead of (gamma/alpha) lambda",
           _VSQ, "solver", _with(_vicreg_squared, invert=True)),
    Mutant("vicreg.squared.ratio_x2", "vicreg", True, "factor 2: 2 (gamma/alpha) lambda", _VSQ, "solver",
           _with(_vicreg_squared, ratio_x=2.0)),
    Mutant("vicreg.squared.n_minus_1", "vicreg", True, "N vs N - 1: scale sqrt(N - 1) with ddof = 0", _VSQ,
           "solver", _with(_vicreg_squared, scale_minus=1)),
    Mutant("vicreg.squared.no_centring", "vicreg", True,
           "dropped centring: bottom eigenvectors of L without removing the constant one", _VSQ, "solver",
           _with(_vicreg_squared, centre=False)),
    Mutant("vicreg.squared.off_by_one", "vicreg", True, "off-by-one: eigenvectors 2..K+1 of L on 1-perp", _VSQ,
           "solver", _with(_vicreg_squared, offset=1)),
    Mutant("vicreg.squared.sym_laplacian", "vicreg", True,
           "wrong Laplacian normalisation: I - D^-1/2 G D^-1/2", _VSQ, "solver",
           _with(_vicreg_squared, laplacian="symmetric")),
    Mutant("vicreg.squared.threshold_lambda", "vicreg", True,
           "wrong clipping threshold: keep lambda < 1 instead of (gamma/alpha) lambda < 1", _VSQ, "solver",
           _with(_vicreg_squared, threshold="lambda")),
    Mutant("vicreg.squared.transposed", "vicreg", True, "transpose: eigenvector matrix read by rows", _VSQ,
           "solver", _with(_vicreg_squared, rows=True)),
    Mutant("vicreg.squared.permuted_rows", "vicreg", True, "permuted rows: rows shifted by one node (np.roll)", _VSQ,
           "solver", _roll_rows(_vsq)),
    Mutant("vicreg.squared.perturbed", "vicreg", True, f"perturbation of {PERTURBATION:g} (relative)", _VSQ,
           "solver", _perturbed(_vsq)),
    Mutant("vicreg.squared.zero_column", "vicreg", True, "zero-padded column: last column zeroed", _VSQ,
           "solver", _zero_last_column(_vsq)),
    # -- VICReg constrained -------------------------------------------------------------
    Mutant("vicreg.constrained.top", "vicreg", True, "top instead of bottom eigenvectors", _VCON, "solver",
           _with(_vicreg_constrained, which="top")),
    Mutant("vicreg.constrained.le_metric", "vicreg", True,
           "missing metric H: Laplacian Eigenmaps L u = lambda D u, then centred and orthonormalised", _VCON,
           "solver", _with(_vicreg_constrained, metric="D")),
    Mutant("vicreg.constrained.n_minus_1", "vicreg", True, "N vs N - 1: scale sqrt(N - 1) (Cov(Z) != I)", _VCON,
           "solver", _with(_vicreg_constrained, scale_minus=1)),
    # -- spectral contrastive ------------------------------------------------------------
    Mutant("spectral_contrastive.no_row_weights", "spectral_contrastive", True, "missing metric: D^-1/2 dropped",
           _SC, "solver", _with(_sc, rows="none")),
    Mutant("spectral_contrastive.d_inverse", "spectral_contrastive", True,
           "wrong normalisation: D^-1 instead of D^-1/2", _SC, "solver", _with(_sc, rows="inverse")),
    Mutant("spectral_contrastive.no_sqrt_S", "spectral_contrastive", True, "scale sqrt(S) missing", _SC, "solver",
           _with(_sc, scale="one")),
    Mutant("spectral_contrastive.half_S", "spectral_contrastive", True,
           "edges counted once: sqrt(S/2) instead of sqrt(S)", _SC, "solver", _with(_sc, scale="half")),
    Mutant("spectral_contrastive.no_sqrt_rho", "spectral_contrastive", True, "missing square root: rho_+",
           _SC, "solver", _with(_sc, profile="none")),
    Mutant("spectral_contrastive.abs_rho", "spectral_contrastive", True, "no clipping: sqrt(|rho|)", _SC,
           "solver", _with(_sc, clip="abs")),
    Mutant("spectral_contrastive.bottom", "spectral_contrastive", True, "bottom instead of top eigenvectors",
           _SC, "solver", _with(_sc, which="bottom")),
    Mutant("spectral_contrastive.skip_trivial", "spectral_contrastive", True,
           "off-by-one: the top (trivial, rho = 1) eigenvector dropped as in spectral clustering", _SC, "solver",
           _with(_sc, offset=1)),
    Mutant("spectral_contrastive.perturbed", "spectral_contrastive", True,
           f"perturbation of {PERTURBATION:g} (relative)", _SC, "solver", _perturbed(_sc_ok)),
    # -- BarlowTwins (K <= #components, where its closed form is proved) --------------------
    Mutant("barlowtwins.bottom", "barlowtwins", True, "bottom instead of top generalized eigenvectors", _BT,
           "solver", _with(_bt, which="bottom")),
    Mutant("barlowtwins.euclidean", "barlowtwins", True, "missing metric: Euclidean eigenvectors of G", _BT,
           "solver", _with(_bt, metric="euclid")),
    Mutant("barlowtwins.sym_no_rows", "barlowtwins", True,
           "wrong normalisation: eigenvectors of D^-1/2 G D^-1/2 without D^-1/2", _BT, "solver",
           _with(_bt, metric="sym")),
    Mutant("barlowtwins.zero_column", "barlowtwins", True, "zero-padded column: last column zeroed", _BT,
           "solver", _zero_last_column(_bt_ok)),
    Mutant("barlowtwins.permuted_rows", "barlowtwins", True, "permuted rows: rows shifted by one node (np.roll)", _BT,
           "solver", _roll_rows(_bt_ok)),
    Mutant("barlowtwins.perturbed", "barlowtwins", True, f"perturbation of {PERTURBATION:g} (relative)", _BT,
           "solver", _perturbed(_bt_ok)),
    # -- linear regime --------------------------------------------------------------------
    Mutant("vicreg.linear.squared.no_whitening", "vicreg", True, "S^-1/2 dropped: eigh of T alone", _LVSQ,
           "linear", _lin_with(_lin_vicreg, whiten="none")),
    Mutant("vicreg.linear.squared.sqrt_whitening", "vicreg", True, "S^+1/2 instead of S^-1/2", _LVSQ, "linear",
           _lin_with(_lin_vicreg, whiten="sqrt")),
    Mutant("vicreg.linear.squared.top", "vicreg", True, "top instead of bottom generalized eigenvectors", _LVSQ,
           "linear", _lin_with(_lin_vicreg, which="top")),
    Mutant("vicreg.linear.squared.uncentred", "vicreg", True, "dropped centring: S = X^T X / N", _LVSQ, "linear",
           _lin_with(_lin_vicreg, centre=False)),
    Mutant("vicreg.linear.squared.perturbed", "vicreg", True, f"perturbation of {PERTURBATION:g} (relative)",
           _LVSQ, "linear", _perturbed(_lin_with(_lin_vicreg))),
    Mutant("vicreg.linear.constrained.no_whitening", "vicreg", True, "S^-1/2 dropped (Cov(XW) != I)", _LVCON,
           "linear", _lin_with(_lin_vicreg, whiten="none")),
    Mutant("spectral_contrastive.linear.no_metric", "spectral_contrastive", True,
           "missing metric: Euclidean eigh of X^T G X", _LSC, "linear", _lin_with(_lin_sc, metric=False)),
    Mutant("spectral_contrastive.linear.no_sqrt_rho", "spectral_contrastive", True, "missing square root: rho_+",
           _LSC, "linear", _lin_with(_lin_sc, profile="none")),
    Mutant("spectral_contrastive.linear.no_sqrt_S", "spectral_contrastive", True, "scale sqrt(S) missing", _LSC,
           "linear", _lin_with(_lin_sc, scale="one")),
    Mutant("barlowtwins.linear.keeps_negative", "barlowtwins", True,
           "profile 1: columns with rho <= 0 kept (issue 8, finding 1)", _LBT, "linear",
           _lin_with(_lin_bt, keep_negative=True)),
    Mutant("barlowtwins.linear.no_metric", "barlowtwins", True, "missing metric: Euclidean eigh of X^T G X", _LBT,
           "linear", _lin_with(_lin_bt, metric=False)),
    # -- SimCLR (structural: rank of the GD optimum) -------------------------------------------
    Mutant("simclr.rank.components", "simclr", True, "off-by-one: rank = min(#classes, K)", _SIM, "predict",
           _rank_c),
    Mutant("simclr.rank.k_minus_1", "simclr", True, "off-by-one in K: rank = min(#classes - 1, K - 1)", _SIM,
           "predict", _rank_k_minus_1),
]

#: hypothesis examples per mutant in the quick run (wrong mutants fall in the first few)
QUICK_EXAMPLES = 10

#: a subset covering every method, wrong and correct, that runs in about a minute (CI)
QUICK = (
    "vicreg.squared.textbook", "vicreg.squared.sign", "vicreg.constrained.top",
    "spectral_contrastive.no_row_weights", "barlowtwins.indicators", "barlowtwins.euclidean",
    "vicreg.linear.squared.no_whitening", "spectral_contrastive.linear.no_sqrt_rho",
    "barlowtwins.linear.keeps_negative", "simclr.rank.components",
)


def select(names=None, *, quick=False):
    """Catalogue entries by name (all by default; :data:`QUICK` with ``quick=True``)."""
    by_name = {m.name: m for m in CATALOGUE}
    if names is None:
        names = QUICK if quick else [m.name for m in CATALOGUE]
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise InvalidArgument(f"unknown mutant(s) {unknown}; known: {', '.join(by_name)}.")
    return [by_name[n] for n in names]


# -- running ------------------------------------------------------------------------------

_NODES = re.compile(r"N=(\d+)")


def _nodes(counterexample):
    """Node count of the shrunk instance, read from its description (``describe_graph``: ``N=...``)."""
    m = _NODES.search(counterexample or "")
    return int(m.group(1)) if m else None


def _margin(failing):
    """Worst failing measurement as ``(error / tol, name)``; ``error`` itself when the tolerance is 0."""
    if not failing:
        return None, None
    worst = max(failing, key=lambda m: m.ratio)
    return _measure_ratio(worst), worst.name


def _measure_ratio(m):
    r = m.ratio if np.isfinite(m.ratio) else float(m.error)
    return float(r) if np.isfinite(r) else None


def _result_for(mutant, res):
    refuted = res.verdict == "refuted"
    margin, check = _margin(res.failing) if refuted else (None, None)
    failing = [(m.name, _measure_ratio(m)) for m in res.failing] if refuted else []
    return MutantResult(mutant, res.verdict, _nodes(res.counterexample) if refuted else None,
                        margin, check, res.counterexample, res.examples, res.seconds, failing)


def run_mutant(mutant, *, examples=None, seed=0, device="cpu", starts=3, progress=None):
    """Attack one mutant with its target theorem's claim and instances.

    Returns
    -------
    MutantResult
    """
    th = ssl_proofs.get_theorem(mutant.target)
    params = dict(th.params)
    examples = _runner.DEFAULT_EXAMPLES if examples is None else int(examples)
    if mutant.kind == "solver":
        variant = params.pop("variant", None)
        res = _runner.check_solver(mutant.method, mutant.make, variant=variant, examples=examples, seed=seed,
                                   device=device, starts=starts, progress=progress, claim=th.claim, params=params)
        return _result_for(mutant, res)
    solver = None
    if mutant.kind == "predict":
        params["predict"] = mutant.make
    elif mutant.kind == "linear":
        solver = mutant.make
    else:
        raise InvalidArgument(f"mutant {mutant.name}: unknown kind {mutant.kind!r}.")
    probe = replace(th, id=f"mutant.{mutant.name}", params=params,
                    expected="refuted" if mutant.wrong else "holds", source="mutation campaign")
    ctx = Context(device=resolve_device(device), starts=int(starts), seed=int(seed), solver=solver)
    return _result_for(mutant, _runner.run_theorem(probe, examples=examples, ctx=ctx, progress=progress))


def run_campaign(mutants, *, examples=None, seed=0, device="cpu", starts=3, on_start=None, on_done=None,
                 progress=None):
    """Run every mutant; ``on_start(mutant)`` / ``on_done(result)`` drive a progress line."""
    out = []
    for m in mutants:
        if on_start:
            on_start(m)
        r = run_mutant(m, examples=examples, seed=seed, device=device, starts=starts, progress=progress)
        if on_done:
            on_done(r)
        out.append(r)
    return out


def summarise(results):
    """Kill rate, false refutations, size and margin targets of a campaign."""
    wrong = [r for r in results if r.mutant.wrong]
    correct = [r for r in results if not r.mutant.wrong]
    killed = [r for r in wrong if r.verdict == "refuted"]
    nodes = [r.nodes for r in killed if r.nodes is not None]
    return {
        "wrong": len(wrong), "killed": len(killed),
        "kill_rate": len(killed) / len(wrong) if wrong else 1.0,
        "survivors": [r.mutant.name for r in wrong if r.verdict != "refuted"],
        "correct": len(correct),
        "false_refutations": [r.mutant.name for r in correct if r.verdict == "refuted"],
        "max_nodes": max(nodes) if nodes else None,
        "too_large": [r.mutant.name for r in killed if r.nodes is None or r.nodes > MAX_NODES],
        "min_margin": min((r.margin for r in killed if r.margin is not None), default=None),
        "without_loss_competitor": [r.mutant.name for r in killed if r.loss_margin is None],
        "errors": [r.mutant.name for r in results if r.verdict in ("error", "inconclusive")],
    }
