"""The linear regime ``Z = X W``: closed-form optimal weights (notes §2, §3.1, §3.3).

One idea carries every method: if a method's loss depends on ``Z`` only
through the quadratic forms ``Z^T A Z`` and ``Z^T B Z`` of its spectral
problem (operator ``A``, metric ``B``, both ``N x N``), then with ``Z = X W``
it depends on ``W`` only through ``W^T (X^T A X) W`` and ``W^T (X^T B X) W``.
Whitening ``V = (X^T B X)^{1/2} W`` gives the *same* problem in ``D``
dimensions, so the optimal ``W`` is the method's own closed form applied to
the **pulled-back** generalized eigenproblem::

    X^T A X w = lambda X^T B X w,      W* = scale * [w_1 .. w_k] diag(s(lambda_1..k))  (x R^T)

with the method's profile ``s`` (written once, in the method module) and the
``B_X``-orthonormal eigenvectors returned by the generalized ``eigh``.
:func:`solve_linear` builds this problem from the method's own
:meth:`~ssl_proofs.methods.base.Method.spectral_problem` (no second copy of any
formula) and solves it with :func:`ssl_proofs.spectral.solve_spectral`.

VICReg (``A = L``, ``B = H``, ``scale = sqrt(N - ddof)``) gives, with
``S = X^T H X / N`` and ``T = X^T L X / N``::

    W* = S^{-1/2} Q_K diag(sqrt((1 - (gamma/alpha) mu_k)_+)) R^T     (squared, ddof = 0)
    W* = S^{-1/2} Q_K R^T                                              (constrained: LPP with H for D_G)

(``Q_K, mu_k``: bottom eigenpairs of ``S^{-1/2} T S^{-1/2}``).  Indeed
``sqrt(N) u = S^{-1/2} q`` for a ``X^T H X``-orthonormal ``u``.
BarlowTwins (``A = G``, ``B = D_G``, largest, its own profile: columns with
``rho <= 0`` zeroed): ``X^T G X w = rho X^T D_G X w``, tied-weight CCA on the
two-view graph.  Proved optimal only where the non-linear candidate is (loss 0,
or one column); elsewhere ``LinearSolution.certificate`` is ``"candidate"``.

Kernels: ``Z = K A`` with a Gram matrix ``K`` is the linear regime with
``X := K`` (:func:`solve_kernel`): ``K A_G K a = lambda K B_G K a`` (kernel
LPP / kernel CCA, optional ridge ``kappa K`` in the metric).

Degenerate inputs
-----------------
``B_X = X^T B X`` singular (collinear features, ``D >= N``, a constant
feature): the problem is solved on the range of ``B_X``; every
``W* + null_space @ Y`` is optimal too (``Z`` changes at most by a
constant column, which the loss ignores) and the basis is returned as
``LinearSolution.null_space``.  ``k`` larger than ``rank(B_X)``: the soft
variants pad with zero columns (still optimal, see docs/linear.md); the
hard-constraint variants have no feasible point and raise
:class:`~ssl_proofs.errors.InvalidArgument`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional

import numpy as np
import scipy.sparse as sp

from . import graphs as _graphs
from .arrays import check_float_array, to_numpy
from .errors import InvalidArgument, NoClosedForm
from .spectral import SpectralProblem, SpectralSolution, embedding_rank, solve_spectral

__all__ = [
    "LinearSolution", "solve_linear", "solve_kernel", "linear_problem", "pullback", "solve_pulled",
    "check_data", "class_scatters", "RANK_RTOL",
]

EPS = float(np.finfo(np.float64).eps)
#: eigenvalues of ``B_X`` below ``RANK_RTOL * max(N, D) * eps * max eigenvalue`` count as zero
#: (eigh's backward error is ~eps ||B_X||; the factor absorbs accumulation over N and D)
RANK_RTOL = 1e3


@dataclass
class LinearSolution:
    """Closed-form optimal weights of the linear network ``Z = X W``.

    Attributes
    ----------
    W : (D, k) ndarray          optimal weights (any ``W R^T``, R orthogonal, and any
                                ``W + null_space @ Y`` are optimal too)
    Z : (N, k) ndarray          ``X @ W``
    loss : float                the method's loss at ``Z`` (same variant, hyper-parameters)
    eigenvalues : (k,) array    generalized eigenvalues of the directions used (NaN for padding)
    scales : (k,) array         profile values ``s(lambda)`` (0 for padding)
    hyper : dict
    variant : str
    problem : SpectralProblem   the pulled-back generalized problem ``X^T A X w = lambda X^T B X w``
    spectral : SpectralSolution the solver output on the range of ``B_X``
    null_space : (D, m) array   orthonormal basis of ``null(X^T B X)``: the freedom left in ``W``
    metric_rank : int           ``rank(X^T B X)``: most directions a feasible Z can have
    rank : int                  (property) rank of ``Z``, as :attr:`Solution.rank`: the columns whose
                                scale is non-zero beyond rounding (:func:`~ssl_proofs.spectral.embedding_rank`)
    notes : list of str         what degenerate handling was applied
    kernel : bool               ``True`` when ``X`` was a Gram matrix (``W`` = coefficients ``A``)
    note : str                  why that certificate (as :attr:`Solution.note`)
    certificate : str           ``"proved"``: the closed form's theorem covers this input (``W`` is a
                                global minimiser); ``"candidate"``: outside the proved range (only a
                                stationary candidate; ``notes`` says why), e.g. BarlowTwins with more
                                than one column and a top-k ``rho < 1``
    """

    W: np.ndarray
    Z: np.ndarray
    loss: float
    eigenvalues: np.ndarray
    scales: np.ndarray
    hyper: dict
    variant: str
    problem: SpectralProblem = field(repr=False)
    spectral: Optional[SpectralSolution] = field(default=None, repr=False)
    null_space: Optional[np.ndarray] = field(default=None, repr=False)
    metric_rank: int = 0
    notes: list = field(default_factory=list)
    kernel: bool = False
    certificate: str = "proved"
    note: str = ""

    @property
    def residual(self):
        """Backward error of the eigenpairs behind ``W`` (as :attr:`Solution.residual`)."""
        return None if self.spectral is None else self.spectral.residual

    @property
    def rank(self):
        """Rank of ``Z`` (the same meaning as :attr:`ssl_proofs.methods.base.Solution.rank`)."""
        return embedding_rank(self.Z, self.scales)

    @property
    def A(self):
        """Kernel coefficients (``Z = K A``); the same array as ``W``."""
        return self.W


# -- validation ------------------------------------------------------------------

def check_data(X, n, *, name="X"):
    """Validate the inputs ``X`` (N x D) against a graph with ``n`` nodes.

    Raises
    ------
    InvalidArgument
        Wrong shape, non-numeric or non-finite entries, with the fix.
    """
    X = to_numpy(X, name)  # masked arrays, meta tensors, ints beyond float64 refused here
    if np.iscomplexobj(X):
        raise InvalidArgument(
            f"{name} has complex entries; inputs are real. Pass {name}.real if the imaginary parts are rounding "
            "noise, or stack real and imaginary parts as separate features."
        )
    X = check_float_array(X, name)
    if X.ndim == 1 and X.shape[0] == n:
        X = X[:, None]  # one feature
    if X.ndim != 2 or X.shape[0] != n or X.shape[1] < 1:
        raise InvalidArgument(
            f"{name} must have shape (N, D) = ({n}, D) to match G, got {X.shape}. "
            "Row i of X is the input of node i of G; transpose X if its rows are features."
        )
    if not np.all(np.isfinite(X)):
        bad = int(X.size - np.count_nonzero(np.isfinite(X)))
        raise InvalidArgument(f"{name} contains {bad} NaN or infinite entries; impute or drop those samples.")
    return X


def _check_kernel(K, n):
    K = check_data(K, n, name="K")
    if K.shape != (n, n):
        raise InvalidArgument(f"the Gram matrix K must be N x N = {n} x {n}, got {K.shape}.")
    asym = float(np.max(np.abs(K - K.T)))
    if asym > 1e-10 * max(1.0, float(np.max(np.abs(K)))):
        raise InvalidArgument(f"K is not symmetric (max |K - K^T| = {asym:.3g}); a Gram matrix K_ij = <phi(x_i), phi(x_j)> is.")
    return (K + K.T) / 2


# -- the pulled-back problem -----------------------------------------------------------

def _check_method(method):
    # the method object itself (linear.py knows no method by name): its problem, loss, padding rule
    if not (hasattr(method, "linear_spectral_problem") and hasattr(method, "loss")):
        raise InvalidArgument(
            f"method must be a Method object, got {method!r}; pass ssl_proofs.get_method(name) or call "
            "get_method(name).solve_linear(X, G, k)."
        )
    return method


def pullback(problem, X):
    """``(X^T P A P X, X^T P B P X)``: the problem's operator and metric seen through ``Z = X W``.

    ``P`` projects onto the complement of ``problem.deflate`` (``H`` for the
    constant vector), ``B`` is ``problem.metric`` (identity if ``None``).
    """
    n = X.shape[0]
    PX = X
    if problem.deflate is not None:
        # P X = X - Y (Y^T Y)^-1 Y^T X: O(N D r), no N x N basis of the complement
        Y = np.asarray(problem.deflate, dtype=float).reshape(n, -1)
        PX = X - Y @ np.linalg.lstsq(Y, X, rcond=None)[0]
    A = problem.operator
    AX = A @ PX if sp.issparse(A) else np.asarray(A, dtype=float) @ PX
    A_X = PX.T @ np.asarray(AX)
    if problem.metric is None:
        B_X = PX.T @ PX
    else:
        B = problem.metric
        BX = B @ PX if sp.issparse(B) else np.asarray(B, dtype=float) @ PX
        B_X = PX.T @ np.asarray(BX)
    return (A_X + A_X.T) / 2, (B_X + B_X.T) / 2


def linear_problem(method, X, G, k, *, variant=None, **hp):
    """The generalized eigenproblem ``X^T A X w = lambda X^T B X w`` a method's linear optimum solves.

    Returns
    -------
    SpectralProblem
        In ``D`` dimensions, with the method's profile, hyper-parameters and scale.
    """
    method, X, G, k, variant, hp = _prepare(method, X, G, k, variant, hp)
    prob = method.linear_spectral_problem(G, k, variant=variant, **hp)
    return _linear_from(prob, X, k)


def _linear_from(prob, X, k):
    if prob.row_weights is not None:
        raise NoClosedForm(
            "this method's optimum rescales the rows of Z (row_weights), which a linear map Z = XW cannot "
            "do in general; no linear closed form is implemented for it."
        )
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is what is checked for, and reported below
        A_X, B_X = pullback(prob, X)
    if not (np.all(np.isfinite(A_X)) and np.all(np.isfinite(B_X))):
        raise InvalidArgument(
            f"X^T A X or X^T B X overflows float64 (max |X_ij| = {float(np.max(np.abs(X))):.3g}): X (or G's weights) "
            "is too large for double precision. Rescale X, e.g. X / abs(X).max(): Z = X W is unchanged and W "
            "scales inversely."
        )
    return replace(prob, operator=A_X, metric=B_X, deflate=None, k=k,
                   description=f"X^T A X w = lambda X^T B X w with A, B from: {prob.description}")


def _prepare(method, X, G, k, variant, hp):
    method = _check_method(method)
    variant = method.check_variant(variant, closed_form=True) if method.closed_form_variants else variant
    hp = method.check_hyper(variant, hp)
    G = _graphs.check_graph(G)
    n = G.shape[0]
    X = check_data(X, n)
    k = _graphs.check_k(k, n, strict=False)
    return method, X, G, k, variant, hp


def solve_linear(method, X, G, k, *, variant=None, **hp):
    """Closed-form optimal weights ``W`` of ``Z = X W`` for a method's loss.

    Parameters
    ----------
    method : Method
        E.g. ``get_method("vicreg")`` (variants ``"squared"``, ``"constrained"``); the method provides its
        problem (``linear_spectral_problem``), padding rule and certificate.
    X : (N, D) array_like
        Inputs, row i = node i of ``G``.
    G : (N, N) array or sparse matrix
        Positive-pair graph.
    k : int
        Output dimension.
    variant : str, optional
        Same names as :meth:`Method.solve`.
    **hp
        Hyper-parameters (paper names).

    Returns
    -------
    LinearSolution

    Raises
    ------
    InvalidArgument
        Bad shapes; ``X^T B X = 0`` (all features constant); ``k`` above
        ``rank(X^T B X)`` for a hard-constraint variant (no feasible ``W``).
    NoClosedForm
        The method/variant has no linear closed form.
    """
    method, X, G, k, variant, hp = _prepare(method, X, G, k, variant, hp)
    prob = method.linear_spectral_problem(G, k, variant=variant, **hp)
    return solve_pulled(method, X, G, k, variant, hp, _linear_from(prob, X, k))


def solve_kernel(method, K, G, k, *, variant=None, ridge=0.0, **hp):
    """Kernel version: ``Z = K A`` for a Gram matrix ``K`` (kernel LPP / kernel CCA).

    This is :func:`solve_linear` with ``X := K``: ``K A_G K a = lambda (K B_G K + ridge K) a``.
    With ``ridge > 0`` the metric is regularised (kernel CCA's ``kappa``);
    then ``Z`` is optimal for the regularised constraint, not the raw loss,
    and ``.notes`` says so.

    Returns
    -------
    LinearSolution
        With ``kernel=True``; ``.A`` (= ``.W``) holds the N x k coefficients.
    """
    ridge = float(ridge)
    if not np.isfinite(ridge) or ridge < 0:
        raise InvalidArgument(f"ridge = {ridge:g} must be a finite number >= 0.")
    G0 = _graphs.check_graph(G)
    Kc = _check_kernel(K, G0.shape[0])
    method, X, G, k, variant, hp = _prepare(method, Kc, G0, k, variant, hp)
    prob = method.linear_spectral_problem(G, k, variant=variant, **hp)
    lp = _linear_from(prob, X, k)
    sol = solve_pulled(method, X, G, k, variant, hp, lp, extra_metric=ridge * Kc if ridge > 0 else None)
    sol.kernel = True
    if ridge > 0:
        sol.notes.append(f"ridge {ridge:g} K added to the metric (regularised kernel problem)")
    return sol


def solve_pulled(method, X, G, k, variant, hp, lp, extra_metric=None):
    """Solve a pulled-back problem ``lp`` (from :func:`linear_problem`, possibly altered) for ``Z = X W``.

    Inputs are taken as validated (:func:`linear_problem` checked them); verifiers call this with
    planted wrong profiles.  ``extra_metric`` is added to ``X^T B X`` (a kernel ridge).
    """
    n, d = X.shape
    A_X, B_X = lp.operator, lp.metric
    if extra_metric is not None:
        B_X = B_X + extra_metric
        lp = replace(lp, metric=B_X)
    notes = []
    lam, E = np.linalg.eigh(B_X)
    top = float(lam.max(initial=0.0))
    # B_X = X^T P B P X: rounding alone leaves ~eps * ||X||_F^2 (||B|| <= 1 for H; D_G scales both)
    floor = RANK_RTOL * max(n, d) * EPS * float(np.sum(X ** 2))
    if not top > floor:
        raise InvalidArgument(
            "X^T B X = 0: every feature of X is constant (or zero on the graph's support), so Z = XW carries "
            "no information the loss can see. Check the data (standardise features, drop constant columns)."
        )
    keep = lam > RANK_RTOL * max(n, d) * EPS * top
    r = int(np.count_nonzero(keep))
    E_r, E_0 = E[:, keep], E[:, ~keep]
    if E_0.shape[1]:
        # null directions must leave the loss unchanged, else no minimiser exists
        leak = float(np.abs(A_X @ E_0).max())
        if leak > RANK_RTOL * max(n, d) * EPS * max(float(np.abs(A_X).max()), top):
            raise InvalidArgument(
                f"X^T B X is singular but X^T A X is not zero on its null space (leak {leak:.3g}): the loss "
                "is not bounded on those directions of W. Remove the offending features (e.g. collinear "
                "combinations) or use a kernel with a ridge."
            )
        why = "D >= N" if d >= n else "collinear or constant features"
        notes.append(f"X^T B X has rank {r} < D = {d} ({why}): solved on its range; W + null_space @ Y is "
                     "optimal for every Y (X null_space Y lies in the null space of the metric, which the loss does not see)")
    k_used = min(k, r)
    if k > r:
        soft = method.linear_padding is not None and variant not in method.constrained_variants
        if not soft:
            raise InvalidArgument(
                f"k = {k} but X^T B X has rank {r} (D = {d}, N = {n}): Z = XW has at most {r} independent "
                f"(centred) columns, so the constraint of {method.name} ({variant}) "
                "has no feasible W. "
                f"Lower k to <= {r}, add non-collinear features, or use a kernel."
            )
        notes.append(f"k = {k} > rank {r}: {k - r} zero columns appended (their loss term is constant)")
    # generalized problem on range(B_X): (E_r^T A_X E_r) v = lambda diag(lam_r) v
    reduced = replace(lp, operator=E_r.T @ A_X @ E_r, metric=np.diag(lam[keep]), k=k_used)
    spec = solve_spectral(reduced)
    W = E_r @ spec.Z
    vals, scales = spec.eigenvalues, spec.scales
    if k > k_used:
        W = np.column_stack([W, np.zeros((d, k - k_used))])
        vals = np.r_[vals, np.full(k - k_used, np.nan)]
        scales = np.r_[scales, np.zeros(k - k_used)]
    Z = X @ W
    loss = method.loss(Z, G, variant=variant, **hp)
    kappa = float(lam[keep].max() / lam[keep].min())
    certificate, why = method.linear_certificate(k, k_used, loss, hp, RANK_RTOL * max(n, d) * EPS * kappa)
    if why:
        notes.append(why)
    else:
        why = (f"{method.name} ({variant}), linear regime: the linear closed form's theorem covers this input, "
               "W is a global minimiser over all W (docs/linear.md)")
    return LinearSolution(W=W, Z=Z, loss=loss, eigenvalues=vals, scales=scales, hyper=hp, variant=variant,
                          problem=lp, spectral=spec, null_space=E_0, metric_rank=r, notes=notes,
                          certificate=certificate, note=why)


# -- label graphs and LDA ----------------------------------------------------------

def class_scatters(X, labels):
    """Per-class scatter matrices ``S_c = X_c^T H_c X_c`` and class sizes.

    The label graph's Laplacian is block-diagonal with blocks
    ``L_c = n_c I - 1 1^T = n_c H_c``, hence
    ``X^T L X = sum_c n_c S_c`` (size-weighted within-class scatter), which is
    ``n_c S_W`` only when every class has the same size.

    Returns
    -------
    (scatters, sizes) : (C, D, D) array, (C,) int array, classes in ``np.unique`` order
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(labels).ravel()
    if y.shape[0] != X.shape[0]:
        raise InvalidArgument(f"labels has {y.shape[0]} entries but X has {X.shape[0]} rows.")
    out, sizes = [], []
    for c in np.unique(y):
        Xc = X[y == c]
        Xc = Xc - Xc.mean(axis=0)
        out.append(Xc.T @ Xc)
        sizes.append(Xc.shape[0])
    return np.array(out), np.array(sizes)
