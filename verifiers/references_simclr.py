"""Reference SimCLR implementations people train with, used as independent oracles.

Nothing here is imported by ``ssl_proofs``.  Each function is either a thin
call into a third-party package (pytorch-metric-learning, a test dependency,
imported lazily) or a line-by-line transcription of upstream code, with the
permalink it was transcribed from.

Constants, on the two-view graph ``view_graph(n, 2)`` (rows ``[view 1; view 2]``,
``N = 2n``), against the paper's loss (a **sum** over the ``2n`` anchors):

* ``paper = 2n * pml_ntxent_two_view``  (pytorch-metric-learning: mean over the 2n positive pairs);
* ``paper = n * google_add_contrastive_loss``  (google: ``loss_a + loss_b``, each a mean over n).
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["google_add_contrastive_loss", "pml_ntxent_two_view", "pml_ntxent_labels", "pml_supcon_labels",
           "LARGE_NUM"]

#: google-research/simclr objective.py
LARGE_NUM = 1e9


def google_add_contrastive_loss(hidden, hidden_norm=True, temperature=1.0, weights=1.0):
    """google-research/simclr ``add_contrastive_loss`` (TF1), transcribed to torch (float64).

    Upstream: https://github.com/google-research/simclr/blob/master/objective.py
    (transcribed from commit be133b38fb21abb77403391dc6db3412edfe92f2:
    https://github.com/google-research/simclr/blob/be133b38fb21abb77403391dc6db3412edfe92f2/objective.py).
    The TPU cross-replica branch is dropped (single replica: ``hidden*_large = hidden*``).
    ``tf.losses.softmax_cross_entropy`` with a scalar weight reduces by
    ``SUM_BY_NONZERO_WEIGHTS``, i.e. the mean over the ``n`` rows times ``weights``.

    Parameters
    ----------
    hidden : (2n, d) array or tensor, rows ``[view 1; view 2]``
    hidden_norm, temperature, weights : as upstream (upstream default temperature 1.0)

    Returns
    -------
    loss : float
    """
    h = torch.as_tensor(np.asarray(hidden) if not isinstance(hidden, torch.Tensor) else hidden,
                        dtype=torch.float64)
    if hidden_norm:
        # tf.math.l2_normalize: x * rsqrt(max(sum(x^2), 1e-12))
        h = h * torch.rsqrt(torch.clamp((h * h).sum(-1, keepdim=True), min=1e-12))
    hidden1, hidden2 = torch.chunk(h, 2, 0)
    batch_size = hidden1.shape[0]
    labels = torch.nn.functional.one_hot(torch.arange(batch_size), batch_size * 2).to(h.dtype)
    masks = torch.nn.functional.one_hot(torch.arange(batch_size), batch_size).to(h.dtype)

    logits_aa = hidden1 @ hidden1.T / temperature
    logits_aa = logits_aa - masks * LARGE_NUM
    logits_bb = hidden2 @ hidden2.T / temperature
    logits_bb = logits_bb - masks * LARGE_NUM
    logits_ab = hidden1 @ hidden2.T / temperature
    logits_ba = hidden2 @ hidden1.T / temperature

    def softmax_cross_entropy(onehot, logits):
        per_row = -(onehot * torch.log_softmax(logits, dim=1)).sum(dim=1) * weights
        return per_row.sum() / batch_size  # SUM_BY_NONZERO_WEIGHTS with a scalar weight

    loss_a = softmax_cross_entropy(labels, torch.cat([logits_ab, logits_aa], 1))
    loss_b = softmax_cross_entropy(labels, torch.cat([logits_ba, logits_bb], 1))
    return float(loss_a + loss_b)


def _t(x):
    return torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x, dtype=torch.float64)


def pml_ntxent_two_view(z1, z2, temperature):
    """pytorch-metric-learning ``SelfSupervisedLoss(NTXentLoss(temperature), symmetric=True)(z1, z2)``."""
    from pytorch_metric_learning.losses import NTXentLoss, SelfSupervisedLoss

    return float(SelfSupervisedLoss(NTXentLoss(temperature=temperature), symmetric=True)(_t(z1), _t(z2)))


def pml_ntxent_labels(Z, labels, temperature):
    """pytorch-metric-learning ``NTXentLoss(temperature)(Z, labels)``: one term per positive pair,
    the other positives excluded from its denominator, mean over the positive pairs."""
    from pytorch_metric_learning.losses import NTXentLoss

    return float(NTXentLoss(temperature=temperature)(_t(Z), torch.as_tensor(np.asarray(labels))))


def pml_supcon_labels(Z, labels, temperature):
    """pytorch-metric-learning ``SupConLoss(temperature)(Z, labels)``: positives averaged per anchor,
    mean over the anchors with a positive (``AvgNonZeroReducer``)."""
    from pytorch_metric_learning.losses import SupConLoss

    return float(SupConLoss(temperature=temperature)(_t(Z), torch.as_tensor(np.asarray(labels))))
