"""``identify``: the decision procedure (docs/identify.md), from a black-box loss to an answer."""
from __future__ import annotations

import numpy as np

from .. import graphs as _graphs
from ..errors import InvalidArgument, SSLProofsError
from ..methods import get_method
from ..spectral import solve_spectral
from .canonical import fit_eckart_young, fit_trace_polynomial, fit_trace_ratio
from .identification import Identification, TestResult
from .invariance import invariance_tests
from .lifting import Lifted, value
from .matching import registry_match, regular_graph
from .moments import moment_test
from .tolerances import PREDICTED
from .verification import margin, verify_closed_form
from .verification import search as run_search

#: structure checks (rank by two minimisations) run up to this many entries of Z
STRUCTURE_MAX_ENTRIES = 400


def probe_graph():
    """The default graph: 12 nodes, connected, irregular (degrees 1 to 5), one edge of weight 2.

    On it the pair listing's degree-weighted statistics differ from node-level centring, so an
    answer says which one the loss uses; with K = 2 the moment test has power >= 6.
    """
    edges = [(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 5), (5, 3), (5, 6), (6, 7), (7, 8), (8, 6), (1, 4),
             (8, 9), (9, 10), (10, 11), (11, 9), (6, 9)]
    G = np.zeros((12, 12))
    for i, j in edges:
        G[i, j] = G[j, i] = 1.0
    G[0, 1] = G[1, 0] = 2.0
    return G


def _note(progress, what):
    if progress is not None:
        progress(what)


def identify(loss, *, form="views", graph=None, k=None, seed=0, search=True, search_budget=None, structure=None,
             check_registry=True, progress=None):
    """Identify a loss: its spectral form, its closed-form optimum and a verdict, or why there is none.

    Parameters
    ----------
    loss : callable or torch.nn.Module (class or instance)
        ``form="views"``: ``loss(z1, z2)`` on two views' batches (B x K torch tensors);
        ``form="graph"``: ``loss(Z, G)``.
    form : {"views", "graph"}
    graph : (N, N) array or sparse matrix, optional
        The positive-pair graph (default :func:`probe_graph`, irregular, 12 nodes).
    k : int, optional
        Embedding dimension K (default 2).
    seed : int
        Seeds every random probe and the search.
    search : bool
        Without a closed form, run the global search for the returned Z (default); ``False`` skips it
        (then ``Z``, ``loss`` and ``certificate`` are None): a quick verdict.
    search_budget : int, optional
        Random starts of the global search (default: ``global_minimise``'s).
    structure : bool, optional
        Run the rank check (two minimisations); default when N K <= 400.
    check_registry : bool
        Look for a registered method the loss equals (``same_as``).
    progress : callable, optional
        Called with a short string at each stage.

    Returns
    -------
    Identification
    """
    G = _graphs.check_graph(probe_graph() if graph is None else graph)
    n = G.shape[0]
    k = _graphs.check_k(2 if k is None else k, n)
    if n > 2000:
        raise InvalidArgument(f"identify probes the loss with dense N x N moment matrices; N = {n} is too large "
                              "(use a graph of at most 2000 nodes: the answer is a property of the loss).")
    Gd = np.asarray(_graphs.to_dense(G), dtype=float)
    lifted = Lifted(loss, form, Gd)
    _note(progress, "probing the loss")
    lifted.probe(k, seed=seed)
    structure = n * k <= STRUCTURE_MAX_ENTRIES if structure is None else bool(structure)
    _note(progress, "invariance tests")
    tests = invariance_tests(lifted, k, seed=seed)
    ok = {t.name: t.passed for t in tests}
    _note(progress, "moment test")
    mtest, named = moment_test(lifted, Gd, k, seed=seed)
    tests.append(mtest)
    out = Identification(spectral=False, lifting=lifted.description, tests=tests)
    same = None
    if check_registry:
        _note(progress, "comparing with the registered methods")
        same = _same_as(out, lifted, loss, form, Gd, k, seed)
        out.same_as = same
    template = None
    if not ok["permutation"]:
        _fail(out, "permutation", tests, "the loss depends on the order of the batch: the pair listing "
                           "does not define a loss of (Z, G)")
    elif not mtest.passed:
        _fail(out, "moments", tests, "the loss depends on Z beyond the second moments Z^T X Z (e.g. a "
                           "softmax over pairs, row normalisation, an entrywise term, a predictor)")
    elif not ok["rotation"]:
        _fail(out, "rotation", tests, "the loss sees Z through its moments but not rotation-invariantly "
                           "(e.g. per-coordinate variances, a diagonal/off-diagonal split): no spectral closed "
                           "form; only the global search")
    else:
        _note(progress, "fitting the spectral templates")
        if ok["mixing"]:
            template = fit_trace_ratio(lifted, named, Gd, k, seed=seed)
        if template is None or not template.exact:
            first = template
            template = fit_eckart_young(lifted, named, Gd, k, shift_invariant=ok["shift"], seed=seed)
            if first is not None:
                template.tests = first.tests + template.tests
        tests.extend(template.tests)
        if not template.exact:
            poly = fit_trace_polynomial(lifted, named, Gd, k, seed=seed)
            tests.append(poly)
            if poly.passed:
                why = ("an exact trace polynomial of degree <= 4 in the moments, but not of the Eckart-Young form "
                       "(e.g. products of traces): no closed form; only the global search")
            else:
                why = ("not a trace polynomial of degree <= 4 in the moments and no whitening template fits (a "
                       "log-det, a ratio, another non-polynomial dependence): not identified")
            _fail(out, None, template.tests, why)
            template = None
        elif template.degenerate:
            out.spectral, out.reason = "degenerate", template.degenerate
            out.form, out.operator, out.metric = _form(template), template.operator or None, template.metric or None
            out.refused_at = next((x.name for x in template.tests if not x.passed), template.kind)
            template = None
            if "unbounded" in out.reason:
                search = False  # nothing to find: the loss has no minimum
        elif template.no_closed_form:
            out.reason = template.no_closed_form
            out.refused_at = next((x.name for x in template.tests if not x.passed), template.kind)
            template = None
        else:
            out.spectral = True
            out.form, out.operator, out.metric = _form(template), template.operator, template.metric or None
            out.constants = template.constants
    if template is not None:
        _closed_form(out, template, lifted, Gd, k, seed, structure, progress, search_budget)
    elif search:
        _registry_or_search(out, lifted, Gd, k, seed, same, progress, search_budget)
    else:
        out.evidence.append("no closed form, and no search (search=False, or no minimum to search for): no Z")
    out.derivation = ([("L(Z) = " + ("loss(Z[rows], Z[cols])" if form == "views" else "loss(Z, G)"),
                        lifted.description, "definition")] + (template.steps if template is not None else []))
    return out


def _fail(out, name, tests, why):
    """Set ``out.reason`` (with the failing test and its residual) and ``out.refused_at``."""
    bad = [t for t in tests if (name is None or t.name == name) and not t.passed]
    t = bad[0] if bad else None
    out.refused_at = None if t is None else t.name
    out.reason = f"{why} [{t.name}: residual {t.residual:.2e} > tol {t.tol:.0e}]" if t else why


def _form(t):
    return {"eckart_young": "penalty (Eckart-Young)", "trace_ratio": "constraint (trace ratio / whitening)",
            "quadratic": "quadratic"}[t.kind]


def _same_as(out, lifted, loss, form, G, k, seed):
    match, nearest = registry_match(lifted, G, k, seed=seed)
    if match is not None:
        match["graphs"] = "this graph"
        return match
    out.evidence.append(f"no registered loss equals this one on this graph (nearest: {nearest[1]} ({nearest[2]}), "
                        f"relative residual {nearest[0]:.1e} of the best exact-fit attempt)")
    regular = bool(np.allclose(G.sum(axis=1), G.sum(axis=1)[0]))
    if form != "views" or regular:
        return None
    R = regular_graph()
    other, _ = registry_match(Lifted(loss, form, R), R, k, seed=seed)
    if other is None:
        return None
    other["graphs"] = (f"regular graphs only: tested on the two-view graph (N = {R.shape[0]}); on this irregular "
                       f"graph no registered loss matches (nearest {nearest[1]} ({nearest[2]}), residual "
                       f"{nearest[0]:.1e}): the pair listing's degree-weighted statistics differ from node-level "
                       "centring")
    return other


def _closed_form(out, t, lifted, G, k, seed, structure, progress, starts):
    _note(progress, "solving the spectral problem")
    sol = solve_spectral(t.problem)
    Z = sol.Z if not t.pad else np.hstack([sol.Z, np.zeros((G.shape[0], t.pad))])
    if t.kind == "eckart_young":
        t.predicted = t.constants["c"] - t.constants["b"] * float(np.sum(np.clip(sol.eigenvalues, 0, None) ** 2))
    elif t.kind == "trace_ratio":
        t.predicted = t.constants["c"] + float(np.sum(sol.eigenvalues))
    L = value(lifted, Z)
    pred = abs(L - t.predicted) / max(1.0, abs(L))
    out.tests.append(TestResult("verify.predicted_minimum", pred, PREDICTED, bool(pred <= PREDICTED),
                                f"L(Z*) = {L:.10g} vs the template's minimum {t.predicted:.10g}; eigenpairs' backward "
                                f"error {sol.residual:.1e} ({sol.solver})"))
    out.problem = t.problem
    _note(progress, "verifying the closed form (global search)")
    tests, evidence, sr = verify_closed_form(lifted, G, k, Z, seed=seed, structure=structure and t.kind != "trace_ratio",
                                             starts=starts)
    out.tests.extend(tests)
    out.evidence.extend(evidence)
    refuted = sr.loss < L - margin(L)
    if refuted:
        out.closed_form, out.Z, out.loss, out.certificate = False, sr.Z, sr.loss, "searched"
        out.reason = (f"the closed form ({L:.10g}) was refuted by the search ({sr.loss:.10g}): the identification "
                      "is wrong somewhere; the best point of the search is returned")
        return
    out.closed_form, out.Z, out.loss = True, Z, L
    checks = [x for x in out.tests if x.name.startswith(("fit.", "structure.", "verify."))]
    failing = [x.name for x in checks if not x.passed and not x.name.startswith("fit.trace_ratio")]
    out.certificate = "proved" if not failing else "candidate"
    if failing:
        out.reason = f"closed form not proved: {', '.join(failing)} failed"
    theorem = "Eckart-Young" if t.kind == "eckart_young" else "Ky Fan" if t.kind == "trace_ratio" else "C >= 0"
    out.evidence.insert(0, f"closed form from the exactly fitted template ({theorem}); "
                           f"certificate {out.certificate}")


def _registry_or_search(out, lifted, G, k, seed, same, progress, starts):
    candidates = ()
    reg = None
    if same is not None and same["graphs"] == "this graph":
        method = get_method(same["method"])
        if same["variant"] in method.closed_form_variants:
            try:
                reg = method.solve(G, k, variant=same["variant"], **same["hyper"])
                candidates = (reg.Z,)
            except SSLProofsError as exc:
                out.evidence.append(f"registry's closed form not available here: {exc}")
        else:
            note = f"the registry has no closed form for {same['method']} ({same['variant']}): {method.title}"
            out.evidence.append(note)
            out.reason = (out.reason + "; " if out.reason else "") + note
    _note(progress, "global search")
    sr = run_search(lifted, G, k, candidates=candidates, seed=seed, starts=starts)
    out.evidence.append(sr.evidence)
    if reg is not None:
        L = value(lifted, reg.Z)
        refuted = sr.loss < L - margin(L)
        out.evidence.append(f"registry's closed form ({same['method']} {same['variant']}, {reg.certificate}): "
                            f"L = {L:.10g}; search best {sr.loss:.10g}" + (" (lower: refuted)" if refuted else ""))
        if not refuted:
            out.closed_form, out.Z, out.loss, out.certificate = True, reg.Z, L, reg.certificate
            out.reason = (out.reason + "; " if out.reason else "") + (
                f"closed form from the registry ({same['method']}, {same['variant']}): {reg.note}")
            return
    out.Z, out.loss, out.certificate = sr.Z, sr.loss, "searched"
    out.evidence.append(f"searched: {sr.loss:.10g} is an upper bound on the minimum (no certified lower bound here)")
