"""check_graph / check_k reject bad input with helpful messages, dense and sparse."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import ssl_proofs.graphs as graphs_module
from ssl_proofs.errors import InvalidArgument, InvalidGraph
from ssl_proofs.graphs import (DenseGraph, SelfLoopWarning, SparseGraph, centering, check_graph, check_k, is_checked,
                               label_graph, laplacian, n_components, pair_listing, to_dense, view_graph)

BAD = {
    "non_symmetric": (np.array([[0, 1.0, 0], [0, 0, 1], [0, 1, 0]]), ["not symmetric", "(G + G.T) / 2"]),
    "negative": (np.array([[0, -2.0], [-2, 0]]), ["negative", "G[0,1] = -2", "as 0"]),
    "nan": (np.array([[0, np.nan], [np.nan, 0]]), ["2 nan or infinite", "replace them by 0"]),
    "inf": (np.array([[0, np.inf], [np.inf, 0]]), ["nan or infinite"]),
    "non_square": (np.ones((2, 3)), ["square", "(2, 3)"]),
    "empty": (np.zeros((4, 4)), ["no edges", "view_graph"]),
    "one_node": (np.zeros((1, 1)), ["1 node", "at least 2"]),
    "zero_nodes": (np.zeros((0, 0)), ["0 node", "at least 2"]),
}


def _check_message(exc_info, words):
    msg = str(exc_info.value).lower()
    for w in words:
        assert w.lower() in msg, f"{w!r} not in {msg!r}"


@pytest.mark.parametrize("case", sorted(BAD))
def test_dense_bad_graphs(case):
    G, words = BAD[case]
    with pytest.raises(InvalidGraph) as info:
        check_graph(G)
    _check_message(info, words)


@pytest.mark.parametrize("case", sorted(set(BAD) - {"zero_nodes"}))
def test_sparse_bad_graphs(case):
    G, words = BAD[case]
    with pytest.raises(InvalidGraph) as info:
        check_graph(sp.csr_matrix(G))
    _check_message(info, words)


@pytest.mark.parametrize("fmt", ["coo", "csc", "lil"])
def test_sparse_formats_of_bad_graphs(fmt):
    G = sp.csr_matrix(BAD["non_symmetric"][0]).asformat(fmt)
    with pytest.raises(InvalidGraph, match="not symmetric"):
        check_graph(G)


def test_three_dimensional_input():
    with pytest.raises(InvalidGraph, match="square"):
        check_graph(np.zeros((2, 2, 2)))


def test_non_numeric_input():
    with pytest.raises(InvalidGraph, match="numeric"):
        check_graph([["a", "b"], ["b", "a"]])


def test_name_appears_in_messages():
    with pytest.raises(InvalidGraph, match="W has no edges"):
        check_graph(np.zeros((3, 3)), name="W")


def test_invalid_graph_is_a_value_error():
    with pytest.raises(ValueError):
        check_graph(np.zeros((3, 3)))


def test_valid_graph_is_float64_copy():
    G = view_graph(2, 2).astype(int)
    out = check_graph(G)
    assert out.dtype == np.float64 and out is not G
    np.testing.assert_array_equal(out, G)


def test_tiny_asymmetry_is_tolerated_and_removed():
    G = np.array([[0, 1.0], [1 + 1e-15, 0]])
    out = check_graph(G)
    np.testing.assert_array_equal(out, out.T)


@pytest.mark.parametrize("sparse", [False, True])
def test_self_loops_warn_and_are_dropped(sparse):
    G = np.array([[3.0, 1, 0], [1, 0, 1], [0, 1, 2]])
    if sparse:
        G = sp.csr_matrix(G)
    with pytest.warns(SelfLoopWarning, match="2 self-loop"):
        out = check_graph(G)
    dense = out.toarray() if sparse else out
    np.testing.assert_array_equal(np.diag(dense), 0)
    np.testing.assert_array_equal(dense, [[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    if sparse:
        assert sp.issparse(out) and out.format == "csr"


@pytest.mark.parametrize("sparse", [False, True])
def test_only_self_loops_is_empty(sparse):
    G = np.eye(3)
    if sparse:
        G = sp.csr_matrix(G)
    with pytest.warns(SelfLoopWarning), pytest.raises(InvalidGraph, match="no edges"):
        check_graph(G)


def test_valid_graph_gives_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_graph(view_graph(3, 2))
        check_graph(sp.csr_matrix(view_graph(3, 2)))


def test_isolated_nodes_are_allowed():
    G = np.zeros((3, 3))
    G[0, 1] = G[1, 0] = 1
    assert n_components(check_graph(G)) == 2


# -- check_k -----------------------------------------------------------------

@pytest.mark.parametrize("k", [1, 2, 4, np.int64(3)])
def test_check_k_accepts_1_to_n_minus_1(k):
    assert check_k(k, 5) == int(k)
    assert type(check_k(k, 5)) is int


@pytest.mark.parametrize("k, words", [
    (0, ["at least 1"]),
    (-1, ["at least 1"]),
    (5, ["1 <= k <= n-1 = 4", "lower k"]),
    (6, ["n = 5"]),
    (2.0, ["integer"]),
    (True, ["integer"]),
    ("2", ["integer"]),
    (None, ["integer"]),
])
def test_check_k_rejects(k, words):
    with pytest.raises(InvalidArgument) as info:
        check_k(k, 5)
    _check_message(info, words)


def test_check_k_non_strict_allows_k_at_least_n():
    assert check_k(7, 5, strict=False) == 7
    with pytest.raises(InvalidArgument):
        check_k(0, 5, strict=False)


# -- the checked graph: validated once ------------------------------------------

@pytest.mark.parametrize("sparse", [False, True])
def test_a_checked_graph_is_returned_unchanged_without_revalidation(sparse, validations):
    G = sp.csr_matrix(view_graph(3, 2)) if sparse else view_graph(3, 2)
    once = check_graph(G)
    assert validations["n"] == 1 and is_checked(once)
    assert isinstance(once, SparseGraph if sparse else DenseGraph)
    assert isinstance(once, sp.csr_matrix if sparse else np.ndarray) and once.dtype == np.float64
    assert check_graph(once) is once and check_graph(check_graph(once)) is once
    assert validations["n"] == 1


@pytest.mark.parametrize("sparse", [False, True])
def test_arrays_derived_from_a_checked_graph_are_checked_again(sparse, validations):
    G = check_graph(sp.csr_matrix(view_graph(3, 2)) if sparse else view_graph(3, 2))
    for derived in (-G, G * 2, G + G.T, laplacian(G), G[:2, :2], G.T):
        assert not is_checked(derived)
    with pytest.raises(InvalidGraph, match="negative"):
        check_graph(-G)  # a derived array does not inherit the mark: -G is caught
    with pytest.raises(InvalidGraph, match="no edges"):
        check_graph(G[:2, :2])  # a sub-graph of a valid graph need not have an edge (here 0 and 1 are not paired)


def test_plain_arrays_are_validated_every_time(validations):
    G = view_graph(2, 2)
    check_graph(G)
    check_graph(G)
    assert validations["n"] == 2


@pytest.mark.parametrize("make", [
    lambda G: G.astype(complex),
    lambda G: G + 0j,
    lambda G: sp.csr_matrix(G.astype(np.complex128)),
    lambda G: sp.coo_matrix(G.astype(np.complex64)),
    lambda G: (G.astype(complex)).tolist(),
], ids=["dense", "dense_zero_imag", "csr", "coo", "list"])
def test_complex_graphs_are_refused_not_cast(make):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's ComplexWarning would mean the real part was kept silently
        with pytest.raises(InvalidGraph) as info:
            check_graph(make(view_graph(2, 2)))
    _check_message(info, ["complex", "G.real"])


def test_sparse_graph_above_the_node_limit_is_refused_before_allocation():
    n = 10 ** 12  # CSR storage alone would be 8 TB: refused from the shape
    G = sp.coo_matrix(([1.0, 1.0], ([0, 1], [1, 0])), shape=(n, n))
    with pytest.raises(InvalidGraph) as info:
        check_graph(G)
    _check_message(info, ["1,000,000,000,000 nodes", "MAX_NODES"])


def test_dense_graph_above_the_dense_limit_is_refused(monkeypatch):
    monkeypatch.setattr(graphs_module, "MAX_DENSE_NODES", 5)
    with pytest.raises(InvalidGraph) as info:
        check_graph(label_graph(np.tile(np.arange(3), 2), sparse=False))  # a dense array of 6 nodes
    _check_message(info, ["N = 6", "dense limit of 5", "scipy.sparse"])
    assert is_checked(check_graph(sp.csr_matrix(view_graph(3, 2))))  # the same graph, sparse, is fine


def test_dense_work_on_a_large_sparse_graph_is_refused_before_allocating(monkeypatch):
    monkeypatch.setattr(graphs_module, "MAX_DENSE_NODES", 5)
    G = check_graph(sp.csr_matrix(view_graph(3, 2)))
    with pytest.raises(InvalidGraph, match="builds a dense matrix: only sparse solvers"):
        to_dense(G)
    with pytest.raises(InvalidGraph, match="dense"):
        centering(6)
    np.testing.assert_array_equal(to_dense(check_graph(view_graph(2, 2))), view_graph(2, 2))


@pytest.mark.parametrize("sparse", [False, True])
def test_weights_near_the_float_maximum(sparse):
    big = np.finfo(np.float64).max / 1.5
    G = np.array([[0, big], [big, 0]])
    out = check_graph(sp.csr_matrix(G) if sparse else G)  # symmetrising must not overflow to inf
    np.testing.assert_array_equal(to_dense(out), G)
    with pytest.raises(InvalidGraph, match="degrees .row sums. overflow"):
        check_graph(np.full((3, 3), big) - np.diag(np.full(3, big)))  # each row sums to 2 * big = inf


def test_label_graph_sparse_form_has_the_same_edges_and_view_graph_scales():
    """Above the dense limit label/view graphs are built class by class as CSR (no N x N comparison)."""
    y = np.random.default_rng(1).integers(0, 5, 40)
    dense, sparse = label_graph(y), label_graph(y, sparse=True)
    assert sp.issparse(sparse) and not sp.issparse(dense)
    # independent oracle: the definition G_ij = [y_i == y_j] - [i == j]
    expected = (y[:, None] == y[None, :]).astype(float) - np.eye(y.size)
    np.testing.assert_array_equal(sparse.toarray(), expected)
    np.testing.assert_array_equal(dense, expected)
    big = view_graph(graphs_module.MAX_DENSE_NODES, 2)  # twice the dense limit: sparse, one positive per row
    assert sp.issparse(big) and big.nnz == 2 * graphs_module.MAX_DENSE_NODES
    assert np.all(np.asarray(big.sum(axis=1)).ravel() == 1)


def test_pair_listing_repeats_each_edge_by_its_weight_both_ways():
    G = np.array([[0, 2, 0], [2, 0, 1], [0, 1, 0.0]])
    for g in (G, sp.csr_matrix(G)):
        rows, cols = pair_listing(g)
        assert sorted(zip(rows.tolist(), cols.tolist())) == [(0, 1), (0, 1), (1, 0), (1, 0), (1, 2), (2, 1)]
