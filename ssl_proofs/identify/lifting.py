"""How a user's loss is read as a loss of ``(Z, G)``, and the checks that the loss is usable at all.

``form="views"``: ``loss(z1, z2)`` on two views' batches (B x K) is lifted by the paper's pair
listing (:func:`ssl_proofs.graphs.pair_listing`: each edge of G in both directions, an edge of
weight w listed w times; ``z1 = Z[rows]``, ``z2 = Z[cols]``).  Batch statistics of ``z1`` are then
degree-weighted: ``z1^T z1 = Z^T D Z`` and its centred form is ``Z^T (D - d d^T / S) Z``, not the
node-level ``Z^T H Z``; the two agree on regular graphs only.  ``form="graph"``: ``loss(Z, G)`` with
G a dense float64 torch tensor.

A callable with a ``ref_emb`` parameter (pytorch-metric-learning's losses) is called
``loss(z1, ref_emb=z2)``; a ``torch.nn.Module`` class is instantiated with no arguments.
"""
from __future__ import annotations

import inspect

import numpy as np
import torch

from .. import graphs as _graphs
from ..errors import InvalidArgument

FORMS = ("views", "graph")


class LossError(InvalidArgument):
    """The loss handed in cannot be evaluated as a differentiable scalar (the message says why)."""


def as_callable(loss):
    """A plain callable from a function, a ``torch.nn.Module`` instance or class."""
    if inspect.isclass(loss):
        if not issubclass(loss, torch.nn.Module):
            raise LossError(f"{loss.__name__} is a class but not a torch.nn.Module; pass a function "
                            "loss(z1, z2) or a torch.nn.Module class or instance.")
        try:
            loss = loss()
        except Exception as exc:  # user code: any failure is bad input
            raise LossError(f"{loss.__name__}() could not be instantiated with no arguments "
                            f"({type(exc).__name__}: {exc}); pass an instance instead.") from None
    if not callable(loss):
        raise LossError(f"the loss must be callable (a function or a torch.nn.Module), got {type(loss).__name__}.")
    return loss


def _arity_problem(fn, form):
    """A message if ``fn`` cannot be called with two positional tensors, else ''."""
    target = fn.forward if isinstance(fn, torch.nn.Module) else fn
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return ""  # builtins without a signature: the probe call decides
    names = "(z1, z2)" if form == "views" else "(Z, G)"
    try:
        sig.bind(None, None)
    except TypeError as exc:
        return f"the loss cannot be called as loss{names}: its signature is {sig} ({exc})."
    return ""


def _uses_ref_emb(fn):
    target = fn.forward if isinstance(fn, torch.nn.Module) else fn
    try:
        return "ref_emb" in inspect.signature(target).parameters
    except (TypeError, ValueError):
        return False


class Lifted:
    """The user's loss as ``f(Z)`` on one graph (float64 torch in, 0-d tensor out).

    Parameters
    ----------
    loss : callable or torch.nn.Module (class or instance)
    form : {"views", "graph"}
    G : (N, N) graph (checked)
    """

    def __init__(self, loss, form, G):
        if form not in FORMS:
            raise InvalidArgument(f"form must be one of {FORMS}, got {form!r}.")
        self.fn = as_callable(loss)
        self.form = form
        self.G = np.asarray(_graphs.to_dense(G), dtype=float)
        self.n = self.G.shape[0]
        problem = _arity_problem(self.fn, form)
        if problem:
            raise LossError(problem)
        self.ref_emb = _uses_ref_emb(self.fn)
        if form == "views":
            if not np.allclose(self.G, np.rint(self.G), rtol=0, atol=1e-12):
                raise InvalidArgument("form='views' lifts the loss by the pair listing, which lists an edge of "
                                      "weight w w times: G must have integer weights. Use form='graph' for "
                                      "a weighted G.")
            rows, cols = _graphs.pair_listing(self.G)
            if rows.size < 2:
                raise InvalidArgument(f"the pair listing of G has {rows.size} pair(s); two views need a batch "
                                      "of at least 2 pairs (give G at least one edge).")
            self.rows, self.cols = torch.as_tensor(rows), torch.as_tensor(cols)
            self.description = ("pair listing: rows, cols = G.nonzero() (both directions, weight w listed w "
                                f"times, B = S = {rows.size} pairs), z1 = Z[rows], z2 = Z[cols]; batch "
                                "statistics are degree-weighted (centred second moment Z^T (D - dd^T/S) Z)")
        else:
            self.Gt = torch.as_tensor(self.G, dtype=torch.float64)
            self.description = "graph form: loss(Z, G) as given (G a dense float64 tensor)"

    def raw(self, Z):
        """The user's return value at ``Z`` (no checks)."""
        if self.form == "graph":
            return self.fn(Z, self.Gt)
        z1, z2 = Z[self.rows], Z[self.cols]
        return self.fn(z1, ref_emb=z2) if self.ref_emb else self.fn(z1, z2)

    def permuted(self, Z, perm):
        """The loss with the batch (views: listed pairs; graph: nodes with G) permuted by ``perm``."""
        if self.form == "graph":
            p = torch.as_tensor(perm)
            return self.fn(Z[p], self.Gt[p][:, p])
        p = torch.as_tensor(perm)
        z1, z2 = Z[self.rows[p]], Z[self.cols[p]]
        return self.fn(z1, ref_emb=z2) if self.ref_emb else self.fn(z1, z2)

    @property
    def batch(self):
        return self.n if self.form == "graph" else int(self.rows.numel())

    def __call__(self, Z):
        """The loss at ``Z``; NaN (still attached to Z) where the user's code raises, e.g. a Cholesky
        factorisation of a singular covariance met by the search: such a point is never a candidate."""
        try:
            value = self.raw(Z)
        except Exception:  # user code, already probed at a generic point: an undefined point, not bad input
            return (Z * float("nan")).sum()
        return _scalar(value)

    def probe(self, k, seed=0):
        """Evaluate loss and gradient at a random Z; raise :class:`LossError` saying what is wrong."""
        rng = np.random.default_rng(seed)
        Z = torch.tensor(rng.standard_normal((self.n, k)), dtype=torch.float64, requires_grad=True)
        shape = "(B, K) = ({}, {})".format(self.batch, k) if self.form == "views" else f"(N, K) = ({self.n}, {k})"
        try:
            value = self.raw(Z)
        except Exception as exc:  # user code: any failure is bad input
            raise LossError(f"the loss raised {type(exc).__name__}: {exc} (called with float64 tensors of shape "
                            f"{shape}); make it accept float64 input of any batch size.") from None
        if isinstance(value, (tuple, list)):
            raise LossError(f"the loss returned a {type(value).__name__} of {len(value)} items, not a scalar "
                            "tensor; wrap it so that it returns the loss alone.")
        if not isinstance(value, torch.Tensor):
            raise LossError(f"the loss returned {type(value).__name__} {value!r}, not a torch tensor: it is not "
                            "differentiable (compute it with torch operations, without .item() or numpy).")
        if value.numel() != 1:
            raise LossError(f"the loss returned a tensor of shape {tuple(value.shape)}, not a scalar; reduce it "
                            "(e.g. .mean() or .sum()).")
        if not bool(torch.isfinite(value.detach()).all()):
            raise LossError(f"the loss is {float(value.detach().reshape(()))} at a random Z of shape {shape}; "
                            "identify needs a finite loss.")
        if not value.requires_grad:
            raise LossError("the loss is not differentiable in its input: the value it returns does not depend on "
                            "z1, z2 through torch operations (detached, .item(), numpy or torch.no_grad?).")
        (g,) = torch.autograd.grad(value.reshape(()), Z, allow_unused=True)
        if g is None or not bool(torch.isfinite(g).all()):
            raise LossError("the gradient of the loss is missing or not finite at a random Z; identify needs a "
                            "loss differentiable at generic points.")
        return float(value.detach().reshape(()))


def _scalar(value):
    if not isinstance(value, torch.Tensor) or value.numel() != 1:
        raise LossError("the loss stopped returning a scalar tensor at some input; it must for every Z.")
    return value.reshape(())


def value(f, Z):
    """``f`` at a numpy ``Z`` as a float (no gradient)."""
    with torch.no_grad():
        return float(f(torch.as_tensor(Z, dtype=torch.float64)))


def gradient(f, Z):
    """``(value, gradient)`` of ``f`` at a numpy ``Z``."""
    Zt = torch.tensor(np.asarray(Z, dtype=float), dtype=torch.float64, requires_grad=True)
    v = f(Zt)
    (g,) = torch.autograd.grad(v, Zt, allow_unused=True)
    g = torch.zeros_like(Zt) if g is None else g
    return float(v.detach()), g.detach().numpy()
