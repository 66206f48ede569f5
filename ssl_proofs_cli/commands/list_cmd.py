"""``ssl-proofs list``: methods and theorem ids."""
from __future__ import annotations

import ssl_proofs

NAME = "list"
HELP = "list methods and theorem ids"


def add_arguments(p):
    pass


def run(args):
    for name in ssl_proofs.list_methods():
        m = ssl_proofs.get_method(name)
        print(f"{name}: {m.title}  (variants: {', '.join(m.variants)}; "
              f"closed forms: {', '.join(m.closed_form_variants) or 'none'})")
        for t in m.theorems():
            mark = "" if t.expected == "holds" else "  [expected: refuted]"
            print(f"  {t.id}: {t.statement}{mark}")
    return 0
