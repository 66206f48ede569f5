"""HaoChen et al.'s spectral contrastive loss on a positive-pair graph G (notes §6).

Population form (HaoChen, Wei, Gaidon & Ma 2021, eq. (3))::

    L(f) = -2 E_{x, x+}[f(x)^T f(x+)] + E_{x, x'}[(f(x)^T f(x'))^2]

written on G: a positive pair (i, j) is drawn with probability ``G_ij / S``
and independent samples with the marginal ``d_i / S`` (``d = G 1``,
``S = sum_ij G_ij = 1^T d``), so with ``z_i = f(x_i)`` (rows of Z)::

    L(Z) = -(2/S) sum_ij G_ij z_i^T z_j + (1/S^2) sum_ij d_i d_j (z_i^T z_j)^2
         = -(2/S) Tr(Z^T G Z) + (1/S^2) ||Z^T D Z||_F^2.

Matrix-factorisation form (their Lemma 3.2, checked in the derivation)::

    L(Z) = ||A_bar - F F^T||_F^2 - ||A_bar||_F^2,
    A_bar = D^{-1/2} G D^{-1/2},   F = D^{1/2} Z / sqrt(S)   (row i: sqrt(d_i / S) z_i).

Closed form (Eckart--Young): ``F* = U_K diag(sqrt((rho_k)_+)) R^T`` with
``(rho_k, U_K)`` the top-K eigenpairs of ``A_bar``, i.e.
``Z* = sqrt(S) D^{-1/2} U_K diag(sqrt((rho_k)_+)) R^T`` (``R`` orthogonal),
``L(Z*) = -sum_{k <= K} (rho_k)_+^2`` and ``rank(Z*) = #{k <= K : rho_k > 0}``.
Global: the target ``A_bar`` is a dense N x N matrix fitted entrywise (all
pairs), unlike VICReg's K x K second moments.

Isolated nodes (``d_i = 0``) carry no probability mass; ``A_bar`` is
undefined there and ``solve`` raises :class:`InvalidGraph`.

References
----------
HaoChen, Wei, Gaidon & Ma, "Provable guarantees for self-supervised deep
learning with spectral contrastive loss", NeurIPS 2021, Lemmas 3.1-3.2.
Balestriero & LeCun, NeurIPS 2022 (contrastive = global spectral methods).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import sympy

from .. import graphs as _graphs
from ..derivations.spectral_contrastive import derivation as _derivation
from ..duality import derivation as duality_derivation
from ..spectral import SpectralProblem, lam
from ..theorems import Subspace, Theorem
from . import register
from .base import Method

#: Eckart--Young profile: keep the positive part of each eigenvalue
EY_PROFILE = sympy.sqrt(sympy.Max(0, lam))


def normalized_adjacency(G):
    """``A_bar = D^{-1/2} G D^{-1/2}`` (dense); raises :class:`InvalidGraph` on isolated nodes."""
    d = _graphs.check_no_isolated(G, "the spectral contrastive loss")
    s = 1.0 / np.sqrt(d)
    return s[:, None] * np.asarray(_graphs.to_dense(G), dtype=float) * s[None, :]


def _same_storage(G):
    return sp.csr_matrix(G, dtype=float) if sp.issparse(G) else np.asarray(G, dtype=float)


class SpectralContrastive(Method):
    translation_invariant = False  # E[(f(x)^T f(x'))^2] sees the mean of Z
    name = "spectral_contrastive"
    linear_padding = "optimal"  # k > rank(X^T B X): soft variants pad with zero columns
    title = "Spectral contrastive loss <-> Eckart-Young on D^-1/2 G D^-1/2 (global)"
    hypers = ()
    variants = ("population",)
    closed_form_variants = ("population",)
    graphs = "no_isolated"  # isolated nodes carry no probability mass: A_bar is undefined there

    def _loss_torch(self, Z, G, variant, hp):
        S = G.weights.sum()
        attract = (G.weights * (Z[G.rows] * Z[G.cols]).sum(dim=1)).sum() / S
        p = G.degrees / S                         # marginal of x and x'
        # sum_ij p_i p_j (z_i.z_j)^2 = ||Z^T diag(p) Z||_F^2: O(N K^2), no N x N Gram
        repulse = (Z.T @ (p[:, None] * Z)).pow(2).sum()
        return -2 * attract + repulse

    def proved_range(self, G, k, variant, hp):
        """Proved for every graph without isolated nodes (``solve`` rejects the others) and every K."""
        return True, ("spectral_contrastive: Eckart-Young on A_bar (HaoChen et al. Lemma 3.1), F = D^1/2 Z/sqrt(S) "
                      "reaches every N x K matrix: a global minimiser for every graph and K")

    def zero_scale_condition(self, variant, hp, n):
        """A direction with ``rho <= 0`` gets scale 0 (the profile)."""
        return "rho <= 0 (the closed form keeps only directions with a positive eigenvalue rho)"

    def spectral_problem(self, G, k, *, variant=None, **hp):
        self.check_variant(variant, closed_form=True)
        d = _graphs.check_no_isolated(G, "the spectral contrastive loss")
        s = 1.0 / np.sqrt(d)
        # same storage as G: sparse graphs keep a sparse operator
        A = (sp.diags(s) @ G @ sp.diags(s)).tocsr() if sp.issparse(G) else normalized_adjacency(G)
        return SpectralProblem(
            operator=A, k=k, which="largest", profile=EY_PROFILE, scale=float(np.sqrt(d.sum())),
            row_weights=1.0 / np.sqrt(d),
            description=f"top-{k} eigenpairs of D^-1/2 G D^-1/2, scaled by sqrt(rho_+), rows by sqrt(S/d_i)",
        )

    def linear_spectral_problem(self, G, k, *, variant=None, **hp):
        """The problem the linear regime ``Z = X W`` pulls back (see :mod:`ssl_proofs.linear`).

        ``L(Z) = -(2/S) Tr(Z^T G Z) + ||Z^T D Z||_F^2 / S^2`` sees ``Z`` only through
        ``Z^T G Z`` and ``Z^T D Z``.  With ``Z = X W``, ``A_X = X^T G X``, ``B_X = X^T D X`` and
        ``V = B_X^{1/2} W / sqrt(S)``: ``L = ||C - V V^T||_F^2 - ||C||_F^2``,
        ``C = B_X^{-1/2} A_X B_X^{-1/2}``, so (Eckart--Young) ``V* = Q_K diag(sqrt(rho_+))`` and::

            W* = sqrt(S) [w_1 .. w_K] diag(sqrt((rho_k)_+)) R^T,   X^T G X w = rho X^T D X w,

        ``w`` ``X^T D X``-orthonormal, ``rho`` largest.  This is ``spectral_problem`` with the
        ``D^{-1/2}`` row weights moved into the metric ``D`` (``u = D^{-1/2} U`` is
        ``D``-orthonormal and solves ``G u = rho D u``): same profile, same scale ``sqrt(S)``,
        no ``row_weights``, and the eigenvectors of linear BarlowTwins.
        """
        self.check_variant(variant, closed_form=True)
        d = _graphs.check_no_isolated(G, "the spectral contrastive loss")
        return SpectralProblem(
            operator=_same_storage(G), metric=sp.diags(d) if sp.issparse(G) else np.diag(d), k=k, which="largest",
            profile=EY_PROFILE, scale=float(np.sqrt(d.sum())),
            description=f"top-{k} generalized eigenpairs G u = rho D_G u, scaled by sqrt(S) sqrt(rho_+)",
        )

    def optimal_value(self, G, k):
        """``min L = -sum_{k <= K} (rho_k)_+^2`` (Eckart--Young)."""
        rho = np.linalg.eigvalsh(normalized_adjacency(G))[::-1][:k]
        return float(-np.sum(np.clip(rho, 0, None) ** 2))

    def derivation(self, variant=None):
        return _derivation(self, self.check_variant(variant))

    def theorems(self):
        return SC_THEOREMS + SC_LINEAR_THEOREMS


#: the span the optimum is claimed to equal on regular graphs: constrained VICReg's Z* plus the constant
VICREG_SPAN = Subspace("vicreg", "constrained", with_constant=True)

SC_THEOREMS = [
    Theorem("spectral_contrastive.derivation", "spectral_contrastive",
            "L = -(2/S)Tr(Z^T G Z) + ||Z^T D Z||^2/S^2 = ||A_bar - FF^T||_F^2 - ||A_bar||_F^2, F = D^{1/2}Z/sqrt(S); "
            "min = -sum_k (rho_k)_+^2",
            claim="derivation", params={"variant": "population"}, source="HaoChen et al. 2021, Lemma 3.2"),
    Theorem("spectral_contrastive.closed_form", "spectral_contrastive",
            "Z* = sqrt(S) D^{-1/2} U_K diag(sqrt((rho_k)_+)) R^T (top-K eigenpairs of A_bar) minimises the loss",
            claim="closed_form", params={"variant": "population", "graphs": "no_isolated"},
            source="HaoChen et al. 2021, Lemma 3.1 (Eckart-Young)"),
    Theorem("spectral_contrastive.rank", "spectral_contrastive",
            "rank(Z*) = #{k <= K : rho_k(A_bar) > 0} (GD optimum, uncentred)",
            claim="uncentred_rank", params={"variant": "population", "graphs": "no_isolated"},
            source="Eckart-Young; paper §1 (iii) for contrastive methods"),
    Theorem("spectral_contrastive.global.mds_oracle", "spectral_contrastive",
            "global: FF^T of Z* is the best rank-K PSD fit of the dense N x N target A_bar "
            "(sklearn ClassicalMDS / dense eigh oracle)",
            claim="global_fit", params={"variant": "population", "graphs": "no_isolated"},
            source="notes §2 (MDS = Eckart-Young on a dense kernel), §6"),
    Theorem("spectral_contrastive.regular.same_as_vicreg", "spectral_contrastive",
            "regular G: span(Z*) = span{1, constrained VICReg's Z*} (global and local coincide)",
            claim="same_subspace", params={"variant": "population", "graphs": "regular", "same_as": VICREG_SPAN},
            source="notes §4 [D]; paper Fig. 1 ('settings where methods provably coincide')"),
    Theorem("spectral_contrastive.irregular.same_as_vicreg", "spectral_contrastive",
            "on every graph, span(Z*) = span{1, constrained VICReg's Z*}",
            claim="same_subspace", expected="refuted",
            params={"variant": "population", "graphs": "irregular", "same_as": VICREG_SPAN},
            source="reading of 'contrastive = non-contrastive' without regularity; refuted"),
    Theorem("spectral_contrastive.any.same_as_barlowtwins", "spectral_contrastive",
            "on every graph, span(Z*) = span of BT's eigen-candidate (both use G u = rho D_G u)",
            claim="same_subspace", params={"variant": "population", "graphs": "no_isolated", "same_as": Subspace("barlowtwins")},
            source="ours: D^{-1/2} eigvecs of A_bar = generalized eigvecs of (G, D_G)"),
    Theorem("spectral_contrastive.duality", "spectral_contrastive",
            "Garrido et al. Thm 3.3: L_nc + sum_j ||K_j.||^4 = L_c + sum_i ||K_.i||^4 (each step checked)",
            claim="derivation", params={"derivation": duality_derivation},
            source="Garrido et al., ICLR 2023, Thm 3.3"),
]

#: the linear regime Z = XW (:mod:`ssl_proofs.linear`, docs/linear.md)
SC_LINEAR_THEOREMS = [
    Theorem("spectral_contrastive.linear.closed_form", "spectral_contrastive",
            "W* = sqrt(S) [w_1..w_K] diag(sqrt((rho_k)_+)) R^T, X^T G X w = rho X^T D_G X w (top K, "
            "X^T D_G X-orthonormal w), minimises the spectral contrastive loss over W (Z = XW)",
            claim="linear_closed_form", params={"variant": "population", "instances": "linear", "graphs": "no_isolated"},
            source="ours (docs/linear.md): Eckart-Young on the range of D^{1/2} X"),
    Theorem("spectral_contrastive.linear.planted_no_metric", "spectral_contrastive",
            "planted wrong formula: W* = sqrt(S) Q_K diag(sqrt(rho_+)) from the Euclidean eigh of X^T G X "
            "(metric X^T D_G X ignored) minimises the loss",
            claim="linear_closed_form", expected="refuted",
            params={"variant": "population", "instances": "linear", "graphs": "no_isolated", "formula": "no_metric"},
            source="planted (must be refuted)"),
    Theorem("spectral_contrastive.linear.planted_no_sqrt", "spectral_contrastive",
            "planted wrong formula: W* = sqrt(S) [w_1..w_K] diag((rho_k)_+) (sqrt of rho missing) minimises the loss",
            claim="linear_closed_form", expected="refuted",
            params={"variant": "population", "instances": "linear", "graphs": "no_isolated", "formula": "no_sqrt"},
            source="planted (must be refuted)"),
    Theorem("spectral_contrastive.linear.wide_equals_nonlinear", "spectral_contrastive",
            "if rank(X) = N (e.g. D >= N) the linear optimum reaches the non-linear one: same ZZ^T and loss",
            claim="linear_reaches_nonlinear",
            params={"variant": "population", "instances": "linear", "graphs": "no_isolated", "data": "wide"},
            source="ours (docs/linear.md)"),
    Theorem("spectral_contrastive.linear.same_as_barlowtwins", "spectral_contrastive",
            "span(X W*) of linear spectral contrastive = span of linear BarlowTwins' columns with rho > 0 "
            "(both solve X^T G X w = rho X^T D_G X w)",
            claim="linear_same_subspace",
            params={"variant": "population", "instances": "linear", "graphs": "no_isolated", "other": "barlowtwins"},
            source="ours (docs/linear.md)"),
]

register(SpectralContrastive())
