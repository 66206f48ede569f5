"""A live progress line on a terminal; one line per finished item otherwise."""
from __future__ import annotations

import sys
import time

from tqdm import tqdm


class Live:
    """Progress over theorems: a tqdm bar on a terminal, one line per theorem otherwise.

    ``workers``: theorems run in that many processes at once (the bar counts finished theorems);
    ``None`` for a Dask cluster.
    """

    def __init__(self, total, workers=1):
        self.total, self.i, self.tty = total, 0, sys.stderr.isatty()
        self.bar = tqdm(total=total, file=sys.stderr, unit="thm", leave=False) if self.tty else None
        if self.bar and workers != 1:
            self.bar.set_description("on Dask" if workers is None else f"{workers} workers")

    def start(self, theorem):
        if self.bar:
            self.bar.set_description(theorem.id)

    def tick(self, theorem, n):
        if self.bar:
            self.bar.set_description(theorem.id)
            self.bar.set_postfix_str(f"{n} examples")

    def done(self, res):
        self.i += 1
        if self.bar:
            self.bar.update(1)
            self.bar.set_postfix_str(f"last: {res.theorem.id} {res.verdict} ({res.seconds:.1f}s)")
        else:
            print(f"[{self.i}/{self.total}] {res.theorem.id}: {res.verdict} ({res.examples} examples, "
                  f"{res.seconds:.1f}s)", file=sys.stderr, flush=True)

    def close(self):
        if self.bar:
            self.bar.close()


class Stages:
    """A live line of named stages with the elapsed time (``identify``): rewritten in place on a
    terminal, one line per stage otherwise."""

    def __init__(self, prefix):
        self.prefix, self.tty = prefix, sys.stderr.isatty()
        self.t0 = time.perf_counter()

    def __call__(self, stage):
        line = f"{self.prefix}: {stage} ({time.perf_counter() - self.t0:.1f}s)"
        if self.tty:
            print("\r\033[K" + line, end="", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)

    def close(self):
        if self.tty:
            print("\r\033[K", end="", file=sys.stderr, flush=True)


class Steps:
    """Progress over the runs of one long computation (a global search's L-BFGS runs).

    Call the instance as ``progress(done, total, best)``: a tqdm bar on a terminal, otherwise one
    line every ``every`` runs and at the end (so a log shows the work moving, without flooding it).
    """

    def __init__(self, what, every=5):
        self.what, self.every, self.tty, self.bar = what, every, sys.stderr.isatty(), None

    def __call__(self, done, total, best):
        if self.tty:
            if self.bar is None:
                self.bar = tqdm(total=total, file=sys.stderr, unit="run", leave=False, desc=self.what)
            self.bar.update(done - self.bar.n)
            self.bar.set_postfix_str(f"best loss {best:.6g}")
        elif done % self.every == 0 or done == total:
            print(f"{self.what}: {done}/{total} L-BFGS runs, best loss so far {best:.6g}", file=sys.stderr, flush=True)

    def note(self, message):
        """A free-text step (e.g. the eigensolver's backward error): the bar's text, or a line."""
        if self.tty:
            if self.bar is None:
                self.bar = tqdm(file=sys.stderr, leave=False, desc=self.what, bar_format="{desc}: {postfix}")
            self.bar.set_postfix_str(message)
        else:
            print(f"{self.what}: {message}", file=sys.stderr, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()
