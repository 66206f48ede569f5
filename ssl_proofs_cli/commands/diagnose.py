"""``ssl-proofs diagnose``: a trained network's batch embeddings held against the closed-form optimum."""
from __future__ import annotations

from ssl_proofs.diagnose import REL_TOL, diagnose
from ssl_proofs.graphfiles import read_graph

from ..hyperflags import add_hyper_flags, hyper_args
from ..io import load_array, output_path, save_json

NAME = "diagnose"
HELP = "compare a network's batch embeddings with the closed-form optimum on the batch's graph"


def add_arguments(p):
    p.add_argument("--embeddings", required=True, metavar="Z.npy", help="(N, K) embeddings, row i = node i of G")
    p.add_argument("--graph", required=True, metavar="G.npz", help="the batch's positive-pair graph (as for solve)")
    p.add_argument("--method", default="vicreg", help="vicreg (default), spectral_contrastive or barlowtwins")
    p.add_argument("--variant", default=None, help="vicreg: squared (default), constrained or hinge")
    add_hyper_flags(p)
    p.add_argument("--rel-tol", type=float, default=REL_TOL, help="relative tolerance of the state classification")
    p.add_argument("--json", metavar="PATH", help="write the full diagnosis as JSON")


def run(args):
    inputs = (("--embeddings", args.embeddings), ("--graph", args.graph))
    out = None if args.json is None else output_path(args.json, "--json", suffixes=(".json",), add_suffix=".json",
                                                     inputs=inputs)  # before the work
    Z = load_array(args.embeddings, "--embeddings")
    G = read_graph(args.graph)
    hp = hyper_args(args)
    d = diagnose(Z, G, args.method, variant=args.variant, rel_tol=args.rel_tol, **hp)
    if out:  # before the printing: a reader that goes away must not lose the file
        save_json(out, d.to_dict(), inputs=inputs, default=None)
    angles = d.principal_angles
    print(f"{d.method} ({d.variant}), N = {d.n}, K = {d.k}, " + ", ".join(f"{k}={v:g}" for k, v in d.hyper.items()))
    print(f"loss {d.loss:.6g}   optimal {d.optimal_loss:.6g} ({d.optimum})   gap {d.gap:.4g} "
          f"(relative {d.relative_gap:.3g})")
    if angles:
        print(f"principal angles to the optimum's {d.optimal_subspace_dim}-dim eigenspace: max {max(angles):.1f} deg, "
              f"mean {sum(angles) / len(angles):.1f} deg; energy inside {d.energy_in_optimal_subspace:.3f}")
    print(f"rank: numerical {d.numerical_rank}, effective {d.effective_rank:.2f}; predicted {d.predicted_rank}; "
          f"{len(d.collapsed_directions)} bottom direction(s) predicted to collapse")
    print(f"state: {d.state} (relative gradient {d.relative_grad_norm:.3g})")
    for note in d.notes:
        print(f"note: {note}")
    if out:
        print(f"saved {out}")
    return 0
