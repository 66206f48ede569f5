"""Files on the command line: reading user arrays, and output paths checked before the work.

An output path is checked (:func:`output_path`) before any work starts, so that a
long ``solve`` or ``verify`` run is never lost to a typo in ``--out``; it is then
written atomically (:func:`write_atomic`: a temporary file in the same folder,
moved into place with :func:`os.replace`), so a failure leaves nothing behind and
an old file is never half overwritten.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from ssl_proofs.errors import InvalidArgument, SSLProofsError
from ssl_proofs.graphfiles import npy_header
from ssl_proofs.inputfiles import open_input
from ssl_proofs.limits import check_memory

#: image formats ``plot --out`` writes (matplotlib's vector and raster backends)
IMAGE_SUFFIXES = (".png", ".pdf", ".svg", ".eps", ".ps")


#: float64 copies of a user's array held while it is checked and used (loaded, cast, centred)
_ARRAY_COPIES = 4


def load_array(path, flag):
    """A ``.npy`` array given by a command-line flag, or the project's own error.

    Only a regular file is opened (:func:`ssl_proofs.inputfiles.open_input`: a FIFO or a device
    would block or never end). The header is read first (:func:`ssl_proofs.graphfiles.npy_header`):
    a file that is not .npy, holds objects, or claims more data than it stores is refused before
    any allocation, and so is an array above the memory limit (:mod:`ssl_proofs.limits`).
    """
    where = f"{flag} {path}"
    try:
        with open_input(path, where, error=InvalidArgument) as fh:
            shape, dtype = npy_header(fh, os.fstat(fh.fileno()).st_size, where)
            nbytes = int(np.prod(shape, dtype=object)) * max(dtype.itemsize, 8)
            check_memory(_ARRAY_COPIES * nbytes, f"{where}: a {'x'.join(map(str, shape))} array "
                         f"({_ARRAY_COPIES} float64 copies while checked)", "Pass fewer rows or columns")
            fh.seek(0)
            return np.load(fh, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        if isinstance(exc, SSLProofsError):
            raise
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable data"
        raise InvalidArgument(f"{flag} {path}: cannot read a .npy array ({why}). Save it with np.save(path, X).") from None


def output_path(path, flag, *, suffixes, add_suffix=None):
    """Check, before any work, that ``path`` can be written; return the path that will be.

    Parameters
    ----------
    path : str
        As given on the command line.
    flag : str
        The flag, for messages (``--out``).
    suffixes : tuple of str
        Accepted suffixes (lower case, with the dot).
    add_suffix : str, optional
        Appended when ``path`` has no suffix (``np.save`` does the same); the
        returned path is the one written and printed.

    Raises
    ------
    InvalidArgument
        Empty path, a directory, a missing or non-folder parent, a suffix not in
        ``suffixes``, or a folder this process cannot write to.
    """
    if not path or not str(path).strip():
        raise InvalidArgument(f"{flag} is empty; give a file name such as {flag} result{suffixes[0]}.")
    p = Path(path)
    if p.is_dir() or str(path).endswith(os.sep):
        what = "is a directory" if p.is_dir() else "names a folder (it ends with a separator)"
        raise InvalidArgument(f"{flag} {path} {what}; give a file inside it, e.g. {p / ('result' + suffixes[0])}.")
    if not p.suffix and add_suffix:
        p = p.with_name(p.name + add_suffix)
    if p.suffix.lower() not in suffixes:
        raise InvalidArgument(
            f"{flag} {path}: unsupported suffix {p.suffix or '(none)'!r}; use one of {', '.join(suffixes)}."
        )
    parent = p.parent
    for up in [parent, *parent.parents]:
        if up.exists():
            if not up.is_dir():
                raise InvalidArgument(f"{flag} {path}: {up} is a file, not a folder; choose another path.")
            break
    if not parent.is_dir():
        raise InvalidArgument(f"{flag} {path}: the folder {parent} does not exist; create it (mkdir -p {parent}) first.")
    try:  # the only sure test of writability is to write (os.access is wrong for root and some mounts)
        fd, probe = tempfile.mkstemp(dir=parent, prefix=f".{p.name}.", suffix=".probe")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InvalidArgument(f"{flag} {path}: cannot write in {parent} ({exc.strerror}); choose another folder.") from None
    return p


def write_atomic(path, write):
    """Call ``write(tmp_path)`` on a temporary file next to ``path``, then move it onto ``path``.

    The temporary name keeps ``path``'s suffix (matplotlib and ``np.save`` read it).
    Returns ``path``.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would outlive the rename
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save_array(path, arr):
    """``np.save`` to exactly ``path`` (checked by :func:`output_path`), atomically."""
    def write(tmp):
        with open(tmp, "wb") as fh:  # a file object: np.save would append ".npy" to a name (even to ".NPY")
            np.save(fh, arr)
    return write_atomic(path, write)


def save_json(path, obj):
    """``json.dump`` to ``path``, atomically."""
    def write(tmp):
        with open(tmp, "w") as fh:
            json.dump(obj, fh, indent=2, default=float)
    return write_atomic(path, write)
