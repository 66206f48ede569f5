"""The ``ssl-proofs`` command line: the one place where the theory (``ssl_proofs``)
and what attacks it (``verifiers``) meet.

Each command lives in its own module under :mod:`ssl_proofs_cli.commands` and
exposes ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> exit code``;
:data:`COMMANDS` lists them in the order ``--help`` shows them.

Exit codes: 0 success / every verdict as recorded; 1 a verdict differs from
the record (a regression); 2 bad input (message, no traceback).
"""
from __future__ import annotations

import argparse
import sys

from ssl_proofs.errors import SSLProofsError

from .commands import derive, list_cmd, mutants, plot, solve, verify

#: command modules, in --help order (a new command: add its module here)
COMMANDS = [verify, derive, solve, plot, list_cmd, mutants]


def _parser():
    p = argparse.ArgumentParser(
        prog="ssl-proofs",
        description="Check the spectral-embedding theory of SSL (Balestriero & LeCun, NeurIPS 2022).",
    )
    sub = p.add_subparsers(dest="command")
    for cmd in COMMANDS:
        cmd.add_arguments(sub.add_parser(cmd.NAME, help=cmd.HELP))
    return p


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["verify"] + argv
    args = _parser().parse_args(argv)
    run = {cmd.NAME: cmd.run for cmd in COMMANDS}[args.command]
    try:
        return run(args)
    except SSLProofsError as exc:
        print(f"ssl-proofs: error: {exc}", file=sys.stderr)
        return 2
