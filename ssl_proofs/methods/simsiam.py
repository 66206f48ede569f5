"""SimSiam / BYOL (predictor + stop-gradient) on a positive-pair graph G: no closed form.

The paper (Balestriero & LeCun 2022) does not treat BYOL or SimSiam (notes §3.4).  This
module adds their loss on G and checks what can be said about the *loss* (not the
stop-gradient dynamics): its global minimisers include the fully collapsed embedding.

Loss on G
---------
SimSiam's official loss on two views (``main_simsiam.py``, transcribed in
``tests/test_simsiam.py``) is ``-(cos(p1, z2).mean() + cos(p2, z1).mean()) / 2`` with
``p = h(z)`` the predictor's output.  On G, with the paper's pair listing
``rows, cols = G.nonzero()`` (an edge of weight w counted w times) and ``S = sum_ij G_ij``::

    no_predictor  (h = identity):   L(Z) = -(1/S) sum_ij G_ij cos(z_i, z_j)
    predictor     (best predictor): L(Z) = min_P -(1/S) sum_ij G_ij cos(p_i, z_j)
                                         = -(1/S) sum_i || sum_j G_ij z_j / ||z_j|| ||

On the two-view graph both forms' inner sum is exactly the official loss (each pair
appears once per direction: the symmetrisation).  ``predictor`` minimises over a free
prediction ``p_i`` per node, which contains every predictor network ``p_i = h(z_i)``;
the minimum over ``p_i`` is in closed form (``p_i`` along ``sum_j G_ij z_j/||z_j||``),
so ``L`` is a function of Z alone.  BYOL's loss ``||p/|p| - z/|z|||^2 = 2 - 2 cos`` is
``2 + 2 L`` (the same minimisers).  A zero row has cosine 0 with everything, as with
``nn.CosineSimilarity`` (norms clamped) and ``F.normalize``.

No closed form, and what is checked instead
-------------------------------------------
``cos <= 1`` gives ``L >= -1`` for both forms; every constant embedding ``Z = 1 v^T``
(v != 0) reaches ``-1`` (with ``h = identity``).  So on *every* graph the fully collapsed
embedding is a global minimiser: the loss alone cannot explain why SimSiam/BYOL do not
collapse -- the stop-gradient dynamics (and the predictor's learning rate) must.  The
theorems below state that as two minimisations (rank <= 1 imposed vs free) and record
the reading "like BarlowTwins/SimCLR the loss enforces rank(Z*) = min(K, #components)"
as refuted (a rank-1 point reaches the proved minimum -1).  docs/simsiam.md has the rest.

References
----------
Chen & He, "Exploring Simple Siamese Representation Learning", CVPR 2021.
Grill et al., "Bootstrap Your Own Latent", NeurIPS 2020.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import sympy
import torch

from .. import graphs as _graphs
from ..derivation import Derivation, G, N, Step, Z, cond, i, j, prose
from ..theorems import Theorem
from . import register
from .base import Method

#: F.normalize's default: a zero row has cosine 0 with everything
NORMALIZE_EPS = 1e-12

#: the proved minimum of both forms (cos <= 1), reached by every constant Z = 1 v^T, v != 0
MINIMUM = -1.0


def proved_minimum(G, k):
    """``min L = -1`` on every graph with an edge and every K (``cos <= 1``; Z = 1 v^T reaches it)."""
    return MINIMUM


def collapsed_rank(G, k):
    """The rank of the collapsed minimiser ``Z = 1 v^T``: 1."""
    return 1


def components_rank(G, k):
    """The reading "rank(Z*) = min(K, #components)" (as recorded for BarlowTwins and SimCLR)."""
    return min(k, _graphs.n_components(G))


def n_components(G, k=None):
    """Number of connected components (an isolated node is one): the rank bound without a predictor."""
    return _graphs.n_components(G)


def sides(G, k=None):
    """Connected components, a bipartite one with an edge counted twice: the rank bound with a predictor.

    A minimiser needs every node's neighbours to share one direction; within a component the relation
    "two nodes share a neighbour" joins all nodes (non-bipartite) or each colour class (bipartite).
    """
    A = sp.csr_matrix(_graphs.to_dense(G) if not sp.issparse(G) else G)
    n = A.shape[0]
    colour = np.full(n, -1)
    total = 0
    for start in range(n):
        if colour[start] >= 0:
            continue
        colour[start], stack, bipartite = 0, [start], A.indptr[start + 1] > A.indptr[start]
        while stack:
            i = stack.pop()
            for j in A.indices[A.indptr[i]:A.indptr[i + 1]]:
                if colour[j] < 0:
                    colour[j] = 1 - colour[i]
                    stack.append(j)
                elif colour[j] == colour[i]:
                    bipartite = False
        total += 2 if bipartite else 1
    return total


class SimSiam(Method):
    scale_invariant = True  # normalised rows (cosines)
    name = "simsiam"
    title = "SimSiam / BYOL (predictor + stop-gradient): no closed form; collapse is a global minimiser"
    defaults = {}
    variants = ("predictor", "no_predictor")
    closed_form_variants = ()
    domain = {}
    translation_invariant = False  # cosines of the raw rows: the mean counts

    def _loss_torch(self, Z, G, variant, hp):
        U = torch.nn.functional.normalize(Z, dim=1, eps=NORMALIZE_EPS)
        total = G.weights.sum()
        if variant == "no_predictor":
            return -(G.weights * (U[G.rows] * U[G.cols]).sum(dim=1)).sum() / total
        # best prediction per node: p_i along m_i = sum_j G_ij u_j, where -cos sums to -||m_i||
        m = torch.zeros_like(U).index_add_(0, G.rows, G.weights.unsqueeze(1) * U[G.cols])
        return -torch.linalg.vector_norm(m, dim=1).sum() / total

    def derivation(self, variant=None):
        """From the official two-view loss to its G-form and its lower bound (each step checked numerically)."""
        self.check_variant(variant)
        w, p, z = sympy.symbols("w p z")
        cos = sympy.Function("cos")
        zj, pi, mi = sympy.IndexedBase("z")[j], sympy.IndexedBase("p")[i], sympy.IndexedBase("m")[i]
        v = sympy.MatrixSymbol("v", sympy.Symbol("K"), 1)
        return Derivation("SimSiam / BYOL: from the loss to its G-form, the best predictor and the minimum (collapse)", (
            Step(sympy.Symbol(r"\mathcal{L}_{pairs}"), sympy.Symbol(r"-\frac{1}{S}\sum_{ij} G_{ij} \cos(z_i, z_j)"),
                 prose("list the nonzeros of ", G, ", an edge of weight ", w, " repeated ", w, " times; the official "
                       "loss is the mean of ", -cos(p, z), " over the listing (both directions: the symmetrisation); "
                       "the predictor is the identity"),
                 ("integer weights (repetition); the G-form extends them",), check="numeric",
                 numeric=_check_listing, tol=1e-12),
            Step(sympy.Symbol(r"\min_{p_i} -\sum_j G_{ij} \cos(p_i, z_j)"),
                 sympy.Symbol(r"-\|\sum_j G_{ij} z_j / \|z_j\|\|"),
                 prose("Cauchy–Schwarz: ", pi, " along ", cond(mi, sympy.Sum(G[i, j] * zj / sympy.Abs(zj), (j, 0, N - 1))),
                       " (every predictor output is one ", pi, ")"),
                 check="numeric", numeric=_check_best_prediction, tol=1e-12),
            Step(sympy.Symbol(r"\mathcal{L}(Z)"), sympy.Integer(-1),
                 prose(cond(cos(p, z), 1, r"\le"), " gives ", cond(sympy.Symbol(r"\mathcal{L}"), -1, r"\ge"), "; ",
                       cond(Z, sympy.OneMatrix(N, 1) * v.T), " (full collapse) reaches ", sympy.Integer(-1),
                       " in both forms"),
                 check="numeric", numeric=_check_minimum, tol=1e-12, relation=r"\ge"),
        ))

    def theorems(self):
        return SIMSIAM_THEOREMS


def _unit_rows(Z):
    nrm = np.linalg.norm(Z, axis=1, keepdims=True)
    return np.divide(Z, nrm, out=np.zeros_like(Z), where=nrm > 0)


def _check_listing(inst, rng, tol):
    """The module's torch loss (h = identity) vs the official mean over the repeated pair listing (numpy)."""
    rows, cols = _graphs.pair_listing(inst.G)
    U = _unit_rows(inst.Z)
    ref = -float(np.mean(np.sum(U[rows] * U[cols], axis=1)))
    ours = SIMSIAM.loss(inst.Z, inst.G, variant="no_predictor")
    return None if abs(ours - ref) <= tol else f"torch loss {ours:.15g} != pair-listing mean {ref:.15g}"


def _check_best_prediction(inst, rng, tol):
    """No random prediction beats the closed-form best one, and p_i = m_i attains the module's value."""
    U = _unit_rows(inst.Z)
    S = inst.G.sum()
    ours = SIMSIAM.loss(inst.Z, inst.G, variant="predictor")
    attained = -float(np.sum(_unit_rows(inst.G @ U) * (inst.G @ U))) / S
    if abs(ours - attained) > tol:
        return f"loss {ours:.15g} != value at p_i = m_i {attained:.15g}"
    for _ in range(20):
        P = _unit_rows(rng.standard_normal(inst.Z.shape))
        value = -float(np.sum(inst.G * (P @ U.T))) / S
        if value < ours - tol:
            return f"a random prediction reaches {value:.15g} < the claimed minimum {ours:.15g}"
    return None


def _check_minimum(inst, rng, tol):
    """Both forms are >= -1 at the instance's Z and equal -1 at a collapsed Z = 1 v^T."""
    collapsed = np.ones((inst.N, 1)) * rng.standard_normal((1, inst.K))
    for variant in SIMSIAM.variants:
        at_z = SIMSIAM.loss(inst.Z, inst.G, variant=variant)
        at_c = SIMSIAM.loss(collapsed, inst.G, variant=variant)
        if at_z < MINIMUM - tol or abs(at_c - MINIMUM) > tol:
            return f"{variant}: loss(Z) = {at_z:.15g}, loss(1 v^T) = {at_c:.15g} vs minimum {MINIMUM:g}"
    return None


SIMSIAM_THEOREMS = [
    Theorem("simsiam.derivation", "simsiam",
            "official loss = -(1/S) sum_ij G_ij cos(p_i, z_j); best p_i gives -(1/S) sum_i ||sum_j G_ij z_j/|z_j| ||; "
            "min = -1, reached by Z = 1 v^T (each step checked)",
            claim="derivation", params={"variant": "predictor"}, source="ours (transcribed official loss)"),
    Theorem("simsiam.collapse.optimal", "simsiam",
            "with a predictor: the fully collapsed Z = 1 v^T (rank 1) is a global minimiser (loss -1) on every graph",
            claim="collapse_rank",
            params={"variant": "predictor", "predict": collapsed_rank, "minimum": proved_minimum, "k_max": 4},
            source="ours (the paper does not treat SimSiam/BYOL, notes §3.4); cos <= 1"),
    Theorem("simsiam.no_predictor.collapse.optimal", "simsiam",
            "without a predictor (h = identity): the fully collapsed Z = 1 v^T is a global minimiser on every graph",
            claim="collapse_rank",
            params={"variant": "no_predictor", "predict": collapsed_rank, "minimum": proved_minimum, "k_max": 4},
            source="ours; Chen & He 2021 report collapse without stop-gradient"),
    Theorem("simsiam.rank.components", "simsiam",
            "like BarlowTwins/SimCLR, the loss enforces rank(Z*) = min(K, #components) (no rank below it is optimal)",
            claim="collapse_rank", expected="refuted",
            params={"variant": "predictor", "predict": components_rank, "minimum": proved_minimum,
                    "graphs": "multi_component", "k_max": 4},
            source="the paper's rank reading (§1 (iii)) carried over to SimSiam; refuted: rank 1 reaches -1"),
    Theorem("simsiam.no_predictor.minimisers.components", "simsiam",
            "without a predictor every global minimiser has rank <= #components (one direction per component)",
            claim="minimiser_rank_bound",
            params={"variant": "no_predictor", "bound": n_components, "minimum": proved_minimum, "k_max": 5},
            source="ours: loss -1 iff cos(z_i, z_j) = 1 on every edge"),
    Theorem("simsiam.predictor.minimisers.components", "simsiam",
            "with a predictor every global minimiser has rank <= #components (collapsed per component)",
            claim="minimiser_rank_bound", expected="refuted",
            params={"variant": "predictor", "bound": n_components, "minimum": proved_minimum, "k_max": 5},
            source="the natural guess; refuted on bipartite components (the two-view graph is one): "
                   "p_i only has to align with the neighbours of i"),
    Theorem("simsiam.predictor.minimisers.sides", "simsiam",
            "with a predictor every global minimiser has rank <= #components + #bipartite components",
            claim="minimiser_rank_bound",
            params={"variant": "predictor", "bound": sides, "minimum": proved_minimum, "k_max": 5},
            source="ours: loss -1 iff the neighbours of every node share one direction"),
]

SIMSIAM = register(SimSiam())
