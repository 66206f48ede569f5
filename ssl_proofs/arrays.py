"""What an array argument may be before its own checks run: the shared first step of every array validator.

``G``, ``Z`` and ``X`` arrive as NumPy arrays, nested lists, torch tensors or scipy matrices.
:func:`to_numpy` turns the dense ones into a plain ``ndarray`` (dtype kept, so a caller can still
refuse complex values) and refuses, with the project's own error, what would otherwise surface as
numpy's or torch's exception, or be misread silently:

* a masked array (its mask would be dropped by every computation: refused, pass ``a.filled(...)``);
* a meta or sparse torch tensor (no data / a layout numpy cannot read);
* a tensor that requires grad (detached: the values are what is checked);
* Python integers beyond the float64 range (``10**400``).
"""
from __future__ import annotations

import numpy as np
import torch

from .errors import InvalidArgument

__all__ = ["to_numpy", "check_float_array"]


def to_numpy(value, name, *, error=InvalidArgument):
    """``value`` as an ``ndarray`` (its own dtype), or ``error`` naming ``name`` and the fix.

    Parameters
    ----------
    value : array_like or torch.Tensor
        Not a scipy.sparse matrix (callers handle those first).
    name : str
        For messages (``"G"``, ``"Z"``).
    error : type
        The project's exception to raise.
    """
    if np.ma.isMaskedArray(value):
        raise error(f"{name} is a numpy masked array; its mask would be ignored. Pass {name}.filled(value) with the "
                    "value the masked entries stand for (0 for 'no pair' in a graph), or drop the masked rows.")
    if isinstance(value, torch.Tensor):
        return _tensor_to_numpy(value, name, error)
    try:
        return np.asarray(value)
    except OverflowError:
        raise error(f"{name} holds integers beyond the float64 range (|x| > 1.8e308); rescale it.") from None
    except (TypeError, ValueError, RuntimeError) as exc:  # ragged lists, objects without __array__, ...
        raise error(f"{name} could not be read as a numeric array ({exc}).") from None


def _tensor_to_numpy(t, name, error):
    if t.is_meta:
        raise error(f"{name} is a meta tensor: it has a shape but no values. Pass a tensor that holds data.")
    if t.layout != torch.strided:
        raise error(f"{name} is a torch tensor with layout {t.layout}; pass {name}.to_dense() (or a scipy.sparse "
                    "matrix for a graph).")
    t = t.detach().cpu().resolve_conj().resolve_neg()
    if t.is_complex():
        t = t.to(torch.complex128)
    elif t.is_floating_point() or t.dtype == torch.bool:
        t = t.to(torch.float64)  # bfloat16 and float8 have no numpy dtype
    return t.numpy()


def check_float_array(value, name, *, error=InvalidArgument, what="entries"):
    """``value`` as a real float64 ``ndarray``: :func:`to_numpy`, then complex and non-numeric refused.

    Overflow in the cast (a Python int or float128 beyond float64) is refused; finiteness and shape
    are the caller's checks.
    """
    a = to_numpy(value, name, error=error)
    if np.iscomplexobj(a):
        raise error(f"{name} has complex {what}; they must be real. Pass {name}.real if the imaginary parts are "
                    "rounding noise.")
    if a.dtype.kind not in "biuf" and a.dtype != object:
        raise error(f"{name} must be a numeric array, got dtype {a.dtype}.")
    try:
        with np.errstate(over="raise"):
            return np.array(a, dtype=np.float64)
    except (OverflowError, FloatingPointError):
        raise error(f"{name} holds values beyond the float64 range (|x| > 1.8e308); rescale it.") from None
    except (TypeError, ValueError):
        raise error(f"{name} must be a numeric array.") from None
