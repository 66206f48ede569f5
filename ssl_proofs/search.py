"""Numerical minimisation of a method's loss: the project's one global search.

Two entry points:

:func:`minimise`
    plain multi-start L-BFGS from random starts (the building block);
:func:`global_minimise`
    the documented global search every verdict without a closed form rests on
    (SimCLR, BarlowTwins with ``K > #components``, hinge VICReg with finite
    ``beta``, and every "is this candidate optimal / what rank has the optimum"
    check).  It runs L-BFGS from

    * each candidate given (e.g. the closed form under test) and from
      :data:`PERTURBATIONS_PER_CANDIDATE` random perturbations of it at relative
      sizes :data:`PERTURBATION_SCALES`;
    * ``starts`` random starts, by default :func:`default_starts` (grows with
      ``sqrt(N K)``), drawn at the scales :data:`RANDOM_SCALES` in turn;
    * on tiny problems (at most :data:`GRID_MAX_PARAMS` free parameters) an exhaustive
      grid of :data:`GRID_POINTS` values per parameter, whose best points are polished
      by L-BFGS;
    * an adaptive phase of up to :func:`adaptive_starts` further starts (many on tiny
      problems, where runs are cheap and where counterexamples are shrunk to; none on large
      ones) and at most :data:`ADAPTIVE_EVALUATIONS` loss evaluations: random starts and, every :data:`HOP_EVERY`-th, a hop from the best point so far,
      until the best loss has been reached by :data:`AGREEMENT` independent random starts and
      Boender--Rinnooy Kan's estimate leaves less than half a minimum unseen (``_Runs.settled``);
    * with ``bound`` (a certified lower bound, :mod:`ssl_proofs.bounds`) it stops as soon as
      its best point meets the bound.

What it guarantees: the returned point is feasible (where the method states a hard constraint,
its residual is checked: a degenerate parametrisation such as ``HY = 0`` under ``orth(HY)``
maps to an infeasible point, which is discarded), its loss is the loss
actually evaluated there (an upper bound on the global minimum), and it is
no worse than any candidate passed in (their own L-BFGS runs start there).
What it does not guarantee: that the global minimum is reached.  The losses are
non-convex; the search can miss a basin that no start falls into.  A check
therefore uses it only in the sound direction: a point with strictly lower
loss refutes optimality; failing to find one is evidence, not proof.

The optimiser is full-batch L-BFGS with strong-Wolfe line search in float64,
stopping when the gradient's max-norm falls below ``gtol``.  Constrained
variants are optimised through ``Z = method.feasible(Y)`` so every iterate is
feasible; ``rank=r`` optimises over ``Z = A B^T`` with ``A`` (N x r), ``B``
(K x r): the rank-constrained problem of the structural claims.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize as sopt
import torch

from .errors import InvalidArgument

#: relative sizes of the perturbations of each candidate
PERTURBATION_SCALES = (0.05, 0.3)
#: perturbations per candidate and per scale
PERTURBATIONS_PER_CANDIDATE = 1
#: scales of the random starts, used in turn (small, unit and large embeddings)
RANDOM_SCALES = (1.0, 0.3, 3.0)
#: problems with at most this many free parameters also get an exhaustive grid
GRID_MAX_PARAMS = 4
#: grid values per parameter (odd: 0 is on the grid)
GRID_POINTS = 7
#: grid points polished by L-BFGS
GRID_POLISH = 3
#: adaptive phase: up to ``ADAPTIVE_BUDGET / (free parameters)`` starts in all (at most
#: :data:`MAX_ADAPTIVE_STARTS`): many on tiny problems, where a run is cheap and where the shrinker
#: lands, none beyond the fixed ones on larger problems (C4, K = 2: 8 parameters, 40; 64 parameters: 5)
ADAPTIVE_BUDGET = 320
MAX_ADAPTIVE_STARTS = 40
#: ... and the adaptive phase spends at most this many loss-and-gradient evaluations in all: a count, so the
#: search stays deterministic, and one that follows the landscape, not the size alone.  The 110 small SimCLR
#: searches of ``benchmarks/search_reach.py`` (runs of 10-60 evaluations) used at most 700 evaluations in all
#: and keep every start; a rough landscape whose runs crawl for hundreds of evaluations to a kink (SimSiam
#: with rank imposed, hinge VICReg) gets a few further starts, not 40 (``verify all`` was 4x slower with them)
ADAPTIVE_EVALUATIONS = 1000
#: the adaptive phase stops once the best loss has been reached by this many independent random starts
AGREEMENT = 3
#: two runs reach the same minimum when their losses agree within this, relative to max(1, |loss|)
#: (the runs stop at gradient max-norm 1e-10; distinct local minima differ by far more)
AGREE_RTOL = 1e-7
#: every HOP_EVERY-th adaptive start (from the first) perturbs the best point so far by one of these relative
#: sizes (basin hopping); the others are random starts, the independent samples the stopping rule counts
HOP_EVERY = 4
HOP_SCALES = (0.5, 1.0)


def resolve_device(device="auto"):
    """``"auto"`` -> ``"cuda"`` when a GPU is visible, else ``"cpu"``."""
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda"):
        raise InvalidArgument(f"device must be 'cpu', 'cuda' or 'auto', got {device!r}.")
    if device == "cuda" and not torch.cuda.is_available():
        raise InvalidArgument("device='cuda' was requested but torch sees no GPU; use --device cpu or auto.")
    return device


@dataclass
class DescentResult:
    """Best of several L-BFGS runs.

    Attributes
    ----------
    Z : (N, K) ndarray  feasible minimiser found (best start)
    loss : float        its loss
    losses : list       final loss of every start
    grad_norm : float   max-norm of the gradient (w.r.t. the free parameters) at the best start
    iterations : int    L-BFGS iterations used by the best start
    device : str
    """

    Z: np.ndarray
    loss: float
    losses: list
    grad_norm: float
    iterations: int
    device: str


@dataclass
class SearchResult(DescentResult):
    """Outcome of :func:`global_minimise` (a :class:`DescentResult` plus what was done).

    Attributes
    ----------
    starts : int        L-BFGS runs made (candidates, perturbations, random starts, grid polish)
    evidence : str      one line saying what the search did and what it found
    origin : str        which kind of start gave the best point ("candidate", "perturbation",
                        "random", "grid")
    """

    starts: int = 0
    evidence: str = ""
    origin: str = ""
    rank: object = None
    #: origin -> (Z, loss, |grad|_max) of the best run of that kind of start (e.g. "random": descent alone)
    extra: dict = field(default_factory=dict)


def default_starts(n, k):
    """Random starts of :func:`global_minimise` always made: ``2 + ceil(sqrt(N K) / 2)`` (grows with the problem)."""
    return 2 + int(np.ceil(np.sqrt(n * k) / 2))


def adaptive_starts(n_params, made=0):
    """Further starts :func:`global_minimise` may add, after ``made`` random starts, until its stopping rule
    holds: ``min(MAX_ADAPTIVE_STARTS, ceil(ADAPTIVE_BUDGET / n_params)) - made``, at least 0."""
    return max(0, min(MAX_ADAPTIVE_STARTS, int(np.ceil(ADAPTIVE_BUDGET / max(1, n_params)))) - int(made))


def same_minimum(a, b):
    """Two losses at the same minimum within :data:`AGREE_RTOL` (relative to ``max(1, |a|)``)."""
    return bool(abs(a - b) <= AGREE_RTOL * max(1.0, abs(a)))


def _lbfgs(f, to_Z, Y0, device, max_iter, gtol):
    """One L-BFGS run from ``Y0``: (Z, loss, max-norm gradient, iterations, Y, evaluations).

    scipy's L-BFGS-B (Fortran; no bounds, so plain L-BFGS with a More-Thuente strong-Wolfe line
    search, 50 corrections) drives a torch objective: on the small problems of the checks the
    optimiser's own bookkeeping in Python (torch.optim.LBFGS) cost as much as the loss and its
    gradient.  It stops when the gradient's max-norm is <= ``gtol`` (no stopping on small loss
    changes: ``ftol = 0``), after ``max_iter`` iterations or when the line search cannot decrease
    the loss any more.
    """
    Y0 = np.ascontiguousarray(Y0.detach().cpu().numpy() if isinstance(Y0, torch.Tensor) else Y0, dtype=np.float64)
    shape = Y0.shape

    def fun(y):
        Y = torch.tensor(y.reshape(shape), dtype=torch.float64, device=device).requires_grad_(True)
        val = f(to_Z(Y))
        (g,) = torch.autograd.grad(val, Y)
        v, g = float(val.detach()), g.detach().cpu().numpy().ravel()
        if not (np.isfinite(v) and np.all(np.isfinite(g))):
            # a NaN gradient marks a degenerate parametrisation (e.g. HY = 0 under orth(HY)), where
            # to_Z need not be feasible: such a point is no candidate (the line search backs off)
            return np.inf, np.zeros(y.size)
        return v, g

    res = sopt.minimize(fun, Y0.ravel(), jac=True, method="L-BFGS-B",
                        options={"maxiter": int(max_iter), "maxfun": int(1.25 * max_iter) + 1, "gtol": float(gtol),
                                 "ftol": 0.0, "maxcor": 50, "maxls": 25})
    y = res.x if np.isfinite(res.fun) else Y0.ravel()
    Y = torch.tensor(y.reshape(shape), dtype=torch.float64, device=device).requires_grad_(True)
    val = f(to_Z(Y))
    (g,) = torch.autograd.grad(val, Y)
    gnorm = float(g.abs().max())
    with torch.no_grad():
        Z = to_Z(Y).detach().cpu().numpy()
    loss = float(val.detach())
    if not (np.isfinite(loss) and np.isfinite(gnorm)):
        loss = np.inf  # degenerate or diverged: never the best point
    return Z, loss, gnorm, int(res.nit), Y.detach().cpu().numpy(), int(res.nfev) + 1


def minimise(method, G, k, *, variant, hyper, starts=3, seed=0, device="auto",
             max_iter=3000, gtol=1e-10, init_scale=1.0, shape=None):
    """Minimise ``method.loss`` over ``Z = method.feasible(Y)`` by L-BFGS from ``starts`` random starts.

    ``Y`` has shape ``(N, k)`` unless ``shape`` says otherwise (e.g. ``(D, k)`` for
    linear weights mapped to ``Z = XW`` by an adapter's ``feasible``).
    """
    device = resolve_device(device)
    f = method.objective(G, variant=variant, device=device, **hyper)
    n, k = shape if shape is not None else (G.shape[0], k)
    gen = torch.Generator(device="cpu").manual_seed(int(seed))

    def to_Z(Y):
        return method.feasible(Y, G, variant, hyper)

    best, losses = None, []
    for _ in range(starts):
        Y0 = init_scale * torch.randn(n, k, generator=gen, dtype=torch.float64)
        Z, val, gnorm, iters, _, _ = _lbfgs(f, to_Z, Y0, device, max_iter, gtol)
        losses.append(val)
        if best is None or val < best[1]:
            best = (Z, val, gnorm, iters)
    return DescentResult(Z=best[0], loss=best[1], losses=losses, grad_norm=best[2],
                         iterations=best[3], device=device)


def polish(method, G, Z, *, variant, hyper, steps, device="cpu", gtol=1e-10):
    """At most ``steps`` L-BFGS iterations from the given point ``Z`` (through ``method.feasible``).

    Returns ``(Z, loss, |grad|_max, iterations)`` of the point reached (``Z`` itself when no step
    decreases the loss).
    """
    f = method.objective(G, variant=variant, device=device, **hyper)

    def to_Z(Y):
        return method.feasible(Y, G, variant, hyper)

    Zp, loss, gnorm, iters, _, _ = _lbfgs(f, to_Z, np.asarray(Z, dtype=np.float64), device, steps, gtol)
    return Zp, loss, gnorm, iters


def _factor(Z, r, n):
    """A rank-``r`` start ``[A; B]`` with ``A B^T`` the best rank-r approximation of ``Z``."""
    U, s, Vt = np.linalg.svd(Z, full_matrices=False)
    r_eff = min(r, len(s))
    A = np.zeros((n, r))
    B = np.zeros((Z.shape[1], r))
    A[:, :r_eff] = U[:, :r_eff] * np.sqrt(s[:r_eff])
    B[:, :r_eff] = Vt[:r_eff].T * np.sqrt(s[:r_eff])
    return np.vstack([A, B])


#: a point whose hard-constraint residual (``method.constraint_residual``) exceeds this is infeasible
FEASIBILITY_TOL = 1e-6


def _feasible(res):
    return res is None or bool(np.isfinite(res) and res <= FEASIBILITY_TOL)


def global_minimise(method, G, k, *, variant=None, hyper=None, starts=None, seed=0, device="cpu",
                    candidates=(), shape=None, rank=None, max_iter=3000, gtol=1e-10, bound=None, adaptive=True,
                    progress=None):
    """The project's global search for ``min loss`` (module docstring: what it does and guarantees).

    Parameters
    ----------
    method : Method
    G : (N, N) graph
    k : int
        Embedding dimension K.
    variant : str, optional
        Loss variant (default: the paper's form).
    hyper : dict, optional
        Hyper-parameters (defaults filled in).
    starts : int, optional
        Random starts (default :func:`default_starts` ``(N, K)``).
    seed : int
        Seeds every random start and perturbation.
    device : {"cpu", "cuda", "auto"}
    candidates : iterable of (N, K) arrays
        Points to start from (and perturb): the search is never worse than any of them.
    shape : (rows, K), optional
        Shape of the free parameter when an adapter's ``feasible`` maps it to Z (linear regime).
    rank : int, optional
        Optimise over ``Z = A B^T`` with inner dimension ``rank`` (rank-constrained problem).
    max_iter, gtol
        L-BFGS budget per start and stopping gradient max-norm.
    progress : callable, optional
        ``progress(done, total, best_loss)`` after each L-BFGS run (a live line for long searches).
    bound : float, optional
        A certified lower bound on the minimum (:mod:`ssl_proofs.bounds`): the search stops once its best
        point meets it (within :data:`AGREE_RTOL`).
    adaptive : bool
        Add up to :func:`adaptive_starts` further starts (random, and hops from the best point) until the
        best loss has been reached by :data:`AGREEMENT` random starts or meets ``bound``.

    Returns
    -------
    SearchResult
    """
    variant = method.check_variant(variant)
    hyper = method.check_hyper(variant, dict(hyper or {}))
    device = resolve_device(device)
    n = G.shape[0]
    rows, cols = shape if shape is not None else (n, k)
    f = method.objective(G, variant=variant, device=device, **hyper)
    if rank is not None:
        rank = int(rank)
        if rank < 0:
            raise InvalidArgument(f"rank = {rank} must be >= 0.")

    def to_Z(Y):
        if rank is None:
            return method.feasible(Y, G, variant, hyper)
        return method.feasible(Y[:rows] @ Y[rows:].T, G, variant, hyper)

    if rank == 0:  # the only rank-0 point: nothing to search
        Z0 = torch.zeros(rows, cols, dtype=torch.float64, device=device)
        with torch.no_grad():
            loss = float(f(method.feasible(Z0, G, variant, hyper)))
        return SearchResult(Z=np.zeros((rows, cols)), loss=loss, losses=[loss], grad_norm=0.0, iterations=0,
                            device=device, starts=0, evidence=f"rank 0: the zero embedding, loss {loss:.6g}",
                            origin="zero", rank=0)

    def to_Y(Z):
        Z = np.asarray(Z, dtype=float).reshape(rows, cols)
        return Z if rank is None else _factor(Z, max(rank, 1), rows)

    pshape = (rows, cols) if rank is None else (rows + cols, max(rank, 1))
    rng = np.random.default_rng([int(seed), n, k, 0 if rank is None else rank + 1])
    inits = []  # (origin, Y0)
    for Zc in candidates:
        Y = to_Y(Zc)
        inits.append(("candidate", Y))
        size = max(1.0, float(np.abs(Y).max()))
        for s in PERTURBATION_SCALES:
            for _ in range(PERTURBATIONS_PER_CANDIDATE):
                inits.append(("perturbation", Y + s * size * rng.standard_normal(pshape)))
    n_random = default_starts(n, k) if starts is None else int(starts)
    for i in range(n_random):
        inits.append(("random", RANDOM_SCALES[i % len(RANDOM_SCALES)] * rng.standard_normal(pshape)))
    n_params = int(np.prod(pshape))
    grid_note = ""
    if n_params <= GRID_MAX_PARAMS:
        R = 2.0 * max(1.0, np.sqrt(n), *(float(np.abs(to_Y(Zc)).max()) for Zc in candidates))
        axis = np.linspace(-R, R, GRID_POINTS)
        vals = []
        with torch.no_grad():
            for point in itertools.product(axis, repeat=n_params):
                Y = torch.as_tensor(np.reshape(point, pshape), dtype=torch.float64, device=device)
                v = float(f(to_Z(Y)))
                vals.append((v if np.isfinite(v) else np.inf, point))
        vals.sort(key=lambda t: t[0])
        for v, point in vals[:GRID_POLISH]:
            inits.append(("grid", np.reshape(point, pshape)))
        grid_note = f", grid {GRID_POINTS}^{n_params} on [-{R:.3g}, {R:.3g}] (best {GRID_POLISH} polished)"
    residual = getattr(method, "constraint_residual", None)
    runs = _Runs(bound)

    def run(origin, Y0):
        Z, val, gnorm, iters, Y, evals = _lbfgs(f, to_Z, Y0, device, max_iter, gtol)
        if residual is not None and shape is None and not _feasible(residual(Z, G, variant, hyper)):
            val = np.inf  # a degenerate parametrisation (HY = 0 under orth(HY)) gave an infeasible Z
        runs.add(origin, Z, val, gnorm, iters, Y, evals)
        if progress is not None:  # the total counts the adaptive starts the rule may still skip
            progress(len(runs.losses), len(inits) + n_extra, runs.best[1])

    n_extra = 0 if adaptive is False else adaptive_starts(int(np.prod(pshape)), n_random)
    for origin, Y0 in inits:
        if origin != "candidate" and runs.bound_reached():
            break  # the certified bound is met: no start can do better (the candidates themselves always run)
        run(origin, Y0)
    extra, spent = 0, 0
    while extra < n_extra and spent < ADAPTIVE_EVALUATIONS and not runs.settled():
        if extra % HOP_EVERY:
            origin, Y0 = "random", RANDOM_SCALES[(n_random + extra) % len(RANDOM_SCALES)] * rng.standard_normal(pshape)
        else:  # basin hopping: a large perturbation of the best point so far
            Yb = runs.best_Y
            scale = HOP_SCALES[(extra // HOP_EVERY) % len(HOP_SCALES)] * max(1.0, float(np.abs(Yb).max()))
            origin, Y0 = "hop", Yb + scale * rng.standard_normal(pshape)
        run(origin, Y0)
        extra += 1
        spent += runs.evaluations[-1]
    best = runs.best
    counts = {o: runs.origins.count(o) for o in ("candidate", "perturbation", "random", "grid", "hop")}
    what = f"rank <= {rank} (Z = AB^T) " if rank is not None else ""
    adaptive_note = ""
    if n_extra:
        adaptive_note = (f"; adaptive phase {extra} of up to {n_extra} further starts ({counts['hop']} of them hops "
                         f"from the best, {spent} of up to {ADAPTIVE_EVALUATIONS} evaluations)")
    evidence = (f"global search {what}over {len(runs.losses)} L-BFGS runs ({counts['candidate']} from candidates, "
                f"{counts['perturbation']} perturbations, {counts['random']} random{grid_note}{adaptive_note}; "
                f"stopped: {runs.why(spent >= ADAPTIVE_EVALUATIONS)}); best loss {best[1]:.6g} from a {best[4]} start, reached by {runs.agreeing()} random start(s), "
                f"|grad|_max {best[2]:.1e}")
    return SearchResult(Z=best[0], loss=best[1], losses=runs.losses, grad_norm=best[2], iterations=best[3],
                        device=device, starts=len(runs.losses), evidence=evidence, origin=best[4], rank=rank,
                        extra=runs.by_origin)


class _Runs:
    """The runs of one search: the best point, the best of each kind of start, and the stopping rule."""

    def __init__(self, bound):
        self.bound, self.best, self.best_Y, self.losses, self.by_origin, self.random = bound, None, None, [], {}, []
        self.origins, self.evaluations = [], []

    def add(self, origin, Z, val, gnorm, iters, Y, evals=0):
        self.losses.append(val)
        self.evaluations.append(int(evals))
        self.origins.append(origin)
        if origin == "random":
            self.random.append(val)
        if self.best is None or val < self.best[1]:
            self.best, self.best_Y = (Z, val, gnorm, iters, origin), Y
        if origin not in self.by_origin or val < self.by_origin[origin][1]:
            self.by_origin[origin] = (Z, val, gnorm)

    def agreeing(self):
        """Independent (random) starts whose loss is the best loss (:func:`same_minimum`)."""
        if self.best is None or not np.isfinite(self.best[1]):
            return 0
        return sum(1 for v in self.random if same_minimum(self.best[1], v))

    def bound_reached(self):
        return self.bound is not None and self.best is not None and self.best[1] - self.bound <= \
            AGREE_RTOL * max(1.0, abs(self.bound))

    def minima(self):
        """Distinct final losses among the random starts (:func:`same_minimum` classes)."""
        vals = sorted(v for v in self.random if np.isfinite(v))
        return sum(1 for i, v in enumerate(vals) if i == 0 or not same_minimum(vals[i - 1], v))

    def settled(self):
        """The certified bound is met, or the best loss was reached by :data:`AGREEMENT` random starts and
        Boender--Rinnooy Kan's rule holds: ``n`` random starts that found ``w`` distinct minima stop when
        ``n >= w + 3`` and the posterior estimate of the number of minima ``w (n - 1) / (n - w - 2)`` is below
        ``w + 1/2`` (Boender & Rinnooy Kan, Math. Programming 37, 1987): one minimum seen needs 8 starts,
        two need 17, three 30."""
        if self.bound_reached():
            return True
        n, w = len(self.random), self.minima()
        return self.agreeing() >= AGREEMENT and n >= w + 3 and w * (n - 1) / (n - w - 2) < w + 0.5

    def why(self, spent=False):
        if self.bound_reached():
            return "the certified lower bound is reached"
        if self.settled():
            return (f"the best loss was reached by {self.agreeing()} independent random starts and "
                    f"{self.minima()} distinct minima in {len(self.random)} random starts leave < 1/2 unseen "
                    "(Boender-Rinnooy Kan)")
        if spent:
            return "the adaptive phase's evaluations are spent"
        return "every planned start run"
