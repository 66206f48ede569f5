"""Fuzz every reader of a user's file: forged graph and array files through the CLI and the API (issue 18).

    nice -n 10 python -m benchmarks.fuzz_inputs [--budget SECONDS] [--cases N] [--seed S]
        [--memory 3G] [--timeout 60] [--case I] [--verbose]

Each case is a file built *structure-aware*: a valid container (a sparse or dense ``.npz``, a ``.npy``,
a Matrix Market file, plain or ``.gz``/``.bz2``, an edge list, a FIFO, a device, a directory) with hostile
contents (indices out of range, a decreasing ``indptr``, float16 or complex values, size lines that lie,
conflicting duplicates, comment lines of megabytes, Unicode digits, weights that underflow, NaN, 1e308,
decompression bombs...).  Every case is run through the readers that take it:
``ssl-proofs solve`` / ``plot`` / ``diagnose`` (``--graph``, ``--embeddings``, ``--data``),
``read_graph``, ``check_graph`` on a sparse matrix built by hand from the file's arrays, and
``Method.loss`` on an array, in a child process under a memory cap (``RLIMIT_AS``, ``--memory``) with
``SSL_PROOFS_MAX_MEMORY`` at a third of it, and a per-case timeout.

Each outcome is one of: ``ok`` (exit 0 or 2, the project's one-line error), ``crash`` (the child died
of a signal: a segfault, an abort), ``hang`` (no answer within ``--timeout`` seconds), ``traceback``
(a traceback on stderr, exit 3 "a bug of ssl-proofs", or an exception that is not the project's
through the API), ``oom`` (a MemoryError: an allocation the estimates did not foresee).
The summary line counts them; the exit status is 1 when any is not ``ok``.  A failing case is
reproduced with ``--seed S --case I --verbose``.

Run JSON files (``report --from-json``, ``--claims-json``) are fuzzed by their owner's target; to add
another reader, add a generator to :data:`GENERATORS` and the commands that read it to :func:`_targets`.
"""
from __future__ import annotations

import argparse
import bz2
import contextlib
import gzip
import io
import json
import os
import random
import resource
import select
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

from ssl_proofs_cli.io import save_array, save_bytes, save_json, save_text

ROOT = Path(__file__).resolve().parents[1]
OUTCOMES = ("ok", "crash", "hang", "traceback", "oom")


# -- generators: (suffix, bytes) or a special file ---------------------------------------------------

def _graph(rng, n=None):
    """A small valid symmetric graph (dense float64) to start from."""
    n = n or rng.randint(2, 7)
    A = np.zeros((n, n))
    for _ in range(rng.randint(1, 2 * n)):
        i, j = rng.randrange(n), rng.randrange(n)
        if i != j:
            A[i, j] = A[j, i] = rng.choice([1.0, 2.5, 0.5])
    if not A.any():
        A[0, 1] = A[1, 0] = 1.0
    return A


def _npy_bytes(arr):
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _npy_header(shape, descr="<f8"):
    """A well-formed .npy header claiming ``shape`` (written by numpy itself, whatever the shape)."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def _zip(members, rng):
    """An .npz archive of ``members`` (name -> .npy bytes), each with a random compression method."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            method = rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
            zf.writestr(name + ".npy", data, compress_type=method)
    return buf.getvalue()


HOSTILE_INDEX = [-1, -2 ** 31, 2 ** 31 - 1, 2 ** 63 - 1, 7, 100, 10 ** 6]
HOSTILE_VALUES = [np.nan, np.inf, -np.inf, -1.0, 1e308, 1.7e308, 1e-320, 5e-324, 0.0, 1e300, -0.0]


def gen_sparse_npz(rng):
    """scipy.sparse.save_npz layout with forged arrays: the memory-unsafe class."""
    import scipy.sparse as sp

    A = _graph(rng)
    fmt = rng.choice(["csr", "csr", "csc", "coo", "bsr", "dia"])
    M = {"csr": sp.csr_matrix, "csc": sp.csc_matrix, "coo": sp.coo_matrix, "bsr": sp.bsr_matrix,
         "dia": sp.dia_matrix}[fmt](A)
    arrays = {"format": np.array(fmt), "shape": np.array(A.shape)}
    if fmt in ("csr", "csc", "bsr"):
        arrays.update(data=M.data, indices=M.indices, indptr=M.indptr)
    elif fmt == "coo":
        arrays.update(data=M.data, row=M.row, col=M.col)
    else:
        arrays.update(data=M.data, offsets=M.offsets)
    for _ in range(rng.randint(1, 3)):
        name = rng.choice(sorted(arrays))
        a = np.array(arrays[name]).reshape(-1) if name != "format" else np.array(arrays[name])
        op = rng.choice(["index", "index", "dtype", "reverse", "truncate", "extend", "value", "drop", "shape"])
        if op == "index" and a.size and a.dtype.kind in "iu" and name != "shape":
            a = a.astype(np.int64)
            a.flat[rng.randrange(a.size)] = rng.choice(HOSTILE_INDEX)
            a = a.astype(rng.choice([np.int32, np.int64, np.uint64, np.int16])) if rng.random() < 0.5 else a
        elif op == "dtype" and name != "format":
            with np.errstate(all="ignore"):
                a = a.astype(rng.choice([np.float16, np.complex128, np.bool_, np.float32, np.int8, np.uint64,
                                         np.float64, np.str_]))
        elif op == "reverse" and a.ndim:
            a = a[::-1].copy()
        elif op == "truncate" and a.ndim and a.size:
            a = a[: rng.randrange(a.size)]
        elif op == "extend":
            a = np.concatenate([a.ravel(), a.ravel()[:1]]) if a.size else a
        elif op == "value" and name == "data" and a.size:
            a = a.astype(np.float64)
            a.flat[rng.randrange(a.size)] = rng.choice(HOSTILE_VALUES)
        elif op == "drop" and name != "format":
            del arrays[name]
            continue
        elif op == "shape":
            a = np.array(rng.choice([(3, 3), (10 ** 7, 10 ** 7), (2 ** 40, 2 ** 40), (5, 4), (0, 0), (1, 1), (3,)]))
        arrays[name] = a
    if rng.random() < 0.1:
        arrays["format"] = np.array(rng.choice(["lil", "xyz", "", "csr\x00"]))
    return ".npz", _zip({k: _npy_bytes(v) for k, v in arrays.items()}, rng)


def gen_dense(rng):
    """A dense .npy / one-array .npz with hostile values, dtypes, shapes and headers."""
    A = _graph(rng)
    op = rng.choice(["values", "dtype", "shape", "asym", "bomb", "header", "fortran", "big"])
    with np.errstate(all="ignore"):
        if op == "values":
            A.flat[rng.randrange(A.size)] = rng.choice(HOSTILE_VALUES)
        elif op == "dtype":
            A = A.astype(rng.choice([np.float16, np.complex64, np.int8, np.uint8, np.bool_, np.longdouble,
                                     np.float32, np.int64]))
        elif op == "shape":
            A = np.ones(rng.choice([(0,), (0, 0), (1, 1), (3, 4), (2, 2, 2), (4,), ()]))
        elif op == "asym":
            A[0, 1] += 1.0
        elif op == "big":
            A = A * rng.choice([1e300, 1e307, 1.7e308, 1e-320, 1e-300])
        elif op == "fortran":
            A = np.asfortranarray(A)
    if op == "bomb":  # a compressed array of zeros that claims gigabytes
        n = rng.choice([4_096, 16_384, 20_000, 40_000])
        data = _npy_header((n, n))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=rng.choice([zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2])) as zf:
            with zf.open("arr_0.npy", "w", force_zip64=True) as fh:  # in memory, not a file
                fh.write(data)
                chunk = bytes(2 ** 20)
                for _ in range(rng.choice([4, 64, 256])):
                    fh.write(chunk)
        return ".npz", buf.getvalue()
    data = _npy_bytes(A)
    if op == "header":  # a header that lies about the shape, over the real data
        shape = rng.choice([(100_000, 100_000), (3, 3, 3), (2 ** 40, 2), (1, 1), (4, 4), (0, 0)])
        data = _npy_header(shape, rng.choice(["<f8", "<f2", "<c16", "|b1", ">f8"])) + A.astype(np.float64).tobytes()
    if rng.random() < 0.5:
        return ".npy", data
    return ".npz", _zip({rng.choice(["arr_0", "G", "x"]): data}, rng)


def _mtx_text(rng):
    n = rng.randint(2, 6)
    layout = rng.choice(["coordinate", "coordinate", "array"])
    field = rng.choice(["real", "real", "integer", "pattern", "complex", "double"])
    symmetry = rng.choice(["general", "symmetric", "skew-symmetric", "hermitian"])
    lines = [f"%%MatrixMarket matrix {layout} {field} {symmetry}"]
    for _ in range(rng.randint(0, 2)):
        lines.append("%" + "x" * rng.choice([0, 10, 4 * 2 ** 20]))  # megabytes of comment: a bound is needed
    entries = []
    if layout == "coordinate":
        for _ in range(rng.randint(1, 8)):
            i, j = rng.randint(1, n), rng.randint(1, n)
            if symmetry != "general" and i < j:
                i, j = j, i
            v = "" if field == "pattern" else rng.choice(["1", "2.5", "1e-400", "-1", "nan", "inf", "1e308",
                                                          "1_0", "\uff11", "0", "99999999999999999999999"])
            entries.append(f"{rng.choice([i, i, 0, n + 1, -1])} {j} {v}".strip())
        if entries and rng.random() < 0.4:
            a = entries[0].split()
            entries.append(" ".join(a[:2] + [rng.choice(["3", a[2] if len(a) > 2 else "1"])]))  # duplicate
        claimed = rng.choice([len(entries), len(entries), len(entries) + 1, 10 ** 9, 0])
        lines.append(f"{n} {rng.choice([n, n, n + 1])} {claimed}")
    else:
        claimed_n = rng.choice([n, n, 100_000, 0])
        lines.append(f"{claimed_n} {claimed_n}")
        entries = [rng.choice(["0", "1", "2", "nan", "-1", "1e308"]) for _ in range(n * n)]
    return "\n".join(lines + entries) + "\n"


def gen_mtx(rng):
    text = _mtx_text(rng).encode()
    codec = rng.choice(["", ".gz", ".bz2"])
    if codec == ".gz":
        return ".mtx.gz", gzip.compress(text)
    if codec == ".bz2":
        return ".mtx.bz2", bz2.compress(text)
    if len(text) > 2 ** 20:  # plain megabyte comments are a big file on disk, not a bomb: keep the run light
        text = text[:2 ** 16]
    return ".mtx", text


ID_TOKENS = ["0", "1", "2", "3", "7", "-1", "1_0", "\uff11", "\u0661", "\u00b2", "1.0", "0x1", "+1", "1e3", "٣",
             "9" * 30, "10000000", "3000000000", " ", "01"]
WEIGHT_TOKENS = ["", "1", "0", "2.5", "1e-400", "-1e-400", "1e400", "nan", "inf", "-1", "1_0", "\uff12", "0x1p3",
                 "1e-320", "1e308", ".5", "5.", "+2", "1,5", "infinity", "1e", "e5", "4.9e-324"]
HEADERS = ["# nodes: 4", "# nodes: 0", "# nodes: \uff14", "# nodes: 1_0", "# nodes: 3000000000", "#nodes=9",
           "# nodes: -1", "% comment", "# just a comment", "\ufeff0 1"]


def gen_edge_list(rng):
    lines = []
    for _ in range(rng.randint(1, 8)):
        r = rng.random()
        if r < 0.15:
            lines.append(rng.choice(HEADERS))
        elif r < 0.2:
            lines.append("0 1 " + "#" * rng.choice([10, 10 ** 5]))
        else:
            lines.append(" ".join(t for t in (rng.choice(ID_TOKENS), rng.choice(ID_TOKENS),
                                              rng.choice(WEIGHT_TOKENS)) if t))
    sep = rng.choice(["\n", "\r\n", "\n\n"])
    data = sep.join(lines).encode("utf-8")
    if rng.random() < 0.1:
        data = rng.choice([data.decode().encode("utf-16"), data + b"\x00\xff", b"\xff\xfe" + data])
    return rng.choice([".txt", ".edges", ".el"]), data


def gen_array(rng):
    """An array for --embeddings / --data and Method.loss."""
    n = 6
    op = rng.choice(["ok", "complex", "huge", "nan", "shape", "dtype", "object", "claims"])
    Z = np.random.default_rng(rng.randrange(2 ** 32)).standard_normal((n, rng.randint(1, 3)))
    with np.errstate(all="ignore"):
        if op == "complex":
            Z = Z + 1j * rng.choice([1.0, 1e-3])
        elif op == "huge":
            Z = Z * rng.choice([1e150, 1e200, 1e300, 1e307])
        elif op == "nan":
            Z.flat[0] = rng.choice([np.nan, np.inf])
        elif op == "shape":
            Z = np.ones(rng.choice([(n,), (n, 0), (n - 1, 2), (n, 2, 2), ()]))
        elif op == "dtype":
            Z = Z.astype(rng.choice([np.float16, np.int8, np.bool_, np.longdouble, np.complex64]))
    if op == "object":
        return ".npy", _npy_bytes(np.zeros((n, 2))).replace(b"'<f8'", b"'|O'", 1)
    data = _npy_bytes(Z)
    if op == "claims":
        data = _npy_header((6, 100_000_000)) + np.asarray(Z, dtype=np.float64).tobytes()
    return ".npy", data


def gen_special(rng):
    """Not a regular file: a FIFO, a device, a directory, a socket, a symlink to a device."""
    return rng.choice([".fifo", ".dir", ".sock", "/dev/zero", "/dev/urandom", "/dev/null", ".devlink"]), None


GENERATORS = {"sparse_npz": (gen_sparse_npz, 5), "dense": (gen_dense, 3), "mtx": (gen_mtx, 4),
              "edge_list": (gen_edge_list, 4), "array": (gen_array, 2), "special": (gen_special, 1)}


def make_case(seed, index, folder):
    """Write case ``index`` of run ``seed`` under ``folder``; return (kind, path)."""
    rng = random.Random(f"{seed}:{index}")
    names = sorted(GENERATORS)
    kind = rng.choices(names, weights=[GENERATORS[k][1] for k in names])[0]
    suffix, data = GENERATORS[kind][0](rng)
    if data is None:  # special files
        if suffix.startswith("/dev/"):
            return kind, suffix
        path = Path(folder) / f"g{rng.choice(['.npz', '.mtx', '.txt', '.npy'])}"
        if suffix == ".fifo":
            os.mkfifo(path)
        elif suffix == ".dir":
            path.mkdir()
        elif suffix == ".sock":
            s = socket.socket(socket.AF_UNIX)
            s.bind(str(path))
            s.close()
        else:
            path.symlink_to("/dev/zero")
        return kind, str(path)
    path = Path(folder) / f"g{suffix}"
    save_bytes(path, data)
    return kind, str(path)


def _targets(kind, path, folder):
    """The readers of a case: CLI argv lists and API calls (as JSON-able requests)."""
    G = str(Path(folder) / "ok.txt")
    Z = str(Path(folder) / "ok.npy")
    out = str(Path(folder) / "out.npy")
    if kind == "array":
        return [{"argv": ["diagnose", "--embeddings", path, "--graph", G]},
                {"argv": ["solve", "vicreg", "--graph", G, "-k", "1", "--linear", "--data", path, "--out", out]},
                {"api": "loss", "path": path, "graph": G}]
    reqs = [{"argv": ["solve", "vicreg", "--graph", path, "-k", "1", "--out", out]},
            {"api": "read_graph", "path": path}]
    if kind == "sparse_npz":
        reqs.append({"api": "check_sparse", "path": path})
    if kind == "special":
        reqs += [{"argv": ["diagnose", "--embeddings", path, "--graph", G]},
                 {"argv": ["solve", "vicreg", "--graph", G, "-k", "1", "--linear", "--data", path, "--out", out]}]
    if random.Random(path).random() < 0.15:
        reqs.append({"argv": ["plot", "vicreg", "--graph", path, "-k", "1", "--out", str(Path(folder) / "f.png")]})
    if random.Random(path + "d").random() < 0.15:
        reqs.append({"argv": ["diagnose", "--embeddings", Z, "--graph", path]})
    return reqs


def _seed_files(folder):
    save_text(Path(folder) / "ok.txt", "0 1\n1 2\n2 3\n3 4\n4 5\n5 0\n")
    save_array(Path(folder) / "ok.npy", np.random.default_rng(0).standard_normal((6, 1)))


# -- the child: runs requests in process, answers on its own pipe -------------------------------------

def _child():
    import warnings

    import scipy.sparse as sp

    import ssl_proofs
    from ssl_proofs.errors import SSLProofsError
    from ssl_proofs.graphfiles import read_graph
    from ssl_proofs.graphs import check_graph
    from ssl_proofs_cli import main
    from ssl_proofs_cli.io import load_array

    proto = os.fdopen(os.dup(1), "w")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    vicreg = ssl_proofs.get_method("vicreg")

    def api(req):
        if req["api"] == "read_graph":
            read_graph(req["path"])
        elif req["api"] == "loss":
            vicreg.loss(load_array(req["path"], "Z"), read_graph(req["graph"]))
        else:  # a sparse matrix built by hand from the file's arrays, as a user of the API could
            with np.load(req["path"], allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            try:
                M = sp.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=tuple(arrays["shape"]))
            except Exception:  # scipy's own constructor refused: not our boundary
                return 0
            check_graph(M)
        return 0

    proto.write("ready\n")
    proto.flush()
    for line in sys.stdin:
        req = json.loads(line)
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                if "argv" in req:
                    code = main(req["argv"])
                else:
                    code = api(req)
            except SystemExit as exc:  # argparse
                code = exc.code if isinstance(exc.code, int) else 2
            except SSLProofsError as exc:
                code, _ = 2, print(f"ssl-proofs: error: {exc}", file=sys.stderr)
            except MemoryError:
                code, _ = 4, print("MemoryError", file=sys.stderr)
            except BaseException:  # noqa: BLE001 - anything else is what the fuzz hunts
                import traceback
                traceback.print_exc()
                code = 3
        proto.write(json.dumps({"code": code, "stderr": err.getvalue()[-3000:]}) + "\n")
        proto.flush()


# -- the parent ------------------------------------------------------------------------------------------

class Child:
    """A child process running requests under a memory cap; restarted after a crash or a hang."""

    def __init__(self, memory, timeout, code=ROOT):
        self.memory, self.timeout, self.code, self.proc = memory, timeout, Path(code), None

    def _limit(self):
        resource.setrlimit(resource.RLIMIT_AS, (self.memory, self.memory))
        os.nice(5)

    def start(self):
        env = {**os.environ, "PYTHONPATH": str(self.code), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "SSL_PROOFS_MAX_MEMORY": str(self.memory // 3)}
        # run as a script from the code under test, so that its ssl_proofs is the one imported (--code)
        self.proc = subprocess.Popen([sys.executable, __file__, "--child"], cwd=self.code, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, preexec_fn=self._limit)
        if self._readline(300) != "ready":
            raise RuntimeError("the fuzz child did not start")

    def _readline(self, timeout):
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return None
        return self.proc.stdout.readline().strip()

    def run(self, req):
        """(outcome, detail) of one request."""
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        try:
            self.proc.stdin.write(json.dumps(req) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        line = self._readline(self.timeout)
        if line is None:
            self.kill()
            return "hang", f"no answer within {self.timeout} s"
        if not line:
            code = self.proc.wait()
            self.proc = None
            return "crash", f"the child died (status {code}{', signal ' + str(-code) if code < 0 else ''})"
        answer = json.loads(line)
        code, err = answer["code"], answer["stderr"]
        if code == 4 or "out of memory" in err:
            return "oom", err
        if code == 3 or "Traceback" in err or code not in (0, 2):
            return "traceback", err
        return "ok", err

    def kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def fuzz(*, budget=None, cases=None, seed=0, memory=3 * 2 ** 30, timeout=60.0, only=None, verbose=False,
         progress=True, code=ROOT):
    """Run the cases; return (counts, failures) with counts by outcome, cases and requests included."""
    counts = dict.fromkeys(OUTCOMES, 0)
    counts.update(cases=0, requests=0)
    failures = []
    child = Child(memory, timeout, code)
    start = time.monotonic()
    index = only if only is not None else 0
    try:
        while True:
            if only is not None and counts["cases"] == 1:
                break
            if cases is not None and counts["cases"] >= cases:
                break
            if budget is not None and time.monotonic() - start >= budget:
                break
            with tempfile.TemporaryDirectory(prefix="fuzz-inputs-") as folder:
                _seed_files(folder)
                kind, path = make_case(seed, index, folder)
                for req in _targets(kind, path, folder):
                    outcome, detail = child.run(req)
                    counts[outcome] += 1
                    counts["requests"] += 1
                    if outcome != "ok":
                        failures.append({"case": index, "kind": kind, "request": req, "outcome": outcome,
                                         "detail": detail[-1500:]})
                    if verbose:
                        print(f"case {index} {kind} {req.get('argv', req.get('api'))}: {outcome}\n{detail}")
            counts["cases"] += 1
            index += 1
            if progress and sys.stderr.isatty():
                bad = sum(counts[o] for o in OUTCOMES[1:])
                print(f"\rfuzz: {counts['cases']} cases, {counts['requests']} runs, {bad} failures, "
                      f"{time.monotonic() - start:.0f} s", end="", file=sys.stderr, flush=True)
    finally:
        child.kill()
        if progress and sys.stderr.isatty():
            print(file=sys.stderr)
    counts["seconds"] = round(time.monotonic() - start, 1)
    return counts, failures


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--budget", type=float, default=60.0, help="seconds of fuzzing (default 60)")
    p.add_argument("--cases", type=int, default=None, help="stop after this many cases")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--case", type=int, default=None, help="run only case I of --seed (to reproduce a failure)")
    p.add_argument("--memory", default="3G", help="address-space cap of the child (RLIMIT_AS), e.g. 3G")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds one run may take before it counts as a hang")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--json", default=None, help="write the counts and failures here")
    p.add_argument("--code", default=str(ROOT), help="the checkout whose ssl_proofs is fuzzed (default: this one; "
                                                     "another to compare, e.g. a worktree of an old commit)")
    args = p.parse_args(argv)
    if args.child:
        _child()
        return 0
    from ssl_proofs.limits import parse_bytes
    memory = parse_bytes(args.memory)
    if not memory:
        p.error(f"--memory {args.memory!r}: give bytes, e.g. 3G")
    counts, failures = fuzz(budget=None if args.case is not None else args.budget, cases=args.cases,
                            seed=args.seed, memory=memory, timeout=args.timeout, only=args.case, verbose=args.verbose,
                            code=args.code)
    for f in failures[:20]:
        print(f"FAIL case {f['case']} ({f['kind']}) {f['outcome']}: {f['request']}\n  {f['detail'][-600:]}")
    print("fuzz_inputs: " + ", ".join(f"{k} {v}" for k, v in counts.items())
          + f"; seed {args.seed}, memory cap {args.memory}, timeout {args.timeout:g} s, load {os.getloadavg()[0]:.1f}")
    if args.json:
        save_json(args.json, {"counts": counts, "failures": failures})
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
