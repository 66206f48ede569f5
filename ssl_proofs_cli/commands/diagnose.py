"""``ssl-proofs diagnose``: a trained network's batch embeddings held against the closed-form optimum."""
from __future__ import annotations

import sys

import ssl_proofs
from ssl_proofs.diagnose import OFFICIAL, REL_TOL, diagnose, from_official, hidden_collapse
from ssl_proofs.graphfiles import read_graph

from ..hyperflags import add_hyper_flags, hyper_args
from ..io import load_array, output_path, save_json

NAME = "diagnose"
HELP = "compare a network's batch embeddings with the closed-form optimum on the batch's graph"

#: covariance eigenvalues printed at each end of a long spectrum
SHOWN = 6
#: from this many nodes on, the dense eigendecomposition takes seconds: say so before it starts
LARGE = 1000


def add_arguments(p):
    p.add_argument("--embeddings", required=True, metavar="Z.npy", help="(N, K) embeddings, row i = node i of G")
    p.add_argument("--graph", required=True, metavar="G.npz", help="the batch's positive-pair graph (as for solve)")
    p.add_argument("--method", default="vicreg", help="vicreg (default), spectral_contrastive or barlowtwins")
    p.add_argument("--variant", default=None, help="vicreg: squared (default), constrained or hinge")
    add_hyper_flags(p)
    p.add_argument("--from-official", nargs="?", const="", default=None, metavar="NAME=VALUE,...",
                   help="take the official implementation's coefficients instead of --alpha/--beta/--gamma: "
                        "vicreg sim_coeff, std_coeff, cov_coeff (facebookresearch/vicreg, defaults 25, 25, 1), "
                        "barlowtwins lambd (facebookresearch/barlowtwins, default 0.0051); alone: the defaults. "
                        "Mapped to the paper's hyper-parameters (docs/diagnose.md)")
    p.add_argument("--rel-tol", type=float, default=REL_TOL, help="relative tolerance of the state classification")
    p.add_argument("--json", metavar="PATH", help="write the full diagnosis as JSON")


def _official(args, k):
    """(variant, hyper, mapping or None) from --from-official, or from the plain flags."""
    hp = hyper_args(args)
    if args.from_official is None:
        return args.variant, hp, None
    if hp:
        raise ssl_proofs.InvalidArgument(
            f"--from-official replaces the paper's hyper-parameters; drop {', '.join('--' + h for h in hp)} or "
            "drop --from-official.")
    coeffs = {}
    for item in filter(None, (x.strip() for x in args.from_official.split(","))):
        name, sep, value = item.partition("=")
        if not sep:
            raise ssl_proofs.InvalidArgument(
                f"--from-official takes NAME=VALUE pairs separated by commas (e.g. "
                f"{','.join(f'{n}={v:g}' for n, v in OFFICIAL.get(args.method, OFFICIAL['vicreg']).items())}), "
                f"got {item!r}.")
        coeffs[name.strip()] = value.strip()
    m = from_official(args.method, k, **coeffs)
    if args.variant not in (None, m.variant):
        raise ssl_proofs.InvalidArgument(f"the official {m.method} loss is the paper's {m.variant!r} variant; drop "
                                         f"--variant {args.variant}.")
    return m.variant, m.hyper, m


def _num(x, tol):
    """A loss value, 0 when it is 0 to rounding."""
    return "0" if abs(x) <= tol else f"{x:.6g}"


def _spectrum(values):
    vals = [f"{v:.3g}" for v in values]
    return ", ".join(vals) if len(vals) <= 2 * SHOWN else ", ".join(vals[:SHOWN]) + ", ..., " + ", ".join(vals[-2:])


def report(d):
    """The diagnosis on stdout, one fact per line, the verdict first."""
    print(f"{d.method} ({d.variant}), N = {d.n}, K = {d.k}, " + ", ".join(f"{k}={v:g}" for k, v in d.hyper.items()))
    print(f"verdict: {d.verdict}")
    zero = " (0 to rounding: the gap is the loss itself)" if d.optimal_loss == 0 else ""
    print(f"loss {_num(d.loss, d.loss_tol)}   optimal {_num(d.optimal_loss, d.loss_tol)} ({d.optimum}){zero}   "
          f"gap {_num(d.gap, d.loss_tol)} (relative {_num(d.relative_gap, d.loss_tol)}; values within "
          f"{d.loss_tol:.1e} print as 0)")
    angles = d.principal_angles
    if angles:
        print(f"principal angles over the {len(angles)} direction(s) both subspaces have (Z spans "
              f"{d.subspace_rank}, the optimum's eigenspace {d.optimal_subspace_dim}): max {max(angles):.1f} deg, "
              f"mean {sum(angles) / len(angles):.1f} deg; energy of Z inside the eigenspace "
              f"{d.energy_in_optimal_subspace:.3f}")
    print(f"rank: numerical {d.numerical_rank}, effective {d.effective_rank:.2f}; predicted {d.predicted_rank}; "
          f"{len(d.collapsed_directions)} bottom direction(s) predicted to collapse")
    word = "Cov(Z)" if d.method == "vicreg" else "Z^T Z / N (second moments: this loss sees the mean)"
    print(f"covariance spectrum (eigenvalues of {word}): {_spectrum(d.covariance_spectrum)}")
    coord = [v ** 0.5 for v in d.coordinate_variances]
    print(f"per-coordinate stds: {min(coord):.3g} to {max(coord):.3g}"
          + ("  <- dimensional collapse hidden by the per-coordinate stds" if
             hidden_collapse(d.covariance_spectrum, d.coordinate_variances) else ""))
    print(f"state: {d.state} (relative gradient {d.relative_grad_norm:.3g})")
    for note in d.notes:
        print(f"note: {note}")


def run(args):
    inputs = (("--embeddings", args.embeddings), ("--graph", args.graph))
    json_out = None if args.json is None else output_path(args.json, "--json", suffixes=(".json",),
                                                          add_suffix=".json", inputs=inputs)  # before the work
    Z = load_array(args.embeddings, "--embeddings")
    G = read_graph(args.graph)
    k = max(Z.shape[1], 1) if Z.ndim == 2 else 1   # a bad shape is refused by diagnose itself
    variant, hp, mapping = _official(args, k)
    if G.shape[0] >= LARGE:
        print(f"diagnose: N = {G.shape[0]}: the optimum's full eigenbasis is a dense eigendecomposition "
              "(O(N^3)), which takes a while", file=sys.stderr, flush=True)
    d = diagnose(Z, G, args.method, variant=variant, rel_tol=args.rel_tol, **hp)
    if json_out:  # before the printing: a reader that goes away must not lose the file
        rec = d.to_dict()
        if mapping is not None:
            rec["from_official"] = {"official": mapping.official, "hyper": mapping.hyper, "exact": mapping.exact}
        save_json(json_out, rec, inputs=inputs)
    if mapping is not None:
        print("official coefficients " + ", ".join(f"{n}={v:g}" for n, v in mapping.official.items())
              + f" -> the paper's {mapping.variant} loss with " + ", ".join(f"{n}={v:g}" for n, v in mapping.hyper.items())
              + f" (K = {k}; {mapping.exact})")
    report(d)
    return 0
