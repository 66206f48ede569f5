"""What each cell of a report says, in words: shared by the HTML, Markdown and LaTeX renderers."""
from __future__ import annotations

import re
import shlex
from pathlib import Path, PurePath

from ssl_proofs.evidence import Evidence

from .files import slug

#: the shape of every closed form (the solver's output), the profile s(lambda) being the method's own
ZSTAR_TEX = r"Z^{\star} = c\,\operatorname{diag}(w)\,U_K\,\operatorname{diag}(s(\lambda_1),\dots,s(\lambda_K))\,R^T"
#: what the closed-form paragraph says after the formula
ZSTAR_TEXT = ("the solver picks K eigenpairs and scales each by the profile s(λ) below "
              "(c, w: overall and row scales of the problem).")

#: columns of the theorem table, in order
THEOREM_COLUMNS = ("theorem", "statement", "evidence", "examples", "worst error / tol", "verdict")


def evidence(r):
    """The evidence label of a result dict (``"checked numerically, m=20, tol=1.0e-08"``)."""
    known = Evidence.__dataclass_fields__
    return Evidence(**{k: v for k, v in r["evidence"].items() if k in known}).short()


def _ratio(m):
    if m["tol"] > 0:
        return m["error"] / m["tol"]
    return 0.0 if m["error"] == 0 else float("inf")


def worst(r):
    """``"error / tol"``: the failing measurement furthest beyond its tolerance for a refutation,
    else the worst passing one; ``"–"`` when nothing was measured."""
    fails = r.get("failing") or []
    w = r.get("decided_by") or (max(fails, key=_ratio) if fails else r.get("worst"))  # runs before decided_by
    return "–" if w is None else f"{w['error']:.1e} / {w['tol']:.1e}" + (" (fails)" if fails else "")


def verdict(r):
    """``holds``, ``refuted (as recorded)`` or the verdict with ``REGRESSION (expected ...)``."""
    v = r["verdict"]
    if v != r["expected"]:
        return f"{v} REGRESSION (expected {r['expected']})"
    return v + (" (as recorded)" if v == "refuted" else "")


def row(r):
    """The theorem-table row of one result dict, as strings (see :data:`THEOREM_COLUMNS`)."""
    return (r["id"], r["statement"], evidence(r), str(r["examples"]), worst(r), verdict(r))


def failing(r):
    """The failing measurements of a refuted result: ``check: error 0.12 > tol 1e-06 (why)``."""
    return [f"{m['check']}: error {m['error']:.3g} > tol {m['tol']:.3g}" + (f" ({m['why']})" if m.get("why") else "")
            for m in r.get("failing", [])]


def seconds(x):
    """A wall time (the only part of a report that differs between runs of the same seed)."""
    return f"{float(x):.1f} s"


def summary(results):
    """``"55/55 verdicts as recorded"`` (with the regressions counted when there are any)."""
    ok = sum(r["verdict"] == r["expected"] for r in results)
    bad = len(results) - ok
    return f"{ok}/{len(results)} verdicts as recorded" + (f"; {bad} REGRESSION(S)" if bad else "")


def figure_name(r):
    """File name of a refutation's counterexample picture: a slug of its theorem id, never a path."""
    return f"{slug(r['id'])}.png"


def drawable(r):
    """Whether a result is a refutation with an instance to draw."""
    return r["verdict"] == "refuted" and isinstance(r.get("instance"), dict)


def edge_list(inst):
    """The instance's edges as text: ``0-1, 1-2 (w=2)``."""
    return ", ".join(f"{a}-{b}" + ("" if w == 1 else f" (w={w:g})") for a, b, w in inst["edges"]) or "no edges"


def instance_caption(inst):
    """One line with the instance's numbers: ``N=4, k=2, variant=squared, alpha=1, gamma=0.3``."""
    hp = ", ".join(f"{key}={v:g}" if isinstance(v, (int, float)) else f"{key}={v}"
                   for key, v in inst.get("hyper", {}).items() if v is not None)
    parts = [f"N={inst['N']}", f"k={inst['k']}", f"variant={inst['variant']}"] + ([hp] if hp else [])
    return ", ".join(parts)


#: what the Claims section is, said once for every format
CLAIMS_INTRO = ("The paper's downstream claims (ssl_proofs/claims, docs/claims.md): each as the paper words it, "
                "the exact statement we check, the verdict its experiment measured, the numbers behind it, and "
                "the experiment's figure.")


def claims_origin(report):
    """Where the claims come from: the claims run's source, seed and budget."""
    c = report.claims_run or {}
    return (f"Claims from {report.claims_source or 'this run'} (seed {c.get('seed', '?')}, "
            f"{'full' if c.get('full') else 'default'} budget).")


def claims_summary(claims):
    """``"5 claims: 1 holds, 2 refuted, ..."`` (verdicts in order of first appearance)."""
    counts = {}
    for c in claims:
        counts[c.verdict] = counts.get(c.verdict, 0) + 1
    return f"{len(claims)} claims: " + ", ".join(f"{n} {v}" for v, n in counts.items())


def claim_figure_caption(c):
    """Caption of a claim's figure: the experiment that drew it."""
    return f"Figure of the experiment {c.experiment} (`ssl-proofs experiment {c.experiment} --plot PNG`)."


def shown_path(path, root):
    """``path`` as a report shows it: relative to the project ``root`` when inside it, else its file name only
    (a report is shared: the checkout's location is nobody's business). Texts that are not paths pass as they are."""
    text = str(path)
    if not text or text == "this run":
        return text
    p = Path(text)
    try:
        return p.resolve().relative_to(Path(root).resolve()).as_posix()
    except (ValueError, OSError):
        return PurePath(text).name if p.is_absolute() or ".." in p.parts else p.as_posix()


#: the packages the "reproduce this report" line pins (the whole list is in the versions table)
PINNED = ("python", "ssl-proofs", "numpy", "scipy", "torch", "sympy", "hypothesis")


def reproduce(report):
    """The commands that rebuild this report, exactly: checkout, install, run, report (a list of lines)."""
    env, run = report.environment, report.run
    pk = env.get("packages", {})
    commit = str(env.get("git_commit", "unknown")).replace("+dirty", "")
    target = shlex.quote(str(report.target))
    seed, examples = run["seed"], run.get("examples")
    lines = []
    # these strings come from a run file: a command is printed only for values that cannot be shell syntax
    if re.fullmatch(r"[0-9a-f]{7,64}", commit):
        lines.append(f"git checkout {commit}")
    torch = str(pk.get("torch", "")).split("+")[0]
    if re.fullmatch(r"[0-9][0-9A-Za-z.]*", torch):
        lines.append(f"pip install torch=={torch}")
    lines.append('pip install -e ".[report]"')
    lines.append(f"ssl-proofs verify {target} --seed {seed}" + (f" --examples {examples}" if examples else "")
                 + " --json run.json")
    report_cmd = f"ssl-proofs report {target} --from-json run.json"
    if report.claims:
        c = report.claims_run or {}
        full = " --full" if c.get("full") else ""
        lines.append(f"ssl-proofs claims --seed {c.get('seed', seed)}{full} --json claims.json")
        shown = sorted({cl.experiment for cl in report.claims if cl.figure is not None})
        lines += ["mkdir -p claims_img"] if shown else []
        lines += [f"ssl-proofs experiment {e} --seed {c.get('seed', seed)}{full} --plot claims_img/{e}.png"
                  for e in shown]
        report_cmd += " --claims-json claims.json"
    lines.append(report_cmd + " --out report")
    return lines


def versions_line(report):
    """``python 3.11.7, ssl-proofs 0.1.0, numpy 2.4.6, ...``: the versions the run used (or this report's)."""
    pk = report.environment.get("packages", {})
    return ", ".join(f"{k} {pk[k]}" for k in PINNED if k in pk) or "not recorded"
