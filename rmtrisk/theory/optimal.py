"""Optimal bottleneck width and optimal training noise, from the closed forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy.optimize import minimize_scalar

from ..problem import Problem
from ..status import SolverError, Status

__all__ = ["OptimalBottleneck", "OptimalNoise", "log_scan_minimize", "optimal_bottleneck",
           "optimal_training_noise"]


class OptimalBottleneck(NamedTuple):
    """``k*`` (smallest minimizer), its risk and the risk for every ``k = 1..len(risks)``.

    ``status`` is SUCCESS when every width gave a SUCCESS risk; otherwise the first other
    status met (those widths have ``nan`` in ``risks`` and are not candidates).
    """

    k: int
    risk: float
    risks: np.ndarray
    status: Status = Status.SUCCESS


class OptimalNoise(NamedTuple):
    """Risk-minimizing training-noise level ``eta2_train`` and the risk it achieves.

    ``status`` is SUCCESS when every scanned level gave a SUCCESS risk; otherwise the first
    other status met (those levels are skipped).
    """

    eta2_train: float
    risk: float
    status: Status = Status.SUCCESS


def optimal_bottleneck(problem: Problem, variant: str = "default",
                       finite_size: bool = False, limit: bool = False) -> OptimalBottleneck:
    """Bottleneck width ``k*`` minimizing the risk of the no-skip global minimizer.

    Without skip the global minimizer keeps the top-``k`` directions; direction ``i`` lowers
    the risk iff ``l_i (1 - b_i) > eta_tst^2 v_i / d`` (bias gained against variance paid),
    so ``k*`` trades bias for variance. Widths ``k > r`` equal ``k = r``. ``finite_size`` and
    ``limit`` select the terms as in :func:`~rmtrisk.theory.asymptotic_risk`.
    """
    from . import asymptotic_risk  # local: the package imports this module

    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a rmtrisk.Problem, got {type(problem).__name__}")
    if problem.skip:
        raise ValueError("optimal_bottleneck applies to the model without skip (skip=False)")
    if problem.critical_set is not None:
        problem = problem.replace(critical_set=None)
    risks, status = np.full(problem.r, np.nan), Status.SUCCESS
    for k in range(1, problem.r + 1):
        res = asymptotic_risk(problem.replace(k=k), variant, finite_size=finite_size,
                              limit=limit and variant == "default", throw=False)
        if res.status is Status.SUCCESS:
            risks[k - 1] = res.risk
        elif status is Status.SUCCESS:
            status = res.status
    if np.all(np.isnan(risks)):
        raise SolverError(status, "no bottleneck width gives a usable risk")
    best = int(np.nanargmin(risks))
    return OptimalBottleneck(best + 1, float(risks[best]), risks, status)


def log_scan_minimize(values: Callable[[np.ndarray], np.ndarray], lo: float, hi: float,
                      grid: int) -> tuple[float, float]:
    """Minimize a function of a positive parameter: scan, then refine in ``log x``.

    ``values`` maps an array of ``x`` to the function values (``nan`` where unusable). A
    log-spaced scan of ``grid`` points over ``[lo, hi]`` locates the best point (the function
    may have several local minima); :func:`scipy.optimize.minimize_scalar` (bounded) refines
    ``log x`` between its neighbours, and the better of the two is returned as ``(x, f(x))``.

    Raises
    ------
    ValueError
        If no scanned point is usable.
    """
    xs = np.linspace(np.log(lo), np.log(hi), int(grid))
    vals = np.asarray(values(np.exp(xs)), dtype=float)
    if np.all(np.isnan(vals)):
        raise ValueError(f"no usable value on the scan over [{lo:g}, {hi:g}]")
    j = int(np.nanargmin(vals))

    def scalar(log_x: float) -> float:
        v = float(np.asarray(values(np.exp(np.array([log_x]))), dtype=float)[0])
        return v if np.isfinite(v) else np.inf

    a, b = xs[max(j - 1, 0)], xs[min(j + 1, xs.size - 1)]
    res = minimize_scalar(scalar, bounds=(a, b), method="bounded", options={"xatol": 1e-10})
    if res.fun <= vals[j]:
        return float(np.exp(res.x)), float(res.fun)
    return float(np.exp(xs[j])), float(vals[j])


def optimal_training_noise(problem: Problem, bounds: tuple[float, float] = (1e-6, 1e6),
                           finite_size: bool = False, grid: int = 61, limit: bool = False
                           ) -> OptimalNoise:
    """Training-noise level ``eta2_train`` minimizing the default asymptotic risk.

    :func:`log_scan_minimize` over ``bounds`` with ``grid`` scan points (the risk can have
    several local minima in the noise level, e.g. with a skip connection and a strong test
    signal). Levels whose status is not SUCCESS (e.g. a quadrature that did not converge, or a
    value outside a formula's domain) are skipped. ``finite_size`` and ``limit`` select the
    terms as in :func:`~rmtrisk.theory.asymptotic_risk`. For a rank-one one-layer problem with
    ``limit=True`` it reproduces :func:`~rmtrisk.theory.one_layer.optimal_training_snr`.

    Raises
    ------
    SolverError
        If no scanned level gives a usable risk (e.g. c = 1 at lambda = 0).
    """
    from . import asymptotic_risk  # local: the package imports this module

    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a rmtrisk.Problem, got {type(problem).__name__}")
    lo, hi = (float(b) for b in bounds)
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo < hi):
        raise ValueError(f"bounds must be finite with 0 < low < high, got {bounds}")
    if isinstance(grid, bool) or int(grid) != grid or grid < 3:
        raise ValueError(f"grid must be an integer >= 3, got {grid!r}")

    seen = []

    def risks(eta2: np.ndarray) -> np.ndarray:
        out = []
        for e in eta2:
            res = asymptotic_risk(problem.replace(eta2_train=float(e)), finite_size=finite_size,
                                  limit=limit, throw=False)
            ok = res.status is Status.SUCCESS and np.isfinite(res.risk)
            if not ok:
                seen.append(res.status)
            out.append(float(res.risk) if ok else np.nan)
        return np.array(out)

    try:
        eta2, risk = log_scan_minimize(risks, lo, hi, int(grid))
        return OptimalNoise(eta2, risk, seen[0] if seen else Status.SUCCESS)
    except ValueError:
        raise SolverError(Status.NON_FINITE, "no training-noise level in bounds gives a "
                          "finite risk") from None
