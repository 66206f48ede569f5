"""VICReg as Laplacian Eigenmaps (notes §3.1).

Loss as the paper writes it (``variant="hinge"``, the default of ``loss``)::

    alpha * sum_k max(0, 1 - sqrt(C_kk)) + beta * sum_{k != j} C_kj^2
        + (gamma / N) * sum_ij G_ij ||z_i - z_j||^2,        C = Z^T H Z / (N - ddof)

``variant="squared"``: the variance hinge replaced by ``(C_kk - 1)^2`` (with
``beta = alpha`` this is ``alpha ||C - I||_F^2``), the form with a closed form;
``variant="constrained"``: minimise the invariance term subject to ``C = I``.

Closed forms (one spectral problem each): with ``lambda_k`` the smallest
eigenvalues of ``L`` on ``1^perp`` and ``U_K`` their eigenvectors,

* squared: ``H Z* = sqrt(N) U_K diag(sqrt((1 - r lambda_k)_+)) R^T``,
  ``r = gamma / alpha`` (times ``(N - ddof) / N`` when ``ddof != 0``);
* constrained: ``H Z* = sqrt(N) U_K R^T`` (Laplacian Eigenmaps with ``H`` in place of ``D_G``).

The mean of ``Z`` is free (the loss ignores it); ``solve`` returns the centred optimum.

Normalisation
-------------
``ddof = 0`` (default) uses ``C = Z^T H Z / N``, as in the paper's equations
(and our notes); the paper's PyTorch listing calls ``torch.cov``, i.e.
``ddof = 1``.  Both are supported; the closed forms carry the factor.

References
----------
Balestriero & LeCun, NeurIPS 2022, §2.2 and Theorems 1-3 (arXiv 2205.11508).
Bardes, Ponce & LeCun, "VICReg", ICLR 2022.
"""
from __future__ import annotations

import numpy as np
import sympy
import torch

from .. import graphs as _graphs
from ..derivations.vicreg import derivation as _derivation
from ..hyper import Hyper
from ..errors import InvalidArgument, NoClosedForm
from ..spectral import SpectralProblem, lam
from ..theorems import Theorem
from . import register
from .base import Method

#: the closed-form profiles, written once (rendered in reports, evaluated by the solver)
r = sympy.Symbol("r", positive=True)  # effective invariance ratio gamma/alpha * (N - ddof)/N
SQUARED_PROFILE = sympy.sqrt(sympy.Max(0, 1 - r * lam))
CONSTRAINED_PROFILE = sympy.Integer(1)


class VICReg(Method):
    name = "vicreg"
    linear_padding = "optimal"  # k > rank(X^T B X): soft variants pad with zero columns
    padding = "optimal"  # k >= N: squared VICReg pads with zero columns (constrained: Cov(Z) = I_K is infeasible)
    title = "VICReg <-> Laplacian Eigenmaps"
    hypers = (
        Hyper("alpha", 1.0, "variance weight (> 0)", domain=(0.1, 10.0)),
        Hyper("beta", None, "covariance weight (default: alpha; the closed form needs beta = alpha)"),
        Hyper("gamma", 1.0, "invariance weight (>= 0)", domain=(0.01, 10.0)),
        Hyper("ddof", 0.0, "covariance normaliser N - ddof (0 or 1)"),
    )
    variants = ("hinge", "squared", "constrained")
    closed_form_variants = ("squared", "constrained")
    constrained_variants = ("constrained",)

    # -- hyper-parameters ----------------------------------------------
    def validate_hyper(self, variant, hp):
        hp = dict(hp)
        if hp.get("beta") is None:
            hp["beta"] = hp.get("alpha", self.defaults["alpha"])  # beta defaults to alpha
        out = super().validate_hyper(variant, hp)
        if out["alpha"] <= 0:
            raise InvalidArgument(
                f"alpha = {out['alpha']:g}: the variance weight must be > 0 (with alpha <= 0 the loss is "
                "unbounded below or collapses). Use e.g. alpha = 1."
            )
        if out["beta"] < 0:
            raise InvalidArgument(f"beta = {out['beta']:g}: the covariance weight must be >= 0.")
        if out["gamma"] < 0:
            raise InvalidArgument(f"gamma = {out['gamma']:g}: the invariance weight must be >= 0.")
        if out["ddof"] not in (0.0, 1.0):
            raise InvalidArgument(f"ddof = {out['ddof']:g}: use 0 (covariance / N, the paper's equations) or 1 (/ (N-1), torch.cov).")
        return out

    # -- the loss, once ------------------------------------------------
    def _loss_torch(self, Z, G, variant, hp):
        n = Z.shape[0]
        Zc = Z - Z.mean(dim=0, keepdim=True)
        C = Zc.T @ Zc / (n - hp["ddof"])
        diag = torch.diagonal(C)
        off = C - torch.diag_embed(diag)
        # (gamma/N) sum_ij G_ij ||z_i - z_j||^2 over the edge list, as in the paper's listing
        diff = Z[G.rows] - Z[G.cols]
        invariance = hp["gamma"] / n * (G.weights * diff.pow(2).sum(dim=1)).sum()
        if variant == "constrained":
            return invariance
        cov = hp["beta"] * off.pow(2).sum()
        if variant == "hinge":
            var = hp["alpha"] * torch.clamp(1 - torch.sqrt(diag), min=0).sum()
        else:
            var = hp["alpha"] * (diag - 1).pow(2).sum()
        return var + cov + invariance

    def constraint_residual(self, Z, G, variant, hp):
        if variant != "constrained":
            return None
        Z = np.asarray(Z, dtype=float)
        n, k = Z.shape
        Zc = Z - Z.mean(axis=0)
        return float(np.linalg.norm(Zc.T @ Zc / (n - hp.get("ddof", 0.0)) - np.eye(k)))

    def feasible(self, Y, G, variant, hp):
        """Constrained variant: ``Z = sqrt(N - ddof) * orth(H Y)`` lies on ``C = I``."""
        if variant != "constrained":
            return Y
        Yc = Y - Y.mean(dim=0, keepdim=True)
        Q, R = torch.linalg.qr(Yc)
        # fix the sign ambiguity of QR so the map is smooth
        Q = Q * torch.sign(torch.diagonal(R)).unsqueeze(0)
        return Q * np.sqrt(Y.shape[0] - hp["ddof"])

    # -- closed forms --------------------------------------------------
    def proved_range(self, G, k, variant, hp):
        """Squared (beta = alpha) and constrained: proved for every graph and K.

        Eckart--Young on ``M = HZZ^TH/(N - ddof)``, which reaches every centred PSD matrix of rank
        <= K (derivation ``vicreg.derivation``); the hinge variant has no closed form at all.
        """
        return True, (f"vicreg ({variant}): Eckart-Young on HZZ^TH, every centred PSD matrix of rank <= K is "
                      "reachable: a global minimiser for every graph and K")

    def zero_scale_condition(self, variant, hp, n):
        """Squared: a direction is zeroed when ``(gamma/alpha) (N - ddof)/N lambda >= 1``."""
        if variant != "squared" or hp["gamma"] == 0:
            return None
        threshold = hp["alpha"] / hp["gamma"] * n / (n - hp["ddof"])
        return (f"lambda >= (alpha/gamma) N/(N - ddof) = {threshold:.4g} (the invariance cost gamma*lambda of such a "
                "direction outweighs its variance gain alpha, so its optimal variance (1 - (gamma/alpha) lambda)_+ is 0)")

    def spectral_problem(self, G, k, *, variant=None, **hp):
        variant = self.check_variant(variant, closed_form=True)
        hp = self.check_hyper(variant, hp)
        n = G.shape[0]
        nc = n - hp["ddof"]
        if variant == "squared":
            if not np.isclose(hp["beta"], hp["alpha"], rtol=1e-12, atol=0):
                raise NoClosedForm(
                    f"the squared VICReg closed form needs beta = alpha (got alpha={hp['alpha']:g}, "
                    f"beta={hp['beta']:g}); pass beta=alpha or omit beta."
                )
            profile, hyper = SQUARED_PROFILE, {r: hp["gamma"] / hp["alpha"] * nc / n}
            what = "soft-thresholded"
        else:
            profile, hyper = CONSTRAINED_PROFILE, {}
            what = "unit-scaled (Laplacian Eigenmaps with H for D_G)"
        return SpectralProblem(
            operator=_graphs.laplacian(G), k=k, which="smallest", profile=profile, hyper=hyper,
            deflate=np.ones((n, 1)) / np.sqrt(n), scale=np.sqrt(nc),
            description=f"bottom-{k} eigenpairs of L = D_G - G on 1^perp, {what}",
        )

    def eckart_young_target(self, G, k, *, variant=None, **hp):
        """The squared loss as ``w ||M - A||_F^2 + c`` with ``M = HZZ^TH/(N - ddof)`` (notes §3.1).

        Returns ``(A, w, c)`` or None for variants without that form; verifiers use it
        as an oracle independent of the solver (Eckart-Young on the full N x N ``A``).
        """
        variant = self.check_variant(variant)
        hp = self.check_hyper(variant, hp)
        if variant != "squared" or hp["beta"] != hp["alpha"]:
            return None
        n = G.shape[0]
        ratio = hp["gamma"] / hp["alpha"] * (n - hp["ddof"]) / n
        A = _graphs.centering(n) - ratio * _graphs.to_dense(_graphs.laplacian(G))
        return A, hp["alpha"], hp["alpha"] * (k - float(np.sum(A * A)))

    def derivation(self, variant=None):
        """Default: the squared variant, the one with a spectral form (the hinge derivation stops at its G-form)."""
        return _derivation(self, self.check_variant(variant if variant is not None else self.closed_form_variants[0]))

    # -- claims ----------------------------------------------------------
    def theorems(self):
        return VICREG_THEOREMS + VICREG_LINEAR_THEOREMS


def _hinge_std(lmbda, alpha, gamma):
    """Notes §3.1: decorrelated hinge optimum, per-direction std ``min(1, alpha / (4 gamma lambda))``."""
    lmbda = np.asarray(lmbda, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(lmbda > 0, np.minimum(1.0, alpha / (4.0 * gamma * np.maximum(lmbda, 1e-300))), 1.0)


VICREG_THEOREMS = [
    Theorem("vicreg.derivation", "vicreg",
            "squared VICReg = alpha||HZZ^TH/N - (H - (gamma/alpha)L)||_F^2 + const (each derivation step checked)",
            claim="derivation", params={"variant": "squared"}, source="notes §3.1 [D]; paper Thm 1"),
    Theorem("vicreg.squared.closed_form", "vicreg",
            "HZ* = sqrt(N) U_K diag(sqrt((1-(gamma/alpha)lambda_k)_+)) R^T minimises squared VICReg (alpha=beta)",
            claim="closed_form", params={"variant": "squared"}, source="paper Thm 1 as reconstructed, notes §3.1"),
    Theorem("vicreg.constrained.closed_form", "vicreg",
            "Cov(Z)=I VICReg is solved by HZ* = sqrt(N) U_K R^T (Laplacian Eigenmaps with H for D_G)",
            claim="closed_form", params={"variant": "constrained"}, source="paper Thm 2, notes §3.1"),
    Theorem("vicreg.squared.rank", "vicreg",
            "rank(HZ*) = #{k <= K : lambda_k(L) < alpha/gamma} (squared variant)",
            claim="rank", params={"variant": "squared"}, source="notes §3.1/§4 [D]; paper §1 (iii)"),
    # "Z* depends on (alpha, gamma) only through gamma/alpha" was dropped: with beta = alpha the loss is
    # homogeneous of degree 1 in (alpha, beta, gamma), so the check could not fail (docs/vicreg.md)
    Theorem("vicreg.squared.local_minima", "vicreg",
            "other K-subsets of eigenvectors of L are local minima of squared VICReg",
            claim="local_minima", expected="refuted", params={"variant": "squared"},
            source="paper Thm 1 as skimmed ('many local minima'); refuted: they are strict saddles"),
    Theorem("vicreg.constrained.le_regular", "vicreg",
            "on regular graphs constrained VICReg spans the Laplacian Eigenmaps subspace (sklearn spectral_embedding)",
            claim="le_oracle", params={"variant": "constrained", "graphs": "regular"}, source="notes §3.1 [D]"),
    Theorem("vicreg.constrained.le_any_graph", "vicreg",
            "constrained VICReg spans the Laplacian Eigenmaps subspace on every graph (D_G vs H normalisation)",
            claim="le_oracle", expected="refuted", params={"variant": "constrained", "graphs": "irregular"},
            source="reading of paper Thm 2 without the regularity assumption; refuted on irregular graphs"),
    Theorem("vicreg.hinge.decorrelated_std", "vicreg",
            "hinge VICReg with decorrelated directions (beta -> inf): std of direction k = min(1, alpha/(4 gamma lambda_k))",
            claim="hinge_std", params={"variant": "hinge", "predict": _hinge_std}, source="notes §3.1 [D], §5.3 [2]"),
]

#: the linear regime Z = XW (:mod:`ssl_proofs.linear`, docs/linear.md)
VICREG_LINEAR_THEOREMS = [
    Theorem("vicreg.linear.derivation", "vicreg",
            "with Z = XW, squared VICReg = alpha||W^T S W - I||_F^2 + 2 gamma Tr(W^T T W) "
            "(S = X^T H X/N, T = X^T L X/N), minimised by W* = S^{-1/2} Q_K diag(sqrt((1-(gamma/alpha)mu_k)_+))",
            claim="linear_derivation", params={"variant": "squared", "instances": "linear"},
            source="notes §3.1 [D] (paper Thm 3 as reconstructed)"),
    Theorem("vicreg.linear.squared.closed_form", "vicreg",
            "W* = S^{-1/2} Q_K diag(sqrt((1-(gamma/alpha)mu_k)_+)) R^T minimises squared VICReg over W (Z = XW)",
            claim="linear_closed_form", params={"variant": "squared", "instances": "linear"},
            source="notes §3.1 [D]; paper Thm 3 as reconstructed"),
    Theorem("vicreg.linear.constrained.closed_form", "vicreg",
            "Cov(XW)=I VICReg is solved by W* = S^{-1/2} Q_K R^T (LPP with H in place of D_G)",
            claim="linear_closed_form", params={"variant": "constrained", "instances": "linear"},
            source="notes §2, §3.1; paper Thm 3 (LPP)"),
    Theorem("vicreg.linear.squared.planted_no_whitening", "vicreg",
            "planted wrong formula: W* = Q_K diag(...) from eigh(T) alone (S^{-1/2} dropped) minimises squared VICReg",
            claim="linear_closed_form", expected="refuted",
            params={"variant": "squared", "instances": "linear", "formula": "no_whitening"},
            source="planted (must be refuted)"),
    Theorem("vicreg.linear.squared.planted_top", "vicreg",
            "planted wrong formula: the TOP generalized eigenvectors of (T, S) minimise squared VICReg",
            claim="linear_closed_form", expected="refuted",
            params={"variant": "squared", "instances": "linear", "formula": "top"},
            source="planted (must be refuted)"),
    Theorem("vicreg.linear.wide_equals_nonlinear", "vicreg",
            "if rank(HX) = N-1 (e.g. D >= N) the linear optimum reaches the non-linear one: same HZZ^TH and loss",
            claim="linear_reaches_nonlinear", params={"variant": "squared", "instances": "linear", "data": "wide"},
            source="notes §3.1 [D]"),
    Theorem("vicreg.linear.kernel_linear", "vicreg",
            "kernel LPP (K L K a = lambda K H K a) with K = XX^T gives the same Z Z^T (and loss) as linear VICReg",
            claim="kernel_linear", params={"variant": "squared", "instances": "linear"},
            source="notes §2 (kernel LPP), §3.1"),
    Theorem("vicreg.linear.lda_balanced", "vicreg",
            "label graph, balanced classes: linear constrained VICReg spans sklearn LDA's subspace (k <= C-1)",
            claim="lda_oracle", params={"variant": "constrained", "instances": "linear_labels",
                                        "balanced": True, "lda": "standard"},
            source="notes §3.1 [D] (paper Prop. 1 as reconstructed)"),
    Theorem("vicreg.linear.lda_size_weighted", "vicreg",
            "label graph, any class sizes: linear constrained VICReg spans the top-k eigenvectors of "
            "S_T w = nu (sum_c n_c S_c) w (Fisher's ratio with the size-weighted within-class scatter)",
            claim="lda_oracle", params={"variant": "constrained", "instances": "linear_labels",
                                        "balanced": False, "lda": "size_weighted"},
            source="ours (docs/linear.md): X^T L X = sum_c n_c S_c, X^T H X = S_T; oracle from the definitions"),
    Theorem("vicreg.linear.lda_normalised_graph", "vicreg",
            "class-normalised label graph G_ij = 1/n_c: linear constrained VICReg = standard LDA for any class sizes",
            claim="lda_oracle", params={"variant": "constrained", "instances": "linear_labels",
                                        "balanced": False, "lda": "standard", "label_graph": "normalised"},
            source="ours (docs/linear.md): then X^T L X = S_W"),
    Theorem("vicreg.linear.lda_unbalanced", "vicreg",
            "label graph, unbalanced classes: linear constrained VICReg spans standard LDA's subspace",
            claim="lda_oracle", expected="refuted",
            params={"variant": "constrained", "instances": "linear_labels", "balanced": False, "lda": "standard"},
            source="reading of paper Prop. 1 without the balance assumption; refuted"),
]

register(VICReg())
