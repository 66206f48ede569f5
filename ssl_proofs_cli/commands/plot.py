"""``ssl-proofs plot``: spectrum and per-direction variance vs gamma/alpha."""
from __future__ import annotations

import ssl_proofs
from ssl_proofs.graphfiles import read_graph

from ..io import IMAGE_SUFFIXES, output_path, write_stream
from ..plots import plot_vicreg

NAME = "plot"
HELP = "figure: spectrum and per-direction variance vs gamma/alpha (vicreg)"


def add_arguments(f):
    f.add_argument("method", help="method name (vicreg only: the squared closed form's phase diagram)")
    f.add_argument("--graph", required=True, help="graph file (as for solve)")
    f.add_argument("-k", type=int, required=True, help="embedding dimension K")
    f.add_argument("--out", required=True, help="image path (.png, .pdf, .svg, .eps, .ps)")


def run(args):
    inputs = (("--graph", args.graph),)
    out = output_path(args.out, "--out", suffixes=IMAGE_SUFFIXES, inputs=inputs)  # before the work
    method = ssl_proofs.get_method(args.method)
    if method.name != "vicreg":
        raise ssl_proofs.InvalidArgument(f"plot supports vicreg only (got {method.name}).")
    G = read_graph(args.graph)
    fmt = out.suffix[1:].lower()
    print(f"saved {write_stream(out, lambda fh: plot_vicreg(method, G, args.k, fh, fmt=fmt), inputs=inputs)}")
    return 0
