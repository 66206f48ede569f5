"""The paper's downstream claims: the registry (data) and the quantities they are stated in.

``ssl_proofs.claims`` holds the theory side only; the experiments that measure
each verdict live in ``ssl_proofs_verifiers.experiments`` and the command line
(``ssl-proofs claims``, ``ssl-proofs experiment``) joins the two.
"""
from .registry import ALPHA, CLAIMS, POWER, VERDICTS, Claim, ClaimVerdict, DecisionRule, get_claim, list_claims
from .paired import OUTCOMES, decide, holm, minimal_detectable_effect, paired_comparison
from .downstream import (RANK_RTOL, centred_singular_values, classical_mds, effective_rank, geodesic_distances,
                         invariant_dimension, is_low_data, linear_cka, numerical_rank, one_hot, probe_residual,
                         subspace_overlap)

__all__ = ["ALPHA", "POWER", "CLAIMS", "VERDICTS", "Claim", "ClaimVerdict", "DecisionRule", "OUTCOMES", "decide", "holm",
           "minimal_detectable_effect", "paired_comparison", "get_claim", "list_claims", "RANK_RTOL",
           "centred_singular_values", "classical_mds", "effective_rank", "geodesic_distances",
           "invariant_dimension", "is_low_data", "linear_cka", "numerical_rank", "one_hot", "probe_residual",
           "subspace_overlap"]
