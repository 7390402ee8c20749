"""The model without skip connection: one evaluator for the regimes ``one-layer``,
``bottleneck`` and ``ridge``.

The leading order is :func:`rmtrisk.theory.bottleneck.bottleneck_risk` (``reg = 0``) or
:func:`rmtrisk.theory.ridge.ridge_risk` (``reg > 0``); the default adds the ``O(r/d)``
interaction of signal directions (:mod:`rmtrisk.theory.corrections.interaction`), which is
leading order in the bias in the per-sample scaling (docs/theory.md §5). Equal or nearly equal
singular values at the bottleneck cutoff are handled here (:func:`cutoff_gap`,
:func:`tie_averaged`).
"""

from __future__ import annotations

import math

import numpy as np

from ..problem import Problem
from ..status import Status
from .bottleneck import bottleneck_risk, kept_mask
from .corrections import interaction_correction, ridge_interaction_risk
from .corrections.interaction import sampled_risk
from .corrections.sampled import SAMPLED_PAIRS
from .evaluation import TERMS_FINITE_SIZE, TERMS_INTERACTION, Evaluation
from .ridge import ridge_risk

__all__ = ["NEAR_TIE_RTOL", "SMALL_REG", "TIE_RTOL", "cutoff_gap", "evaluate", "near_tie_gap",
           "tie_averaged"]


#: Relative gap between a kept and a dropped singular value below which they count as tied.
TIE_RTOL = 1e-9
#: Smallest relative gap at the cutoff treated as a near-tie (see :func:`near_tie_gap`).
NEAR_TIE_RTOL = 1e-2


def near_tie_gap(problem: Problem) -> float:
    """Relative gap at the cutoff below which the kept directions are decided by fluctuations.

    The quadratic forms that select the kept directions fluctuate by ``O(min(d, N)^-1/2)``
    relative; below three times that (and at least ``NEAR_TIE_RTOL``) their second-order
    expansion, which divides by the gap, is not trusted and the expectation is sampled. Above
    it the two agree (to 1e-4 relative at a gap of 0.1, d = 500, in tests/test_ties.py).
    """
    return max(NEAR_TIE_RTOL, 3.0 / math.sqrt(min(problem.d, problem.n)))


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
    """``problem`` with the test energies averaged over every tied block the critical point cuts.

    The critical point keeps a uniformly random subspace of a block of equal singular values
    that the cutoff cuts, so each direction of the block is kept with the same probability; the
    risk is linear in which directions are kept and every direction of the block has the same
    factors, so the average over the block equals the risk with the block's test energies
    replaced by their mean. Blocks the critical set does not cut are left as they are (a
    critical set that keeps some ranks of a tied block keeps a random subspace of it too).
    """
    if cutoff_gap(problem) > TIE_RTOL:
        return problem
    sv, ell = problem.sv_array, problem.test_energy_array.copy()
    kept = kept_mask(problem)
    start = 0
    while start < sv.size:
        stop = start + 1
        while stop < sv.size and sv[start] - sv[stop] <= TIE_RTOL * sv[start]:
            stop += 1
        if 0 < kept[start:stop].sum() < stop - start:  # the block is cut
            ell[start:stop] = ell[start:stop].mean()
        start = stop
    return problem.replace(test_energy=ell.tolist())


#: Product regularization (noise units, ``reg / eta2_train``) below which the ``c < 1``
#: correction is interpolated between ``reg = 0`` and this value (see :func:`_no_skip`).
SMALL_REG = 1e-2
#: A sampled near-tie expectation whose standard error exceeds this fraction of the risk is
#: not trusted (ILL_CONDITIONED; the limit is returned): at c = 0.85, d = 200 the draws reach a
#: pole of the exact map (a mean of 31 +- 17 for a Monte Carlo risk of 6.13), while at
#: d = 400 (standard error 0.9 %) the sampled value matches Monte Carlo within 1 SE.
MAX_SAMPLING_RTOL = 1e-2


def evaluate(problem: Problem, finite_size: bool = False, limit: bool = False) -> Evaluation:
    """The model without skip connection: limit, limit + interaction, or finite size.

    Near-ties at the bottleneck cutoff (:func:`cutoff_gap` at most :func:`near_tie_gap`): which
    directions are kept is decided by the ``O(d^-1/2)`` fluctuations of the quadratic forms,
    so the correction takes the expectation of the exact map over them by sampling
    (:func:`rmtrisk.theory.corrections.sampled.sampled_expectation`), which is uniform in
    the gap: it tends to the top-``k`` value with interaction as the gap grows and to the
    average over the tied block as it closes. For ``c > 1`` at ``reg = 0`` the kept directions
    are the top singular values exactly (no near-tie issue); exact ties there, and with
    ``limit=True``, give the leading-order average over the tied block (:func:`tie_averaged`).
    """
    gap = cutoff_gap(problem)
    # c > 1, lambda = 0: the critical point keeps the top eigenvectors of X Y^+ Y X^T = X X^T
    # exactly (Y^+ Y = I_N), so a near-tie is resolved by the singular values themselves;
    # otherwise the fluctuations of the quadratic forms decide which directions are kept
    exact_selection = problem.reg == 0 and problem.c > 1
    sampled = gap <= near_tie_gap(problem) and not exact_selection
    if gap <= TIE_RTOL and (limit or exact_selection):
        bias, variance = _limit(tie_averaged(problem))
        note = ("equal singular values straddle the bottleneck cutoff: leading-order average "
                "over the tied block")
        if exact_selection and not limit:
            note += ("; for c > 1 at reg = 0 the critical point is then not unique (any basis "
                     "of the block), and which one a solver returns is its tie-breaking")
        return Evaluation(bias, variance, message=note)
    bias, variance = _limit(problem)
    if limit or not np.isfinite(bias + variance):
        return Evaluation(bias, variance)
    note = (f"singular values within a relative gap {gap:.2g} straddle the bottleneck cutoff: "
            f"expectation over the fluctuations that decide which are kept ({SAMPLED_PAIRS} "
            "antithetic Gaussian draws)"
            if sampled else "")
    lam = problem.reg / problem.eta2_train
    if problem.c < 1 and 0 < lam < SMALL_REG:
        # c < 1, small lambda: the N-side forms carry the 1/lambda of the N - d zero
        # eigenvalues and the correction would be computed by cancellation; it is smooth in
        # lambda, so interpolate it linearly between lambda = 0 and SMALL_REG (noise units).
        at_zero = problem.replace(reg=0.0)
        at_edge = problem.replace(reg=SMALL_REG * problem.eta2_train)
        *v0, e0 = _corrected(at_zero, finite_size, sampled)
        *v1, e1 = _corrected(at_edge, finite_size, sampled)
        c0, c1 = np.subtract(v0, _limit(at_zero)), np.subtract(v1, _limit(at_edge))
        d_bias, d_variance = c0 + (lam / SMALL_REG) * (c1 - c0)
        error = max(e0, e1)
    else:
        *values, error = _corrected(problem, finite_size, sampled)
        d_bias, d_variance = np.subtract(values, (bias, variance))
    if error > MAX_SAMPLING_RTOL * abs(bias + variance):
        return Evaluation(bias, variance, Status.ILL_CONDITIONED, message=(
            f"{note}; the sampled expectation has a standard error of {error:.2g}, over "
            f"{MAX_SAMPLING_RTOL:.0%} of the risk: the Gaussian model of the fluctuations "
            "reaches a pole of the exact map (c close to 1 at small d); the d -> infinity "
            "limit is returned"))
    return Evaluation(bias + float(d_bias), variance + float(d_variance),
                      finite_size=finite_size,
                      terms=TERMS_FINITE_SIZE if finite_size else TERMS_INTERACTION,
                      message=note)


def _limit(problem: Problem) -> tuple[float, float]:
    """``(bias, variance)``: the strict ``d -> infinity`` limit without skip connection."""
    if problem.reg > 0:
        return ridge_risk(problem)
    return bottleneck_risk(problem, False)


def _corrected(problem: Problem, finite_size: bool, sampled: bool = False
               ) -> tuple[float, float, float]:
    """``(bias, variance)`` with the interaction (and with ``finite_size`` every finite-``d``
    term); the variance interaction for ``c < 1`` only at ``reg > 0`` (docs/interaction.md).
    ``sampled``: the expectation of the exact map over the fluctuations by sampling instead of
    its second-order expansion around the leading order (near-ties at the cutoff, where the
    leading order's choice of kept directions is not what the critical point keeps). The third
    element is the sampling standard error of the bias (0 when not sampled)."""
    if problem.reg > 0:
        if sampled or finite_size:
            # finite_size: O(1/d) mean shift of the traces + interaction (docs/interaction.md)
            target = _canonical(problem) if sampled else problem
            bias, variance, _, _, error = ridge_interaction_risk(target, finite_size, sampled,
                                                                with_error=True)
            return bias, variance, error
        bias, variance = ridge_risk(problem)
        _, _, d_bias, d_variance = ridge_interaction_risk(problem, finite_size=False)
        return bias + d_bias, variance + d_variance, 0.0
    if sampled:
        return sampled_risk(_canonical(problem), finite_size)
    if finite_size:
        return (*bottleneck_risk(problem, True), 0.0)
    bias, variance = bottleneck_risk(problem, False)
    d_bias, d_variance = interaction_correction(problem, finite_size=False)
    if problem.c > 1:  # c < 1: the variance stays at its limit, as with finite_size (docs)
        variance += d_variance
    return bias + d_bias, variance, 0.0


def _canonical(problem: Problem) -> Problem:
    """``problem`` with the directions of every block of equal singular values ordered by test
    energy (the risk does not depend on that labelling; the sampled expectation then does not
    either, draw for draw). Critical sets other than the top-``k`` are left as they are."""
    if problem.critical_set is not None:
        return problem
    sv, ell = problem.sv_array, problem.test_energy_array
    order = np.lexsort((-ell, -sv))
    if np.array_equal(order, np.arange(sv.size)):
        return problem
    return problem.replace(sv=sv[order].tolist(), test_energy=ell[order].tolist())
