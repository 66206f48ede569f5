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
import subprocess
import sys
import traceback
from importlib import metadata
from pathlib import Path

from ssl_proofs.errors import SSLProofsError

from .commands import claims, derive, diagnose, experiment, identify, list_cmd, mutants, plot, solve, verify
from .commands import report as report_command  # the name `report` is the package ssl_proofs_cli.report

#: command modules, in --help order (a new command: add its module here)
COMMANDS = [verify, derive, solve, identify, plot, report_command, claims, experiment, diagnose, mutants, list_cmd]


#: the checkout this package was imported from, when it is one (editable install)
_CHECKOUT = Path(__file__).resolve().parents[1]


def version_string():
    """``ssl-proofs X.Y.Z`` from the installed metadata, plus the git commit when run from a checkout."""
    try:
        text = f"ssl-proofs {metadata.version('ssl-proofs')}"
    except metadata.PackageNotFoundError:
        text = "ssl-proofs (not installed: run from a source tree)"
    if (_CHECKOUT / ".git").exists():   # a directory in a clone, a file in a worktree
        try:
            head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=_CHECKOUT, capture_output=True,
                                  text=True, timeout=5, check=True).stdout.strip()
            text += f" (git {head})"
        except (OSError, subprocess.SubprocessError):
            pass
    return text


class _Version(argparse.Action):
    """``--version``: computed only when asked (the git call costs a process)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, help="print the version (and git commit in a checkout)")

    def __call__(self, parser, namespace, values, option_string=None):
        print(version_string())
        parser.exit()


def _parser():
    p = argparse.ArgumentParser(
        prog="ssl-proofs",
        description="Check the spectral-embedding theory of SSL (Balestriero & LeCun, NeurIPS 2022).",
    )
    p.add_argument("--version", action=_Version)
    sub = p.add_subparsers(dest="command")
    for cmd in COMMANDS:
        cmd.add_arguments(sub.add_parser(cmd.NAME, help=cmd.HELP))
    return p


class _Stdout:
    """``sys.stdout`` for one command: when the reader goes away (``ssl-proofs solve ... | head``) the
    rest of the output is dropped and the command carries on, so the files it was asked to write are
    still written (a closed pipe used to stop the command at its first line)."""

    def __init__(self, stream):
        self._stream, self.closed_pipe = stream, False

    def write(self, text):
        if not self.closed_pipe:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._gone()
        return len(text)

    def flush(self):
        if not self.closed_pipe:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._gone()

    def _gone(self):
        self.closed_pipe = True
        try:  # Python's shutdown would flush into the closed pipe again
            os.dup2(os.open(os.devnull, os.O_WRONLY), self._stream.fileno())
        except (OSError, ValueError, AttributeError):
            pass  # not a real file (a test's capture): nothing is flushed at exit

    def __getattr__(self, name):
        return getattr(self._stream, name)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv = ["verify"] + argv
    stdout, sys.stdout = sys.stdout, _Stdout(sys.stdout)
    try:
        args = _parser().parse_args(argv)
        code = {cmd.NAME: cmd.run for cmd in COMMANDS}[args.command](args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at interpreter exit
        return code
    except SSLProofsError as exc:
        print(f"ssl-proofs: error: {exc}", file=sys.stderr)
        return 2
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
    finally:
        sys.stdout = stdout
