"""The paper's downstream claims as data: wordings, our formalisation, the experiment that decides.

A :class:`Claim` says *what* is claimed (the paper's words, per source and arXiv
version, notes §4) and *exactly what we check* (``statement``).  The verdict is
not stored here: it is measured by the experiment named in ``experiment``
(``ssl_proofs_verifiers.experiments``) and returned as a :class:`ClaimVerdict`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from ..errors import InvalidArgument, UnknownName

#: the verdicts an experiment may return; "not supported" = no detectable effect at the stated power
#: (never "refuted": absence of evidence is not evidence against the claim beyond the stated MDE)
VERDICTS = ("holds", "refuted", "not supported", "holds under conditions")


@dataclass(frozen=True)
class DecisionRule:
    """One version of a claim's decision rule, frozen in code before the run it decides.

    Parameters
    ----------
    version : int
        1, 2, ... in the order written; the last one decides.
    date : str
        ISO date the version was written.
    text : str
        How measurements map to a verdict.
    reason : str
        Why this version replaced the previous one ("" for the first), and whether it was written
        after a run had been seen.
    params : mapping
        The rule's numbers (significance level, power, seeds, margins ...), read by the experiment.
    """

    version: int
    date: str
    text: str
    reason: str = ""
    params: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class Claim:
    """One downstream claim of the paper.

    Parameters
    ----------
    id : str
        Stable id (``"aligned_g"``, ...).
    title : str
        One line.
    wordings : mapping
        Source (``"arXiv v1"``, ``"arXiv v3"``, ``"NeurIPS"``, ...) -> the paper's words.
    statement : str
        The exact statement the experiment checks (our formalisation).
    experiment : str
        Name of the experiment (``ssl_proofs_verifiers.experiments``) that measures the verdict.
    rules : tuple of DecisionRule
        Every version of the decision rule, oldest first; the last one decides (:attr:`rule`).
    source : str
        Where the wording comes from (notes section).
    """

    id: str
    title: str
    wordings: Mapping
    statement: str
    experiment: str
    rules: tuple
    source: str = ""

    def __post_init__(self):
        versions = [r.version for r in self.rules]
        if not versions or versions != list(range(1, len(versions) + 1)):
            raise InvalidArgument(f"claim {self.id}: rule versions must be 1, 2, ... in order, got {versions}.")

    @property
    def rule(self):
        """The current decision rule (the last version)."""
        return self.rules[-1]

    @property
    def decision(self):
        """The current rule's text."""
        return self.rule.text


@dataclass
class ClaimVerdict:
    """What an experiment measured for one claim.

    ``evidence`` holds the numbers behind the verdict (JSON-serialisable);
    ``conditions`` says under which conditions a "holds under conditions" holds.
    """

    claim: str
    verdict: str
    evidence: dict = field(default_factory=dict)
    conditions: str = ""
    #: the version of the claim's decision rule that decided (the registry's current one when the run was made)
    rule_version: int | None = None

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise InvalidArgument(f"verdict for {self.claim} must be one of {VERDICTS}, got {self.verdict!r}.")


#: significance level and power every paired comparison is decided and sized at
ALPHA, POWER = 0.05, 0.8
_FIRST = "2026-11-25"
_TODAY = "2026-12-04"
_PAIRED = ("Each comparison is paired (the same seeds, splits, augmentations and rewired graphs on both sides): "
           "effect = mean per-seed difference with its two-sided 95% t-interval, paired t-test and Wilcoxon "
           "signed-rank p-values, Holm-adjusted over the claim's deciding comparisons; a comparison is "
           "'positive' / 'negative' when both adjusted p-values are < 0.05 and |effect| > the margin, else "
           "'no detectable effect', reported with its minimal detectable effect at power 0.8 (noncentral t, the "
           "measured paired SD). ")
_REASON_PAIRED = ("issue 20 (written {today}, after the v{prev} run had been seen): the v{prev} rule decided by "
                  "comparing means (or single values) against their std, without a paired test or a stated power, so "
                  "'no difference beyond the spread' could not be told from 'no effect'; now paired seeds, a stated power, and 'not supported' for no detectable effect.")

_ALIGNED_RULES = (
    DecisionRule(1, _FIRST,
                 "S1 holds if probe_residual <= 1e-6 (closed forms) / 1e-3 (L-BFGS optima) for every method at K >= c-1 "
                 "(and, as a control, > 0.1 at K < c-1). S2 holds if |acc(method) - acc(LDA)| <= max(2 std, 0.01) "
                 "for every method. holds = S1 and S2; holds under conditions = S1 but not S2 for some method (named); "
                 "refuted = S1 fails."),
    DecisionRule(2, _FIRST, (
            "S1 holds if probe_residual <= 1e-6 for every proved (closed-form) optimum at K >= c-1 (c); where the "
            "optimum is searched, two minimisations decide (refined after the first run, which left them undecided): "
            "the best with class-constant rows Z = YA imposed (which implies the exact probe) vs the best without; "
            "S1 fails there when the free best is lower by more than 1e-6 relative and its residual exceeds 1e-3; "
            "control: residual > 0 at K = c - 2. S2 holds if |acc(method) - acc(LDA)| <= max(2 std, 0.01) "
            "for every method. holds = S1 and S2; holds under conditions = every proved optimum satisfies S1 but S2 "
            "or a searched S1 cell fails (named); refuted = a proved optimum violates S1."
    ),
                 "written after the first run, which left the searched S1 cells (SimCLR, BarlowTwins K > c) "
                 "undecided: they are now decided by two minimisations."),
    DecisionRule(3, _TODAY,
                 "S1 as in v2 (closed forms: residual <= 1e-6; searched optima: two minimisations, the free best "
                 "lower than the class-constant best by > 1e-6 relative with residual > 1e-3 = fails; control "
                 "residual > 0 at K = c - 2). S2 per (source, method) at p = 0: paired comparison of the held-out "
                 "accuracy of the method against LDA on the same splits, with the per-direction-standardised, "
                 "cross-validated probe; the method falls short where the comparison is 'negative' (margin 0.01). "
                 + _PAIRED + "holds = S1 and no S2 shortfall; holds under conditions = every proved optimum "
                 "satisfies S1 but an S2 shortfall or a searched S1 cell fails (named); refuted = a proved optimum "
                 "violates S1.",
                 _REASON_PAIRED.format(today=_TODAY, prev=2) + " The S2 probe changed with misaligned_g's (v3).",
                 {"alpha": ALPHA, "power": POWER, "seeds": 20, "margin": 0.01}),
)

_MISALIGNED_RULES = (
    DecisionRule(1, _FIRST,
                 "v3 wording holds if, at every misaligned p, acc(VICReg small) >= acc(SimCLR) and acc(BarlowTwins) "
                 "minus one std, and strictly above at least one of them by > one std somewhere; v1 wording holds if "
                 "max(acc(BT), acc(VICReg small)) >= acc(SimCLR) likewise. Verdict: holds if both wordings hold, "
                 "holds under conditions if only one (named), refuted if neither. Rank evidence is reported, not voted."),
    DecisionRule(2, _FIRST, (
            "per misaligned (source, p) cell: v3 holds there if acc(VICReg small) exceeds both acc(SimCLR) and "
            "acc(BarlowTwins) by more than the larger std; v1 holds there if acc(VICReg small) or acc(BT) exceeds "
            "acc(SimCLR) likewise. holds = both wordings in every cell; holds under conditions = some cells "
            "(named); refuted = none. Rank evidence is reported, not voted. (Refined after the first run: the first "
            "rule asked for 'every misaligned p' and had no per-cell outcome.)"
    ),
                 "written after the first run: the v1 rule asked for 'every misaligned p' and had no per-cell "
                 "outcome."),
    DecisionRule(3, _TODAY,
                 "Per misaligned (source, p >= 0.5) cell, on the per-direction-standardised probe with cross-validated "
                 "regularisation (LogisticRegressionCV; the v2 probe, overall-RMS scaling with C = 1, is reported "
                 "beside it): comparisons VICReg small - SimCLR and VICReg small - BarlowTwins. A cell where VICReg "
                 "small's W is invertible (K >= D and rank D: its whitened probe sees X itself, whatever G) is "
                 "flagged G-independent and excluded. In a decided cell v3 holds if both comparisons are "
                 "'positive'; v1 holds if VICReg small - SimCLR or BarlowTwins - SimCLR is 'positive'. "
                 + _PAIRED + "holds = both wordings in every decided cell; holds under conditions = in some (named); "
                 "refuted = in none, with some comparison 'negative' (VICReg small worse); not supported = in "
                 "none and no comparison 'negative'. Rank evidence and the anisotropy control (a full-rank W with "
                 "one dominant direction must not fool the probe) are reported, not voted.",
                 _REASON_PAIRED.format(today=_TODAY, prev=2) + " The probe changed: overall-RMS scaling with C = 1 "
                 "read anisotropy as collapse (wine: a full-rank W with 12 of 13 directions at 1e-2 scored 0.48 "
                 "against 0.955); cells that cannot depend on G are excluded.",
                 {"alpha": ALPHA, "power": POWER, "seeds": 20, "margin": 0.0}),
    DecisionRule(4, _TODAY,
                 "As v3 (standardised probe decides, the RMS probe reported beside it; G-independent cells -- "
                 "VICReg small's W invertible: K >= D and rank D -- flagged and excluded; per decided cell v3 holds "
                 "if VICReg small - SimCLR and VICReg small - BarlowTwins are both 'positive', v1 holds if VICReg "
                 "small - SimCLR or BarlowTwins - SimCLR is 'positive'), with cells (source, K, p) for p >= 0.5: "
                 "on a source where K >= D the misaligned cells are also measured at K = floor(D / 2) < D, where W "
                 "cannot be invertible and the optimum depends on G. " + _PAIRED + "holds = both wordings in every "
                 "decided cell and at least 4 decided cells on at least 2 sources; holds under conditions = both "
                 "wordings in some decided cells but not all (named), or in every decided cell when there are "
                 "fewer than 4 of them or they come from one source (named: too few cells to generalise); "
                 "refuted = in none, with some comparison 'negative' (VICReg small worse); not supported = in "
                 "none and no comparison 'negative'. Rank evidence and the anisotropy control are reported, not "
                 "voted.",
                 "written 2026-12-04 after the v3 record had been seen and before the run that decides by it: "
                 "v3 let 'holds' rest on a single decided cell (digits, p = 1: the default run measured p = 1 "
                 "only and both wine cells were G-independent), which a referee would not accept as 'every "
                 "misaligned setting'. v4 only makes 'holds' harder (at least 4 decided cells on 2 sources) and "
                 "adds cells where G can matter (p = 0.5; K = floor(D / 2) where K >= D); the seeds go from 20 to "
                 "30 because v3's deciding effect (VICReg small - SimCLR on digits, +2.8 points) was below its "
                 "MDE (3.3 points at n = 20).",
                 {"alpha": ALPHA, "power": POWER, "seeds": 30, "margin": 0.0, "min_decided_cells": 4,
                  "min_decided_sources": 2}),
)

_LOWDATA_RULES = (
    DecisionRule(1, _FIRST,
                 "v3 holds if, for every low-data N', the best accuracy over high gamma/alpha exceeds the best over low "
                 "gamma/alpha by more than one std (refuted if lower by more than one std, else 'holds under "
                 "conditions' naming the N' where it holds). v1's SimCLR arm is reported next to it."),
    DecisionRule(2, _FIRST, (
            "v3 holds if, for every low-data (N', K), the best accuracy over high gamma/alpha exceeds the best over low "
            "gamma/alpha by more than one std; holds under conditions if at some low-data N' only; refuted if at "
            "none ('should be high' has no measured benefit). v1's SimCLR arm is reported next to it. (Refined after the "
            "first run: 'no difference beyond the spread anywhere' first mapped to 'holds under conditions'.)"
    ),
                 "written after the first run: 'no difference beyond the spread anywhere' first mapped to 'holds "
                 "under conditions'; v2 mapped it to 'refuted' (it moved the verdict)."),
    DecisionRule(3, _TODAY,
                 "Primary comparisons (the claim's K = 32, both low-data N' of the default run: N' = 1 and N' = 3): "
                 "accuracy at gamma/alpha = 1 ('high') minus accuracy at gamma/alpha = 0.01 ('low') on the same "
                 "seed (same originals, views, test split; in the view graph's linear problem every gamma/alpha "
                 ">= 1/2 gives the same optimum, and every one < 1/2 another, so the two values stand for their "
                 "ranges). " + _PAIRED + "holds = 'positive' at every primary cell; holds under conditions = "
                 "'positive' at some; refuted = 'negative' at some and 'positive' at none (a high gamma/alpha "
                 "measurably hurts in a low-data setting); not supported = no detectable effect at any. The other "
                 "(N', K) cells and v1's SimCLR arm (SimCLR - VICReg low, paired) are reported, not voted.",
                 _REASON_PAIRED.format(today=_TODAY, prev=2) + " The v2 'refuted' rested on 3 unpaired seeds with "
                 "differences within one std.",
                 {"alpha": ALPHA, "power": POWER, "seeds": 30, "margin": 0.0, "high": 1.0, "low": 0.01,
                  "k": 32, "primary_n_per_class": [1, 3]}),
)

_ISOMAP_RULES = (
    DecisionRule(1, _FIRST, (
            "holds if SimCLR is closer to ISOMAP than to LE on every (graph, tau); refuted if closer to LE on every "
            "one; holds under conditions otherwise (naming them). The CKA values are the evidence."
    )),
    DecisionRule(2, _TODAY,
                 "Per (graph, tau): d = CKA(SimCLR, ISOMAP) - CKA(SimCLR, LE), paired over seeds (each seed draws "
                 "the graph's sample and SimCLR's random starts; both CKAs of a seed use the same optimum). "
                 + _PAIRED + "holds = 'positive' in every cell; refuted = 'negative' in every cell; not supported = "
                 "no detectable effect in every cell; holds under conditions otherwise (naming them).",
                 _REASON_PAIRED.format(today=_TODAY, prev=1) + " v1 decided by strict comparisons of single "
                 "CKA values without spread (digits, tau = 0.5: 0.836 vs 0.821).",
                 {"alpha": ALPHA, "power": POWER, "seeds": 20, "margin": 0.0}),
)

_HINGE_RULES = (
    DecisionRule(1, _FIRST,
                 "R1, R2 each hold iff true at every (beta, gamma/alpha) tested; M is reported as counts. holds = R1 and "
                 "R2; holds under conditions = one of them, or both only for some beta (named); refuted = neither."),
    DecisionRule(2, _FIRST, (
            "R1, R2 each hold iff true at every (beta, gamma/alpha) tested; M is reported as counts. holds = R0, R1 "
            "and R2; holds under conditions = R0 but R1 or R2 fails somewhere (counted); refuted = R0 fails. (R0 "
            "was added after the first run showed R1, our [D] reading, to be stronger than the paper's words.)"
    ),
                 "written after the first run, which showed R1 (our [D] reading) to be stronger than the paper's "
                 "words: R0, the paper's weaker wording, added; the rank taken from two minimisations."),
)


_V1 = "arXiv v1/v2 (and NeurIPS proceedings abstract)"
_V3 = "arXiv v3 (10 Jun 2022)"

CLAIMS = [
    Claim(
        id="aligned_g",
        title="aligned G => every SSL method recovers the supervised method",
        wordings={
            _V1: "if the pairwise relation is aligned with the downstream task, any SSL method can be employed "
                 "successfully and will recover the supervised method",
            _V3: "if the pairwise relation is aligned with the downstream task, any SSL method can be employed "
                 "successfully and will recover the supervised method",
            "NeurIPS poster abstract": "all SSL methods produce optimal representations for that downstream task",
        },
        statement=(
            "S1 (exact, non-parametric): G = label graph of c classes (G_ij = 1 iff y_i = y_j, i != j), K >= c - 1 "
            "(K >= c for BarlowTwins and the spectral contrastive loss, which do not centre: their optima may "
            "spend a column on the constant vector). "
            "For every method's global optimum Z* (VICReg squared for every gamma/alpha > 0, VICReg constrained, "
            "spectral contrastive: closed forms; BarlowTwins with K > c, SimCLR: the global search, SimCLR rows "
            "normalised since its loss sees only directions) the least-squares affine probe is exact: "
            "probe_residual(Z*, y) = ||(I - P_{HZ*}) HY||^2 / ||HY||^2 = 0, i.e. the centred class indicators lie "
            "in the span of the retained left singular vectors of HZ*. "
            "S2 (linear regime Z = XW, real data): with the label graph of the training split, the held-out "
            "logistic-probe accuracy of every method equals that of the supervised linear method (LDA) within "
            "the spread over seeds."
        ),
        experiment="alignment",
        rules=_ALIGNED_RULES,
        source="notes §4 'Alignment of G'; paper abstract (all versions), §6.3",
    ),
    Claim(
        id="misaligned_g",
        title="misaligned G: prefer low-invariance VICReg (v3) / BarlowTwins or low-invariance VICReg (v1)",
        wordings={
            _V1: "if misaligned, BarlowTwins or VICReg with small invariance hyper-parameter should be preferred",
            _V3: "if misaligned, VICReg with small invariance hyper-parameter should be preferred over SimCLR or "
                 "BarlowTwins",
            "arXiv v3 §1 (iii)": "SimCLR and BarlowTwins strictly enforce rank(Z) = rank(G); VICReg's Z can be "
                                 "made full-rank",
        },
        statement=(
            "Linear regime Z = XW (K = 32 on synthetic planted-label data, N = 256; min(32, D) on real data): G = "
            "label graph of the training split with a fraction p of its positive pairs rewired to uniformly random "
            "non-pairs (same edge count). Misaligned = p >= 0.5. Measured: held-out logistic-probe accuracy and "
            "numerical rank of Z* = XW* (singular values > 1e-3 x largest) for VICReg squared at gamma/alpha = "
            "0.01 ('small': full rank K on every graph here), SimCLR (tau = 0.5), BarlowTwins (alpha = 0.005), spectral contrastive."
        ),
        experiment="alignment",
        rules=_MISALIGNED_RULES,
        source="notes §4 'Low-data regime ... advice changed'; §3.0 §6.3/§7",
    ),
    Claim(
        id="low_data",
        title="low-data regime: VICReg's invariance hyper-parameter should be high",
        wordings={
            _V1: "in the low data regime, SimCLR or VICReg with high invariance hyper-parameter should be preferred",
            _V3: "in the low data regime, VICReg's invariance hyper-parameter should be high",
        },
        statement=(
            "Low-data regime (definition tested): K > invariant_dimension(G) = #components(G) - 1, i.e. there are "
            "fewer invariant directions of the augmentation graph than embedding dimensions, so Z* must use "
            "augmentation-specific directions. Setting: digits, N' originals per class (c = 10), V = 2 views by "
            "pixel shifts + noise, view graph (label-blind), linear VICReg squared (Z = XW, K in {16, 32}), "
            "gamma/alpha over decades; logistic probe fit on the N' x c clean training images, accuracy on a "
            "held-out test split. 'High' = gamma/alpha >= 1, 'low' = gamma/alpha <= 0.01."
        ),
        experiment="lowdata",
        rules=_LOWDATA_RULES,
        source="notes §4 'Low-data regime'; §3.1 [D] view-graph example",
    ),
    Claim(
        id="simclr_isomap",
        title="SimCLR solves a generalised MDS problem 'akin to ISOMAP' (global)",
        wordings={
            "arXiv abstract": "SimCLR ... recover ... Multidimensional Scaling",
            "arXiv v3 §4, Thm 5 / Prop. 2 (as summarised)": "SimCLR, NNCLR and MeanShift solve a generalized MDS "
                                                            "problem akin to ISOMAP",
            "NeurIPS poster abstract": "Laplacian Eigenmaps, ISOMAP et al.",
        },
        statement=(
            "On connected graphs (k-NN graphs of digits and of two-moons, a rewired label graph), SimCLR's optimum "
            "(row-normalised, best of L-BFGS starts) is measured against ISOMAP = classical MDS of G's geodesic "
            "(shortest-path) distances and against Laplacian Eigenmaps (constrained VICReg, the local method), both "
            "with the same K. 'Akin' is the number linear CKA(SimCLR, ISOMAP) in [0, 1]; the claim as checked: "
            "CKA(SimCLR, ISOMAP) > CKA(SimCLR, LE) on every graph and tau."
        ),
        experiment="simclr_mds",
        rules=_ISOMAP_RULES,
        source="notes §3.0, §3.2; §6 (Tan et al. read SimCLR as spectral clustering)",
    ),
    Claim(
        id="hinge_finite_beta",
        title="VICReg with the paper's hinge and finite beta: rank and local minima",
        wordings={
            "arXiv v3 §3.1 Thm 1 (as summarised)": "the global minimiser is a closed-form eigen-solution depending "
                                                  "only on G and gamma/alpha, with many local minima given by "
                                                  "other K-of-N eigenvector subsets",
            "arXiv v3 §1 (iii)": "VICReg's Z can be made full-rank while learning from G by choosing the loss "
                                 "hyper-parameters",
        },
        statement=(
            "Hinge VICReg (the paper's loss) with alpha = 1 and beta in {1, 10, 100}, gamma/alpha over decades, on a "
            "low-data view graph (8 originals x 2 views, K = 12, L eigenvalues 0 and 2). R1: the optimum is "
            "full rank at every gamma/alpha (no exact collapse, unlike the squared variant whose rank is "
            "#{lambda_k < alpha/gamma}), as two minimisations: the rank of the optimum is the smallest r tried "
            "(r = numerical rank of the free best, and r - 1) whose rank <= r search (Z = AB^T) reaches the free "
            "best within 1e-6 relative, K when rank <= K - 1 is beaten; R2: the beta -> inf prediction std_k = "
            "min(1, alpha/(4 gamma lambda_k)) holds at finite beta (best loss of the global search not below the "
            "decorrelated candidate's loss beyond tolerance); R0 (the paper's weaker wording): at every beta some gamma/alpha gives a full-rank optimum; "
            "M: distinct random starts end at distinct loss values with vanishing gradient (local minima)."
        ),
        experiment="hinge",
        rules=_HINGE_RULES,
        source="notes §3.1 [D] hinge, §5.3 [2]; reader critique (i) §6",
    ),
]


def list_claims():
    """Every registered claim, in report order."""
    return list(CLAIMS)


def get_claim(claim_id):
    """The claim with id ``claim_id``."""
    for c in CLAIMS:
        if c.id == claim_id:
            return c
    raise UnknownName(f"unknown claim {claim_id!r}; known claims: {', '.join(c.id for c in CLAIMS)}.")
