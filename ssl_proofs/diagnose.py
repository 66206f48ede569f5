"""Hold a trained network's embeddings against the closed-form theory.

``diagnose(Z, G, "vicreg", alpha=..., gamma=...)`` takes a batch of embeddings
``Z`` (rows = the N nodes of the batch's positive-pair graph ``G``) and reports:

* ``loss`` of Z and ``optimal_loss`` of the closed-form optimum at the same
  hyper-parameters (``gap`` = their difference);
* ``principal_angles`` (degrees) between the span of Z's top left singular
  vectors (centred when the loss ignores the mean) and the optimum's eigenspace
  of G's operator (all eigenvectors tied with the kept ones, so a degenerate
  eigenspace is compared as a whole);
* ``effective_rank``, ``numerical_rank`` and the per-direction variances of Z,
  next to the variances and rank the closed form predicts, and which of the
  bottom eigen-directions the closed form predicts collapse at these
  hyper-parameters;
* ``state``: near the optimum, near a (non-optimal) stationary point -- for
  squared VICReg every such point is a strict saddle -- or neither; and
  ``verdict``, one line in words: at the optimum (to rounding), within tolerance,
  lower than a candidate (the candidate is not optimal there), or far, with why;
* ``covariance_spectrum`` beside the per-coordinate variances: a dimensional
  collapse hides behind equal per-coordinate stds.

:func:`from_official` maps the official VICReg (``sim_coeff``, ``std_coeff``,
``cov_coeff``) and Barlow Twins (``lambd``) coefficients to the paper's
hyper-parameters (docs/diagnose.md: derivation and where it is exact).

Closed forms used: VICReg ``squared`` and ``constrained`` (proved); VICReg
``hinge`` (the paper's loss): the decorrelated beta -> inf optimum,
std ``min(1, alpha/(4 gamma lambda))``, reported as a *candidate* (at finite
beta it can be beaten, see the ``hinge_finite_beta`` claim); spectral
contrastive (proved); BarlowTwins' eigen-candidate (proved for K <= #components).
SimCLR has no closed form: ``diagnose`` refuses it with that message.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import scipy.linalg as sla
import torch

from . import graphs as _graphs
from .claims.downstream import RANK_RTOL, centred_singular_values, effective_rank, numerical_rank
from .arrays import check_float_array
from .errors import InvalidArgument, NoClosedForm
from .methods import get_method
from .spectral import complement_basis

__all__ = ["Diagnosis", "diagnose", "hinge_candidate", "from_official", "OfficialMapping", "OFFICIAL",
           "REL_TOL", "loss_tolerance"]

#: default relative tolerance of the state classification (5% of max(1, |optimal loss|))
REL_TOL = 0.05

EPS = float(np.finfo(np.float64).eps)

#: the official defaults: facebookresearch/vicreg main_vicreg.py (--sim-coeff 25 --std-coeff 25
#: --cov-coeff 1) and facebookresearch/barlowtwins main.py (--lambd 0.0051)
OFFICIAL = {"vicreg": {"sim_coeff": 25.0, "std_coeff": 25.0, "cov_coeff": 1.0},
            "barlowtwins": {"lambd": 0.0051}}


def loss_tolerance(n, k, scale=1.0):
    """Rounding level of a float64 loss over ``N x K`` entries: ``64 N K eps max(1, scale)``.

    A loss value (or a gap) within it is 0 to rounding: the loss sums O(N K) products, each
    rounded to ``eps`` relative; 64 absorbs the sums of squares and the square roots.
    """
    return 64.0 * n * k * EPS * max(1.0, abs(float(scale)))


@dataclass
class OfficialMapping:
    """The paper's hyper-parameters equivalent to an official implementation's coefficients.

    Attributes
    ----------
    method, variant : str      the paper's method and loss variant to diagnose with
    hyper : dict               its hyper-parameters (paper names)
    official : dict            the official coefficients mapped
    exact : str                where the two losses agree (docs/diagnose.md derives it)
    """

    method: str
    variant: str
    hyper: dict
    official: dict
    exact: str


def from_official(method, k, **coeffs):
    """Map official coefficients (missing ones: the official defaults) to the paper's hyper-parameters.

    VICReg (facebookresearch/vicreg): ``sim_coeff * mse(x, y) + std_coeff * std_loss + cov_coeff *
    cov_loss``, every term averaged over the K features, per view.  On the stacked batch
    ``Z = [x; y]`` with the view graph this is the paper's hinge loss with ``gamma = sim_coeff / K``
    (exact: the paper's ``(gamma/N) sum_ij G_ij ||z_i - z_j||^2`` is ``(gamma/B) sum_i ||x_i - y_i||^2``),
    ``alpha = std_coeff / K`` and ``beta = 2 cov_coeff / K`` (the two per-view terms, equal on an
    invariant batch), ``ddof = 1``.  Barlow Twins (facebookresearch/barlowtwins):
    ``alpha = lambd``.

    Parameters
    ----------
    method : {"vicreg", "barlowtwins"}
    k : int
        Embedding dimension K (the official code divides by it).
    **coeffs
        ``sim_coeff``, ``std_coeff``, ``cov_coeff`` (VICReg) or ``lambd`` (Barlow Twins).

    Returns
    -------
    OfficialMapping

    Raises
    ------
    InvalidArgument
        Another method, an unknown coefficient, a non-finite or negative value.
    """
    if method not in OFFICIAL:
        raise InvalidArgument(f"no official coefficients are mapped for {method!r}; --from-official knows "
                              f"{sorted(OFFICIAL)}.")
    unknown = sorted(set(coeffs) - set(OFFICIAL[method]))
    if unknown:
        raise InvalidArgument(f"{method}'s official coefficients are {sorted(OFFICIAL[method])}; got {unknown}.")
    c = dict(OFFICIAL[method])
    for name, v in coeffs.items():
        try:
            v = float(v)
        except (TypeError, ValueError):
            raise InvalidArgument(f"{name} = {v!r} must be a number.") from None
        if not (np.isfinite(v) and v >= 0):
            raise InvalidArgument(f"{name} = {v!r} must be a finite number >= 0.")
        c[name] = v
    if method == "vicreg":
        hp = {"alpha": c["std_coeff"] / k, "beta": 2.0 * c["cov_coeff"] / k, "gamma": c["sim_coeff"] / k, "ddof": 1.0}
        exact = ("invariance term exact for every batch; variance and covariance terms equal on an invariant batch "
                 "(x = y) up to the normalisation 2(B-1)/(2B-1) of the stacked covariance and the official eps 1e-4 "
                 "inside the std (relative O(1/B)); on other batches the paper's stacked covariance is not the average "
                 "of the per-view ones")
        return OfficialMapping("vicreg", "hinge", hp, c, exact)
    exact = ("exact when each view is centred with equal per-view column norms (what the official BatchNorm "
             "does, up to its eps 1e-5) and the cross-correlation c is symmetric; in general the paper's C on the "
             "view graph is (c + c^T)/2 (same diagonal, symmetrised off-diagonal)")
    return OfficialMapping("barlowtwins", "paper", {"alpha": c["lambd"]}, c, exact)


@dataclass
class Diagnosis:
    """What :func:`diagnose` measured; ``to_dict()`` is the JSON of ``ssl-proofs diagnose``."""

    method: str
    variant: str
    hyper: dict
    n: int
    k: int
    loss: float
    optimal_loss: float
    optimum: str
    gap: float
    relative_gap: float
    principal_angles: list
    optimal_subspace_dim: int
    energy_in_optimal_subspace: float
    effective_rank: float
    numerical_rank: int
    variances: list
    predicted_variances: list
    predicted_rank: int
    collapsed_directions: list
    relative_grad_norm: float
    state: str
    notes: list = field(default_factory=list)
    #: rounding level of the losses (:func:`loss_tolerance`): |value| below it is 0
    loss_tol: float = 0.0
    #: dimension of Z's span compared (singular values > RANK_RTOL x largest); the angles run over
    #: min(subspace_rank, optimal_subspace_dim) directions, the ones both subspaces have
    subspace_rank: int = 0
    #: the eigenvalues of Cov(Z) (= ``variances``) and the per-coordinate variances diag(Cov(Z))
    covariance_spectrum: list = field(default_factory=list)
    coordinate_variances: list = field(default_factory=list)
    #: one line in words: at the optimum / within tolerance / lower than the candidate / far, and why
    verdict: str = ""

    def to_dict(self):
        return asdict(self)


def hinge_candidate(G, k, alpha, gamma, ddof=0.0):
    """VICReg-hinge decorrelated optimum (beta -> inf; notes §3.1 [D]).

    Bottom-``k`` eigenvectors of ``L`` on ``1^perp``, direction ``k`` with std
    ``t_k = min(1, alpha / (4 gamma lambda_k))`` (1 when ``lambda_k = 0``).

    Returns
    -------
    Z : (N, k) ndarray, eigenvalues : (k,), stds : (k,)
    """
    sol = get_method("vicreg").solve(G, k, variant="constrained", ddof=ddof)
    lam = np.clip(sol.eigenvalues, 0.0, None)
    big = lam > 1e-12 * max(1.0, float(lam.max(initial=0.0)))
    t = np.ones_like(lam)
    if gamma > 0:
        t[big] = np.minimum(1.0, alpha / (4.0 * gamma * lam[big]))
    return sol.Z * t[None, :], sol.eigenvalues, t


def _check(Z, G, method, variant, hp):
    G = _graphs.check_graph(G)
    n = G.shape[0]
    Z = check_float_array(Z, "the embeddings Z")  # complex refused, not cast: the imaginary part would be lost
    if Z.ndim != 2:
        raise InvalidArgument(f"the embeddings must be a 2-d (N, K) array, got shape {Z.shape}.")
    if Z.shape[0] != n:
        raise InvalidArgument(
            f"the embeddings have {Z.shape[0]} rows but G has {n} nodes: row i of Z must be the embedding of "
            "node i of the batch's positive-pair graph. Save the embeddings of exactly the batch G describes."
        )
    if not np.all(np.isfinite(Z)):
        bad = int(Z.size - np.count_nonzero(np.isfinite(Z)))
        raise InvalidArgument(f"the embeddings contain {bad} NaN or infinite entries (a diverged network?); "
                              "diagnose a finite batch.")
    k = _graphs.check_k(Z.shape[1], n)
    method = get_method(method)
    if not method.closed_form_variants:
        raise NoClosedForm(f"{method.name} has no closed-form optimum to compare with; diagnose supports "
                           "vicreg, spectral_contrastive and barlowtwins.")
    if variant is None:
        variant = method.closed_form_variants[0]
    variant = method.check_variant(variant)
    if variant not in method.closed_form_variants and not (method.name == "vicreg" and variant == "hinge"):
        raise NoClosedForm(f"{method.name} variant {variant!r} has no closed form; use one of "
                           f"{list(method.closed_form_variants)}.")
    hp = method.check_hyper(variant, hp)
    return Z, G, k, method, variant, hp


def _optimum(method, G, k, variant, hp):
    """(Z*, kept eigenvalues, all eigenvalues, eigenvectors (full basis of the problem), 'proved'/'candidate')."""
    if variant == "hinge":
        Zs, vals, _ = hinge_candidate(G, k, hp["alpha"], hp["gamma"], hp["ddof"])
        problem = method.spectral_problem(G, k, variant="constrained", ddof=hp["ddof"])
        status = "candidate (hinge, beta -> inf formula)"
    else:
        sol = method.solve(G, k, variant=variant, **{key: v for key, v in hp.items()})
        Zs, problem = sol.Z, sol.spectral.problem
        status = "proved closed form"
        if method.name == "barlowtwins" and k > _graphs.n_components(G):
            status = "candidate (BarlowTwins eigen-solution, proved only for K <= #components)"
    return Zs, problem, status


def _full_basis(problem):
    """Every eigenpair of the problem (dense), sorted the way the problem selects (kept ones first)."""
    A = _graphs.to_dense(problem.operator).astype(float)
    n = A.shape[0]
    Q = np.eye(n) if problem.deflate is None else complement_basis(problem.deflate, n)
    Ar = Q.T @ A @ Q
    Br = None if problem.metric is None else Q.T @ _graphs.to_dense(problem.metric).astype(float) @ Q
    vals, vecs = sla.eigh((Ar + Ar.T) / 2, None if Br is None else (Br + Br.T) / 2)
    if problem.which == "largest":
        vals, vecs = vals[::-1], vecs[:, ::-1]
    vecs = Q @ vecs
    if problem.row_weights is not None:
        vecs = np.asarray(problem.row_weights, dtype=float)[:, None] * vecs
    return vals, vecs


def _grad_ratio(method, Z, G, variant, hp):
    """``||grad L(Z)||_F ||Z||_F / max(|L(Z)|, 1)``: dimensionless stationarity (0 at a stationary point)."""
    f = method.objective(G, variant=variant, **hp)
    Y = torch.as_tensor(Z, dtype=torch.float64).requires_grad_(True)
    val = f(Y)
    (g,) = torch.autograd.grad(val, Y)
    return float(torch.linalg.norm(g) * torch.linalg.norm(Y.detach()) / max(abs(float(val.detach())), 1.0))


def diagnose(Z, G, method="vicreg", *, variant=None, rel_tol=REL_TOL, **hp):
    """Compare embeddings ``Z`` of a batch with the closed-form optimum on its graph ``G``.

    Parameters
    ----------
    Z : (N, K) array or torch.Tensor
        Embeddings of the N nodes of ``G`` (row i = node i), e.g. a network's batch output.
    G : (N, N) array or sparse matrix
        The batch's positive-pair graph (``ssl_proofs.graphs.view_graph`` for 2 stacked views).
    method : str
        ``"vicreg"`` (variants ``squared`` (default), ``constrained``, ``hinge``),
        ``"spectral_contrastive"``, ``"barlowtwins"``.
    variant : str, optional
    rel_tol : float
        Relative tolerance of the ``state`` classification.
    **hp
        Hyper-parameters in the paper's names (``alpha``, ``beta``, ``gamma``, ``ddof``).

    Returns
    -------
    Diagnosis

    Raises
    ------
    InvalidArgument, InvalidGraph
        Rows of Z do not match the nodes of G, non-finite entries, K >= N,
        hyper-parameters out of their domain or unknown to the method.
    NoClosedForm
        The method (SimCLR) or variant has no closed form to compare with.
    """
    if not (isinstance(rel_tol, (int, float)) and 0 < rel_tol < 1):
        raise InvalidArgument(f"rel_tol = {rel_tol!r} must be a number in (0, 1).")
    Z, G, k, method, variant, hp = _check(Z, G, method, variant, hp)
    n = Z.shape[0]
    notes = []
    loss = method.loss(Z, G, variant=variant, **hp)
    Zs, problem, status = _optimum(method, G, k, variant, hp)
    opt = method.loss(Zs, G, variant=variant, **hp)
    tol = loss_tolerance(n, k, max(abs(loss), abs(opt)))
    opt = 0.0 if abs(opt) <= tol else opt          # 0 to rounding is printed and stored as 0
    gap = loss - opt
    rel_gap = gap / max(1.0, abs(opt))
    if gap < -tol:
        notes.append(f"Z has a LOWER loss than the {status} by {-gap:.3g}: "
                     + ("the candidate is not optimal here." if "candidate" in status else
                        "this contradicts the closed form; please report it."))
    if opt == 0.0:
        notes.append("the optimum's loss is 0 (e.g. a two-view batch with K <= #pairs - 1): the gap is the loss itself.")

    vals, vecs = _full_basis(problem)
    centre = method.translation_invariant   # losses that see the mean are measured uncentred
    pred_sd = centred_singular_values(Zs, centre)
    pred_rank = numerical_rank(Zs, centre=centre)
    if method.name == "barlowtwins":
        notes.append("BarlowTwins' loss ignores column norms: compare ranks and angles, not variances.")
    kept = vals[:k]
    scale = max(1.0, float(np.max(np.abs(vals))))
    last = kept[max(pred_rank, 1) - 1]
    tied = np.abs(vals - last) <= 1e-8 * scale
    dim = max(int(np.max(np.flatnonzero(tied))) + 1, pred_rank) if pred_rank else 0
    Zc = Z - Z.mean(axis=0) if centre else Z
    U, s, _ = np.linalg.svd(Zc, full_matrices=False)
    r = int(np.count_nonzero(s > RANK_RTOL * max(float(s.max(initial=0.0)), 1e-300)))
    if dim and r:
        basis = np.linalg.qr(vecs[:, :dim])[0]
        # subspace_angles returns min(r, dim) angles: the directions both subspaces have
        angles = np.degrees(sla.subspace_angles(U[:, :r], basis)).tolist()
        energy = float(np.sum((basis.T @ Zc) ** 2) / max(float(np.sum(Zc ** 2)), 1e-300))
        if r > dim:
            notes.append(f"Z spans {r} directions, the optimum's eigenspace {dim}: the principal angles cover only "
                         f"the {dim} both have; {1 - energy:.2f} of Z's energy lies outside the eigenspace.")
    else:
        angles, energy = [], 0.0
        notes.append("the optimum or Z has rank 0: no subspace to compare.")

    collapsed = []
    if method.name == "vicreg" and variant == "squared":
        ratio = hp["gamma"] / hp["alpha"] * (n - hp["ddof"]) / n
        collapsed = [{"index": j, "eigenvalue": float(v)} for j, v in enumerate(kept) if 1 - ratio * v <= 0]
    elif method.name != "vicreg":
        collapsed = [{"index": j, "eigenvalue": float(v)} for j, v in enumerate(kept) if v <= 0]
    grad = _grad_ratio(method, Z, G, variant, hp)
    cov = np.cov(Z, rowvar=False, bias=True).reshape(k, k) if centre else (Z.T @ Z / n)
    spectrum = (centred_singular_values(Z, centre) ** 2).tolist()
    coordinate = np.diag(cov).tolist()
    state = _state(gap, rel_gap, tol, rel_tol, status, grad, energy, variant)
    nrank = numerical_rank(Z, centre=centre)
    # VICReg's and BarlowTwins' losses are sums of squares and hinges: >= 0, so loss 0 is the global minimum
    proved = "proved" in status or (opt == 0.0 and method.name in NON_NEGATIVE)
    verdict = _verdict(gap, rel_gap, opt, tol, rel_tol, proved, "candidate" in status, energy, angles, r, dim, nrank,
                       pred_rank, spectrum, coordinate)
    return Diagnosis(
        method=method.name, variant=variant, hyper=hp, n=n, k=k, loss=float(loss), optimal_loss=float(opt),
        optimum=status, gap=float(gap), relative_gap=float(rel_gap), principal_angles=angles,
        optimal_subspace_dim=int(dim), energy_in_optimal_subspace=energy, effective_rank=effective_rank(Z, centre),
        numerical_rank=nrank, variances=spectrum,
        predicted_variances=(pred_sd ** 2).tolist(), predicted_rank=pred_rank, collapsed_directions=collapsed,
        relative_grad_norm=grad, state=state, notes=notes, loss_tol=tol, subspace_rank=r,
        covariance_spectrum=spectrum, coordinate_variances=coordinate, verdict=verdict)


#: methods whose loss is >= 0 everywhere (a candidate with loss 0 is a global minimiser)
NON_NEGATIVE = ("vicreg", "barlowtwins")

#: a spectrum whose smallest eigenvalue is below this fraction of its largest is collapsed ...
COLLAPSE_RATIO = 1e-2
#: ... and the per-coordinate variances hide it when their own min / max stays above this
HIDDEN_RATIO = 0.25


def hidden_collapse(spectrum, coordinate):
    """True when Cov(Z)'s spectrum is collapsed (min/max < COLLAPSE_RATIO) but its diagonal is not
    (min/max > HIDDEN_RATIO): per-coordinate stds would miss the collapse."""
    top, coord_top = max(spectrum, default=0.0), max(coordinate, default=0.0)
    if top <= 0 or coord_top <= 0:
        return False
    return min(spectrum) / top < COLLAPSE_RATIO and min(coordinate) / coord_top > HIDDEN_RATIO


def _state(gap, rel_gap, tol, rel_tol, status, grad, energy, variant):
    if gap < -tol and "candidate" in status:
        return "lower than the candidate: the candidate is not optimal here"
    if gap < -tol:
        return "lower than the proved optimum: contradicts the closed form (please report it)"
    if abs(rel_gap) <= rel_tol:
        return "near the optimum"
    if grad <= rel_tol:
        return ("near a saddle: a stationary point that is not the optimum"
                + (" (for squared VICReg every such point is a strict saddle)" if variant == "squared" else ""))
    if energy >= 1 - rel_tol:
        return "in the optimum's eigenspace, but the per-direction variances are not at the optimum"
    return "not near a stationary point (still training, or a different objective)"


def _verdict(gap, rel_gap, opt, tol, rel_tol, proved, candidate, energy, angles, r, dim, nrank, pred_rank, spectrum,
             coordinate):
    """One line in words: where Z stands against the optimum, and why."""
    if gap < -tol:
        if candidate:
            return (f"lower than the candidate by {-gap:.3g}: the candidate is not optimal here (it is not a proved "
                    "optimum), so Z's distance to the true optimum is unknown")
        return f"lower than the proved optimum by {-gap:.3g}: this contradicts the closed form; please report it"
    what = "the optimum" if proved else "the candidate (not a proved optimum)"
    if gap <= tol:
        return f"at {what}: the loss equals its loss to rounding (|gap| <= {tol:.1e})"
    why = []
    if opt == 0.0:
        why.append("the optimum's loss is 0, so the gap is the loss itself")
    if r > dim and dim:
        why.append(f"Z spans {r} directions where the optimum's eigenspace has {dim} ({1 - energy:.2f} of its energy "
                   "outside)")
    elif energy < 1 - rel_tol:
        why.append(f"{1 - energy:.2f} of Z's energy lies outside the optimum's eigenspace")
    if angles and max(angles) > 1.0:
        why.append(f"principal angles up to {max(angles):.1f} deg")
    if nrank < pred_rank:
        why.append(f"numerical rank {nrank} below the optimum's {pred_rank} (collapse)")
    if hidden_collapse(spectrum, coordinate):
        why.append(f"dimensional collapse: Cov(Z) eigenvalues {max(spectrum):.3g} down to {min(spectrum):.2g} "
                   "while the per-coordinate variances look even")
    reason = "; ".join(why) or "the per-direction variances differ from the optimum's"
    if abs(rel_gap) <= rel_tol:
        return f"within tolerance of {what}: relative gap {rel_gap:.3g} <= {rel_tol:g} ({reason})"
    return f"far from {what}: relative gap {rel_gap:.3g} > {rel_tol:g} ({reason})"
