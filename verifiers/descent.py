"""Gradient-descent helpers, now in :mod:`ssl_proofs.search` (kept importable for existing callers)."""
from __future__ import annotations

from ssl_proofs.search import DescentResult, minimise, resolve_device

__all__ = ["DescentResult", "minimise", "resolve_device"]
