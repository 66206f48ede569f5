"""``ssl-proofs solve``: the closed form for your own graph (and data, linear regime), with its certificate.

The certificate says what the answer is: ``proved`` (a closed form whose theorem covers this
input: a global minimiser), ``candidate`` (the closed form outside its proved range: not known
to be optimal; a warning on stderr says what is known), ``searched`` (``--search``: the best
point of the global search, an upper bound on the minimum) or ``certified`` (``--search`` where a
certified lower bound is known, :mod:`ssl_proofs.bounds`, and the point's loss meets it: a global
minimiser up to the printed gap).  With ``--search`` the bound and the gap are printed and written.

Every mode (closed form, ``--search``, ``--linear``) prints and writes (``--json``) the same
record, built once by :func:`solution_record`: loss, certificate with its note, rank of Z (and
why it is below K), residual of the eigenpairs, eigenvalues, search summary.
"""
from __future__ import annotations

import sys

import numpy as np
import sympy

import ssl_proofs
from ssl_proofs.graphfiles import read_graph
from ssl_proofs.spectral import lam

from ..hyperflags import add_hyper_flags, hyper_args
from ..io import load_array, output_path, save_array, save_json
from ..progress import Steps

NAME = "solve"
HELP = "closed form (with its certificate) or global search for your own graph"

#: what each certificate means, printed beside it
MEANING = {"proved": "global minimiser (closed form inside its proved range)",
           "candidate": "closed form outside its proved range, not known to be optimal",
           "searched": "best point of the global search (an upper bound on the minimum)",
           "certified": "global minimiser: the searched point meets a certified lower bound"}
#: certificates of a search's answer (the point is the search's, not a closed form's)
SEARCHED = ("searched", "certified")


def add_arguments(s):
    s.add_argument("method", help="method name (ssl-proofs list shows them)")
    s.add_argument("--graph", required=True, help="graph file: .npz (scipy sparse), .mtx, .npy or edge list")
    s.add_argument("-k", type=int, required=True, help="embedding dimension K")
    s.add_argument("--variant", default=None, help="loss variant (default: the method's closed-form one)")
    s.add_argument("--out", required=True, help="where to save Z, or W with --linear (.npy; the suffix is added "
                                                "when missing)")
    add_hyper_flags(s)
    s.add_argument("--data", default=None, help="inputs X (.npy) for the linear regime (--linear)")
    s.add_argument("--linear", action="store_true", help="solve for W in Z = XW (needs --data)")
    s.add_argument("--search", action="store_true",
                   help="return the best point of the global search (multi-start L-BFGS started at the "
                        "closed form; the only answer for SimCLR), certificate 'searched', or 'certified' "
                        "when it meets a certified lower bound (SimCLR: the elliptope relaxation); not with --linear")
    s.add_argument("--seed", type=int, default=0, help="seed of --search")
    s.add_argument("--json", default=None, metavar="PATH",
                   help="write the record (loss, certificate and note, rank of Z, residual, eigenvalues, "
                        "hyper-parameters, search summary) to PATH")


def _floats(values):
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(values, dtype=float)]


def _profile_text(problem):
    """The closed form's profile s(lambda) with the hyper-parameters substituted, e.g. sqrt(Max(0, 1 - 2*lambda))."""
    subs = {sympy.Symbol(str(n), real=True) if isinstance(n, str) else n: v for n, v in problem.hyper.items()}
    return str(problem.profile.subs(subs)).replace(str(lam), "lambda")


def rank_note(sol, method, k):
    """Why Z has fewer than K non-zero columns ('' when it has K): which eigenvalues the profile zeroes."""
    if sol.rank >= k or sol.certificate in SEARCHED:
        return ""
    problem = sol.problem if hasattr(sol, "W") else sol.spectral.problem
    scales = np.asarray(sol.scales if hasattr(sol, "W") else sol.spectral.scales, dtype=float)
    vals = np.asarray(sol.eigenvalues, dtype=float)
    zeroed = [v for v, sc in zip(vals, scales) if np.isfinite(v) and abs(sc) <= 1e-12 * max(1.0, np.abs(scales).max())]
    padded = int(np.count_nonzero(~np.isfinite(vals)))
    cond = method.zero_scale_condition(sol.variant, sol.hyper, sol.Z.shape[0]) or \
        f"s(lambda) = {_profile_text(problem)} is 0"
    parts = []
    if zeroed:
        parts.append(f"{len(zeroed)} column(s) are zero because their eigenvalue(s) "
                     f"{', '.join(f'{v:.4g}' for v in zeroed)} satisfy {cond}")
    if padded:
        parts.append(f"{padded} zero column(s) padded (k above rank(X^T B X))")
    text = "; ".join(parts) or "columns below rounding"
    if sol.rank == 0:
        text = ("Z = 0 (collapse) is the optimum at these hyper-parameters: " + text +
                ". Change the hyper-parameters (e.g. a larger variance weight) for a non-trivial embedding")
    return text


def solution_record(sol, method, k, *, out=None):
    """The one record ``solve`` prints and writes, whatever the mode (closed form, search, linear).

    Parameters
    ----------
    sol : Solution or LinearSolution
    method : Method
    k : int
    out : path, optional
        Where Z (or W) was saved.

    Returns
    -------
    dict
        JSON-ready; a later field (e.g. a search bound) is added here and printed by :func:`print_record`.
    """
    linear = hasattr(sol, "W")
    spectral = sol.spectral
    rec = {
        "method": method.name, "regime": "linear" if linear else "search" if sol.certificate in SEARCHED
        else "closed form",
        "variant": sol.variant, "k": int(k), "hyper": dict(sol.hyper),
        "loss": float(sol.loss),
        "certificate": sol.certificate, "certificate_meaning": MEANING[sol.certificate], "note": sol.note,
        "rank": int(sol.rank), "rank_note": rank_note(sol, method, k),
        "residual": None if sol.residual is None else float(sol.residual),
        "solver": None if spectral is None else spectral.solver,
        "eigenvalues": _floats(sol.eigenvalues),
        # the certified lower side of a search (ssl_proofs.bounds), where one is known
        "bound": None if getattr(sol, "bound", None) is None else float(sol.bound),
        "gap": None if getattr(sol, "gap", None) is None else float(sol.gap),
        "bound_note": getattr(sol, "bound_note", ""),
        "search": None,
        "out": None if out is None else str(out),
    }
    if linear:
        rec.update(saved="W", shape=list(sol.W.shape), metric_rank=int(sol.metric_rank),
                   null_space_dim=0 if sol.null_space is None else int(sol.null_space.shape[1]),
                   notes=list(sol.notes))
    else:
        rec.update(saved="Z", shape=list(sol.Z.shape))
    sr = getattr(sol, "search", None)
    if sr is not None:
        rec["search"] = {"evidence": sr.evidence, "runs": int(sr.starts), "best_origin": sr.origin,
                         "grad_norm": float(sr.grad_norm), "upper_bound": float(sr.loss),
                         "certified_sides": "both" if sol.certificate == "certified" else
                         "lower only" if sol.bound is not None else "neither (upper bound searched only)"}
    return rec


def print_record(rec):
    """The record on stdout (the candidate warning on stderr), one fact per line."""
    print(f"saved {rec['saved']} {tuple(rec['shape'])} to {rec['out']}; loss {rec['loss']:.6g}")
    hyper = ", ".join(f"{k}={v:g}" for k, v in rec["hyper"].items())
    print(f"{rec['method']} ({rec['variant']}, {rec['regime']}), K = {rec['k']}" + (f", {hyper}" if hyper else ""))
    print(f"certificate: {rec['certificate']} ({rec['certificate_meaning']}): {rec['note']}")
    print(f"rank of Z: {rec['rank']} of K = {rec['k']}" + (f" ({rec['rank_note']})" if rec["rank_note"] else ""))
    if rec["residual"] is not None:
        print(f"backward error of the eigenpairs: {rec['residual']:.1e} ({rec['solver']})")
    ev = ", ".join("pad" if v is None else f"{v:.4g}" for v in rec["eigenvalues"])
    if ev:
        which = "of the closed form the search started from" if rec["certificate"] in SEARCHED else "used"
        print(f"eigenvalues {which}: {ev}")
    else:
        print("eigenvalues: - (no closed form: the search started from its own starts, see the certificate note)")
    if rec["regime"] == "linear":
        print(f"rank(X^T B X) = {rec['metric_rank']}; null space of W: {rec['null_space_dim']} direction(s)")
        for note in rec["notes"]:
            if note != rec["note"]:
                print(f"note: {note}")
    if rec["search"] is not None:
        srch = rec["search"]
        print(f"search: {srch['runs']} L-BFGS runs, best from a {srch['best_origin']} start (|grad|_max "
              f"{srch['grad_norm']:.1e}): loss {srch['upper_bound']:.6g} is an upper bound on the minimum")
        if rec["bound"] is None:
            print(f"lower bound: none known ({rec['bound_note']})")
        else:
            print(f"lower bound: {rec['bound']:.9g} (certified: {rec['bound_note']}); gap loss - bound = "
                  f"{rec['gap']:.1e}: " + ("both sides certified (the point's loss is an upper bound, the bound a "
                                            "lower one)" if rec["certificate"] == "certified"
                                            else "only the lower side is certified"))
    if rec["certificate"] == "candidate":
        print(f"warning: not a proved optimum: {rec['note']}", file=sys.stderr)


def _solve(args, method, G, hp):
    if args.linear or args.data:
        if not (args.linear and args.data):
            raise ssl_proofs.InvalidArgument("the linear regime needs both --linear and --data X.npy.")
        if args.search:
            raise ssl_proofs.InvalidArgument(
                "--search is not available with --linear: the global search runs over Z, not over W in Z = XW. "
                "Drop --search for the linear closed form (its certificate says whether it is proved), or drop "
                "--linear --data to search over Z.")
        if not hasattr(method, "solve_linear"):
            raise ssl_proofs.NoClosedForm(f"{method.name} has no linear-regime solver yet.")
        X = load_array(args.data, "--data")
        sol = method.solve_linear(X, G, args.k, variant=args.variant, **hp)
        return sol, sol.W
    live = Steps(f"solve {method.name}" + (" --search" if args.search else ""))
    try:
        sol = method.solve(G, args.k, variant=args.variant, search=args.search, seed=args.seed,
                           progress=live if args.search else None, eigen_progress=live.note, **hp)
    finally:
        live.close()
    return sol, sol.Z


def run(args):
    inputs = (("--graph", args.graph), ("--data", args.data))
    out = output_path(args.out, "--out", suffixes=(".npy",), add_suffix=".npy", inputs=inputs)  # before the work
    json_out = None if args.json is None else output_path(args.json, "--json", suffixes=(".json",),
                                                          add_suffix=".json", inputs=inputs)
    method = ssl_proofs.get_method(args.method)
    G = read_graph(args.graph)
    sol, array = _solve(args, method, G, hyper_args(args))
    save_array(out, array, inputs=inputs)
    rec = solution_record(sol, method, args.k, out=out)
    if json_out:  # every file before any line is printed: a reader that goes away must not lose them
        save_json(json_out, rec, inputs=inputs)
    print_record(rec)
    if json_out:
        print(f"saved {json_out}")
    return 0
