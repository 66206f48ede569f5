"""Plain-text verdict table for ``ssl-proofs verify``."""
from __future__ import annotations

import textwrap


def _row(cols, widths):
    return "  ".join(str(c).ljust(w) for c, w in zip(cols, widths)).rstrip()


def format_results(results, width=70, requested=None):
    """The verdict table; ``requested``: the examples asked per theorem (rows with fewer get a ``*`` and a
    footnote saying why: the column counts distinct instances checked, not hypothesis's draws)."""
    head = ["theorem", "evidence", "ex.", "deciding err / tol", "time", "verdict"]
    rows = []
    fewer = False
    for r in results:
        # the measurement the verdict stands on (TheoremResult.decided_by): for a refutation the failing one
        # and its kind of failure, else the passing one closest to its tolerance
        w = r.decided_by
        worst = "-" if w is None else f"{w.error:.1e} / {w.tol:.1e}" + (f" ({w.kind})" if r.verdict == "refuted" else "")
        verdict = r.verdict + ("" if r.matches else f"  REGRESSION (expected {r.theorem.expected})")
        if r.matches and r.verdict == "refuted":
            verdict += " (as recorded)"
        short = requested is not None and r.examples < requested
        fewer = fewer or short
        rows.append([r.theorem.id, r.evidence.short(), f"{r.examples}*" if short else r.examples, worst,
                     f"{r.seconds:.1f}s", verdict])
    widths = [max(len(str(x[i])) for x in rows + [head]) for i in range(len(head))]
    lines = [_row(head, widths), _row(["-" * w for w in widths], widths)]
    for r, row in zip(results, rows):
        lines.append(_row(row, widths))
        lines.append("    " + textwrap.shorten(r.theorem.statement, width=width + 40))
    refuted = [r for r in results if r.verdict == "refuted" or not r.matches]
    if refuted:
        lines.append("")
        lines.append("Counterexamples (shrunk by hypothesis):")
        for r in refuted:
            lines.append(f"- {r.theorem.id}: {r.counterexample or r.evidence.detail}")
            for m in r.failing:
                lines.append(f"    {m.kind}: {m.name}: error {m.error:.3g} > tol {m.tol:.3g}  [{m.reason}]")
    if fewer:
        lines.append("")
        lines.append(f"* ex. counts the distinct instances checked, fewer than the {requested} requested: hypothesis "
                     "skips duplicate draws (small input spaces) and rejects draws outside the claim's domain, a "
                     "refutation stops at its first counterexample, a derivation is checked once.")
    n_ok = sum(r.matches for r in results)
    lines.append("")
    lines.append(f"{n_ok}/{len(results)} verdicts as recorded"
                 + ("" if n_ok == len(results) else f"; {len(results) - n_ok} REGRESSION(S)")
                 + f"; {sum(r.seconds for r in results):.1f} s of checking ({sum(r.cpu_seconds for r in results):.1f} CPU s) "
                 "in all (time: wall-clock per theorem, in its worker)")
    return "\n".join(lines)
