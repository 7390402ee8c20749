"""The risk of one problem: dispatch to its regime's evaluator and apply the status policy.

Which terms. Two scalings of the signal are natural: spiked (``sv`` fixed as ``d`` grows) and
per-sample (``sv**2 = N e`` with fixed per-sample energies ``e``, so the SNR grows with ``d``).
In the per-sample scaling every kept direction's own bias ``l_i / (1 + t_i)**2`` is
``O(1/d**2)`` while the bias that the signal directions induce in each other through the shared
noise (the "interaction", ``O(r/d)`` in the spiked scaling) is ``O(1/d)``, the same order as
the variance: there it is leading order. The default is therefore the best prediction at the
problem's own ``d`` that is right at leading order in both scalings: the ``d -> infinity``
limit plus the interaction of signal directions (no skip connection, any ``reg``; in the
bias on both sides of ``c = 1``, in the variance for ``c > 1`` and for ``reg > 0``, where it is
the ``O(r/d)`` term of the same order in the spiked scaling; with the skip connection for
``c > 1``, and ``c = 1`` at ``reg > 0``, docs/skip_interaction.md; not below ``c = 1``).
``limit=True`` gives the strict ``d -> infinity`` limit; ``finite_size=True`` adds every
finite-``d`` correction that is derived (exact Gaussian moments, variance interaction,
fluctuation corrections).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from ..problem import Problem
from ..regimes import Regime, classify, evaluator
from ..status import SolverError, Status, check_invariants, settle
from .evaluation import TERMS_LIMIT, Evaluation
from .paper import paper_bottleneck_risk, paper_skip_risk

__all__ = ["VARIANTS", "RiskResult", "asymptotic_risk"]

VARIANTS = ("default", "paper")


@dataclass(frozen=True)
class RiskResult:
    """High-dimensional test risk of one problem.

    Attributes
    ----------
    risk, bias, variance : float
        Test risk and its split (``variance = (eta_tst^2 / d) ||W||_F^2``, ``bias = risk -
        variance``); ``inf`` at the interpolation threshold, ``nan`` when unsupported.
    status : Status
        After the package's status policy (:func:`rmtrisk.status.settle`): ``SUCCESS`` means
        the value is converged and satisfies the physical invariants.
    variant : str
        ``"default"`` (derivation- and Monte-Carlo-supported) or ``"paper"`` (published).
    regime : str
        Which closed form was used.
    finite_size : bool
        Whether exact finite-``d`` expectations replaced their limits.
    message : str
        Why the status is not SUCCESS, or a note on how it was reached (empty otherwise).
    error : float
        Estimated absolute error of ``risk`` from the solver (0 for closed forms).
    terms : str
        Which terms the value contains: ``"limit"`` (strict ``d -> infinity`` limit),
        ``"limit + interaction O(r/d)"`` (the default, except the skip connection below
        ``c = 1``) or
        ``"finite-size"``.
    """

    risk: float
    bias: float
    variance: float
    status: Status
    variant: str
    regime: str
    finite_size: bool = False
    message: str = ""
    error: float = 0.0
    terms: str = TERMS_LIMIT

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (status by name)."""
        out = asdict(self)
        out["status"] = self.status.name
        return out


def _scale(problem: Problem) -> float:
    """Size of the terms a risk is a difference of (for the sign invariants)."""
    return float(np.sum(problem.test_energy_array)) + problem.eta2_test


def _result(problem: Problem, ev: Evaluation, variant: str, name: Regime) -> RiskResult:
    """Assemble a :class:`RiskResult` under the status policy (:mod:`rmtrisk.status`)."""
    bias, variance, error, finite_size, terms = (ev.bias, ev.variance, ev.error,
                                                 ev.finite_size, ev.terms)
    risk = bias + variance
    status, message = settle(ev.status, risk, error)
    message = ev.message or message
    if status is not Status.SUCCESS:
        return RiskResult(risk, bias, variance, status, variant, name, finite_size, message,
                          error, terms)
    if math.isinf(risk) and not math.isnan(risk):
        return RiskResult(math.inf, bias, variance, Status.AT_INTERPOLATION_THRESHOLD, variant,
                          name, finite_size, "finite-size expectation is infinite (d - N small)",
                          error, terms)
    if not math.isfinite(risk):
        return RiskResult(risk, bias, variance, Status.NON_FINITE, variant, name, finite_size,
                          "non-finite risk", error, terms)
    broken = check_invariants(risk, bias, variance, problem.skip, _scale(problem))
    if broken:
        return RiskResult(risk, bias, variance, Status.INVALID_VALUE, variant, name,
                          finite_size, f"{broken}: outside the formula's domain of validity",
                          error, terms)
    return RiskResult(risk, bias, variance, status, variant, name, finite_size, message,
                      error, terms)


def asymptotic_risk(problem: Problem, variant: str = "default", *, finite_size: bool = False,
                    limit: bool = False, throw: bool = True) -> RiskResult:
    """High-dimensional test risk of the problem's critical point.

    Parameters
    ----------
    problem : Problem
    variant : {"default", "paper"}
        ``"default"``: the formulas that derivation and Monte Carlo support; ``"paper"``: the
        published formulas of arXiv:2505.24668 as the authors' code evaluates them (c > 1,
        ``reg = 0``; docs/paper.md).
    finite_size : bool
        Add every derived finite-``d`` correction: exact Gaussian resolvent moments, the
        interaction of signal directions in bias and variance, fluctuation corrections
        (default variant only).
    limit : bool
        Return the strict ``d -> infinity`` limit. By default the result is the best prediction
        at the problem's own ``d`` that is right at leading order in both the spiked and the
        per-sample scaling: the limit plus the ``O(r/d)`` interaction of signal directions,
        which is leading order in the bias when ``sv**2`` grows like ``N`` (module docstring).
        ``RiskResult.terms`` says which terms a value contains.
    throw : bool
        Raise :class:`~rmtrisk.status.SolverError` when the status is not SUCCESS; with
        ``False`` the status is returned in the result.

    Returns
    -------
    RiskResult
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a rmtrisk.Problem, got {type(problem).__name__}")
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    if finite_size and variant == "paper":
        raise ValueError("finite_size applies to variant='default' only")
    if finite_size and limit:
        raise ValueError("finite_size=True and limit=True exclude each other")
    name = classify(problem)
    if name is Regime.INTERPOLATION_THRESHOLD:
        out = RiskResult(math.inf, math.inf, math.inf, Status.AT_INTERPOLATION_THRESHOLD,
                         variant, name, finite_size, "c = 1: the minimum-norm risk diverges")
    elif variant == "paper" and (problem.c < 1 or problem.reg > 0):
        out = RiskResult(math.nan, math.nan, math.nan, Status.UNSUPPORTED, variant, name,
                         finite_size, "the paper's formulas cover c > 1 and lambda = 0 only")
    elif variant == "paper":
        parts = paper_skip_risk(problem) if problem.skip else paper_bottleneck_risk(problem)
        out = _result(problem, Evaluation(*parts), variant, name)
    else:
        out = _result(problem, evaluator(name)(problem, finite_size, limit), variant, name)
    if finite_size and not out.finite_size and out.status is Status.SUCCESS:
        note = ("no finite-size correction is derived for this case; the d -> infinity limit "
                "is returned")
        out = replace(out, message=f"{out.message}; {note}" if out.message else note)
    if throw and out.status is not Status.SUCCESS:
        raise SolverError(out.status, out.message)
    return out
