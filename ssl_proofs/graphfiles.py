"""Reading and writing positive-pair graphs ``G`` from files.

Supported formats (chosen from the file suffix, or forced with ``format=``):

``npz``
    A sparse matrix saved by :func:`scipy.sparse.save_npz`, or a NumPy
    ``.npz`` archive holding exactly one dense array.
``mtx``
    Matrix Market (:func:`scipy.io.mmread`), coordinate or array, including
    the ``symmetric`` storage variant; ``.mtx.gz`` / ``.mtx.bz2`` too.  Every
    entry line is checked before scipy parses it (:mod:`ssl_proofs.mtxbody`):
    ASCII decimal tokens, the fields the header announces, and no weight that
    float64 cannot hold (``1e-400`` would read as 0, ``1e400`` as inf).
``npy``
    A dense array saved by :func:`numpy.save`.
``edgelist``
    Plain text, one edge per line: ``i j`` (weight 1) or ``i j w``, with
    0-based integer node ids separated by whitespace.  ``#`` starts a
    comment; an optional header line ``# nodes: N`` sets the number of nodes
    (otherwise ``N = max id + 1``).  Giving only one direction of a pair is
    enough (the graph is symmetrised); giving both with different weights is
    an error.  Suffixes ``.txt``, ``.edges``, ``.edgelist``, ``.el``.

Every file is untrusted (docs/inputs.md).  Only a regular file is opened
(:func:`ssl_proofs.inputfiles.open_input`: a FIFO or ``/dev/zero`` would block or never end).
The sizes a file *claims* (an edge-list header or node id, a ``.npy`` header, a sparse
``.npz`` shape, a Matrix Market size line) are checked against
:data:`ssl_proofs.graphs.MAX_NODES` / :data:`~ssl_proofs.graphs.MAX_DENSE_NODES`, against
the bytes actually stored and against the memory limit (:mod:`ssl_proofs.limits`) *before*
anything is allocated, and compressed parts are decompressed through a bound, so a small
file cannot exhaust the machine.  A sparse archive's index arrays are checked
(:mod:`ssl_proofs.sparsecheck`) before scipy builds a matrix from them.  Every graph read is validated by
:func:`ssl_proofs.graphs.check_graph` and returned checked.
Problems with the file itself raise :class:`~ssl_proofs.errors.GraphFileError`;
a well-formed file holding an invalid graph (asymmetric, negative, no edges,
...) raises :class:`~ssl_proofs.errors.InvalidGraph`.  Both name the file.
"""
from __future__ import annotations

import bz2
import gzip
import io
import math
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import scipy.io
import scipy.sparse as sp

from .errors import GraphFileError, InvalidArgument, InvalidGraph, LimitExceeded, SSLProofsError
from . import graphs as _graphs
from . import limits as _limits
from .graphs import check_graph, check_size
from .inputfiles import BoundedReader, open_input
from .mtxbody import CheckedBody
from .sparsecheck import coo_from_arrays, csr_from_arrays, sparse_structure

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
        The file is missing, not a regular file (a FIFO, a device, a directory), of an
        unknown format, unreadable, or has a malformed line (the message gives the line
        number and content).
    LimitExceeded
        Reading it would take more than a stated limit (memory, a Matrix Market header or
        body); the message names the environment variable that raises it.
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
    try:
        with open_input(path, str(path)) as fh:  # a regular file only: a FIFO or device would never end
            fmt = _detect_format(path, format)
            reader = {"npz": _read_npz, "mtx": _read_mtx, "npy": _read_npy, "edgelist": _read_edge_list}[fmt]
            G = reader(path, fh)  # every reader checks the sizes a file claims before allocating them
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


def _read_npz(path, fh):
    # save_npz archives carry 'format' and 'shape' entries; anything else is
    # treated as a plain numpy archive that must hold exactly one dense array.
    if not zipfile.is_zipfile(fh):
        fh.seek(0)
        if fh.read(len(_NPY_MAGIC)) == _NPY_MAGIC:
            fh.seek(0)
            return _read_npy(path, fh)  # a .npy file under an .npz name: still one dense array
        raise GraphFileError(f"{path}: not a .npz archive (it is not a zip file). Write it with {_SAVE_NPZ}.")
    fh.seek(0)
    try:
        with zipfile.ZipFile(fh) as zf:
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
    shape = (int(shape[0]), int(shape[1]))
    stored = sum(_member_bytes(info) for info in members.values())
    _limits.check_memory(_SPARSE_COPIES * stored, f"{path}: its arrays ({stored:,} bytes once decompressed, "
                         f"{_SPARSE_COPIES} copies while checked)", "Pass a smaller graph")
    fmt = _load_member(path, zf, members["format"], graph=False)
    fmt = fmt.item().decode("ascii", "replace") if fmt.dtype.kind == "S" else str(fmt.item()) if fmt.size == 1 else "?"
    need = {"csr": ("data", "indices", "indptr"), "csc": ("data", "indices", "indptr"),
            "bsr": ("data", "indices", "indptr"), "dia": ("data", "offsets"),
            "coo": ("data", "coords") if "coords" in members else ("data", "row", "col")}.get(fmt)
    if need is None:
        raise GraphFileError(f"{path}: unknown sparse format {fmt!r} in the archive; write it with {_SAVE_NPZ}.")
    missing = [name for name in need if name not in members]
    if missing:
        raise GraphFileError(f"{path}: the {fmt} archive has no {', '.join(missing)} entry; write it with {_SAVE_NPZ}.")
    arrays = {name: _load_member(path, zf, members[name], graph=False) for name in need}
    # the arrays are checked before scipy builds anything from them (sparsecheck: its kernels trust them)
    if fmt in ("csr", "csc"):
        return csr_from_arrays(arrays["data"], arrays["indices"], arrays["indptr"], shape, "G", by_column=fmt == "csc")
    if fmt == "coo":
        rows, cols = (arrays["coords"] if "coords" in arrays else (arrays["row"], arrays["col"]))
        return coo_from_arrays(arrays["data"], rows, cols, shape, "G")
    cls = sp.bsr_matrix if fmt == "bsr" else sp.dia_matrix
    try:
        M = cls(tuple(arrays[name] for name in need), shape=shape)
    except (ValueError, TypeError, IndexError) as exc:
        raise InvalidGraph(f"G is a damaged sparse matrix: the {fmt} arrays do not fit together ({exc}).") from None
    return sparse_structure(M, "G")


#: copies of a sparse archive's arrays held while it is read and checked (loaded, checked float64 copy,
#: CSR, G - G^T, the symmetrised result): the memory estimate before loading
_SPARSE_COPIES = 6


def _read_npy(path, fh):
    _load_header(path, fh, os.fstat(fh.fileno()).st_size, graph=True)
    fh.seek(0)
    try:
        return np.load(fh, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise GraphFileError(f"{path}: the .npy data could not be read ({_plain(exc)}). Write it with np.save(path, G).") from None


def _member_bytes(info):
    """Most bytes a zip entry can really hold: its stated size, bounded by what its compressed size can expand to
    where the codec has a known limit (deflate's 1032:1).  bzip2 and LZMA expand without a useful limit (zeros:
    millions to one), so for them the stated size stands, and what it may cost is held to the memory limit
    (:func:`ssl_proofs.limits.check_memory`) before anything is loaded: reading stops at the size the .npy header
    claims, never more."""
    if info.compress_type == zipfile.ZIP_STORED:
        return info.compress_size
    return min(info.file_size, info.compress_size * _MAX_EXPANSION.get(info.compress_type, math.inf))


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
#: most a compressed stream can expand, where the codec has a limit (deflate's is 1032:1), by file suffix and by
#: zip compression method; bzip2 and LZMA have none worth stating (the body bound and memory estimate hold them)
_MAX_EXPANSION = {".gz": 1032, zipfile.ZIP_DEFLATED: 1032}


def _read_mtx(path, fh):
    name = path.name.lower()
    stream = gzip.GzipFile(fileobj=fh) if name.endswith(".gz") else bz2.BZ2File(fh) if name.endswith(".bz2") else fh
    try:
        header, header_lines = _mtx_header(path, stream)
        rows, cols, entries, layout, field, symmetry = scipy.io.mminfo(io.BytesIO(header))
    except SSLProofsError:
        raise
    except Exception as exc:  # scipy's parser and the decompressors raise many kinds of error on garbage
        raise _mtx_error(path, exc) from None
    if field == "complex":
        raise InvalidGraph("G has complex entries (Matrix Market field 'complex'); edge weights are real.")
    if rows != cols:
        raise InvalidGraph(f"G must be a square N x N matrix, got shape ({rows}, {cols}).")
    if rows < 2:  # before the body: scipy's parser divides by the size of an empty array layout (SIGFPE)
        raise InvalidGraph(f"G has {rows} node(s); a positive-pair graph needs at least 2 samples.")
    check_size(rows, dense="input" if layout == "array" else False)
    stored = os.fstat(fh.fileno()).st_size * _MAX_EXPANSION.get(path.suffix.lower(), math.inf if
                                                                 name.endswith(".bz2") else 1)
    if entries * _MTX_MIN_ENTRY_BYTES.get(layout, 4) > stored:
        raise GraphFileError(
            f"{path}: the header claims {entries:,} entries but the file is too small to hold them; "
            "it is truncated or its size line is wrong (decompress it first if it is compressed)."
        )
    if layout == "coordinate":
        _limits.check_memory(entries * _MTX_ENTRY_MEMORY, f"{path}: its {entries:,} entries (about "
                             f"{_MTX_ENTRY_MEMORY} bytes each while read and checked)", "Pass a smaller graph")
    # the body can hold no more than its entries' lines: a bound on what decompression may produce
    body = BoundedReader(stream, entries * _limits.MAX_ENTRY_BYTES + _limits.MAX_HEADER_BYTES,
                         f"{path}: the body after the size line ({entries:,} entries, at most "
                         f"{_limits.MAX_ENTRY_BYTES} bytes each)",
                         "Remove what follows the entries, or write one entry per line.")
    # every token checked before scipy's parser sees it: it reads a prefix of each ('1_0' as 1) and turns a
    # weight float64 cannot hold ('1e-400') into 0 without a word
    checked = CheckedBody(body, str(path), layout, field, header_lines + 1, prefix=header)
    try:
        M = scipy.io.mmread(io.BufferedReader(checked))
    except Exception as exc:  # as above; the bound's or the check's own error may arrive wrapped by scipy's parser
        if body.exceeded:
            raise body.error() from None
        if checked.error is not None:
            raise checked.error from None
        raise _mtx_error(path, exc) from None
    if sp.issparse(M):
        return _mtx_entries(path, sp.coo_matrix(M), entries, header_lines, symmetry)
    return np.asarray(M)


#: bytes of memory per Matrix Market entry while read and checked (COO int64 pairs and values, CSR, G - G^T,
#: the symmetrised copy; measured order of magnitude, generous)
_MTX_ENTRY_MEMORY = 200


def _mtx_error(path, exc):
    return GraphFileError(f"{path}: not a valid Matrix Market file ({type(exc).__name__}: {exc}). "
                          "Write it with scipy.io.mmwrite(path, G).")


def _mtx_header(path, stream):
    """The banner, comment and size lines (bytes) and their count, reading at most MAX_HEADER_BYTES."""
    limit = _limits.MAX_HEADER_BYTES
    lines, total = [], 0
    while True:
        line = stream.readline(limit - total + 1)  # bounded: a 3 GiB comment line stops here
        total += len(line)
        if total > limit:
            raise LimitExceeded(
                f"{path}: the Matrix Market header (banner, comment lines and size line, line {len(lines) + 1} and "
                f"before) is longer than {limit:,} bytes (SSL_PROOFS_MAX_HEADER_BYTES). Shorten the comments, or "
                "raise SSL_PROOFS_MAX_HEADER_BYTES."
            )
        if not line:
            break  # the end of the file before a size line: mminfo says what is missing
        if not lines and not line.startswith(b"%%MatrixMarket"):
            raise GraphFileError(f"{path}: not a Matrix Market file (the first line is not '%%MatrixMarket ...'). "
                                 "Write it with scipy.io.mmwrite(path, G), or use the suffix of its format.")
        lines.append(line)
        text = line.strip()
        if len(lines) > 1 and text and not text.startswith(b"%"):
            break  # the size line
    return b"".join(lines), len(lines)


def _mtx_entries(path, M, entries, header_lines, symmetry):
    """The file's coordinate entries as CSR: a pair given twice with different values is refused (as in edge
    lists; scipy would sum them), given twice alike it is kept once; symmetric storage mirrored here."""
    # mmread lists the file's entries first, in file order, then the mirrored ones of symmetric storage
    r = M.row[:entries].astype(np.int64)
    c = M.col[:entries].astype(np.int64)
    v = np.asarray(M.data[:entries], dtype=np.float64)
    mirrored = symmetry != "general"
    lo, hi = (np.minimum(r, c), np.maximum(r, c)) if mirrored else (r, c)
    order = np.lexsort((hi, lo))
    same = (lo[order][1:] == lo[order][:-1]) & (hi[order][1:] == hi[order][:-1])
    clash = np.flatnonzero(same & (v[order][1:] != v[order][:-1]))
    if clash.size:
        a, b = sorted((int(order[clash[0]]), int(order[clash[0] + 1])))
        raise GraphFileError(
            f"{path}, lines {header_lines + 1 + a} and {header_lines + 1 + b}: entry ({r[a] + 1}, {c[a] + 1}) is "
            f"given twice, with values {v[a]:g} and {v[b]:g} (the entry lines counted one per line). Keep one line "
            "per entry: duplicates are not summed."
        )
    keep = np.ones(entries, dtype=bool)
    keep[order[1:][same]] = False
    r, c, v = r[keep], c[keep], v[keep]
    if mirrored:
        off = r != c
        sign = -1.0 if symmetry == "skew-symmetric" else 1.0
        r, c, v = np.concatenate([r, c[off]]), np.concatenate([c, r[off]]), np.concatenate([v, sign * v[off]])
    return sp.csr_matrix((v, (r, c)), shape=M.shape)


def _read_edge_list(path, fh):
    size = os.fstat(fh.fileno()).st_size
    _limits.check_memory(size * _EDGE_LIST_MEMORY, f"{path}: reading this {size:,}-byte edge list line by line "
                         f"(about {_EDGE_LIST_MEMORY} bytes of memory per byte of text)",
                         "Convert it to a sparse .npz (scipy.sparse.save_npz) or .mtx file, which are read compactly")
    try:
        text = fh.read(size + 1).decode("utf-8")
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


#: bytes of memory per byte of edge-list text (the text, its lines, a dict entry per edge; measured order of
#: magnitude on 10^5-edge lists, generous)
_EDGE_LIST_MEMORY = 40
#: a node id: ASCII decimal digits only (int() would also take '1_0' and full-width or other Unicode digits)
_ID = re.compile(r"[0-9]+")
#: a weight: an ASCII decimal number (float() would also take '1_0', Unicode digits, 'infinity', 'nan')
_WEIGHT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_NONZERO_DIGIT = re.compile(r"[1-9]")


def _parse_header(value, path, lineno, raw):
    n = int(value) if _ID.fullmatch(value) else -1
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
        if tok.startswith("-") and _ID.fullmatch(tok[1:]):
            raise GraphFileError(f"{where}: negative node id {tok}; node ids are 0-based (0, 1, 2, ...).")
        if not _ID.fullmatch(tok):
            raise GraphFileError(f"{where}: node id {tok!r} is not an integer written in the ASCII digits 0-9; "
                                 "node ids are 0-based integers.")
        ids.append(int(tok))
    w = 1.0
    if len(fields) == 3:
        tok = fields[2]
        if tok.lower().lstrip("+-") in ("nan", "inf", "infinity"):
            raise GraphFileError(f"{where}: weight {tok} is not finite; use a finite weight, or 0 for no pair.")
        if not _WEIGHT.fullmatch(tok):
            raise GraphFileError(f"{where}: weight {tok!r} is not a number written in ASCII decimal (digits 0-9, an optional "
                                 "sign, point and exponent).")
        w = float(tok)
        mantissa = re.split("[eE]", tok)[0]
        if w == 0 and _NONZERO_DIGIT.search(mantissa):
            raise GraphFileError(f"{where}: weight {tok} underflows to 0 in float64 (the smallest positive weight "
                                 "is about 5e-324), so the pair would vanish. Rescale the weights, or write 0 for "
                                 "no pair.")
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
