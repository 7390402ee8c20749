"""O(1/d) fluctuation correction of the skip-connection bias, c < 1 (theory/corrections)."""

from __future__ import annotations

import numpy as np
import pytest

from rmtrisk import Problem
from rmtrisk.engine import stieltjes
from rmtrisk.montecarlo import monte_carlo_risk
from rmtrisk.theory import asymptotic_risk
from rmtrisk.theory.corrections.skip_fluctuation import (
    skip_fluctuation_components,
    skip_fluctuation_correction,
)
from rmtrisk.theory.skip_under import skip_under_risk, skip_under_signal_terms

SV = [2.0, 1.4, 1.0, 0.7]


def make(d: int, c: float, kappa: float = 0.3, **kw) -> Problem:
    base = dict(sv=SV, test_energy=[1.0] * 4, kappa=kappa, skip=True, eta2_train=1.0,
                eta2_test=1.0)
    base.update(kw)
    return Problem(d=d, n=round(d / c), **base)


def test_resolvent_branch():
    """The resolvent the correction uses (the engine's Stieltjes transform, law of A A^T)."""
    c = 0.8
    res = stieltjes(np.array([-1e-6 + 0j]), c, 1.0 / c)
    m0, mp0 = res.m, res.dm
    assert m0[0].real == pytest.approx(c / (1 - c), rel=1e-4)
    assert mp0[0].real == pytest.approx(c * c / (1 - c) ** 3, rel=1e-3)
    z = np.array([-0.5 + 0j, 2.0 + 1e-14j, 1.0 + 0.5j])
    m = stieltjes(z, c, 1.0 / c).m
    assert np.allclose(z * m * m - ((1 - c) / c - z) * m + 1, 0, atol=1e-10)
    assert m[0].real > 0 and m[1].imag > 0 and m[2].imag > 0


@pytest.mark.parametrize("c,kappa", [(0.5, 0.1), (0.8, 0.3)])
def test_base_is_leading_order(c, kappa):
    p = make(400, c, kappa)
    gamma, _, _ = skip_under_signal_terms(p.c, p.k / p.d, p.snr)
    assert skip_fluctuation_components(p)["base"] == pytest.approx(float(np.sum(gamma)),
                                                                    rel=1e-10)


def test_order_one_over_d_and_scale_free():
    small, large = make(200, 0.8), make(800, 0.8)
    # O(1/d) up to the exact E Kq = d/(N - d - 1) in the mean shift
    assert 200 * skip_fluctuation_correction(small) == pytest.approx(
        800 * skip_fluctuation_correction(large), rel=2e-2)
    scaled = make(200, 0.8, sv=[2 * s for s in SV], eta2_train=4.0)
    assert skip_fluctuation_correction(scaled) == pytest.approx(
        skip_fluctuation_correction(small), rel=1e-6)
    coarse = skip_fluctuation_correction(small, nodes=150)
    assert coarse == pytest.approx(skip_fluctuation_correction(small), rel=1e-6)
    assert skip_fluctuation_correction(make(200, 0.8, kappa=1.0)) == 0.0


def test_asymptotic_risk_finite_size_adds_the_bias_correction():
    p = make(200, 0.8)
    lim = asymptotic_risk(p)
    fs = asymptotic_risk(p, finite_size=True)
    assert fs.finite_size and fs.message == ""
    assert fs.variance == lim.variance
    assert fs.bias - lim.bias == pytest.approx(skip_fluctuation_correction(p), rel=1e-12)
    b, v, _ = skip_under_risk(p)
    assert (b, v) == (lim.bias, lim.variance)


def test_mean_shift_matches_exact_inverse_moment():
    from rmtrisk.theory.corrections.skip_fluctuation import real_gaussian_mean_shift

    c, d = 0.8, 400
    n = round(d / c)
    mu1 = real_gaussian_mean_shift(np.array([-1e-9 + 0j]), c)[0].real
    assert mu1 == pytest.approx(c * c / (1 - c) ** 2, rel=1e-6)
    assert c / (1 - c) + mu1 / d == pytest.approx(d / (n - d - 1), rel=5e-3)


def test_small_bottleneck_and_outside_regime():
    p = make(500, 0.8, kappa=None, k=2)
    assert 0.0 < 500 * skip_fluctuation_correction(p) < 1.0
    with pytest.raises(ValueError):
        skip_fluctuation_correction(Problem(d=200, n=100, sv=SV, kappa=0.3, skip=True))


def test_monte_carlo_c08():
    p = make(120, 0.8)
    mc = monte_carlo_risk(p, reps=600, seed=11, blas_threads=1)
    lim = asymptotic_risk(p).bias
    fs = asymptotic_risk(p, finite_size=True).bias
    assert abs(mc.bias - fs) <= 3 * mc.bias_stderr
    assert abs(mc.bias - fs) < abs(mc.bias - lim)


def test_subsystems_reproduce_the_full_system():
    """The second-order terms (Ka, Kc, Kq) on 1- and 2-direction subsystems equal the central
    differences on the whole r x r system (the means are block diagonal per direction)."""
    from rmtrisk.theory.corrections import skip_fluctuation as sf

    p = make(300, 0.7, sv=[2.0, 1.5, 1.1, 0.6], test_energy=[1.0, 0.3, 2.0, 0.0])
    comp = skip_fluctuation_components(p)
    c, d, n, r = p.d / p.n, p.d, p.n, p.r
    sv, ell = p.sv_array, p.test_energy_array
    grid = sf._kept_grid(c, p.k / d, sf._NODES)
    q, q2 = c / (1 - c), c * c / (1 - c) ** 3
    c00 = (q2 - q * q) / d
    m, x = grid["m"], grid["x"]
    rho = (((m - q) / x - m * q) / d) / c00
    k0 = [c * np.eye(r), np.zeros((r, r)), q * np.eye(r)]
    base = sf._signal_map(*k0, sv, ell, grid, q, rho)[0]
    variances = {"Ka": c * (1 - c) / n, "Kc": q / n, "Kq": c00}
    for name, blk in (("Ka", 0), ("Kc", 1), ("Kq", 2)):
        total = 0.0
        for i in range(r):
            for j in range(r):
                if blk != 1 and j < i:
                    continue
                var = variances[name] * (2.0 if blk != 1 and i == j else 1.0)
                step = sf._REL_STEP * np.sqrt(var)
                vals = []
                for sign in (1.0, -1.0):
                    ks = [k.copy() for k in k0]
                    ks[blk][i, j] += sign * step
                    if blk != 1 and i != j:
                        ks[blk][j, i] += sign * step
                    vals.append(sf._signal_map(*ks, sv, ell, grid, q, rho)[0])
                total += 0.5 * var * (vals[0] + vals[1] - 2 * base) / step**2
        assert comp[name] == pytest.approx(total, rel=1e-5), name
