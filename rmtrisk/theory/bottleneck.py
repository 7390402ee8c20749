"""Risk of the bottleneck DAE without skip connection (lambda = 0, any c != 1, any critical set).

Without skip, ``M M^T = X H X^T`` lives on ``span(U)``. For ``c > 1`` (``H = I``) its
eigenvectors are exactly the signal directions; for ``c < 1`` they are so to leading order (the
spectrum is ``sigma_i^2 v_i^T Y^+ Y v_i``, increasing in ``sigma_i``). Hence the critical point
``I`` keeps the rank-one pieces ``i in I`` of the minimum-norm denoiser ``X Y^+`` and drops the
others, and directions decouple at leading order:

    R = sum_{i in I} (l_i b_i + eta_tst^2 v_i / d) + sum_{i not in I} l_i,

with the one-layer factors ``b_i, v_i`` of :func:`rmtrisk.theory.one_layer.direction_factors`.
``k >= r`` (I = all) is the one-layer model. The paper's own formula (``variant="paper"``)
uses ``b_i = 1 / (1 + t_i)`` instead of ``1 / (1 + t_i)^2`` for ``c > 1``; see docs/paper.md.
"""

from __future__ import annotations

import numpy as np

from ..problem import Problem
from .corrections.interaction import interaction_correction
from .one_layer import direction_factors

__all__ = ["bottleneck_risk", "kept_mask"]


def kept_mask(problem: Problem) -> np.ndarray:
    """Boolean mask over the ``r`` signal directions kept by the critical point."""
    mask = np.zeros(problem.r, dtype=bool)
    mask[np.asarray(problem.kept, dtype=int) - 1] = True
    return mask


def _leading(problem: Problem, finite_size: bool) -> tuple[float, float]:
    b, v = direction_factors(problem.snr, problem.d, problem.n, finite_size)
    kept = kept_mask(problem)
    ell = problem.test_energy_array
    bias = float(np.sum(np.where(kept, ell * b, ell)))
    variance = float(problem.eta2_test * np.sum(v[kept]) / problem.d)
    return bias, variance


def bottleneck_risk(problem: Problem, finite_size: bool = False) -> tuple[float, float]:
    """``(bias, variance)`` of the no-skip critical point at lambda = 0 (c != 1).

    With ``finite_size`` the exact finite-``d`` resolvent moments are used and the ``O(1/d)``
    interaction of signal directions (:mod:`rmtrisk.theory.corrections.interaction`) is added
    to the bias on both sides of ``c = 1`` and to the variance for ``c > 1``. For ``c < 1`` the
    variance stays at its ``d -> infinity`` limit: neither the inverse-Wishart substitution nor the
    second-order fluctuation expansion tracks Monte Carlo there (docs/interaction.md).
    """
    bias, variance = _leading(problem, finite_size)
    if not finite_size or not np.isfinite(bias + variance):
        return bias, variance
    d_bias, d_variance = interaction_correction(problem, finite_size=True)
    if problem.c > 1:
        return bias + d_bias, variance + d_variance
    return bias + d_bias, _leading(problem, False)[1]
