"""What a regime's evaluator returns, before the status policy turns it into a RiskResult."""

from __future__ import annotations

from typing import NamedTuple

from ..status import Status

__all__ = ["TERMS_FINITE_SIZE", "TERMS_INTERACTION", "TERMS_LIMIT", "Evaluation"]

#: ``RiskResult.terms`` of the three levels.
TERMS_LIMIT = "limit"
TERMS_INTERACTION = "limit + interaction O(r/d)"
TERMS_FINITE_SIZE = "finite-size"


class Evaluation(NamedTuple):
    """Bias and variance of one problem as a regime's evaluator computed them.

    Attributes
    ----------
    bias, variance : float
        The split of the risk (``variance = (eta_tst^2 / d) ||W||_F^2``).
    status : Status
        The engine's status, before the policy of :func:`rmtrisk.status.settle`.
    error : float
        The engine's error estimate of the risk (0 for closed forms).
    finite_size : bool
        Whether finite-``d`` corrections were applied.
    terms : str
        Which terms the value contains (``TERMS_*``).
    message : str
        A note on how the value was reached, or why the status is what it is.
    """

    bias: float
    variance: float
    status: Status = Status.SUCCESS
    error: float = 0.0
    finite_size: bool = False
    terms: str = TERMS_LIMIT
    message: str = ""
