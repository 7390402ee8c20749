"""The optima: bottleneck width ``k*``, regularization ``lambda*``, training noise and SNR."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy.optimize import minimize_scalar

from ..problem import Problem
from ..status import SolverError, Status
from .ridge import ridge_scan
from .risk import asymptotic_risk
from .skip_ridge import skip_ridge_scan

__all__ = ["OptimalBottleneck", "OptimalNoise", "OptimalRegularization", "log_scan_minimize",
           "optimal_bottleneck", "optimal_regularization", "optimal_training_noise",
           "optimal_training_snr"]


class OptimalBottleneck(NamedTuple):
    """``k*`` (smallest minimizer), its risk and the risk for every ``k = 1..len(risks)``.

    ``status`` is SUCCESS when every width gave a SUCCESS risk; otherwise the first other
    status met (those widths have ``nan`` in ``risks`` and are not candidates).
    """

    k: int
    risk: float
    risks: np.ndarray
    status: Status = Status.SUCCESS


class OptimalRegularization(NamedTuple):
    """Risk-minimizing product regularization ``lambda*`` and the risk it achieves."""

    reg: float
    risk: float


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
    ``limit=True`` it reproduces :func:`optimal_training_snr`.

    Raises
    ------
    SolverError
        If no scanned level gives a usable risk (e.g. c = 1 at lambda = 0).
    """
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


def _skip_optimum(problem: Problem, lo: float, hi: float, grid: int) -> OptimalRegularization:
    """:func:`optimal_regularization` for ``skip=True`` (scan, refine, compare with lambda = 0)."""
    if problem.critical_set is not None:
        raise ValueError("optimal_regularization with skip=True applies to the global "
                         "minimizer only (critical_set=None)")

    try:
        best = OptimalRegularization(*log_scan_minimize(
            lambda reg: skip_ridge_scan(problem, reg), lo, hi, grid))
    except ValueError:
        raise ValueError("the skip-connection ridge solver returned no usable risk on the "
                         f"scan over lambda in [{lo:g}, {hi:g}]") from None
    # the lambda = 0 end: finite unless c = 1; lambda* at the lower bound means that no
    # regularization is best (the risk then tends to the lambda = 0 risk from above)
    at_lower = best.reg <= lo * (1 + 1e-6)
    zero = asymptotic_risk(problem.replace(reg=0.0), limit=True, throw=False).risk
    if not at_lower and np.isfinite(zero) and zero < best.risk * (1 - 1e-12):
        warnings.warn(f"lambda = 0 gives a lower risk ({zero:.10g}) than the best lambda in "
                      f"[{lo:g}, {hi:g}] ({best.risk:.10g} at {best.reg:.6g}): no "
                      "regularization is best; lower the bound", RuntimeWarning, stacklevel=3)
    return best


def optimal_regularization(problem: Problem, bounds: tuple[float, float] | None = None,
                           grid: int = 121) -> OptimalRegularization:
    """Product regularization ``lambda*`` minimizing the limiting risk (skip or no skip).

    A log-spaced scan of ``grid`` points over ``bounds`` locates the best cell, then
    :func:`scipy.optimize.minimize_scalar` (bounded) refines ``log lambda`` between its
    neighbours. Without skip the critical set of ``problem`` (``problem.kept``) is held fixed
    and the risk is :func:`rmtrisk.engine.ridge_grid`; with skip (global minimizer only) the
    scan is one vectorized :func:`rmtrisk.engine.skip_ridge_grid` call with
    ``kappa = min(k, d, N) / d``, and cells the solver flags (other than AT_EDGE, or
    MAX_ITERATIONS with a negligible error estimate) are skipped.

    ``lambda*`` equal to the lower bound means that no regularization is best: the risk
    increases with ``lambda`` over the scanned interval and tends, as the bound goes to 0, to
    the ``lambda = 0`` risk ``asymptotic_risk(problem.replace(reg=0), limit=True)`` (finite unless
    ``c = 1``). With skip, that ``lambda = 0`` risk is compared with the result and a
    :class:`RuntimeWarning` is issued if it is lower than the risk at an interior ``lambda*``
    (the risk can have two local minima in ``lambda``; ``docs/ridge.md`` §5).

    Behaviour without skip (``docs/ridge.md``): the minimum-norm peak at ``c = 1``
    (``g' = g / s`` with ``s -> |1 - 1/c|``) is removed by any ``lambda > 0``, since
    ``s >= sqrt(lam (lam + (1 + c^{-1/2})^2)) > 0``, and the optimal risk is finite and smooth
    through ``c = 1``. With in-distribution test signal (``l_i = sigma_i^2 / N``) ``lambda*``
    is of order ``eta_trn^2``, largest for small ``c`` and decreasing with ``c``; for one
    direction of SNR ``t`` and ``eta_tst = eta_trn`` the risk decreases away from
    ``lambda = 0`` iff ``c < c*(t)``,
    ``c* = ((1 + 3t) + sqrt((1 + 3t)^2 + 4 t^3)) / (2t)`` (for ``c >= c*`` the minimum-norm
    solution is optimal and the returned ``lambda*`` is the lower bound). With a strong test
    signal (``l_i = O(1)``) the variance is only ``O(1/d)`` and ``lambda*`` sits at the lower
    bound except near ``c = 1``. With skip, the ``lambda = 0`` risk is infinite at ``c = 1``
    (variance ``∝ c/(c - 1)``) and any ``lambda > 0`` makes it finite; ``docs/ridge.md`` §5
    tabulates ``lambda*`` for both architectures.

    Parameters
    ----------
    problem : Problem
        Either architecture; its ``reg`` is ignored. With ``skip=True`` only the global
        minimizer (``critical_set=None``) is supported.
    bounds : (float, float), optional
        Search interval for ``lambda`` (absolute units); default
        ``(1e-6, 1e4) * eta2_train``. A minimizer at an end means the optimum lies outside
        (at the lower end: no regularization is best).
    grid : int
        Number of scan points (>= 3).

    Returns
    -------
    OptimalRegularization
        ``(reg, risk)``; ``risk`` equals
        ``asymptotic_risk(problem.replace(reg=reg), limit=True).risk``: the scan runs on the
        compiled grid solvers of the ``d -> infinity`` limit, without the ``O(r/d)``
        interaction that the default adds (``terms``).

    Raises
    ------
    ValueError
        For invalid ``bounds`` or ``grid``, a skip problem with a ``critical_set``, or a scan
        on which the skip solver returned no usable value.
    """
    if bounds is None:
        bounds = (1e-6 * problem.eta2_train, 1e4 * problem.eta2_train)
    lo, hi = (float(x) for x in bounds)
    if not 0 < lo < hi or not np.isfinite(hi):
        raise ValueError(f"bounds must satisfy 0 < low < high < inf, got {bounds}")
    if isinstance(grid, bool) or int(grid) != grid or grid < 3:
        raise ValueError(f"grid must be an integer >= 3, got {grid!r}")
    if problem.skip:
        return _skip_optimum(problem, lo, hi, int(grid))
    return OptimalRegularization(*log_scan_minimize(
        lambda reg: np.asarray(ridge_scan(problem, reg).risk, dtype=float), lo, hi, int(grid)))


def optimal_training_snr(c: float, strength: float) -> float:
    """Risk-minimizing training SNR ``theta*`` of the rank-one one-layer denoiser.

    Minimizes ``s B(theta) + V(theta)`` in the split ``R = (sigma_tst^2 / N_t) B + V / d``
    with the test-signal strength ``s = sigma_tst^2 d / N_t`` (not the bottleneck ratio
    ``kappa = k / d`` of the rest of the package): ``theta* = 2 s (c - 1)/c - 1`` for ``c > 1``
    and ``theta* = (2 s (1 - c)/c - 1)/(2 - c)`` for ``c < 1``, clipped at 0.

    Parameters
    ----------
    c : float
        Aspect ratio, ``c > 0`` and ``c != 1``.
    strength : float
        Test-signal strength ``sigma_tst^2 d / N_t >= 0``.
    """
    c, s = float(c), float(strength)
    if not np.isfinite(c) or c <= 0 or c == 1:
        raise ValueError(f"c must be > 0 and != 1, got {c}")
    if not np.isfinite(s) or s < 0:
        raise ValueError(f"strength must be finite and >= 0, got {s}")
    theta = 2 * s * (c - 1) / c - 1 if c > 1 else (2 * s * (1 - c) / c - 1) / (2 - c)
    return max(theta, 0.0)
