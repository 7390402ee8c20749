"""Optimal bottleneck width and optimal training noise, from the closed forms."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.optimize import minimize_scalar

from ..problem import Problem

__all__ = ["OptimalBottleneck", "OptimalNoise", "optimal_bottleneck", "optimal_training_noise"]


class OptimalBottleneck(NamedTuple):
    """``k*`` (smallest minimizer), its risk and the risk for every ``k = 1..len(risks)``."""

    k: int
    risk: float
    risks: np.ndarray


class OptimalNoise(NamedTuple):
    """Risk-minimizing training-noise level ``eta2_train`` and the risk it achieves."""

    eta2_train: float
    risk: float


def optimal_bottleneck(problem: Problem, variant: str = "default",
                       finite_size: bool = False) -> OptimalBottleneck:
    """Bottleneck width ``k*`` minimizing the risk of the no-skip global minimizer.

    Without skip the global minimizer keeps the top-``k`` directions; direction ``i`` lowers
    the risk iff ``l_i (1 - b_i) > eta_tst^2 v_i / d`` (bias gained against variance paid),
    so ``k*`` trades bias for variance. Widths ``k > r`` equal ``k = r``.
    """
    from . import asymptotic_risk  # local: the package imports this module

    if problem.skip:
        raise ValueError("optimal_bottleneck applies to the model without skip (skip=False)")
    if problem.critical_set is not None:
        problem = problem.replace(critical_set=None)
    risks = np.array([
        asymptotic_risk(problem.replace(k=k), variant, finite_size=finite_size).risk
        for k in range(1, problem.r + 1)
    ])
    best = int(np.argmin(risks))
    return OptimalBottleneck(best + 1, float(risks[best]), risks)


def optimal_training_noise(problem: Problem, bounds: tuple[float, float] = (1e-6, 1e6),
                           finite_size: bool = False, grid: int = 61) -> OptimalNoise:
    """Training-noise level ``eta2_train`` minimizing the default asymptotic risk.

    A log-spaced scan of ``grid`` points over ``bounds`` (the risk can have several local
    minima in the noise level, e.g. with a skip connection and a strong test signal), then a
    bounded scalar minimization of ``log(eta2_train)`` between the neighbours of the best scan
    point. Cells whose status is neither SUCCESS nor AT_EDGE (e.g. a quadrature that did not
    converge) are skipped. For a rank-one one-layer problem it reproduces
    :func:`~rmtrisk.theory.one_layer.optimal_training_snr`.

    Raises
    ------
    SolverError
        If no scanned level gives a usable risk.
    """
    from ..status import SolverError, Status
    from . import asymptotic_risk

    lo, hi = bounds
    if not 0 < lo < hi:
        raise ValueError(f"bounds must satisfy 0 < low < high, got {bounds}")
    if isinstance(grid, bool) or int(grid) != grid or grid < 3:
        raise ValueError(f"grid must be an integer >= 3, got {grid!r}")

    def risk(log_eta2: float) -> float:
        p = problem.replace(eta2_train=float(np.exp(log_eta2)))
        res = asymptotic_risk(p, finite_size=finite_size, throw=False)
        ok = res.status in (Status.SUCCESS, Status.AT_EDGE) and np.isfinite(res.risk)
        return float(res.risk) if ok else np.inf

    xs = np.linspace(np.log(lo), np.log(hi), int(grid))
    vals = np.array([risk(x) for x in xs])
    if not np.any(np.isfinite(vals)):
        raise SolverError(Status.NON_FINITE, "no training-noise level in bounds gives a risk")
    j = int(np.argmin(vals))
    a, b = xs[max(j - 1, 0)], xs[min(j + 1, xs.size - 1)]
    res = minimize_scalar(risk, bounds=(a, b), method="bounded", options={"xatol": 1e-10})
    if res.fun <= vals[j]:
        return OptimalNoise(float(np.exp(res.x)), float(res.fun))
    return OptimalNoise(float(np.exp(xs[j])), float(vals[j]))
