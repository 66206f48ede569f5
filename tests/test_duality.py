"""Garrido et al. Thm 3.3 (duality of sample- and dimension-contrastive criteria)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import arrays

import ssl_proofs
from ssl_proofs.duality import (DualityDerivation, derivation, dimension_contrastive, duality_gap,
                                prove_diag_split, sample_contrastive)
from ssl_proofs_verifiers import verify


def test_evidence_levels_and_lemma():
    assert prove_diag_split()
    d = derivation().check()
    assert isinstance(d, DualityDerivation)
    assert [s.evidence.level for s in d.steps] == ["symbolic", "symbolic", "symbolic", "exact", "exact"]


@given(arrays(np.float64, st.tuples(st.integers(1, 8), st.integers(1, 6)),
              elements=st.floats(-10, 10, allow_nan=False)))
def test_identity_numerically(Z):
    scale = 1.0 + np.sum(Z ** 2) ** 2
    assert abs(duality_gap(Z)) <= 1e3 * np.finfo(float).eps * scale


def test_doubly_normalised_embeddings_have_equal_criteria():
    # a Hadamard-like matrix: every row and every column has the same norm
    H = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]], float)
    assert sample_contrastive(H[:, :4]) == pytest.approx(dimension_contrastive(H[:, :4]))


def test_a_wrong_identity_is_refuted():
    from ssl_proofs.derivation import Step, Z
    from ssl_proofs.tracealgebra import diag_part, frob2

    A = Z.T * Z
    wrong = Step(frob2(A - diag_part(A)), frob2(A), "forgot the diagonal")
    d = DualityDerivation("wrong", (wrong,), lemma_steps=(0,)).check()
    assert d.steps[0].evidence.level == "refuted"


def test_recorded_verdict():
    (r,) = verify("spectral_contrastive.duality", examples=1, device="cpu")
    assert r.verdict == "holds" and r.matches
