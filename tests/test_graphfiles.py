"""Reading graph files: round trips for every format, helpful errors otherwise."""
import io
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings

from ssl_proofs.errors import GraphFileError, InvalidGraph, SSLProofsError
from ssl_proofs.graphfiles import read_graph
from ssl_proofs_cli.io import write_edge_list, write_graph
from ssl_proofs.graphs import SelfLoopWarning, is_checked
from ssl_proofs_verifiers import strategies as S

G3 = np.array([[0, 1, 0], [1, 0, 2.5], [0, 2.5, 0]])


def _dense(G):
    return G.toarray() if sp.issparse(G) else np.asarray(G)


def _read_quietly(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return read_graph(path, **kw)


# -- round trips ---------------------------------------------------------------

def test_sparse_npz_round_trip(tmp_path):
    p = tmp_path / "g.npz"
    sp.save_npz(p, sp.csr_matrix(G3))
    G = _read_quietly(p)
    assert sp.issparse(G) and G.format == "csr"
    np.testing.assert_array_equal(_dense(G), G3)


@pytest.mark.parametrize("key", ["arr_0", "G"])
def test_dense_npz_round_trip(tmp_path, key):
    p = tmp_path / "g.npz"
    np.savez(p, **{key: G3})
    G = _read_quietly(p)
    assert isinstance(G, np.ndarray)
    np.testing.assert_array_equal(G, G3)


def test_npy_round_trip(tmp_path):
    p = tmp_path / "g.npy"
    np.save(p, G3)
    np.testing.assert_array_equal(_read_quietly(p), G3)


def test_integer_and_bool_arrays_are_accepted(tmp_path):
    p = tmp_path / "g.npy"
    np.save(p, G3 > 0)
    G = _read_quietly(p)
    assert G.dtype == np.float64 and set(np.unique(G)) == {0.0, 1.0}


@pytest.mark.parametrize("symmetry", ["general", "symmetric"])
def test_mtx_coordinate_round_trip(tmp_path, symmetry):
    p = tmp_path / "g.mtx"
    scipy.io.mmwrite(str(p), sp.coo_matrix(G3), symmetry=symmetry)
    G = _read_quietly(p)
    assert sp.issparse(G)
    np.testing.assert_array_equal(_dense(G), G3)


def test_mtx_array_round_trip(tmp_path):
    p = tmp_path / "g.mtx"
    scipy.io.mmwrite(str(p), G3)
    np.testing.assert_array_equal(_dense(_read_quietly(p)), G3)


def test_edge_list_round_trip(tmp_path):
    p = write_edge_list(G3, tmp_path / "g.txt")
    text = p.read_text()
    assert text.splitlines() == ["# nodes: 3", "0 1", "1 2 2.5"]
    np.testing.assert_array_equal(_dense(_read_quietly(p)), G3)


def test_edge_list_header_keeps_isolated_nodes(tmp_path):
    G = np.zeros((5, 5))
    G[0, 1] = G[1, 0] = 1
    p = write_edge_list(G, tmp_path / "g.edges")
    assert _read_quietly(p).shape == (5, 5)
    p.write_text("0 1\n")  # without the header, N = max id + 1
    assert _read_quietly(p).shape == (2, 2)


def test_edge_list_syntax(tmp_path):
    p = tmp_path / "g.txt"
    p.write_text(
        "# a comment line\n"
        "# nodes: 4\n"
        "\n"
        "0 1        # one direction is enough\n"
        "2\t1 3.0\n"
        "1 2 3.0\n"  # both directions with equal weights is fine
        "0 1\n"      # repeated identical line is fine
    )
    G = _dense(_read_quietly(p))
    expected = np.zeros((4, 4))
    expected[0, 1] = expected[1, 0] = 1
    expected[1, 2] = expected[2, 1] = 3
    np.testing.assert_array_equal(G, expected)


@pytest.mark.parametrize("suffix", [".npz", ".mtx", ".npy", ".txt"])
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(G=S.graphs("any", max_nodes=8))
def test_round_trip_every_format(tmp_path, suffix, G):
    p = write_graph(G, tmp_path / f"g{suffix}")
    back = _dense(_read_quietly(p))
    np.testing.assert_array_equal(back, G)


def test_weighted_edge_list_round_trip_is_exact(tmp_path):
    G = np.zeros((3, 3))
    G[0, 2] = G[2, 0] = 0.1 + 0.2  # not representable in few digits
    p = write_edge_list(G, tmp_path / "g.txt")
    assert _dense(read_graph(p))[0, 2] == 0.1 + 0.2


@pytest.mark.parametrize("dense", [True, False])
def test_dense_option(tmp_path, dense):
    p = write_edge_list(G3, tmp_path / "g.txt")
    G = read_graph(p, dense=dense)
    assert sp.issparse(G) != dense


def test_format_override(tmp_path):
    p = tmp_path / "pairs.dat"
    p.write_text("0 1\n")
    assert read_graph(p, format="edgelist").shape == (2, 2)


def test_self_loops_in_files_warn_and_are_dropped(tmp_path):
    p = tmp_path / "g.txt"
    p.write_text("0 1\n1 1\n")
    with pytest.warns(SelfLoopWarning):
        G = read_graph(p)
    np.testing.assert_array_equal(_dense(G), [[0, 1], [1, 0]])


# -- errors --------------------------------------------------------------------

def _assert_raises(exc, path, *words, **kw):
    with pytest.raises(exc) as info:
        read_graph(path, **kw)
    msg = str(info.value)
    for w in words:
        assert w.lower() in msg.lower(), f"{w!r} not in message: {msg}"
    assert isinstance(info.value, SSLProofsError)
    return msg


def test_missing_file(tmp_path):
    _assert_raises(GraphFileError, tmp_path / "nope.npz", "no such file", "nope.npz")


def test_directory(tmp_path):
    d = tmp_path / "d.txt"
    d.mkdir()
    _assert_raises(GraphFileError, d, "directory")


def test_unknown_suffix(tmp_path):
    p = tmp_path / "g.xyz"
    p.write_text("0 1\n")
    _assert_raises(GraphFileError, p, "unknown graph file format", ".xyz", "format=")


def test_unknown_format_name(tmp_path):
    p = tmp_path / "g.txt"
    p.write_text("0 1\n")
    _assert_raises(GraphFileError, p, "unknown graph file format", "edgelist", format="csv")


@pytest.mark.parametrize("content, words", [
    ("0 1\n0 x\n", ["line 2", "'0 x'", "not an integer"]),
    ("0 1\n1 2 3 4\n", ["line 2", "4 field", "'i j weight'"]),
    ("0\n", ["line 1", "1 field"]),
    ("0,1\n", ["line 1", "commas"]),
    ("0 1\n1 2 -1\n", ["line 2", "negative weight", "0"]),
    ("0 1 nan\n", ["line 1", "not finite"]),
    ("0 1 inf\n", ["line 1", "not finite"]),
    ("0 1 heavy\n", ["line 1", "'heavy'", "not a number"]),
    ("-1 2\n", ["line 1", "negative node id", "0-based"]),
    ("1.5 2\n", ["line 1", "'1.5'", "integer"]),
    ("0 1 1\n1 0 2\n", ["reverse edge", "line 1", "line 2", "mutual"]),
    ("0 1 1\n0 1 2\n", ["line 2", "line 1", "one line per edge"]),
    ("# nodes: 3\n0 5\n", ["line 2", "node id 5", "# nodes: 3", "0 .. 2"]),
    ("# nodes: many\n0 1\n", ["line 1", "header", "# nodes: N"]),
    ("# only comments\n\n", ["no edges", "'i j'"]),
    ("", ["no edges"]),
])
def test_bad_edge_lists(tmp_path, content, words):
    p = tmp_path / "g.txt"
    p.write_text(content)
    _assert_raises(GraphFileError, p, "g.txt", *words)


def test_binary_edge_list(tmp_path):
    p = tmp_path / "g.txt"
    p.write_bytes(b"\xff\xfe\x00\x81")
    _assert_raises(GraphFileError, p, "utf-8", "format=")


def test_zero_weights_only_is_invalid_graph(tmp_path):
    p = tmp_path / "g.txt"
    p.write_text("0 1 0\n")
    _assert_raises(InvalidGraph, p, "g.txt", "no edges")


@pytest.mark.parametrize("G, words", [
    (np.array([[0, 1.0], [0, 0]]), ["not symmetric", "symmetrise"]),
    (np.array([[0, -1.0], [-1, 0]]), ["negative", "encode"]),
    (np.array([[0, np.nan], [np.nan, 0]]), ["nan", "replace"]),
    (np.zeros((2, 3)), ["square"]),
    (np.zeros((3, 3)), ["no edges"]),
    (np.zeros((1, 1)), ["at least 2"]),
])
@pytest.mark.parametrize("suffix", [".npy", ".npz", ".mtx"])
def test_invalid_graphs_in_files(tmp_path, G, words, suffix):
    p = tmp_path / f"g{suffix}"
    if suffix == ".npy":
        np.save(p, G)
    elif suffix == ".npz":
        np.savez(p, G)
    else:
        scipy.io.mmwrite(str(p), G)
    _assert_raises(InvalidGraph, p, f"g{suffix}", *words)


def test_npz_with_several_arrays(tmp_path):
    p = tmp_path / "g.npz"
    np.savez(p, a=G3, b=G3)
    _assert_raises(GraphFileError, p, "exactly one array", "a, b", "save_npz")


def test_corrupt_npz(tmp_path):
    p = tmp_path / "g.npz"
    p.write_bytes(b"this is not a zip archive")
    _assert_raises(GraphFileError, p, "not a .npz archive", "save_npz")


def test_corrupt_npy(tmp_path):
    p = tmp_path / "g.npy"
    p.write_bytes(b"garbage")
    _assert_raises(GraphFileError, p, "not a NumPy .npy array", "np.save")


def test_object_npy_is_refused(tmp_path):
    p = tmp_path / "g.npy"
    np.save(p, np.array([[0, "a"], ["a", 0]], dtype=object), allow_pickle=True)
    _assert_raises(GraphFileError, p, "g.npy")


def test_string_npy_is_refused(tmp_path):
    p = tmp_path / "g.npy"
    np.save(p, np.array([["0", "1"], ["1", "0"]]))
    _assert_raises(GraphFileError, p, "dtype", "numeric")


def test_corrupt_mtx(tmp_path):
    p = tmp_path / "g.mtx"
    p.write_text("%%MatrixMarket matrix coordinate real general\n2 2 1\n1 x 1\n")
    _assert_raises(GraphFileError, p, "matrix market", "mmwrite")


def test_not_a_path():
    with pytest.raises(GraphFileError, match="file path"):
        read_graph(12345)


# -- sizes a file claims are checked before anything is allocated -------------------------

def _npy_header(shape, descr="<f8"):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


HUGE_FILES = {
    "edge list, node id 1e12": ("g.txt", b"0 1000000000000\n", GraphFileError,
                                ["line 1", "node id 1,000,000,000,000", "touch only 2 distinct", "renumber"]),
    "edge list, header 1e12": ("g.txt", b"# nodes: 1000000000000\n0 1\n", GraphFileError,
                               ["line 1", "limit of 10,000,000 nodes", "MAX_NODES"]),
    "edge list, header 3e9": ("g.txt", b"# nodes: 3000000000\n0 1\n", GraphFileError, ["3000000000", "limit"]),
    "mtx, 1e12 rows": ("g.mtx", b"%%MatrixMarket matrix coordinate real general\n1000000000000 1000000000000 1\n1 2 1\n",
                       InvalidGraph, ["1,000,000,000,000 nodes", "MAX_NODES"]),
    "mtx, 1e12 entries": ("g.mtx", b"%%MatrixMarket matrix coordinate real general\n3 3 1000000000000\n1 2 1\n",
                          GraphFileError, ["1,000,000,000,000 entries", "too small"]),
    "mtx array, 1e6 rows": ("g.mtx", b"%%MatrixMarket matrix array real general\n1000000 1000000\n0\n",
                            InvalidGraph, ["dense limit", "scipy.sparse"]),
    "npy header, 1e6 x 1e6": ("g.npy", _npy_header((10 ** 6, 10 ** 6)), GraphFileError,
                              ["(1000000, 1000000)", "truncated"]),
}


@pytest.mark.parametrize("case", sorted(HUGE_FILES))
def test_a_small_file_claiming_a_huge_graph_is_refused_before_allocation(case, tmp_path):
    name, content, exc, words = HUGE_FILES[case]
    p = tmp_path / name
    p.write_bytes(content)
    _assert_raises(exc, p, name, *words)


def test_huge_claims_need_no_memory(tmp_path):
    """In a process limited to 3 GiB of address space, every huge claim above fails cleanly (no MemoryError)."""
    paths = []
    for i, case in enumerate(sorted(HUGE_FILES)):
        p = tmp_path / f"{i}_{HUGE_FILES[case][0]}"
        p.write_bytes(HUGE_FILES[case][1])
        paths.append(str(p))
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (3 * 2 ** 30, 3 * 2 ** 30))\n"
        "from ssl_proofs.errors import SSLProofsError\n"
        "from ssl_proofs.graphfiles import read_graph\n"
        "for p in sys.argv[1:]:\n"
        "    try:\n"
        "        read_graph(p)\n"
        "    except SSLProofsError:\n"
        "        continue\n"
        "    sys.exit(f'{p} was accepted')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, *paths], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_sparse_npz_claiming_a_huge_shape(tmp_path):
    good = tmp_path / "good.npz"
    sp.save_npz(good, sp.coo_matrix(G3))
    with zipfile.ZipFile(good) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    buf = io.BytesIO()
    np.save(buf, np.array([10 ** 12, 10 ** 12]))
    members["shape.npy"] = buf.getvalue()
    bad = tmp_path / "g.npz"
    with zipfile.ZipFile(bad, "w") as zf:
        for n, b in members.items():
            zf.writestr(n, b)
    _assert_raises(InvalidGraph, bad, "g.npz", "1,000,000,000,000 nodes")


def test_dense_npz_claiming_a_huge_array(tmp_path):
    p = tmp_path / "g.npz"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("arr_0.npy", _npy_header((100_000, 100_000)))
    _assert_raises(GraphFileError, p, "g.npz", "truncated")


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_random_bytes_do_not_repeat_numpys_allow_pickle_advice(suffix, tmp_path):
    p = tmp_path / f"g{suffix}"
    p.write_bytes(np.random.default_rng(0).bytes(300))
    with pytest.raises(GraphFileError) as info:
        read_graph(p)
    msg = str(info.value)
    assert "pickle" not in msg.lower() and f"g{suffix}" in msg and "np.save" in msg


def test_npz_with_two_arrays_has_one_flat_message(tmp_path):
    p = tmp_path / "g.npz"
    np.savez(p, G3, G3)
    with pytest.raises(GraphFileError) as info:
        read_graph(p)
    msg = str(info.value)
    assert msg.count(str(p)) == 1 and "found 2 (arr_0, arr_1)" in msg and "damaged" not in msg


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".mtx"])
def test_complex_files_are_refused(suffix, tmp_path):
    p = tmp_path / f"g{suffix}"
    Gc = G3 * (1 + 1j)
    if suffix == ".npy":
        np.save(p, Gc)
    elif suffix == ".npz":
        np.savez(p, Gc)
    else:
        scipy.io.mmwrite(str(p), sp.coo_matrix(Gc))
    _assert_raises(InvalidGraph, p, "complex")


def test_read_graph_returns_a_checked_graph(tmp_path):
    p = tmp_path / "g.txt"
    write_edge_list(G3, p)
    for dense in (None, True, False):
        assert is_checked(read_graph(p, dense=dense))


def test_npz_whose_zip_directory_lies_about_sizes(tmp_path):
    """The zip directory's uncompressed size is the archive's word only: a forged one is bounded by what the
    compressed bytes can expand to (deflate: 1032x): a tiny file stating 4 GiB cannot make the reader allocate 3.2 GB."""
    p = tmp_path / "g.npz"
    sp.save_npz(p, sp.csr_matrix(G3))
    with zipfile.ZipFile(p) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["data.npy"] = _npy_header((4 * 10 ** 8,)) + bytes(1000)  # claims 3.2 GB, under the 4 GiB stated
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for n, b in members.items():
            zf.writestr(n, b)
    raw = bytearray(p.read_bytes())
    name = raw.find(b"data.npy")  # local header: the size field is 8 bytes before the name's length field
    for sig, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = raw.find(sig)
        while start >= 0:
            if raw[start + name_at:start + name_at + 8] == b"data.npy":
                raw[start + size_at:start + size_at + 4] = (0xFFFFFFF0).to_bytes(4, "little")
            start = raw.find(sig, start + 1)
    assert name > 0
    p.write_bytes(bytes(raw))
    _assert_raises(GraphFileError, p, "data.npy", "3,200,000,000 bytes", "truncated")
