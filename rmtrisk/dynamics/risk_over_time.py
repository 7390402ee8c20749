"""Test risk over training time of the one-layer DAE, and early stopping against ridge.

The network is the one-layer linear DAE without skip connection (every signal direction kept,
``k >= r``), target ``T = X``, trained by gradient flow on the unregularized loss
``1/2 ||X - W Y||_F^2`` of :func:`rmtrisk.montecarlo.training.dae_loss` from ``W = 0``:
``W(t) = X Y^T g_t(Y Y^T)`` with ``g_t(x) = (1 - exp(-t x))/x``. Time is in the loss's own
units (a sum over samples); ``tau = t * eta2_train`` is dimensionless and the bulk of
``Y Y^T`` is ``O(eta2_train)``, so the risk moves on the scale ``t ~ 1/eta2_train``.

The values are the ``d -> infinity`` leading order (``terms = "limit"``, as
``asymptotic_risk(..., limit=True)``): they tend to the one-layer minimum-norm limit as
``t -> inf`` (for ``c != 1``) and equal ``sum l_i`` at ``t = 0``. Equations:
:mod:`rmtrisk.symbolic.gradient_flow`; evaluation: :func:`rmtrisk.engine.gradient_flow_grid`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..engine.gradient_flow import gradient_flow_grid
from ..problem import Problem
from ..status import SolverError, Status
from ..theory.optimal import log_scan_minimize, optimal_regularization
from ..theory.risk import asymptotic_risk

__all__ = ["EarlyStopping", "RiskOverTime", "best_filter_risk", "check_one_layer",
           "early_stopping", "risk_over_time"]

#: Terms contained in the values (``rmtrisk.theory.TERMS_LIMIT``'s wording).
TERMS = "limit"


class RiskOverTime(NamedTuple):
    """Risk of the gradient-flow network at the requested times (arrays of ``time``'s shape).

    Attributes
    ----------
    time, risk, bias, variance : ndarray
        Times and the test risk with its split (docs/conventions.md §7).
    status : ndarray of int8
        :class:`~rmtrisk.status.Status` codes per time.
    error : ndarray
        Estimated absolute error of ``risk``.
    terms : str
        ``"limit"``: the leading order, without the ``O(r/d)`` interaction of directions.
    """

    time: np.ndarray
    risk: np.ndarray
    bias: np.ndarray
    variance: np.ndarray
    status: np.ndarray
    error: np.ndarray
    terms: str = TERMS


class EarlyStopping(NamedTuple):
    """Optimal stopping time against the optimal product regularization (leading order).

    Attributes
    ----------
    time : float
        Risk-minimizing time ``t*`` (``inf`` when training to convergence is best).
    risk : float
        ``R(t*)``.
    risk_converged : float
        ``R(inf)``, the one-layer minimum-norm risk (``inf`` at ``c = 1``).
    reg : float
        ``lambda*`` of :func:`rmtrisk.theory.optimal_regularization` (absolute units).
    risk_reg : float
        ``R(lambda*)`` of the ridge (product-regularized) minimizer.
    risk_best_filter : float
        For one signal direction (``r = 1``) the lowest leading-order risk of any spectral
        filter ``W = X Y^T phi(Y Y^T)``, reached by the constant ``phi = kappa*``
        (:func:`rmtrisk.symbolic.gradient_flow.constant_filter`); ``nan`` for ``r > 1``.
    """

    time: float
    risk: float
    risk_converged: float
    reg: float
    risk_reg: float
    risk_best_filter: float = float("nan")

    @property
    def excess(self) -> float:
        """``R(t*) / R(lambda*) - 1``: how much worse early stopping is than ``lambda*``."""
        return self.risk / self.risk_reg - 1.0


def check_one_layer(problem: Problem) -> Problem:
    """``problem`` if it is the one-layer gradient-flow model, else a ``ValueError``.

    Requires no skip connection, ``reg = 0`` (gradient flow on the unregularized loss) and
    every signal direction kept (``k >= r`` and no ``critical_set`` other than all of them).
    """
    problem = Problem.check(problem)
    if problem.skip:
        raise ValueError("problem.skip must be False: the risk over time is derived for the "
                         "one-layer network without skip connection")
    if problem.reg != 0:
        raise ValueError(f"problem.reg must be 0 (gradient flow on the unregularized loss), got "
                         f"{problem.reg}")
    if problem.k < problem.r or (problem.critical_set is not None
                                 and len(problem.critical_set) < problem.r):
        raise ValueError(f"problem must keep every signal direction (k >= r = {problem.r}, "
                         f"critical_set None), got k={problem.k}, "
                         f"critical_set={problem.critical_set}")
    return problem


def risk_over_time(problem: Problem, time: Any, *, throw: bool = False) -> RiskOverTime:
    """Leading-order test risk of the one-layer DAE after gradient flow for ``time``.

    Parameters
    ----------
    problem : Problem
        One-layer model (see :func:`check_one_layer`); its ``c``, noise levels, spectrum,
        test energies and ``d`` are used.
    time : array_like
        Times ``>= 0`` in the loss's units (``1/eta2_train`` is the natural scale).
    throw : bool
        Raise :class:`~rmtrisk.status.SolverError` if a time is not SUCCESS.

    Returns
    -------
    RiskOverTime
    """
    p = check_one_layer(problem)
    t = np.asarray(time, dtype=float)
    g = gradient_flow_grid(p.c, t, p.eta2_train, p.eta2_test, p.sv_array,
                           p.test_energy_array, p.d, throw=throw)
    return RiskOverTime(t.copy(), g.risk, g.bias, g.variance, g.status, g.error)


def _converged_risk(p: Problem) -> float:
    if p.n == p.d:
        return float("inf")
    return float(asymptotic_risk(p, limit=True).risk)


def early_stopping(problem: Problem, bounds: tuple[float, float] | None = None,
                   grid: int = 121) -> EarlyStopping:
    """Risk-minimizing stopping time of gradient flow, compared with the optimal ridge ``lambda*``.

    A log-spaced scan of ``grid`` times over ``bounds`` (default ``(1e-4, 1e6) / eta2_train``)
    refined by bounded scalar minimization in ``log t``
    (:func:`rmtrisk.theory.optimal.log_scan_minimize`); if the converged risk ``R(inf)`` is
    lower still, ``t* = inf``. ``lambda*`` and ``R(lambda*)`` come from
    :func:`rmtrisk.theory.optimal_regularization` on the same problem: both risks are the
    ``d -> infinity`` leading order.

    Parameters
    ----------
    problem : Problem
        One-layer model (:func:`check_one_layer`).
    bounds : (float, float), optional
        Time interval scanned (absolute units), ``0 < low < high < inf``.
    grid : int
        Number of scan points (``>= 3``).

    Returns
    -------
    EarlyStopping
    """
    p = check_one_layer(problem)
    if bounds is None:
        bounds = (1e-4 / p.eta2_train, 1e6 / p.eta2_train)
    lo, hi = (float(x) for x in bounds)
    if not 0 < lo < hi or not np.isfinite(hi):
        raise ValueError(f"bounds must satisfy 0 < low < high < inf, got {bounds}")
    if isinstance(grid, bool) or int(grid) != grid or grid < 3:
        raise ValueError(f"grid must be an integer >= 3, got {grid!r}")

    def values(ts: np.ndarray) -> np.ndarray:
        out = risk_over_time(p, ts)
        return np.where(out.status == int(Status.SUCCESS), out.risk, np.nan)

    try:
        t_star, r_star = log_scan_minimize(values, lo, hi, int(grid))
    except ValueError as exc:
        raise SolverError(Status.MAX_ITERATIONS, f"early stopping scan: {exc}") from None
    r_inf = _converged_risk(p)
    if r_inf <= r_star:
        t_star, r_star = float("inf"), r_inf
    opt = optimal_regularization(p)
    return EarlyStopping(t_star, r_star, r_inf, opt.reg, opt.risk, best_filter_risk(p))


def best_filter_risk(problem: Problem) -> float:
    """Lowest leading-order risk over spectral filters ``W = X Y^T phi(Y Y^T)`` (``r = 1``).

    ``R* = l s (1 + t)/(l t + s (1 + t))`` with ``t = sigma^2 / eta2_train`` and
    ``s = eta2_test / d``, reached by the constant filter ``phi = l/(l t + s (1 + t))`` (in
    noise units); ``nan`` when ``r > 1`` (the optimal filter is then not constant).
    """
    p = check_one_layer(problem)
    if p.r != 1:
        return float("nan")
    t, ell, s = float(p.snr[0]), float(p.test_energy_array[0]), p.eta2_test / p.d
    return ell * s * (1 + t) / (ell * t + s * (1 + t))
