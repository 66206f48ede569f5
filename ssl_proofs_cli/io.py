"""Files on the command line: reading user arrays, and the one writer of every file the tool writes.

What the tool promises about the files it writes (docs/inputs.md, "Files written"):

* only the paths the user named are written (a report's folder: only names inside it);
* every path is checked before any work starts (:func:`output_path`, :class:`OutputDir`), so a
  long run is never lost to a typo;
* never through a symbolic link: a link as the file's own name is refused (the folders the
  user named on the way to it may be links: they are the user's own choice of place);
  files inside a report folder may not be links at all;
* never over an input of the same command (same file, hard links included: compared by
  device and inode);
* atomically (:func:`write_atomic`): the data goes to a new file in a private temporary folder
  next to the target (created ``O_EXCL``, ``O_NOFOLLOW``), is flushed to disk (``fsync``) and
  only then renamed onto the target: a full disk, a crash or Ctrl-C leaves the old file or no
  file, never a truncated one;
* a failed write (disk full, permission) is the project's error (:class:`OutputError`, exit 2).

Nothing else in ssl_proofs, ssl_proofs_cli, ssl_proofs_verifiers or benchmarks opens a file for
writing (tests/test_writers.py greps for it).
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from pathlib import Path

import numpy as np

from ssl_proofs.errors import InvalidArgument, OutputError, SSLProofsError
from ssl_proofs.graphfiles import edge_list_text, encode_graph, npy_header
from ssl_proofs.inputfiles import open_input
from ssl_proofs.limits import check_memory

#: image formats ``plot --out`` writes (matplotlib's vector and raster backends)
IMAGE_SUFFIXES = (".png", ".pdf", ".svg", ".eps", ".ps")

_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


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


def output_path(path, flag, *, suffixes, add_suffix=None, inputs=()):
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
    inputs : iterable of (flag, path)
        The command's input files (``None`` paths are skipped): the output may not be one of
        them (same path, a link to it or a hard link).

    Raises
    ------
    InvalidArgument
        Empty path, a directory, a missing or non-folder parent, a suffix not in
        ``suffixes``, a folder this process cannot write to, a symbolic link or a
        non-regular file (FIFO, device) at ``path``, or ``path`` naming an input.
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
    _check_folder(p.parent, f"{flag} {path}")
    _check_target(p, flag, inputs)
    return p


def _check_folder(parent, shown):
    """``parent`` exists, is a folder, and this process can create files in it."""
    for up in [parent, *parent.parents]:
        if up.exists():
            if not up.is_dir():
                raise InvalidArgument(f"{shown}: {up} is a file, not a folder; choose another path.")
            break
    if not parent.is_dir():
        raise InvalidArgument(f"{shown}: the folder {parent} does not exist; create it (mkdir -p {parent}) first.")
    try:  # the only sure test of writability is to write (os.access is wrong for root and some mounts)
        os.rmdir(tempfile.mkdtemp(dir=parent, prefix=".ssl-proofs.", suffix=".probe"))
    except OSError as exc:
        raise InvalidArgument(f"{shown}: cannot write in {parent} ({exc.strerror}); choose another folder.") from None


def _check_target(p, flag, inputs):
    """``p`` is not a link, not a special file, and not one of ``inputs`` (by device and inode)."""
    try:
        st = os.lstat(p)
    except FileNotFoundError:
        return  # a new file cannot be an input
    except OSError as exc:
        raise InvalidArgument(f"{flag} {p}: cannot be checked ({exc.strerror}); choose another path.") from None
    if stat.S_ISLNK(st.st_mode):
        raise InvalidArgument(f"{flag} {p} is a symbolic link (to {os.readlink(p)}); ssl-proofs never writes "
                              "through a link: name the file itself, or a new path.")
    if not stat.S_ISREG(st.st_mode):
        raise InvalidArgument(f"{flag} {p} exists and is not a regular file (a FIFO, socket or device); "
                              "name a regular file or a new path.")
    for in_flag, in_path in inputs:
        if in_path is None:
            continue
        try:
            same = os.path.samefile(p, in_path)
        except OSError:
            continue  # an input that does not exist is reported by its reader
        if same:
            raise InvalidArgument(f"{flag} {p} is the input {in_flag} {in_path} (the same file"
                                  f"{'' if os.path.abspath(p) == os.path.abspath(in_path) else ' under another name: a link'}); "
                                  "writing it would destroy the input: choose another output path.")


def write_atomic(path, write, *, inputs=()):
    """Call ``write(tmp_path)``, then move the finished, fsynced file onto ``path``.

    ``tmp_path`` has ``path``'s name (matplotlib and ``np.save`` read the suffix) inside a new
    private folder (mode 0700, created next to ``path``, so the final rename stays on one file
    system and no other user can swap the temporary for a link). ``path`` itself is checked
    again here (not a link, not a special file, not one of ``inputs``): a call from Python that
    skipped :func:`output_path` is held to the same rules.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    InvalidArgument
        ``path`` is a link, a special file or an input.
    OutputError
        Writing failed (disk full, permission, ...): the old file, if any, is untouched and no
        temporary file is left.
    """
    path = Path(path)
    _check_target(path, "output", inputs)
    try:
        tmpdir = tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _failed(exc, f"{path}: cannot write in {path.parent} ({exc.strerror}); "
                                     "choose another folder.") from None
    tmp = os.path.join(tmpdir, path.name)
    try:
        write(tmp)
        _publish(tmp, path, inputs)
    except OSError as exc:
        if isinstance(exc, SSLProofsError):
            raise
        raise _failed(exc, f"{path}: writing failed ({exc.strerror or exc}); nothing was changed "
                                     "there. Free some space or choose another folder, then run again.") from None
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return path


def _publish(tmp, path, inputs):
    """fsync ``tmp`` (a regular file), then rename it onto ``path`` and fsync the folder."""
    fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OutputError(f"{path}: the writer did not produce a regular file; nothing was written.")
        os.fsync(fd)  # the data is on disk before the name points at it
    finally:
        os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkdtemp's private mode must not outlive the rename
    _check_target(path, "output", inputs)  # again: the path may have changed during the work
    os.replace(tmp, path)
    _fsync_folder(path.parent)


def _fsync_folder(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # some systems cannot open a folder; the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass  # not every file system syncs folders (the rename is done either way)
    finally:
        os.close(fd)


def _failed(exc, message):
    """The project's :class:`OutputError` for the OS error ``exc`` (its errno kept)."""
    err = OutputError(message)
    err.errno = exc.errno
    return err


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fill(tmp, mode, fill):
    """Create ``tmp`` (O_EXCL | O_NOFOLLOW: never an existing file or a link) and ``fill(fh)`` it."""
    with os.fdopen(os.open(tmp, _NEW_FILE, 0o600), mode, **({"encoding": "utf-8"} if "b" not in mode else {})) as fh:
        fill(fh)


def write_stream(path, fill, *, binary=True, inputs=()):
    """:func:`write_atomic` for writers of an open file: ``fill(fh)`` gets the new temporary file."""
    return write_atomic(path, lambda tmp: _fill(tmp, "wb" if binary else "w", fill), inputs=inputs)


def save_bytes(path, data, *, inputs=()):
    """``data`` (bytes) to ``path``, atomically."""
    return write_stream(path, lambda fh: fh.write(data), inputs=inputs)


def save_text(path, text, *, inputs=()):
    """``text`` (UTF-8) to ``path``, atomically."""
    return write_stream(path, lambda fh: fh.write(text), binary=False, inputs=inputs)


def save_array(path, arr, *, inputs=()):
    """``np.save`` to exactly ``path`` (checked by :func:`output_path`), atomically."""
    # a file object: np.save would append ".npy" to a name (even to ".NPY")
    return write_stream(path, lambda fh: np.save(fh, arr), inputs=inputs)


def save_json(path, obj, *, inputs=(), **dump):
    """``json.dump`` to ``path`` (indent 2 unless ``dump`` says otherwise), atomically."""
    options = {"indent": 2, "default": float, **dump}
    return write_stream(path, lambda fh: json.dump(obj, fh, **options), binary=False, inputs=inputs)


def write_graph(G, path, *, format=None, inputs=()):  # noqa: A002
    """Save ``G`` as a graph file :func:`ssl_proofs.graphfiles.read_graph` reads back (format from the
    suffix, or ``format``: npz, mtx, npy, edgelist), atomically; the path written."""
    return save_bytes(path, encode_graph(G, path, format=format), inputs=inputs)


def write_edge_list(G, path, *, header=True, inputs=()):
    """Save ``G`` as a whitespace edge list (:func:`ssl_proofs.graphfiles.edge_list_text`), atomically."""
    return save_text(path, edge_list_text(G, header=header), inputs=inputs)


class OutputDir:
    """A folder the user named, holding only files this command writes: never a name outside it.

    ``OutputDir(path, "--out")`` checks the folder before the work (a file in its place, or a folder
    this process cannot write in, is refused; a missing one is created, with its parents, at the first
    write); :meth:`write` / :meth:`save_bytes` /
    :meth:`save_text` write ``relative`` names inside it atomically, refusing absolute names,
    ``..``, and symbolic links inside the folder (the folder itself may be a link the user named).

    Parameters
    ----------
    path : str or os.PathLike
    flag : str
        For messages.
    inputs : iterable of (flag, path)
        Inputs of the command: no file written here may be one of them.
    """

    def __init__(self, path, flag="--out", *, inputs=()):
        if not path or not str(path).strip():
            raise InvalidArgument(f"{flag} is empty; give a folder name such as {flag} report/.")
        self.root, self.flag, self.inputs = Path(path), flag, tuple(inputs)
        if self.root.exists() and not self.root.is_dir():
            raise InvalidArgument(f"{flag} {path} is a file, not a folder; name a folder (it is created when missing).")
        # a missing folder is created at the first write, not now: a command refused later leaves nothing
        existing = next(up for up in [self.root, *self.root.parents] if up.exists() or up == Path(up.anchor or "."))
        if not existing.is_dir():
            raise InvalidArgument(f"{flag} {path}: {existing} is a file, not a folder; choose another place.")
        _check_folder(existing, f"{flag} {path}")

    def path(self, relative, *, create=True):
        """The checked path of ``relative`` inside the folder (its sub-folders created unless not
        ``create``; none of them may be a link)."""
        rel = Path(relative)
        if not str(relative) or rel.is_absolute() or any(part in ("..", "") for part in rel.parts) or rel.drive:
            raise InvalidArgument(f"{self.flag} {self.root}: refusing to write {str(relative)!r}, a name "
                                  "outside the folder (absolute or with '..').")
        if create:
            try:
                self.root.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise _failed(exc, f"{self.flag} {self.root}: cannot create the folder ({exc.strerror}).") from None
        folder = self.root
        for part in rel.parts[:-1]:
            folder = folder / part
            if folder.is_symlink():
                raise InvalidArgument(f"{self.flag} {self.root}: {folder} is a symbolic link; ssl-proofs never writes "
                                      "through a link inside its output folder: remove it.")
            if create:
                try:
                    folder.mkdir(exist_ok=True)
                except OSError as exc:
                    raise _failed(exc, f"{folder}: cannot create the folder ({exc.strerror}).") from None
            if folder.exists() and not folder.is_dir():
                raise InvalidArgument(f"{self.flag} {self.root}: {folder} is a file, not a folder; remove it.")
        target = self.root / rel
        _check_target(target, self.flag, self.inputs)
        return target

    def check(self, names):
        """Check every name of ``names`` (:meth:`path`) before anything is written (nothing is created)."""
        return [self.path(name, create=False) for name in names]

    def write(self, relative, write):
        """``write(tmp_path)`` atomically onto ``relative`` (:func:`write_atomic`); the path written."""
        return write_atomic(self.path(relative), write, inputs=self.inputs)

    def save_bytes(self, relative, data):
        return save_bytes(self.path(relative), data, inputs=self.inputs)

    def save_text(self, relative, text):
        return save_text(self.path(relative), text, inputs=self.inputs)

