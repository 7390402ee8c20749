"""Skip-connection DAE on the underparameterized side c < 1, lambda = 0 (theory/skip_under.py)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

from rmtrisk import Problem, Status
from rmtrisk.engine import skip_under_kept_overlaps, stieltjes, threshold
from rmtrisk.montecarlo import monte_carlo_risk
from rmtrisk.theory.skip_under import (
    skip_under_fixed_k_risk,
    skip_under_risk,
    skip_under_signal_terms,
)

SV = [2.0, 1.4, 1.0, 0.7]


def make(c: float, d: int = 1000, sv=SV, **kw) -> Problem:
    base = dict(eta2_train=1.0, eta2_test=1.0, skip=True)
    base.update(kw)
    if "k" not in base and "kappa" not in base:
        base["kappa"] = 0.3
    return Problem(d=d, n=round(d / c), sv=sv, **base)


# ---- closed forms -----------------------------------------------------------------------------

@pytest.mark.parametrize("c", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("kappa", [1e-3, 0.2, 0.8])
def test_overlaps_match_quadrature(c, kappa):
    theta = float(threshold(c, kappa, 1.0 / c).threshold)
    sc = np.sqrt(c)
    a, b = (1 - sc) ** 2 / c, (1 + sc) ** 2 / c
    t = np.array([0.05, 1.0, 1 / sc, 9.0])
    pi0, pi1 = skip_under_kept_overlaps(c, kappa, t, theta)
    for ti, p0, p1 in zip(t, pi0, pi1, strict=True):
        delta = ti * (1 - c) / (1 + c * ti)
        x0 = delta * ((1 - c) / c - delta) / (1 + delta)

        def weight(x, p, delta=delta, x0=x0):  # density / |1 - delta m(x)|^2 / x^p
            return np.sqrt((b - x) * (x - a)) / (2 * np.pi * (1 + delta) * (x - x0) * x**p)

        q0 = quad(weight, theta, b, args=(0,), epsabs=0, epsrel=1e-12, limit=200)[0]
        q1 = quad(weight, theta, b, args=(1,), epsabs=0, epsrel=1e-12, limit=200)[0]
        assert p0 == pytest.approx(q0, rel=1e-9) and p1 == pytest.approx(q1, rel=1e-9)


def test_pole_weight_is_the_stieltjes_form():
    """``1/|1 - delta m(x + i0)|^2 = x / ((1 + delta)(x - x0))`` on the support."""
    c, t = 0.4, 2.5
    delta = t * (1 - c) / (1 + c * t)
    x0 = t * (1 - c) ** 2 / (c * (1 + c * t) * (1 + t))
    x = np.linspace(1.0, 3.5, 7)  # inside (a, b) = (0.34, 5.66)
    m = stieltjes(x + 0j, c, 1.0 / c).m
    assert np.allclose(1 / np.abs(1 - delta * m) ** 2, x / ((1 + delta) * (x - x0)), rtol=1e-10)


def test_no_signal_limit_is_exact():
    """Without signal W = -E_k E_k^T: R = eta_t^2 (1 - k/d) + (k/d) sum l_i."""
    for c in (0.2, 0.5, 0.9):
        for kw in (dict(kappa=0.05), dict(kappa=0.5), dict(k=3)):
            p = make(c, sv=[1e-7, 1e-8], test_energy=[0.7, 1.3], eta2_test=0.6, **kw)
            bias, var, st = skip_under_risk(p)
            assert st is Status.SUCCESS
            assert var == pytest.approx(0.6 * p.kappa, rel=1e-10)
            assert bias + var == pytest.approx(0.6 * (1 - p.kappa) + 2.0 * p.kappa, rel=1e-10)


def test_no_signal_monte_carlo():
    p = make(0.5, d=60, sv=[1e-9], test_energy=[1.0], k=7)
    mc = monte_carlo_risk(p, reps=20, seed=3, blas_threads=1)
    bias, var, _ = skip_under_risk(p)
    assert mc.variance == pytest.approx(var, rel=1e-12)
    assert abs(mc.bias - bias) <= 3 * mc.bias_stderr + 1e-12


@pytest.mark.parametrize("c", [0.1, 0.5, 0.95])
def test_kappa_to_zero_is_the_fixed_k_form(c):
    t = np.array([0.2, 1.0, 4.0, 50.0])
    sc = np.sqrt(c)
    gamma_fixed = 1 / (1 + sc * t) ** 2
    tr_fixed = c * t * (1 - sc) / ((1 + sc) * (1 + sc * t) ** 2)
    errs = []
    for kappa in (1e-3, 1e-5, 1e-7):
        g, tr, _ = skip_under_signal_terms(c, kappa, t)
        errs.append(np.max(np.abs(g / kappa / gamma_fixed - 1)))
        assert tr / kappa == pytest.approx(tr_fixed, rel=20 * kappa ** (2 / 3))
    assert errs[0] > errs[1] > errs[2] and errs[2] < 1e-4
    # the risk functions: same problem at a tiny kappa
    p = make(c, d=10**9, k=2, test_energy=[1.0, 0.5, 2.0, 1.0])
    b0, v0 = skip_under_fixed_k_risk(p)
    b1, v1, _ = skip_under_risk(p)
    scale = p.kappa
    assert (b1 - (1 - 2 * p.kappa)) / scale == pytest.approx((b0 - (1 - 2 * p.kappa)) / scale,
                                                              rel=1e-4)
    assert (v1 * p.d - p.k) == pytest.approx(v0 * p.d - p.k, rel=1e-4)


@pytest.mark.parametrize("c", [0.25, 0.8])
def test_full_width_is_the_one_layer_denoiser(c):
    """k = d: W = X Y^+ - I, so f(y) = X Y^+ y (the one-layer minimum-norm denoiser)."""
    p = make(c, d=400, k=400, test_energy=[1.0, 0.3, 0.2, 0.1])
    bias, var, st = skip_under_risk(p)
    t = p.snr
    b = 1 / (1 + p.c * t) ** 2
    v = p.c**2 * t * (1 + t) / ((1 - p.c) * (1 + p.c * t) ** 2)
    assert st is Status.SUCCESS
    assert bias + var == pytest.approx(np.dot(p.test_energy_array, b) + v.sum() / p.d, rel=1e-12)


def test_continuous_in_kappa_below_full_width():
    c, t = 0.5, np.array([0.5, 4.0])
    vals = [skip_under_signal_terms(c, kap, t) for kap in (0.3 - 1e-9, 0.3 + 1e-9)]
    for x, y in zip(*vals, strict=True):
        assert np.allclose(x, y, rtol=1e-7)


def test_statuses():
    assert skip_under_risk(make(2.0))[2] is Status.UNSUPPORTED
    assert skip_under_risk(make(0.5, reg=0.1))[2] is Status.UNSUPPORTED
    assert skip_under_risk(make(0.5, skip=False))[2] is Status.UNSUPPORTED
    b, v, st = skip_under_risk(make(1.0))
    assert st is Status.AT_INTERPOLATION_THRESHOLD and np.isinf(b) and np.isinf(v)
    assert skip_under_risk(make(0.5))[2] is Status.SUCCESS
    with pytest.raises(ValueError):
        skip_under_fixed_k_risk(make(2.0))


# ---- Monte Carlo --------------------------------------------------------------------------------
# Cells within 3 standard errors at d = 120. The proportional cells at c = 0.8 carry an O(1/d)
# finite-size excess that is not derived yet (fluctuations of b^T u and cross-direction
# leakage, docs/skip_under.md): they are not checked against the leading order here; the slow
# test below shows that their gap is real and that d x gap stays constant.

BOTTLENECKS = [dict(kappa=0.1), dict(kappa=0.3), dict(k=2)]
CELLS = [(c, b) for c in (0.25, 0.5, 0.8) for b in BOTTLENECKS if c < 0.8 or "k" in b]


@pytest.mark.parametrize("c, bottleneck", CELLS)
@pytest.mark.parametrize("strong", [False, True], ids=["in-dist", "l=1"])
def test_monte_carlo(c, bottleneck, strong):
    d = 120
    p = make(c, d=d, test_energy=[1.0] * 4 if strong else None, **bottleneck)
    mc = monte_carlo_risk(p, reps=100, seed=11, blas_threads=1, method="dense")
    bias, var, st = skip_under_risk(p)
    assert st is Status.SUCCESS
    assert abs(mc.bias - bias) <= 3 * mc.bias_stderr
    assert abs(mc.variance - var) <= 3 * mc.variance_stderr


@pytest.mark.slow
def test_c08_gap_is_order_one_over_d():
    """At c = 0.8, kappa = 0.3, l_i = 1 the excess of the bias scales like 1/d."""
    scaled = []
    for d, reps in ((200, 400), (800, 100)):
        p = make(0.8, d=d, kappa=0.3, test_energy=[1.0] * 4)
        mc = monte_carlo_risk(p, reps=reps, seed=5, blas_threads=1)
        bias, _, _ = skip_under_risk(p)
        scaled.append((d * (mc.bias - bias), d * mc.bias_stderr))
    (g1, s1), (g2, s2) = scaled
    assert g1 > 3 * s1                                   # a real gap at d = 200 ...
    assert abs(g1 - g2) <= 3 * np.hypot(s1, s2)          # ... with a constant d x gap
