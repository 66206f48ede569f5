"""W-MSE (whitening + MSE between positive pairs) on a positive-pair graph G.

Ermolov, Siarohin, Sangineto & Sebe, "Whitening for Self-Supervised Representation
Learning", ICML 2021.  Official code (transcribed in numpy in ``tests/test_wmse.py``):
https://github.com/htdt/self-supervised/blob/d9662c8d07dafd194a9045375f4f6aa09f5b03e9/methods/w_mse.py
(``Whitening2d`` in ``methods/whitening.py``, ``norm_mse_loss`` in ``methods/norm_mse.py``).

Loss on G
---------
The encoder's outputs ``H`` (one row per node) are whitened, ``Z = (H - 1 m^T) L_C^{-T}`` with
``L_C`` the Cholesky factor of the covariance ``C = (H - 1m^T)^T (H - 1m^T) / (N - 1)``
(``Whitening2d`` with ``eps = 0``), so ``Z^T H Z / (N - 1) = I``.  Then, with the paper's pair
listing (``rows, cols = G.nonzero()``, an edge of weight w counted w times), ``S = sum_ij G_ij``::

    norm     (default, cfg.norm):  L(H) = (1/S) sum_ij G_ij || z_i/|z_i| - z_j/|z_j| ||^2   (norm_mse_loss)
    no_norm  (--no_norm):          L(H) = (1/(K S)) sum_ij G_ij || z_i - z_j ||^2            (F.mse_loss)

On the two-view graph each pair appears once per direction, so both are the official
``loss_f(x0, x1)`` at ``w_iter = 1``.  One difference is stated, not hidden: the official code
whitens each view's sub-batch separately; a graph has no views, so the batch is whitened as
one (docs/wmse.md).

Spectral reading (the closed form)
----------------------------------
For ``no_norm`` and whitened Z, ``sum_ij G_ij ||z_i - z_j||^2 = 2 tr(Z^T L Z)`` (L = D_G - G,
``L 1 = 0``), so W-MSE minimises ``tr(Z^T L Z)`` subject to ``Z^T H Z = (N-1) I``: Laplacian
eigenmaps with H for D_G, the problem of VICReg's constrained variant with ``ddof = 1``.
Ky Fan: ``HZ* = sqrt(N - 1) U_K R^T`` (U_K the bottom K eigenvectors of L on 1-perp), minimum
``2 (N - 1) sum_{k<=K} lambda_k / (K S)``.  The ``norm`` variant is not claimed to share it:
its Laplacian-eigenmaps point is a ``candidate`` and the checks attack it (docs/wmse.md).
"""
from __future__ import annotations

import numpy as np
import sympy
import torch

from .. import graphs as _graphs
from ..derivation import D, Derivation, G, H, K, L, N, Step, Z, cond, eq, i, j, k, prose
from ..errors import InvalidArgument
from ..spectral import SpectralProblem
from ..theorems import Subspace, Theorem
from . import register
from .base import Method

#: F.normalize's default: a zero row stays zero
NORMALIZE_EPS = 1e-12

#: the closed form's profile: unit scale on every direction (whitening fixes the scales)
PROFILE = sympy.Integer(1)
#: an edge weight, as the derivation's justifications print it
_W_SYM = sympy.Symbol("w", positive=True, integer=True)


def whiten(Y):
    """``Whitening2d.forward`` (training mode, eps = 0) in torch: centre, Cholesky, triangular solve.

    Where the covariance is singular (rank(HY) < K) W-MSE is undefined, as the official Cholesky
    fails: the result is NaN (a search treats it as +inf; :meth:`WMSE.loss` raises).
    """
    n, k = Y.shape
    Yc = Y - Y.mean(dim=0, keepdim=True)
    chol, info = torch.linalg.cholesky_ex(Yc.T @ Yc / max(n - 1, 1))
    if int(info) != 0 or n - 1 < k:
        return Yc * float("nan")  # NaN, still attached to Y's graph (autograd sees a value, not a constant)
    inv = torch.linalg.solve_triangular(chol, torch.eye(k, dtype=Y.dtype, device=Y.device), upper=False)
    return Yc @ inv.T


class WMSE(Method):
    name = "wmse"
    title = "W-MSE (whitening + MSE) <-> Laplacian Eigenmaps with H (constrained VICReg, ddof 1)"
    hypers = ()
    variants = ("norm", "no_norm")
    closed_form_variants = ("no_norm", "norm")   # "norm": the same point, only a candidate (proved_range)
    translation_invariant = True                 # whitening centres

    def _loss_torch(self, Z, G, variant, hp):
        W = whiten(Z)
        if variant == "norm":
            W = torch.nn.functional.normalize(W, dim=1, eps=NORMALIZE_EPS)
            scale = G.weights.sum()
        else:
            scale = G.weights.sum() * Z.shape[1]
        diff = W[G.rows] - W[G.cols]
        return (G.weights * diff.pow(2).sum(dim=1)).sum() / scale

    def loss(self, Z, G, *, variant=None, **hp):
        value = super().loss(Z, G, variant=variant, **hp)
        if not np.isfinite(float(value.detach() if isinstance(value, torch.Tensor) else value)):
            n, k = tuple(Z.shape)
            raise InvalidArgument(
                f"W-MSE whitens Z, which needs a non-singular covariance: rank(HZ) = K (here N = {n}, K = {k}). "
                "Pass K <= N - 1 columns that stay linearly independent after centring."
            )
        return value

    def feasible(self, Y, G, variant, hp):
        """The loss whitens its input: descent points are compared after whitening (Grams of Z, not H)."""
        return whiten(Y)

    def kink(self, Z, G, variant, hp):
        """``norm``: a zero row of whitened Z has no direction, and ``z / |z|`` no derivative there."""
        if variant != "norm":
            return ""
        W = _whitened(Z)
        nrm = np.linalg.norm(W, axis=1)
        zero = np.flatnonzero(nrm <= 1e-6 * max(float(nrm.max()), 1.0))
        return f"row {int(zero[0])} of the whitened Z* is 0, where z/|z| has no derivative" if zero.size else ""

    def spectral_problem(self, G, k, *, variant=None, **hp):
        variant = self.check_variant(variant, closed_form=True)
        n = G.shape[0]
        if k > n - 1:
            raise InvalidArgument(f"W-MSE needs K <= N - 1 = {n - 1} (whitening a centred N x K matrix), got K = {k}.")
        return SpectralProblem(
            operator=_graphs.laplacian(G), k=k, which="smallest", profile=PROFILE, hyper={},
            deflate=np.ones((n, 1)) / np.sqrt(n), scale=np.sqrt(n - 1.0),
            description=f"bottom-{k} eigenpairs of L = D_G - G on 1^perp, scaled to Cov(Z) = I (N - 1)",
        )

    def proved_range(self, G, k, variant, hp):
        if variant == "no_norm":
            return True, "wmse (no_norm): Ky Fan on tr(Z^T L Z) over Z^T H Z = (N-1) I: a global minimiser"
        return False, ("wmse (norm): the no_norm optimum (Laplacian eigenmaps); row normalisation changes the "
                       "loss, so this point is only a candidate (theorem wmse.norm.closed_form)")

    def derivation(self, variant=None):
        """From the official loss to Laplacian eigenmaps (``no_norm``; each step checked numerically)."""
        self.check_variant(variant)
        one = sympy.OneMatrix(N, 1)
        return Derivation(prose("W-MSE (no_norm): from the loss to ", sympy.Trace(Z.T * L * Z),
                                " under whitening, then Laplacian eigenmaps"), (
            Step(sympy.Symbol(r"\mathcal{L}_{pairs}"),
                 sympy.Symbol(r"\frac{1}{K S}\sum_{ij} G_{ij} \|z_i - z_j\|^2"),
                 prose("list the nonzeros of ", G, " (weight ", _W_SYM, " repeated ", _W_SYM, " times); F.mse_loss is "
                       "the mean over pairs and features of the whitened rows (both directions: the symmetrisation)"),
                 ("integer weights (repetition); the G-form extends them",), check="numeric",
                 numeric=_check_listing, tol=1e-10),
            Step(sympy.Symbol(r"\frac{1}{K S}\sum_{ij} G_{ij} \|z_i - z_j\|^2"),
                 sympy.Symbol(r"\frac{2}{K S} \mathrm{tr}(Z^T L Z)"),
                 prose("expand the square: ",
                       eq(sympy.Sum(G[i, j] * sympy.Sum((Z[i, k] - Z[j, k]) ** 2, (k, 0, K - 1)), (i, 0, N - 1),
                                    (j, 0, N - 1)), 2 * sympy.Trace(Z.T * (D - G) * Z))),
                 check="numeric", numeric=_check_trace, tol=1e-10),
            Step(sympy.Symbol(r"\min_{Z^T H Z = (N-1) I} \frac{2}{K S}\mathrm{tr}(Z^T L Z)"),
                 sympy.Symbol(r"\frac{2 (N-1)}{K S} \sum_{k \le K} \lambda_k(L|_{1^\perp})"),
                 prose(eq(L * one, sympy.ZeroMatrix(N, 1)), ", so only ", H * Z, " counts; Ky Fan on the bottom "
                       "eigenvalues of ", L, " orthogonal to ", one, ", reached by ",
                       cond(H * Z, sympy.sqrt(N - 1) * sympy.MatrixSymbol("U_K", N, K))),
                 check="numeric", numeric=_check_minimum, tol=1e-9, cite="Ky Fan (1949)"),
        ))

    def theorems(self):
        return WMSE_THEOREMS


def _whitened(Z):
    return whiten(torch.as_tensor(Z, dtype=torch.float64)).numpy()


def _check_listing(inst, rng, tol):
    """The module's torch loss vs the mean over the repeated pair listing (numpy, whitened rows)."""
    rows, cols = _graphs.pair_listing(inst.G)
    W = _whitened(inst.Z)
    ref = float(np.mean((W[rows] - W[cols]) ** 2))
    ours = WMSE_METHOD.loss(inst.Z, inst.G, variant="no_norm")
    return None if abs(ours - ref) <= tol * max(1.0, abs(ref)) else f"torch loss {ours:.15g} != listing mean {ref:.15g}"


def _check_trace(inst, rng, tol):
    W = _whitened(inst.Z)
    G = np.asarray(inst.G, dtype=float)
    lhs = float(np.sum(G * np.sum((W[:, None, :] - W[None, :, :]) ** 2, axis=2)))
    rhs = 2.0 * float(np.trace(W.T @ _graphs.to_dense(_graphs.laplacian(G)) @ W))
    return None if abs(lhs - rhs) <= tol * max(1.0, abs(lhs)) else f"sum {lhs:.15g} != 2 tr(Z^T L Z) {rhs:.15g}"


def _check_minimum(inst, rng, tol):
    """The Ky Fan value (dense eigvalsh of HLH) is reached by the closed form and not beaten by random Z."""
    G = np.asarray(inst.G, dtype=float)
    n, k = inst.N, min(inst.K, inst.N - 1)
    S = G.sum()
    H = np.eye(n) - 1.0 / n
    lam = np.linalg.eigvalsh(H @ _graphs.to_dense(_graphs.laplacian(G)) @ H)
    # HLH has the eigenvalue 0 on 1 too: drop one 0 (the constant), keep the bottom k of the rest
    lam = np.sort(np.delete(lam, int(np.argmin(np.abs(lam)))))[:k]
    value = 2.0 * (n - 1) * float(lam.sum()) / (k * S)
    at_cf = WMSE_METHOD.loss(WMSE_METHOD.solve(G, k, variant="no_norm").Z, G, variant="no_norm")
    if abs(at_cf - value) > tol * max(1.0, value):
        return f"loss at the closed form {at_cf:.15g} != Ky Fan value {value:.15g}"
    for _ in range(20):
        at_random = WMSE_METHOD.loss(rng.standard_normal((n, k)), G, variant="no_norm")
        if at_random < value - tol * max(1.0, value):
            return f"a random whitened Z reaches {at_random:.15g} < the Ky Fan value {value:.15g}"
    return None


WMSE_THEOREMS = [
    Theorem("wmse.derivation", "wmse",
            "W-MSE (no_norm) on whitened Z = (2/(K S)) tr(Z^T L Z); min over Z^T H Z = (N-1) I is "
            "2(N-1) sum_k lambda_k / (K S) (each step checked)",
            claim="derivation", params={"variant": "no_norm"}, source="ours (transcribed official loss)"),
    Theorem("wmse.no_norm.closed_form", "wmse",
            "HZ* = sqrt(N-1) U_K R^T (bottom eigenvectors of L on 1-perp) minimises W-MSE without normalisation",
            claim="closed_form", params={"variant": "no_norm"},
            source="ours: whitening = the constraint Cov(Z) = I; Ky Fan"),
    Theorem("wmse.no_norm.same_as_vicreg", "wmse",
            "span(HZ*) of W-MSE (no_norm) = span of constrained VICReg's Z* on every graph (the same problem)",
            claim="same_subspace", params={"variant": "no_norm", "same_as": Subspace("vicreg", "constrained")},
            source="ours; Balestriero & LeCun 2022 Thm 2 for VICReg's constrained variant"),
    Theorem("wmse.norm.closed_form", "wmse",
            "the Laplacian-eigenmaps point also minimises the paper's W-MSE (rows L2-normalised after whitening)",
            claim="closed_form", expected="refuted", params={"variant": "norm", "k_min": 2, "k_max": 3},
            source="reading 'W-MSE = Laplacian eigenmaps' carried to the default norm_mse_loss; refuted"),
]

WMSE_METHOD = register(WMSE())
