"""matplotlib helpers shared by the experiments' figures (Agg backend, no display)."""
from __future__ import annotations

import io

import numpy as np

from ssl_proofs.errors import InvalidArgument


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend, or the project's error naming the extra to install."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InvalidArgument("plots need matplotlib: pip install -e '.[plots]'.") from None
    return plt


def mean_std(records, x_key, y_key, **match):
    """``(xs, means, stds)`` of ``y_key`` over records matching ``match``, grouped by ``x_key``."""
    rows = [r for r in records if all(r.get(k) == v for k, v in match.items())]
    xs = sorted({r[x_key] for r in rows})
    ys = [[r[y_key] for r in rows if r[x_key] == x] for x in xs]
    return np.array(xs, dtype=float), np.array([np.mean(v) for v in ys]), np.array([np.std(v) for v in ys])


def save(fig, fmt="png"):
    """The figure's image as bytes in ``fmt`` (png, pdf, svg, ...); the caller writes them where it was told.

    (This package writes no file: ``ssl-proofs experiment --plot`` saves the bytes with the command
    line's checked, atomic writer.)
    """
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=110)
    pyplot().close(fig)
    return buf.getvalue()
