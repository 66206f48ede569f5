"""Spectral problems as data, and the one generic solver that solves them.

Every closed form in ssl-proofs has the same shape: pick ``k`` extreme
eigenpairs of a symmetric operator ``A`` (relative to a metric ``B``,
optionally restricted to the orthogonal complement of some vectors), then
scale each eigen-direction by a *profile* ``s(lambda)`` written once, as a
sympy expression, so that the same formula is printed in derivation reports
and evaluated by the solver::

    Z* = scale * diag(row_weights) @ U_k @ diag(s(lambda_1..k))        (times any rotation R^T)

A :class:`SpectralProblem` holds those pieces; :func:`solve_spectral` is the
only eigen-solver in the project.  It picks one of three paths:

* ``"dense"``: ``scipy.linalg.eigh`` (dense input, or sparse with at most
  :data:`DENSE_LIMIT` nodes);
* ``"shift-invert"``: ARPACK on a sparse LU factorisation, only where the
  factorisation is cheap (:func:`factorisation_is_cheap`: the envelope of the
  reverse Cuthill-McKee ordering is at most :data:`CHEAP_FILL` times nnz) or
  the metric is not diagonal;
* ``"lobpcg"``: block LOBPCG with the excluded vectors as constraints, an
  algebraic-multigrid (pyamg smoothed aggregation, levels kept by a cost rule) or
  Jacobi preconditioner, a few guard vectors, single precision until the backward
  error is below :data:`SINGLE_PRECISION_ABOVE` (a target of twice that or more is the
  single-precision phase's own), and a check of the backward error after rounds sized by
  the residual rate.

Whatever the path, the backward error of what is returned,
``max_i ||A u_i - lambda_i B u_i|| / (||A||_2 ||u_i||)`` (:func:`backward_error`,
the excluded span projected out), is measured and stored as
``SpectralSolution.residual``.  Above the requested ``tol`` (default
:data:`TARGET_RESIDUAL`) the solver raises :class:`NotConverged`, which carries
the unconverged solution, or, with ``on_unconverged="warn"``, warns with
:class:`NotConvergedWarning` and returns it: never silently.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import pyamg
import scipy.linalg as sla
import scipy.sparse as sp
import sympy
from scipy.sparse.csgraph import reverse_cuthill_mckee
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh, lobpcg

from .errors import InvalidArgument, SSLProofsError
from .limits import check_memory

#: eigenvalue symbol used in every profile expression
lam = sympy.Symbol("lambda", real=True)

#: sparse operators larger than this go to a sparse solver; smaller ones (and dense input) use dense eigh
DENSE_LIMIT = 400
#: above this size the dense path computes only the k + 1 needed eigenpairs (no full spectrum)
FULL_SPECTRUM_LIMIT = 1500
#: dense input larger than this is refused by the dense path (O(N^2) memory, O(N^3) time)
DENSE_MAX = 20000
#: default target of the backward error max_i ||A u_i - lambda_i B u_i|| / (||A||_2 ||u_i||)
TARGET_RESIDUAL = 1e-5
#: a sparse factorisation is "cheap" when the RCM envelope is at most this many times nnz
#: (benchmarks/scale.py --crossover measures where shift-invert stops beating LOBPCG)
CHEAP_FILL = 20
#: LOBPCG iterations between two measurements of the backward error
CHECK_EVERY = 25
#: AMG levels with at most this many rows are solved exactly (dense pseudo-inverse)
DENSE_COARSE = 500
#: rows of a candidate AMG level formed to estimate its density before building it
SAMPLED_ROWS = 256
#: LOBPCG runs in single precision until the backward error is below this (or stops falling),
#: then in double (float32 LOBPCG reached 8e-6 at the double-precision rate: docs/benchmarks.md)
SINGLE_PRECISION_ABOVE = 3e-5
#: default limit on the total number of LOBPCG iterations
MAX_ITERATIONS = 1500
SOLVERS = ("auto", "dense", "shift-invert", "lobpcg")
PRECONDITIONERS = ("amg", "jacobi", None)
STARTS = ("random", "multilevel")


class NotConverged(SSLProofsError, RuntimeError):
    """The eigensolver stopped above the requested backward error.

    ``solution`` is the :class:`SpectralSolution` it reached (its ``residual`` says how far).
    """

    def __init__(self, message, solution=None):
        super().__init__(message)
        self.solution = solution


class NotConvergedWarning(UserWarning):
    """Issued instead of :class:`NotConverged` when ``on_unconverged="warn"``."""


@dataclass(frozen=True)
class SpectralProblem:
    """A "pick k eigen-directions and scale them" problem.

    Parameters
    ----------
    operator : (N, N) array or sparse matrix
        Symmetric operator ``A``.
    k : int
        Number of directions.
    which : {"smallest", "largest"}
        Which end of the spectrum of ``A`` (relative to ``B``) to keep.
    profile : sympy expression in :data:`lam` and hyper-parameter symbols
        Scale of each kept direction as a function of its eigenvalue.
    hyper : dict
        Values of the symbols of ``profile`` other than :data:`lam`.
    metric : (N, N) array, optional
        Positive-definite ``B`` of the generalized problem ``A u = lambda B u``
        (on the deflated subspace); ``None`` means the identity.
    deflate : (N, r) array, optional
        Vectors whose span is excluded (e.g. the constant vector for ``L``): solutions satisfy
        ``deflate^T B u = 0`` (B-orthogonal, Euclidean without a metric), so excluding
        eigenvectors of ``(A, B)`` leaves an invariant problem.
    scale : float
        Overall factor (``sqrt(N)`` for unit-covariance embeddings).
    row_weights : (N,) array, optional
        Row scaling applied last (``D^{-1/2}`` for the spectral contrastive loss).
    description : str
        One line saying what is solved, used in reports.
    """

    operator: object
    k: int
    which: str
    profile: sympy.Expr
    hyper: dict = field(default_factory=dict)
    metric: Optional[object] = None
    deflate: Optional[np.ndarray] = None
    scale: float = 1.0
    row_weights: Optional[np.ndarray] = None
    description: str = ""

    @property
    def dimension(self):
        """How many directions the problem has: N minus the excluded (deflated) ones."""
        n = self.operator.shape[0]
        return n - (0 if self.deflate is None else np.asarray(self.deflate).reshape(n, -1).shape[1])

    def profile_values(self, eigenvalues):
        """Evaluate the profile ``s(lambda)`` on an array of eigenvalues."""
        subs = {sympy.Symbol(str(name), real=True) if isinstance(name, str) else name: v
                for name, v in self.hyper.items()}
        expr = self.profile.subs(subs)
        free = expr.free_symbols - {lam}
        if free:
            raise InvalidArgument(
                f"profile {self.profile} has unset symbols {sorted(map(str, free))}; pass them in hyper."
            )
        f = sympy.lambdify(lam, expr, modules="numpy")
        out = np.asarray(f(np.asarray(eigenvalues, dtype=float)), dtype=float)
        return np.broadcast_to(out, np.shape(eigenvalues)).copy()


@dataclass
class SpectralSolution:
    """Output of :func:`solve_spectral`.

    Attributes
    ----------
    Z : (N, k) array            the scaled embedding
    vectors : (N, k) array      the selected eigenvectors (B-orthonormal)
    eigenvalues : (k,) array    their eigenvalues, in selection order
    scales : (k,) array         profile values ``s(lambda)``
    spectrum : (m,) array       every eigenvalue of the (deflated) problem when solved densely
    gap : float                 distance from the last kept eigenvalue to the first one left out
                                (sparse paths: estimated from the first guard vector)
    residual : float            backward error ``max_i ||A u_i - lambda_i B u_i|| / (||A||_2 ||u_i||)``
                                of the returned pairs (:func:`backward_error`)
    solver : str                the path that produced them: "dense", "shift-invert" or "lobpcg"
    iterations : int            LOBPCG iterations (0 on the other paths)
    """

    Z: np.ndarray
    vectors: np.ndarray
    eigenvalues: np.ndarray
    scales: np.ndarray
    spectrum: Optional[np.ndarray]
    gap: float
    problem: SpectralProblem
    residual: float = float("nan")
    solver: str = ""
    iterations: int = 0


def embedding_rank(Z, scales=None):
    """Rank of an embedding ``Z``: the one meaning of ``rank`` on every solution type.

    With ``scales`` (the profile values of a closed form, one per column): the number of
    directions whose scale is non-zero beyond rounding.  Profiles are square roots of eigenvalue
    expressions, and a dense eigensolver returns an eigenvalue that is 0 in exact arithmetic as
    ~N eps (backward stability: |d lambda| <= c N eps ||A||), which shows up as a scale
    ~sqrt(N eps).  The threshold is sqrt(64 N eps), N the number of rows of Z, not K: the soak of
    ``spectral_contrastive.rank`` found rho_4 = 2.0e-15 (0 exactly: two trees on 8 nodes, K = 5)
    counted with sqrt(K eps).  Without ``scales`` (a searched point): the numerical rank of ``Z``
    at the same threshold, relative to its largest singular value.
    """
    Z = np.asarray(Z, dtype=float)
    tol = np.sqrt(64 * Z.shape[0] * np.finfo(float).eps)
    values = np.linalg.svd(Z, compute_uv=False) if scales is None else np.abs(np.asarray(scales, dtype=float))
    return int(np.count_nonzero(values > tol * max(1.0, float(np.max(values, initial=0.0)))))


def complement_basis(vectors, n):
    """Orthonormal basis (N, N - r) of the orthogonal complement of ``vectors``."""
    V = np.asarray(vectors, dtype=float).reshape(n, -1)
    q, _ = np.linalg.qr(V, mode="complete")
    return q[:, V.shape[1]:]


def operator_norm(A):
    """``||A||_2`` of a symmetric matrix: exact up to 200 rows, else a Lanczos estimate.

    The estimate is a Ritz value, hence never above ``||A||_2``: a backward error
    divided by it is never understated.
    """
    n = A.shape[0]
    if n <= 200:
        return float(np.max(np.abs(np.linalg.eigvalsh(_dense(A))), initial=0.0))
    v0 = np.random.default_rng(1).standard_normal(n)
    try:
        val = eigsh(A, k=1, which="LM", tol=1e-3, v0=v0, maxiter=max(300, n // 10),
                    return_eigenvectors=False)
        return float(abs(val[0]))
    except ArpackNoConvergence as exc:
        if len(exc.eigenvalues):
            return float(np.max(np.abs(exc.eigenvalues)))
        return float(np.linalg.norm(A @ v0) / np.linalg.norm(v0))


def backward_error(A, vectors, eigenvalues, *, metric=None, deflate=None, norm=None):
    """Backward error of each eigenpair: ``||P (A u_i - lambda_i B u_i)|| / (||A||_2 ||u_i||)``.

    ``P`` removes the span of ``B deflate``: on the subspace ``deflate^T B u = 0`` the Galerkin
    residual is only defined up to that span.  The one measure of accuracy shared by
    the solver, its tests and the benchmarks, whatever produced the pairs.

    Parameters
    ----------
    A : (N, N) array or sparse matrix
    vectors : (N, k) array
    eigenvalues : (k,) array
    metric : (N, N) array or sparse matrix, optional (``B``; identity if None)
    deflate : (N, r) array, optional
    norm : float, optional
        ``||A||_2`` if already known (else :func:`operator_norm`).

    Returns
    -------
    (k,) array
    """
    U = np.asarray(vectors, dtype=float)
    if U.ndim == 1:
        U = U[:, None]
    vals = np.asarray(eigenvalues, dtype=float).reshape(-1)
    BU = U if metric is None else metric @ U
    R = np.asarray(A @ U) - np.asarray(BU) * vals[None, :]
    if deflate is not None:
        Y = np.asarray(deflate, dtype=float).reshape(U.shape[0], -1)
        Qy = np.linalg.qr(Y if metric is None else np.asarray(metric @ Y))[0]
        R = R - Qy @ (Qy.T @ R)
    norm = operator_norm(A) if norm is None else float(norm)
    scale = max(norm, np.finfo(float).tiny) * np.maximum(np.linalg.norm(U, axis=0), np.finfo(float).tiny)
    return np.linalg.norm(R, axis=0) / scale


def envelope_ratio(M):
    """RCM envelope of ``M`` divided by its nnz (see :func:`factorisation_is_cheap`)."""
    M = sp.csr_matrix(M)
    perm = reverse_cuthill_mckee(M, symmetric_mode=True)
    P = M[perm][:, perm].tocsr()
    P.sort_indices()
    rows = np.flatnonzero(np.diff(P.indptr))
    first = P.indices[P.indptr[rows]]
    return float(np.sum(np.maximum(rows - first, 0))) / max(M.nnz, 1)


def factorisation_is_cheap(M):
    """Whether a sparse LU of ``M`` stays small: RCM envelope <= :data:`CHEAP_FILL` * nnz.

    The envelope (sum over rows of the distance from the first non-zero to the diagonal,
    after reverse Cuthill-McKee) bounds the fill of a profile factorisation; it is
    O(nnz) to compute.  Meshes, paths and disjoint small blocks pass; graphs with random
    long-range edges (augmentation noise, label graphs) fail.  The threshold comes from
    ``python benchmarks/scale.py --crossover`` (docs/benchmarks.md).
    """
    return envelope_ratio(M) <= CHEAP_FILL


def solve_spectral(problem: SpectralProblem, *, tol=TARGET_RESIDUAL, maxiter=MAX_ITERATIONS, solver="auto",
                   preconditioner="amg", start="random", x0=None,
                   on_unconverged="raise", progress=None) -> SpectralSolution:
    """Solve a :class:`SpectralProblem` (the project's only eigen-solver).

    Parameters
    ----------
    problem : SpectralProblem
    tol : float
        Target backward error of the returned pairs (:func:`backward_error`).
    maxiter : int
        Limit on LOBPCG iterations.
    solver : {"auto", "dense", "shift-invert", "lobpcg"}
        ``"auto"``: dense up to :data:`DENSE_LIMIT` nodes or for dense input; shift-invert
        when :func:`factorisation_is_cheap` or the metric is not diagonal; LOBPCG otherwise.
    preconditioner : {"amg", "jacobi", None}
        LOBPCG preconditioner: a block V-cycle of smoothed aggregation on the (shifted) operator
        (:class:`BlockVCycle`), or its diagonal.
    start : {"random", "multilevel"}
        LOBPCG start: random (seeded), or the problem solved on AMG aggregates and prolongated
        (measured: no fewer iterations on the benchmark graphs, see docs/benchmarks.md).
    x0 : (N, j) array, optional
        Warm start for LOBPCG (e.g. a previous solution); overrides ``start``.
    progress : callable, optional
        ``progress(message)`` after every measurement of the backward error on the LOBPCG
        path (iterations so far, error reached, target): a live line for long solves.
    on_unconverged : {"raise", "warn"}
        Above ``tol``: raise :class:`NotConverged` (default) or warn with
        :class:`NotConvergedWarning`; the solution carries its ``residual`` either way.

    Returns
    -------
    SpectralSolution
    """
    A = problem.operator
    n = A.shape[0]
    dim = problem.dimension
    if problem.which not in ("smallest", "largest"):
        raise InvalidArgument(f"which must be 'smallest' or 'largest', got {problem.which!r}.")
    if not 1 <= problem.k <= dim:
        raise InvalidArgument(
            f"k = {problem.k} directions requested but the problem has only {dim} "
            "(after removing the excluded directions); lower k."
        )
    if not (isinstance(tol, (float, int)) and np.isfinite(tol) and tol > 0):
        raise InvalidArgument(f"tol = {tol!r}: the target backward error must be a positive number, e.g. 1e-5.")
    if isinstance(maxiter, bool) or not isinstance(maxiter, (int, np.integer)) or maxiter < 1:
        raise InvalidArgument(f"maxiter = {maxiter!r}: pass a positive number of iterations.")
    for name, value, choices in (("solver", solver, SOLVERS), ("preconditioner", preconditioner, PRECONDITIONERS),
                                 ("start", start, STARTS), ("on_unconverged", on_unconverged, ("raise", "warn"))):
        if value not in choices:
            raise InvalidArgument(f"{name} = {value!r} is not one of {list(choices)}.")
    if x0 is not None:
        x0 = np.asarray(x0, dtype=float)
        if x0.ndim != 2 or x0.shape[0] != n or not np.all(np.isfinite(x0)):
            raise InvalidArgument(f"x0 must be a finite (N, j) = ({n}, j) array of start vectors, got shape {x0.shape}.")
    for what, M in (("operator", A), ("metric", problem.metric)):
        top = 0.0 if M is None else _max_entry(M)
        if not top <= _HUGE_ENTRY:  # NaN included
            raise InvalidArgument(
                f"the {what} of the spectral problem ({problem.description or 'spectral problem'}) has entries of "
                f"{top:.3g}: at this scale float64 overflows in the eigensolver and in the check of its eigenpairs "
                "(squares above 1.8e308). Rescale G, e.g. G / G.max() (and the hyper-parameters with it), so that "
                "the weights are of order 1; maxiter and tol do not help here."
            )
    path = _choose_path(problem, solver)
    if path == "dense" and n > DENSE_MAX:
        raise InvalidArgument(
            f"the dense eigensolver needs O(N^2) memory; N = {n} > {DENSE_MAX}. Pass G as a scipy.sparse "
            "matrix (or solver='auto') so that a sparse path runs."
        )
    check_memory(_memory_estimate(path, n, problem.k, n - dim),
                 f"the {path} eigensolver for N = {n:,}, k = {problem.k} ({problem.description or 'spectral problem'})",
                 "Lower k (the embedding dimension)" + ("" if path == "dense" else ", or use a smaller graph"))
    iterations, norm = 0, None
    if path == "dense":
        vals, vecs, spectrum, gap = _solve_dense(problem)
    elif path == "shift-invert":
        vals, vecs, spectrum, gap = _solve_shift_invert(problem)
    else:
        vals, vecs, spectrum, gap, iterations, norm = _solve_lobpcg(problem, tol, maxiter, preconditioner, start,
                                                                    x0, progress)
    # measured again on what is returned (norm: the LOBPCG path's estimate of ||A||_2, not a second Lanczos)
    residual = float(np.max(backward_error(A, vecs, vals, metric=problem.metric, deflate=problem.deflate,
                                           norm=norm)))
    scales = problem.profile_values(vals)
    Z = problem.scale * vecs * scales[None, :]
    if problem.row_weights is not None:
        Z = np.asarray(problem.row_weights, dtype=float)[:, None] * Z
    sol = SpectralSolution(Z=Z, vectors=vecs, eigenvalues=vals, scales=scales, spectrum=spectrum, gap=gap,
                           problem=problem, residual=residual, solver=path, iterations=iterations)
    if not residual <= tol:
        top = _max_entry(A)
        remedy = (f"Raise maxiter, pass tol={residual:.0e} to accept it, or on_unconverged='warn' to get the "
                  "solution with its residual." if np.isfinite(residual) and top <= _HUGE_ENTRY else
                  f"The operator's entries reach {top:.3g}: at this scale float64 overflows when the eigenpairs are "
                  "checked, and neither maxiter nor tol helps. Rescale G, e.g. G / G.max() (and the "
                  "hyper-parameters with it), so that the weights are of order 1.")
        message = (f"the {path} eigensolver reached a backward error of {residual:.2e}, above the target "
                   f"{tol:.1e} ({problem.description or 'spectral problem'}; N = {n}, k = {problem.k}"
                   f"{f', {iterations} iterations' if iterations else ''}). {remedy}")
        if on_unconverged == "raise":
            raise NotConverged(message, sol)
        warnings.warn(message, NotConvergedWarning, stacklevel=2)
    return sol


#: operator entries above this leave float64 no room for the squares a backward error takes (1e150 ** 2 = 1e300)
_HUGE_ENTRY = 1e150


def _max_entry(A):
    if sp.issparse(A):  # any format (a DIA metric has no max()); NaN propagates
        return float(np.max(np.abs(sp.csr_matrix(A).data), initial=0.0))
    return float(np.max(np.abs(A), initial=0.0)) if isinstance(A, np.ndarray) else 0.0


def _memory_estimate(path, n, k, r):
    """Bytes the eigensolver ``path`` allocates for ``k`` pairs of an ``n``-node problem with ``r`` excluded vectors.

    dense: a few N x N float64 copies (operator, metric, eigenvectors, workspace); shift-invert: ARPACK's
    ``ncv = max(2m + 1, 20)`` Lanczos vectors of ``m = k + r + 1`` pairs, twice (basis and Ritz step);
    LOBPCG: about a dozen float64 N x block arrays (X, AX, BX, R, P and their products, the constraints).
    The factorisation of shift-invert, O(nnz) for the graphs it is chosen for, is not counted.
    """
    if path == "dense":
        return 4 * 8 * n * n
    if path == "shift-invert":
        m = min(k + 1 + r, n - 1)
        return 2 * 8 * n * (min(n, max(2 * m + 1, 20)) + m)
    return 12 * 8 * n * (_block_size(k, n) + r)


def _dense(M):
    return M.toarray() if sp.issparse(M) else np.asarray(M, dtype=float)


def _diagonal(B):
    """The diagonal of ``B`` if ``B`` is diagonal (None: identity), else None."""
    if B is None:
        return None
    d = np.asarray(B.diagonal(), dtype=float)
    off = (abs(sp.csr_matrix(B)) if sp.issparse(B) else np.abs(np.asarray(B))).sum() - np.abs(d).sum()
    return d if off == 0 else None


def _choose_path(problem, requested):
    A = problem.operator
    n = A.shape[0]
    if requested != "auto":
        return requested
    if not sp.issparse(A) or n <= DENSE_LIMIT or n < 5 * _block_size(problem.k, n):
        return "dense"
    if problem.metric is not None and _diagonal(problem.metric) is None:
        return "shift-invert"
    return "shift-invert" if factorisation_is_cheap(A) else "lobpcg"


def _block_size(k, n):
    """k plus guard vectors: the rate of the k-th pair is set by lambda_k / lambda_(block+1)."""
    return min(k + max(4, k // 4), n - 1)


def _solve_dense(problem):
    A = _dense(problem.operator)
    n = A.shape[0]
    B = None if problem.metric is None else _dense(problem.metric)
    Q = None
    if problem.deflate is not None:
        Y = np.asarray(problem.deflate, dtype=float).reshape(n, -1)
        Q = complement_basis(Y if B is None else B @ Y, n)
        A = Q.T @ A @ Q
        B = None if B is None else Q.T @ B @ Q
    A = (A + A.T) / 2
    m = A.shape[0]
    subset = None
    if m > FULL_SPECTRUM_LIMIT:
        # only the needed end of the spectrum (plus one for the gap)
        kk = min(problem.k + 1, m)
        subset = [0, kk - 1] if problem.which == "smallest" else [m - kk, m - 1]
    if B is not None:
        B = (B + B.T) / 2
        try:
            vals, vecs = sla.eigh(A, B, subset_by_index=subset)
        except np.linalg.LinAlgError:
            raise _metric_error() from None
    else:
        vals, vecs = sla.eigh(A, subset_by_index=subset)
    if Q is not None:
        vecs = Q @ vecs
    order = np.arange(len(vals)) if problem.which == "smallest" else np.arange(len(vals))[::-1]
    k = problem.k
    keep, rest = order[:k], order[k:]
    gap = float(abs(vals[rest[0]] - vals[keep[-1]])) if len(rest) else np.inf
    return vals[keep], vecs[:, keep], (vals if subset is None else None), gap


def _metric_error():
    return InvalidArgument(
        "the metric B of the generalized eigenproblem A u = lambda B u is not positive definite "
        "(for B = D_G: the graph has isolated nodes; for B = X^T H X: X is rank-deficient). "
        "Remove isolated nodes / collinear features, or use a variant without that metric."
    )


def _bottom_form(problem):
    """``(A', B, c, sign)`` with the wanted pairs the *smallest* of ``A' u = mu B u``.

    ``"smallest"``: ``A' = A``.  ``"largest"``: ``A' = c B - A`` with ``c`` a rigorous upper
    bound of the top eigenvalue (Gershgorin on ``B^-1 |A|``, tightened by Collatz-Wielandt on a
    Lanczos estimate of the Perron vector when ``A >= 0``), so ``A'`` is positive semi-definite
    and close to singular: what a graph-Laplacian preconditioner expects (for ``G u = rho D u``
    it is ``L``; for ``D^-1/2 G D^-1/2`` the normalised Laplacian).
    """
    A = sp.csr_matrix(problem.operator, dtype=float)
    B = None if problem.metric is None else sp.csr_matrix(problem.metric, dtype=float)
    if problem.which == "smallest":
        return A, B, 0.0
    b = np.ones(A.shape[0]) if B is None else B.diagonal()
    if np.any(b <= 0):
        raise _metric_error()
    absA = abs(A)
    c = float(np.max((A.diagonal() + absA @ np.ones(A.shape[0]) - np.abs(A.diagonal())) / b))
    if A.nnz and A.data.min() >= 0:
        s = 1 / np.sqrt(b)
        S = sp.diags(s) @ A @ sp.diags(s)
        try:
            _, v = eigsh(S, k=1, which="LA", tol=1e-8, maxiter=2000,
                         v0=np.random.default_rng(2).standard_normal(A.shape[0]))
            x = np.abs(v[:, 0])
        except ArpackNoConvergence as exc:
            x = np.abs(exc.eigenvectors[:, 0]) if exc.eigenvectors.shape[1] else np.sqrt(b)
        x = x + 1e-12 * x.max()
        c = min(c, float(np.max((S @ x) / x)))
    Bm = sp.identity(A.shape[0], format="csr") if B is None else B
    return (c * Bm - A).tocsr(), B, c


def _ritz(A, B, X):
    """Rayleigh-Ritz of ``A u = lambda B u`` on span(X): ascending values, B-orthonormal vectors."""
    AX, BX = A @ X, (X if B is None else B @ X)
    Ax = X.T @ AX
    Bx = X.T @ BX
    vals, C = sla.eigh((Ax + Ax.T) / 2, (Bx + Bx.T) / 2)
    return vals, X @ C


def _select(problem, vals, vecs):
    order = np.argsort(vals) if problem.which == "smallest" else np.argsort(vals)[::-1]
    vals, vecs = vals[order], vecs[:, order]
    k = problem.k
    if len(vals) < k:
        raise InvalidArgument(f"the sparse eigensolver found only {len(vals)} directions for k = {k}; lower k.")
    gap = float(abs(vals[k] - vals[k - 1])) if len(vals) > k else np.inf
    return vals[:k], vecs[:, :k], None, gap


def _constraints(problem):
    """Excluded vectors as LOBPCG constraints (LOBPCG's ``Y``: ``Y^T B u = 0``, as ``deflate`` means)."""
    if problem.deflate is None:
        return None
    return np.linalg.qr(np.asarray(problem.deflate, dtype=float).reshape(problem.operator.shape[0], -1))[0]


def _solve_shift_invert(problem):
    """ARPACK shift-invert just below the spectrum of ``A'`` (cheap factorisation assumed).

    ``k + r + 1`` pairs are computed (``r`` excluded vectors); the excluded span is projected
    out and a Rayleigh-Ritz step on the original problem picks the ``k`` wanted ones.
    """
    Ab, B, c = _bottom_form(problem)
    A = sp.csr_matrix(problem.operator, dtype=float)
    n = A.shape[0]
    r = 0 if problem.deflate is None else np.asarray(problem.deflate).reshape(n, -1).shape[1]
    m = min(problem.k + 1 + r, n - 1)
    sigma = -1e-6 * (1.0 + float(abs(Ab).sum(axis=1).max()))
    v0 = np.random.default_rng(0).standard_normal(n)
    try:
        _, vecs = eigsh(Ab, k=m, M=B, sigma=sigma, which="LM", v0=v0, tol=0)
    except RuntimeError as exc:  # singular / indefinite metric in the factorisation
        raise _metric_error() from exc
    if problem.deflate is not None:
        Y = np.asarray(problem.deflate, dtype=float).reshape(n, -1)
        BY = Y if B is None else B @ Y
        vecs = vecs - Y @ np.linalg.solve(BY.T @ Y, BY.T @ vecs)   # B-orthogonal to Y
        U, sv, _ = np.linalg.svd(vecs, full_matrices=False)
        vecs = U[:, sv > 1e-8 * sv.max()]
    vals, vecs = _ritz(A, B, vecs)
    return _select(problem, vals, vecs)


def _preconditioner(Ab, B, kind):
    """SPD approximation of ``(A' + delta diag)^-1`` (A' may be singular: delta = 1e-5 * mean diagonal)."""
    if kind is None:
        return None
    n = Ab.shape[0]
    d = Ab.diagonal()
    delta = 1e-5 * float(np.mean(np.abs(d)))
    if kind == "jacobi":
        return sp.diags(1.0 / (d + delta))
    shifted = (Ab + delta * (sp.identity(n) if B is None else sp.diags(B.diagonal()))).tocsr()
    return BlockVCycle(shifted)


class BlockVCycle(LinearOperator):
    """One V-cycle of smoothed-aggregation AMG applied to a whole block of vectors at once.

    The hierarchy is built one level at a time from pyamg's pieces (symmetric strength of
    connection, standard aggregation, the prolongator smoothed on the strength-filtered
    operator: weak edges, e.g. augmentation noise, do not spread it).  A coarser level is
    kept only while applying it costs no more than the ``coarse_sweeps`` Jacobi sweeps on the
    level above that would replace it (its Galerkin operator has at most ``coarse_sweeps``
    times as many non-zeros, estimated from :data:`SAMPLED_ROWS` sampled rows before it is
    formed): graphs with random long-range edges are expanders, whose Galerkin operators
    fill in (``view`` at N = 10^6: a 30,193-node level with 1.4e8 non-zeros, 24 times the
    fine operator, which made one cycle cost 9 s).  The last level is solved exactly when it
    has at most :data:`DENSE_COARSE` rows, else smoothed by ``coarse_sweeps`` weighted-Jacobi
    sweeps from zero (a polynomial in ``D^-1 A`` that is positive on its spectrum: the cycle
    stays symmetric positive definite).  Weighted-Jacobi smoothing, the same sweeps before
    and after each coarse correction, CSR x dense blocks instead of pyamg's vector-at-a-time
    loop.

    Parameters
    ----------
    A : sparse SPD matrix (a Laplacian-like operator, shifted to be definite)
    theta : float   strength threshold (pyamg "symmetric" strength of connection)
    sweeps : int    Jacobi sweeps before and after each coarse correction
    coarse_sweeps : int  Jacobi sweeps on a last level too large to solve exactly
    """

    def __init__(self, A, theta=0.05, sweeps=1, omega=2.0 / 3.0, coarse_sweeps=4):
        A = sp.csr_matrix(A)
        shape = A.shape
        self.levels = []
        while A.shape[0] > DENSE_COARSE:
            P = _prolongator(A, theta)
            if P is None or not _worth_a_level(A, P, coarse_sweeps):
                break
            R = P.T.tocsr()
            self.levels.append((A, P, R))
            A = (R @ A @ P).tocsr()
        self.levels.append((A, None, None))
        # single precision: the cycle only approximates an inverse, and halves the memory traffic
        self.levels = [tuple(None if M is None else M.astype(np.float32) for M in lv) for lv in self.levels]
        self.sweeps, self.omega, self.coarse_sweeps = sweeps, omega, coarse_sweeps
        self.dinv = []
        for A_l, _, _ in self.levels:
            diag = A_l.diagonal()
            self.dinv.append(np.where(diag > 0, 1.0 / np.where(diag > 0, diag, 1.0), 0.0)[:, None].astype(np.float32))
        last = self.levels[-1][0]
        self.coarse = (sla.pinvh(last.toarray().astype(float)).astype(np.float32) if last.shape[0] <= DENSE_COARSE
                       else None)
        super().__init__(dtype=float, shape=shape)

    def _matmat(self, X):
        X = np.asarray(X)
        return self._cycle(0, X.astype(np.float32, copy=False)).astype(X.dtype, copy=False)

    def _matvec(self, x):
        return self._matmat(np.reshape(x, (-1, 1))).ravel()

    def _adjoint(self):
        return self

    def _cycle(self, i, b):
        A, P, R = self.levels[i]
        dinv, w = self.dinv[i], np.float32(self.omega)
        if P is None:
            if self.coarse is not None:
                return self.coarse @ b
            return self._jacobi(A, dinv, b, w * dinv * b, self.coarse_sweeps - 1)
        x = self._jacobi(A, dinv, b, w * dinv * b, self.sweeps - 1)
        x += P @ self._cycle(i + 1, R @ (b - A @ x))
        return self._jacobi(A, dinv, b, x, self.sweeps)

    def _jacobi(self, A, dinv, b, x, sweeps):
        for _ in range(sweeps):
            x += np.float32(self.omega) * dinv * (b - A @ x)
        return x


def _prolongator(A, theta):
    """pyamg's smoothed-aggregation prolongator for ``A`` (constant near-null vector), or None."""
    C = pyamg.strength.symmetric_strength_of_connection(A, theta)
    agg = pyamg.aggregation.standard_aggregation(C)[0]
    if agg.shape[1] == 0 or agg.shape[1] >= A.shape[0]:
        return None
    T, Bc = pyamg.aggregation.fit_candidates(agg, np.ones((A.shape[0], 1)))
    P = pyamg.aggregation.jacobi_prolongation_smoother(A, T, C, Bc, filter_entries=True)
    return sp.csr_matrix(P)


def _worth_a_level(A, P, coarse_sweeps):
    """Whether ``P^T A P`` has at most ``coarse_sweeps * nnz(A)`` non-zeros.

    Estimated from :data:`SAMPLED_ROWS` random rows (exact when there are fewer coarse rows),
    so that a level that would fill in is never formed.
    """
    nc = P.shape[1]
    if nc <= SAMPLED_ROWS:
        return (P.T @ A @ P).nnz <= coarse_sweeps * A.nnz
    cols = np.random.default_rng(0).choice(nc, SAMPLED_ROWS, replace=False)
    rows = (sp.csr_matrix(P[:, cols].T) @ A) @ P
    return rows.nnz * nc / SAMPLED_ROWS <= coarse_sweeps * A.nnz


def _lobpcg_iterate(Ab, B, M, Y, X, tol, maxiter, check, wanted=None, progress=None, before=0,
                    first=CHECK_EVERY):
    """LOBPCG in rounds until ``check(X)`` holds or ``maxiter``.

    Each round restarts scipy's LOBPCG (its search directions are lost), so after a first
    round of ``first`` iterations the next one is as long as the residual norms of
    the ``wanted`` smallest pairs need to reach ``tol`` at the rate of their last 5
    iterations (at most :data:`CHECK_EVERY`): the guard vectors, which need not converge,
    would otherwise keep LOBPCG going.  Returns the block, the iterations done and the
    residual-norm history of the last round.
    """
    done, rounds = 0, first
    while done < maxiter:
        rounds = min(rounds, maxiter - done)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "not reaching the requested tolerance": checked below
            _, X, hist = lobpcg(Ab, X, B=B, M=M, Y=Y, tol=tol, maxiter=rounds, largest=False,
                                retResidualNormsHistory=True)
        done += max(len(hist) - 1, 1)
        done_check = check(X)
        if progress is not None:
            progress(before + done)
        if done_check:
            break
        rounds = _round_length(hist, X.shape[1] if wanted is None else wanted, tol)
    return X, done, hist


def _round_length(hist, wanted, tol):
    """LOBPCG iterations until the ``wanted`` first residual norms reach ``tol``, extrapolated."""
    h = np.array([np.max(np.asarray(r)[:wanted]) for r in hist])
    if len(h) < 6 or not 0 < h[-1] < h[-6]:
        return CHECK_EVERY
    rate = (h[-1] / h[-6]) ** (1 / 5)
    need = np.log(tol / h[-1]) / np.log(rate) if h[-1] > tol else 0
    return int(np.clip(np.ceil(need) + 2, 3, CHECK_EVERY))


def _multilevel_start(Ab, B, Y, m, preconditioner):
    """Start block: the problem on pyamg's aggregates (a coarser graph, e.g. views of a sample merged).

    With ``T`` the tentative prolongator (orthonormal columns, disjoint supports) the coarse
    problem ``T^T A' T c = mu T^T B T c`` keeps a diagonal metric; it is solved loosely
    (backward error 1e-3), itself from a multilevel start, and ``T c`` starts the fine solve.
    """
    n = Ab.shape[0]
    rng = np.random.default_rng(0)
    if n < 40 * m:
        return rng.standard_normal((n, m))
    agg = pyamg.aggregation.standard_aggregation(pyamg.strength.symmetric_strength_of_connection(Ab))[0]
    T = sp.csr_matrix(agg, dtype=float)
    T = T @ sp.diags(1 / np.sqrt(np.asarray(T.sum(axis=0)).ravel()))
    if T.shape[1] > n / 2 or T.shape[1] < 5 * m:
        return rng.standard_normal((n, m))
    Ac = (T.T @ Ab @ T).tocsr()
    Bc = None if B is None else sp.diags((T.T @ (B @ T)).diagonal())
    bc = np.ones(Ac.shape[0]) if Bc is None else Bc.diagonal()
    Yc = None
    if Y is not None:
        # fine constraint (B Y)^T T c = 0, as Bc-orthogonality for the coarse LOBPCG
        Yc = np.linalg.qr((T.T @ (Y if B is None else B @ Y)) / bc[:, None])[0]
    Xc = _multilevel_start(Ac, Bc, Yc, m, preconditioner)
    normc = operator_norm(Ac)

    def loose(X):
        vals, U = _ritz(Ac, Bc, X)
        return np.max(backward_error(Ac, U, vals, metric=Bc, norm=normc)) < 1e-3

    Xc, _, _ = _lobpcg_iterate(Ac, Bc, _preconditioner(Ac, Bc, preconditioner), Yc, Xc, 1e-3 * normc, 200, loose)
    return T @ Xc


def _solve_lobpcg(problem, tol, maxiter, preconditioner, start, x0, progress=None):
    Ab, B, c = _bottom_form(problem)
    A = sp.csr_matrix(problem.operator, dtype=float)
    n, k = A.shape[0], problem.k
    if B is not None and np.any(B.diagonal() <= 0):
        raise _metric_error()
    m = _block_size(k, n)
    Y = _constraints(problem)
    M = _preconditioner(Ab, B, preconditioner)
    rng = np.random.default_rng(0)
    if x0 is not None:
        X = np.column_stack([x0[:, :m], rng.standard_normal((n, max(0, m - x0.shape[1])))])
    elif start == "multilevel":
        X = _multilevel_start(Ab, B, Y, m, preconditioner)
    else:
        X = rng.standard_normal((n, m))
    norm = operator_norm(A)
    bmax = 1.0 if B is None else float(B.diagonal().max())

    errors, checked = [], {}

    def error(X):
        X = np.asarray(X, dtype=float)
        vals, U = _ritz(A, B, X)
        checked.update(X=X, ritz=(vals, U))
        vals, U, _, _ = _select(problem, vals, U)
        errors.append(np.max(backward_error(A, U, vals, metric=B, deflate=problem.deflate, norm=norm)))
        return errors[-1]

    def report(done):
        if progress is not None:
            progress(f"LOBPCG, {done} iterations: backward error {errors[-1]:.1e} (target {tol:.0e})")

    # single precision while the backward error is above SINGLE_PRECISION_ABOVE (half the
    # memory traffic and flops per iteration) and still falls, then double precision to the target.
    # A loose target (twice that or more) is the single-precision phase's own: LOBPCG stops once every
    # column's residual is below it (2 iterations for scikit-learn's 6e-3 at N = 10^6, where half of
    # it took 10: the residuals are not monotone) and the float64 check decides
    loose = tol >= 2 * SINGLE_PRECISION_ABOVE
    switch = tol if loose else max(0.5 * tol, SINGLE_PRECISION_ABOVE)
    reached = [np.inf]

    def single_done(X):
        err, last = error(X), reached[-1]
        reached.append(err)
        # there, or rounding in float32 stalls it (far below a loose target: there a rise is not a stall)
        return err <= switch or (not loose and err > 0.7 * last)

    X, iterations, hist = _lobpcg_iterate(_single(Ab), _single(B), _single(M), _single(Y), X.astype(np.float32),
                                    switch * norm / np.sqrt(bmax), maxiter, single_done, k, report)
    X = X.astype(float)
    if not loose and iterations < maxiter and not error(X) <= 0.5 * tol:
        target = 0.5 * tol * norm / np.sqrt(bmax)
        start = len(errors)

        def double_done(X):
            error(X)
            return reached_target(errors[start:], tol)

        X, more, _ = _lobpcg_iterate(Ab, B, M, Y, X, target, maxiter - iterations, double_done,
                                     k, report, iterations, first=_round_length(hist, k, target))
        iterations += more
    # the Rayleigh-Ritz of the last check, unless LOBPCG moved X since
    vals, U = checked["ritz"] if np.array_equal(checked.get("X"), X) else _ritz(A, B, X)
    return (*_select(problem, vals, U), iterations, norm)


#: checks without a 10% fall after which a backward error already within the target is final
STAGNATION_CHECKS = 3


def reached_target(errors, tol):
    """Whether the double-precision phase may stop, given its backward errors so far.

    It aims at half the target (margin for the final measurement); once the error is within the
    target but stops falling -- no 10% fall over :data:`STAGNATION_CHECKS` checks -- more
    iterations buy nothing (the `sbm` graph at N = 10^6, k = 8 sat at 7.6e-6 for 20 iterations
    against a target of 1e-5 before this rule) and what was reached is returned, measured.
    """
    err = errors[-1]
    if err <= 0.5 * tol:
        return True
    if err > tol or len(errors) <= STAGNATION_CHECKS:
        return False
    return bool(err > 0.9 * min(errors[-1 - STAGNATION_CHECKS:-1]))


def _single(M):
    """``M`` in single precision (a :class:`BlockVCycle` keeps its input's precision itself)."""
    if M is None or isinstance(M, BlockVCycle):
        return M
    return M.astype(np.float32)
