"""Garrido et al. (ICLR 2023) Theorem 3.3: the contrastive / non-contrastive duality.

With the embedding matrix ``K in R^{M x N}`` (M = dimension, N = batch) --
in this project ``K = Z^T`` for ``Z in R^{N x K}`` --

* sample-contrastive criterion   ``L_c  = ||K^T K - diag(K^T K)||_F^2 = ||Z Z^T - diag(Z Z^T)||_F^2``
  (spectral contrastive loss, SimCLR-sq/abs, DCL are of this type);
* dimension-contrastive criterion ``L_nc = ||K K^T - diag(K K^T)||_F^2 = ||Z^T Z - diag(Z^T Z)||_F^2``
  (Barlow Twins, VICReg, TCR);

and **Theorem 3.3**: ``L_nc + sum_j ||K_{j,.}||^4 = L_c + sum_i ||K_{.,i}||^4``.

The derivation is a chain of three facts.  Steps 1 and 3 use the lemma
``||A - diag A||_F^2 + ||diag A||_F^2 = ||A||_F^2`` for *every* square ``A``,
which the trace prover cannot read (``diag`` is not a trace word); it is
proved here entrywise for a general size: entry ``(p, q)`` contributes
``((1 - delta_pq)^2 + delta_pq^2) a_pq^2`` and ``(1 - d)^2 + d^2 = 1`` once
``d^2 = d`` (``d = delta_pq`` is 0 or 1) -- see :func:`prove_diag_split`.
Step 2 (``||Z^T Z||_F = ||Z Z^T||_F``, cyclicity of the trace) goes through
the trace prover.  Every step is also checked exactly for small sizes and
numerically (the numbers can always refute the proofs).

References
----------
Garrido, Chen, Bardes, Najman & LeCun, "On the duality between contrastive
and non-contrastive self-supervised learning", ICLR 2023, Thm 3.3 (notes §6).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Tuple

import numpy as np
import sympy
from sympy.matrices.expressions.matexpr import MatrixElement

from .derivation import Derivation, K, N, Step, Z, cond, eq, i, j, prose
from .evidence import Evidence
from .tracealgebra import diag_part, frob2

__all__ = ["sample_contrastive", "dimension_contrastive", "duality_gap", "prove_diag_split",
           "derivation", "DualityDerivation"]


def _offdiag_sq(A):
    return float(np.sum(A ** 2) - np.sum(np.diag(A) ** 2))


def sample_contrastive(Z):
    """``L_c = ||Z Z^T - diag(Z Z^T)||_F^2`` (Garrido's ``K = Z^T``)."""
    Z = np.asarray(Z, dtype=float)
    return _offdiag_sq(Z @ Z.T)


def dimension_contrastive(Z):
    """``L_nc = ||Z^T Z - diag(Z^T Z)||_F^2``."""
    Z = np.asarray(Z, dtype=float)
    return _offdiag_sq(Z.T @ Z)


def duality_gap(Z):
    """``(L_nc + sum_j ||col_j||^4) - (L_c + sum_i ||row_i||^4)``: zero by Theorem 3.3."""
    Z = np.asarray(Z, dtype=float)
    return (dimension_contrastive(Z) + float(np.sum(np.sum(Z ** 2, axis=0) ** 2))
            - sample_contrastive(Z) - float(np.sum(np.sum(Z ** 2, axis=1) ** 2)))


def prove_diag_split():
    """Prove ``||A - diag A||_F^2 + ||diag A||_F^2 = ||A||_F^2`` for a general square ``A``.

    Entry ``(p, q)`` of each side, with ``d = delta_pq`` kept as a symbol and
    reduced by ``d^2 = d`` (true for a Kronecker delta).  Equal summands for
    symbolic ``p, q`` give equal sums for every size.

    Returns
    -------
    bool
    """
    a, d = sympy.symbols("a_pq delta_pq")
    lhs = ((a - d * a) ** 2 + (d * a) ** 2).expand()
    reduced = sympy.Poly(lhs, d)
    # d^n -> d for n >= 1
    total = sum((coeff * (d if mon[0] >= 1 else 1) for mon, coeff in reduced.terms()), sympy.S.Zero)
    return sympy.expand(total - a ** 2) == 0


def _is_diag_split(step):
    """``lhs = ||A - diag A||^2 + ||diag A||^2`` and ``rhs = ||A||^2`` (or mirrored)?"""
    for x, y in ((step.lhs, step.rhs), (step.rhs, step.lhs)):
        if not isinstance(y, type(frob2(Z.T * Z))):
            continue
        A = y.arg
        if sympy.simplify(x - (frob2(A - diag_part(A)) + frob2(diag_part(A)))) == 0 or \
                set(sympy.Add.make_args(x)) == {frob2(A - diag_part(A)), frob2(diag_part(A))}:
            return True
    return False


@dataclass(frozen=True)
class DualityDerivation(Derivation):
    """A :class:`Derivation` whose ``lemma_steps`` may be upgraded by :func:`prove_diag_split`.

    A step is upgraded to ``symbolic`` only if its standard check *held*
    (numeric and exact), it has the lemma's shape, and the lemma is proved.
    """

    lemma_steps: Tuple[int, ...] = ()

    def check(self, exact_n=4, numeric_m=20, seed=0):
        out = super().check(exact_n=exact_n, numeric_m=numeric_m, seed=seed)
        if not prove_diag_split():
            return out
        steps = list(out.steps)
        for t in self.lemma_steps:
            s = steps[t]
            if s.evidence.holds and _is_diag_split(s):
                steps[t] = replace(s, evidence=Evidence.symbolic(
                    "for general N, K: entrywise, (1 - delta)^2 + delta^2 = 1 with delta^2 = delta"))
        return replace(out, steps=tuple(steps))


def derivation() -> DualityDerivation:
    """Theorem 3.3 of Garrido et al. as an (unchecked) derivation, ``K = Z^T``."""
    gram_dim, gram_smp = Z.T * Z, Z * Z.T
    L_nc = frob2(gram_dim - diag_part(gram_dim))
    L_c = frob2(gram_smp - diag_part(gram_smp))
    rows4 = sympy.Sum(sympy.Sum(Z[i, j] ** 2, (j, 0, K - 1)) ** 2, (i, 0, N - 1))   # sum_i ||K_{.,i}||^4
    cols4 = sympy.Sum(sympy.Sum(Z[i, j] ** 2, (i, 0, N - 1)) ** 2, (j, 0, K - 1))   # sum_j ||K_{j,.}||^4
    kmat = sympy.MatrixSymbol("K", K, N)  # the paper's embedding matrix, K = Z^T

    def lemma(size, value):
        a = sympy.MatrixSymbol("A", size, size)
        return prose("the lemma ", cond(frob2(a - diag_part(a)) + frob2(diag_part(a)), frob2(a)), " with ",
                     cond(a, value, ":="), " (", cond(kmat, Z.T, ":="), ")")

    steps = (
        Step(L_nc + frob2(diag_part(gram_dim)), frob2(gram_dim), lemma(K, gram_dim)),
        Step(frob2(gram_dim), frob2(gram_smp), prose(eq(frob2(gram_dim), sympy.Trace(gram_dim * gram_dim)), " and ",
                                                     eq(sympy.Trace(gram_dim * gram_dim), frob2(gram_smp)),
                                                     " (cyclicity of the trace)")),
        Step(frob2(gram_smp), L_c + frob2(diag_part(gram_smp)), lemma(N, gram_smp)),
        Step(frob2(diag_part(gram_dim)) - frob2(diag_part(gram_smp)), cols4 - rows4,
             prose(cond(MatrixElement(gram_dim, j, j), sympy.Sum(Z[i, j] ** 2, (i, 0, N - 1))), " and ",
                   cond(MatrixElement(gram_smp, i, i), sympy.Sum(Z[i, j] ** 2, (j, 0, K - 1))),
                   ": squared norms of the rows and columns of ", kmat)),
        Step(L_nc + cols4, L_c + rows4, "Theorem 3.3 (chain of steps 1-4)",
             note="equal criteria for doubly-normalised embeddings (rows and columns of equal norm)"),
    )
    return DualityDerivation("Garrido et al. Thm 3.3: dimension- vs sample-contrastive duality", steps,
                             lemma_steps=(0, 2))
