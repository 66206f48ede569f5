"""Opening the files a user hands in: regular files only, read with a bound.

A FIFO, a device (``/dev/zero``), a socket or a directory given as an input would block forever,
never end, or fail deep inside a parser: :func:`open_input` refuses them before reading a byte
(checked with ``stat`` first, then again with ``fstat`` on the descriptor opened without blocking,
so a path swapped in between is caught too).  :class:`BoundedReader` stops a decompressing stream
at a stated number of bytes, so a small compressed file cannot expand into gigabytes.
"""
from __future__ import annotations

import io
import os
import stat

from .errors import GraphFileError, LimitExceeded

__all__ = ["open_input", "BoundedReader"]

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


def _kind(mode):
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _refuse(where, mode, error):
    return error(f"{where} is {_kind(mode)}, not a regular file: a pipe, device or socket may never end or block "
                 "forever. Save the data to a file and pass that file.")


def open_input(path, where, *, error=GraphFileError):
    """Open the user's file ``path`` for binary reading; refuse anything but a regular file.

    Parameters
    ----------
    path : str or os.PathLike
    where : str
        How the file is named in messages (``"--graph g.npz"``).
    error : type
        The project's exception to raise (an :class:`~ssl_proofs.errors.SSLProofsError` subclass).

    Returns
    -------
    A binary file object (blocking), positioned at the start.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise error(f"{where}: no such file. Check the path (relative paths start at {os.getcwd()}).") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        raise error(f"{where}: cannot be read ({getattr(exc, 'strerror', None) or exc}).") from None
    if not stat.S_ISREG(mode):
        raise _refuse(where, mode, error)
    try:
        fd = os.open(path, _FLAGS)  # O_NONBLOCK: a FIFO swapped in after the stat cannot block the open
    except OSError as exc:
        raise error(f"{where}: cannot be opened ({exc.strerror}).") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _refuse(where, mode, error)
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


class BoundedReader(io.RawIOBase):
    """A read-only stream over ``raw`` that raises :class:`LimitExceeded` past ``limit`` bytes.

    ``what`` names the part being read and the limit, for the message, e.g.
    ``"g.mtx.bz2: the body (3 entries, at most 256 bytes each)"``.  ``exceeded`` stays true
    after the limit was hit, for callers whose parser swallows the exception.
    """

    def __init__(self, raw, limit, what, remedy, *, prefix=b""):
        super().__init__()
        self._raw, self._left, self.limit, self.what, self.remedy = raw, limit, limit, what, remedy
        self._prefix = prefix  # served first, not counted (bytes already read and bounded by the caller)
        self.exceeded = False

    def readable(self):
        return True

    def readinto(self, buffer):
        want = len(buffer)
        if self._prefix:
            data, self._prefix = self._prefix[:want], self._prefix[want:]
            buffer[:len(data)] = data
            return len(data)
        data = self._raw.read(min(want, self._left + 1))
        if len(data) > self._left:
            self.exceeded = True
            raise self.error()
        self._left -= len(data)
        buffer[:len(data)] = data
        return len(data)

    def error(self):
        return LimitExceeded(f"{self.what} holds more than {self.limit:,} bytes once decompressed. {self.remedy}")
