"""Generated numba kernels: freshness, agreement with mpmath, Stieltjes properties."""

from __future__ import annotations

import cmath
import math

import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rmtrisk import _kernels as K
from rmtrisk._codegen import kernel_path, render_kernels
from rmtrisk.symbolic import KERNELS, mpmath_function


def test_committed_kernels_are_not_stale():
    assert kernel_path().read_text(encoding="utf-8") == render_kernels(), (
        "rmtrisk/_kernels.py is stale: run python -m rmtrisk._codegen")


def test_every_spec_is_a_jitted_kernel():
    for spec in KERNELS:
        fn = getattr(K, spec.name)
        assert hasattr(fn, "py_func"), spec.name
    assert "DO NOT EDIT" in kernel_path().read_text(encoding="utf-8")[:400]


def _law(gamma: float) -> tuple[float, float, float]:
    return gamma, 1.0 - gamma, 1.3


REAL_CASES = [
    ("mp_density", (1.0,)),
    ("mp_tail_mass", (1.0,)),
    ("mp_tail_mass_dt", (1.7,)),
    ("mp_moment_m2", (0.9,)),
    ("mp_moment_m1", (1.2,)),
    ("mp_moment_0", (2.0,)),
    ("mp_moment_1", (0.7,)),
    ("mp_moment_2", (1.5,)),
    ("mp_stieltjes_real", (-0.8,)),
    ("mp_stieltjes_real", (12.0,)),
]


@pytest.mark.parametrize("gamma", [0.3, 0.8, 2.5])
@pytest.mark.parametrize(("name", "args"), REAL_CASES)
def test_real_kernels_match_mpmath(name, args, gamma):
    law = _law(gamma)
    got = getattr(K, name)(*args, *law)
    with mpmath.workdps(40):
        ref = mpmath_function(name)(*[mpmath.mpf(x) for x in args + law])
    assert math.isclose(got, float(ref), rel_tol=5e-14, abs_tol=1e-300)


def test_tuple_kernels_match_mpmath():
    cases = [("mp_edges", (0.4, 0.6, 2.0)), ("mp_masses", (3.0, -2.0, 1.0)),
             ("mp_threshold_guess", (0.05, 0.4, 0.6, 2.0)),
             ("skip_direction_terms", (1.7, 0.12, 2.5, 0.4, 0.3)),
             ("skip_aggregate", (0.3, -2.0, 1.5, 0.1, 500.0, 0.7)),
             ("skip_fixed_k_moment", (0.01, 3.0, 0.5))]
    for name, args in cases:
        got = getattr(K, name)(*args)
        with mpmath.workdps(40):
            ref = mpmath_function(name)(*[mpmath.mpf(x) for x in args])
        got = got if isinstance(got, tuple) else (got,)
        ref = ref if isinstance(ref, tuple) else (ref,)
        for g, r in zip(got, ref, strict=True):
            assert math.isclose(g, float(r), rel_tol=1e-14), name


def test_tail_mass_derivative_is_minus_density_kernel():
    for t in (0.2, 1.0, 2.9):
        assert K.mp_tail_mass_dt(t, 0.5, 0.5, 1.0) == -K.mp_density(t, 0.5, 0.5, 1.0)


def test_mp_anchors():
    """Standard Marchenko–Pastur anchors at s = 1 (docs/conventions.md §10)."""
    assert math.isclose(K.mp_stieltjes(complex(-1.0), 0.5, 0.5, 1.0).real,
                        (math.sqrt(17) - 3) / 2, rel_tol=1e-15)
    assert math.isclose(K.mp_stieltjes(complex(-1.0), 2.0, -1.0, 1.0).real,
                        math.sqrt(2) / 2, rel_tol=1e-15)
    assert math.isclose(K.mp_stieltjes_real(-1.0, 0.5, 0.5, 1.0), (math.sqrt(17) - 3) / 2,
                        rel_tol=1e-15)
    for g in (0.1, 0.5, 0.9):
        assert math.isclose(K.mp_stieltjes(complex(0.0), g, 1 - g, 1.0).real, 1 / (1 - g),
                            rel_tol=1e-14)
        assert math.isclose(K.mp_stieltjes_real(0.0, g, 1 - g, 1.0), 1 / (1 - g), rel_tol=1e-14)


gammas = st.floats(0.05, 5.0)
scales = st.floats(0.1, 10.0)
zre = st.floats(-20.0, 20.0)
zim = st.floats(1e-6, 20.0)


@settings(max_examples=200, deadline=None)
@given(g=gammas, s=scales, x=zre, y=zim)
def test_herglotz_and_quadratic(g, s, x, y):
    z = complex(x, y)
    m = K.mp_stieltjes(z, g, 1 - g, s)
    assert m.imag > 0
    assert (z * m).imag >= -1e-12 * abs(z * m)  # measure on [0, inf)
    P, dP = K.mp_stieltjes_poly(z, m, g, 1 - g, s)
    assert abs(P) <= 1e-10 * (1 + abs(g * s * z * m * m) + abs(s * (1 - g) * m) + abs(z * m))


@settings(max_examples=200, deadline=None)
@given(g=gammas, s=scales, x=zre, y=zim)
def test_conjugate_symmetry(g, s, x, y):
    z = complex(x, y)
    m = K.mp_stieltjes(z, g, 1 - g, s)
    mc = K.mp_stieltjes(z.conjugate(), g, 1 - g, s)
    assert cmath.isclose(mc, m.conjugate(), rel_tol=1e-12, abs_tol=1e-300)


@settings(max_examples=200, deadline=None)
@given(g=gammas, s=scales, phase=st.floats(0.0, 2 * math.pi), r=st.floats(1e7, 1e12))
def test_z_m_tends_to_minus_one(g, s, phase, r):
    z = cmath.rect(r, phase)
    if abs(z.imag) < 1e-300 and z.real > 0:
        z = complex(z.real, 1.0)
    m = K.mp_stieltjes(z, g, 1 - g, s)
    # z m(z) = -1 - (mean s)/z + O(1/z^2)
    assert abs(z * m + 1) <= 2 * s * (1 + g) / r + 1e-12


@settings(max_examples=100, deadline=None)
@given(g=gammas, s=scales, lam=st.floats(1e-3, 100.0))
def test_negative_axis_positive_and_derivative(g, s, lam):
    m = K.mp_stieltjes_real(-lam, g, 1 - g, s)
    assert m > 0
    h = 1e-6 * max(lam, 1e-2)
    fd = (K.mp_stieltjes_real(-lam + h, g, 1 - g, s)
          - K.mp_stieltjes_real(-lam - h, g, 1 - g, s)) / (2 * h)
    dm = K.mp_stieltjes_deriv(-lam, m, g, 1 - g, s)
    assert math.isclose(dm, fd, rel_tol=1e-5)
