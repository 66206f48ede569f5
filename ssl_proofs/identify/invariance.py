"""Invariance tests of the lifted loss: permutation of the batch, rotation, mixing and shift of Z.

Each test evaluates the loss at random Z and at the transformed Z and reports the largest
relative change ``|f(TZ) - f(Z)| / max(|f(Z)|, |f(TZ)|)``.  Passing proves nothing for all Z
(three probes); failing is a proof, with the residual as its size.  What each one means:

* ``permutation``: the loss is a function of the batch as a set of pairs (views) / of the
  relabelled graph (graph form); without it the lifting is not well defined.
* ``rotation``: ``f(Z R) = f(Z)`` for orthogonal R, needed by every template with a closed form
  (the optimum is then unique at best up to R).
* ``mixing``: ``f(Z A) = f(Z)`` for invertible A: the loss sees only the column span of Z
  (whitening losses); the trace-ratio template is tried.
* ``shift``: ``f(Z + 1 v^T) = f(Z)``: the mean of Z is free, the closed form is returned centred.
"""
from __future__ import annotations

import numpy as np
import torch

from .identification import TestResult
from .tolerances import INVARIANCE

PROBES = 3


def _relative(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def _random_orthogonal(rng, k):
    Q, R = np.linalg.qr(rng.standard_normal((k, k)))
    return Q * np.sign(np.diag(R))


def _random_mixing(rng, k):
    """An invertible K x K matrix with singular values in [0.5, 2] (well conditioned, far from orthogonal)."""
    U, V = _random_orthogonal(rng, k), _random_orthogonal(rng, k)
    s = np.exp(rng.uniform(np.log(0.5), np.log(2.0), k))
    if k > 1:
        s[0], s[-1] = 0.5, 2.0
    else:
        s[0] = 2.0
    return U @ np.diag(s) @ V.T


def invariance_tests(lifted, k, *, seed=0):
    """The four tests of the module docstring, in order: a list of :class:`TestResult`."""
    rng = np.random.default_rng([seed, 23])
    n = lifted.n
    worst = {"permutation": 0.0, "rotation": 0.0, "mixing": 0.0, "shift": 0.0}
    with torch.no_grad():
        for _ in range(PROBES):
            Z = rng.standard_normal((n, k))
            Zt = torch.as_tensor(Z)
            f0 = float(lifted(Zt))
            perm = rng.permutation(lifted.batch)
            worst["permutation"] = max(worst["permutation"], _relative(f0, float(lifted.permuted(Zt, perm).reshape(()))))
            R = _random_orthogonal(rng, k)
            worst["rotation"] = max(worst["rotation"], _relative(f0, float(lifted(torch.as_tensor(Z @ R)))))
            A = _random_mixing(rng, k)
            worst["mixing"] = max(worst["mixing"], _relative(f0, float(lifted(torch.as_tensor(Z @ A)))))
            v = rng.standard_normal(k) * 2.0
            worst["shift"] = max(worst["shift"], _relative(f0, float(lifted(torch.as_tensor(Z + v[None, :])))))
    details = {
        "permutation": "f(batch permuted, both views together) = f",
        "rotation": "f(Z R) = f(Z), R orthogonal",
        "mixing": "f(Z A) = f(Z), A invertible (singular values 0.5..2)",
        "shift": "f(Z + 1 v^T) = f(Z)",
    }
    return [TestResult(name, worst[name], INVARIANCE, bool(worst[name] <= INVARIANCE),
                       f"{details[name]}, {PROBES} random Z") for name in worst]
