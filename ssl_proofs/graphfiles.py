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

Every graph read is validated by :func:`ssl_proofs.graphs.check_graph`.
Problems with the file itself raise :class:`~ssl_proofs.errors.GraphFileError`;
a well-formed file holding an invalid graph (asymmetric, negative, no edges,
...) raises :class:`~ssl_proofs.errors.InvalidGraph`.  Both name the file.
"""
from __future__ import annotations

import math
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import scipy.io
import scipy.sparse as sp

from .errors import GraphFileError, InvalidArgument, InvalidGraph
from .graphs import check_graph

__all__ = ["FORMATS", "read_graph", "write_graph", "write_edge_list"]

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
    G = reader(path)
    try:
        G = check_graph(G, name="G")  # copy=True: check_graph(copy=False) cannot change dtype under NumPy 2
    except InvalidGraph as exc:
        raise InvalidGraph(f"{path}: {exc}") from None
    if dense is True and sp.issparse(G):
        G = G.toarray()
    elif dense is False and not sp.issparse(G):
        G = sp.csr_matrix(G)
    return G


# -- readers ------------------------------------------------------------------

def _read_npz(path):
    # save_npz archives carry 'format' and 'shape' entries; anything else is
    # treated as a plain numpy archive that must hold exactly one dense array.
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise GraphFileError(
            f"{path}: not a readable .npz archive ({exc}). Write it with scipy.sparse.save_npz(path, G) "
            "or np.savez(path, G)."
        ) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        # a .npy file under an .npz name: still one dense array, so accept it
        return _numeric(archive, path)
    with archive:
        keys = list(archive.files)
        try:
            if "format" in keys and "shape" in keys:
                return sp.load_npz(path).tocsr()
            if len(keys) != 1:
                raise GraphFileError(
                    f"{path}: a numpy .npz graph must hold exactly one array, found {len(keys)} "
                    f"({', '.join(keys) or 'none'}). Save G alone with np.savez(path, G) or "
                    "scipy.sparse.save_npz(path, G)."
                )
            return _numeric(archive[keys[0]], path)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
            raise GraphFileError(
                f"{path}: the .npz archive could not be decoded ({exc}). Write it with "
                "scipy.sparse.save_npz(path, G) or np.savez(path, G)."
            ) from None


def _read_npy(path):
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise GraphFileError(
            f"{path}: not a readable .npy array ({exc}). Write it with np.save(path, G) "
            "using a numeric dtype (object arrays are not loaded, for safety)."
        ) from None
    return _numeric(arr, path)


def _numeric(arr, path):
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biuf":
        raise GraphFileError(
            f"{path}: the stored array has dtype {getattr(arr, 'dtype', type(arr))}; "
            "a graph needs real numeric weights (bool, int or float)."
        )
    return arr


def _read_mtx(path):
    try:
        M = scipy.io.mmread(str(path))
    except (OSError, ValueError, IndexError, TypeError, EOFError) as exc:
        raise GraphFileError(
            f"{path}: not a valid Matrix Market file ({exc}). Write it with scipy.io.mmwrite(path, G)."
        ) from None
    if sp.issparse(M):
        if M.dtype.kind == "c":
            raise GraphFileError(f"{path}: complex Matrix Market field; a graph needs real weights.")
        return sp.csr_matrix(M)
    return _numeric(np.asarray(M), path)


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


# -- writers ------------------------------------------------------------------

def write_edge_list(G, path, *, header=True):
    """Write ``G`` as a whitespace edge list readable by :func:`read_graph`.

    Each undirected edge is written once, as ``i j`` (unit weight) or
    ``i j w`` with ``w`` in ``repr`` precision so that reading it back gives
    the same float64 weights.

    Parameters
    ----------
    G : array_like or scipy.sparse matrix, shape (N, N)
        A valid graph (it is checked with :func:`~ssl_proofs.graphs.check_graph`).
    path : str or os.PathLike
        Destination file (overwritten).
    header : bool
        Write a ``# nodes: N`` line, so trailing isolated nodes survive the
        round trip.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    G = check_graph(G)
    M = sp.triu(sp.csr_matrix(G), k=1).tocoo()
    order = np.lexsort((M.col, M.row))
    lines = [f"# nodes: {G.shape[0]}"] if header else []
    for r, c, w in zip(M.row[order], M.col[order], M.data[order]):
        lines.append(f"{r} {c}" if w == 1 else f"{r} {c} {float(w)!r}")
    path = Path(os.fspath(path))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_graph(G, path, *, format=None):  # noqa: A002
    """Write ``G`` in the format given by ``path``'s suffix (or ``format``).

    Sparse ``.npz`` (:func:`scipy.sparse.save_npz`), ``.mtx``
    (:func:`scipy.io.mmwrite`, symmetric storage), dense ``.npy``, or an edge
    list (:func:`write_edge_list`).  :func:`read_graph` reads every one back.

    Parameters
    ----------
    G : array_like or scipy.sparse matrix, shape (N, N)
    path : str or os.PathLike
    format : {"npz", "mtx", "npy", "edgelist"}, optional

    Returns
    -------
    pathlib.Path
    """
    path = Path(os.fspath(path))
    fmt = _detect_format(path, format)
    G = check_graph(G)
    if fmt == "edgelist":
        return write_edge_list(G, path)
    if fmt == "npz":
        with open(path, "wb") as fh:  # a file object: save_npz would otherwise append ".npz"
            sp.save_npz(fh, sp.csr_matrix(G))
    elif fmt == "mtx":
        if path.name.lower().endswith((".gz", ".bz2")):
            raise InvalidArgument(f"{path}: write an uncompressed .mtx file and compress it afterwards.")
        scipy.io.mmwrite(str(path), sp.coo_matrix(G), symmetry="symmetric")
    else:
        with open(path, "wb") as fh:  # np.save on a name would append ".npy"
            np.save(fh, G.toarray() if sp.issparse(G) else np.asarray(G))
    return path
