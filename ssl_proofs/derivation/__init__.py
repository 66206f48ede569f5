"""Derivations as data: ordered equalities between sympy expressions, each checked.

A :class:`Step` claims ``lhs == rhs`` for sympy expressions built from the
standard symbols (:mod:`.notation`: ``Z`` (N x K), ``G``, ``D``, ``L``, ``H``,
``M`` (N x N), ``C`` (K x K), the scalars ``alpha, beta, gamma`` and the
symbolic sizes ``N, K``).  :meth:`Derivation.check` fills every step's
:class:`~ssl_proofs.evidence.Evidence` with the strongest level reached:

``symbolic``  the trace prover (:mod:`ssl_proofs.tracealgebra`) matched the
              canonical forms -- valid for general N, K;
``exact``     ``expand(lhs - rhs) == 0`` with fully symbolic entries for
              every size ``2 <= N <= n``, ``1 <= K <= 2``;
``numeric``   random instances agree to a stated float64 tolerance.

The numeric check **always** runs, even after a symbolic proof: a numeric
disagreement refutes the step whatever the prover said (a prover bug must not
be able to certify a false step).  Steps that are not equalities (an argmin,
an optimality claim) use ``check="numeric"`` with a custom function.

One module per job: :mod:`.notation` (symbols and what they mean), :mod:`.samples`
(random concrete samples), :mod:`.evaluation` (numpy and exact evaluators),
:mod:`.steps` (steps, derivations and their checks), :mod:`.prose` (justifications: text, expressions and
checked identities), :mod:`.render` (md, tex, json, text).
"""
from .evaluation import evaluate, from_srepr
from .notation import C, D, G, H, K, L, M, N, Z, Notation, alpha, beta, gamma, i, j, k, l, standard_notation
from .prose import Identity, Prose, cond, eq, prose
from .render import FORMATS
from .samples import Sample, random_sample
from .steps import Derivation, Step, check_step

__all__ = [
    "N", "K", "Z", "G", "D", "L", "H", "M", "C", "alpha", "beta", "gamma", "i", "j", "k", "l",
    "Notation", "standard_notation", "Sample", "random_sample",
    "Step", "Derivation", "check_step", "evaluate", "from_srepr", "FORMATS", "Prose", "Identity", "prose", "eq", "cond",
]
