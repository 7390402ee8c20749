"""Interaction (O(1/d)) correction of the no-skip risk: exact identities, covariances, MC."""

from __future__ import annotations

import numpy as np
import pytest

from rmtrisk.montecarlo import monte_carlo_risk
from rmtrisk.montecarlo.sampling import gaussian_noise, haar_frame
from rmtrisk.montecarlo.training import risk_statistics
from rmtrisk.problem import Problem
from rmtrisk.theory import asymptotic_risk
from rmtrisk.theory.bottleneck import _leading, bottleneck_risk
from rmtrisk.theory.corrections.interaction import (
    _ridge_means,
    fluctuation_weights,
    interaction_correction,
    interaction_moments,
    reduced_statistics,
    ridge_fluctuation_weights,
    ridge_interaction_risk,
    ridge_reduced_statistics,
)
from rmtrisk.theory.ridge import ridge_risk


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


# --- lambda > 0 (regime "ridge"), docs/interaction.md section 6 -------------------

def _ridge_forms(d: int, n: int, sv: np.ndarray, lam: float, rng: np.random.Generator):
    """One draw at ``lambda > 0`` (N side for every c): ``Y, U, V, M, N = B^T Q^2 B``, traces."""
    r = sv.size
    A = gaussian_noise(d, n, 1.0, rng)
    U, V = haar_frame(d, r, rng), haar_frame(n, r, rng)
    Y = A + (U * sv) @ V.T
    Q = np.linalg.inv(A.T @ A + lam * np.eye(n))
    B = np.hstack([A.T @ U, V])
    cinv = np.block([[-np.eye(r), np.diag(1 / sv)], [np.diag(1 / sv), np.zeros((r, r))]])
    traces = [np.trace(A.T @ A @ Q) / d, np.trace(Q) / n]
    return Y, U, V, cinv + B.T @ Q @ B, B.T @ Q @ Q @ B, traces


@pytest.mark.parametrize("d, n", [(60, 30), (30, 60), (40, 40)])
def test_ridge_exact_woodbury_identity(d: int, n: int) -> None:
    rng = np.random.default_rng(17)
    sv, lam = np.array([3.0, 1.5, 0.8]), 0.2
    Y, U, V, M, N2, _ = _ridge_forms(d, n, sv, lam, rng)
    for kept in ([0], [1], [0, 2], [0, 1, 2]):
        stats = risk_statistics(Y, U, sv, V, k=len(kept), skip=False, reg=lam,
                                critical_set=[i + 1 for i in kept])
        bias, frob2 = ridge_reduced_statistics(M, N2, sv, lam, np.array(kept))
        np.testing.assert_allclose(bias, np.diag(stats.test_gram), atol=1e-10)
        assert frob2 == pytest.approx(stats.frob2, rel=1e-10)


@pytest.mark.parametrize("d, n, lam", [(80, 40, 0.3), (40, 80, 0.3), (60, 60, 0.5)])
def test_ridge_fluctuation_covariances(d: int, n: int, lam: float) -> None:
    rng = np.random.default_rng(23)
    sv, reps = np.array([2.0, 1.0]), 800
    r = sv.size
    draws = [_ridge_forms(d, n, sv, lam, rng) for _ in range(reps)]
    K = np.array([x[3] for x in draws])
    N2 = np.array([x[4] for x in draws])
    traces = np.array([x[5] for x in draws])
    p = Problem(d, n=n, sv=sv, k=2, reg=lam)
    # exact means: Marchenko-Pastur + the O(1/N) real-Gaussian correction of the traces
    a, m, _, _ = _ridge_means(p, finite_size=True)
    a0, m0, _, _ = _ridge_means(p, finite_size=False)
    se = traces.std(axis=0) / np.sqrt(reps)
    assert abs(traces[:, 0].mean() - a) < 4 * se[0] < abs(a - a0)
    assert abs(traces[:, 1].mean() - m) < 4 * se[1]
    w = ridge_fluctuation_weights(p)
    tol = 4 * np.sqrt(2 / reps) + 0.06  # sampling (4 sigma) + O(1/d) corrections
    blocks = [(slice(0, r), slice(0, r)), (slice(0, r), slice(r, 2 * r)),
              (slice(r, 2 * r), slice(r, 2 * r))]
    for b, (si, sj) in enumerate(blocks):
        for i, j in [(0, 0), (0, 1)]:
            factor = 2.0 if (i == j and b != 1) else 1.0
            x = np.stack([K[:, si, sj][:, i, j], N2[:, si, sj][:, i, j]])
            emp = np.cov(x)
            np.testing.assert_allclose(emp / (factor * w[b]), 1.0, atol=tol)
    # no correlation between the blocks, nor between Kc_ij and Kc_ji
    for x, y in [(K[:, 0, 1], K[:, r, r + 1]), (K[:, 0, 1], K[:, 0, r + 1]),
                 (K[:, r, r + 1], K[:, 0, r + 1]), (K[:, 0, r + 1], K[:, 1, r])]:
        assert abs(np.corrcoef(x, y)[0, 1]) < 4 / np.sqrt(reps)


@pytest.mark.parametrize("c", [0.5, 2.0])
def test_ridge_correction_lambda_to_zero(c: float) -> None:
    """The lambda > 0 correction tends to the lambda = 0 one linearly in lambda.

    Checked at lambda = 1e-2 and 1e-3: below that the c < 1 variance correction (central
    differences of a map with entries of order 1/lambda) depends on the BLAS's rounding, e.g.
    -2.7e-5 against -1.8e-5 at lambda = 1e-5 with threaded against one-thread OpenBLAS.
    """
    p = Problem(400, c=c, sv=[2.0, 1.4, 1.0, 0.7], test_energy=[1.0] * 4, k=2)
    old_b, old_v = interaction_correction(p)
    gaps = []
    for lam in (1e-2, 1e-3):
        _, _, new_b, new_v = ridge_interaction_risk(p.replace(reg=lam), finite_size=False)
        gaps.append((new_b - old_b, new_v - old_v))
    (b1, v1), (b2, v2) = gaps
    assert b2 == pytest.approx(b1 / 10, rel=0.1)
    assert abs(v2) <= 0.02 * abs(old_v) and abs(v2) < abs(v1)


def test_ridge_leading_order_and_dispatch() -> None:
    p = Problem(300, c=1.0, sv=[2.0, 1.4, 1.0, 0.7], test_energy=[1.0] * 4, k=2, reg=0.05)
    bias, var, db, dv = ridge_interaction_risk(p, finite_size=False)
    lead_b, lead_v = ridge_risk(p)
    assert bias - db == pytest.approx(lead_b, rel=1e-10)
    assert var - dv == pytest.approx(lead_v, rel=1e-8)
    res = asymptotic_risk(p, finite_size=True)
    assert res.finite_size and res.regime == "ridge" and not res.message
    assert (res.bias, res.variance) == pytest.approx(ridge_interaction_risk(p)[:2], rel=1e-12)
    # O(1/d): the correction shrinks like 1/d
    big = ridge_interaction_risk(p.replace(d=3000, n=3000), finite_size=False)[2]
    assert big * 3000 == pytest.approx(db * 300, rel=0.05)


def test_ridge_finite_size_closes_monte_carlo_gap() -> None:
    p = Problem(200, c=1.0, sv=[2.0, 1.4, 1.0, 0.7], test_energy=[1.0] * 4, k=2, reg=0.05)
    mc = monte_carlo_risk(p, reps=300, seed=5, blas_threads=1)
    lead = asymptotic_risk(p, limit=True)
    default = asymptotic_risk(p)  # limit + bias interaction
    fin = asymptotic_risk(p, finite_size=True)
    assert (mc.risk - lead.risk) / mc.stderr > 4
    assert abs(mc.risk - default.risk) / mc.stderr < 3
    assert abs(mc.risk - fin.risk) / mc.stderr < 3


SMALL_C = Problem(d=125, c=0.1522641354342327,
                  energy=[0.04841189089058423, 0.0008617743922337165, 0.0017829069324701123,
                          0.0002475382532155078, 0.0022072767633470876, 0.005740674232104788],
                  test_energy=[2.3577382504105393, 0.0039502156422495036, 0.0013517151844206605,
                               0.09662681528279977, 0.5299033289574646, 0.025590356495436083],
                  eta2_train=12.79632922601812, eta2_test=41.569519442193766, k=9,
                  reg=1.5418627129060854e-05)


@pytest.mark.parametrize("finite_size", [False, True])
def test_small_reg_c_below_one_is_continuous_and_positive(finite_size) -> None:
    """c << 1, large noise, reg -> 0: no cancellation (it gave -8.5 and BLAS-dependent values)."""
    at_zero = asymptotic_risk(SMALL_C.replace(reg=0.0), finite_size=finite_size)
    prev = None
    for reg in (1e-1, 1e-2, 1e-3, 1e-4, 1.5418627129060854e-05, 1e-6, 1e-8):
        res = asymptotic_risk(SMALL_C.replace(reg=reg), finite_size=finite_size)
        assert res.variance > 0 and res.risk > 0
        if prev is not None:  # monotone approach, gap shrinking with reg
            assert abs(res.risk - at_zero.risk) <= abs(prev - at_zero.risk) + 1e-12
        prev = res.risk
    assert abs(prev - at_zero.risk) <= 1e-6 * at_zero.risk
