"""Run theorems against hypothesis-drawn instances and collect verdicts.

``verify`` is the engine behind ``ssl-proofs verify``; ``check_solver`` lets a
researcher attack their own closed form with exactly the same checks.
"""
from __future__ import annotations

import contextlib
import time
import numpy as np
from hypothesis import HealthCheck, Phase, given, reject, seed as hseed, settings, strategies as st
from hypothesis.errors import Unsatisfiable
from hypothesis.internal.conjecture import providers as _hproviders

import ssl_proofs
from ssl_proofs.errors import InternalError, InvalidArgument, NoClosedForm, SolverFailed, SSLProofsError, UnknownName
from ssl_proofs.evidence import Evidence
from ssl_proofs.theorems import Theorem

from . import checks as _checks
from .threads import single_threaded
from .checks import CHECKS, Context, Inapplicable, Instance, load_claim_modules
from .core import DEFAULT_EXAMPLES, TheoremResult, check_run_options, deciding  # noqa: F401 (DEFAULT_EXAMPLES: re-exported)
from .descent import resolve_device
from .instances import instances
from .strategies import graphs

load_claim_modules()


def instance_data(inst):
    """A checker instance as plain data: ``{"N", "edges": [[i, j, w], ...] (i <= j), "k", "variant", "hyper"}``
    plus ``"labels"`` / ``"X"`` when the instance has them."""
    G = np.asarray(inst.G, dtype=float)
    rows, cols = np.nonzero(np.triu(G))  # i <= j: self-loops kept
    out = {"N": int(G.shape[0]), "edges": [[int(a), int(b), float(G[a, b])] for a, b in zip(rows, cols)],
           "k": int(inst.k), "variant": inst.variant,
           "hyper": {key: float(v) if isinstance(v, (int, float, np.number)) else v for key, v in inst.hyper.items()}}
    for name in ("labels", "X"):
        value = getattr(inst, name, None)
        if value is not None:
            out[name] = np.asarray(value).tolist()
    return out


#: checks hypothesis may run while shrinking a counterexample (after the first failure) before the
#: smallest one so far is reported: a count, not seconds, so the counterexample does not depend on the
#: machine's load (same seed => same counterexample)
SHRINK_STEPS = 40


def _key(inst):
    X = getattr(inst, "X", None)
    return (inst.G.tobytes(), inst.G.shape, inst.k, inst.variant, tuple(sorted(inst.hyper.items())),
            None if X is None else (X.tobytes(), X.shape))


@contextlib.contextmanager
def _no_local_constants():
    """Hypothesis without the constants it harvests from the local modules imported so far.

    Hypothesis (recent 6.x releases; 6.170 here) sometimes draws numbers found in the source of "local" modules (those
    outside site-packages), re-harvested whenever ``sys.modules`` grows: which examples a seed
    gives would then depend on what else this process imported before (other theorems, the CLI,
    pytest's test modules), and a theorem run in a worker would differ from the same theorem run
    serially. Its global constants (0, 1, -1, inf, ...) are kept.
    """
    get = getattr(_hproviders, "_get_local_constants", None)
    cache = getattr(_hproviders, "CONSTANTS_CACHE", None)
    if get is None or cache is None:  # another hypothesis: nothing to pin
        yield
        return
    empty = _hproviders.Constants()
    _hproviders._get_local_constants = lambda: empty
    cache.cache.clear()
    try:
        yield
    finally:
        _hproviders._get_local_constants = get
        cache.cache.clear()


class _Refuted(Exception):
    def __init__(self, inst, failing):
        super().__init__(inst.describe())
        self.inst, self.failing = inst, failing


def resolve_theorems(target="all"):
    """Theorems named by ``target``: "all", a method name, a theorem id, or objects/lists of those."""
    if target is None or target == "all":
        return ssl_proofs.list_theorems()
    if isinstance(target, Theorem):
        return [target]
    if isinstance(target, (list, tuple)):
        return [t for x in target for t in resolve_theorems(x)]
    if hasattr(target, "theorems"):
        return list(target.theorems())
    name = str(target)
    if name in ssl_proofs.list_methods():
        return ssl_proofs.list_theorems(name)
    try:
        return [ssl_proofs.get_theorem(name)]
    except UnknownName:
        raise UnknownName(
            f"{name!r} is neither a method ({', '.join(ssl_proofs.list_methods())}) nor a theorem id; "
            "`ssl-proofs list` shows both."
        ) from None


def verify(target="all", *, examples=None, seed=0, device="auto", starts=3, progress=None):
    """Attack theorems with hypothesis-drawn instances.

    Parameters
    ----------
    target : "all", method name, theorem id, Theorem, Method, or a list of them
    examples : int, optional
        Hypothesis examples per theorem (default :data:`DEFAULT_EXAMPLES`).
    seed : int
        Seeds hypothesis and the gradient-descent starts (reproducible runs).
    device : {"auto", "cpu", "cuda"}
        Where gradient descent runs.
    starts : int
        Random starts of each gradient-descent cross-check.
    progress : callable, optional
        ``progress(theorem, n_examples)`` called as examples run (the CLI's live line).

    Returns
    -------
    list of TheoremResult
    """
    examples, seed, starts = check_run_options(examples, seed, starts)
    ctx = Context(device=resolve_device(device), starts=starts, seed=seed)
    return [_timed(run_theorem, t, examples=examples, ctx=ctx, progress=progress) for t in resolve_theorems(target)]


def _timed(run, theorem, **kwargs):
    """``_internal(run, theorem, ...)`` with the CPU seconds it took stamped on the result."""
    c0 = time.process_time()
    res = _internal(run, theorem, **kwargs)
    res.cpu_seconds = time.process_time() - c0
    return res


@single_threaded
def run_theorem(theorem, *, examples, ctx, progress=None):
    method = ssl_proofs.get_method(theorem.method)
    check = CHECKS.get(theorem.claim)
    if check is None:
        raise InvalidArgument(f"theorem {theorem.id}: no verifier knows claims of kind {theorem.claim!r}.")
    t0 = time.perf_counter()
    state = {"count": 0, "worst": None, "failed": False, "shrink_steps": 0, "unclear": []}
    # instance key -> its outcome (the refuting measurements, [] if none, or the Inapplicable raised):
    # a replay needs no recomputation and gives the same outcome, also once the shrink budget is spent
    outcomes = {}

    def attempt(inst):
        key = None if inst is None else _key(inst)
        bad = outcomes.get(key)
        if bad is None:
            if state["failed"]:
                if state["shrink_steps"] >= SHRINK_STEPS:
                    return  # shrink budget spent: keep the smallest failure found so far
                state["shrink_steps"] += 1
            try:
                ms = check(theorem, method, inst, ctx)
            except Inapplicable as exc:
                outcomes[key] = exc
                raise
            # only a failure by a visible margin refutes (Measurement.refutes); one inside the margin
            # band, or a cross-check that descent did not reach, is recorded and the search goes on
            bad = outcomes[key] = [m for m in ms if m.refutes]
            if not state["failed"]:
                state["count"] += 1
                for m in ms:
                    if m.ok and (state["worst"] is None or m.ratio > state["worst"].ratio):
                        state["worst"] = m
                    elif not m.ok and not m.refutes:
                        state["unclear"].append((m, inst))
                if progress:
                    progress(theorem, state["count"])
            if bad:
                state["failed"] = True
        if isinstance(bad, Inapplicable):
            raise bad
        if bad:
            # one raise site: hypothesis replays the shrunk example and compares origins
            raise _Refuted(inst, bad)

    if theorem.claim == "derivation":
        # a derivation is checked once, over its own random instances
        try:
            attempt(None)
            verdict, cex, failing = "holds", None, []
        except _Refuted as r:
            verdict, cex, failing = "refuted", "; ".join(m.reason or m.name for m in r.failing), r.failing
        d = ctx.extra["derivations"][_checks.derivation_key(theorem)]
        ev = d.evidence if verdict == "holds" else Evidence.refuted(cex)
        return TheoremResult(theorem, verdict, ev, 1, None, cex, failing, time.perf_counter() - t0, ctx.device)

    @hseed(ctx.seed)
    @settings(max_examples=examples, database=None, deadline=None, derandomize=False,
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
              phases=[Phase.explicit, Phase.generate, Phase.shrink], print_blob=False)
    @given(inst=instances(theorem, method))
    def body(inst):
        try:
            attempt(inst)
        except Inapplicable:
            reject()

    try:
        with _no_local_constants():
            body()
    except _Refuted as r:
        cex = r.inst.describe()
        lines = [m.line() for m in r.failing]
        ev = Evidence.refuted(cex, detail=f"{deciding(r.failing).kind}: " + "; ".join(lines))
        return TheoremResult(theorem, "refuted", ev, state["count"], state["worst"], cex, r.failing,
                             time.perf_counter() - t0, ctx.device, instance_data(r.inst))
    except Unsatisfiable:
        return TheoremResult(theorem, "inconclusive", Evidence.unchecked("no instance in the claim's domain"),
                             0, None, None, [], time.perf_counter() - t0, ctx.device)
    except SSLProofsError:
        raise  # bad input from the caller: the CLI reports it (exit 2)
    except Exception as exc:  # a crash inside a check is a bug of the checker, not a verdict on the claim
        msg = f"{type(exc).__name__}: {exc}"
        return TheoremResult(theorem, "error", Evidence.unchecked(f"checker crashed: {msg}"), state["count"],
                             state["worst"], msg, [], time.perf_counter() - t0, ctx.device)
    w = state["worst"]
    detail = f"worst: {w.name} = {w.error:.2g} vs tol {w.tol:.2g} ({w.reason})" if w else ""
    if state["unclear"]:
        m, _ = max(state["unclear"], key=lambda t: t[0].ratio)
        detail += (f"; {len(state['unclear'])} measurement(s) over tolerance without a refuting margin "
                   f"(cross-checks or < {_checks.MARGIN:g} x tol), largest: {m.line()}")
    ev = Evidence.numeric(state["count"], w.tol if w else 0.0, detail=detail)
    return TheoremResult(theorem, "holds", ev, state["count"], w, None, [], time.perf_counter() - t0, ctx.device,
                         unclear=[m for m, _ in state["unclear"]])


def check_solver(method, solver, *, variant=None, examples=None, seed=0, device="auto", starts=3, progress=None,
                 claim=None, params=None):
    """Test a researcher's own closed form exactly as the built-in one is tested.

    With the defaults a correct solver holds for every method: instances are drawn where the
    method's own closed form is *proved* (``method.solver_claim`` / ``method.solver_params``:
    e.g. BarlowTwins on graphs with ``K <= #components``, the spectral contrastive loss on
    graphs without isolated nodes), and a refutation needs a point with strictly lower loss (or
    a failed stationarity / feasibility / oracle check) by a visible margin.

    Parameters
    ----------
    method : str or Method
        Whose loss the solver claims to minimise.
    solver : callable ``solver(G, k, *, variant, **hyper) -> Z`` (N x k array, or an object with ``.Z``)
    variant : str, optional
        Loss variant (default: the method's first closed-form variant).
    claim : str, optional
        Kind of optimality check (default ``method.solver_claim``: ``"closed_form"``, or
        ``"bt_optimum"`` for BarlowTwins, whose optimum is compared through its own structure).
    params : dict, optional
        Theorem parameters (graph family ``graphs``, ``k_max``...) overriding ``method.solver_params``;
        outside the proved range a correct-but-not-optimal closed form is (rightly) refuted.

    Returns
    -------
    TheoremResult with verdict "holds" or "refuted" (and the shrunk counterexample).
    """
    m = ssl_proofs.get_method(method)
    if not callable(solver):
        raise InvalidArgument("solver must be callable as solver(G, k, variant=..., **hyper) -> Z.")
    if not m.closed_form_variants:
        with_one = [n for n in ssl_proofs.list_methods() if ssl_proofs.get_method(n).closed_form_variants]
        raise NoClosedForm(
            f"{m.name} has no variant with a closed-form optimum, so there is no closed form to check a solver "
            f"against; check_solver works for {', '.join(with_one)}. Study {m.name} with verify({m.name!r})."
        )
    variant = m.check_variant(variant, closed_form=True)
    examples, seed, starts = check_run_options(examples, seed, starts)
    claim = claim or m.solver_claim
    if claim not in CHECKS:
        raise InvalidArgument(f"claim={claim!r} is not a kind of claim the verifiers know; use one of {sorted(CHECKS)}.")
    if params is not None and not isinstance(params, dict):
        raise InvalidArgument(f"params must be a dict of theorem parameters, got {type(params).__name__}.")
    if "graphs" in (params or {}):
        graphs(family=params["graphs"])  # an unknown family fails here, not inside a check
    name = getattr(solver, "__name__", "solver")
    th = Theorem(f"{m.name}.{variant}.user_solver", m.name,
                 f"{name} returns a global minimiser of {m.name} ({variant})",
                 claim=claim, params={**m.solver_params, **(params or {}), "variant": variant}, source="user")
    ctx = Context(device=resolve_device(device), starts=starts, seed=seed, solver=_guarded(solver))
    return _timed(run_theorem, th, examples=examples, ctx=ctx, progress=progress)


def _internal(run, theorem, **kwargs):
    """``run(theorem, ...)``, where every input was checked already: a project error now is a checker bug."""
    try:
        return run(theorem, **kwargs)
    except SolverFailed:
        raise
    except SSLProofsError as exc:
        raise InternalError(
            f"checking {theorem.id} raised {type(exc).__name__}: {exc} -- on an instance the checker drew "
            "itself, after every input was validated: a bug of ssl-proofs, please report it."
        ) from exc


def _guarded(solver):
    """The user's solver, with its failures reported as its own (not as a crash of the checker)."""
    name = getattr(solver, "__name__", "solver")

    def call(G, k, *, variant, **hyper):
        where = f"on G with N = {G.shape[0]} nodes, k = {k}, variant {variant!r}, hyper-parameters {hyper}"
        try:
            out = solver(G, k, variant=variant, **hyper)
        except Exception as exc:
            raise SolverFailed(
                f"your solver {name} raised {type(exc).__name__}: {exc} {where}. Fix the solver (its traceback is "
                "chained below this error), or narrow the instances it is attacked with (params=)."
            ) from exc
        try:
            Z = np.asarray(getattr(out, "Z", out), dtype=float)
        except (TypeError, ValueError):
            raise SolverFailed(f"your solver {name} returned {type(out).__name__}, not a numeric array, {where}; "
                               "return Z as an (N, k) array (or an object with .Z).") from None
        if Z.shape != (G.shape[0], k):
            raise SolverFailed(f"your solver {name} returned shape {Z.shape}, expected (N, k) = ({G.shape[0]}, {k}), "
                               f"{where}; rows of Z are the embeddings of the nodes of G.")
        bad = int(Z.size - np.count_nonzero(np.isfinite(Z)))
        if bad:
            raise SolverFailed(f"your solver {name} returned Z with {bad} NaN or infinite entries (of {Z.size}) "
                               f"{where}; a global minimiser is finite. Check the solver on this instance.")
        return Z

    call.__name__ = name
    return call

