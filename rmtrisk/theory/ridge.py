"""Bottleneck DAE without skip connection and with product regularization ``lambda > 0``.

The global minimizer is ``W = Pi_k X S`` with ``S = (Y^T Y + lambda)^{-1} Y^T`` and ``Pi_k`` the
projector on the top-``k`` eigenvectors of ``X H X^T``, ``H = S Y``
(:mod:`rmtrisk.montecarlo.training`).
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
:mod:`rmtrisk.symbolic.ridge` and are evaluated by the generated kernels through
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

import numpy as np
from numpy.typing import ArrayLike

from ..engine import RidgeGridResult, ridge_grid
from ..problem import Problem
from .bottleneck import kept_mask

__all__ = ["ridge_risk", "ridge_scan"]


def _check(problem: Problem) -> None:
    if problem.skip:
        raise ValueError("the ridge regime is the model without skip connection (skip=False)")


def ridge_risk(problem: Problem) -> tuple[float, float]:
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
    res = ridge_scan(problem, problem.reg)
    return float(res.bias), float(res.variance)


def ridge_scan(problem: Problem, reg: ArrayLike) -> RidgeGridResult:
    """:func:`rmtrisk.engine.ridge_grid` of ``problem`` at the regularization(s) ``reg``
    (absolute units), the critical set ``problem.kept`` held fixed."""
    _check(problem)
    return ridge_grid(problem.c, np.asarray(reg, dtype=float), problem.eta2_train,
                      problem.eta2_test, problem.sv_array, problem.test_energy_array, problem.d,
                      kept=kept_mask(problem))
