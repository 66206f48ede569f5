"""``identify``: hand in a loss, get its spectral form, closed-form optimum and a verdict (docs/identify.md).

Modules: :mod:`.lifting` (views -> graph), :mod:`.invariance`, :mod:`.moments` (gradient span),
:mod:`.canonical` (exact template fits -> SpectralProblem), :mod:`.matching` (``same_as``),
:mod:`.verification` (search, stationarity, rank), :mod:`.procedure` (the decision procedure),
:mod:`.identification` (the record).
"""
from .identification import Identification, TestResult
from .lifting import LossError
from .procedure import identify, probe_graph

__all__ = ["identify", "Identification", "TestResult", "LossError", "probe_graph"]
