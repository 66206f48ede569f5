"""Figures: where a picture says more than a table.

``ssl-proofs plot vicreg --graph FILE -k K --out fig.png`` draws the spectrum of
L and the per-direction variance of the closed-form optimum as gamma/alpha
sweeps, i.e. the rank-collapse phase diagram of the squared VICReg optimum.
"""
from __future__ import annotations

import numpy as np

from ssl_proofs.errors import InvalidArgument


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InvalidArgument("plots need matplotlib: pip install -e '.[plots]'.") from None
    return plt


def variance_profile(method, G, k, ratios, variant="squared"):
    """Per-direction variances of ``method.solve`` over a sweep of gamma/alpha (alpha = 1)."""
    rows = []
    for r in ratios:
        sol = method.solve(G, k, variant=variant, alpha=1.0, gamma=float(r))
        rows.append(sol.spectral.scales ** 2)
    return np.array(rows)


def plot_vicreg(method, G, k, fh, *, fmt="png", ratios=None):
    """Draw :func:`figure_vicreg` into the open binary file ``fh`` in format ``fmt`` (the caller's atomic
    writer owns the file)."""
    plt = _pyplot()
    fig = figure_vicreg(method, G, k, ratios=ratios)
    fig.tight_layout()
    fig.savefig(fh, format=fmt, dpi=120)
    plt.close(fig)


def figure_vicreg(method, G, k, *, ratios=None):
    """The spectrum of L (left; integer ticks for the index k) and the closed form's per-direction
    variance as gamma/alpha sweeps (right; legend outside the data)."""
    plt = _pyplot()
    ratios = np.logspace(-3, 2, 120) if ratios is None else np.asarray(ratios)
    V = variance_profile(method, G, k, ratios)
    lam = method.solve(G, k, variant="constrained").eigenvalues
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.stem(np.arange(1, k + 1), lam)
    a.set_xlabel("k")
    a.xaxis.set_major_locator(plt.MaxNLocator(integer=True))   # an index: 1, 2, not 1.0, 1.5
    a.set_ylabel(r"$\lambda_k(L)$ on $1^\perp$")
    a.set_title("bottom eigenvalues of the graph Laplacian")
    for j in range(k):
        b.semilogx(ratios, V[:, j], label=fr"$\lambda$={abs(lam[j]) if abs(lam[j]) > 1e-12 else 0:.3g}")
    b.plot(ratios, (V > 0).sum(axis=1) / k, "k--", lw=1, label="rank / K")
    b.set_xlabel(r"$\gamma/\alpha$")
    b.set_ylabel(r"variance $(1-(\gamma/\alpha)\lambda_k)_+$")
    b.set_title("squared VICReg optimum: per-direction variance")
    b.legend(fontsize=7, ncol=2, loc="upper left", bbox_to_anchor=(1.02, 1.0))   # outside: never over a curve
    return fig
