"""Interaction (O(1/d)) correction of the no-skip risk: exact identities, covariances, MC."""

from __future__ import annotations

import numpy as np
import pytest

from rmtrisk.montecarlo import monte_carlo_risk
from rmtrisk.problem import Problem
from rmtrisk.sampling import gaussian_noise, haar_frame
from rmtrisk.theory.bottleneck import _leading, bottleneck_risk
from rmtrisk.theory.interaction import (
    fluctuation_weights,
    interaction_correction,
    interaction_moments,
    reduced_statistics,
)
from rmtrisk.training import risk_statistics


def _forms(d: int, n: int, sv: np.ndarray, rng: np.random.Generator):
    """One draw: ``Y, U, V`` and the exact ``2r x 2r`` matrices ``M`` and ``B^T Q^2 B``."""
    r = sv.size
    A = gaussian_noise(d, n, 1.0, rng)
    U, V = haar_frame(d, r, rng), haar_frame(n, r, rng)
    Y = A + (U * sv) @ V.T
    if d > n:
        Q = np.linalg.inv(A.T @ A)
        B = np.hstack([A.T @ U, V])
    else:
        Q = np.linalg.inv(A @ A.T)
        B = np.hstack([A @ V, U])
    cinv = np.block([[-np.eye(r), np.diag(1 / sv)], [np.diag(1 / sv), np.zeros((r, r))]])
    return Y, U, V, cinv + B.T @ Q @ B, B.T @ Q @ Q @ B


@pytest.mark.parametrize("d, n", [(60, 30), (30, 60)])
def test_exact_woodbury_identity(d: int, n: int) -> None:
    rng = np.random.default_rng(7)
    sv = np.array([3.0, 1.5, 0.8])
    r = sv.size
    Y, U, V, M, N2 = _forms(d, n, sv, rng)
    minv = np.linalg.inv(M)
    lhs = sv[:, None] * (V.T @ np.linalg.pinv(Y) @ U)
    block = minv[:r, r:] if d > n else minv[r:, :r]
    np.testing.assert_allclose(lhs, np.eye(r) - block / sv[None, :], atol=1e-10)
    for kept in ([0], [0, 2], [0, 1, 2]):
        stats = risk_statistics(Y, U, sv, V, k=len(kept), skip=False,
                                critical_set=[i + 1 for i in kept])
        bias, frob2 = reduced_statistics(M, N2, sv, np.array(kept), d > n)
        np.testing.assert_allclose(bias, np.diag(stats.test_gram), atol=1e-10)
        assert frob2 == pytest.approx(stats.frob2, rel=1e-10)


@pytest.mark.parametrize("d, n", [(80, 40), (40, 80)])
def test_fluctuation_covariances(d: int, n: int) -> None:
    rng = np.random.default_rng(3)
    sv = np.array([2.0, 1.0])
    r = sv.size
    draws = np.array([_forms(d, n, sv, rng)[3] for _ in range(600)])
    problem = Problem(d, n, sv=sv, k=2)
    a, q, _, _, _ = interaction_moments(problem, finite_size=True)
    w = fluctuation_weights(problem, finite_size=True)[:, 0, 0]
    ka, kc, kq = draws[:, :r, :r], draws[:, :r, r:], draws[:, r:, r:]
    assert ka[:, 0, 0].mean() + 1 == pytest.approx(a, abs=4 * np.sqrt(2 * w[0] / 600))
    assert kq[:, 1, 1].mean() == pytest.approx(q, abs=4 * np.sqrt(2 * w[2] / 600))
    tol = 4 * np.sqrt(2 / 600)  # relative standard error of a sample variance, 4 sigma
    for sample, expected in [(ka[:, 0, 0], 2 * w[0]), (ka[:, 0, 1], w[0]),
                             (kc[:, 0, 0], w[1]), (kc[:, 0, 1], w[1]),
                             (kq[:, 0, 0], 2 * w[2]), (kq[:, 0, 1], w[2])]:
        assert np.var(sample) == pytest.approx(expected, rel=tol)
    # no correlation between the blocks, nor between Kc_ij and Kc_ji
    for x, y, sx, sy in [(ka[:, 0, 1], kq[:, 0, 1], w[0], w[2]),
                         (ka[:, 0, 1], kc[:, 0, 1], w[0], w[1]),
                         (kq[:, 0, 1], kc[:, 0, 1], w[2], w[1]),
                         (kc[:, 0, 1], kc[:, 1, 0], w[1], w[1])]:
        assert abs(np.mean(x * y)) < 4 * np.sqrt(sx * sy / 600)


def test_leading_order_and_vanishing_correction() -> None:
    p = Problem(400, c=2, sv=[2.0, 1.4, 1.0, 0.7], test_energy=[1.0] * 4, k=2)
    small = interaction_correction(p.replace(d=4000, n=2000))[0]
    large = interaction_correction(p)[0]
    assert 0 < small < large
    assert small * 4000 == pytest.approx(large * 400, rel=0.05)  # O(1/d)


@pytest.mark.parametrize("c, k", [(0.5, 8), (2.0, 2)])
def test_correction_closes_monte_carlo_gap(c: float, k: int) -> None:
    p = Problem(200, c=c, sv=[2.0, 1.4, 1.0, 0.7], test_energy=[1.0] * 4, k=k)
    mc = monte_carlo_risk(p, reps=400, seed=11, blas_threads=1)
    bias, _ = _leading(p, finite_size=True)
    corrected, _ = bottleneck_risk(p, finite_size=True)  # leading order + interaction
    delta, _ = interaction_correction(p, finite_size=True)
    assert corrected == pytest.approx(bias + delta, rel=1e-13)
    z_before = (mc.bias - bias) / mc.bias_stderr
    z_after = (mc.bias - corrected) / mc.bias_stderr
    assert z_before > 3
    assert abs(z_after) < 3


def test_rejects_unsupported() -> None:
    p = Problem(100, c=2, sv=[1.0], k=1)
    with pytest.raises(ValueError):
        interaction_correction(p.replace(skip=True))
    with pytest.raises(ValueError):
        interaction_correction(p.replace(reg=0.1))
    with pytest.raises(ValueError):
        interaction_correction(p.replace(n=100))
