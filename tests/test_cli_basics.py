"""The command line's basics (issue 19, item 4): --version, help on every flag, sensible defaults,
footnotes where a number would be misread, figures whose ticks and legends read right."""
import argparse
from importlib import metadata
from types import SimpleNamespace

import numpy as np
import pytest

import ssl_proofs
from ssl_proofs_cli import _parser, main
from ssl_proofs_cli.table import format_results

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from ssl_proofs_cli.plots import figure_vicreg  # noqa: E402
from ssl_proofs_verifiers.experiments import hinge  # noqa: E402


def _walk(parser, path):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, path + [name])
        elif not isinstance(action, argparse._HelpAction):
            yield " ".join(path), action


def test_version_comes_from_the_package_metadata(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"ssl-proofs {metadata.version('ssl-proofs')}")


def test_every_flag_and_positional_has_help():
    missing = [f"{path} {action.option_strings or action.dest}" for path, action in _walk(_parser(), ["ssl-proofs"])
               if not (action.help or "").strip()]
    assert not missing, f"arguments without help text: {missing}"


def test_the_walk_sees_every_command():
    # the check above can fail only if the walk reaches the sub-commands' arguments
    paths = {path for path, _ in _walk(_parser(), ["ssl-proofs"])}
    assert {"ssl-proofs solve", "ssl-proofs plot", "ssl-proofs derive", "ssl-proofs diagnose"} <= paths


def test_derive_defaults_to_the_variant_with_a_spectral_form(capsys):
    assert main(["derive", "vicreg", "--format", "text", "--no-check"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == "VICReg (squared): from the loss to its spectral form"
    # the paper's hinge stops early, and says why
    assert main(["derive", "vicreg", "--variant", "hinge", "--format", "md", "--no-check"]) == 0
    out = capsys.readouterr().out
    assert "**Stops here:**" in out and "no spectral form" in out and "--variant squared" in out


def test_derive_shows_which_step_it_is_checking(capsys):
    assert main(["derive", "spectral_contrastive", "--format", "text"]) == 0
    err = capsys.readouterr().err
    assert "derive spectral_contrastive: checking step 1/" in err


def _result(tid, examples, verdict="holds"):
    theorem = SimpleNamespace(id=tid, statement="s", expected=verdict)
    evidence = SimpleNamespace(short=lambda: "numeric", detail="")
    return SimpleNamespace(theorem=theorem, evidence=evidence, examples=examples, worst=None, decided_by=None,
                           matches=True, verdict=verdict, seconds=0.1, cpu_seconds=0.1, counterexample=None, failing=[])


def test_fewer_examples_than_requested_are_footnoted():
    table = format_results([_result("a.b", 16), _result("a.c", 20)], requested=20)
    row = next(line for line in table.splitlines() if line.startswith("a.b"))
    assert " 16* " in row
    assert "skips duplicate draws" in table and "fewer than the 20 requested" in table
    full = format_results([_result("a.c", 20)], requested=20)
    assert "*" not in full


def test_plot_ticks_the_index_k_with_integers():
    G = np.diag(np.ones(5), 1)
    fig = figure_vicreg(ssl_proofs.get_method("vicreg"), G + G.T, 2, ratios=np.logspace(-2, 1, 5))
    fig.canvas.draw()
    ticks = [t for t in fig.axes[0].get_xticks() if fig.axes[0].get_xlim()[0] <= t <= fig.axes[0].get_xlim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks


def _overlaps(fig):
    """(axes title, line) pairs whose legend box covers a plotted point or a segment between two
    (display coordinates; each segment sampled at 50 points)."""
    fig.canvas.draw()
    bad = []
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        box = legend.get_window_extent()
        for line in ax.get_lines():
            xy = line.get_transform().transform(np.column_stack(line.get_data()).astype(float))
            t = np.linspace(0, 1, 50)[:, None]
            pts = np.vstack([xy[:1]] + [a + t * (b - a) for a, b in zip(xy[:-1], xy[1:])])
            inside = (pts[:, 0] > box.x0) & (pts[:, 0] < box.x1) & (pts[:, 1] > box.y0) & (pts[:, 1] < box.y1)
            if inside.any():
                bad.append((ax.get_title(), line.get_label()))
    return bad


def test_hinge_figure_legend_covers_no_data():
    ratios, betas, k = [0.01, 0.1, 1.0, 10.0, 100.0], [1.0, 10.0, 100.0], 12
    # ranks and losses shaped like the recorded figure (docs/results/claims_img/hinge.png)
    records = [{"beta": b, "ratio": r, "rank_two_minimisations": {"rank": 12 if r < 1 else 7},
                "effective_rank": 12.0 if r < 1 else 6.7, "best_loss": 0.0, "candidate_loss": 0.1 * (r > 0.05),
                "squared_rank": 12 if r < 0.5 else 7} for b in betas for r in ratios]
    fig = hinge.figure({"records": records, "params": {"betas": betas, "k": k}})
    assert not _overlaps(fig)
    # the check can fail: the old placement (inside, matplotlib's default for 7 entries) covers the curves
    fig.axes[0].legend(fontsize=7)
    assert _overlaps(fig)
