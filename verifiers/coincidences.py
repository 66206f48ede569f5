"""Claim checks for coincidences of two methods' optima (global vs local spectral embeddings).

``same_subspace``   the theorem's method and the :class:`~ssl_proofs.theorems.Subspace` it declares
                    itself equivalent to (``params["same_as"]``) span the same subspace (projectors,
                    Davis--Kahan tolerance; ``Inapplicable`` on degenerate eigengaps).
"""
from __future__ import annotations

import numpy as np

import ssl_proofs
from ssl_proofs import graphs as _graphs
from ssl_proofs.theorems import Subspace

from . import tolerances as tols
from .checks import Inapplicable, Measurement, claim, positive_degrees, projector

#: below this eigengap the compared subspaces are not unique enough
SUBSPACE_MIN_GAP = 1e-3


def _span(space, G, k):
    """(basis, eigengap at the boundary) of the subspace a :class:`~ssl_proofs.theorems.Subspace` names."""
    if space.with_constant:
        if k < 2:
            raise Inapplicable(f"{space.name} with the constant needs K - 1 >= 1 directions of its own")
        k -= 1
    sol = ssl_proofs.get_method(space.method).solve(G, k, variant=space.variant).spectral
    V = sol.vectors if sol.problem.row_weights is None else sol.problem.row_weights[:, None] * sol.vectors
    if space.with_constant:
        V = np.column_stack([np.ones(G.shape[0]), V])
    return V, sol.gap


@claim("same_subspace", params={"same_as": Subspace})
def check_same_subspace(theorem, method, inst, ctx):
    """Projectors onto two methods' optimal subspaces coincide (Davis--Kahan tolerance).

    One side is the theorem's method (its default closed form), the other what the method
    declares it equivalent to (``params["same_as"]``, a :class:`~ssl_proofs.theorems.Subspace`).
    """
    G, k = inst.G, inst.k
    positive_degrees(G)
    own, other = Subspace(method.name), theorem.params["same_as"]
    if other.with_constant and _graphs.n_components(G) != 1:
        raise Inapplicable(f"{other.name}'s constant direction is unique only on connected graphs")
    if k >= G.shape[0]:
        raise Inapplicable("K = N: both subspaces are everything")
    (A, gap_a), (B, gap_b) = _span(own, G, k), _span(other, G, k)
    gap = min(gap_a, gap_b)
    if gap < SUBSPACE_MIN_GAP:
        raise Inapplicable(f"degenerate eigengap {gap:.1e}: the subspaces are not unique")
    err = float(np.linalg.norm(projector(A) - projector(B), 2))
    t = tols.subspace(1e3 * tols.EPS * np.abs(G).sum(axis=1).max() * G.shape[0], gap)
    return [Measurement(f"||P({own.name}) - P({other.name})||_2", err, t.value, t.reason)]
