"""Reading and writing positive-pair graphs ``G`` from files.

Supported formats (chosen from the file suffix, or forced with ``format=``):

``npz``
    A sparse matrix saved by :func:`scipy.sparse.save_npz`, or a NumPy
    ``.npz`` archive holding exactly one dense array.
``mtx``
    Matrix Market (:func:`scipy.io.mmread`), coordinate or array, including
    the ``symmetric`` storage variant; ``.mtx.gz`` / ``.mtx.bz2`` too.
``npy``
    A dense array saved by :func:`numpy.save`.
``edgelist``
    Plain text, one edge per line: ``i j`` (weight 1) or ``i j w``, with
    0-based integer node ids separated by whitespace.  ``#`` starts a
    comment; an optional header line ``# nodes: N`` sets the number of nodes
    (otherwise ``N = max id + 1``).  Giving only one direction of a pair is
    enough (the graph is symmetrised); giving both with different weights is
    an error.  Suffixes ``.txt``, ``.edges``, ``.edgelist``, ``.el``.

The sizes a file *claims* (an edge-list header or node id, a ``.npy`` header, a sparse
``.npz`` shape, a Matrix Market size line) are checked against
:data:`ssl_proofs.graphs.MAX_NODES` / :data:`~ssl_proofs.graphs.MAX_DENSE_NODES` and against
the bytes actually stored *before* anything is allocated, so a small file cannot exhaust
the machine (docs/inputs.md).  Every graph read is validated by
:func:`ssl_proofs.graphs.check_graph` and returned checked.
Problems with the file itself raise :class:`~ssl_proofs.errors.GraphFileError`;
a well-formed file holding an invalid graph (asymmetric, negative, no edges,
...) raises :class:`~ssl_proofs.errors.InvalidGraph`.  Both name the file.
"""
from __future__ import annotations

import io
import math
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import scipy.io
import scipy.sparse as sp

from .errors import GraphFileError, InvalidArgument, InvalidGraph, SSLProofsError
from . import graphs as _graphs
from .graphs import check_graph, check_size

__all__ = ["FORMATS", "read_graph", "encode_graph", "edge_list_text", "npy_header"]

#: Suffix -> format name.  Checked longest-first so ``.mtx.gz`` wins over ``.gz``.
_SUFFIXES = {
    ".npz": "npz",
    ".npy": "npy",
    ".mtx": "mtx",
    ".mtx.gz": "mtx",
    ".mtx.bz2": "mtx",
    ".txt": "edgelist",
    ".edges": "edgelist",
    ".edgelist": "edgelist",
    ".el": "edgelist",
}

#: Format names accepted by ``format=``.
FORMATS = ("npz", "mtx", "npy", "edgelist")

_NODES_HEADER = re.compile(r"^\s*#\s*nodes\s*[:=]\s*(\S+)\s*$", re.IGNORECASE)


def _detect_format(path, fmt):
    if fmt is not None:
        if fmt not in FORMATS:
            raise GraphFileError(
                f"unknown graph file format {fmt!r}; pass format= one of {', '.join(FORMATS)}."
            )
        return fmt
    name = path.name.lower()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return _SUFFIXES[suffix]
    known = ", ".join(sorted(_SUFFIXES))
    raise GraphFileError(
        f"{path}: unknown graph file format (suffix {path.suffix or '(none)'!r}). "
        f"Use one of the suffixes {known}, or pass format= one of {', '.join(FORMATS)}."
    )


def read_graph(path, *, format=None, dense=None):  # noqa: A002 - mirrors numpy/scipy naming
    """Read a positive-pair graph from a file and validate it.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.
    format : {"npz", "mtx", "npy", "edgelist"}, optional
        Override the format inferred from the suffix.
    dense : bool, optional
        ``True``: always return a dense array; ``False``: always a CSR
        matrix; ``None`` (default): sparse formats (sparse ``.npz``, ``.mtx``
        coordinate, edge lists) give CSR, dense ones give an array.

    Returns
    -------
    G : ndarray or scipy.sparse.csr_matrix, shape (N, N)
        Float64, symmetric, non-negative, zero diagonal, at least one edge
        (the output of :func:`ssl_proofs.graphs.check_graph`).

    Raises
    ------
    GraphFileError
        The file is missing, of an unknown format, unreadable, or has a
        malformed line (the message gives the line number and content).
    InvalidGraph
        The file is well formed but the matrix is not a valid graph.

    Warns
    -----
    SelfLoopWarning
        The file contains self-loops ``i i``; they are dropped.

    Examples
    --------
    >>> G = read_graph("pairs.txt")            # doctest: +SKIP
    >>> G = read_graph("G.npz", dense=True)     # doctest: +SKIP
    """
    try:
        path = Path(os.fspath(path))
    except TypeError:
        raise GraphFileError(f"path={path!r} is not a file path; pass a str or pathlib.Path.") from None
    fmt = _detect_format(path, format)
    if not path.exists():
        raise GraphFileError(f"{path}: no such file. Check the path (relative paths start at {Path.cwd()}).")
    if path.is_dir():
        raise GraphFileError(f"{path} is a directory; pass the path of a graph file inside it.")
    reader = {"npz": _read_npz, "mtx": _read_mtx, "npy": _read_npy, "edgelist": _read_edge_list}[fmt]
    try:
        G = reader(path)  # every reader checks the sizes a file claims before allocating them
        if dense is True and sp.issparse(G):
            check_size(G.shape[0], dense=True)
            G = G.toarray()
        elif dense is False and not sp.issparse(G):
            G = sp.csr_matrix(G)
        return check_graph(G, name="G")  # copy=True: check_graph(copy=False) cannot change dtype under NumPy 2
    except InvalidGraph as exc:
        raise InvalidGraph(f"{path}: {exc}") from None


# -- readers ------------------------------------------------------------------

_NPY_MAGIC = b"\x93NUMPY"
_SAVE_NPZ = "scipy.sparse.save_npz(path, G) or np.savez(path, G)"


def _read_npz(path):
    # save_npz archives carry 'format' and 'shape' entries; anything else is
    # treated as a plain numpy archive that must hold exactly one dense array.
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as fh:
            if fh.read(len(_NPY_MAGIC)) == _NPY_MAGIC:
                return _read_npy(path)  # a .npy file under an .npz name: still one dense array
        raise GraphFileError(f"{path}: not a .npz archive (it is not a zip file). Write it with {_SAVE_NPZ}.")
    try:
        with zipfile.ZipFile(path) as zf:
            members = {name[:-4]: zf.getinfo(name) for name in zf.namelist() if name.endswith(".npy")}
            if "format" in members and "shape" in members:
                return _read_sparse_npz(path, zf, members)
            if len(members) != 1:
                raise GraphFileError(
                    f"{path}: a numpy .npz graph must hold exactly one array, found {len(members)} "
                    f"({', '.join(members) or 'none'}). Save G alone with {_SAVE_NPZ}."
                )
            (info,) = members.values()
            return _load_member(path, zf, info, graph=True)
    except Exception as exc:  # zipfile, zlib/bz2/lzma and numpy raise many kinds of error on a damaged archive
        if isinstance(exc, SSLProofsError):
            raise
        raise GraphFileError(
            f"{path}: the .npz archive is damaged ({type(exc).__name__}: {_plain(exc)}). Write it again "
            f"with {_SAVE_NPZ}."
        ) from None


def _read_sparse_npz(path, zf, members):
    shape = _load_member(path, zf, members["shape"], graph=False)
    if shape.shape != (2,) or shape.dtype.kind not in "iu":
        raise GraphFileError(f"{path}: the sparse archive's 'shape' entry is {shape!r}; write it with {_SAVE_NPZ}.")
    if shape[0] != shape[1]:
        raise InvalidGraph(f"G must be a square N x N matrix, got shape {tuple(int(x) for x in shape)}.")
    check_size(int(shape[0]), dense=False)
    for info in members.values():
        with zf.open(info) as fh:
            _load_header(path, fh, _member_bytes(info), graph=False)  # claimed sizes vs the bytes there
    return sp.csr_matrix(sp.load_npz(path))


def _read_npy(path):
    with open(path, "rb") as fh:
        _load_header(path, fh, path.stat().st_size, graph=True)
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise GraphFileError(f"{path}: the .npy data could not be read ({_plain(exc)}). Write it with np.save(path, G).") from None


def _member_bytes(info):
    """Most bytes a zip entry can really hold: its stated size, bounded by what its compressed size can expand to
    (the stated size alone is the archive's word, and a forged one would let a tiny file claim terabytes)."""
    if info.compress_type == zipfile.ZIP_STORED:
        return info.compress_size
    return min(info.file_size, info.compress_size * _MAX_EXPANSION.get(info.compress_type, _MAX_EXPANSION[".bz2"]))


def _load_member(path, zf, info, *, graph):
    with zf.open(info) as fh:
        _load_header(path, fh, _member_bytes(info), graph=graph)
    with zf.open(info) as fh:
        return np.lib.format.read_array(fh, allow_pickle=False)


def _load_header(path, fh, nbytes, *, graph):
    """Read a .npy header and refuse, before any allocation, what cannot be a graph.

    ``graph``: the array is G itself (square, real, within the dense limit); otherwise only
    its claimed size is compared with the ``nbytes`` actually stored.
    """
    where = f"{path}" if graph else f"{path} (entry {getattr(fh, 'name', '?')})"
    shape, dtype = npy_header(fh, nbytes, where)
    if not graph:
        return
    if dtype.kind == "c":
        raise InvalidGraph("G has complex entries; edge weights are real. Save G.real if the imaginary parts are rounding noise.")
    if dtype.kind not in "biuf":
        raise GraphFileError(f"{where}: the stored array has dtype {dtype}; a graph needs real numeric weights (bool, int or float).")
    if len(shape) != 2 or shape[0] != shape[1]:
        raise InvalidGraph(
            f"G must be a square N x N matrix, got shape {shape}. Save the adjacency matrix of the positive-pair graph."
        )
    check_size(shape[0], dense="input")


def npy_header(fh, nbytes, where):
    """``(shape, dtype)`` from the header of the .npy stream ``fh`` holding ``nbytes`` bytes, read before any data.

    Refuses (:class:`~ssl_proofs.errors.GraphFileError`, named ``where``) a stream that is not
    .npy, an object array (never loaded: unsafe), and a shape larger than the bytes stored
    (a truncated or forged file), so that loading it afterwards allocates no more than the file holds.
    """
    try:
        version = np.lib.format.read_magic(fh)
        read = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}[version]
        shape, _, dtype = read(fh)
    except Exception:  # numpy's header parser raises many kinds of error on garbage (tokenize, ast, ...)
        raise GraphFileError(
            f"{where}: not a NumPy .npy array (no valid .npy header). Write it with np.save(path, array), "
            "or use the suffix that matches the file's format."
        ) from None
    if dtype.hasobject:
        raise GraphFileError(
            f"{where}: the array holds Python objects (dtype {dtype}), which are never loaded (unsafe). "
            "Save a numeric array: np.save(path, np.asarray(a, dtype=float))."
        )
    size = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if size > nbytes:
        raise GraphFileError(
            f"{where}: the header claims shape {shape} ({size:,} bytes) but only {nbytes:,} bytes are stored; "
            "the file is truncated or damaged. Write it again."
        )
    return shape, dtype


def _plain(exc):
    """numpy's message without its ``allow_pickle=`` advice (objects are never loaded here)."""
    msg = str(exc)
    return "unreadable data" if "pickle" in msg else msg


#: an entry of a Matrix Market file takes at least this many bytes ("1 1\n" / "0\n")
_MTX_MIN_ENTRY_BYTES = {"coordinate": 4, "array": 2}
#: most a compressed stream can expand (deflate's limit is 1032:1; bzip2's is larger, so be generous),
#: by file suffix and by zip compression method
_MAX_EXPANSION = {".gz": 1032, ".bz2": 10_000, zipfile.ZIP_DEFLATED: 1032}


def _read_mtx(path):
    try:
        rows, cols, entries, layout, field, _ = scipy.io.mminfo(str(path))
    except Exception as exc:  # scipy's Matrix Market parser raises many kinds of error on garbage
        raise GraphFileError(
            f"{path}: not a valid Matrix Market file ({exc}). Write it with scipy.io.mmwrite(path, G)."
        ) from None
    if field == "complex":
        raise InvalidGraph("G has complex entries (Matrix Market field 'complex'); edge weights are real.")
    if rows != cols:
        raise InvalidGraph(f"G must be a square N x N matrix, got shape ({rows}, {cols}).")
    check_size(rows, dense="input" if layout == "array" else False)
    stored = path.stat().st_size * _MAX_EXPANSION.get(path.suffix.lower(), 1)
    if entries * _MTX_MIN_ENTRY_BYTES.get(layout, 4) > stored:
        raise GraphFileError(
            f"{path}: the header claims {entries:,} entries but the file is too small to hold them; "
            "it is truncated or its size line is wrong (decompress it first if it is compressed)."
        )
    try:
        M = scipy.io.mmread(str(path))
    except Exception as exc:  # scipy's Matrix Market parser raises many kinds of error on garbage
        raise GraphFileError(
            f"{path}: not a valid Matrix Market file ({exc}). Write it with scipy.io.mmwrite(path, G)."
        ) from None
    if sp.issparse(M):
        return sp.csr_matrix(M)
    return np.asarray(M)


def _read_edge_list(path):
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise GraphFileError(
            f"{path}: not a UTF-8 text file. Is it a binary format? Use the .npz/.npy/.mtx suffix "
            "that matches its contents, or pass format=."
        ) from None
    except OSError as exc:
        raise GraphFileError(f"{path}: could not be read ({exc}).") from None

    n_header = None
    weights = {}  # (i, j) as written -> (weight, line number)
    for lineno, raw in enumerate(text.splitlines(), start=1):
        m = _NODES_HEADER.match(raw)
        if m:
            n_header = _parse_header(m.group(1), path, lineno, raw)
            continue
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        i, j, w = _parse_edge(line, path, lineno, raw)
        if (i, j) in weights and weights[i, j][0] != w:
            prev_w, prev_line = weights[i, j]
            raise GraphFileError(
                f"{path}, line {lineno}: edge {i}-{j} has weight {w:g} but line {prev_line} gave {prev_w:g}. "
                "Keep one line per edge."
            )
        weights[i, j] = (w, lineno)

    if not weights:
        raise GraphFileError(
            f"{path}: contains no edges. Write one edge per line as 'i j' or 'i j weight' "
            "(0-based node ids)."
        )
    # A pair written in both directions must agree (symmetry is the point of G).
    for (i, j), (w, lineno) in weights.items():
        back = weights.get((j, i))
        if back is not None and back[0] != w:
            raise GraphFileError(
                f"{path}, line {lineno}: edge {i}-{j} has weight {w:g} but the reverse edge {j}-{i} on "
                f"line {back[1]} has weight {back[0]:g}. Positive pairs are mutual: give one direction "
                "or equal weights."
            )
    max_id = max(max(i, j) for i, j in weights)
    if n_header is None and max_id >= _graphs.MAX_NODES:
        # the ids, not the edges, set N: say how many nodes the edges really touch
        bad_line = next(ln for (i, j), (_, ln) in weights.items() if max(i, j) == max_id)
        touched = len({v for e in weights for v in e})
        raise GraphFileError(
            f"{path}, line {bad_line}: node id {max_id:,} makes N = {max_id + 1:,} nodes, above the limit of "
            f"{_graphs.MAX_NODES:,} (ssl_proofs.graphs.MAX_NODES), while the {len(weights):,} edge(s) touch only "
            f"{touched:,} distinct node(s). Renumber the nodes 0 .. N-1 (e.g. np.unique(ids, return_inverse=True))."
        )
    if n_header is None:
        n = max_id + 1
    elif max_id >= n_header:
        bad_line = next(ln for (i, j), (_, ln) in weights.items() if max(i, j) == max_id)
        raise GraphFileError(
            f"{path}, line {bad_line}: node id {max_id} is out of range for the header '# nodes: {n_header}' "
            f"(ids must be 0 .. {n_header - 1}). Raise N in the header or fix the id."
        )
    else:
        n = n_header

    rows, cols, vals = [], [], []
    for (i, j), (w, _) in weights.items():
        if w == 0 or ((j, i) in weights and j < i):
            continue  # zero = "no pair"; a mirrored pair is added once, below
        rows += [i, j] if i != j else [i]
        cols += [j, i] if i != j else [i]
        vals += [w, w] if i != j else [w]
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, n), dtype=np.float64)


def _parse_header(value, path, lineno, raw):
    try:
        n = int(value)
    except ValueError:
        n = -1
    if n < 0:
        raise GraphFileError(
            f"{path}, line {lineno}: bad header {raw.strip()!r}; write '# nodes: N' with N a non-negative integer."
        )
    if n > _graphs.MAX_NODES:
        raise GraphFileError(
            f"{path}, line {lineno}: the header '# nodes: {n}' asks for more than the limit of {_graphs.MAX_NODES:,} nodes "
            "(ssl_proofs.graphs.MAX_NODES). Give the number of nodes the edges use (ids 0 .. N-1), or drop the "
            "header to take N = largest id + 1."
        )
    return n


def _parse_edge(line, path, lineno, raw):
    fields = line.split()
    where = f"{path}, line {lineno}: {raw.strip()!r}"
    if len(fields) not in (2, 3):
        raise GraphFileError(
            f"{where} has {len(fields)} field(s); expected 'i j' or 'i j weight' separated by whitespace "
            "(commas are not separators)."
        )
    ids = []
    for tok in fields[:2]:
        try:
            ids.append(int(tok))
        except ValueError:
            raise GraphFileError(f"{where}: node id {tok!r} is not an integer; node ids are 0-based integers.") from None
    if min(ids) < 0:
        raise GraphFileError(f"{where}: negative node id {min(ids)}; node ids are 0-based (0, 1, 2, ...).")
    w = 1.0
    if len(fields) == 3:
        try:
            w = float(fields[2])
        except ValueError:
            raise GraphFileError(f"{where}: weight {fields[2]!r} is not a number.") from None
        if math.isnan(w) or math.isinf(w):
            raise GraphFileError(f"{where}: weight {fields[2]} is not finite; use a finite weight, or 0 for no pair.")
        if w < 0:
            raise GraphFileError(
                f"{where}: negative weight {w:g}; positive-pair graphs are non-negative "
                "(drop the line, or use 0, for 'not a pair')."
            )
    return ids[0], ids[1], w


# -- encoders (the bytes of a graph file; ssl_proofs_cli.io.write_graph writes them, atomically) -----

def edge_list_text(G, *, header=True):
    """``G`` as the text of a whitespace edge list readable by :func:`read_graph`.

    Each undirected edge is written once, as ``i j`` (unit weight) or
    ``i j w`` with ``w`` in ``repr`` precision so that reading it back gives
    the same float64 weights.

    Parameters
    ----------
    G : array_like or scipy.sparse matrix, shape (N, N)
        A valid graph (it is checked with :func:`~ssl_proofs.graphs.check_graph`).
    header : bool
        Begin with a ``# nodes: N`` line, so trailing isolated nodes survive the
        round trip.

    Returns
    -------
    str
    """
    G = check_graph(G)
    M = sp.triu(sp.csr_matrix(G), k=1).tocoo()
    order = np.lexsort((M.col, M.row))
    lines = [f"# nodes: {G.shape[0]}"] if header else []
    for r, c, w in zip(M.row[order], M.col[order], M.data[order]):
        lines.append(f"{r} {c}" if w == 1 else f"{r} {c} {float(w)!r}")
    return "\n".join(lines) + "\n"


def encode_graph(G, path, *, format=None):  # noqa: A002
    """The bytes of ``G`` in the format given by ``path``'s suffix (or ``format``).

    Sparse ``.npz`` (:func:`scipy.sparse.save_npz`), ``.mtx`` (:func:`scipy.io.mmwrite`,
    symmetric storage), dense ``.npy``, or an edge list (:func:`edge_list_text`);
    :func:`read_graph` reads every one back.  Nothing is written: the theory package
    opens no file for writing (``ssl_proofs_cli.io.write_graph`` saves these bytes).

    Parameters
    ----------
    G : array_like or scipy.sparse matrix, shape (N, N)
    path : str or os.PathLike
        Only its name is used (the suffix picks the format).
    format : {"npz", "mtx", "npy", "edgelist"}, optional

    Returns
    -------
    bytes
    """
    path = Path(os.fspath(path))
    fmt = _detect_format(path, format)
    G = check_graph(G)
    if fmt == "edgelist":
        return edge_list_text(G).encode("utf-8")
    buf = io.BytesIO()
    if fmt == "npz":
        sp.save_npz(buf, sp.csr_matrix(G))
    elif fmt == "mtx":
        if path.name.lower().endswith((".gz", ".bz2")):
            raise InvalidArgument(f"{path}: write an uncompressed .mtx file and compress it afterwards.")
        scipy.io.mmwrite(buf, sp.coo_matrix(G), symmetry="symmetric")
    else:
        np.save(buf, G.toarray() if sp.issparse(G) else np.asarray(G))
    return buf.getvalue()
