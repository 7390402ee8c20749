"""Ridge and skip c < 1 regimes through the pipeline: symbolic layer, kernels, solver, mpmath."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from rmtrisk import _kernels as K
from rmtrisk.engine import (
    ridge_factors,
    ridge_grid,
    ridge_moments,
    ridge_reference,
    skip_under_grid,
    skip_under_kept_overlaps,
    skip_under_reference,
)
from rmtrisk.status import SolverError, Status
from rmtrisk.symbolic import mpmath_function
from rmtrisk.symbolic import ridge as ridge_forms
from rmtrisk.symbolic import skip_under as skip_under_forms
from rmtrisk.symbolic.symbols import REG

SV = np.array([3.0, 1.5, 0.7, 0.2])
ELL = np.array([0.5, 0.2, 0.1, 0.05])
D = 500
KEPT = np.array([True, True, True, False])


def _rel(got: float, ref) -> float:
    with mpmath.workdps(60):
        return float(abs(mpmath.mpf(float(got)) - ref) / abs(ref))


# ---- symbolic layer ---------------------------------------------------------------------------
def test_ridge_moments_equal_the_quadratic_root():
    g, gp = ridge_forms.ridge_moments()
    g_t, gp_t = ridge_forms.ridge_moments_transcribed()
    R = REG
    for c, lam in ((0.3, 0.2), (1.0, 0.01), (4.0, 2.0)):
        vals = {R.c: sp.Rational(c).limit_denominator(1000), R.lam: sp.Rational(lam)}
        assert abs(sp.N((g - g_t).subs(vals), 30)) < 1e-25
        assert abs(sp.N((gp - gp_t).subs(vals), 30)) < 1e-25


def test_pole_terms_identities():
    R = REG
    delta, one_delta, x0, ra, rb = skip_under_forms.skip_under_pole_terms()
    a, b = skip_under_forms.skip_under_edges()
    c = R.c
    assert sp.simplify(one_delta - 1 - delta) == 0
    assert sp.simplify(x0 - delta * ((1 - c) / c - delta) / (1 + delta)) == 0
    for cv, tv in ((sp.Rational(1, 4), sp.Rational(3)), (sp.Rational(2, 3), sp.Rational(1, 5))):
        vals = {R.c: cv, R.t: tv}
        assert abs(sp.N((ra**2 - (a - x0)).subs(vals), 30)) < 1e-25
        assert abs(sp.N((rb**2 - (b - x0)).subs(vals), 30)) < 1e-25


def test_overlaps_against_quadrature_mpmath():
    """pi0, pi1 and the theta-derivative against mpmath quadrature of the weighted density."""
    c, theta, t = 0.4, 3.0, 2.0
    with mpmath.workdps(30):
        cc, th, tt = mpmath.mpf(c), mpmath.mpf(theta), mpmath.mpf(t)
        a, b = mpmath_function("skip_under_edges")(cc)
        delta, one_delta, x0, _, _ = mpmath_function("skip_under_pole_terms")(tt, cc)

        def w(x, p):
            return mpmath.sqrt((b - x) * (x - a)) / (2 * mpmath.pi * one_delta * (x - x0) * x**p)

        q0 = mpmath.quad(lambda x: w(x, 0), [th, b])
        q1 = mpmath.quad(lambda x: w(x, 1), [th, b])
        got = K.skip_under_overlaps(t, c, theta)
        assert got[0] == pytest.approx(float(q0), rel=1e-13)
        assert got[1] == pytest.approx(float(q1), rel=1e-13)
        assert got[2] == pytest.approx(-float(w(th, 0)), rel=1e-13)
        assert got[3] == pytest.approx(-float(w(th, 1)), rel=1e-13)


@pytest.mark.parametrize(("name", "args"), [
    ("ridge_moments", (0.7, 0.3)), ("ridge_moments", (1.0, 1e-3)),
    ("ridge_direction_factors", (2.5, 0.6, 0.4)),
    ("ridge_aggregate", (0.3, 0.1, 2.0, 0.7, 500.0)),
    ("skip_under_pole_terms", (2.0, 0.3)),
    ("skip_under_semicircle", (2.0, 0.3, 4.0)),
    ("skip_under_overlaps", (0.4, 0.6, 1.5)),
    ("skip_under_edge_overlaps", (3.0, 0.2, 1e-3)),
    ("skip_under_full_overlaps", (3.0, 0.2)),
    ("skip_under_direction_terms", (3.0, 0.2, 0.4, 0.01)),
    ("skip_under_aggregate", (0.3, 1.2, 0.4, 2.0, 0.2, 500.0, 0.7)),
])
def test_regime_kernels_match_mpmath(name, args):
    got = getattr(K, name)(*args)
    with mpmath.workdps(40):
        ref = mpmath_function(name)(*[mpmath.mpf(x) for x in args])
    for g, r in zip(got, ref, strict=True):
        assert math.isclose(g, float(r), rel_tol=1e-13), name


# ---- grid solvers: vectorization, statuses, validation ----------------------------------------
def test_ridge_vectorized_equals_scalar_calls():
    c = np.array([0.3, 0.9, 1.0, 1.2, 5.0])[:, None]
    reg = np.array([1e-4, 0.1, 3.0])[None, :]
    res = ridge_grid(c, reg, 0.8, 0.6, SV, ELL, D, kept=KEPT)
    assert res.risk.shape == (5, 3) and not res.risk.flags.writeable
    for i in range(5):
        for j in range(3):
            one = ridge_grid(c[i, 0], reg[0, j], 0.8, 0.6, SV, ELL, D, kept=KEPT)
            assert one.risk.shape == ()
            for f in ("risk", "bias", "variance", "g", "gprime", "status"):
                assert getattr(one, f) == getattr(res, f)[i, j]
    g, gp = ridge_moments(c, reg / 0.8)
    np.testing.assert_array_equal(g, res.g)
    b, v = ridge_factors(SV[:3, None, None] ** 2 / 0.8, c, reg / 0.8)
    bias = np.einsum("i,ijk->jk", ELL[:3], b) + ELL[3]
    np.testing.assert_allclose(bias, res.bias, rtol=1e-15)
    np.testing.assert_allclose(0.6 * v.sum(axis=0) / D, res.variance, rtol=1e-15)


def test_skip_under_vectorized_equals_scalar_calls():
    c = np.array([0.05, 0.5, 0.95])[:, None]
    kappa = np.array([1e-4, 0.3, 1.0])[None, :]
    e2 = np.array([0.5, 2.0])[:, None, None]
    res = skip_under_grid(c, kappa, e2, 0.6, SV, ELL, D)
    assert res.risk.shape == (2, 3, 3) and not res.status.flags.writeable
    for idx in np.ndindex(res.risk.shape):
        one = skip_under_grid(c[idx[1], 0], kappa[0, idx[2]], e2[idx[0], 0, 0],
                                           0.6, SV, ELL, D)
        for f in ("risk", "bias", "variance", "threshold", "status", "error"):
            assert getattr(one, f) == getattr(res, f)[idx]
    pi0, pi1 = skip_under_kept_overlaps(c, kappa, 2.0)
    for i in range(3):
        for j in range(3):
            p0, p1 = skip_under_kept_overlaps(c[i, 0], kappa[0, j], 2.0)
            assert (p0, p1) == (pi0[i, j], pi1[i, j])


def test_ridge_statuses():
    res = ridge_grid([0.5, 1.0, 1.0, 2.0], [0.1, 0.0, 0.1, 0.0], 1.0, 1.0, SV, ELL, D)
    assert list(res.status) == [Status.SUCCESS, Status.AT_INTERPOLATION_THRESHOLD,
                                Status.SUCCESS, Status.SUCCESS]
    assert np.isinf(res.risk[1]) and np.isinf(res.variance[1]) and np.isfinite(res.bias[1])
    assert np.all(res.success == [True, False, True, True])
    huge = ridge_grid(2.0, 0.1, 1.0, 1.0, [1e200], [1.0], D)
    assert huge.status == Status.NON_FINITE
    with pytest.raises(SolverError, match="AT_INTERPOLATION_THRESHOLD"):
        ridge_grid(1.0, 0.0, 1.0, 1.0, SV, ELL, D, throw=True)
    ridge_grid(1.0, 1e-3, 1.0, 1.0, SV, ELL, D, throw=True)


def test_skip_under_statuses():
    res = skip_under_grid([0.5, 1.0, 2.0, 0.5, 0.5], [0.3, 0.3, 0.3, 1.0, 1e-13],
                                       1.0, 1.0, SV, ELL, D)
    assert list(res.status) == [Status.SUCCESS, Status.AT_INTERPOLATION_THRESHOLD,
                                Status.UNSUPPORTED, Status.AT_EDGE, Status.AT_EDGE]
    assert np.isinf(res.risk[1]) and np.isnan(res.risk[2])
    assert np.all(np.isfinite(res.risk[[0, 3, 4]]))
    assert res.error[4] < 1e-6 * res.risk[4]
    one = skip_under_grid(0.5, 0.3, 1.0, 1.0, SV, ELL, D, maxiter=1)
    assert one.status == Status.MAX_ITERATIONS
    huge = skip_under_grid(0.5, 0.3, 1.0, 1.0, [1e200], [1.0], D)
    assert huge.status == Status.NON_FINITE
    with pytest.raises(SolverError, match="UNSUPPORTED"):
        skip_under_grid(2.0, 0.3, 1.0, 1.0, SV, ELL, D, throw=True)
    # the mpmath reference returns the same statuses
    for c, k, st in ((0.5, 0.3, Status.SUCCESS), (1.0, 0.3, Status.AT_INTERPOLATION_THRESHOLD),
                     (2.0, 0.3, Status.UNSUPPORTED), (0.5, 1.0, Status.AT_EDGE),
                     (0.5, 1e-13, Status.AT_EDGE)):
        assert skip_under_reference(c, k, 1.0, 1.0, SV, ELL, D, dps=30).status is st
    assert ridge_reference(1.0, 0.0, 1.0, 1.0, SV, ELL, D).status is \
        Status.AT_INTERPOLATION_THRESHOLD


@pytest.mark.parametrize(("kwargs", "name"), [
    (dict(c=0.0), "c"), (dict(c=np.nan), "c"), (dict(reg=-1.0), "reg"),
    (dict(eta2_train=0.0), "eta2_train"), (dict(eta2_test=-1.0), "eta2_test"),
    (dict(sv=[1.0, -1.0]), "sv"), (dict(test_energy=[1.0]), "test_energy"),
    (dict(d=2.5), "d"), (dict(d=2), "d"), (dict(kept=[True]), "kept"),
    (dict(kept=[1, 0, 1, 0]), "kept"),
])
def test_ridge_validation(kwargs, name):
    args = dict(c=0.5, reg=0.1, eta2_train=1.0, eta2_test=1.0, sv=SV, test_energy=ELL, d=D)
    args.update(kwargs)
    for fn in (ridge_grid, ridge_reference):
        with pytest.raises(ValueError, match=f"^{name} "):
            fn(**args)


@pytest.mark.parametrize(("kwargs", "name"), [
    (dict(c=-0.5), "c"), (dict(kappa=0.0), "kappa"), (dict(kappa=1.5), "kappa"),
    (dict(eta2_train=-1.0), "eta2_train"), (dict(eta2_test=np.inf), "eta2_test"),
    (dict(sv=[]), "sv"), (dict(d=1), "d"), (dict(maxiter=0), "maxiter"),
])
def test_skip_under_validation(kwargs, name):
    args = dict(c=0.5, kappa=0.3, eta2_train=1.0, eta2_test=1.0, sv=SV, test_energy=ELL, d=D)
    args.update(kwargs)
    for fn in (skip_under_grid, skip_under_reference):
        with pytest.raises(ValueError, match=f"^{name} "):
            fn(**args)
    with pytest.raises(ValueError, match="^c "):
        skip_under_kept_overlaps(1.5, 0.3, 2.0)
    with pytest.raises(ValueError, match="^t "):
        ridge_factors(0.0, 0.5, 0.1)
    with pytest.raises(ValueError, match="^dps "):
        ridge_reference(0.5, 0.1, 1.0, 1.0, SV, ELL, D, dps=10)


# ---- compiled vs mpmath -----------------------------------------------------------------------
def test_ridge_compiled_matches_mpmath():
    cs = np.array([0.1, 0.999, 1.0, 1.001, 10.0])
    regs = np.array([1e-4, 0.05, 10.0])
    cc, rr = np.meshgrid(cs, regs, indexing="ij")
    res = ridge_grid(cc, rr, 0.7, 0.4, SV, ELL, D, kept=KEPT)
    assert np.all(res.success)
    for idx in np.ndindex(cc.shape):
        ref = ridge_reference(cc[idx], rr[idx], 0.7, 0.4, SV, ELL, D, kept=KEPT)
        assert ref.status is Status.SUCCESS
        for f in ("risk", "bias", "variance", "g", "gprime"):
            assert _rel(getattr(res, f)[idx], getattr(ref, f)) <= 1e-12, (f, idx)
        assert abs(float(res.risk[idx]) - float(ref.risk)) <= res.error[idx]


def test_skip_under_compiled_matches_mpmath():
    cs = np.array([0.05, 0.5, 0.99])
    ks = np.array([1e-4, 0.1, 0.9])
    cc, kk = np.meshgrid(cs, ks, indexing="ij")
    res = skip_under_grid(cc, kk, 0.7, 0.4, SV, ELL, D)
    assert np.all(res.success)
    for idx in np.ndindex(cc.shape):
        ref = skip_under_reference(cc[idx], kk[idx], 0.7, 0.4, SV, ELL, D, dps=40)
        assert ref.status is Status.SUCCESS
        for f in ("risk", "bias", "variance", "threshold"):
            assert _rel(getattr(res, f)[idx], getattr(ref, f)) <= 1e-12, (f, idx)
        assert abs(float(res.risk[idx]) - float(ref.risk)) <= res.error[idx]


def test_mpmath_references_agree_across_precisions():
    ridge = {p: ridge_reference(1.001, 1e-4, 0.7, 0.4, SV, ELL, D, dps=p).risk
             for p in (30, 50, 80)}
    skip = {p: skip_under_reference(0.5, 0.1, 0.7, 0.4, SV, ELL, D, dps=p).risk
            for p in (30, 50, 80)}
    with mpmath.workdps(90):
        for vals in (ridge, skip):
            assert abs(vals[30] - vals[80]) / vals[80] < mpmath.mpf(10) ** -27
            assert abs(vals[50] - vals[80]) / vals[80] < mpmath.mpf(10) ** -47
