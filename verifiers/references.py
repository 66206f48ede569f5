"""Reference losses transcribed from the official implementations (test-only oracles).

Each function is the upstream code with the distributed / model parts removed
and the hyper-parameters made arguments; the arithmetic is unchanged.  Our
losses (the paper's graph forms) equal them only up to documented constants
and conventions -- see docs/conventions.md and tests/test_references.py.

This module registers no claim checks.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def off_diagonal(x):
    """Flattened off-diagonal entries of a square matrix (identical in both upstream repos)."""
    n, m = x.shape
    if n != m:
        raise ValueError(f"off_diagonal needs a square matrix, got {tuple(x.shape)}")
    return x.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()


def vicreg_official(x, y, *, sim_coeff=25.0, std_coeff=25.0, cov_coeff=1.0, eps=1e-4, terms=False):
    """``VICReg.forward`` of facebookresearch/vicreg (single process, after the projector).

    Upstream: https://github.com/facebookresearch/vicreg/blob/main/main_vicreg.py (``VICReg.forward``,
    ``off_diagonal``); index copy read at commit 08c8c0c0aae55f66d7c87377a46a13738cd29040.
    ``batch_size`` (args.batch_size) is ``x.shape[0]``; ``num_features`` is ``x.shape[1]``.
    ``eps`` is the 0.0001 inside the square root of the std (upstream constant).
    """
    batch_size, num_features = x.shape
    repr_loss = F.mse_loss(x, y)
    x = x - x.mean(dim=0)
    y = y - y.mean(dim=0)
    std_x = torch.sqrt(x.var(dim=0) + eps)
    std_y = torch.sqrt(y.var(dim=0) + eps)
    std_loss = torch.mean(F.relu(1 - std_x)) / 2 + torch.mean(F.relu(1 - std_y)) / 2
    cov_x = (x.T @ x) / (batch_size - 1)
    cov_y = (y.T @ y) / (batch_size - 1)
    cov_loss = off_diagonal(cov_x).pow_(2).sum().div(num_features) + \
        off_diagonal(cov_y).pow_(2).sum().div(num_features)
    loss = sim_coeff * repr_loss + std_coeff * std_loss + cov_coeff * cov_loss
    if terms:
        return loss, {"repr": repr_loss, "std": std_loss, "cov": cov_loss}
    return loss


def barlowtwins_official(z1, z2, *, lambd=0.0051, bn_eps=1e-5):
    """``BarlowTwins.forward`` loss of facebookresearch/barlowtwins (single process).

    Upstream: https://github.com/facebookresearch/barlowtwins/blob/a655214c76c97d0150277b85d16e69328ea52fd9/main.py
    (``self.bn = nn.BatchNorm1d(sizes[-1], affine=False)``; ``c = self.bn(z1).T @ self.bn(z2)``;
    ``c.div_(self.args.batch_size)``; ``on_diag``/``off_diag``; ``loss = on_diag + lambd * off_diag``).
    BatchNorm1d in training mode: batch mean, *biased* variance, ``bn_eps`` inside the square root.
    """
    def bn(z):
        zc = z - z.mean(dim=0)
        return zc / torch.sqrt(zc.pow(2).mean(dim=0) + bn_eps)

    batch_size = z1.shape[0]
    c = bn(z1).T @ bn(z2)
    c = c / batch_size
    on_diag = torch.diagonal(c).add(-1).pow(2).sum()
    off_diag = off_diagonal(c).pow(2).sum()
    return on_diag + lambd * off_diag


def vicreg_pml(x, y, *, sim_coeff=25.0, std_coeff=25.0, cov_coeff=1.0, eps=1e-4):
    """pytorch-metric-learning's ``VICRegLoss`` (mean reducer) on the pair ``(x, y)``."""
    from pytorch_metric_learning.losses import VICRegLoss

    return VICRegLoss(invariance_lambda=sim_coeff, variance_mu=std_coeff, covariance_v=cov_coeff,
                      eps=eps)(x, ref_emb=y)
