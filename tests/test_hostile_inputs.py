"""Hostile inputs of issue 18, class by class: each gets the project's error (exit 2), or a correct answer.

Classes (numbers of the issue): 1 forged sparse structure, 4 files that are not regular files,
5 small inputs asking for gigabytes, 6 silent wrong answers, 7 errors that were not the project's.
Each class has a table of cases beyond the issue's examples, or a property over many.
"""
import bz2
import contextlib
import gzip
import io
import os
import signal
import socket
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp
import torch
from hypothesis import given, settings, strategies as st

import ssl_proofs
from ssl_proofs import limits
from ssl_proofs.diagnose import diagnose
from ssl_proofs.errors import GraphFileError, InvalidArgument, InvalidGraph, LimitExceeded, SSLProofsError
from ssl_proofs.graphfiles import read_graph
from ssl_proofs.graphs import check_graph, is_checked, view_graph
from ssl_proofs_cli import main
from ssl_proofs_cli.io import load_array

VICREG = ssl_proofs.get_method("vicreg")
PROPS = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 80)), deadline=None, database=None)


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _assert_refused(argv, *words):
    code, _, err = _run(argv)
    assert code == 2 and err.startswith("ssl-proofs: error: ") and "Traceback" not in err, err
    for w in words:
        assert w in err, f"{w!r} not in {err}"
    return err


@contextlib.contextmanager
def _deadline(seconds):
    """Fail (instead of hanging the suite) when a read blocks: the old code blocked forever on a FIFO."""
    def alarm(*_):
        raise TimeoutError(f"blocked for {seconds} s")
    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# -- class 1: a forged sparse structure is refused before scipy's kernels touch it ---------------------------

CSR = sp.csr_matrix(np.array([[0, 1, 0], [1, 0, 2], [0, 2, 0.]]))  # indptr [0 1 3 4], indices [1 0 2 1]

FORGED = [  # (what is changed, arrays (data, indices, indptr), words of the message)
    ("column index past N", ([1, 1, 2, 2], [1, 0, 5, 1], [0, 1, 3, 4]), "column index 5"),
    ("column index far past N", ([1, 1, 2, 2], [1, 0, 2 ** 31 - 1, 1], [0, 1, 3, 4]), "outside 0 .. 2"),
    ("negative column index", ([1, 1, 2, 2], [1, 0, -1, 1], [0, 1, 3, 4]), "column index -1"),
    ("indptr decreasing", ([1, 1, 2, 2], [1, 0, 2, 1], [0, 3, 1, 4]), "indptr does not increase"),
    ("indptr not from 0", ([1, 1, 2, 2], [1, 0, 2, 1], [1, 1, 3, 4]), "indptr does not increase"),
    ("indptr past the entries", ([1, 1, 2, 2], [1, 0, 2, 1], [0, 1, 3, 9]), "indptr ends at 9"),
    ("indptr short of the entries", ([1, 1, 2, 2], [1, 0, 2, 1], [0, 1, 3, 3]), "indptr ends at 3"),
    ("indptr too short", ([1, 1, 2, 2], [1, 0, 2, 1], [0, 1, 4]), "indptr has 3 entries"),
    ("float indices", ([1, 1, 2, 2], np.array([1, 0, 2, 1.5]), [0, 1, 3, 4]), "not 1-d integers"),
    ("complex data", (np.array([1, 1, 2, 2], dtype=complex), [1, 0, 2, 1], [0, 1, 3, 4]), "complex"),
]


def _forged_csr(data, indices, indptr):
    """A csr_matrix whose arrays were replaced after construction, as a user (or a file) can."""
    M = CSR.copy()
    M.data, M.indices, M.indptr = np.asarray(data), np.asarray(indices), np.asarray(indptr)
    return M


@pytest.mark.parametrize("what, arrays, words", FORGED, ids=[f[0] for f in FORGED])
def test_forged_csr_through_the_api(what, arrays, words):
    with pytest.raises(InvalidGraph, match=words):
        check_graph(_forged_csr(*arrays))


@pytest.mark.parametrize("what, arrays, words", FORGED, ids=[f[0] for f in FORGED])
def test_forged_csr_file_through_the_cli(what, arrays, words, tmp_path):
    data, indices, indptr = (np.asarray(a) for a in arrays)
    np.savez(tmp_path / "g.npz", format=np.array("csr"), shape=np.array([3, 3]), data=data, indices=indices,
             indptr=indptr)
    _assert_refused(["solve", "vicreg", "--graph", str(tmp_path / "g.npz"), "-k", "1", "--out", str(tmp_path / "Z.npy")],
             words)
    assert not (tmp_path / "Z.npy").exists()


def test_float16_data_is_read_as_its_values(tmp_path):
    # float16 has no scipy kernels: it was a traceback; its values are exact in float64
    np.savez(tmp_path / "g.npz", format=np.array("csr"), shape=np.array([3, 3]),
             data=CSR.data.astype(np.float16), indices=CSR.indices, indptr=CSR.indptr)
    G = read_graph(tmp_path / "g.npz")
    assert np.array_equal(G.toarray(), CSR.toarray())


def _forge_other(fmt):
    if fmt == "coo":
        M = CSR.tocoo()
        M.row = np.array([0, 1, 1, 9])
        return M, "row index 9"
    if fmt == "csc":
        M = CSR.tocsc()
        M.indices = np.array([1, 0, 2, -4], dtype=np.int32)
        return M, "row index -4"
    if fmt == "bsr":
        M = sp.bsr_matrix(CSR, blocksize=(1, 1))
        M.indices = np.array([1, 0, 3, 1], dtype=np.int32)
        return M, "column index 3"
    if fmt == "dok":
        M = sp.dok_matrix(CSR)
        M._dict[(0, 7)] = 1.0  # past the shape: its dict is reachable, as update() once was
        return M, "column index 7"
    M = sp.lil_matrix(CSR)
    M.rows[0] = [1, 2, 99]
    M.data[0] = [1.0, 1.0, 1.0]
    return M, "column index 99"


@pytest.mark.parametrize("fmt", ["coo", "csc", "bsr", "dok", "lil"])
def test_forged_matrices_of_every_format(fmt):
    M, words = _forge_other(fmt)
    with pytest.raises(InvalidGraph, match=words):
        check_graph(M)


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "bsr", "dok", "lil", "dia"])
def test_valid_matrices_of_every_format_read_alike(fmt):
    G = check_graph(CSR.asformat(fmt))
    assert np.array_equal(G.toarray(), CSR.toarray())


@st.composite
def csr_arrays(draw):
    n = draw(st.integers(2, 5))
    nnz = draw(st.integers(0, 8))
    indptr = sorted(draw(st.lists(st.integers(0, nnz), min_size=n - 1, max_size=n - 1)))
    indptr = [0, *indptr, nnz]
    indices = draw(st.lists(st.integers(0, n - 1), min_size=nnz, max_size=nnz))
    data = draw(st.lists(st.sampled_from([1.0, 2.0, 0.5]), min_size=nnz, max_size=nnz))
    if draw(st.booleans()):  # break one thing
        where = draw(st.sampled_from(["indices", "indptr", "data"]))
        arr = {"indices": indices, "indptr": indptr, "data": data}[where]
        if arr:
            arr[draw(st.integers(0, len(arr) - 1))] = draw(st.integers(-3, n + 3))
        else:
            arr.append(draw(st.integers(-3, n + 3)))
    return n, np.array(data, dtype=float), np.array(indices, dtype=np.int32), np.array(indptr, dtype=np.int32)


def _valid_csr(n, data, indices, indptr):
    """An independent reading of the CSR rules (scipy's documentation), in plain Python."""
    p = indptr.tolist()
    return (len(p) == n + 1 and p[0] == 0 and all(a <= b for a, b in zip(p, p[1:])) and p[-1] == len(indices)
            == len(data) and all(0 <= i < n for i in indices.tolist()))


@PROPS
@given(csr_arrays())
def test_any_csr_arrays_give_the_matrix_they_describe_or_are_refused(arrays):
    n, data, indices, indptr = arrays
    M = sp.csr_matrix(np.zeros((n, n)))
    M.data, M.indices, M.indptr = data, indices, indptr
    valid = _valid_csr(n, data, indices, indptr)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            G = check_graph(M)
    except InvalidGraph as exc:
        assert valid != ("damaged sparse matrix" in str(exc)), str(exc)
        return
    assert valid
    D = np.zeros((n, n))
    for r in range(n):  # duplicates add up, as scipy's CSR means them
        for k in range(indptr[r], indptr[r + 1]):
            D[r, indices[k]] += data[k]
    np.fill_diagonal(D, 0.0)
    assert np.array_equal(G.toarray(), D)


# -- class 4: FIFOs, devices, sockets, directories: refused before reading ----------------------------------

def _special(kind, folder):
    path = Path(folder) / "g.npz"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dir":
        path.mkdir()
    elif kind == "socket":
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(path))
        s.close()
    elif kind == "link to /dev/zero":
        path.symlink_to("/dev/zero")
    else:
        return kind
    return str(path)


SPECIAL = ["fifo", "dir", "socket", "link to /dev/zero", "/dev/zero", "/dev/urandom", "/dev/null"]
WORDS = {"fifo": "FIFO", "dir": "directory", "socket": "socket", "link to /dev/zero": "character device",
         "/dev/zero": "character device", "/dev/urandom": "character device", "/dev/null": "character device"}


@pytest.mark.parametrize("kind", SPECIAL)
@pytest.mark.parametrize("flag", ["--graph", "--embeddings", "--data"])
def test_non_regular_files_are_refused_by_every_input_flag(kind, flag, tmp_path):
    (tmp_path / "ok.txt").write_text("0 1\n1 2\n2 3\n3 0\n")
    np.save(tmp_path / "ok.npy", np.ones((4, 1)))
    path = _special(kind, tmp_path)
    argv = {"--graph": ["solve", "vicreg", "--graph", path, "-k", "1", "--out", str(tmp_path / "Z.npy")],
            "--embeddings": ["diagnose", "--embeddings", path, "--graph", str(tmp_path / "ok.txt")],
            "--data": ["solve", "vicreg", "--graph", str(tmp_path / "ok.txt"), "-k", "1", "--linear", "--data", path,
                       "--out", str(tmp_path / "Z.npy")]}[flag]
    with _deadline(30):
        _assert_refused(argv, "not a regular file", WORDS[kind])


@pytest.mark.parametrize("kind", SPECIAL)
def test_non_regular_files_are_refused_by_the_api(kind, tmp_path):
    path = _special(kind, tmp_path)
    with _deadline(30):
        with pytest.raises(GraphFileError, match="not a regular file"):
            read_graph(path)
        with pytest.raises(InvalidArgument, match="not a regular file"):
            load_array(path, "--embeddings")


# -- class 5: small inputs asking for gigabytes -----------------------------------------------------------

def _compressed_comment(codec, mib):
    """A Matrix Market file whose comment line is ``mib`` MiB of 'x', compressed (a few KiB)."""
    comp = gzip.GzipFile(fileobj=(buf := io.BytesIO()), mode="wb") if codec == "gz" else None
    bzc = bz2.BZ2Compressor() if codec == "bz2" else None
    parts = []

    def put(b):
        if comp:
            comp.write(b)
        else:
            parts.append(bzc.compress(b))
    put(b"%%MatrixMarket matrix coordinate real symmetric\n%")
    chunk = b"x" * 2 ** 20
    for _ in range(mib):
        put(chunk)
    put(b"\n3 3 1\n2 1 1.0\n")
    if comp:
        comp.close()
        return buf.getvalue()
    return b"".join(parts) + bzc.flush()


@pytest.mark.parametrize("codec", ["gz", "bz2"])
def test_a_huge_comment_line_stops_at_the_header_bound(codec, tmp_path):
    path = tmp_path / f"g.mtx.{codec}"
    path.write_bytes(_compressed_comment(codec, 64))
    assert path.stat().st_size < 2 ** 20  # 64 MiB of text in a small file
    with pytest.raises(LimitExceeded, match="SSL_PROOFS_MAX_HEADER_BYTES"):
        read_graph(path)


def test_a_body_longer_than_its_entries_stops_at_the_body_bound(tmp_path):
    text = b"%%MatrixMarket matrix coordinate real general\n3 3 2\n2 1 1\n" + b"1" * (2 ** 22) + b" 2 1\n"
    path = tmp_path / "g.mtx.gz"
    path.write_bytes(gzip.compress(text))
    with pytest.raises((LimitExceeded, GraphFileError)):
        read_graph(path)


def _bomb(tmp_path, n, compression):
    """A one-array .npz whose member is a header claiming (n, n) float64 and zeros: kilobytes on disk."""
    import zipfile
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": (n, n)})
    path = tmp_path / "g.npz"
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        with zf.open("arr_0.npy", "w", force_zip64=True) as fh:
            fh.write(buf.getvalue())
            for _ in range(8 * n * n // 2 ** 20):
                fh.write(bytes(2 ** 20))
    return path


@pytest.mark.parametrize("compression", ["deflate", "bzip2"])
def test_a_dense_npz_bomb_is_refused_by_the_memory_estimate(compression, tmp_path, monkeypatch):
    import zipfile
    path = _bomb(tmp_path, 4096, {"deflate": zipfile.ZIP_DEFLATED, "bzip2": zipfile.ZIP_BZIP2}[compression])
    assert path.stat().st_size < 2 ** 20  # 128 MiB of array
    monkeypatch.setattr(limits, "MAX_MEMORY", 2 ** 28)  # 256 MiB: below 5 copies of 128 MiB
    with pytest.raises(LimitExceeded, match="SSL_PROOFS_MAX_MEMORY"):
        read_graph(path)


def test_eigensolver_memory_is_estimated_before_it_allocates(monkeypatch):
    n = 100_000
    i = np.arange(n)
    ring = sp.csr_matrix((np.ones(2 * n), (np.r_[i, (i + 1) % n], np.r_[(i + 1) % n, i])), shape=(n, n))
    monkeypatch.setattr(limits, "MAX_MEMORY", 2 ** 30)
    # ARPACK's ncv = 2k + 1 = 801 Lanczos vectors of 10^5 float64 are 0.6 GiB alone
    with pytest.raises(LimitExceeded, match=r"k = 400.*SSL_PROOFS_MAX_MEMORY"):
        VICREG.solve(ring, 400)


def test_memory_error_is_not_called_a_bug(monkeypatch, tmp_path):
    from ssl_proofs_cli.commands import solve as solve_command

    def exhausted(args):
        raise MemoryError
    monkeypatch.setattr(solve_command, "run", exhausted)
    err = _assert_refused(["solve", "vicreg", "--graph", "g.txt", "-k", "1", "--out", str(tmp_path / "Z.npy")],
                   "out of memory", "SSL_PROOFS_MAX_MEMORY")
    assert "bug" not in err


@pytest.mark.parametrize("value, expected", [("1000", 1000), ("64G", 64 * 2 ** 30), ("512MiB", 512 * 2 ** 20),
                                             ("3g", 3 * 2 ** 30), ("1.5G", None), ("-1", None), ("\uff11G", None),
                                             ("", None), ("G", None)])
def test_limits_parse_what_the_docs_say(value, expected):
    assert limits.parse_bytes(value) == expected


# -- class 6: silent wrong answers ------------------------------------------------------------------------

def _batch():
    G = view_graph(4, 2)
    Z = np.random.default_rng(0).standard_normal((8, 2))
    return G, Z


@pytest.mark.parametrize("Z_of, words", [
    (lambda Z: Z + 1j * Z, "complex"),
    (lambda Z: Z.astype(np.complex64), "complex"),
    (lambda Z: Z * 1e300, "not finite"),
    (lambda Z: Z * 1e160, "not finite"),
    (lambda Z: np.ma.masked_array(Z, mask=Z > 0), "masked array"),
])
def test_diagnose_refuses_what_it_would_misread(Z_of, words):
    G, Z = _batch()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ComplexWarning is the silent loss of the imaginary part
        with pytest.raises(InvalidArgument, match=words):
            diagnose(Z_of(Z), G, "vicreg")


@pytest.mark.parametrize("weight", ["1e-400", "2e-324", "0.00000001e-330", "-1e-400", "9e-999999"])
def test_an_underflowing_edge_weight_is_refused_not_dropped(weight, tmp_path):
    p = tmp_path / "g.txt"
    p.write_text(f"0 1\n1 2 {weight}\n2 3\n")
    with pytest.raises(GraphFileError, match="underflows to 0"):
        read_graph(p)


@pytest.mark.parametrize("weight", ["0", "0.0", "-0", "0e-400", "00.000e5"])
def test_a_written_zero_still_means_no_pair(weight, tmp_path):
    p = tmp_path / "g.txt"
    p.write_text(f"0 1\n1 2 {weight}\n2 3\n")
    G = read_graph(p)
    assert G[1, 2] == 0 and G[0, 1] == 1


@pytest.mark.parametrize("who", ["G to solve", "Z to loss", "X to solve_linear", "Z to nnclr_graph"])
def test_masked_arrays_are_refused(who):
    G, Z = _batch()
    masked = np.ma.masked_array
    with pytest.raises(SSLProofsError, match="masked array"):
        if who == "G to solve":
            VICREG.solve(masked(G, mask=G > 0), 1)
        elif who == "Z to loss":
            VICREG.loss(masked(Z, mask=Z > 0), G)
        elif who == "X to solve_linear":
            VICREG.solve_linear(masked(Z, mask=Z > 0), G, 1)
        else:
            ssl_proofs.graphs.nnclr_graph(masked(Z, mask=Z > 0))


@pytest.mark.parametrize("method", ["barlowtwins", "simclr", "simsiam"])
@pytest.mark.parametrize("scale", [1e150, 1e200, 1e300, 2.0 ** 1000])
def test_scale_invariant_losses_are_computed_at_any_scale(method, scale):
    # these losses normalise rows or columns: the value at c Z is the value at Z (their definition)
    G, Z = _batch()
    m = ssl_proofs.get_method(method)
    assert m.loss(Z * scale, G) == pytest.approx(m.loss(Z, G), rel=1e-12)


@pytest.mark.parametrize("method", ["vicreg", "spectral_contrastive", "wmse"])
def test_losses_that_overflow_say_so(method):
    G, Z = _batch()
    with pytest.raises(InvalidArgument, match="not finite in float64"):
        ssl_proofs.get_method(method).loss(Z * 1e200, G)


# -- class 7: errors that were not the project's, advice that was wrong --------------------------------------

@pytest.mark.parametrize("G, error", [
    (torch.tensor(view_graph(2, 2), requires_grad=True), None),
    (torch.tensor(view_graph(2, 2), dtype=torch.bfloat16), None),
    (torch.empty((4, 4), device="meta"), "meta tensor"),
    (torch.tensor(view_graph(2, 2)).to_sparse(), "layout"),
    ([[0, 10 ** 400], [10 ** 400, 0]], "float64 range"),
    ([[0, 2 ** 1024], [2 ** 1024, 0]], "float64 range"),
    (np.array([[0, 1], [1, 0]], dtype=object) * 10 ** 309, "float64 range"),
])
def test_graphs_of_every_kind_get_the_projects_errors(G, error):
    if error is None:
        assert is_checked(check_graph(G))
    else:
        with pytest.raises(InvalidGraph, match=error):
            check_graph(G)


@pytest.mark.parametrize("Z, error", [
    (lambda Z: torch.tensor(Z, requires_grad=True), None),
    (lambda Z: torch.empty(Z.shape, device="meta"), "meta tensor"),
    (lambda Z: (Z * 0).astype(int).astype(object) + 10 ** 400, "float64 range"),
])
def test_embeddings_of_every_kind_get_the_projects_errors(Z, error):
    G, Z0 = _batch()
    for call in (lambda z: diagnose(z, G, "vicreg"), lambda z: VICREG.loss(z, G), lambda z: VICREG.solve_linear(z, G, 1)):
        if error is None:
            call(Z(Z0))
        else:
            with pytest.raises(InvalidArgument, match=error):
                call(Z(Z0))


def test_huge_weights_are_told_to_rescale_not_to_raise_maxiter(tmp_path):
    p = tmp_path / "g.txt"
    p.write_text("0 1 1e307\n1 2 1e307\n2 3 1e307\n3 0 1e307\n0 2 1e306\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's own overflow warnings on the way
        err = _assert_refused(["solve", "vicreg", "--graph", str(p), "-k", "1", "--out", str(tmp_path / "Z.npy")],
                       "Rescale G")
    assert "maxiter" not in err.replace("maxiter and tol do not help", "")


@pytest.mark.parametrize("scale", [1e200, 1e300, 1.7e308])
def test_graphs_too_large_for_float64_arithmetic_are_refused_before_the_eigensolver(scale):
    # found by the long fuzz run: (A + A^T) / 2 overflowed inside the dense eigensolver (a traceback)
    G = view_graph(3, 2) * scale
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(InvalidArgument, match="Rescale G"):
            VICREG.solve(G, 1)


@pytest.mark.parametrize("scale", [1e160, 1e300])
def test_data_too_large_for_its_gram_matrix_is_refused(scale):
    # found by the long fuzz run: X^T B X overflowed and numpy's eigh raised LinAlgError (a traceback)
    G, Z = _batch()
    with pytest.raises(InvalidArgument, match="Rescale X"):
        VICREG.solve_linear(Z * scale, G, 1)


@pytest.mark.parametrize("size_line", ["0 0", "1 1", "0 0 0", "1 1 1"])
@pytest.mark.parametrize("layout", ["array", "coordinate"])
def test_empty_or_one_node_mtx_is_refused_before_its_body(size_line, layout, tmp_path):
    # found by the long fuzz run: an array layout of size 0 x 0 with values killed scipy's parser (SIGFPE)
    if (layout == "array") != (len(size_line.split()) == 2):
        return
    p = tmp_path / "g.mtx"
    p.write_text(f"%%MatrixMarket matrix {layout} real general\n{size_line}\n1\n2 1 1\n1e308\n")
    with pytest.raises(InvalidGraph, match="at least 2"):
        read_graph(p)


@pytest.mark.parametrize("seed", [2 ** 63, 2 ** 70, 10 ** 30])
def test_a_seed_out_of_range_says_the_range(seed):
    _assert_refused(["verify", "vicreg.squared.closed_form", "--device", "cpu", "--seed", str(seed)], "2**63")


NOT_ASCII_IDS = ["\uff11", "1_0", "\u0661", "\u00b2", "\u0967", "+1", "0x1", "1.0", "1e1", "\U0001d7d9"]


@pytest.mark.parametrize("token", NOT_ASCII_IDS)
@pytest.mark.parametrize("where", ["first id", "second id", "header"])
def test_node_ids_are_ascii_decimal_digits_only(token, where, tmp_path):
    p = tmp_path / "g.txt"
    line = {"first id": f"{token} 2\n0 2\n", "second id": f"0 {token}\n0 2\n", "header": f"# nodes: {token}\n0 1\n"}
    p.write_text(line[where], encoding="utf-8")
    with pytest.raises(GraphFileError, match="ASCII|non-negative integer"):
        read_graph(p)


@PROPS
@given(digits=st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=3))
def test_any_non_ascii_digit_is_refused_as_a_node_id(digits, tmp_path_factory):
    if digits.isascii():
        return
    p = tmp_path_factory.mktemp("ids") / "g.txt"
    p.write_text(f"0 1\n1 {digits}\n", encoding="utf-8")
    with pytest.raises(GraphFileError):
        read_graph(p)


@pytest.mark.parametrize("weight", ["1_0", "\uff12", "\u0662.5", "0x1p3", "1,5", "infinity", "1e", ".", "--1"])
def test_weights_are_ascii_decimal_numbers_only(weight, tmp_path):
    p = tmp_path / "g.txt"
    p.write_text(f"0 1 {weight}\n1 2\n", encoding="utf-8")
    with pytest.raises(GraphFileError, match="line 1"):
        read_graph(p)


def _mtx(tmp_path, symmetry, entries, n=3):
    p = tmp_path / "g.mtx"
    p.write_text(f"%%MatrixMarket matrix coordinate real {symmetry}\n% a comment\n{n} {n} {len(entries)}\n"
                 + "".join(f"{i} {j} {w}\n" for i, j, w in entries))
    return p


@pytest.mark.parametrize("symmetry, entries, lines", [
    ("symmetric", [(2, 1, 1.0), (3, 2, 1.0), (2, 1, 2.0)], "lines 4 and 6"),
    ("symmetric", [(2, 1, 1.0), (1, 2, 3.0)], "lines 4 and 5"),    # the same pair in the other triangle
    ("general", [(2, 1, 1.0), (1, 2, 1.0), (2, 1, 5.0), (1, 2, 5.0)], "lines 4 and 6|lines 5 and 7"),
])
def test_conflicting_duplicate_mtx_entries_are_refused_with_their_lines(symmetry, entries, lines, tmp_path):
    with pytest.raises(GraphFileError, match=lines):
        read_graph(_mtx(tmp_path, symmetry, entries))


@pytest.mark.parametrize("symmetry", ["symmetric", "general"])
def test_equal_duplicates_mean_one_edge_in_mtx_as_in_edge_lists(symmetry, tmp_path):
    entries = [(2, 1, 2.5), (1, 2, 2.5), (3, 2, 1.0), (2, 3, 1.0)]
    G = read_graph(_mtx(tmp_path, symmetry, entries + entries[:2]))
    p = tmp_path / "g.txt"
    p.write_text("".join(f"{i - 1} {j - 1} {w}\n" for i, j, w in entries + entries[:2]))
    oracle = np.array([[0, 2.5, 0], [2.5, 0, 1.0], [0, 1.0, 0]])
    assert np.array_equal(G.toarray(), oracle) and np.array_equal(read_graph(p).toarray(), oracle)


def test_symmetric_mtx_is_mirrored_once(tmp_path):
    G = read_graph(_mtx(tmp_path, "symmetric", [(2, 1, 1.5), (3, 1, 2.0)]))
    assert np.array_equal(G.toarray(), [[0, 1.5, 2.0], [1.5, 0, 0], [2.0, 0, 0]])
    scipy_reading = scipy.io.mmread(str(tmp_path / "g.mtx")).toarray()  # the reference reader agrees
    assert np.array_equal(G.toarray(), scipy_reading)


# -- .mtx tokens scipy's parser reads a prefix of, or turns into 0 / inf without a word (class 6) ----------

def _write_mtx(tmp_path, text, codec=""):
    p = tmp_path / f"g.mtx{codec}"
    data = text.encode("ascii")
    p.write_bytes(gzip.compress(data) if codec == ".gz" else bz2.compress(data) if codec == ".bz2" else data)
    return p


def _coordinate(weight, symmetry="symmetric", field="real"):
    """A 3-node path, its second entry (line 5) weighted by the token ``weight``."""
    return (f"%%MatrixMarket matrix coordinate {field} {symmetry}\n% a comment\n3 3 2\n"
            f"2 1 1\n3 2 {weight}\n")


def _array(weight):
    """A 2-node dense graph in the array layout (column-major), its off-diagonal entries on lines 4 and 5."""
    return f"%%MatrixMarket matrix array real general\n2 2\n0\n{weight}\n{weight}\n0\n"


#: tokens that are not 0 in text but read as 0.0 in float64, or that overflow to inf; scipy gives 0 / inf for each
UNDERFLOW = ["1e-400", "-1e-400", "4e-325", "0." + "0" * 400 + "1", "1e-0000000400", "123.456e-330"]
OVERFLOW = ["1e400", "1" + "0" * 400, "1.8e308", "+2E+0000309"]


@pytest.mark.parametrize("codec", ["", ".gz", ".bz2"])
@pytest.mark.parametrize("weight, why", [*((w, "underflows to 0") for w in UNDERFLOW),
                                         *((w, "overflows float64") for w in OVERFLOW)])
def test_mtx_weights_float64_cannot_hold_are_refused_at_their_line(weight, why, codec, tmp_path):
    assert float(weight) == 0 or float(weight) == float("inf")  # the premise: float64 cannot hold them
    with pytest.raises(GraphFileError, match=f"line 5: .*{why}.*Rescale the weights"):
        read_graph(_write_mtx(tmp_path, _coordinate(weight), codec))
    with pytest.raises(GraphFileError, match=f"line 4: .*{why}"):
        read_graph(_write_mtx(tmp_path, _array(weight), codec))
    # the edge-list reader refuses the same token (it was first: issue 18, class 6)
    p = tmp_path / "g.txt"
    p.write_text(f"0 1\n1 2 {weight.lstrip('-')}\n")
    with pytest.raises(GraphFileError, match="line 2"):
        read_graph(p)


@pytest.mark.parametrize("codec", ["", ".gz", ".bz2"])
@pytest.mark.parametrize("weight, value", [("0", 0.0), ("0.0", 0.0), ("0e-400", 0.0), ("-0.0", 0.0), ("0e999", 0.0),
                                           ("1e-300", 1e-300), ("5e-324", 5e-324), ("1.7e308", 1.7e308),
                                           ("0." + "0" * 300 + "1", 1e-301), (".5", 0.5)])
def test_mtx_weights_float64_holds_are_read_as_python_reads_them(weight, value, codec, tmp_path):
    G = read_graph(_write_mtx(tmp_path, _coordinate(weight), codec)).toarray()
    assert G[2, 1] == G[1, 2] == value and G[0, 1] == 1.0  # a written zero is "no pair", as in edge lists


@pytest.mark.parametrize("text, words", [
    (_coordinate("1_0"), "line 5: .*'1_0' is not a number written in ASCII decimal"),  # scipy: 1
    (_coordinate("0x10"), "line 5: .*'0x10' is not a number"),                          # scipy: 0
    (_coordinate("2.5 7"), "line 5: .*has 4 field"),                                     # scipy: 2.5, the 7 dropped
    (_coordinate("1.5", field="integer"), "line 5: .*'1.5' is not an integer"),           # scipy: 1
    (_coordinate("1e3", field="integer"), "line 5: .*'1e3' is not an integer"),           # scipy: 1
    (_coordinate("\uff12"), "line 5: .*not a number"),
    ("%%MatrixMarket matrix coordinate real general\n3 3 2\n2 1 1\n1\uff12 2 1\n", "line 4: .*index"),
    ("%%MatrixMarket matrix coordinate pattern symmetric\n3 3 2\n2 1\n3 2 1\n", "line 4: .*has 3 field"),
    (_array("1_0"), "line 4: .*'1_0'"),
])
def test_mtx_tokens_scipy_reads_a_prefix_of_are_refused_at_their_line(text, words, tmp_path):
    p = tmp_path / "g.mtx"
    p.write_bytes(text.encode("utf-8"))
    with pytest.raises(GraphFileError, match=words):
        read_graph(p)


_MANTISSA = st.from_regex(r"\A[0-9]{1,3}(\.[0-9]{0,3})?\Z") | st.builds(lambda z, d: "0." + "0" * z + d,
                                                                        st.integers(0, 400), st.sampled_from("0159"))


@PROPS
@given(mantissa=_MANTISSA, exponent=st.integers(-420, 420) | st.none())
def test_any_mtx_weight_is_read_as_python_reads_it_or_refused_exactly_when_float64_cannot(mantissa, exponent):
    """The oracle is Python's float(): correctly rounded, so it says when float64 holds a decimal token."""
    token = mantissa if exponent is None else f"{mantissa}e{exponent}"
    value = float(token)
    lost = value == float("inf") or (value == 0 and any(c in "123456789" for c in mantissa))
    with _tmpdir() as d:
        p = _write_mtx(d, _coordinate(token))
        if lost:
            with pytest.raises(GraphFileError, match="line 5: .*(underflows|overflows)"):
                read_graph(p)
        else:
            G = read_graph(p).toarray()
            assert G[2, 1] == G[1, 2] == value


@contextlib.contextmanager
def _tmpdir():
    """A fresh folder per hypothesis example (tmp_path is one per test)."""
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


@pytest.mark.parametrize("codec", [".gz", ".bz2"])
def test_conflicting_duplicates_in_a_compressed_mtx_are_refused_as_in_plain_ones(codec, tmp_path):
    text = "%%MatrixMarket matrix coordinate real symmetric\n% a comment\n3 3 3\n2 1 1.0\n3 2 1.0\n1 2 2.0\n"
    with pytest.raises(GraphFileError, match="lines 4 and 6"):
        read_graph(_write_mtx(tmp_path, text, codec))
    p = tmp_path / "g.txt"
    p.write_text("1 0 1.0\n2 1 1.0\n0 1 2.0\n")  # the same graph as an edge list is refused too
    with pytest.raises(GraphFileError, match="line 3"):
        read_graph(p)
