"""Published two-view losses the project does not register, transcribed from their official code.

Each is a plain ``loss(z1, z2)`` on two views' batches (B x K torch tensors), as its authors
wrote it, for ``ssl_proofs.identify`` (docs/identify.md) and ``tests/test_identify_published.py``;
e.g. ``ssl-proofs identify ssl_proofs_verifiers.references_identify:ssl_ey --graph G.npz -k 2``.
Differences from the official code are stated per function (distributed gathering dropped,
batch size read from the input, stateful EMA written at its first step).
"""
from __future__ import annotations

import torch

from ssl_proofs import get_method, identify

__all__ = ["ssl_ey", "cca_ssg", "tico", "vicreg_views", "vicreg_einsum", "vicreg_cov", "near_miss", "log_det",
           "whitening_views", "unequal_weights", "unbounded", "tried", "table"]


def ssl_ey(z1, z2):
    """SSL-EY (Chapman & Wells, NeurIPS 2023 SSL workshop; arXiv 2310.01012).

    Official: https://github.com/jameschapman19/SSL-EY/blob/18a286e421e6ce29a202ac0f4d77462057d0da9e/ssley.py
    (``SSLEY.forward``): centre each view, ``C = 2 x^T y / (B - 1)``,
    ``V = x^T x / (B - 1) + y^T y / (B - 1)``, ``loss = -2 tr(C) + tr(V V)``.  ``args.batch_size``
    is the batch size B (read here from the input); ``FullGatherLayer`` (multi-GPU) is dropped.
    """
    b = z1.shape[0]
    x = z1 - z1.mean(dim=0)
    y = z2 - z2.mean(dim=0)
    C = 2 * (x.T @ y) / (b - 1)
    V = (x.T @ x) / (b - 1) + (y.T @ y) / (b - 1)
    return -2 * torch.trace(C) + torch.trace(V @ V)


def cca_ssg(z1, z2, lambd=1e-3):
    """CCA-SSG (Zhang et al., "From Canonical Correlation Analysis to Self-supervised Graph Neural
    Networks", NeurIPS 2021).

    Official: standardisation in
    https://github.com/hengruizhang98/CCA-SSG/blob/d8bbfcd355fd9fd4c232f04bb771b78ca4ecd5a6/model.py
    (``CCA_SSG.forward``: ``z = (h - h.mean(0)) / h.std(0)``), loss in
    https://github.com/hengruizhang98/CCA-SSG/blob/3a7df1b7722cafe5866056e4dc62fb109d95bceb/main.py
    (``c = z1^T z2 / N``, ``c1 = z1^T z1 / N``, ``c2 = z2^T z2 / N``,
    ``loss = -tr(c) + lambd (||I - c1||^2 + ||I - c2||^2)``, default ``lambd = 1e-3``).  N is the
    number of nodes of the graph there, the batch size here.
    """
    z1 = (z1 - z1.mean(0)) / z1.std(0)
    z2 = (z2 - z2.mean(0)) / z2.std(0)
    n = z1.shape[0]
    c = z1.T @ z2 / n
    c1 = z1.T @ z1 / n
    c2 = z2.T @ z2 / n
    iden = torch.eye(c.shape[0], dtype=c.dtype)
    loss_inv = -torch.diagonal(c).sum()
    loss_dec1 = (iden - c1).pow(2).sum()
    loss_dec2 = (iden - c2).pow(2).sum()
    return loss_inv + lambd * (loss_dec1 + loss_dec2)


def tico(z1, z2, beta=0.9, rho=20.0):
    """TiCo (Zhu et al., "TiCo: Transformation Invariance and Covariance Contrast", arXiv 2206.10698).

    Transcribed from lightly's ``TiCoLoss.forward`` (the implementation the paper's authors' code
    is ported in):
    https://github.com/lightly-ai/lightly/blob/214eedcd9efc0c014f2eb0a82ae54c9e31d2aeef/lightly/loss/tico_loss.py
    (centre each view, rows L2-normalised, ``B = z_a^T z_a / N``, ``C <- beta C + (1 - beta) B``,
    ``loss = 1 - mean(z_a . z_b) + rho mean((z_a C) . z_a)``).  The covariance ``C`` is an EMA state
    across steps; here it is its first step from ``C = 0`` (``C = (1 - beta) B``), so the loss is a
    function of the batch alone (identify says nothing about the EMA dynamics).
    """
    z_a = z1 - z1.mean(0)
    z_b = z2 - z2.mean(0)
    z_a = torch.nn.functional.normalize(z_a, dim=-1)
    z_b = torch.nn.functional.normalize(z_b, dim=-1)
    B = torch.mm(z_a.T, z_a) / z_a.shape[0]
    C = (1 - beta) * B
    return 1 - (z_a * z_b).sum(dim=1).mean() + rho * (torch.mm(z_a, C) * z_a).sum(dim=1).mean()


# -- planted losses: what identify must accept or refuse (tests/test_identify.py, docs/identify.md) ----------


def vicreg_views(z1, z2, gamma=0.5):
    """Squared VICReg on two views, statistics per view (the official layout with the squared variance term)."""
    def cov(z):
        zc = z - z.mean(0)
        return zc.T @ zc / z.shape[0]
    eye = torch.eye(z1.shape[1], dtype=z1.dtype)
    return ((cov(z1) - eye) ** 2).sum() + ((cov(z2) - eye) ** 2).sum() + gamma * ((z1 - z2) ** 2).sum(1).mean()


def vicreg_einsum(z1, z2):
    """Squared VICReg (one view's covariance) written with einsum."""
    zc = z1 - z1.mean(0)
    c = torch.einsum("bi,bj->ij", zc, zc) / z1.shape[0]
    eye = torch.eye(c.shape[0], dtype=c.dtype)
    return torch.einsum("ij,ij->", c - eye, c - eye) + 0.25 * torch.einsum("bk,bk->", z1 - z2, z1 - z2) / z1.shape[0]


def vicreg_cov(z1, z2):
    """Squared VICReg through ``torch.cov`` (ddof = 1), scaled and shifted."""
    c = torch.cov(z1.T)
    eye = torch.eye(c.shape[0], dtype=c.dtype)
    return 5.0 * ((c - eye) ** 2).sum() + 0.7 * ((z1 - z2) ** 2).sum(1).mean() - 3.0


def near_miss(z1, z2):
    """Planted: a spectral loss plus a tiny entrywise term (must be refused at the moment test)."""
    return vicreg_views(z1, z2) + 1e-6 * (z1 ** 4).sum()


def log_det(z1, z2):
    """Planted: -log det of the covariance + invariance (rotation invariant, not a trace polynomial)."""
    zc = z1 - z1.mean(0)
    c = zc.T @ zc / z1.shape[0]
    return -torch.logdet(c) + ((z1 - z2) ** 2).sum(1).mean()


def whitening_views(z1, z2):
    """W-MSE (no_norm) on two views: each view whitened by its own batch covariance (Cholesky), then MSE."""
    def whiten(z):
        zc = z - z.mean(0)
        chol = torch.linalg.cholesky(zc.T @ zc / (z.shape[0] - 1))
        return torch.linalg.solve_triangular(chol, zc.T, upper=False).T
    return ((whiten(z1) - whiten(z2)) ** 2).mean()


def unequal_weights(z1, z2):
    """Planted: squared VICReg with beta = 3 alpha (moments yes, rotation invariance no)."""
    zc = z1 - z1.mean(0)
    c = zc.T @ zc / z1.shape[0]
    off = c - torch.diag(torch.diagonal(c))
    return ((torch.diagonal(c) - 1) ** 2).sum() + 3.0 * (off ** 2).sum() + ((z1 - z2) ** 2).sum(1).mean()


def unbounded(z1, z2):
    """Planted: invariance minus variance, a quadratic unbounded below."""
    return ((z1 - z2) ** 2).sum(1).mean() - (z1 - z1.mean(0)).pow(2).sum(0).mean()


# -- the table of docs/identify.md: every loss tried ---------------------------------------------------------


def _registered(name, variant, **hp):
    method = get_method(name)

    def loss(Z, G):
        return method.loss(Z, G.numpy(), variant=variant, **hp)

    loss.__name__ = f"{name}.{variant}"
    return loss


def tried():
    """``[(label, loss, form, graph note)]``: every loss docs/identify.md reports on."""
    reg = [("vicreg", "squared", {"alpha": 2.0, "gamma": 0.5}), ("vicreg", "hinge", {}),
           ("spectral_contrastive", "population", {}), ("wmse", "no_norm", {}), ("wmse", "norm", {}),
           ("barlowtwins", "paper", {"alpha": 0.5}), ("simclr", "paper", {"tau": 0.7}),
           ("simsiam", "no_predictor", {}), ("simsiam", "predictor", {})]
    out = [(f"registered {n} ({v}{', ' if hp else ''}{', '.join(f'{a}={b}' for a, b in hp.items())})",
            _registered(n, v, **hp), "graph") for n, v, hp in reg]
    out += [("VICReg squared, two views (official layout)", vicreg_views, "views"),
            ("VICReg squared, einsum rewrite", vicreg_einsum, "views"),
            ("VICReg squared, torch.cov rewrite x5 - 3", vicreg_cov, "views"),
            ("W-MSE no_norm, each view whitened", whitening_views, "views"),
            ("SSL-EY (official)", ssl_ey, "views"), ("CCA-SSG (official)", cca_ssg, "views"),
            ("TiCo (lightly, first EMA step)", tico, "views"),
            ("planted: VICReg + 1e-6 sum z^4", near_miss, "views"), ("planted: -log det C + invariance", log_det, "views"),
            ("planted: VICReg with beta = 3 alpha", unequal_weights, "views"),
            ("planted: invariance - variance", unbounded, "views")]
    try:
        from pytorch_metric_learning.losses import VICRegLoss  # optional: only for the table
        out.append(("pytorch_metric_learning VICRegLoss (class)", VICRegLoss, "views"))
    except ImportError:
        pass
    return out


def table(graph=None, k=2, seed=0):
    """Run ``identify`` on every loss of :func:`tried`; Markdown rows (one per loss)."""
    rows = ["| loss | form | verdict | template | metric | certificate | same_as | refused at (residual) | loss of Z |",
            "|---|---|---|---|---|---|---|---|---|"]
    for label, loss, form in tried():
        r = identify(loss, form=form, graph=graph, k=k, seed=seed)
        bad = None if r.refused_at is None else next((t for t in r.tests if t.name == r.refused_at), None)
        same = ("-" if r.same_as is None else f"{r.same_as['method']} ({r.same_as['variant']})"
                + ("" if r.same_as["graphs"] == "this graph" else ", regular graphs only"))
        rows.append(f"| {label} | {form} | {r.spectral} | {r.form or '-'} | {r.metric or '-'} | {r.certificate} | "
                    f"{same} | {'-' if bad is None else f'{bad.name} ({bad.residual:.1e})'} | "
                    f"{'-' if r.loss is None else f'{r.loss:.6g}'} |")
    return rows


if __name__ == "__main__":
    print("\n".join(table()))
