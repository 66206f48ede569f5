"""The structure of a scipy.sparse matrix, checked before any scipy kernel touches it.

scipy's compiled kernels (``G - G.T``, ``tocsr``, ``sum_duplicates``) trust the index arrays: an
index out of range, a negative one or an ``indptr`` that disagrees with ``indices`` reads or writes
outside the arrays (a segfault or heap corruption, not an exception).  A forged ``.npz`` holds such
arrays, and so can a matrix built by hand (``csr_matrix((data, indices, indptr))`` checks little).
:func:`sparse_structure` checks every format's arrays with NumPy alone and rebuilds a canonical
float64 CSR matrix from them.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .arrays import check_float_array
from .errors import InvalidGraph

__all__ = ["sparse_structure", "csr_from_arrays", "coo_from_arrays"]


def sparse_structure(M, name="G"):
    """A float64 CSR copy of the scipy.sparse matrix ``M``, its index arrays checked first.

    Parameters
    ----------
    M : scipy.sparse matrix or array, any format, square or not (the caller checks the shape)
    name : str

    Returns
    -------
    scipy.sparse.csr_matrix
        Float64, built only from checked arrays.

    Raises
    ------
    InvalidGraph
        Indices out of range or negative, non-integer index arrays, an ``indptr`` that is not
        monotone from 0 to the number of stored entries, array lengths that disagree, complex or
        non-numeric values.
    """
    shape = tuple(int(x) for x in M.shape)
    fmt = M.format
    if fmt in ("csr", "csc"):
        return csr_from_arrays(M.data, M.indices, M.indptr, shape, name, by_column=fmt == "csc")
    if fmt == "bsr":
        return _bsr(M, shape, name)
    if fmt == "coo":
        return coo_from_arrays(M.data, M.row, M.col, shape, name)
    if fmt == "dok":
        keys = list(M.keys())
        rows = np.array([k[0] for k in keys], dtype=object)
        cols = np.array([k[1] for k in keys], dtype=object)
        return coo_from_arrays(np.array(list(M.values())), rows, cols, shape, name)
    if fmt == "lil":
        return _lil(M, shape, name)
    if fmt == "dia":  # DIA's conversion is NumPy code (masks), safe on any offsets; only the arrays are checked
        offsets = _index_array(M.offsets, "offsets", name)
        data = _values(M.data, name)
        if data.ndim != 2 or data.shape[0] != offsets.size:
            raise _broken(name, f"its DIA data has shape {data.shape} for {offsets.size} offsets")
        return sp.csr_matrix(sp.dia_matrix((data, offsets), shape=shape).tocoo())
    raise InvalidGraph(f"{name} is a scipy.sparse matrix of an unknown format {fmt!r}; pass it as CSR (G.tocsr()).")


def csr_from_arrays(data, indices, indptr, shape, name="G", *, by_column=False):
    """A float64 CSR matrix from CSR (or, ``by_column``, CSC) arrays, checked before scipy sees them."""
    major, minor = (shape[1], shape[0]) if by_column else shape
    indptr = _index_array(indptr, "indptr", name)
    indices = _index_array(indices, "indices", name)
    data = _values(data, name)
    if data.ndim != 1:
        raise _broken(name, f"its data array has shape {data.shape}, not one value per stored entry")
    if indptr.size != major + 1:
        raise _broken(name, f"its indptr has {indptr.size} entries for {major} {'columns' if by_column else 'rows'} "
                            f"(it needs {major + 1})")
    nnz = int(indptr[-1]) if indptr.size else 0
    if indptr[0] != 0 or np.any(np.diff(indptr) < 0):
        raise _broken(name, "its indptr does not increase from 0")
    if not nnz == indices.size == data.size:
        raise _broken(name, f"its indptr ends at {nnz} but it stores {indices.size} indices and {data.size} values")
    _in_range(indices, minor, "column" if not by_column else "row", name)
    cls = sp.csc_matrix if by_column else sp.csr_matrix
    M = cls((data, indices.astype(_index_dtype(shape, nnz)), indptr.astype(_index_dtype(shape, nnz))), shape=shape)
    return sp.csr_matrix(M)


def coo_from_arrays(data, rows, cols, shape, name="G"):
    """A float64 CSR matrix from COO arrays, checked before scipy sees them."""
    rows = _index_array(rows, "row", name)
    cols = _index_array(cols, "col", name)
    data = _values(data, name)
    if not (data.ndim == rows.ndim == cols.ndim == 1 and data.size == rows.size == cols.size):
        raise _broken(name, f"its COO arrays have {rows.size} rows, {cols.size} columns and {data.size} values")
    _in_range(rows, shape[0], "row", name)
    _in_range(cols, shape[1], "column", name)
    dtype = _index_dtype(shape, data.size)
    return sp.csr_matrix(sp.coo_matrix((data, (rows.astype(dtype), cols.astype(dtype))), shape=shape))


def _bsr(M, shape, name):
    data = _values(M.data, name)
    if data.ndim != 3 or 0 in data.shape[1:] or shape[0] % data.shape[1] or shape[1] % data.shape[2]:
        raise _broken(name, f"its BSR blocks have shape {data.shape[1:]}, which does not tile {shape}")
    R, C = data.shape[1:]
    blocks = csr_from_arrays(np.arange(1, data.shape[0] + 1, dtype=np.float64), M.indices, M.indptr,
                             (shape[0] // R, shape[1] // C), name)
    # rebuild as COO from the checked block positions: entry (b, r, c) of block b at (R * i + r, C * j + c)
    block_rows = np.repeat(np.arange(blocks.shape[0]), np.diff(blocks.indptr))
    order = blocks.data.astype(np.int64) - 1
    r0 = np.empty(order.size, dtype=np.int64)
    c0 = np.empty(order.size, dtype=np.int64)
    r0[order], c0[order] = block_rows * R, blocks.indices * C
    rr, cc = np.meshgrid(np.arange(R), np.arange(C), indexing="ij")
    rows = (r0[:, None, None] + rr).ravel()
    cols = (c0[:, None, None] + cc).ravel()
    return sp.csr_matrix(sp.coo_matrix((data.ravel(), (rows, cols)), shape=shape))


def _lil(M, shape, name):
    rows, values = np.asarray(M.rows, dtype=object), np.asarray(M.data, dtype=object)
    if rows.shape != (shape[0],) or values.shape != (shape[0],):
        raise _broken(name, "its LIL rows do not match its shape")
    lengths = [len(r) for r in rows]
    if lengths != [len(v) for v in values]:
        raise _broken(name, "its LIL rows and values have different lengths")
    cols = np.array([c for r in rows for c in r], dtype=object)
    data = np.array([v for row in values for v in row])
    return coo_from_arrays(data, np.repeat(np.arange(shape[0]), lengths), cols, shape, name)


def _index_array(a, what, name):
    a = np.asarray(a)
    if a.dtype == object:  # Python ints (DOK keys, LIL rows): exact, whatever their size
        if not all(isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)) for x in a.ravel()):
            raise _broken(name, f"its {what} array holds non-integers")
        if a.size and not (min(a.ravel()) >= 0 and max(a.ravel()) < 2 ** 63):
            raise _broken(name, f"its {what} array holds an index out of range ({min(a.ravel())} .. {max(a.ravel())})")
        a = a.astype(np.int64)
    if a.dtype.kind not in "iu" or a.ndim != 1:
        raise _broken(name, f"its {what} array has dtype {a.dtype} and shape {a.shape}, not 1-d integers")
    return a


def _in_range(idx, bound, what, name):
    if idx.size and (idx.min() < 0 or idx.max() >= bound):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise _broken(name, f"it stores a {what} index {int(bad)} outside 0 .. {bound - 1}")


def _values(data, name):
    data = np.asarray(data)
    if data.dtype.kind == "c":
        raise InvalidGraph(f"{name} has complex entries; edge weights are real. Pass {name}.real if the imaginary "
                           "parts are rounding noise, otherwise rebuild G from real similarities.")
    return check_float_array(data, name, error=InvalidGraph, what="entries")


def _index_dtype(shape, nnz):
    return np.int32 if max(max(shape, default=0), nnz) < 2 ** 31 - 1 else np.int64


def _broken(name, why):
    return InvalidGraph(f"{name} is a damaged sparse matrix: {why}. Rebuild it with scipy.sparse.csr_matrix(G) from "
                        "a valid matrix, or re-save the file with scipy.sparse.save_npz.")
