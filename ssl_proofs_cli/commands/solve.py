"""``ssl-proofs solve``: the closed form for your own graph (and data, linear regime), with its certificate.

The certificate says what the answer is: ``proved`` (a closed form whose theorem covers this
input: a global minimiser), ``candidate`` (the closed form outside its proved range: not known
to be optimal; a warning on stderr says what is known), ``searched`` (``--search``: the best
point of the global search, an upper bound on the minimum) or ``certified`` (``--search`` where a
certified lower bound is known, :mod:`ssl_proofs.bounds`, and the point's loss meets it: a global
minimiser up to the printed gap).  With ``--search`` the bound and the gap are printed and written.
"""
from __future__ import annotations

import sys

import ssl_proofs
from ssl_proofs.graphfiles import read_graph

from ..hyperflags import add_hyper_flags, hyper_args
from ..io import load_array, output_path, save_array, save_json

NAME = "solve"
HELP = "closed form (with its certificate) or global search for your own graph"


def add_arguments(s):
    s.add_argument("method")
    s.add_argument("--graph", required=True, help="graph file: .npz (scipy sparse), .mtx, .npy or edge list")
    s.add_argument("-k", type=int, required=True, help="embedding dimension K")
    s.add_argument("--variant", default=None, help="loss variant (default: the method's closed-form one)")
    s.add_argument("--out", required=True, help="where to save Z (.npy; the suffix is added when missing)")
    add_hyper_flags(s)
    s.add_argument("--data", default=None, help="inputs X (.npy) for the linear regime (--linear)")
    s.add_argument("--linear", action="store_true", help="solve for W in Z = XW (needs --data)")
    s.add_argument("--search", action="store_true",
                   help="return the best point of the global search (multi-start L-BFGS started at the "
                        "closed form; the only answer for SimCLR), certificate 'searched', or 'certified' "
                        "when it meets a certified lower bound (SimCLR: the elliptope relaxation)")
    s.add_argument("--seed", type=int, default=0, help="seed of --search")
    s.add_argument("--json", default=None, metavar="PATH",
                   help="write loss, certificate, rank, eigenvalues and hyper-parameters to PATH")


def run(args):
    out = output_path(args.out, "--out", suffixes=(".npy",), add_suffix=".npy")  # before the work
    json_out = None if args.json is None else output_path(args.json, "--json", suffixes=(".json",), add_suffix=".json")
    method = ssl_proofs.get_method(args.method)
    G = read_graph(args.graph)
    hp = hyper_args(args)
    if args.linear or args.data:
        if not (args.linear and args.data):
            raise ssl_proofs.InvalidArgument("the linear regime needs both --linear and --data X.npy.")
        if not hasattr(method, "solve_linear"):
            raise ssl_proofs.NoClosedForm(f"{method.name} has no linear-regime solver yet.")
        X = load_array(args.data, "--data")
        sol = method.solve_linear(X, G, args.k, variant=args.variant, **hp)
        save_array(out, sol.W)
        print(f"saved W {sol.W.shape} to {out}; loss {sol.loss:.6g}")
        return 0
    sol = method.solve(G, args.k, variant=args.variant, search=args.search, seed=args.seed, **hp)
    save_array(out, sol.Z)
    ev = ", ".join(f"{x:.4g}" for x in sol.eigenvalues)
    meaning = {"proved": "global minimiser (closed form inside its proved range)",
               "candidate": "closed form outside its proved range, not known to be optimal",
               "searched": "best point of the global search (an upper bound on the minimum)",
               "certified": "global minimiser: the searched point meets a certified lower bound"}[sol.certificate]
    print(f"saved Z {sol.Z.shape} to {out}; variant {sol.variant}; loss {sol.loss:.6g}; "
          f"rank {sol.rank}; eigenvalues {'of the closed form it started from' if sol.certificate in ('searched', 'certified') else 'used'}: "
          f"{ev or '-'}")
    if sol.residual is not None:
        print(f"backward error of the eigenpairs: {sol.residual:.1e} ({sol.spectral.solver})")
    print(f"certificate: {sol.certificate} ({meaning})")
    if sol.certificate == "candidate":
        print(f"warning: {sol.note}", file=sys.stderr)
    elif sol.certificate in ("searched", "certified"):
        print(f"search: {sol.note}")
        if sol.bound is None:
            print(f"lower bound: none known ({sol.bound_note})")
        else:
            print(f"lower bound: {sol.bound:.9g} (certified: {sol.bound_note}); gap loss - bound = {sol.gap:.1e}: "
                  + ("both sides certified (the point's loss is an upper bound, the bound a lower one)"
                     if sol.certificate == "certified" else "only the lower side is certified"))
    if json_out:
        record = {"method": method.name, "variant": sol.variant, "k": args.k, "loss": sol.loss,
                  "certificate": sol.certificate, "note": sol.note, "rank": sol.rank,
                  "eigenvalues": [float(x) for x in sol.eigenvalues], "hyper": sol.hyper, "out": str(out),
                  "residual": sol.residual, "solver": None if sol.spectral is None else sol.spectral.solver,
                  "bound": sol.bound, "gap": sol.gap, "bound_note": sol.bound_note}
        save_json(json_out, record)
        print(f"saved {json_out}")
    return 0
