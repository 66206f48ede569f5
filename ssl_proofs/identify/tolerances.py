"""Tolerances of ``identify``, each with where it comes from (docs/identify.md, "Tolerances").

Every test of the decision procedure compares float64 quantities that are equal in exact
arithmetic when the loss has the tested structure; the tolerances are rounding bounds with a
safety factor, far below any structural defect the tests must catch (the planted near-miss of
``tests/test_identify.py`` adds ``1e-6 * sum z^4``: its residuals are ~1e-7 and above).
"""

#: float64 unit roundoff
EPS = 2.220446049250313e-16

#: invariance tests: relative change of the loss value under the transformation.  A loss is a
#: sum of O(B K^2) rounded terms; at the probe sizes (B <= 200, K <= 8) the relative rounding
#: error stays below ~1e-13 (measured <= 4e-15 on every registered loss); 1e-10 leaves a
#: factor 1000 of room and still catches a relative defect of 1e-10.
INVARIANCE = 1e-10

#: gradient-span (moment) test: relative least-squares residual ||g - Phi c|| / ||g||; autograd
#: and the least-squares solve each lose a few digits to cond(Phi) (<= 1e4 at the probe sizes)
MOMENT = 1e-9

#: exact fit of a template on held-out Z: max |fit - loss| / max |loss| over the held-out points
FIT = 1e-9

#: relative size below which an eigenvalue of a fitted coefficient matrix counts as zero
#: (quartic part rank-one, metric semi-definite, linear part vanishing on ker B)
STRUCTURE = 1e-7

#: the closed form's loss must equal the template's predicted minimum to this (relative)
PREDICTED = 1e-8

#: a search point refutes the closed form only below L* - max(MARGIN_ABS, MARGIN_REL |L*|)
MARGIN_ABS = 1e-6
MARGIN_REL = 1e-6

#: stationarity at the closed form: max |grad| / max(1, |L*|)
STATIONARITY = 1e-6
