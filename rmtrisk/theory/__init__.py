"""Asymptotic (high-dimensional) test risk: closed forms, default and published variants.

:func:`asymptotic_risk` dispatches a :class:`~rmtrisk.problem.Problem` to the closed form of its
regime and returns a :class:`RiskResult` that carries a :class:`~rmtrisk.status.Status`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

from ..problem import Problem
from ..status import SolverError, Status
from .bottleneck import bottleneck_risk
from .interaction import ridge_interaction_risk
from .one_layer import direction_factors, optimal_training_snr
from .paper import paper_bottleneck_risk, paper_skip_risk
from .ridge import optimal_regularization, ridge_bottleneck_risk
from .skip import skip_risk
from .skip_ridge import skip_ridge_risk
from .skip_under import skip_under_risk

__all__ = [
    "VARIANTS",
    "RiskResult",
    "asymptotic_risk",
    "direction_factors",
    "optimal_regularization",
    "optimal_training_snr",
    "regime",
]

VARIANTS = ("default", "paper")


@dataclass(frozen=True)
class RiskResult:
    """Asymptotic risk of one problem.

    Attributes
    ----------
    risk, bias, variance : float
        Test risk and its split (``variance = (eta_tst^2 / d) ||W||_F^2``, ``bias = risk -
        variance``); ``inf`` at the interpolation threshold, ``nan`` when unsupported.
    status : Status
    variant : str
        ``"default"`` (derivation- and Monte-Carlo-supported) or ``"paper"`` (published).
    regime : str
        Which closed form was used.
    finite_size : bool
        Whether exact finite-``d`` expectations replaced their limits.
    message : str
        Why the status is not SUCCESS (empty otherwise).
    """

    risk: float
    bias: float
    variance: float
    status: Status
    variant: str
    regime: str
    finite_size: bool = False
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (status by name)."""
        out = asdict(self)
        out["status"] = self.status.name
        return out


def regime(problem: Problem) -> str:
    """Name of the closed form (regime) that applies to ``problem``."""
    if problem.reg > 0:
        return "skip-ridge" if problem.skip else "ridge-bottleneck"
    if problem.c == 1:
        return "interpolation-threshold"
    if not problem.skip:
        return "one-layer" if len(problem.kept) >= problem.r else "bottleneck"
    return "skip-proportional" if problem.c > 1 else "skip-underparameterized"


def _result(bias: float, variance: float, variant: str, name: str, finite_size: bool,
            status: Status = Status.SUCCESS) -> RiskResult:
    risk = bias + variance
    if status not in (Status.SUCCESS, Status.AT_EDGE):
        return RiskResult(risk, bias, variance, status, variant, name, finite_size,
                          f"the solver reported {status.name}")
    if math.isinf(risk) and not math.isnan(risk):
        return RiskResult(math.inf, bias, variance, Status.AT_INTERPOLATION_THRESHOLD, variant,
                          name, finite_size, "finite-size expectation is infinite (d - N small)")
    if not math.isfinite(risk):
        return RiskResult(risk, bias, variance, Status.NON_FINITE, variant, name, finite_size,
                          "non-finite risk")
    message = "the threshold sits at a spectral edge" if status is Status.AT_EDGE else ""
    return RiskResult(risk, bias, variance, status, variant, name, finite_size, message)


def asymptotic_risk(problem: Problem, variant: str = "default", *, finite_size: bool = False,
                    throw: bool = True) -> RiskResult:
    """High-dimensional limit of the test risk of the problem's critical point.

    Parameters
    ----------
    problem : Problem
    variant : {"default", "paper"}
        ``"default"``: the formulas that derivation and Monte Carlo support; ``"paper"``: the
        published formulas of arXiv:2505.24668 exactly as transcribed in MODEL.md §4 (c > 1).
    finite_size : bool
        Replace limiting resolvent moments by exact finite-``d`` Gaussian expectations where
        they are known (default variant only).
    throw : bool
        Raise :class:`~rmtrisk.status.SolverError` when the status is not SUCCESS; with
        ``False`` the status is returned in the result.

    Returns
    -------
    RiskResult
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    if finite_size and variant == "paper":
        raise ValueError("finite_size applies to variant='default' only")
    name = regime(problem)
    if name == "interpolation-threshold":
        out = RiskResult(math.inf, math.inf, math.inf, Status.AT_INTERPOLATION_THRESHOLD,
                         variant, name, finite_size, "c = 1: the minimum-norm risk diverges")
    elif variant == "paper" and (problem.c < 1 or problem.reg > 0):
        out = RiskResult(math.nan, math.nan, math.nan, Status.UNSUPPORTED, variant, name,
                         finite_size, "the paper's formulas cover c > 1 and lambda = 0 only")
    elif name == "skip-ridge":
        bias, variance, status = skip_ridge_risk(problem)
        if status is Status.UNSUPPORTED:
            out = RiskResult(math.nan, math.nan, math.nan, status, variant, name, False,
                             "skip connection with lambda > 0: global minimizer only")
        else:
            out = _result(bias, variance, variant, name, False, status)
    elif variant == "paper":
        parts = paper_skip_risk(problem) if problem.skip else paper_bottleneck_risk(problem)
        out = _result(*parts, variant, name, finite_size)
    elif name == "ridge-bottleneck":
        if finite_size:  # O(1/d): mean shift of the traces + interaction (docs/interaction.md)
            bias, variance, _, _ = ridge_interaction_risk(problem, finite_size=True)
            out = _result(bias, variance, variant, name, True)
        else:
            out = _result(*ridge_bottleneck_risk(problem), variant, name, False)
    elif name == "skip-underparameterized":
        bias, variance, status = skip_under_risk(problem)
        corrected = finite_size and status in (Status.SUCCESS, Status.AT_EDGE)
        if corrected:
            # O(1/d): fluctuations of the signal quadratic forms (docs/skip_under.md)
            from .skip_fluctuation import skip_fluctuation_correction

            bias += skip_fluctuation_correction(problem)
        out = _result(bias, variance, variant, name, corrected, status)
    elif problem.skip:
        bias, variance, status = skip_risk(problem, finite_size)
        out = _result(bias, variance, variant, name, finite_size, status)
    else:
        out = _result(*bottleneck_risk(problem, finite_size), variant, name, finite_size)
    if finite_size and not out.finite_size and out.status is Status.SUCCESS:
        out = replace(out, message="no finite-size correction is derived for this regime; "
                                   "the d -> infinity limit is returned")
    if throw and out.status is not Status.SUCCESS:
        raise SolverError(out.status, out.message)
    return out
