import math

import numpy as np
import pytest

from rmtrisk import Problem, SolverError, Status
from rmtrisk.montecarlo import monte_carlo_risk
from rmtrisk.theory import asymptotic_risk, optimal_training_snr
from rmtrisk.theory.one_layer import direction_factors
from rmtrisk.theory.optimal import optimal_bottleneck, optimal_training_noise


def one_layer(c, t):
    """Published one-layer per-direction bias and variance factors (Sonthalia & Nadakuditi)."""
    if c < 1:
        return 1 / (1 + c * t) ** 2, c**2 * t * (1 + t) / ((1 - c) * (1 + c * t) ** 2)
    return 1 / (1 + t) ** 2, c / (c - 1) * t / (1 + t)


@pytest.mark.parametrize("c, theta, B, V", [
    (0.5, 1, 4 / 9, 4 / 9), (2, 1, 1 / 4, 1), (1.25, 4, 0.04, 4),
    (0.8, 4, 0.0566893424036, 3.62811791383)])
def test_model_section_5_table(c, theta, B, V):
    d = 100_000
    b, v = direction_factors(np.array([theta]), d, round(d / c))
    assert b[0] == pytest.approx(B, rel=1e-11) and v[0] == pytest.approx(V, rel=1e-11)


def make(c, d=1000, **kw):
    base = dict(sv=[2.0, 1.4, 1.0, 0.7], eta2_train=1.0, eta2_test=0.5, k=8)
    base.update(kw)
    return Problem(d=d, n=round(d / c), **base)


@pytest.mark.parametrize("c", [0.3, 0.5, 1.5, 4.0])
def test_wide_bottleneck_equals_one_layer_sum(c):
    p = make(c)
    got = asymptotic_risk(p, limit=True)
    b, v = one_layer(p.c, p.snr)
    assert got.bias == pytest.approx(np.dot(p.test_energy_array, b), rel=1e-13)
    assert got.variance == pytest.approx(0.5 * v.sum() / p.d, rel=1e-13)
    assert got.regime == "one-layer" and got.status is Status.SUCCESS


def test_bottleneck_drops_directions_outside_the_critical_set():
    p = make(2.0, k=2, critical_set=[1, 3])
    got = asymptotic_risk(p, limit=True)
    b, v = one_layer(p.c, p.snr)
    ell = p.test_energy_array
    assert got.bias == pytest.approx(ell[0] * b[0] + ell[2] * b[2] + ell[1] + ell[3], rel=1e-13)
    assert got.variance == pytest.approx(0.5 * (v[0] + v[2]) / p.d, rel=1e-13)


def test_limits_c_to_infinity_and_sigma_to_zero_and_infinity():
    # c -> infinity: c / (c - 1) -> 1
    p = make(1e6, d=10**9)
    b, v = one_layer(1e6, p.snr)
    t = p.snr
    got = asymptotic_risk(p, limit=True).variance * p.d / 0.5
    assert got == pytest.approx(np.sum(t / (1 + t)), rel=1e-5)
    # sigma -> 0: nothing learned, bias -> sum l_i, variance -> 0
    weak = make(2.0, sv=[1e-6], test_energy=[0.3])
    r = asymptotic_risk(weak, limit=True)
    assert r.bias == pytest.approx(0.3, rel=1e-10) and r.variance < 1e-12
    # sigma -> infinity (c > 1): bias -> 0, variance -> (eta_tst^2 / d) c / (c - 1) per direction
    strong = make(2.0, sv=[1e6], test_energy=[0.3])
    r = asymptotic_risk(strong, limit=True)
    assert r.bias < 1e-20 and r.variance == pytest.approx(0.5 * 2 / 1000, rel=1e-10)


def test_variance_blows_up_like_one_over_distance_to_c_one():
    for side in (+1, -1):
        vals = []
        for eps in (1e-3, 1e-4):
            c = 1 + side * eps
            p = make(c, d=10**8)
            vals.append(asymptotic_risk(p).variance * abs(1 - p.c))
        assert vals[0] == pytest.approx(vals[1], rel=2e-3)


def test_interpolation_threshold_and_unsupported_statuses():
    at_one = make(1.0)
    r = asymptotic_risk(at_one, throw=False)
    assert r.status is Status.AT_INTERPOLATION_THRESHOLD and math.isinf(r.risk)
    with pytest.raises(SolverError, match="AT_INTERPOLATION_THRESHOLD"):
        asymptotic_risk(at_one)
    for p in (make(0.5, reg=0.1, skip=True), make(2.0, reg=0.1, skip=True)):
        r = asymptotic_risk(p, throw=False)
        assert r.status is Status.SUCCESS and r.regime == "skip-ridge"
        # the skip connection at lambda > 0 covers the global minimizer only
        r = asymptotic_risk(p.replace(k=1, critical_set=(2,)), throw=False)
        assert r.status is Status.UNSUPPORTED and math.isnan(r.risk)
    r = asymptotic_risk(make(0.5), variant="paper", throw=False)
    assert r.status is Status.UNSUPPORTED
    fs = asymptotic_risk(Problem(d=20, n=19, sv=[1.0], k=1), finite_size=True, throw=False)
    assert fs.status is Status.AT_INTERPOLATION_THRESHOLD
    with pytest.raises(ValueError, match="variant must be one of"):
        asymptotic_risk(make(2.0), variant="nope")


def test_paper_variant_is_the_published_formula_term_for_term():
    p = make(2.0, k=2, sv=[2.0, 1.0], eta2_train=0.3, test_energy=[0.4, 0.2], eta2_test=0.3)
    s2, e2 = np.array([4.0, 1.0]), 0.3
    # no skip: j_i = eta^2/(sigma^2 + eta^2) on the kept set
    bias = np.dot(e2 / (s2 + e2), [0.4, 0.2])
    var = 0.3 / 1000 * 2 * np.sum(s2 / (s2 + e2))
    got = asymptotic_risk(p, variant="paper")
    assert (got.bias, got.variance) == pytest.approx((bias, var), rel=1e-14)
    # skip: the published formulas with k -> min(k, r + 1) (docs/paper.md §4)
    q = p.replace(skip=True, k=5)
    k, d, c = 3, 1000, 2.0
    frac, mixed = s2 / (s2 + e2), s2 * e2 / (s2 + e2)
    var = 0.3 * k / d * (1 + c / (c - 1) * frac.sum() / d + mixed.sum() / d)
    jsc = (c + (c - 1) * s2) / (c * (1 + e2 * s2) ** 2)
    bias = (0.3 * (1 - 2 * k / d) + k / d * np.dot(jsc, [0.4, 0.2])
            + 2 * 0.3 * k / d**2 * mixed.sum())
    got = asymptotic_risk(q, variant="paper")
    assert (got.bias, got.variance) == pytest.approx((bias, var), rel=1e-14)


def test_paper_and_default_agree_where_the_paper_is_right():
    # with every direction dropped the no-skip bias term is l_i in both
    p = make(2.0, k=1, critical_set=[4], sv=[2.0, 1.4, 1.0, 1e-8])
    a, b = asymptotic_risk(p), asymptotic_risk(p, variant="paper")
    assert a.risk == pytest.approx(b.risk, rel=1e-12)


@pytest.mark.parametrize("c, kappa", [(0.5, 5.0), (2.0, 5.0), (4.0, 2.0), (0.25, 3.0)])
def test_optimal_training_noise_matches_closed_form(c, kappa):
    d = 10**6
    p = Problem(d=d, n=round(d / c), sv=[1.0], test_energy=[kappa / d], eta2_train=1.0,
                eta2_test=1.0, k=1)
    theta = optimal_training_snr(c, kappa)
    found = optimal_training_noise(p, limit=True)
    assert 1 / found.eta2_train == pytest.approx(theta, rel=1e-6)


def test_optimal_training_snr_anchor_and_validation():
    assert optimal_training_snr(0.5, 5.0) == pytest.approx(6.0)
    assert optimal_training_snr(2.0, 0.5) == 0.0
    with pytest.raises(ValueError, match="c must be > 0 and != 1"):
        optimal_training_snr(1.0, 1.0)


def test_optimal_bottleneck_trades_bias_against_variance():
    # spiked spectrum near c = 1: weak directions cost more variance than the bias they remove
    p = make(1.2, d=200, sv=[3.0, 2.0, 0.4, 0.3], k=4)
    best = optimal_bottleneck(p)
    assert 1 < best.k < 4
    ell, eta, d = p.test_energy_array, p.eta2_test, p.d
    b, v = one_layer(p.c, p.snr)
    gain = ell * (1 - b) - eta * v / d  # risk decrease from keeping direction i
    assert best.k == int(np.sum(gain > 0))
    assert best.risk == pytest.approx(best.risks.min()) and best.risks.size == 4


@pytest.mark.parametrize("c, skip, k", [(2.0, False, 2), (0.5, False, 2), (1.5, False, 8),
                                        (0.7, False, 8), (2.0, True, 4), (4.0, True, 2)])
def test_small_d_monte_carlo_agrees_with_each_formula(c, skip, k):
    p = make(c, d=300, skip=skip, k=k)
    th = asymptotic_risk(p)
    mc = monte_carlo_risk(p, reps=30, seed=2)
    assert abs(mc.risk - th.risk) <= 3 * mc.stderr


def test_finite_size_tracks_monte_carlo_better_near_c_one():
    p = Problem(d=250, n=227, sv=[1.5], eta2_train=1.0, eta2_test=1.0, k=1)  # c = 1.10
    mc = monte_carlo_risk(p, reps=200, seed=5, method="dense")  # draws of the reference sampler
    lim = asymptotic_risk(p)
    fs = asymptotic_risk(p, finite_size=True)
    assert abs(mc.variance - fs.variance) <= 3 * mc.variance_stderr
    assert abs(mc.variance - fs.variance) < abs(mc.variance - lim.variance)
