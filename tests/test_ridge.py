"""No-skip bottleneck DAE with product regularization lambda > 0 (rmtrisk.theory.ridge)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

from rmtrisk import Problem, asymptotic_risk
from rmtrisk.engine import density, ridge_factors, ridge_moments, stieltjes
from rmtrisk.montecarlo import monte_carlo_risk
from rmtrisk.theory.bottleneck import bottleneck_risk
from rmtrisk.theory.one_layer import direction_factors
from rmtrisk.theory.optimal import optimal_regularization
from rmtrisk.theory.ridge import ridge_risk

SV = [2.0, 1.4, 1.0, 0.7]


def make(c: float, reg: float, k: int, d: int = 1000, **kw) -> Problem:
    base = dict(sv=SV, eta2_train=1.0, eta2_test=1.0)
    base.update(kw)
    return Problem(d=d, n=round(d / c), k=k, reg=reg, **base)


# ---- the resolvent moments ------------------------------------------------------------------

@pytest.mark.parametrize("c", [0.25, 0.5, 1.0, 2.0, 4.0])
@pytest.mark.parametrize("lam", [1e-3, 0.05, 1.0, 30.0])
def test_moments_match_stieltjes_transform(c, lam):
    g, gp = ridge_moments(c, lam)
    res = stieltjes(-lam, 1.0 / c, 1.0)
    m, dm = res.m.real, res.dm.real
    assert g == pytest.approx(1.0 - lam * m, rel=1e-10, abs=1e-13)
    assert gp == pytest.approx(m - lam * dm, rel=1e-8)


@pytest.mark.parametrize("c, lam", [(0.5, 0.05), (2.0, 0.3), (1.0, 1.0)])
def test_moments_match_quadrature_of_the_law(c, lam):
    gamma = 1.0 / c
    a, b = (1 - math.sqrt(gamma)) ** 2, (1 + math.sqrt(gamma)) ** 2

    def integral(f):
        return quad(lambda x: f(x) * float(density(x, gamma)), a, b, limit=200,
                    epsabs=1e-13)[0]

    g, gp = ridge_moments(c, lam)
    assert g == pytest.approx(integral(lambda x: x / (x + lam)), rel=1e-7)
    assert gp == pytest.approx(integral(lambda x: x / (x + lam) ** 2), rel=1e-7)


@pytest.mark.parametrize("c, lam", [(0.5, 0.05), (2.0, 1.0)])
def test_factors_against_direct_large_d_evaluation(c, lam):
    """(1 - u^T W u)^2 and sigma^2 v^T S S^T v of rank-one problems at d = 1000, exactly.

    Averaged over 16 signal directions (u, v) on one noise draw; the quadratic forms fluctuate
    by O(N^{-1/2}) per direction.
    """
    rng = np.random.default_rng(7)
    d = 1000
    n = round(d / c)
    t = 1.5
    A = rng.standard_normal((d, n)) / math.sqrt(d)
    gram = A @ A.T
    gram.flat[:: d + 1] += lam
    bias, var = [], []
    for _ in range(16):
        u = rng.standard_normal(d)
        u /= np.linalg.norm(u)
        v = rng.standard_normal(n)
        v /= np.linalg.norm(v)
        yv = A @ v + math.sqrt(t) * u                # Y v, Y = A + sqrt(t) u v^T
        av = A @ v
        K = gram + math.sqrt(t) * (np.outer(av, u) + np.outer(u, av)) + t * np.outer(u, u)
        sol = np.linalg.solve(K, np.column_stack([u, yv]))
        uWu = math.sqrt(t) * yv @ sol[:, 0]          # sigma v^T S u, S = Y^T K^{-1}
        bias.append((1 - uWu) ** 2)
        var.append(t * sol[:, 1] @ sol[:, 1])       # sigma^2 ||S^T v||^2, S^T v = K^{-1} Y v
    b, vf = ridge_factors(t, c, lam)
    # 3 standard errors over the 16 directions (the shared noise draw adds O(1/sqrt(dN)) only)
    for vals, ref in ((bias, b), (var, vf)):
        se = np.std(vals, ddof=1) / math.sqrt(len(vals))
        assert abs(np.mean(vals) - float(ref)) <= 3 * se


# ---- limits -------------------------------------------------------------------------------

@pytest.mark.parametrize("c", [0.3, 0.5, 0.8, 1.25, 2.0, 4.0])
def test_small_lambda_is_minimum_norm(c):
    t = np.array([4.0, 1.96, 1.0, 0.49])
    d = 100_000
    b0, v0 = direction_factors(t, d, round(d / c))
    for lam, tol in [(0.0, 1e-12), (1e-9, 1e-6)]:
        b, v = ridge_factors(t, d / round(d / c), lam)
        np.testing.assert_allclose(b, b0, rtol=tol)
        np.testing.assert_allclose(v, v0, rtol=tol)


@pytest.mark.parametrize("c", [0.5, 2.0])
@pytest.mark.parametrize("k", [2, 4])
def test_zero_reg_problem_equals_bottleneck_risk(c, k):
    p = make(c, 0.0, k)
    np.testing.assert_allclose(ridge_risk(p), bottleneck_risk(p), rtol=1e-12)


@pytest.mark.parametrize("c", [0.5, 1.0, 2.0])
def test_wide_bottleneck_is_one_layer_ridge(c):
    p = make(c, 0.3, 8)
    b, v = ridge_factors(p.snr, p.c, 0.3)
    bias, var = ridge_risk(p)
    assert bias == pytest.approx(float(p.test_energy_array @ b), rel=1e-14)
    assert var == pytest.approx(float(np.sum(v)) / p.d, rel=1e-14)
    assert ridge_risk(p.replace(k=4)) == ridge_risk(p)


@pytest.mark.parametrize("c", [0.5, 1.0, 2.0])
def test_large_lambda_kills_the_weight(c):
    p = make(c, 1e9, 4, test_energy=[1.0, 0.5, 0.2, 0.1])
    bias, var = ridge_risk(p)
    assert bias == pytest.approx(1.8, rel=1e-7)
    assert var < 1e-15


def test_scale_invariance():
    p = make(2.0, 0.3, 3)
    q = p.replace(sv=list(np.array(SV) * 2.0), eta2_train=4.0, reg=1.2,
                  test_energy=list(p.test_energy_array))
    np.testing.assert_allclose(ridge_risk(q), ridge_risk(p), rtol=1e-13)


def test_finite_at_interpolation_threshold():
    for lam in [1e-4, 0.01, 1.0]:
        bias, var = ridge_risk(make(1.0, lam, 4))
        assert math.isfinite(bias) and math.isfinite(var)
    assert ridge_risk(make(1.0, 0.0, 4))[1] == math.inf
    # the variance grows like lam^{-1/2} at c = 1
    v1 = ridge_risk(make(1.0, 1e-6, 4))[1]
    v2 = ridge_risk(make(1.0, 1e-8, 4))[1]
    assert v2 / v1 == pytest.approx(10.0, rel=1e-3)


def test_skip_rejected():
    with pytest.raises(ValueError, match="skip"):
        ridge_risk(make(2.0, 0.1, 2, skip=True))


# ---- optimal lambda -------------------------------------------------------------------------

def test_optimal_regularization_is_a_minimum():
    p = make(0.5, 0.0, 3)
    lam, risk = optimal_regularization(p)
    assert 0.1 < lam < 10
    assert risk == pytest.approx(sum(ridge_risk(p.replace(reg=lam))), rel=1e-12)
    for f in (0.8, 1.25):
        assert sum(ridge_risk(p.replace(reg=lam * f))) > risk


@pytest.mark.parametrize("t", [0.49, 1.0, 4.0])
def test_single_direction_threshold_for_positive_lambda(t):
    cstar = ((1 + 3 * t) + math.sqrt((1 + 3 * t) ** 2 + 4 * t**3)) / (2 * t)
    lo = 1e-8
    below = Problem(d=100_000, c=0.95 * cstar, sv=[math.sqrt(t)], k=1)
    above = Problem(d=100_000, c=1.05 * cstar, sv=[math.sqrt(t)], k=1)
    assert optimal_regularization(below, bounds=(lo, 1e3)).reg > 100 * lo
    assert optimal_regularization(above, bounds=(lo, 1e3)).reg == pytest.approx(lo, rel=1e-3)


def test_optimal_risk_smooth_through_c_one():
    risks = [optimal_regularization(make(c, 0.0, 4)).risk for c in (0.9, 1.0, 1.1)]
    assert all(math.isfinite(r) for r in risks)
    assert risks[0] < risks[1] < risks[2]


# ---- Monte Carlo ----------------------------------------------------------------------------
# In-distribution test energy (l_i = sigma_i^2 / N), d = 400 (40 draws for c < 1, 200 for the
# cheaper c > 1), against the default prediction (leading order plus the O(r/d) interaction).
# The leading order alone (ridge_risk) is not enough at c = 2, lam = 0.05: with 1000 draws the
# Monte Carlo bias exceeds it by 3-6.5 standard errors with both samplers (dense and Gram),
# while the default agrees within 2.6; at 200 draws that gap is about 2 standard errors.

@pytest.mark.parametrize("c", [0.5, 2.0])
@pytest.mark.parametrize("lam", [0.05, 1.0])
@pytest.mark.parametrize("k", [2, 8])
def test_monte_carlo(c, lam, k):
    p = make(c, lam, k, d=400)
    th = asymptotic_risk(p)
    bias, var = th.bias, th.variance
    mc = monte_carlo_risk(p, reps=40 if c < 1 else 200, seed=11, blas_threads=1)
    assert abs(mc.risk - (bias + var)) < 3 * mc.stderr
    assert abs(mc.bias - bias) < 3 * mc.bias_stderr
    assert abs(mc.variance - var) < 3 * mc.variance_stderr


@pytest.mark.parametrize("lam", [0.05, 1.0])
def test_monte_carlo_at_c_one(lam):
    p = make(1.0, lam, 3, d=400)
    bias, var = ridge_risk(p)
    mc = monte_carlo_risk(p, reps=40, seed=12, blas_threads=1)
    assert math.isfinite(mc.risk)
    assert abs(mc.risk - (bias + var)) < 3 * mc.stderr
