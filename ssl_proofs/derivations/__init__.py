"""Derivations of the paper's spectral rewrites, one module per method.

Each module exposes ``derivation(variant) -> Derivation`` (unchecked); call
``.check()`` on the result to fill in the evidence of every step.
"""
from . import vicreg

__all__ = ["vicreg"]
