"""The ``ssl-proofs`` command line: the one place where the theory (``ssl_proofs``)
and what attacks it (``ssl_proofs_verifiers``) meet.

Each command lives in its own module under :mod:`ssl_proofs_cli.commands` and
exposes ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> exit code``;
:data:`COMMANDS` lists them in the order ``--help`` shows them.

Exit codes: 0 success / every verdict as recorded; 1 a verdict differs from
the record (a regression); 2 bad input (message, no traceback); 3 an internal
error, i.e. a bug of ssl-proofs (message and traceback, to be reported).
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback

from ssl_proofs.errors import SSLProofsError

from .commands import claims, derive, diagnose, experiment, list_cmd, mutants, plot, solve, verify
from .commands import report as report_command  # the name `report` is the package ssl_proofs_cli.report

#: command modules, in --help order (a new command: add its module here)
COMMANDS = [verify, derive, solve, plot, report_command, claims, experiment, diagnose, mutants, list_cmd]


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
        code = run(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at interpreter exit
        return code
    except SSLProofsError as exc:
        print(f"ssl-proofs: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader went away (`ssl-proofs list | head`): stop quietly, and keep Python's
        # shutdown from flushing into the closed pipe again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("ssl-proofs: interrupted", file=sys.stderr)
        return 130
    except MemoryError:  # an allocation no estimate foresaw: the input is too large for this machine, not a bug
        print("ssl-proofs: error: out of memory: the input is too large for the memory this process may use "
              "(the estimates checked before the work did not foresee it). Use a smaller input, lower k, or run on "
              "a machine with more memory; SSL_PROOFS_MAX_MEMORY sets the budget the estimates are held to "
              "(docs/inputs.md).", file=sys.stderr)
        return 2
    except Exception:  # not bad input: a bug of ssl-proofs itself
        traceback.print_exc()
        print(f"ssl-proofs: internal error (a bug of ssl-proofs, not of your input): please report it with "
              f"the traceback above and the command line: ssl-proofs {' '.join(argv)}", file=sys.stderr)
        return 3
