"""Risk of the skip-connection DAE for c > 1 and lambda = 0.

:func:`skip_risk` (the default) evaluates the proportional-bottleneck formula ``k = kappa d``
with the compiled engine (:func:`rmtrisk.engine.skip_grid`: truncated
Marchenko–Pastur moment above the threshold that keeps ``k`` noise directions).
:func:`skip_fixed_k_risk` is its ``kappa -> 0`` limit in closed form, derived below.

For c > 1, ``T H T^T = A A^T``: the bottleneck keeps the top-k left singular vectors ``E_k`` of
the training noise and ``W = -E_k E_k^T A Y^+``. Per signal direction ``(u, v, sigma)`` Woodbury
on ``Y^T Y = A^T A + B C B^T`` (``B = [A^T u, v]``, docs/theory.md §2) gives, with
``t = sigma^2 / eta_trn^2``, ``rho = t / (1 + t)`` and the top noise eigenvalues at the
Marchenko–Pastur edge ``lambda_+ = eta_trn^2 (1 + 1/sqrt(c))^2``:

* signal leakage ``||W u||^2 = (k/d) (1 + (sqrt(c) - 1)^2 t) / (1 + t)^2``,
* ``||W||_F^2 = k [1 + (h - g) sum_i rho_i / d]`` and ``tr W = -k [1 - g sum_i rho_i / d]``,
  with ``h = c / (c - 1)`` and ``g = c (sqrt(c) - 1) / (sqrt(c) + 1)``,

so that ``R = eta_tst^2 (1 - k/d) + sum_i l_i ||W u_i||^2 + eta_tst^2 (k/d^2)(h + g) sum rho_i``.
The finite-size variant uses ``h = d / (d - N - 1)`` (exact inverse-Wishart mean) and
``a = N/d`` exactly. The paper's ``J_sc`` and variance corrections differ: docs/paper.md.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _kernels as K
from ..engine import skip_grid
from ..problem import Problem
from ..status import Status
from .corrections import with_skip_interaction
from .evaluation import TERMS_FINITE_SIZE, TERMS_INTERACTION, TERMS_LIMIT, Evaluation

__all__ = ["evaluate", "skip_fixed_k_risk", "skip_risk"]


def skip_risk(problem: Problem, finite_size: bool = False
              ) -> tuple[float, float, Status, float]:
    """``(bias, variance, status, error)`` of the skip-connection minimizer, c > 1, lambda = 0.

    Bottleneck widths beyond ``N`` keep the whole noise spectrum (``kappa -> 1/c``). With
    ``finite_size`` the resolvent mean ``q = c / ((c - 1) eta^2)`` in ``||W||_F^2`` becomes
    the exact inverse-Wishart mean ``d / ((d - N - 1) eta^2)``.
    """
    kappa = min(problem.k, problem.n) / problem.d
    res = skip_grid(problem.c, kappa, problem.eta2_train, problem.eta2_test, problem.sv_array,
                    problem.test_energy_array, problem.d)
    bias, variance, status = float(res.bias), float(res.variance), Status(int(res.status))
    error = float(res.error)
    if finite_size and status in (Status.SUCCESS, Status.AT_EDGE):
        d, n, e2 = problem.d, problem.n, problem.eta2_train
        if d - n - 1 <= 0:
            return bias, np.inf, Status.AT_INTERPOLATION_THRESHOLD, error
        shift = (d / (d - n - 1) - problem.c / (problem.c - 1)) / e2  # q_finite - q
        D = -(1 / e2 + 1 / problem.sv_array**2)
        variance += problem.eta2_test / d * float(np.sum(-kappa * shift / D))
    return bias, variance, status, error


def skip_fixed_k_risk(problem: Problem, finite_size: bool = False) -> tuple[float, float]:
    """``(bias, variance)`` of the skip-connection minimizer, c > 1, lambda = 0, k fixed.

    Evaluates the proportional-bottleneck expressions of :mod:`rmtrisk.symbolic.skip` (generated
    kernels ``skip_direction_terms`` and ``skip_aggregate``) at the fixed-``k`` moment
    ``T = kappa c / (eta_trn^2 (1 + 1/sqrt(c))^2)`` (kernel ``skip_fixed_k_moment``,
    ``kappa = k/d``). That is identically the closed form of the module docstring
    (:func:`rmtrisk.symbolic.woodbury.skip_identities`, which also derives both by Woodbury).
    With ``finite_size``, ``h = d / (d - N - 1)`` replaces ``c / (c - 1)`` in ``||W||_F^2``.
    """
    d, n, c, e2 = problem.d, problem.n, float(problem.c), float(problem.eta2_train)
    kappa = problem.k / d
    T = K.skip_fixed_k_moment(kappa, c, e2)
    G = F = Tr = 0.0
    for sigma, ell in zip(problem.sv_array, problem.test_energy_array, strict=True):
        gamma, _, frob, _, trace, _ = K.skip_direction_terms(float(sigma), kappa, c, e2, T)
        G, F, Tr = G + float(ell) * gamma, F + frob, Tr + trace
    if finite_size:
        # frob_i = kappa (h - g) rho_i: replace h = c/(c - 1) by the inverse-Wishart mean
        h = d / (d - n - 1) if d - n - 1 > 0 else np.inf
        t = problem.snr
        F += kappa * (h - c / (c - 1)) * float(np.sum(t / (1 + t)))
    _, bias, variance = K.skip_aggregate(G, F, Tr, kappa, float(d), float(problem.eta2_test))
    return float(bias), float(variance)


def evaluate(problem: Problem, finite_size: bool = False, limit: bool = False) -> Evaluation:
    """Regime ``skip``: :func:`skip_risk`, plus (unless ``limit``) the interaction of signal
    directions (:func:`rmtrisk.theory.corrections.skip_interaction_correction`)."""
    if problem.critical_set is not None:
        return Evaluation(math.nan, math.nan, Status.UNSUPPORTED, math.nan,
                          message="skip connection: global minimizer only (critical_set=None)")
    bias, variance, status, error = skip_risk(problem, finite_size)
    if limit or status not in (Status.SUCCESS, Status.AT_EDGE):
        return Evaluation(bias, variance, status, error, finite_size,
                          TERMS_FINITE_SIZE if finite_size else TERMS_LIMIT)
    bias, variance, note = with_skip_interaction(problem, bias, variance)
    if note:
        return Evaluation(bias, variance, Status.ILL_CONDITIONED, error, finite_size,
                          TERMS_LIMIT, note)
    return Evaluation(bias, variance, status, error, finite_size,
                      TERMS_FINITE_SIZE if finite_size else TERMS_INTERACTION)
