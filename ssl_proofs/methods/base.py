"""The :class:`Method` base class: one SSL loss, its derivation, its spectral problem.

A method module subclasses :class:`Method`, fills in ``_loss_torch`` (the loss
exactly as the paper writes it, once, in torch), ``derivation`` and
``spectral_problem`` (for variants with a closed form), lists its
``theorems``, and registers an instance with :func:`ssl_proofs.methods.register`.
Everything else (validation, numpy/torch dispatch, the generic solve) lives here.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional

import numpy as np
import scipy.sparse as sp
import torch

from .. import graphs as _graphs
from ..arrays import check_float_array, to_numpy
from ..errors import InvalidArgument, NoClosedForm, NotProvided
from ..evidence import Evidence
from ..hyper import Hyper, checked_set, mark_checked
from ..linear import solve_linear as _solve_linear
from ..bounds import certified_gap, lower_bound
from ..search import SearchResult, global_minimise
from ..spectral import SpectralSolution, embedding_rank, solve_spectral


#: what a :class:`Solution` is: a closed form inside its theorem's range, one outside it, a search result,
#: a search result that meets a certified lower bound (:mod:`ssl_proofs.bounds`)
CERTIFICATES = ("proved", "candidate", "searched", "certified")


@dataclass
class Solution:
    """Representation returned by :meth:`Method.solve`, with what is known about it.

    Attributes
    ----------
    Z : (N, k) ndarray       the representation (for a closed form any ``Z @ R.T``, R orthogonal, is one too)
    loss : float             the paper's loss at ``Z`` (same variant and hyper-parameters)
    eigenvalues : (k,) array the eigenvalues of the directions used (of the closed form, when there is one)
    hyper : dict             hyper-parameters, paper names
    variant : str
    spectral : SpectralSolution  the full solver output (eigenvectors, scales, eigengap, residual)
    certificate : {"proved", "candidate", "searched"}
        ``"proved"``: a closed form whose theorem covers this input (a global minimiser);
        ``"candidate"``: the closed form outside its proved range (not known to be optimal);
        ``"searched"``: the best point of the global search (:func:`ssl_proofs.search.global_minimise`),
        an upper bound on the minimum, not a proof;
        ``"certified"``: a searched point whose loss is within ``GAP_RTOL`` of a certified lower bound
        (:func:`ssl_proofs.bounds.lower_bound`): a global minimiser up to ``gap``.
    note : str               why that certificate (the range, or what the search did)
    search : SearchResult    what the global search did (``certificate == "searched"`` only, else None)
    bound : float or None    the certified lower bound on the minimum, where one is known (searches only)
    gap : float or None      ``loss - bound``: how far the point may be above the minimum
    bound_note : str         how the bound is certified (or why there is none)
    residual : float         backward error of the eigenpairs behind ``Z`` (property; see ``spectral``)
    """

    Z: np.ndarray
    loss: float
    eigenvalues: np.ndarray
    hyper: dict
    variant: str
    spectral: Optional[SpectralSolution] = field(default=None, repr=False)
    certificate: str = "proved"
    note: str = ""
    search: Optional[SearchResult] = field(default=None, repr=False)
    bound: Optional[float] = None
    gap: Optional[float] = None
    bound_note: str = ""

    @property
    def optimal(self):
        """True only for a proved global minimiser (closed form) or a point certified by a lower bound."""
        return self.certificate in ("proved", "certified")

    @property
    def evidence(self):
        """The :class:`~ssl_proofs.evidence.Evidence` of a search result that meets its bound (``certified``, gap),
        else None (the certificate word says the rest)."""
        if self.certificate != "certified":
            return None
        return Evidence.certified(1, self.gap, self.bound_note)

    @property
    def residual(self):
        """Backward error ``max_i ||A u_i - lambda_i B u_i|| / (||A||_2 ||u_i||)`` of the eigenpairs used."""
        return None if self.spectral is None else self.spectral.residual

    @property
    def rank(self):
        """Rank of ``Z``: its directions whose scale is non-zero beyond rounding
        (:func:`ssl_proofs.spectral.embedding_rank`; for a searched point the numerical rank of Z)."""
        return embedding_rank(self.Z, None if self.spectral is None else self.spectral.scales)


class Method:
    """Base class of an SSL method as a spectral embedding problem."""

    #: registry name
    name: str = ""
    #: human title
    title: str = ""
    #: hyper-parameters, declared once (:class:`~ssl_proofs.hyper.Hyper`: name, default, help, domain);
    #: ``defaults`` and ``domain`` below are derived from them
    hypers: tuple = ()
    #: hyper-parameters with their defaults (paper names)
    defaults: dict = {}
    #: every variant of the loss, the first being the paper's (default of ``loss``)
    variants: tuple = ()
    #: variants for which ``solve`` knows a closed form, the first being its default
    closed_form_variants: tuple = ()
    #: variants whose optimisation is constrained (``constraint_residual`` != None)
    constrained_variants: tuple = ()
    #: ranges of the hyper-parameters the theory's claims are stated for: name -> (low, high)
    domain: dict = {}
    #: whether the loss ignores the mean of Z (then optima are compared through centred Grams HZZ^TH)
    translation_invariant: bool = True
    #: whether the loss ignores the scale of Z (it normalises rows or columns): then :meth:`loss` divides a huge
    #: Z by a power of two before computing, where its squares would overflow, and the value is exact
    scale_invariant: bool = False
    #: graph family the loss is defined on (``ssl_proofs_verifiers.strategies.graphs``): instances of its claims
    #: and of ``check_solver`` are drawn from it unless a theorem names another
    graphs: str = "any"
    #: how ``ssl_proofs_verifiers.check_solver`` attacks a user's closed form by default: the claim kind and the
    #: instance parameters of the range where this method's own closed form is proved
    solver_claim: str = "closed_form"
    solver_params: dict = {}
    #: linear regime (:mod:`ssl_proofs.linear`), ``k > rank(X^T B X)``: ``None`` = no padding (raise);
    #: ``"optimal"`` = soft variants pad with zero columns and stay optimal; ``"candidate"`` = they pad,
    #: but the padded point is only a candidate
    linear_padding: Optional[str] = None
    #: ``solve`` with ``k`` above the dimension of the spectral problem (e.g. ``k >= N`` for a loss that ignores
    #: the mean): ``None`` = raise; ``"optimal"`` = soft variants pad with zero columns and stay optimal (the loss
    #: sees Z through a PSD matrix of rank <= min(K, dimension), Eckart--Young: the rank bound no longer binds)
    padding: Optional[str] = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "hypers" in cls.__dict__:
            cls.defaults = {h.name: h.default for h in cls.hypers}
            cls.domain = {h.name: tuple(h.domain) for h in cls.hypers if h.domain is not None}
        elif "defaults" in cls.__dict__:   # a method written with plain dicts: declare from them
            cls.hypers = tuple(Hyper(n, d, domain=cls.domain.get(n)) for n, d in cls.defaults.items())

    # -- to be provided by subclasses ----------------------------------
    def _loss_torch(self, Z, G, variant, hp):  # pragma: no cover - abstract
        raise NotProvided(f"{self.name} defines no loss; write _loss_torch(Z, G, variant, hp) in its module.")

    def spectral_problem(self, G, k, *, variant=None, **hp):
        raise NoClosedForm(f"{self.name} has no closed-form optimum.")

    def derivation(self, variant=None):  # pragma: no cover - abstract
        raise NotProvided(f"{self.name} has no derivation yet; `ssl-proofs verify {self.name}` checks its "
                          "other claims.")

    def theorems(self):
        return []

    def constraint_residual(self, Z, G, variant, hp):
        """Residual of the hard constraint of a constrained variant (None otherwise)."""
        return None

    def eckart_young_target(self, G, k, *, variant=None, **hp):
        """``(A, w, c)`` when the loss equals ``w ||M - A||_F^2 + c`` on centred Grams (else None)."""
        return None

    def feasible(self, Y, G, variant, hp):
        """Map a free torch tensor Y to a feasible Z (identity if unconstrained)."""
        return Y

    def kink(self, Z, G, variant, hp):
        """Why the loss has no derivative at ``Z`` (e.g. a zero row under row normalisation), or ``""``.

        Checks then measure stationarity at ``Z`` as a cross-check only (a gradient at a kink proves
        nothing); optimality is still judged by strictly lower losses.  Default: differentiable everywhere.
        """
        return ""

    def check_hyper(self, variant, hp):
        """Validate hyper-parameters once; return the full dict with defaults filled in.

        The values returned are :class:`~ssl_proofs.hyper.CheckedValue` s (drop-in floats) marked with
        this validation: passed back in (all of them, or exactly the keys given here, e.g. through
        ``**hp``) for the same method and variant they are returned as they are, not validated again.
        Subclasses add their own rules in :meth:`validate_hyper`.
        """
        checked = checked_set(hp, self.name, variant)
        if checked is not None:
            return checked
        return mark_checked(self.name, variant, hp, self.validate_hyper(variant, dict(hp)))

    def validate_hyper(self, variant, hp):
        """The validation itself (called by :meth:`check_hyper` on values not checked yet)."""
        unknown = set(hp) - set(self.defaults)
        if unknown:
            raise InvalidArgument(
                f"{self.name} has no hyper-parameter(s) {sorted(unknown)}; its hyper-parameters are "
                f"{sorted(self.defaults)}."
            )
        out = dict(self.defaults)
        out.update({k: v for k, v in hp.items() if v is not None})
        for key, val in out.items():
            if isinstance(val, (bool, str, bytes)):  # float() would take True and "1.5" silently
                raise InvalidArgument(f"{key} must be a number, got {val!r}.")
            try:
                val = float(val)
            except (TypeError, ValueError, OverflowError):
                raise InvalidArgument(f"{key} must be a number, got {val!r}.") from None
            if not np.isfinite(val):
                raise InvalidArgument(f"{key} = {val} is not finite.")
            out[key] = val
        return out

    # -- public API ----------------------------------------------------
    def check_variant(self, variant, *, closed_form=False):
        choices = self.closed_form_variants if closed_form else self.variants
        if not choices:  # a method without any closed form (e.g. simsiam): say so instead of an IndexError
            raise NoClosedForm(f"{self.name} has no closed-form optimum. Search numerically instead: "
                               f"solve(G, k, search=True) (CLI: ssl-proofs solve {self.name} --search).")
        if variant is None:
            return choices[0]
        if variant not in self.variants:
            raise InvalidArgument(f"{self.name} has no variant {variant!r}; its variants are {list(self.variants)}.")
        if variant not in choices:
            raise NoClosedForm(
                f"{self.name} variant {variant!r} has no closed-form optimum; "
                f"closed forms exist for {list(self.closed_form_variants)}."
            )
        return variant

    def loss(self, Z, G, *, variant=None, **hp):
        """The loss as the paper writes it.

        Parameters
        ----------
        Z : (N, K) ndarray or torch.Tensor
        G : (N, N) array or scipy.sparse matrix, the positive-pair graph
        variant : str, optional
            Defaults to the paper's form (``self.variants[0]``).
        **hp : hyper-parameters (paper names).

        Returns
        -------
        float for numpy input; a differentiable 0-d tensor for torch input.
        """
        variant = self.check_variant(variant)
        hp = self.check_hyper(variant, hp)
        G = _graphs.check_graph(G)
        as_tensor = isinstance(Z, torch.Tensor)
        if as_tensor:
            Zt = _check_Z_tensor(Z, G.shape[0])
        else:
            Zt = torch.as_tensor(_check_Z(Z, G.shape[0]), dtype=torch.float64)
            if self.scale_invariant:
                Zt = _rescaled(Zt)
        value = self._loss_torch(Zt, _graph_tensor(G, Zt), variant, hp)
        if as_tensor:  # a descent may probe far points: an overflow there is its business
            return value
        value = float(value.detach())
        if not np.isfinite(value) and float(Zt.abs().max()) > _OVERFLOW_SCALE:
            raise _overflow(self.name, Zt)
        return value  # a non-finite value at an ordinary scale is the method's to explain (W-MSE: singular)

    def objective(self, G, *, variant=None, device="cpu", dtype=torch.float64, **hp):
        """The loss as a closure ``f(Z_tensor) -> tensor`` with G validated and moved once.

        Used by gradient descent and autograd checks; ``f`` is the same function as
        :meth:`loss`, without re-validating G on every call.
        """
        variant = self.check_variant(variant)
        hp = self.check_hyper(variant, hp)
        G = _graphs.check_graph(G)
        gt = _graph_tensor(G, torch.empty(0, dtype=dtype, device=device))

        def f(Z):
            return self._loss_torch(Z, gt, variant, hp)

        return f

    def predicted_rank(self, G, k, **hp):
        """Rank of the closed-form optimum (default closed-form variant): its non-zero directions.

        For VICReg (squared) this is ``#{k : lambda_k < alpha/gamma}``; for the spectral
        contrastive loss ``#{k : rho_k > 0}``; for BarlowTwins' eigen-candidate ``#{k : rho_k > 0}``.
        """
        return self.solve(G, k, **hp).rank

    def solve_linear(self, X, G, k, *, variant=None, **hp):
        """Closed-form optimal weights of ``Z = XW`` (see :mod:`ssl_proofs.linear`)."""
        return _solve_linear(self, X, G, k, variant=variant, **hp)

    def linear_spectral_problem(self, G, k, *, variant=None, **hp):
        """The N-space problem the linear regime pulls back; default: :meth:`spectral_problem`.

        Override only where the problem has row weights a linear map cannot apply.
        """
        return self.spectral_problem(G, k, variant=variant, **hp)

    def linear_certificate(self, k, k_used, loss, hp, cosine_error):
        """``("proved", "")`` when the linear closed form's theorem covers this input, else
        ``("candidate", why)``; default: proved for every input (the whitened problem is the method's
        own Eckart--Young problem on the range of ``B_X``, docs/linear.md)."""
        return "proved", ""

    def zero_scale_condition(self, variant, hp, n):
        """When the closed form gives a direction scale 0 (a zero column of Z), in words; None: the
        profile itself is the condition (``solve`` then prints it)."""
        return None

    def proved_range(self, G, k, variant, hp):
        """``(True, why)`` when the closed form's theorem covers this input, else ``(False, what is known)``.

        Default: the closed form is a global minimiser for every graph and K (override where not).
        """
        return True, f"{self.name} ({variant}): the closed form is a global minimiser for every graph and K"

    def solve(self, G, k, *, variant=None, search=False, seed=0, device="cpu", progress=None, eigen_progress=None,
              **hp):
        """The closed form (see the method's docs), with a certificate of what it is.

        Parameters
        ----------
        G : (N, N) graph
        k : int
        variant : str, optional
            Default: the method's first closed-form variant (with ``search``: the paper's form
            for a method without closed form).
        search : bool
            Return the best point of the global search (:func:`ssl_proofs.search.global_minimise`,
            started at the closed form when there is one, and at the point of the certified lower bound
            :func:`ssl_proofs.bounds.lower_bound` when one is known) with certificate ``"searched"``, or
            ``"certified"`` when its loss meets that bound; ``bound`` and ``gap`` say how far.
        seed, device, progress
            Of the search (``progress(done, total, best_loss)`` after each L-BFGS run).
        eigen_progress : callable, optional
            ``eigen_progress(message)`` as a large sparse eigensolve converges (LOBPCG; see
            :func:`ssl_proofs.spectral.solve_spectral`).
        **hp : hyper-parameters (paper names).

        Returns
        -------
        Solution with ``certificate`` ``"proved"`` (inside the closed form's proved range, see
        :meth:`proved_range`), ``"candidate"`` (outside it: not known to be optimal), ``"searched"`` or
        ``"certified"``.
        """
        has_closed_form = bool(self.closed_form_variants) and (variant is None or variant in self.closed_form_variants)
        variant = self.check_variant(variant, closed_form=not (search and not has_closed_form))
        hp = self.check_hyper(variant, hp)
        G = _graphs.check_graph(G)
        pads = self.padding is not None and variant not in self.constrained_variants
        k = _graphs.check_k(k, G.shape[0], strict=not pads)
        closed = None
        if has_closed_form:
            problem = self.spectral_problem(G, k, variant=variant, **hp)
            extra = max(0, k - problem.dimension) if pads else 0
            sol = solve_spectral(replace(problem, k=k - extra) if extra else problem, progress=eigen_progress)
            Z = np.column_stack([sol.Z, np.zeros((G.shape[0], extra))]) if extra else sol.Z
            loss = self.loss(Z, G, variant=variant, **hp)
            proved, why = self.proved_range(G, k, variant, hp)
            if extra:
                why += (f"; k = {k} > {problem.dimension} directions of the problem: {extra} zero column(s) "
                        "appended (their loss term is constant), eigenvalues listed for the directions used")
            closed = Solution(Z=Z, loss=loss, eigenvalues=sol.eigenvalues, hyper=hp, variant=variant,
                              spectral=sol, certificate="proved" if proved else "candidate", note=why)
        if not search:
            return closed
        try:
            lb = lower_bound(self, G, k, variant=variant, hyper=hp, seed=seed)
        except NotProvided as exc:
            lb, bound_note = None, str(exc)
        # the bound's own point (the relaxed optimum's rank-K factor) is a start like the closed form
        starts = tuple(Z for Z in (None if closed is None else closed.Z, None if lb is None else lb.Z)
                       if Z is not None)
        sr = global_minimise(self, G, k, variant=variant, hyper=hp, seed=seed, device=device, candidates=starts,
                             bound=None if lb is None else lb.value, progress=progress)
        note = sr.evidence
        if closed is not None:
            note += f"; closed form ({closed.certificate}) loss {closed.loss:.6g}"
        certificate, bound, gap = "searched", None, None
        if lb is not None:
            bound, gap, bound_note = lb.value, sr.loss - lb.value, lb.detail
            certificate = "certified" if certified_gap(sr.loss, lb.value) else "searched"
        return Solution(Z=sr.Z, loss=sr.loss,
                        eigenvalues=np.zeros(0) if closed is None else closed.eigenvalues,
                        hyper=hp, variant=variant, spectral=None, certificate=certificate, note=note, search=sr,
                        bound=bound, gap=gap, bound_note=bound_note)


class GraphTensor:
    """G prepared for torch losses, on Z's device and dtype.

    ``rows``, ``cols``, ``weights``: the edge list (both directions), enough for
    Dirichlet-type terms at any scale; ``degrees``; ``dense``: the N x N matrix,
    built on first use only (it is O(N^2) memory).
    """

    def __init__(self, G, like):
        self._G = G
        self._like = like
        self.n = G.shape[0]
        coo = sp.coo_matrix(G)
        self.rows = torch.as_tensor(coo.row.astype(np.int64), device=like.device)
        self.cols = torch.as_tensor(coo.col.astype(np.int64), device=like.device)
        self.weights = torch.as_tensor(coo.data, dtype=like.dtype, device=like.device)
        self.degrees = torch.as_tensor(_graphs.degrees(G), dtype=like.dtype, device=like.device)
        self._dense = None

    @property
    def dense(self):
        if self._dense is None:
            self._dense = torch.as_tensor(_graphs.to_dense(self._G), dtype=self._like.dtype,
                                          device=self._like.device)
        return self._dense


def _graph_tensor(G, like):
    return GraphTensor(G, like)


def _check_Z_shape(shape, n):
    if len(shape) != 2 or shape[0] != n or shape[1] < 1:
        raise InvalidArgument(
            f"Z must have shape (N, K) = ({n}, K), K >= 1, to match G, got {shape}. "
            "Rows of Z are the embeddings of the N nodes of G."
        )


def _check_Z(Z, n):
    if np.iscomplexobj(to_numpy(Z, "Z")):  # to_numpy: masked arrays and ints beyond float64 refused
        raise _complex_Z()
    Z = check_float_array(Z, "Z")
    _check_Z_shape(Z.shape, n)
    if not np.all(np.isfinite(Z)):
        raise _nonfinite_Z(Z.size - np.count_nonzero(np.isfinite(Z)))
    return Z


def _check_Z_tensor(Z, n):
    """The torch twin of :func:`_check_Z`: same checks, same messages; integer Z becomes float64."""
    if Z.is_meta or Z.layout != torch.strided:
        to_numpy(Z, "Z")  # raises the project's error for a meta or sparse tensor
    if Z.is_complex():
        raise _complex_Z()
    _check_Z_shape(tuple(Z.shape), n)
    if not Z.is_floating_point():  # int / bool, as the numpy path accepts them
        Z = Z.to(torch.float64)
    finite = torch.isfinite(Z.detach())
    if not bool(finite.all()):
        raise _nonfinite_Z(int(finite.numel() - finite.sum()))
    return Z


#: above this |Z_ij| the squares a loss takes could overflow float64 (1e150 ** 2 = 1e300)
_HUGE = 1e150


#: above this |Z_ij| a non-finite loss is an overflow of its terms (a quartic term overflows from about 1e77)
_OVERFLOW_SCALE = 1e50


def _rescaled(Z):
    """``Z`` times a power of two (exact) bringing its largest entry near 1, when it is above :data:`_HUGE`."""
    top = float(Z.abs().max()) if Z.numel() else 0.0
    if top <= _HUGE:
        return Z
    return torch.ldexp(Z, torch.tensor(-int(np.frexp(top)[1]), dtype=torch.int64))


def _overflow(method, Z):
    top = float(Z.abs().max()) if Z.numel() else 0.0
    return InvalidArgument(
        f"{method}'s loss is not finite in float64 at this scale of Z (max |Z_ij| = {top:.3g}): a term of it "
        "overflows 1.8e308, so no value can be returned. Rescale Z (its scale is part of this loss), or, for a "
        "diverged network, use an earlier checkpoint."
    )


def _complex_Z():
    return InvalidArgument("Z has complex entries; embeddings are real. Pass Z.real if the imaginary parts are rounding noise.")


def _nonfinite_Z(bad):
    return InvalidArgument(f"Z contains {int(bad)} NaN or infinite entries; the loss is defined for finite Z only.")
