"""The graph strategies draw what they promise, and shrink to small graphs."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import connected_components

from ssl_proofs.errors import InvalidArgument
from ssl_proofs.graphs import check_graph, label_graph
from ssl_proofs_verifiers import strategies as S

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _assert_valid(G):
    """Dense float64, symmetric, non-negative, zero diagonal, >= 1 edge, no warning."""
    assert isinstance(G, np.ndarray) and G.dtype == np.float64
    assert G.ndim == 2 and G.shape[0] == G.shape[1] >= 2
    assert np.array_equal(G, G.T)
    assert np.all(G >= 0) and np.all(np.diag(G) == 0) and np.any(G > 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = check_graph(G)
    np.testing.assert_array_equal(out, G)


def _n_comp(G):
    return connected_components(sp.csr_matrix(G), directed=False)[0]


def _laplacian_eigs(G):
    return np.linalg.eigvalsh(np.diag(G.sum(1)) - G)


FAMILY_STRATEGIES = {
    "erdos_renyi": S.erdos_renyi_graphs(),
    "erdos_renyi_p0": S.erdos_renyi_graphs(2, 6, p=0.0),
    "weighted": S.weighted_graphs(),
    "connected": S.connected_graphs(),
    "view": S.view_graphs(),
    "view_shuffled": S.view_graphs(shuffle=True),
    "label": S.label_graphs(),
    "label_balanced": S.label_graphs(balanced=True),
    "label_unbalanced": S.label_graphs(balanced=False),
    "sbm": S.sbm_graphs(),
    "knn": S.knn_graphs(),
    "multi_component": S.multi_component_graphs(),
    "repeated_eigenvalue": S.repeated_eigenvalue_graphs(),
    "regular": S.regular_graphs(),
    **{f"graphs({f})": S.graphs(f) for f in S.FAMILIES},
}


@pytest.mark.parametrize("name", sorted(FAMILY_STRATEGIES))
def test_every_family_passes_check_graph(name):
    @FAST
    @given(FAMILY_STRATEGIES[name])
    def check(G):
        _assert_valid(G)
        assert G.shape[0] <= S.DEFAULT_MAX_NODES or name.startswith(("view", "label", "sbm", "multi"))

    check()


@FAST
@given(S.graphs("any", min_nodes=4, max_nodes=7))
def test_node_bounds_are_respected(G):
    assert 4 <= G.shape[0] <= 7


@FAST
@given(S.regular_graphs(max_nodes=10))
def test_regular_graphs_are_regular(G):
    d = G.sum(1)
    assert np.allclose(d, d[0])


@FAST
@given(S.graphs("regular"))
def test_dispatcher_regular_are_regular(G):
    assert S.is_regular(G)


@FAST
@given(S.graphs("irregular"))
def test_irregular_graphs_have_two_degrees(G):
    assert len(np.unique(G.sum(1))) >= 2


@FAST
@given(S.graphs("connected"))
def test_connected_graphs_are_connected(G):
    assert _n_comp(G) == 1


@FAST
@given(S.graphs("no_isolated"))
def test_no_isolated_graphs_have_positive_degrees(G):
    assert np.all(G.sum(1) > 0)


@FAST
@given(S.labelled_graphs(max_classes=4, max_size=4))
def test_label_graphs_match_labels(pair):
    G, labels = pair
    assert labels.shape == (G.shape[0],)
    np.testing.assert_array_equal(G, label_graph(labels))
    same = labels[:, None] == labels[None, :]
    assert np.all((G > 0) == (same & ~np.eye(len(labels), dtype=bool)))


@FAST
@given(S.labelled_graphs(min_classes=2, balanced=True))
def test_balanced_label_graphs_have_equal_classes(pair):
    _, labels = pair
    assert len(set(np.bincount(labels))) == 1


@FAST
@given(S.labelled_graphs(balanced=False))
def test_unbalanced_label_graphs_have_unequal_classes(pair):
    _, labels = pair
    assert len(set(np.bincount(labels))) >= 2


@FAST
@given(st.data())
def test_view_graphs_have_the_papers_structure(data):
    n_samples = data.draw(st.integers(1, 4))
    n_views = data.draw(st.integers(2, 3))
    G = data.draw(S.view_graphs(n_samples, n_samples, n_views, n_views))
    assert G.shape == (n_samples * n_views,) * 2
    assert np.all(G.sum(1) == n_views - 1)  # P = V - 1 positives per row
    assert _n_comp(G) == n_samples


@FAST
@given(S.multi_component_graphs(with_components=True))
def test_multi_component_count(pair):
    G, comps = pair
    expected = comps.max() + 1
    assert expected >= 2
    assert _n_comp(G) == expected
    _assert_valid(G)


@FAST
@given(S.multi_component_graphs(isolated=True))
def test_multi_component_with_isolated_nodes(G):
    assert np.any(G.sum(1) == 0)


@FAST
@given(S.multi_component_graphs(isolated=False))
def test_multi_component_without_isolated_nodes(G):
    assert np.all(G.sum(1) > 0)
    assert _n_comp(G) >= 2


@FAST
@given(S.sbm_graphs(with_blocks=True))
def test_sbm_blocks(pair):
    G, blocks = pair
    assert blocks.shape == (G.shape[0],) and len(np.unique(blocks)) >= 2


@FAST
@given(S.knn_graphs(min_k=2, max_k=3))
def test_knn_graphs_give_every_node_k_neighbours(G):
    # each node keeps its own k nearest neighbours (k >= 2 unless N = 3 caps it)
    assert np.all(G.sum(1) >= min(2, G.shape[0] - 1))
    assert set(np.unique(G)) <= {0.0, 1.0}


@FAST
@given(S.repeated_eigenvalue_graphs())
def test_repeated_eigenvalue_graphs_have_a_repeated_eigenvalue(G):
    ev = _laplacian_eigs(G)
    assert np.min(np.diff(ev)) < 1e-8 * max(ev.max(), 1.0)


@FAST
@given(S.weighted_graphs(weights=(1.0, 2.0, 3.0)))
def test_weighted_graphs_use_the_given_weights(G):
    assert set(np.unique(G[G > 0])) <= {1.0, 2.0, 3.0}


@FAST
@given(S.graphs_with_dims())
def test_embedding_dims_are_in_range(pair):
    G, k = pair
    assert 1 <= k <= G.shape[0] - 1


@FAST
@given(S.hyper_parameters(), S.hyper_parameter_sets(("alpha", "gamma")))
def test_hyper_parameters_are_positive_grid_values(x, hp):
    for v in [x, *hp.values()]:
        assert 0.05 <= v <= 20 and v in S.HYPER_PARAMETER_GRID
    assert set(hp) == {"alpha", "gamma"}


# -- shrinking ---------------------------------------------------------------

def test_shrinks_to_three_nodes():
    G = find(S.graphs(), lambda G: G.shape[0] >= 3, settings=settings(database=None))
    assert G.shape == (3, 3)
    # and to a readable one: unit weights (which 3-node graph depends on the
    # one_of branch the shrinker settles in: an edge, a path or a triangle)
    assert set(np.unique(G)) == {0.0, 1.0}


def test_weights_shrink_to_one():
    G = find(S.weighted_graphs(), lambda G: G.shape[0] >= 4, settings=settings(database=None))
    assert set(np.unique(G)) <= {0.0, 1.0}


def test_hyper_parameters_shrink_to_one():
    assert find(S.hyper_parameters(), lambda x: True, settings=settings(database=None)) == 1.0


# -- describe_graph and argument checks --------------------------------------

def test_describe_graph():
    G = np.array([[0, 1, 0], [1, 0, 2], [0, 2, 0]], dtype=float)
    text = S.describe_graph(G)
    assert text == "N=3, 2 edges: 0-1, 1-2 (w=2); degrees [1, 3, 2]"
    assert S.describe_graph(sp.csr_matrix(G)) == text


@pytest.mark.parametrize("make", [
    lambda: S.graphs("nonsense"),
    lambda: S.graphs(max_nodes=1),
    lambda: S.erdos_renyi_graphs(5, 3),
    lambda: S.erdos_renyi_graphs(p=1.5),
    lambda: S.weighted_graphs(weights=(1.0, -1.0)),
    lambda: S.view_graphs(min_views=1),
    lambda: S.label_graphs(max_size=1),
    lambda: S.label_graphs(max_classes=1, balanced=False),
    lambda: S.repeated_eigenvalue_graphs(max_nodes=2),
    lambda: S.embedding_dims(1),
    lambda: S.embedding_dims(np.zeros((3, 3)), min_k=3),
    lambda: S.hyper_parameters(0.0, 1.0),
    lambda: S.multi_component_graphs(max_components=1),
])
def test_bad_arguments_raise_invalid_argument(make):
    with pytest.raises(InvalidArgument):
        make()
