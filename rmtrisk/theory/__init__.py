"""High-dimensional test risk: closed forms, default and published variants.

:func:`asymptotic_risk` dispatches a :class:`~rmtrisk.problem.Problem` to the closed form of its
regime and returns a :class:`RiskResult` that carries a :class:`~rmtrisk.status.Status`, the
solver's error estimate and the list of terms the value contains.

Which terms. Two scalings of the signal are natural: spiked (``sv`` fixed as ``d`` grows) and
per-sample (``sv**2 = N e`` with fixed per-sample energies ``e``, so the SNR grows with ``d``).
In the per-sample scaling every kept direction's own bias ``l_i / (1 + t_i)**2`` is
``O(1/d**2)`` while the bias that the signal directions induce in each other through the shared
noise (the "interaction", ``O(r/d)`` in the spiked scaling) is ``O(1/d)``, the same order as
the variance: there it is leading order. The default is therefore the best prediction at the
problem's own ``d`` that is right at leading order in both scalings: the ``d -> infinity``
limit plus the interaction of signal directions (no skip connection, any ``reg``; in the
bias on both sides of ``c = 1``, in the variance for ``c > 1`` and for ``reg > 0``, where it is
the ``O(r/d)`` term of the same order in the spiked scaling).
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
from ..status import SolverError, Status, check_invariants, settle
from .bottleneck import bottleneck_risk, kept_mask
from .interaction import interaction_correction, ridge_interaction_risk
from .one_layer import direction_factors, optimal_training_snr
from .paper import paper_bottleneck_risk, paper_skip_risk
from .ridge import optimal_regularization, ridge_bottleneck_risk
from .skip import skip_risk
from .skip_fluctuation import skip_fluctuation_correction
from .skip_ridge import skip_ridge_risk
from .skip_under import skip_under_risk

__all__ = [
    "NEAR_TIE_RTOL",
    "SMALL_REG",
    "TERMS_FINITE_SIZE",
    "TERMS_INTERACTION",
    "TERMS_LIMIT",
    "TIE_RTOL",
    "VARIANTS",
    "cutoff_gap",
    "RiskResult",
    "asymptotic_risk",
    "direction_factors",
    "optimal_regularization",
    "optimal_training_snr",
    "regime",
    "tie_averaged",
]

VARIANTS = ("default", "paper")

#: ``RiskResult.terms`` of the three levels.
TERMS_LIMIT = "limit"
TERMS_INTERACTION = "limit + interaction O(r/d)"
TERMS_FINITE_SIZE = "finite-size"


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
        ``"limit + interaction O(r/d)"`` (the default without skip connection) or
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


def regime(problem: Problem) -> str:
    """Name of the closed form (regime) that applies to ``problem``."""
    if problem.reg > 0:
        return "skip-ridge" if problem.skip else "ridge-bottleneck"
    if problem.c == 1:
        return "interpolation-threshold"
    if not problem.skip:
        return "one-layer" if len(problem.kept) >= problem.r else "bottleneck"
    return "skip-proportional" if problem.c > 1 else "skip-underparameterized"


def _scale(problem: Problem) -> float:
    """Size of the terms a risk is a difference of (for the sign invariants)."""
    return float(np.sum(problem.test_energy_array)) + problem.eta2_test


def _result(problem: Problem, bias: float, variance: float, variant: str, name: str,
            finite_size: bool, status: Status = Status.SUCCESS, error: float = 0.0,
            terms: str = TERMS_LIMIT) -> RiskResult:
    """Assemble a :class:`RiskResult` under the status policy (:mod:`rmtrisk.status`)."""
    risk = bias + variance
    status, message = settle(status, risk, error)
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


#: Relative gap between a kept and a dropped singular value below which they count as tied.
TIE_RTOL = 1e-9
#: Relative gap below which a kept and a dropped direction are nearly tied: the leading order
#: (which direction the bottleneck keeps) and the interaction term (which divides by the gap)
#: are not trusted there.
NEAR_TIE_RTOL = 1e-2


def cutoff_gap(problem: Problem) -> float:
    """Smallest relative gap ``|s_i - s_j| / max(s_i, s_j)`` between a kept and a dropped
    singular value (``inf`` when every direction is kept or none is)."""
    sv = problem.sv_array
    kept = kept_mask(problem)
    if kept.all() or not kept.any():
        return math.inf
    a, b = sv[kept][:, None], sv[~kept][None, :]
    return float(np.min(np.abs(a - b) / np.maximum(a, b)))


def tie_averaged(problem: Problem) -> Problem:
    """``problem`` with the test energies averaged over every tied block cut by the bottleneck.

    The critical point keeps a uniformly random subspace of a block of equal singular values
    that the cutoff cuts, so each direction of the block is kept with the same probability; the
    risk is linear in which directions are kept and every direction of the block has the same
    factors, so the average over the block equals the risk with the block's test energies
    replaced by their mean. Blocks the cutoff does not cut are left as they are.
    """
    if problem.critical_set is not None or cutoff_gap(problem) > TIE_RTOL:
        return problem
    sv, ell = problem.sv_array, problem.test_energy_array.copy()
    start = 0
    while start < sv.size:
        stop = start + 1
        while stop < sv.size and sv[start] - sv[stop] <= TIE_RTOL * sv[start]:
            stop += 1
        if start < problem.k < stop:
            ell[start:stop] = ell[start:stop].mean()
        start = stop
    return problem.replace(test_energy=ell.tolist())


def _no_skip(problem: Problem, name: str, finite_size: bool, limit: bool) -> RiskResult:
    """The model without skip connection: limit, limit + interaction, or finite size.

    Near-ties at the bottleneck cutoff (:func:`cutoff_gap`): exact ties give the leading-order
    average over the tied block (:func:`tie_averaged`) without the interaction term, which is
    not derived for a cut block; near-ties are flagged ILL_CONDITIONED.
    """
    gap = cutoff_gap(problem)
    if gap <= NEAR_TIE_RTOL:
        averaged = tie_averaged(problem)
        if problem.reg > 0:
            bias, variance = ridge_bottleneck_risk(averaged)
        else:
            bias, variance = bottleneck_risk(averaged, False)
        if gap <= TIE_RTOL:
            out = _result(problem, bias, variance, "default", name, False)
            note = ("equal singular values straddle the bottleneck cutoff: leading-order average "
                    "over the tied block (no interaction term)")
            return replace(out, message=note) if out.status is Status.SUCCESS else out
        return RiskResult(bias + variance, bias, variance, Status.ILL_CONDITIONED, "default",
                          name, False, f"singular values within a relative gap {gap:.2g} "
                          "straddle the bottleneck cutoff: which direction is kept is decided "
                          "by O(d^-1/2) fluctuations; the limit is returned but not trusted")
    bias, variance = _limit(problem)
    if limit or not np.isfinite(bias + variance):
        return _result(problem, bias, variance, "default", name, False)
    lam = problem.reg / problem.eta2_train
    if problem.c < 1 and 0 < lam < SMALL_REG:
        # c < 1, small lambda: the N-side forms carry the 1/lambda of the N - d zero
        # eigenvalues and the correction would be computed by cancellation; it is smooth in
        # lambda, so interpolate it linearly between lambda = 0 and SMALL_REG (noise units).
        at_zero = problem.replace(reg=0.0)
        at_edge = problem.replace(reg=SMALL_REG * problem.eta2_train)
        c0 = np.subtract(_corrected(at_zero, finite_size), _limit(at_zero))
        c1 = np.subtract(_corrected(at_edge, finite_size), _limit(at_edge))
        d_bias, d_variance = c0 + (lam / SMALL_REG) * (c1 - c0)
    else:
        d_bias, d_variance = np.subtract(_corrected(problem, finite_size), (bias, variance))
    return _result(problem, bias + float(d_bias), variance + float(d_variance), "default", name,
                   finite_size, terms=TERMS_FINITE_SIZE if finite_size else TERMS_INTERACTION)


#: Product regularization (noise units, ``reg / eta2_train``) below which the ``c < 1``
#: correction is interpolated between ``reg = 0`` and this value (see :func:`_no_skip`).
SMALL_REG = 1e-2


def _limit(problem: Problem) -> tuple[float, float]:
    """``(bias, variance)``: the strict ``d -> infinity`` limit without skip connection."""
    if problem.reg > 0:
        return ridge_bottleneck_risk(problem)
    return bottleneck_risk(problem, False)


def _corrected(problem: Problem, finite_size: bool) -> tuple[float, float]:
    """``(bias, variance)`` with the interaction (and with ``finite_size`` every finite-``d``
    term); the variance interaction for ``c < 1`` only at ``reg > 0`` (docs/interaction.md)."""
    if problem.reg > 0:
        if finite_size:  # O(1/d): mean shift of the traces + interaction (docs/interaction.md)
            bias, variance, _, _ = ridge_interaction_risk(problem, finite_size=True)
            return bias, variance
        bias, variance = ridge_bottleneck_risk(problem)
        _, _, d_bias, d_variance = ridge_interaction_risk(problem, finite_size=False)
        return bias + d_bias, variance + d_variance
    if finite_size:
        return bottleneck_risk(problem, True)
    bias, variance = bottleneck_risk(problem, False)
    d_bias, d_variance = interaction_correction(problem, finite_size=False)
    if problem.c > 1:  # c < 1: the variance stays at its limit, as with finite_size (docs)
        variance += d_variance
    return bias + d_bias, variance


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
    name = regime(problem)
    if name == "interpolation-threshold":
        out = RiskResult(math.inf, math.inf, math.inf, Status.AT_INTERPOLATION_THRESHOLD,
                         variant, name, finite_size, "c = 1: the minimum-norm risk diverges")
    elif variant == "paper" and (problem.c < 1 or problem.reg > 0):
        out = RiskResult(math.nan, math.nan, math.nan, Status.UNSUPPORTED, variant, name,
                         finite_size, "the paper's formulas cover c > 1 and lambda = 0 only")
    elif name == "skip-ridge":
        bias, variance, status, error = skip_ridge_risk(problem)
        if status is Status.UNSUPPORTED:
            out = RiskResult(math.nan, math.nan, math.nan, status, variant, name, False,
                             "skip connection with lambda > 0: global minimizer only")
        else:
            out = _result(problem, bias, variance, variant, name, False, status, error)
    elif variant == "paper":
        parts = paper_skip_risk(problem) if problem.skip else paper_bottleneck_risk(problem)
        out = _result(problem, *parts, variant, name, finite_size)
    elif not problem.skip:
        out = _no_skip(problem, name, finite_size, limit)
    elif name == "skip-underparameterized":
        bias, variance, status = skip_under_risk(problem)
        corrected = finite_size and status in (Status.SUCCESS, Status.AT_EDGE)
        if corrected:
            # O(1/d): fluctuations of the signal quadratic forms (docs/skip_under.md)
            bias += skip_fluctuation_correction(problem)
        out = _result(problem, bias, variance, variant, name, corrected, status,
                      terms=TERMS_FINITE_SIZE if corrected else TERMS_LIMIT)
    else:
        bias, variance, status, error = skip_risk(problem, finite_size)
        out = _result(problem, bias, variance, variant, name, finite_size, status, error,
                      terms=TERMS_FINITE_SIZE if finite_size else TERMS_LIMIT)
    if finite_size and not out.finite_size and out.status is Status.SUCCESS:
        note = ("no finite-size correction is derived for this case; the d -> infinity limit "
                "is returned")
        out = replace(out, message=f"{out.message}; {note}" if out.message else note)
    if throw and out.status is not Status.SUCCESS:
        raise SolverError(out.status, out.message)
    return out
