"""Spectral problems as data, and the one generic solver that solves them.

Every closed form in ssl-proofs has the same shape: pick ``k`` extreme
eigenpairs of a symmetric operator ``A`` (relative to a metric ``B``,
optionally restricted to the orthogonal complement of some vectors), then
scale each eigen-direction by a *profile* ``s(lambda)`` written once, as a
sympy expression, so that the same formula is printed in derivation reports
and evaluated by the solver::

    Z* = scale * diag(row_weights) @ U_k @ diag(s(lambda_1..k))        (times any rotation R^T)

A :class:`SpectralProblem` holds those pieces; :func:`solve_spectral` is the
only eigen-solver in the project.  Small problems use dense
``scipy.linalg.eigh``; large sparse ones go through ARPACK (``_solve_sparse``),
the place a scaling issue extends.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import sympy

from .errors import InvalidArgument

#: eigenvalue symbol used in every profile expression
lam = sympy.Symbol("lambda", real=True)

#: sparse operators larger than this go to ARPACK; smaller ones (and dense input) use dense eigh
DENSE_LIMIT = 400
#: above this size the dense path computes only the k + 1 needed eigenpairs (no full spectrum)
FULL_SPECTRUM_LIMIT = 1500


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
        Vectors whose span is excluded (e.g. the constant vector for ``L``).
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
    """

    Z: np.ndarray
    vectors: np.ndarray
    eigenvalues: np.ndarray
    scales: np.ndarray
    spectrum: Optional[np.ndarray]
    gap: float
    problem: SpectralProblem


def complement_basis(vectors, n):
    """Orthonormal basis (N, N - r) of the orthogonal complement of ``vectors``."""
    V = np.asarray(vectors, dtype=float).reshape(n, -1)
    q, _ = np.linalg.qr(V, mode="complete")
    return q[:, V.shape[1]:]


def solve_spectral(problem: SpectralProblem) -> SpectralSolution:
    """Solve a :class:`SpectralProblem` (the project's only eigen-solver)."""
    A = problem.operator
    n = A.shape[0]
    dim = n - (0 if problem.deflate is None else np.asarray(problem.deflate).reshape(n, -1).shape[1])
    if problem.which not in ("smallest", "largest"):
        raise InvalidArgument(f"which must be 'smallest' or 'largest', got {problem.which!r}.")
    if not 1 <= problem.k <= dim:
        raise InvalidArgument(
            f"k = {problem.k} directions requested but the problem has only {dim} "
            "(after removing the excluded directions); lower k."
        )
    if sp.issparse(A) and n > DENSE_LIMIT:
        vals, vecs, spectrum, gap = _solve_sparse(problem)
    else:
        vals, vecs, spectrum, gap = _solve_dense(problem)
    scales = problem.profile_values(vals)
    Z = problem.scale * vecs * scales[None, :]
    if problem.row_weights is not None:
        Z = np.asarray(problem.row_weights, dtype=float)[:, None] * Z
    return SpectralSolution(Z=Z, vectors=vecs, eigenvalues=vals, scales=scales,
                            spectrum=spectrum, gap=gap, problem=problem)


def _dense(M):
    return M.toarray() if sp.issparse(M) else np.asarray(M, dtype=float)


def _solve_dense(problem):
    A = _dense(problem.operator)
    n = A.shape[0]
    B = None if problem.metric is None else _dense(problem.metric)
    Q = None
    if problem.deflate is not None:
        Q = complement_basis(problem.deflate, n)
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
            raise InvalidArgument(
                "the metric B of the generalized eigenproblem A u = lambda B u is not positive definite "
                "(for B = D_G: the graph has isolated nodes; for B = X^T H X: X is rank-deficient). "
                "Remove isolated nodes / collinear features, or use a variant without that metric."
            ) from None
    else:
        vals, vecs = sla.eigh(A, subset_by_index=subset)
    if Q is not None:
        vecs = Q @ vecs
    order = np.arange(len(vals)) if problem.which == "smallest" else np.arange(len(vals))[::-1]
    k = problem.k
    keep, rest = order[:k], order[k:]
    gap = float(abs(vals[rest[0]] - vals[keep[-1]])) if len(rest) else np.inf
    return vals[keep], vecs[:, keep], (vals if subset is None else None), gap


def _solve_sparse(problem):
    """Sparse path for large operators: ARPACK (shift-invert for the bottom end).

    ``k + r`` eigenpairs are computed (``r`` = number of excluded vectors), the
    excluded span is projected out and a Rayleigh-Ritz step on what is left
    picks the ``k`` wanted directions.  No full spectrum; the gap is estimated
    from one extra eigenpair.
    """
    from scipy.sparse.linalg import eigsh

    A = sp.csr_matrix(problem.operator)
    n = A.shape[0]
    k = problem.k
    B = None if problem.metric is None else sp.csr_matrix(problem.metric)
    Y = None if problem.deflate is None else np.asarray(problem.deflate, dtype=float).reshape(n, -1)
    m = min(k + 1 + (0 if Y is None else Y.shape[1]), n - 1)
    v0 = np.random.default_rng(0).standard_normal(n)
    if problem.which == "smallest":
        # shift just below the spectrum so the factorised operator is definite
        sigma = -1e-6 * (1.0 + float(abs(A).sum(axis=1).max()))
        vals, vecs = eigsh(A, k=m, M=B, sigma=sigma, which="LM", v0=v0, tol=0)
    else:
        vals, vecs = eigsh(A, k=m, M=B, which="LA", v0=v0, tol=0)
    if Y is not None:
        vecs = vecs - Y @ np.linalg.lstsq(Y, vecs, rcond=None)[0]
        U, sv, _ = np.linalg.svd(vecs, full_matrices=False)
        W = U[:, sv > 1e-8 * sv.max()]
        Bw = np.eye(W.shape[1]) if B is None else W.T @ (B @ W)
        vals, c = sla.eigh(W.T @ (A @ W), Bw)
        vecs = W @ c
    order = np.argsort(vals) if problem.which == "smallest" else np.argsort(vals)[::-1]
    vals, vecs = vals[order], vecs[:, order]
    if len(vals) < k:
        raise InvalidArgument(f"the sparse eigensolver found only {len(vals)} directions for k = {k}; lower k.")
    gap = float(abs(vals[k] - vals[k - 1])) if len(vals) > k else np.inf
    return vals[:k], vecs[:, :k], None, gap
