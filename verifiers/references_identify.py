"""Published two-view losses the project does not register, transcribed from their official code.

Each is a plain ``loss(z1, z2)`` on two views' batches (B x K torch tensors), as its authors
wrote it, for ``ssl_proofs.identify`` (docs/identify.md) and ``tests/test_identify_published.py``;
e.g. ``ssl-proofs identify ssl_proofs_verifiers.references_identify:ssl_ey --graph G.npz -k 2``.
Differences from the official code are stated per function (distributed gathering dropped,
batch size read from the input, stateful EMA written at its first step).
"""
from __future__ import annotations

import torch

__all__ = ["ssl_ey", "cca_ssg", "tico"]


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
