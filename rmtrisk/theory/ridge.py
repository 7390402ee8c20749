"""Bottleneck DAE without skip connection and with product regularization ``lambda > 0``.

The global minimizer is ``W = Pi_k X S`` with ``S = (Y^T Y + lambda)^{-1} Y^T`` and ``Pi_k`` the
projector on the top-``k`` eigenvectors of ``X H X^T``, ``H = S Y`` (``rmtrisk.training``).
Derivation (``docs/ridge.md``): for one signal direction ``(u, v, sigma)``,
``Y^T Y + lambda = (A^T A + lambda) + B C B^T`` with ``B = [A^T u, v]``,
``C = [[0, sigma], [sigma, sigma^2]]``; Woodbury with ``Q = (A^T A + lambda)^{-1}`` and the
concentration ``v^T Q v -> m``, ``u^T A Q A^T u -> (N/d)(1 - lambda m)``, mixed forms ``-> 0``,
where ``m = m(-lambda)`` is the Stieltjes transform of the Marchenko–Pastur law ``mu`` of
``A^T A`` (ratio ``gamma = N/d = 1/c``, scale ``eta^2``), give, in units ``eta^2 = 1``
(``t = sigma^2/eta^2``, ``lam = lambda/eta^2``),

    g  = 1 - lam m(-lam)              = int x / (x + lam) dmu(x),
    g' = m(-lam) - lam m'(-lam)       = int x / (x + lam)^2 dmu(x)  (= d(lam m)/d lam),
    u^T W u -> g t / (1 + g t),        sigma^2 v^T S S^T v -> t (1 + t) g' / (1 + g t)^2,

so the per-direction factors are

    b = 1 / (1 + g t)^2,      v = t (1 + t) g' / (1 + g t)^2,

and ``R = sum_{i in I} (l_i b_i + eta_tst^2 v_i / d) + sum_{i not in I} l_i``. The kept
eigenvalues of ``X H X^T`` are ``eta^2 g t (1 + t)/(1 + g t)``, increasing in ``t``: the top-k
eigenvectors are the top-k signal directions. The formulas live in
:mod:`rmtrisk.symbolic.regimes` and are evaluated by the generated kernels through
:func:`rmtrisk.engine.ridge_moments`, :func:`rmtrisk.engine.ridge_factors` and
:func:`rmtrisk.engine.ridge_grid` (mpmath reference :func:`rmtrisk.engine.ridge_reference`).
In closed form (no cancellation anywhere,
``lam > 0`` or ``c != 1``)

    s  = sqrt((lam + (1 + sqrt(gamma))^2) (lam + (1 - sqrt(gamma))^2)),
    g  = 2 / (1 + gamma + lam + s),        g' = g / s,

``g`` being the root in ``(0, 1]`` of ``gamma g^2 - (1 + gamma + lam) g + 1 = 0``. Limits:
``lam -> 0`` gives ``g -> min(1, c)`` and the minimum-norm factors of
:func:`rmtrisk.theory.one_layer.direction_factors` on both sides of ``c = 1``; ``lam -> inf``
gives ``b -> 1``, ``v -> 0``; at ``c = 1`` and ``lam > 0``, ``s = sqrt(lam (lam + 4)) > 0``
and the risk is finite.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ..problem import Problem
from .optimal import log_scan_minimize

__all__ = [
    "OptimalRegularization",
    "ridge_bottleneck_risk",
    "ridge_direction_factors",
    "ridge_resolvent_moments",
    "optimal_regularization",
]


class OptimalRegularization(NamedTuple):
    """Risk-minimizing product regularization ``lambda*`` and the risk it achieves."""

    reg: float
    risk: float


def ridge_resolvent_moments(c: ArrayLike, lam: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """``(g, g')`` of the unit-scale Marchenko–Pastur law of ``A^T A`` at ``z = -lam``.

    ``g = int x/(x + lam) dmu = 1 - lam m(-lam)`` and
    ``g' = int x/(x + lam)^2 dmu = m(-lam) - lam m'(-lam)``, with ``mu`` the law of ``A^T A``
    (``A`` d x N, entries ``N(0, 1/d)``, ratio ``gamma = N/d = 1/c``; atom ``1 - d/N`` at 0
    when ``c < 1``).

    Parameters
    ----------
    c : array_like
        Aspect ratio ``d / N > 0``.
    lam : array_like
        Regularization in noise units ``lambda / eta_trn^2 >= 0`` (``> 0`` when ``c = 1``).

    Returns
    -------
    g, gprime : ndarray
        Broadcast arrays; ``gprime`` is ``inf`` at ``c = 1, lam = 0``.
    """
    from ..engine import ridge_moments

    return ridge_moments(c, lam)


def ridge_direction_factors(t: ArrayLike, c: float, lam: float
                            ) -> tuple[np.ndarray, np.ndarray]:
    """Per-direction bias and variance factors ``(b_i, v_i)`` of the ridge bottleneck DAE.

    Parameters
    ----------
    t : array_like
        Training SNRs ``sigma_i^2 / eta_trn^2 > 0``.
    c : float
        Aspect ratio ``d / N > 0``.
    lam : float
        Regularization in noise units ``lambda / eta_trn^2 >= 0`` (``> 0`` when ``c = 1``).

    Returns
    -------
    b, v : ndarray
        ``b = 1/(1 + g t)^2`` and ``v = t (1 + t) g'/(1 + g t)^2`` (``g, g'`` from
        :func:`ridge_resolvent_moments`), such that
        ``R = sum_{i in I} (l_i b_i + eta_tst^2 v_i / d) + sum_{i not in I} l_i``.
    """
    from ..engine import ridge_factors

    return ridge_factors(t, c, lam)


def _check(problem: Problem) -> None:
    if problem.skip:
        raise ValueError("ridge_bottleneck_risk applies to the model without skip (skip=False)")


def ridge_bottleneck_risk(problem: Problem) -> tuple[float, float]:
    """``(bias, variance)`` of the no-skip critical point ``problem.kept`` at ``lambda = reg``.

    Parameters
    ----------
    problem : Problem
        ``skip=False``; ``reg > 0`` (``reg = 0`` is accepted and gives the minimum-norm limit,
        with infinite variance at ``c = 1``).

    Returns
    -------
    bias, variance : float
        ``variance = (eta_tst^2 / d) sum_{i in I} v_i`` and
        ``bias = sum_{i in I} l_i b_i + sum_{i not in I} l_i``.
    """
    _check(problem)
    res = _grid_risk(problem, problem.reg)
    return float(res.bias), float(res.variance)


def _kept_mask(problem: Problem) -> np.ndarray:
    kept = np.zeros(problem.r, dtype=bool)
    kept[np.asarray(problem.kept, dtype=int) - 1] = True
    return kept


def _grid_risk(problem: Problem, reg: ArrayLike):
    """:func:`rmtrisk.engine.ridge_grid` of ``problem`` at the regularization(s) ``reg``."""
    from ..engine import ridge_grid

    return ridge_grid(problem.c, reg, problem.eta2_train, problem.eta2_test, problem.sv_array,
                      problem.test_energy_array, problem.d, kept=_kept_mask(problem))


def _skip_grid_risk(problem: Problem, reg: ArrayLike) -> np.ndarray:
    """Skip-connection risk of ``problem`` at the regularization(s) ``reg > 0``.

    One vectorized :func:`rmtrisk.engine.skip_ridge_grid` call with
    ``kappa = min(k, d, N) / d`` (as :func:`rmtrisk.theory.skip_ridge.skip_ridge_risk`). Cells
    the status policy accepts (:func:`rmtrisk.status.accepted`) and whose variance is not
    negative keep their value; the others are ``nan``.
    """
    from ..engine import skip_ridge_grid
    from ..status import accepted

    kappa = min(problem.k, problem.d, problem.n) / problem.d
    res = skip_ridge_grid(problem.c, kappa, reg, problem.eta2_train, problem.eta2_test,
                          problem.sv_array, problem.test_energy_array, problem.d)
    risk = np.array(res.risk, dtype=float)
    ok = accepted(res.status, risk, res.error) & (np.asarray(res.variance) >= 0)
    return np.where(ok, risk, np.nan)


def _skip_optimum(problem: Problem, lo: float, hi: float, grid: int) -> OptimalRegularization:
    """:func:`optimal_regularization` for ``skip=True`` (scan, refine, compare with lambda = 0)."""
    import warnings

    from . import asymptotic_risk  # local: the package imports this module

    if problem.critical_set is not None:
        raise ValueError("optimal_regularization with skip=True applies to the global "
                         "minimizer only (critical_set=None)")

    try:
        best = OptimalRegularization(*log_scan_minimize(
            lambda reg: _skip_grid_risk(problem, reg), lo, hi, grid))
    except ValueError:
        raise ValueError("the skip-connection ridge solver returned no usable risk on the "
                         f"scan over lambda in [{lo:g}, {hi:g}]") from None
    # the lambda = 0 end: finite unless c = 1; lambda* at the lower bound means that no
    # regularization is best (the risk then tends to the lambda = 0 risk from above)
    at_lower = best.reg <= lo * (1 + 1e-6)
    zero = asymptotic_risk(problem.replace(reg=0.0), throw=False).risk
    if not at_lower and np.isfinite(zero) and zero < best.risk * (1 - 1e-12):
        warnings.warn(f"lambda = 0 gives a lower risk ({zero:.10g}) than the best lambda in "
                      f"[{lo:g}, {hi:g}] ({best.risk:.10g} at {best.reg:.6g}): no "
                      "regularization is best; lower the bound", RuntimeWarning, stacklevel=3)
    return best


def optimal_regularization(problem: Problem, bounds: tuple[float, float] | None = None,
                           grid: int = 121) -> OptimalRegularization:
    """Product regularization ``lambda*`` minimizing the asymptotic risk (skip or no skip).

    A log-spaced scan of ``grid`` points over ``bounds`` locates the best cell, then
    :func:`scipy.optimize.minimize_scalar` (bounded) refines ``log lambda`` between its
    neighbours. Without skip the critical set of ``problem`` (``problem.kept``) is held fixed
    and the risk is :func:`rmtrisk.engine.ridge_grid`; with skip (global minimizer only) the
    scan is one vectorized :func:`rmtrisk.engine.skip_ridge_grid` call with
    ``kappa = min(k, d, N) / d``, and cells the solver flags (other than AT_EDGE, or
    MAX_ITERATIONS with a negligible error estimate) are skipped.

    ``lambda*`` equal to the lower bound means that no regularization is best: the risk
    increases with ``lambda`` over the scanned interval and tends, as the bound goes to 0, to
    the ``lambda = 0`` risk ``asymptotic_risk(problem.replace(reg=0))`` (finite unless
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
        ``(reg, risk)``; ``risk`` equals ``asymptotic_risk(problem.replace(reg=reg)).risk``.

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
    _check(problem)
    return OptimalRegularization(*log_scan_minimize(
        lambda reg: np.asarray(_grid_risk(problem, reg).risk, dtype=float), lo, hi, int(grid)))
