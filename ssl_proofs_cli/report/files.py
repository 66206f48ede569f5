"""Every file the report package writes goes through here: safe names, one output folder, the atomic writer.

File names are never taken from a run or claims JSON: :func:`slug` turns a value into a name of
letters, digits, ``.``, ``_`` and ``-`` that cannot climb out of its folder, and :func:`write_into`
refuses any name that would.  The bytes go through :func:`ssl_proofs_cli.io.write_atomic` (a
temporary file moved into place), so a failure leaves no half-written report.  Swapping in another
writer is a change to :func:`_write` only.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from ssl_proofs.errors import InvalidArgument

from ..io import write_atomic

#: longest file name stem a slug gives (most file systems allow 255 bytes)
MAX_STEM = 80

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def slug(text):
    """A file-name stem derived from ``text``: safe characters only, no leading dot, at most :data:`MAX_STEM`.

    A text that is already safe (every theorem id and experiment name of the registry) is kept as it is;
    any other gets a short hash of the original, so two different texts never share a file.
    """
    text = str(text)
    safe = _UNSAFE.sub("-", text).lstrip(".-")
    safe = re.sub(r"\.{2,}", ".", safe)[:MAX_STEM]
    if safe == text and safe:
        return safe
    return (safe[:MAX_STEM - 9] or "file") + "-" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:8]


def _write(path, data):
    """The one place bytes reach the disk (atomically)."""
    def write(tmp):
        with open(tmp, "wb") as fh:
            fh.write(data)
    return write_atomic(path, write)


def write_into(folder, name, data):
    """Write ``data`` (str or bytes) as ``folder/name``; ``name`` must be a plain file name inside ``folder``."""
    folder = Path(folder)
    if Path(name).name != name or name in ("", ".", "..") or name.startswith("."):
        raise InvalidArgument(f"refusing to write {name!r}: not a plain file name inside {folder}.")
    return _write(folder / name, data.encode("utf-8") if isinstance(data, str) else bytes(data))


def write_json(path, obj):
    """``obj`` as indented JSON at ``path`` (a path the user named), atomically."""
    return _write(Path(path), (json.dumps(obj, indent=2, default=float) + "\n").encode("utf-8"))


def make_folder(folder, flag="--out"):
    """Create ``folder`` (and its parents) or raise the project's error naming ``flag``."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidArgument(f"{flag} {folder}: cannot create the directory ({exc.strerror}).") from None
    if not folder.is_dir():
        raise InvalidArgument(f"{flag} {folder}: not a directory; choose another path.")
    return folder
