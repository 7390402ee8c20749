"""Risk of the skip-connection DAE with product regularization ``lambda > 0``, both sides of c = 1.

The bottleneck keeps the top-k eigenvectors of ``S = A Y^T (Y Y^T + lambda)^{-1} Y A^T``, a
rank-two perturbation per signal direction of ``phi(A A^T)``, ``phi(x) = x^2/(x + lambda)``,
that does not commute with the resolvent; the kept quantities are contour integrals of the
Woodbury resolvent over the kept part of the spectrum plus the residue of an outlier eigenvalue
when the signal pushes one above the bulk (derivation ``docs/skip_ridge.md``, equations
:mod:`rmtrisk.symbolic.skip_ridge`, engine :mod:`rmtrisk.engine.skip_ridge`). With
``k = kappa d`` and ``psi(x) = x/(x + lambda)``,

    R = sum_i l_i Gamma_i + eta_tst^2 [1 - 2 T_psi + T_psi2 + sum_i (frob_i - 2 trace_i) / d],
    variance = eta_tst^2 (T_psi2 + sum_i frob_i / d),

``T_h = int_{x > theta} h dmu`` over the kept part of the Marchenko–Pastur law of ``A A^T``.
``lambda -> 0`` gives the ``lambda = 0`` formulas on both sides of ``c = 1``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from ..engine import skip_ridge_grid
from ..problem import Problem
from ..status import Status, accepted
from .corrections import with_skip_interaction
from .evaluation import TERMS_FINITE_SIZE, TERMS_INTERACTION, Evaluation

__all__ = ["evaluate", "skip_ridge_risk", "skip_ridge_scan"]


def skip_ridge_risk(problem: Problem) -> tuple[float, float, Status, float]:
    """``(bias, variance, status, error)``: skip-connection global minimizer at ``lambda > 0``.

    Parameters
    ----------
    problem : Problem
        ``skip=True``, ``reg > 0``, global minimizer (``critical_set=None``); any ``c``.
        Bottlenecks wider than ``min(d, N)`` give the same minimizer and are capped there.

    Returns
    -------
    bias, variance : float
        ``variance = (eta_tst^2 / d) ||W||_F^2`` and ``bias = risk - variance`` (``nan`` when
        unsupported).
    status : Status
        The solver's status (SUCCESS, AT_EDGE when the bottleneck keeps the whole noise
        spectrum, MAX_ITERATIONS if the quadrature did not converge, NON_FINITE), or
        UNSUPPORTED outside the regime.
    error : float
        The solver's error estimate of the risk.
    """
    if not problem.skip or problem.reg <= 0 or problem.critical_set is not None:
        return math.nan, math.nan, Status.UNSUPPORTED, math.nan
    kappa = min(problem.k, problem.d, problem.n) / problem.d
    res = skip_ridge_grid(problem.c, kappa, problem.reg, problem.eta2_train, problem.eta2_test,
                          problem.sv_array, problem.test_energy_array, problem.d)
    return float(res.bias), float(res.variance), Status(int(res.status)), float(res.error)


def skip_ridge_scan(problem: Problem, reg: ArrayLike) -> np.ndarray:
    """Skip-connection risk of ``problem`` at the regularization(s) ``reg > 0``.

    One vectorized :func:`rmtrisk.engine.skip_ridge_grid` call with
    ``kappa = min(k, d, N) / d`` (as :func:`skip_ridge_risk`). Cells the status policy accepts
    (:func:`rmtrisk.status.accepted`) and whose variance is not negative keep their value; the
    others are ``nan``.
    """
    kappa = min(problem.k, problem.d, problem.n) / problem.d
    res = skip_ridge_grid(problem.c, kappa, reg, problem.eta2_train, problem.eta2_test,
                          problem.sv_array, problem.test_energy_array, problem.d)
    risk = np.array(res.risk, dtype=float)
    ok = accepted(res.status, risk, res.error) & (np.asarray(res.variance) >= 0)
    return np.where(ok, risk, np.nan)


def evaluate(problem: Problem, finite_size: bool = False, limit: bool = False) -> Evaluation:
    """Regime ``skip-ridge``: :func:`skip_ridge_risk`, plus for ``c >= 1`` (unless ``limit``)
    the interaction of signal directions with the noise kept projector
    (:func:`rmtrisk.theory.corrections.skip_interaction_correction`). No other finite-size
    term is derived: ``finite_size=True`` gives the same value as the default for ``c >= 1``
    and the limit for ``c < 1``. Where the interaction's expansion parameter is too large
    (``c`` close to 1 with small ``reg``) the limit comes back with status ILL_CONDITIONED."""
    bias, variance, status, error = skip_ridge_risk(problem)
    if status is Status.UNSUPPORTED:
        return Evaluation(bias, variance, status, error,
                          message="skip connection with lambda > 0: global minimizer only")
    if limit or problem.c < 1 or status not in (Status.SUCCESS, Status.AT_EDGE):
        return Evaluation(bias, variance, status, error)
    bias, variance, bad = with_skip_interaction(problem, bias, variance)
    if bad:
        return Evaluation(bias, variance, Status.ILL_CONDITIONED, error, message=bad)
    note = ("finite size: the interaction of signal directions only (no other finite-d term "
            "is derived for lambda > 0)" if finite_size else "")
    return Evaluation(bias, variance, status, error, finite_size,
                      TERMS_FINITE_SIZE if finite_size else TERMS_INTERACTION, note)
