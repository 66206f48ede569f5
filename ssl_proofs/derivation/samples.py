"""Random concrete samples of the standard symbols, for numeric checks of derivation steps."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import numpy as np

from .notation import Notation, standard_notation


@dataclass(frozen=True)
class Sample:
    """One concrete (float) sample of the symbols: sizes, graph, embedding, hyper-parameters.

    (``ssl_proofs_verifiers.checks.Instance`` is a different thing: a claim's test case.)
    """

    N: int
    K: int
    G: np.ndarray
    Z: np.ndarray
    scalars: Mapping = field(default_factory=dict)

    def describe(self) -> str:
        """Short printable form, used as a counterexample."""
        sc = ", ".join(f"{s}={v:g}" for s, v in self.scalars.items())
        return (f"N={self.N}, K={self.K}, {sc}, G={np.round(self.G, 4).tolist()}, "
                f"Z={np.round(self.Z, 4).tolist()}")


def random_sample(rng, ctx: Optional[Notation] = None, *, n_min=3, n_max=7, k_max=3, graph=None) -> Sample:
    """Draw a random instance.

    ``G`` has integer weights in {0, 1, 2} (at least one edge), ``Z`` has two
    decimals and scalars lie in [0.25, 3]: round values make counterexamples
    readable.  ``graph(rng, n)`` may supply another graph family.
    """
    ctx = ctx or standard_notation()
    n = int(rng.integers(n_min, n_max + 1))
    kk = int(rng.integers(1, max(1, min(k_max, n - 1)) + 1))
    if graph is not None:
        g = np.asarray(graph(rng, n), dtype=float)
    else:
        g = np.triu(rng.choice([0.0, 1.0, 2.0], size=(n, n), p=[0.5, 0.35, 0.15]), 1)
        if not g.any():
            g[0, 1] = 1.0
        g = g + g.T
    z = np.round(rng.normal(size=(n, kk)), 2)
    sc = {str(s): float(np.round(rng.uniform(0.25, 3.0), 2)) for s in ctx.scalars}
    return Sample(n, kk, g, z, sc)
