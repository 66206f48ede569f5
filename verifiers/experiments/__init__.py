"""Experiments that measure the verdicts of the paper's downstream claims (``ssl_proofs.claims``).

One module per experiment family, each registering itself with
:func:`~ssl_proofs_verifiers.experiments.registry.experiment`.  This package registers no
theorem checks: ``ssl_proofs_verifiers.checks.load_claim_modules`` imports it like any
module of ``ssl_proofs_verifiers``, which only fills :data:`EXPERIMENTS`.
"""
from .registry import (EXPERIMENTS, Experiment, ExperimentResult, experiment, experiment_for_claim,
                       get_experiment, list_experiments)
from .cache import Cache, default_cache_dir, line_progress, no_progress
from . import alignment, hinge, lowdata, simclr_mds  # noqa: F401  (registration)

__all__ = ["EXPERIMENTS", "Experiment", "ExperimentResult", "experiment", "experiment_for_claim",
           "get_experiment", "list_experiments", "Cache", "default_cache_dir", "line_progress", "no_progress"]
