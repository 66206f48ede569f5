"""Registry of experiments: each measures the verdicts of one or more claims.

An experiment module registers a function with :func:`experiment`; the function
takes ``(seed, full, cache, progress)`` and returns an :class:`ExperimentResult`.
Plotting is a second registered function, so a cached result can be drawn again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from ssl_proofs.errors import UnknownName

from .cache import rounded


@dataclass
class ExperimentResult:
    """Everything one run of an experiment measured.

    Attributes
    ----------
    name : str
    params : dict        the budget actually run (sizes, sweeps, seeds)
    records : list       one dict per measured cell (method, sweep values, seed, numbers)
    verdicts : list      :class:`ssl_proofs.claims.ClaimVerdict` per claim decided
    extra : dict         arrays needed for plots (spectra, ...), JSON-serialisable
    """

    name: str
    params: dict
    records: list
    verdicts: list
    extra: dict = field(default_factory=dict)

    def to_dict(self):
        return rounded({
            "experiment": self.name,
            "params": self.params,
            "verdicts": [{"claim": v.claim, "verdict": v.verdict, "conditions": v.conditions,
                          "evidence": v.evidence} for v in self.verdicts],
            "records": self.records,
            "extra": self.extra,
        })


@dataclass(frozen=True)
class Experiment:
    name: str
    claims: tuple
    run: Callable
    plot: Optional[Callable]  # plot(result, fmt="png") -> the image's bytes (the caller writes them)
    summary: str


EXPERIMENTS = {}


def experiment(name, *, claims, plot=None):
    """Register ``fn(seed=0, full=False, cache=None, progress=None) -> ExperimentResult``."""
    def deco(fn):
        doc = (fn.__doc__ or "").strip().splitlines()
        EXPERIMENTS[name] = Experiment(name, tuple(claims), fn, plot, doc[0] if doc else "")
        return fn
    return deco


def get_experiment(name):
    try:
        return EXPERIMENTS[name]
    except KeyError:
        raise UnknownName(f"unknown experiment {name!r}; known experiments: {', '.join(sorted(EXPERIMENTS))}.") from None


def list_experiments():
    return sorted(EXPERIMENTS)


def experiment_for_claim(claim_id):
    for exp in EXPERIMENTS.values():
        if claim_id in exp.claims:
            return exp
    raise UnknownName(f"no experiment decides claim {claim_id!r}.")
