"""The standard symbols of a derivation and what they mean (:class:`Notation`).

``Z`` (N x K), ``G``, ``D``, ``L``, ``H``, ``M`` (N x N), ``C`` (K x K), the scalars
``alpha, beta, gamma``, the symbolic sizes ``N, K`` and summation indices ``i, j, k, l``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Tuple

import sympy

from ..errors import InvalidArgument
from ..tracealgebra import TraceContext

N, K = sympy.symbols("N K", positive=True, integer=True)
Z = sympy.MatrixSymbol("Z", N, K)
G = sympy.MatrixSymbol("G", N, N)
D = sympy.MatrixSymbol("D", N, N)
L = sympy.MatrixSymbol("L", N, N)
H = sympy.MatrixSymbol("H", N, N)
M = sympy.MatrixSymbol("M", N, N)
C = sympy.MatrixSymbol("C", K, K)
alpha, beta, gamma = sympy.symbols("alpha beta gamma", positive=True)
i, j, k, l = sympy.symbols("i j k l", integer=True, nonnegative=True)

ROLES = ("embedding", "graph", "degree", "laplacian", "centering")


@dataclass(frozen=True)
class Notation:
    """What the symbols of a derivation mean.

    Parameters
    ----------
    sizes : (Symbol, Symbol)
        The symbolic sizes ``(N, K)``.
    roles : mapping MatrixSymbol -> str
        How to build a concrete value: ``"embedding"`` (free N x K),
        ``"graph"`` (symmetric, non-negative, zero diagonal), ``"degree"``
        (``diag(G 1)``), ``"laplacian"`` (``D - G``), ``"centering"``.
    definitions : mapping MatrixSymbol -> matrix expression
        Derived symbols (``C := Z^T H Z / N``...), used by every check.
    trace : TraceContext
        Identities the symbolic prover may use; each must be true for the
        concrete values built from ``roles`` (they are, for the standard one).
    scalars : tuple of Symbol
        Positive hyper-parameters, drawn at random in numeric checks.
    """

    sizes: Tuple = (N, K)
    roles: Mapping = field(default_factory=dict)
    definitions: Mapping = field(default_factory=dict)
    trace: TraceContext = field(default_factory=TraceContext)
    scalars: Tuple = ()

    def __post_init__(self):
        for s, r in self.roles.items():
            if r not in ROLES:
                raise InvalidArgument(f"role of {s} must be one of {ROLES}, got {r!r}.")


def standard_notation() -> Notation:
    """The VICReg / spectral-embedding context (notes §1).

    ``H H = H``, ``H L = L`` (``L 1 = 0``), symmetric ``H, L, G, D, M``,
    ``C := Z^T H Z / N``, ``M := H Z Z^T H / N`` and, as a late definition,
    ``L := D - G``.
    """
    roles = {Z: "embedding", G: "graph", D: "degree", L: "laplacian", H: "centering"}
    defs = {C: Z.T * H * Z / N, M: H * Z * Z.T * H / N}
    trace = TraceContext(
        symmetric=(H, L, G, D),
        rules=(((H, H), (H,)), ((H, L), (L,))),
        definitions=defs,
        late_definitions={L: D - G},
    )
    return Notation((N, K), roles, defs, trace, (alpha, beta, gamma))
