"""Fuzz the input boundary: malformed files, arrays, paths and options get the project's own error.

Through the CLI (in process, plus a few subprocesses that prove there is no traceback):
exit 2, a one-line ``ssl-proofs: error: ...`` message, nothing written.  Through the API:
an :class:`~ssl_proofs.errors.SSLProofsError` (never numpy's, torch's or hypothesis' own
exception), or a result that satisfies the checked invariants.
"""
import contextlib
import gzip
import io
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp
import torch
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import ssl_proofs
from ssl_proofs.errors import InvalidArgument, InvalidGraph, SolverFailed, SSLProofsError
from ssl_proofs.graphfiles import read_graph
from ssl_proofs.graphs import check_graph, is_checked, view_graph
from ssl_proofs.linear import check_data
from ssl_proofs_cli import main
from ssl_proofs_verifiers import check_solver

ROOT = Path(__file__).resolve().parents[1]
#: examples per property in CI; FUZZ_EXAMPLES=2000 for a longer hunt
FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 60)), deadline=None,
                suppress_health_check=list(HealthCheck), database=None)
VICREG = ssl_proofs.get_method("vicreg")


# -- files ---------------------------------------------------------------------------------------

def _valid_files():
    """One small valid graph in every format (bytes), the seeds of the mutations."""
    G = view_graph(3, 2)
    out = {}
    for suffix in (".npy", ".npz", ".mtx", ".txt"):
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / f"g{suffix}"
            if suffix == ".npy":
                np.save(p, G)
            elif suffix == ".npz":
                sp.save_npz(p, sp.csr_matrix(G))
            elif suffix == ".mtx":
                scipy.io.mmwrite(str(p), sp.coo_matrix(G))
            else:
                p.write_text("# nodes: 6\n0 3\n1 4\n2 5\n")
            out[suffix] = p.read_bytes()
    buf = io.BytesIO()
    np.savez(buf, G)
    out[".npz (dense)"] = buf.getvalue()
    return out


VALID = _valid_files()

ids = st.one_of(st.integers(0, 8), st.sampled_from(["-1", "1e12", "1000000000000", "3000000000", "10000000",
                                                    "x", "1.5", "2,3", "18446744073709551616"]))
weights = st.sampled_from(["", "1", "0", "2.5", "-1", "nan", "inf", "-inf", "1e400", "abc", "1j"])
headers = st.sampled_from(["# nodes: 4", "# nodes: 0", "# nodes: -3", "# nodes: 3000000000",
                           "# nodes: 1000000000000", "# nodes: x", "#nodes=9", "% comment"])


@st.composite
def edge_list_text(draw):
    lines = draw(st.lists(st.one_of(headers, st.tuples(ids, ids, weights).map(lambda t: " ".join(map(str, t)).strip()),
                                    st.text(max_size=12)), max_size=8))
    return "\n".join(lines).encode("utf-8", "surrogatepass")


@st.composite
def mutated(draw):
    kind = draw(st.sampled_from(sorted(VALID)))
    data = bytearray(VALID[kind])
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "insert"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[i:]
        else:
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
    return kind.split()[0], bytes(data)


graph_files = st.one_of(
    st.tuples(st.sampled_from([".npy", ".npz", ".mtx", ".txt", ".mtx.gz"]), st.binary(max_size=400)),
    mutated(),
    st.tuples(st.just(".txt"), edge_list_text()),
    st.tuples(st.just(".mtx.gz"), edge_list_text().map(gzip.compress)),
)


def _run(argv):
    """``main(argv)`` in process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("error", np.exceptions.ComplexWarning)  # a complex part dropped silently
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _assert_refused(code, err, folder, before):
    assert code == 2, err
    assert err.startswith("ssl-proofs: error: ") and "Traceback" not in err and err.count("\n") == 1, err
    assert sorted(os.listdir(folder)) == before, "something was written"


@FUZZ
@given(graph_files)
def test_malformed_graph_files_through_solve(case):
    suffix, data = case
    with tempfile.TemporaryDirectory() as d:
        graph = Path(d) / f"g{suffix}"
        graph.write_bytes(data)
        before = sorted(os.listdir(d))
        code, out, err = _run(["solve", "vicreg", "--graph", str(graph), "-k", "1", "--out", str(Path(d) / "Z.npy")])
        if code == 0:  # a mutation can leave a valid graph: then the API must agree, and Z is written
            assert is_checked(read_graph(graph)) and (Path(d) / "Z.npy").exists()
        else:
            _assert_refused(code, err, d, before)


path_parts = st.sampled_from(["", ".", "adir", "afile", "new", "Z", "Z.npy", "Z.txt", "Z.NPY", " ", "a b.npy"])


@FUZZ
@given(st.lists(path_parts, min_size=1, max_size=3), st.booleans())
def test_output_paths_through_solve(parts, absolute):
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "adir").mkdir()
        (Path(d) / "afile").write_text("x")
        (Path(d) / "g.txt").write_text("0 1\n1 2\n")
        out = "/".join(parts).lstrip("/")  # relative: nothing lands outside the temporary folder
        out = f"{d}/{out}" if absolute and out else out
        before = sorted(str(p) for p in Path(d).rglob("*"))
        cwd = os.getcwd()
        os.chdir(d)
        try:
            code, printed, err = _run(["solve", "vicreg", "--graph", "g.txt", "-k", "1", "--out", out])
        finally:
            os.chdir(cwd)
        after = sorted(str(p) for p in Path(d).rglob("*"))
        if code == 0:  # exactly one new file, the one printed, ending in .npy
            (new,) = sorted(set(after) - set(before))
            written = printed.split(" to ", 1)[1].split(";", 1)[0]
            assert Path(d, written).resolve() == Path(new).resolve() and new.lower().endswith(".npy")
        else:
            assert code == 2 and err.startswith("ssl-proofs: error: --out") and after == before, err


bad_counts = st.one_of(st.integers(-5, 0), st.text(max_size=3), st.floats(), st.booleans(), st.just(2.0))


@FUZZ
@given(st.sampled_from(["examples", "starts", "seed"]), bad_counts)
def test_bad_run_options_through_the_api(name, value):
    if name == "seed" and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = -1  # every non-negative integer is a valid seed
    with pytest.raises(SSLProofsError, match=name):
        check_solver("vicreg", lambda G, k, **kw: np.zeros((G.shape[0], k)), **{name: value})


# -- arrays --------------------------------------------------------------------------------------

dtypes = st.sampled_from([np.float64, np.float32, np.int64, np.uint8, np.bool_, np.complex128, np.float16])
elements = st.floats(-3, 3) | st.sampled_from([0.0, 1.0, np.nan, np.inf, -np.inf, 1e308])


@st.composite
def arrays(draw, max_side=5):
    dtype = np.dtype(draw(dtypes))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=max_side))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # casting nan/inf to int while drawing is not under test
        values = np.asarray(draw(hnp.arrays(np.float64, shape, elements=elements)))
        arr = values.astype(dtype)
    if dtype.kind == "c" and arr.size:
        arr = arr + 1j * draw(st.sampled_from([0.0, 1e-3]))
    if draw(st.booleans()) and arr.ndim == 2 and arr.shape[0] == arr.shape[1]:
        with np.errstate(all="ignore"):
            arr = arr + arr.T  # symmetric often, to get past that check
    return arr


def _as_given(arr, how):
    if how == "sparse" and arr.ndim == 2 and arr.dtype != np.float16:  # scipy.sparse has no float16
        return sp.csr_matrix(arr)
    if how == "list":
        return arr.tolist()
    if how == "torch" and arr.dtype != np.uint8:
        return torch.as_tensor(arr)
    return arr


@FUZZ
@given(arrays(), st.sampled_from(["dense", "sparse", "list", "torch"]))
def test_malformed_graph_arrays_through_the_api(arr, how):
    with warnings.catch_warnings():
        warnings.simplefilter("error", np.exceptions.ComplexWarning)
        warnings.simplefilter("ignore", ssl_proofs.graphs.SelfLoopWarning)
        warnings.simplefilter("ignore", DeprecationWarning)  # torch's __array__ signature
        try:
            G = check_graph(_as_given(arr, how))
        except SSLProofsError:
            return
    D = G.toarray() if sp.issparse(G) else np.asarray(G)
    assert is_checked(G) and D.dtype == np.float64 and D.shape[0] == D.shape[1] >= 2
    assert np.all(np.isfinite(D)) and np.all(D >= 0) and np.array_equal(D, D.T) and not np.any(np.diag(D))
    assert np.any(D) and np.iscomplexobj(arr) is False


@FUZZ
@given(arrays(max_side=4), st.sampled_from(["numpy", "torch", "list"]))
def test_malformed_Z_through_loss(arr, how):
    G = view_graph(2, 2)
    Z = _as_given(arr, how if how != "numpy" else "dense")
    try:
        value = VICREG.loss(Z, G)
    except SSLProofsError:
        return
    value = float(value)
    seen = np.asarray(arr.tolist()) if how == "list" else arr  # a list of empty lists loses dimensions
    assert seen.ndim == 2 and seen.shape[0] == 4 and seen.shape[1] >= 1
    assert np.all(np.isfinite(arr)) and not np.iscomplexobj(arr)
    assert np.isfinite(value) or np.max(np.abs(arr)) > 1e100  # 1e308 squared overflows, honestly


@FUZZ
@given(arrays(max_side=4))
def test_malformed_X_through_check_data(arr):
    try:
        X = check_data(arr, 4)
    except SSLProofsError:
        return
    assert X.shape[0] == 4 and X.dtype == np.float64 and np.all(np.isfinite(X)) and not np.iscomplexobj(arr)


weird = st.one_of(st.none(), st.booleans(), st.integers(-10, 10), st.floats(), st.complex_numbers(),
                  st.text(max_size=3), st.just([1.0]), st.just(np.float64(0.5)), st.just(10 ** 400))


@FUZZ
@given(st.sampled_from(ssl_proofs.list_methods()), st.sampled_from(["alpha", "beta", "gamma", "tau", "ddof", "x"]),
       weird, weird)
def test_malformed_hyper_parameters_and_k_through_solve(method_name, name, value, k):
    m = ssl_proofs.get_method(method_name)
    G = view_graph(3, 2)
    try:
        sol = m.solve(G, k, **{name: value})
    except SSLProofsError:
        return
    # accepted: then k was a valid dimension and the value a real finite number of a known hyper-parameter
    assert isinstance(k, (int, np.integer)) and not isinstance(k, bool) and 1 <= k <= 5
    assert value is None or (name in m.defaults and np.isfinite(float(value)) and not isinstance(value, (bool, str)))
    assert np.all(np.isfinite(sol.Z)) and np.isfinite(sol.loss)


# -- subprocesses: no traceback, nothing written -----------------------------------------------------

@pytest.mark.parametrize("name, content", [
    ("g.txt", b"# nodes: 3000000000\n0 1\n"),  # was killed by the OOM killer after 48 s
    ("g.npy", bytes(range(256)) * 2),  # random bytes: numpy's allow_pickle advice must not surface
])
def test_subprocess_exits_2_without_traceback_and_writes_nothing(name, content, tmp_path):
    (tmp_path / name).write_bytes(content)
    proc = subprocess.run([sys.executable, "-m", "ssl_proofs_cli", "solve", "vicreg", "--graph", name, "-k", "1",
                           "--out", "Z.npy"], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("ssl-proofs: error: ") and "Traceback" not in proc.stderr
    assert "allow_pickle" not in proc.stderr and proc.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


# -- the named cases of issue 9 --------------------------------------------------------------------

def _solver(G, k, *, variant, **hp):
    return VICREG.solve(G, k, variant=variant, **hp).Z


def test_check_solver_on_a_method_without_closed_form_says_so():
    with pytest.raises(ssl_proofs.NoClosedForm, match="simclr has no variant with a closed-form optimum"):
        check_solver("simclr", _solver)


def test_a_solver_returning_nan_is_reported_as_nan():
    def nan_solver(G, k, **kw):
        return np.full((G.shape[0], k), np.nan)

    with pytest.raises(SolverFailed) as info:
        check_solver("vicreg", nan_solver, examples=2)
    msg = str(info.value)
    assert "nan_solver" in msg and "NaN" in msg and "shape" not in msg


def test_a_crashing_solver_is_reported_as_the_solvers_exception():
    def crashing_solver(G, k, **kw):
        raise ZeroDivisionError("planted in the user's solver")

    with pytest.raises(SolverFailed) as info:
        check_solver("vicreg", crashing_solver, examples=2)
    msg = str(info.value)
    assert "crashing_solver raised ZeroDivisionError: planted" in msg and "checker crashed" not in msg
    assert isinstance(info.value.__cause__, ZeroDivisionError)


@pytest.mark.parametrize("kwargs, words", [
    ({"claim": "no_such_claim"}, "claim='no_such_claim'"),
    ({"params": {"graphs": "no_such_family"}}, "unknown graph family"),
    ({"params": ["graphs"]}, "params must be a dict"),
])
def test_check_solver_options_are_checked_before_the_work(kwargs, words):
    with pytest.raises(SSLProofsError, match=words):
        check_solver("vicreg", _solver, **kwargs)


def test_loss_treats_torch_and_numpy_alike():
    G = view_graph(2, 2)
    Z = np.arange(4.0).reshape(4, 1)
    as_int = VICREG.loss(torch.arange(4).reshape(4, 1), G)  # int64 tensor: converted, as numpy ints are
    assert float(as_int) == VICREG.loss(Z.astype(np.int64), G) == VICREG.loss(Z, G)
    for bad in (Z * np.nan, Z + 1j):
        with pytest.raises(InvalidArgument) as from_numpy:
            VICREG.loss(bad, G)
        with pytest.raises(InvalidArgument) as from_torch:
            VICREG.loss(torch.as_tensor(bad), G)
        assert str(from_numpy.value) == str(from_torch.value)


def test_complex_inputs_are_refused_through_the_api():
    G = view_graph(2, 2)
    with pytest.raises(InvalidGraph, match="complex"):
        VICREG.solve(sp.csr_matrix(G.astype(complex)), 1)
    with pytest.raises(InvalidArgument, match="X has complex entries"):
        VICREG.solve_linear(np.ones((4, 2)) * (1 + 1j), G, 1)
