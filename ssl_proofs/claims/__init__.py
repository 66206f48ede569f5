"""The paper's downstream claims: the registry (data) and the quantities they are stated in.

``ssl_proofs.claims`` holds the theory side only; the experiments that measure
each verdict live in ``ssl_proofs_verifiers.experiments`` and the command line
(``ssl-proofs claims``, ``ssl-proofs experiment``) joins the two.
"""
from .registry import CLAIMS, VERDICTS, Claim, ClaimVerdict, get_claim, list_claims
from .downstream import (RANK_RTOL, centred_singular_values, classical_mds, effective_rank, geodesic_distances,
                         invariant_dimension, is_low_data, linear_cka, numerical_rank, one_hot, probe_residual,
                         subspace_overlap)

__all__ = ["CLAIMS", "VERDICTS", "Claim", "ClaimVerdict", "get_claim", "list_claims", "RANK_RTOL",
           "centred_singular_values", "classical_mds", "effective_rank", "geodesic_distances",
           "invariant_dimension", "is_low_data", "linear_cka", "numerical_rank", "one_hot", "probe_residual",
           "subspace_overlap"]
