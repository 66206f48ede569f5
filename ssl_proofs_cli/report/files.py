"""File names of the report package: never taken from a run or claims JSON.

:func:`slug` turns a value into a name of letters, digits, ``.``, ``_`` and ``-`` that cannot climb
out of its folder. The bytes themselves go through :class:`ssl_proofs_cli.io.OutputDir` (one output
folder, atomic writes, no link followed, no input overwritten).
"""
from __future__ import annotations

import hashlib
import re

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
