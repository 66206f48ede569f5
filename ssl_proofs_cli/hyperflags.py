"""``--alpha``, ``--gamma``, ...: the hyper-parameter flags, built from the methods' declarations.

Every registered method declares its hyper-parameters (:class:`ssl_proofs.hyper.Hyper`); a
command that takes hyper-parameters adds one flag per declared name and reads them back
with :func:`hyper_args`.  A flag a method does not have is rejected by the method itself
(``check_hyper``), with the list of its hyper-parameters.
"""
from __future__ import annotations

import ssl_proofs

__all__ = ["add_hyper_flags", "hyper_args"]


def _declared():
    """name -> [(method, Hyper)] over every registered method, in registry order."""
    out = {}
    for name in ssl_proofs.list_methods():
        for h in ssl_proofs.get_method(name).hypers:
            out.setdefault(h.name, []).append((name, h))
    return out


def add_hyper_flags(parser):
    """Add ``--<name>`` (float, default: the method's) for every declared hyper-parameter."""
    for name, uses in _declared().items():
        text = "; ".join(f"{m}: {h.help or name}" + ("" if h.default is None else f", default {h.default:g}")
                         for m, h in uses)
        parser.add_argument(f"--{name}", type=float, default=None, help=text)


def hyper_args(args):
    """The hyper-parameters given on the command line (flags left out are not passed)."""
    return {name: getattr(args, name) for name in _declared() if getattr(args, name, None) is not None}
