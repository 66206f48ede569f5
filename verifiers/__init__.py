"""verifiers: everything that tries to break the theory in ``ssl_proofs``.

Public entry points: :func:`verify` and :func:`check_solver`.
"""
from .runner import verify, check_solver, TheoremResult, DEFAULT_EXAMPLES

__all__ = ["verify", "check_solver", "TheoremResult", "DEFAULT_EXAMPLES"]
