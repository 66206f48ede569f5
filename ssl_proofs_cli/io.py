"""Reading user files on the command line."""
from __future__ import annotations

import numpy as np

from ssl_proofs.errors import InvalidArgument


def load_array(path, flag):
    """A ``.npy`` array given by a command-line flag, or the project's own error."""
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InvalidArgument(f"{flag} {path}: cannot read a .npy array ({exc}).") from None
