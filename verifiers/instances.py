"""Hypothesis strategies for whole check instances (graph, k, hyper-parameters)."""
from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from ssl_proofs.graphs import check_graph, n_components
from ssl_proofs.theorems import declare_instances

from .checks import Instance
from .strategies import graphs


def hyper_grid(lo, hi):
    """A log-spaced grid of round numbers in [lo, hi]: readable shrinks (toward the first)."""
    vals = [v for e in range(-3, 3) for v in (1 * 10.0 ** e, 2 * 10.0 ** e, 5 * 10.0 ** e) if lo <= v <= hi]
    vals.sort(key=lambda v: abs(np.log(v)))  # shrink toward 1
    return st.sampled_from(vals)


@st.composite
def hyper_values(draw, method, variant):
    hp = {name: draw(hyper_grid(lo, hi)) for name, (lo, hi) in method.domain.items()}
    return hp


#: named instance builders: theorem.params["instances"] selects one (default: graph instances)
INSTANCE_BUILDERS = {}


def instance_builder(name, params=None):
    """Register ``fn(theorem, method) -> strategy of Instance`` under ``name``.

    ``params``: ``{key: type}`` the builder reads from ``theorem.params`` beyond
    :data:`ssl_proofs.theorems.COMMON_PARAMS` (:func:`ssl_proofs.theorems.declare_instances`).
    """
    def deco(fn):
        INSTANCE_BUILDERS[name] = fn
        declare_instances(name, params)
        return fn
    return deco


def instances(theorem, method):
    """The strategy of :class:`Instance` s a theorem is attacked with."""
    name = theorem.params.get("instances", "graph")
    return INSTANCE_BUILDERS[name](theorem, method).map(lambda inst: _checked(inst, method))


def _checked(inst, method):
    """Validate the drawn graph and hyper-parameters once, here: every check then receives them checked
    (no re-validation).  The hyper-parameters keep the drawn keys (counterexamples print what was drawn)."""
    hyper = method.check_hyper(inst.variant, inst.hyper)
    return dataclasses.replace(inst, G=check_graph(inst.G), hyper={key: hyper[key] for key in inst.hyper})


@instance_builder("graph", params={"witnesses": tuple})
def graph_instances(theorem, method):
    """Hypothesis-drawn graph instances; ``params["witnesses"]``: known instances ``(G, k, hyper)`` drawn too (like
    hypothesis' ``@example``: a counterexample found by hand is checked by the same measurements every run)."""
    drawn = _graph_instances(theorem, method)
    known = theorem.params.get("witnesses")
    if not known:
        return drawn
    variant = theorem.params.get("variant") or method.variants[0]
    fixed = [Instance(G=np.asarray(G, dtype=float), k=int(k), hyper=dict(hp), variant=variant) for G, k, hp in known]
    return st.one_of(st.sampled_from(fixed), drawn)


@st.composite
def _graph_instances(draw, theorem, method, *, max_nodes=10):
    family = theorem.params.get("graphs", method.graphs)
    G = draw(graphs(family=family, max_nodes=max_nodes))
    n = G.shape[0]
    k_max = min(n - 1, theorem.params.get("k_max", 6))
    if theorem.params.get("k_le_components"):
        k_max = min(k_max, n_components(G))
    k_min = theorem.params.get("k_min", 1)
    assume(k_min <= k_max)  # too few nodes for the smallest K the claim is stated for: draw another graph
    k = draw(st.integers(k_min, max(k_min, k_max)))
    variant = theorem.params.get("variant") or method.variants[0]
    hp = draw(hyper_values(method, variant))
    return Instance(G=G, k=k, hyper=hp, variant=variant)
