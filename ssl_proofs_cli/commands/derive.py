"""``ssl-proofs derive``: a method's derivation, step by step, with evidence."""
from __future__ import annotations

import ssl_proofs

from ..progress import Steps
from ..report.html import render_derivation_html

NAME = "derive"
HELP = "print a method's derivation, step by step, with evidence"


def add_arguments(d):
    d.add_argument("method", help="method name (ssl-proofs list shows them)")
    d.add_argument("--variant", default=None,
                   help="loss variant (default: the method's first variant with a spectral form, e.g. squared "
                        "for vicreg; the paper's hinge stops at its G-form and says why)")
    d.add_argument("--format", choices=["md", "tex", "json", "text", "html"], default="md",
                   help="output format (default md; html: one page, the mathematics as MathML)")
    d.add_argument("--no-check", action="store_true", help="print the steps without checking them")


def run(args):
    method = ssl_proofs.get_method(args.method)
    d = method.derivation(args.variant)
    if not args.no_check:
        live = Steps(f"derive {method.name}")
        try:
            d = d.check(progress=live.note)
        finally:
            live.close()
    print(render_derivation_html(d) if args.format == "html" else d.render(args.format))
    return 0
