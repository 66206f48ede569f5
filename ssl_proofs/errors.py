"""The project's one exception family.

Every error a user can trigger by passing bad input derives from
:class:`SSLProofsError`.  Messages say what is wrong *and* what to do about
it, in the style of hypothesis' ``InvalidArgument``.  Input checks never use
``assert`` (it vanishes under ``python -O``).
"""


class SSLProofsError(Exception):
    """Base class of every error raised on purpose by ssl-proofs."""


class InvalidGraph(SSLProofsError, ValueError):
    """The positive-pair graph G is not a valid relation matrix."""


class InvalidArgument(SSLProofsError, ValueError):
    """A hyper-parameter, shape or option is out of its domain."""


class GraphFileError(SSLProofsError, ValueError):
    """A graph file could not be read or parsed."""


class OutputError(SSLProofsError, OSError):
    """A file could not be written where the user asked (disk full, a link, an input in the way)."""


class NoClosedForm(SSLProofsError, NotImplementedError):
    """The requested variant of a method has no closed-form optimum."""


class NotProvided(SSLProofsError, NotImplementedError):
    """A method does not provide this part (yet): its loss, its derivation."""


class UnknownName(SSLProofsError, KeyError):
    """An unknown method or theorem id was requested."""

    def __str__(self):  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class SolverFailed(SSLProofsError, RuntimeError):
    """The solver under test (``ssl_proofs_verifiers.check_solver``) raised, or returned no finite (N, K) array."""


class InternalError(Exception):
    """A bug of ssl-proofs itself (e.g. a check crashed on an instance it drew), never bad input.

    Deliberately *not* an :class:`SSLProofsError`: the CLI reports it with exit code 3.
    """


class LimitExceeded(SSLProofsError, ValueError):
    """An input would need more than a stated resource limit (memory, decompressed bytes, nodes).

    The message names the limit, the amount asked for, and how to raise it (docs/inputs.md).
    """
