"""``ssl-proofs solve``: the closed-form optimum for your own graph (and data, linear regime)."""
from __future__ import annotations

import numpy as np

import ssl_proofs
from ssl_proofs.graphfiles import read_graph

from ..io import load_array

NAME = "solve"
HELP = "closed-form optimal representation for your own graph"


def add_arguments(s):
    s.add_argument("method")
    s.add_argument("--graph", required=True, help="graph file: .npz (scipy sparse), .mtx, .npy or edge list")
    s.add_argument("-k", type=int, required=True, help="embedding dimension K")
    s.add_argument("--variant", default=None, help="loss variant (default: the method's closed-form one)")
    s.add_argument("--out", required=True, help="where to save Z (.npy)")
    for name in ("alpha", "beta", "gamma", "tau"):
        s.add_argument(f"--{name}", type=float, default=None)
    s.add_argument("--data", default=None, help="inputs X (.npy) for the linear regime (--linear)")
    s.add_argument("--linear", action="store_true", help="solve for W in Z = XW (needs --data)")


def run(args):
    method = ssl_proofs.get_method(args.method)
    G = read_graph(args.graph)
    hp = {k: getattr(args, k) for k in ("alpha", "beta", "gamma", "tau")
          if getattr(args, k) is not None}
    if args.linear or args.data:
        if not (args.linear and args.data):
            raise ssl_proofs.InvalidArgument("the linear regime needs both --linear and --data X.npy.")
        if not hasattr(method, "solve_linear"):
            raise ssl_proofs.NoClosedForm(f"{method.name} has no linear-regime solver yet.")
        X = load_array(args.data, "--data")
        sol = method.solve_linear(X, G, args.k, variant=args.variant, **hp)
        np.save(args.out, sol.W)
        print(f"saved W {sol.W.shape} to {args.out}; loss {sol.loss:.6g}")
        return 0
    sol = method.solve(G, args.k, variant=args.variant, **hp)
    np.save(args.out, sol.Z)
    ev = ", ".join(f"{x:.4g}" for x in sol.eigenvalues)
    print(f"saved Z {sol.Z.shape} to {args.out}; variant {sol.variant}; loss {sol.loss:.6g}; "
          f"rank {sol.rank}; eigenvalues used: {ev}; backward error {sol.residual:.1e} "
          f"({sol.spectral.solver})")
    return 0
