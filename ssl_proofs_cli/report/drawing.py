"""Counterexample graphs drawn as pictures (networkx layout, matplotlib, PNG bytes).

The picture carries the numbers: node ids, edge weights (when not all 1), and a
caption with N, k, the variant and the hyper-parameters.  Layouts are seeded and
PNG metadata is fixed, so the same instance always gives the same bytes.
"""
from __future__ import annotations

import io

import numpy as np

from ssl_proofs.errors import InvalidArgument

from .cells import instance_caption, worst

#: what the report command needs beyond the core install, and how to get it
OPTIONAL = {"matplotlib": "matplotlib", "networkx": "networkx", "latex2mathml": "latex2mathml"}


def require_optional():
    """Raise a clear :class:`InvalidArgument` naming every missing optional dependency of reports."""
    import importlib.util

    missing = [pkg for mod, pkg in OPTIONAL.items() if importlib.util.find_spec(mod) is None]
    if missing:
        raise InvalidArgument(f"reports need {', '.join(missing)}: pip install -e '.[report]' "
                              f"(or pip install {' '.join(missing)}).")


def _layout(g, nx):
    """Each connected component on its own circle, components on a grid (a matching reads as pairs)."""
    comps = sorted((sorted(c) for c in nx.connected_components(g)), key=lambda c: c[0])
    if len(comps) == 1:
        return nx.circular_layout(g) if g.number_of_nodes() <= 16 else nx.spring_layout(g, seed=0)
    cols = int(np.ceil(np.sqrt(len(comps))))
    pos = {}
    for t, nodes in enumerate(comps):
        centre = np.array([t % cols, -(t // cols)], dtype=float) * 3.6
        sub = nx.circular_layout(g.subgraph(nodes)) if len(nodes) > 1 else {nodes[0]: np.zeros(2)}
        pos.update({v: centre + np.asarray(xy) for v, xy in sub.items()})
    return pos


def draw_instance(inst, title="", note=""):
    """PNG bytes of the graph of a counterexample instance (``TheoremResult.instance``).

    Nodes are coloured by class when the instance has labels; edge weights are
    printed unless every weight is 1; ``note`` (e.g. the failing error / tol) goes
    under the caption.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    if not isinstance(inst, dict) or "N" not in inst or "edges" not in inst:
        raise InvalidArgument("draw_instance needs a counterexample instance dict with 'N' and 'edges'.")
    g = nx.Graph()
    g.add_nodes_from(range(int(inst["N"])))
    for a, b, w in inst["edges"]:
        g.add_edge(int(a), int(b), weight=float(w))
    pos = _layout(g, nx)
    labels = inst.get("labels")
    colors = ["#8ecae6"] * g.number_of_nodes() if labels is None else [
        plt.get_cmap("tab10")(int(c) % 10) for c in labels]
    fig, ax = plt.subplots(figsize=(3.6, 3.4), dpi=100)
    nx.draw_networkx_edges(g, pos, ax=ax, width=[1 + 0.8 * d["weight"] for *_, d in g.edges(data=True)],
                           edge_color="#555555")
    nx.draw_networkx_nodes(g, pos, ax=ax, node_color=colors, edgecolors="#023047", node_size=420)
    nx.draw_networkx_labels(g, pos, ax=ax, font_size=10)
    weights = {(a, b): d["weight"] for a, b, d in g.edges(data=True)}
    if any(w != 1 for w in weights.values()):
        nx.draw_networkx_edge_labels(g, pos, ax=ax, edge_labels={e: f"{w:g}" for e, w in weights.items()},
                                     font_size=8)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(instance_caption(inst) + (f"\n{note}" if note else ""), fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    ax.margins(0.15)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def draw_result(r):
    """PNG bytes of a refuted result's counterexample, titled with its id, noting its failing error / tol."""
    return draw_instance(r["instance"], r["id"], "error / tol: " + worst(r))
