"""Grid solver: vectorization, statuses, validation, scipy and mpmath cross-checks."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from scipy import integrate

from rmtrisk import _kernels as K
from rmtrisk.engine import (
    density,
    skip_grid,
    skip_reference,
    stieltjes,
    stieltjes_reference,
    tail_mass,
    threshold,
    threshold_reference,
    truncated_moment,
    truncated_moment_reference,
)
from rmtrisk.status import SolverError, Status

SV = np.array([3.0, 1.5, 0.7, 0.2])
ELL = np.array([0.5, 0.2, 0.1, 0.05])
D = 500


def _edges(g, s):
    return s * (1 - np.sqrt(g)) ** 2, s * (1 + np.sqrt(g)) ** 2


# ---------------------------------------------------------------------------------------------
# Marchenko–Pastur utilities
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("g", "s"), [(0.25, 1.0), (0.9, 2.0), (3.0, 0.5)])
@pytest.mark.parametrize("p", [-2, -1, 0, 1, 2])
def test_truncated_moment_vs_scipy_quad(p, g, s):
    a, b = _edges(g, s)
    ts = a + (b - a) * np.array([0.0, 0.05, 0.4, 0.8, 0.97])
    got = truncated_moment(p, ts, g, s)
    for t, v in zip(ts, got, strict=True):
        ref = integrate.quad(lambda x: x**p * density(x, g, s)[()], t, b, epsabs=0,
                             epsrel=1e-13, limit=200)[0]
        assert v == pytest.approx(ref, rel=1e-9, abs=1e-14)


def test_density_integrates_to_continuous_mass():
    for g in (0.3, 2.0):
        a, b = _edges(g, 1.0)
        mass = integrate.quad(lambda x, g=g: density(x, g)[()], a, b, epsabs=0, epsrel=1e-12)[0]
        assert mass == pytest.approx(min(1.0, 1.0 / g), rel=1e-9)


def test_moments_outside_support_and_atom():
    g = 2.0
    a, b = _edges(g, 1.0)
    assert truncated_moment(0, b + 1, g) == 0.0
    assert truncated_moment(0, 0.5 * a, g) == pytest.approx(0.5)
    assert truncated_moment(0, -1.0, g) == pytest.approx(1.0)
    assert np.isinf(truncated_moment(-1, -1.0, g))
    assert truncated_moment(-1, 0.0, 0.5) == pytest.approx(1 / (1 - 0.5))
    assert truncated_moment(-2, 0.0, 0.5) == pytest.approx(1 / (1 - 0.5) ** 3)


@pytest.mark.parametrize("g", [0.1, 0.5, 0.999, 1.0, 4.0])
def test_threshold_round_trip(g):
    cm = min(1.0, 1.0 / g)
    mass = cm * np.array([1e-6, 1e-4, 0.01, 0.3, 0.5, 0.9, 0.999])
    res = threshold(g, mass, 1.7, throw=True)
    back = tail_mass(res.threshold, g, 1.7)
    # the closed form of F cancels near the upper edge: compare at its rounding level
    noise = np.array([K.mp_moment_scale_0(t, g, 1 - g, 1.7) for t in res.threshold])
    assert np.all(np.abs(back - mass) <= 8 * np.finfo(float).eps * noise + 1e-15 * mass)
    assert np.all(np.abs(back - mass) <= 1e-10 * mass)
    assert np.all(res.error < 1e-10 * np.maximum(res.threshold, 1e-3))


def test_threshold_edges_and_mpmath():
    res = threshold(0.5, [0.0, 1.0], 2.0)
    a, b = _edges(0.5, 2.0)
    np.testing.assert_allclose(res.threshold, [b, a])
    assert list(res.status) == [Status.AT_EDGE, Status.AT_EDGE]
    assert threshold(4.0, 0.6).threshold == 0.0  # above the continuous mass 1/4: the atom
    for g, q in ((0.5, 0.3), (2.0, 0.01), (0.9, 0.95)):
        ref = threshold_reference(g, q, 1.3, dps=40)
        got = threshold(g, q, 1.3).threshold[()]
        assert ref.status is Status.SUCCESS
        assert abs(got - float(ref.threshold)) <= 1e-14 * float(ref.threshold)


def test_moment_mp_matches_float():
    for p in (-2, -1, 0, 1, 2):
        ref = truncated_moment_reference(p, 1.0, 0.5, 1.0, dps=40)
        assert truncated_moment(p, 1.0, 0.5)[()] == pytest.approx(float(ref), rel=1e-14)


def test_stieltjes_vectorized_and_statuses():
    z = np.array([-1.0, 1j, 2 + 0.5j, 1.0, 0.0])
    g = np.array([0.5, 2.0, 0.5, 0.5, 2.0])
    res = stieltjes(z, g)
    assert res.m[0].real == pytest.approx((np.sqrt(17) - 3) / 2, rel=1e-15)
    assert list(res.status) == [Status.SUCCESS, Status.SUCCESS, Status.SUCCESS,
                                Status.AT_EDGE, Status.NON_FINITE]
    for i in range(3):
        assert complex(stieltjes_reference(complex(z[i]), g[i], dps=30)) == pytest.approx(res.m[i],
                                                                                  rel=1e-14)
        assert stieltjes(z[i], g[i]).m[()] == res.m[i]


def test_stieltjes_newton_branch_check():
    phys = stieltjes(-1.0, 0.5, m0=0.3)
    assert phys.status[()] == Status.SUCCESS
    assert phys.m[()].real == pytest.approx((np.sqrt(17) - 3) / 2, rel=1e-14)
    other = stieltjes([-1.0, 0.5 + 1j], [0.5, 0.5], m0=[-3.0, -1.0 - 1j])
    assert np.all(other.status == Status.WRONG_BRANCH)
    with pytest.raises(SolverError, match="WRONG_BRANCH"):
        stieltjes(-1.0, 0.5, m0=-3.0, throw=True)
    assert stieltjes(-1.0 + 1j, 0.5, m0=0.1, maxiter=1).status[()] == Status.MAX_ITERATIONS


# ---------------------------------------------------------------------------------------------
# proportional skip-connection risk
# ---------------------------------------------------------------------------------------------
def test_vectorized_equals_scalar_and_broadcast_shape():
    c = np.array([[1.2], [2.0], [6.0]])
    kappa = np.array([0.01, 0.1, 0.16])
    res = skip_grid(c, kappa, 0.8, 0.3, SV, ELL, D)
    assert res.risk.shape == (3, 3)
    for i in range(3):
        for j in range(3):
            one = skip_grid(c[i, 0], kappa[j], 0.8, 0.3, SV, ELL, D)
            assert one.risk.shape == ()
            for f in ("risk", "bias", "variance", "threshold", "moment", "status", "error"):
                assert getattr(one, f)[()] == getattr(res, f)[i, j]
    np.testing.assert_allclose(res.bias + res.variance, res.risk, rtol=1e-14)


def test_results_are_immutable():
    res = skip_grid([2.0, 3.0], 0.1, 1.0, 1.0, SV, ELL, D)
    with pytest.raises(ValueError):
        res.risk[0] = 1.0
    with pytest.raises(AttributeError):
        res.risk = None  # type: ignore[misc]


@pytest.mark.parametrize(("c", "kappa", "e2"), [(1.001, 1e-4, 1.0), (1.5, 0.3, 0.3),
                                                (4.0, 0.2, 2.0), (10.0, 0.099, 0.1)])
def test_float64_vs_mpmath(c, kappa, e2):
    got = skip_grid(c, kappa, e2, 0.3, SV, ELL, D)
    ref = skip_reference(c, kappa, e2, 0.3, SV, ELL, D, dps=50)
    assert ref.status is Status.SUCCESS and got.status[()] == Status.SUCCESS
    for f in ("risk", "bias", "variance", "threshold"):
        exact = getattr(ref, f)
        assert abs(mpmath.mpf(float(getattr(got, f)[()])) - exact) <= 1e-12 * abs(exact), f
    assert abs(mpmath.mpf(float(got.risk[()])) - ref.risk) <= got.error[()]


def test_mpmath_reference_is_precision_independent():
    vals = [skip_reference(1.5, 0.1, 1.0, 0.3, SV, ELL, D, dps=p).risk
            for p in (30, 50, 80)]
    with mpmath.workdps(90):
        assert abs(vals[0] - vals[2]) <= mpmath.mpf(10) ** -28 * vals[2]
        assert abs(vals[1] - vals[2]) <= mpmath.mpf(10) ** -48 * vals[2]


def test_kappa_to_zero_limit():
    """T_{-1} -> kappa c / b and the risk tends to the fixed-k formula (rate ~ kappa^(2/3))."""
    c, e2 = 2.5, 0.7
    kappas = np.array([1e-2, 1e-3, 1e-4, 1e-5, 1e-6])
    res = skip_grid(c, kappas, e2, 0.3, SV, ELL, D, throw=True)
    T_fixed = np.array([K.skip_fixed_k_moment(k, c, e2) for k in kappas])
    ratio = res.moment / T_fixed
    assert np.all(np.diff(np.abs(ratio - 1)) < 0) and abs(ratio[-1] - 1) < 1e-3
    # the fixed-k risk: same aggregation with T = T_fixed
    fixed = []
    for k, T in zip(kappas, T_fixed, strict=True):
        G = F = Tr = 0.0
        for sig, ell in zip(SV, ELL, strict=True):
            g_, _, f_, _, tr_, _ = K.skip_direction_terms(sig, k, c, e2, T)
            G, F, Tr = G + ell * g_, F + f_, Tr + tr_
        fixed.append(K.skip_aggregate(G, F, Tr, k, D, 0.3)[0])
    excess = (res.risk - 0.3) / (np.array(fixed) - 0.3)  # kappa-dependent part
    assert np.all(np.diff(np.abs(excess - 1)) < 0) and abs(excess[-1] - 1) < 1e-3


def test_kappa_to_zero_matches_fixed_k_theory():
    theory = pytest.importorskip("rmtrisk.theory.skip")
    from rmtrisk.problem import Problem

    d, c = 20000, 2.0
    p = Problem(d=d, c=c, sv=SV, test_energy=ELL, eta2_train=0.5, eta2_test=0.3, k=2, skip=True)
    bias, var = theory.skip_fixed_k_risk(p)
    res = skip_grid(p.c, p.k / d, 0.5, 0.3, SV, ELL, d)
    assert res.risk[()] == pytest.approx(bias + var, rel=1e-4)


def test_every_status_is_produced():
    seen = set()
    res = skip_grid([2.0, 1.0, 0.5], [0.1, 0.5, 0.5], 1.0, 0.3, SV, ELL, D)
    seen |= set(res.status.tolist())
    assert list(res.status) == [Status.SUCCESS, Status.AT_INTERPOLATION_THRESHOLD,
                                Status.UNSUPPORTED]
    assert np.isinf(res.risk[1]) and np.isnan(res.risk[2])
    edge = skip_grid(4.0, 0.25, 1.0, 0.3, SV, ELL, D)
    assert edge.status[()] == Status.AT_EDGE and np.isfinite(edge.risk[()])
    assert edge.threshold[()] == pytest.approx(_edges(0.25, 1.0)[0])
    seen.add(int(edge.status[()]))
    mi = skip_grid(2.0, 0.1, 1.0, 0.3, SV, ELL, D, maxiter=1)
    assert mi.status[()] == Status.MAX_ITERATIONS
    seen.add(int(mi.status[()]))
    nf = skip_grid(2.0, 0.1, 1.0, 0.3, [1e-200, 1.0], [1.0, 1.0], D)
    assert nf.status[()] == Status.NON_FINITE
    seen.add(int(nf.status[()]))
    seen |= set(stieltjes(-1.0, 0.5, m0=-3.0).status.ravel().tolist())
    # INVALID_VALUE and ILL_CONDITIONED are assigned at the result level, never by a kernel
    assert seen == {int(s) for s in Status} - {int(Status.INVALID_VALUE),
                                               int(Status.ILL_CONDITIONED)}


def test_throw_raises_solver_error():
    with pytest.raises(SolverError) as info:
        skip_grid([2.0, 1.0], 0.1, 1.0, 0.3, SV, ELL, D, throw=True)
    assert info.value.status is Status.AT_INTERPOLATION_THRESHOLD
    ok = skip_grid([2.0, 3.0], 0.1, 1.0, 0.3, SV, ELL, D, throw=True)
    assert np.all(ok.success)
    with pytest.raises(SolverError, match="MAX_ITERATIONS"):
        threshold(0.5, 0.3, maxiter=1, throw=True)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"c": 0.0}, "c must be > 0"),
        ({"c": -1.0}, "c must be > 0"),
        ({"c": np.nan}, "c must be finite"),
        ({"kappa": 0.0}, r"kappa must be in \(0, 1/c\]"),
        ({"kappa": 0.6}, r"kappa must be in \(0, 1/c\]"),
        ({"kappa": np.nan}, "kappa must be finite"),
        ({"eta2_train": 0.0}, "eta2_train must be > 0"),
        ({"eta2_test": -0.1}, "eta2_test must be >= 0"),
        ({"sv": [1.0, -1.0]}, "sv must be > 0"),
        ({"sv": []}, "sv must be a non-empty"),
        ({"test_energy": [1.0]}, "test_energy must have one entry per direction"),
        ({"test_energy": [1.0, -1.0, 0.0, 0.0]}, "test_energy must be >= 0"),
        ({"d": 2}, "d must be an integer >= r"),
        ({"d": 100.0}, "d must be an integer"),
    ],
)
def test_validation(kwargs, match):
    args = {"c": 2.0, "kappa": 0.1, "eta2_train": 1.0, "eta2_test": 0.3, "sv": SV,
            "test_energy": ELL, "d": D}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        skip_grid(**args)


def test_validation_other_functions():
    with pytest.raises(ValueError, match=r"mass must be in \[0, 1\]"):
        threshold(0.5, 1.5)
    with pytest.raises(ValueError, match="gamma must be > 0"):
        threshold(0.0, 0.5)
    with pytest.raises(ValueError, match="scale must be > 0"):
        truncated_moment(0, 1.0, 0.5, -1.0)
    with pytest.raises(ValueError, match="p must be one of"):
        truncated_moment(3, 1.0, 0.5)
    with pytest.raises(ValueError, match="maxiter must be"):
        threshold(0.5, 0.5, maxiter=0)
    with pytest.raises(ValueError, match="dps must be"):
        skip_reference(2.0, 0.1, 1.0, 0.3, SV, ELL, D, dps=5)
    with pytest.raises(ValueError, match="z must be finite"):
        stieltjes(np.nan, 0.5)
