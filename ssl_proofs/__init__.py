"""ssl-proofs: the theory of Balestriero & LeCun (2022) as checkable code.

``ssl_proofs`` holds the theory (losses, derivations, spectral problems,
closed forms, theorems); the sibling package ``ssl_proofs_verifiers`` attacks it.  This
package never imports ``ssl_proofs_verifiers``.
"""
from .errors import (SSLProofsError, InvalidGraph, InvalidArgument, GraphFileError,
                     LimitExceeded, NoClosedForm, UnknownName)
from .evidence import Evidence
from .theorems import Theorem
from .spectral import SpectralProblem, SpectralSolution, solve_spectral
from .methods import get_method, list_methods, list_theorems, get_theorem, register
from .identify import identify, Identification

__all__ = [
    "SSLProofsError", "InvalidGraph", "InvalidArgument", "GraphFileError", "LimitExceeded", "NoClosedForm", "UnknownName",
    "Evidence", "Theorem", "SpectralProblem", "SpectralSolution", "solve_spectral",
    "get_method", "list_methods", "list_theorems", "get_theorem", "register",
    "identify", "Identification",
]
__version__ = "0.1.0"
