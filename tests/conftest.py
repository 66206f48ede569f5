"""Hypothesis profiles.

``ci`` (default) keeps the suite under a few minutes on 2 cores;
``thorough`` (``pytest --hypothesis-profile thorough`` or
``SSL_PROOFS_PROFILE=thorough``) multiplies the budgets for long sweeps.
"""
import os

import pytest
from hypothesis import HealthCheck, settings

import ssl_proofs.graphs
from ssl_proofs.methods.base import Method

settings.register_profile("ci", max_examples=25, deadline=None, print_blob=True)
settings.register_profile("thorough", max_examples=400, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("SSL_PROOFS_PROFILE", "ci"))


@pytest.fixture
def budget():
    """Examples per theorem for tests that call ``ssl_proofs_verifiers.verify``: scales with the profile."""
    return max(5, settings().max_examples // 3)


@pytest.fixture
def validations(monkeypatch):
    """Counts the real graph validations (``check_graph`` on a graph not checked yet): ``validations["n"]``."""
    count = {"n": 0}
    inner = ssl_proofs.graphs._validate

    def counting(*args):
        count["n"] += 1
        return inner(*args)

    monkeypatch.setattr(ssl_proofs.graphs, "_validate", counting)
    return count


@pytest.fixture
def hyper_validations(monkeypatch):
    """Counts the real hyper-parameter validations (``Method.validate_hyper``, which ``check_hyper``
    calls on values it has not checked yet): ``hyper_validations["n"]``."""
    count = {"n": 0}
    inner = Method.validate_hyper

    def counting(self, variant, hp):
        count["n"] += 1
        return inner(self, variant, hp)

    monkeypatch.setattr(Method, "validate_hyper", counting)
    return count
