"""The structure-aware fuzz target of the input boundary (benchmarks/fuzz_inputs.py), short in CI, long when slow.

Every case is a forged file run through every reader in a child process under a memory cap and a
timeout; the outcome that could be false is "0 crashes, 0 hangs, 0 tracebacks, 0 out-of-memory".
On the code before issue 18 (1ccae61) the short budget finds crashes (segfaults of forged sparse
archives) within its first cases.
"""
import os

import pytest

from benchmarks.fuzz_inputs import fuzz


def _assert_clean(counts, failures):
    assert counts["cases"] > 0 and counts["requests"] >= counts["cases"]
    assert not failures, "\n".join(f"case {f['case']} ({f['kind']}): {f['outcome']} {f['request']}\n{f['detail']}"
                                   for f in failures[:5])


def test_fuzz_inputs_short_budget():
    # a fixed number of cases (not seconds), so that CI checks the same files on a loaded machine
    counts, failures = fuzz(cases=int(os.environ.get("FUZZ_INPUT_CASES", 40)), seed=1, timeout=120, progress=False)
    _assert_clean(counts, failures)


@pytest.mark.slow
def test_fuzz_inputs_long_budget():
    counts, failures = fuzz(budget=float(os.environ.get("FUZZ_INPUT_BUDGET", 900)), seed=2, timeout=120,
                            progress=False)
    _assert_clean(counts, failures)
