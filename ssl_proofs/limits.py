"""The resource limits every input is held to, and how a user raises them.

Each limit is read once, at import, from an environment variable (the only knob a command-line
user has), and is also a module attribute (``ssl_proofs.limits.MAX_MEMORY = ...`` from Python).
Every refusal names the limit that was hit, the amount asked for, and the variable that raises it
(docs/inputs.md has the table).
"""
from __future__ import annotations

import os
import resource
import warnings

from .errors import LimitExceeded

_UNITS = {"": 1, "K": 2 ** 10, "M": 2 ** 20, "G": 2 ** 30, "T": 2 ** 40}


def parse_bytes(text):
    """``"64G"`` / ``"512M"`` / ``"1000"`` (binary units, an optional ``iB``/``B``) as a number of bytes, or None."""
    t = str(text).strip().upper().removesuffix("B").removesuffix("I")
    unit = t[-1:] if t[-1:] in _UNITS and t[-1:] else ""
    digits = t[:-1] if unit else t
    if not digits.isascii() or not digits.isdigit():
        return None
    return int(digits) * _UNITS[unit]


def from_env(name, default):
    """The positive integer in the environment variable ``name`` (units as :func:`parse_bytes`), else ``default``."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = parse_bytes(raw)
    if value is None or value < 1:
        warnings.warn(f"{name}={raw!r} is not a positive number (e.g. 1000, 512M, 64G); the default "
                      f"{default:,} is used.", RuntimeWarning, stacklevel=2)
        return default
    return value


def _default_memory():
    """Half of the machine's memory, or of the process' address-space limit when one is set (ulimit -v)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        total = 16 * 2 ** 30
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        total = min(total, soft)
    return total // 2


#: most memory one allocation estimated before the work may take (bytes); SSL_PROOFS_MAX_MEMORY
MAX_MEMORY = from_env("SSL_PROOFS_MAX_MEMORY", _default_memory())
#: most bytes of a Matrix Market header (banner, comment and size lines together); SSL_PROOFS_MAX_HEADER_BYTES
MAX_HEADER_BYTES = from_env("SSL_PROOFS_MAX_HEADER_BYTES", 2 ** 20)
#: most bytes one Matrix Market entry line may take once decompressed ("i j value\n"); bounds the
#: decompressed body by its entry count
MAX_ENTRY_BYTES = 256


def gib(nbytes):
    """``nbytes`` for a message: ``'1.5 GiB'``."""
    return f"{nbytes / 2 ** 30:,.3g} GiB"


def check_memory(nbytes, what, remedy):
    """Refuse, before allocating, work estimated to need more than :data:`MAX_MEMORY` bytes.

    Parameters
    ----------
    nbytes : int
        The estimate (state how it is made where it is called).
    what : str
        What would allocate it, for the message ("the eigensolver for N = 10^6, k = 400").
    remedy : str
        How to ask for less ("lower k").

    Raises
    ------
    LimitExceeded
    """
    if nbytes <= MAX_MEMORY:
        return nbytes
    raise LimitExceeded(
        f"{what} would need about {gib(nbytes)} of memory, above the limit of {gib(MAX_MEMORY)} "
        f"(SSL_PROOFS_MAX_MEMORY; by default half of this machine's memory). {remedy}; or, on a machine that has "
        f"the memory, raise the limit, e.g. SSL_PROOFS_MAX_MEMORY={_suggest(nbytes)}."
    )


def _suggest(nbytes):
    return f"{-(-nbytes * 5 // 4 // 2 ** 30)}G"
