"""SimCLR / NNCLR / MeanShift as a cross-entropy between graphs (notes §3.2, §4).

Loss as the paper writes it (``variant="paper"``, the default of ``loss``)::

    Ghat(Z)_ij = exp(cos(z_i, z_j)/tau) / sum_{k != i} exp(cos(z_i, z_k)/tau)   (i != j)
    loss = - sum_ij G_ij log Ghat(Z)_ij
         = sum_ij G_ij (logsumexp_{k != i} cos(z_i, z_k)/tau - cos(z_i, z_j)/tau)

exactly the paper's listing (``normalize(Z, dim=1)``, ``cosim = Zn Zn^T / tau``,
``logsumexp`` over the off-diagonal entries of each row, weighted sum by ``G``,
reduction **sum**).  NNCLR and MeanShift are the same loss on another ``G``:
:func:`nnclr_graph` and :func:`meanshift_graph` build those graphs.

Exact rewrite (:mod:`ssl_proofs.derivations.simclr`), ``Zt`` the row-normalised
``Z``, ``d = G 1``, ``L = D_G - G``::

    loss = (1/tau) Tr(Zt^T L Zt) - (1/tau) sum_i d_i + sum_i d_i log sum_{k != i} exp(<zt_i, zt_k>/tau)
         = (1/(2 tau)) sum_ij G_ij ||zt_i - zt_j||^2
           + sum_i d_i log sum_{k != i} exp(-||zt_i - zt_k||^2 / (2 tau))      (distance / MDS form)

No closed form is known: ``solve`` raises :class:`~ssl_proofs.errors.NoClosedForm`.  A certified lower
bound is: the loss is convex in ``P = Zt Zt^T`` over the elliptope (:mod:`ssl_proofs.bounds`).
The loss only sees the rows' directions, so it is invariant to positive row
scaling; its minimum over the compact product of spheres is attained (gradient
descent converges), but the cross-entropy lower bound ``sum_i d_i H(G_i / d_i)``
is attained only when ``G`` is a complete graph with equal weights.

Multi-positive forms
--------------------
For a general ``G`` (several positives per row) the literature uses three
forms that differ from the paper's and from one another; they are the other
variants of this method (``s_ij = cos(z_i, z_j)/tau``, ``P(i) = {j : G_ij > 0}``,
``lse_i = logsumexp_{k != i} s_ik``):

``"summed_numerator"``  ``sum_{i: d_i > 0} (lse_i - log sum_j G_ij exp(s_ij))``
                        (one log per anchor, positives summed inside: MIL-NCE,
                        SupCon's ``L_in`` up to ``+ sum_i log |P(i)|``);
``"per_edge"``          ``sum_ij G_ij (log(exp(s_ij) + sum_{k not in P(i), k != i} exp(s_ik)) - s_ij)``
                        (one term per positive edge, the other positives removed
                        from its denominator: pytorch-metric-learning's ``NTXentLoss``);
``"supcon"``            ``sum_{i: d_i > 0} (1/d_i) sum_j G_ij (lse_i - s_ij)``
                        (positives averaged per anchor: SupCon's ``L_out``).

All four coincide when every row of ``G`` has at most one positive of weight 1
(the two-view graph); ``docs/simclr.md`` shows where they part.

References
----------
Balestriero & LeCun, NeurIPS 2022, §2.3 and Theorem 5 / Proposition 2 (arXiv 2205.11508).
Chen et al., "SimCLR", ICML 2020.  Dwibedi et al., "NNCLR", ICCV 2021.
Koohpayegani et al., "Mean Shift for Self-Supervised Learning", ICCV 2021.
Khosla et al., "Supervised Contrastive Learning", NeurIPS 2020.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import torch
import torch.nn.functional as F

from .. import graphs as _graphs
from ..graphs import meanshift_graph, nnclr_graph  # noqa: F401  (documented here: same loss, other G)
from ..derivations.simclr import derivation as _derivation
from ..hyper import Hyper
from ..errors import InvalidArgument, NoClosedForm
from ..theorems import Theorem
from . import register
from .base import Method

__all__ = ["SimCLR", "SIMCLR", "nnclr_graph", "meanshift_graph", "multi_positive_loss", "VARIANTS",
           "rank_algebraic", "rank_components", "rank_positive_eigs", "rank_simplex"]

VARIANTS = ("paper", "summed_numerator", "per_edge", "supcon")

_NO_CLOSED_FORM = (
    "SimCLR has no known closed-form optimum (the paper's Theorem 5 statement was not recovered and the "
    "softmax of cosines has no spectral solution). Search numerically instead: "
    "get_method('simclr').solve(G, k, search=True, tau=0.5) (CLI: ssl-proofs solve simclr --search), "
    "and see the 'simclr.*' theorems for the structure of the optimum."
)


class SimCLR(Method):
    scale_invariant = True  # normalised rows (cosines)
    name = "simclr"
    title = "SimCLR / NNCLR / MeanShift <-> generalized MDS (global spectral embedding)"
    #: tau = 0.5 is lightly's default; the paper's listing gives none (docs/simclr.md lists the others);
    #: the structural theorems are stated and checked for tau in its domain
    hypers = (Hyper("tau", 0.5, "temperature (> 0)", domain=(0.2, 2.0)),)
    variants = VARIANTS
    closed_form_variants = ()

    # -- hyper-parameters ----------------------------------------------
    def validate_hyper(self, variant, hp):
        out = super().validate_hyper(variant, hp)
        if out["tau"] <= 0:
            raise InvalidArgument(
                f"tau = {out['tau']:g}: the temperature must be > 0 (cos/tau is undefined at 0 and "
                "tau < 0 rewards dissimilar positives). Use e.g. tau = 0.5."
            )
        return out

    # -- the loss, once ------------------------------------------------
    def _loss_torch(self, Z, G, variant, hp):
        s = _cosine_logits(Z, hp["tau"])
        n = s.shape[0]
        eye = torch.eye(n, dtype=torch.bool, device=s.device)
        # paper's listing: logsumexp over the N-1 off-diagonal entries of each row
        lse = torch.logsumexp(s.masked_fill(eye, -torch.inf), dim=1)
        W = G.dense
        if variant == "paper":
            return (W * (lse.unsqueeze(1) - s)).sum()
        anchors = G.degrees > 0
        if variant == "supcon":
            per_row = (W * (lse.unsqueeze(1) - s)).sum(dim=1)
            return (per_row[anchors] / G.degrees[anchors]).sum()
        if variant == "summed_numerator":
            # log sum_j G_ij exp(s_ij) = logsumexp_j (s_ij + log G_ij), G_ij = 0 -> -inf
            num = torch.logsumexp(torch.where(W > 0, s + torch.log(W.clamp_min(1e-300)), -torch.inf), dim=1)
            return (lse - num)[anchors].sum()
        # per_edge: denominator = own positive + the non-positives of the anchor
        negatives = (W == 0) & ~eye
        lse_neg = torch.logsumexp(s.masked_fill(~negatives, -torch.inf), dim=1, keepdim=True)
        return (W * (torch.logaddexp(s, lse_neg) - s)).sum()

    # -- no closed form ---------------------------------------------------
    def spectral_problem(self, G, k, *, variant=None, **hp):
        raise NoClosedForm(_NO_CLOSED_FORM)

    def solve(self, G, k, *, variant=None, search=False, seed=0, device="cpu", progress=None, eigen_progress=None,
              **hp):
        """No closed form: only ``search=True`` answers: the global search, started also at the elliptope
        relaxation's point, with certificate ``"certified"`` where it meets that certified lower bound
        (:func:`ssl_proofs.bounds.elliptope_bound`), else ``"searched"`` with the bound and the gap."""
        if not search:
            raise NoClosedForm(_NO_CLOSED_FORM)
        return super().solve(G, k, variant=variant, search=True, seed=seed, device=device,
                             progress=progress, **hp)

    def derivation(self, variant=None):
        return _derivation(self, self.check_variant(variant))

    # -- claims ----------------------------------------------------------
    def theorems(self):
        return SIMCLR_THEOREMS


def _cosine_logits(Z, tau):
    """``cos(z_i, z_j) / tau`` as in the paper's listing (``F.normalize``: zero rows stay zero)."""
    Zn = F.normalize(Z, dim=1)
    return Zn @ Zn.T / tau


def multi_positive_loss(Z, G, form, *, tau=None):
    """The paper's SimCLR loss or one of the three multi-positive forms (module docstring).

    Parameters
    ----------
    Z : (N, K) ndarray or torch.Tensor
    G : (N, N) array, the positive-pair graph
    form : {"paper", "summed_numerator", "per_edge", "supcon"}
    tau : float, optional
        Temperature (default 0.5).

    Returns
    -------
    float (numpy input) or a differentiable 0-d tensor (torch input).
    """
    return SIMCLR.loss(Z, G, variant=form, tau=tau)


# -- G builders: NNCLR and MeanShift are SimCLR with another graph ---------------

# -- readings of "SimCLR strictly enforces rank(Z) = rank(G)" (paper §1) --------------
# each maps (G, K) to the rank it predicts for the optimum, capped at K

def rank_algebraic(G, k):
    """``min(rank G, K)``: the algebraic reading."""
    return min(int(np.linalg.matrix_rank(_graphs.to_dense(G))), k)


def rank_components(G, k):
    """``min(c, K)``, ``c`` the number of connected components of G."""
    return min(_graphs.n_components(G), k)


def rank_positive_eigs(G, k):
    """``min(#{eigenvalues of G > 0}, K)``."""
    w = np.linalg.eigvalsh(_graphs.to_dense(G))
    return min(int(np.count_nonzero(w > 1e-9 * max(1.0, np.abs(w).max()))), k)


def degree_weighted_eigenspace(G, m):
    """``span`` of the top-``m`` generalized eigenvectors of ``G u = rho D_G u`` (orthonormal basis), and the gap
    below them: the degree-weighted reading of "aligned with the top eigenvectors of G", whose top vector is the
    constant one on every connected graph (``rho = 1``), unlike G's own top eigenvector on an irregular graph."""
    Gd = _graphs.to_dense(G)
    w, V = sla.eigh(Gd, np.diag(Gd.sum(axis=1)))
    w, V = w[::-1], V[:, ::-1]
    gap = w[m - 1] - w[m] if m < len(w) else np.inf
    return np.linalg.qr(V[:, :m])[0], float(gap)


def rank_simplex(G, k):
    """``min(max(c - 1, 1), K)``: c collapsed classes on a regular simplex (one point when c = 1)."""
    return min(max(_graphs.n_components(G) - 1, 1), k)


SIMCLR = SimCLR()

_P = "paper §1 (iii): 'SimCLR and BarlowTwins strictly enforce rank(Z) = rank(G)'"
_EQ = {"instances": "simclr_cliques", "equal": True, "min_classes": 2}

SIMCLR_THEOREMS = [
    Theorem("simclr.derivation", "simclr",
            "loss = (1/tau)Tr(Zt^T L Zt) - (1/tau)sum d_i + sum d_i log sum_{k!=i} exp(<zt_i,zt_k>/tau) "
            "= distance (MDS-type) form >= sum_i d_i H(G_i/d_i)",
            claim="derivation", params={"variant": "paper"}, source="notes §3.2 [D]; paper Thm 5 (MDS reading)"),
    Theorem("simclr.forms.one_positive", "simclr",
            "on the two-view graph the paper's form = summed-numerator = per-edge = SupCon forms",
            claim="simclr_forms", params={"instances": "simclr_views", "views": (2,)}, source="ours"),
    Theorem("simclr.forms.any_graph", "simclr",
            "the three multi-positive forms equal the paper's form on every graph (here: V >= 3 views)",
            claim="simclr_forms", expected="refuted", params={"instances": "simclr_views", "views": (3, 4)},
            source="ours; refuted: they differ as soon as a row has 2 positives"),
    Theorem("simclr.references", "simclr",
            "paper = 2n x pml NT-Xent = n x google add_contrastive_loss (two views); "
            "per_edge / supcon = pml NTXentLoss / SupConLoss x constants",
            claim="simclr_reference", params={"instances": "simclr_views", "views": (2, 3)},
            source="pytorch-metric-learning 2.x; google-research/simclr objective.py"),
    Theorem("simclr.cliques.collapse", "simclr",
            "label graph: each class collapses to one direction and col(Zt*) lies in the top-c eigenspace of G",
            claim="simclr_collapse", params={"instances": "simclr_cliques", "equal": False, "min_classes": 2},
            source="notes §3.2 [D]; paper §1 (i) 'top left singular vectors aligned with G'"),
    Theorem("simclr.cliques.simplex", "simclr",
            "equal classes, 2 <= c <= K+1: class directions form a regular simplex and "
            "span{1, Zt*} = top-c eigenspace of G",
            claim="simclr_simplex", params={**_EQ, "k_min_rel": "c-1"}, source="ours [D]"),
    Theorem("simclr.cliques.simplex_unequal", "simclr",
            "any class sizes, 2 <= c <= K+1: class directions form a regular simplex",
            claim="simclr_simplex", expected="refuted",
            params={"instances": "simclr_cliques", "equal": False, "min_classes": 2, "k_min_rel": "c-1",
                    "subspace": False},
            source="ours; refuted: unequal classes give an irregular simplex (or merge at large tau)"),
    Theorem("simclr.rank.simplex", "simclr",
            "equal classes, c >= 2: rank(Zt*) = min(c - 1, K)",
            claim="simclr_rank", params={**_EQ, "predict": rank_simplex}, source="ours [D]; corrects " + _P),
    Theorem("simclr.rank.algebraic", "simclr",
            "rank(Zt*) = min(rank G, K) (algebraic rank of G)",
            claim="simclr_rank", expected="refuted", params={**_EQ, "predict": rank_algebraic}, source=_P),
    Theorem("simclr.rank.components", "simclr",
            "rank(Zt*) = min(#components of G, K)",
            claim="simclr_rank", expected="refuted", params={**_EQ, "predict": rank_components}, source=_P),
    Theorem("simclr.rank.positive_eigs", "simclr",
            "rank(Zt*) = min(#positive eigenvalues of G, K)",
            claim="simclr_rank", expected="refuted", params={**_EQ, "predict": rank_positive_eigs}, source=_P),
    Theorem("simclr.rank.components_bound_any_graph", "simclr",
            "rank(Zt*) <= #components of G on every graph",
            claim="simclr_rank", expected="refuted",
            params={"graphs": "connected", "k_max": 4, "predict": rank_components, "bound": True},
            source="notes §3.2 [D] (checked on label graphs only); refuted on non-clique components"),
    Theorem("simclr.alignment.any_graph", "simclr",
            "span{1, Zt*} = span of the top-(rank+1) eigenvectors of G on every connected graph",
            claim="simclr_alignment", expected="refuted", params={"graphs": "connected", "k_max": 4},
            source="paper §1 (i) read literally; refuted on irregular graphs (paths, stars)"),
    Theorem("simclr.alignment.degree_weighted", "simclr",
            "span{1, Zt*} = span of the top-(rank+1) generalized eigenvectors of G u = rho D_G u on every connected "
            "graph (the degree-weighted reading, which contains 1)",
            claim="simclr_alignment", expected="refuted",
            params={"graphs": "connected", "k_max": 4, "subspace": degree_weighted_eigenspace},
            source="paper §1 (i), the reading that is not a strawman (issue 16, finding 5); refuted"),
]

register(SIMCLR)
