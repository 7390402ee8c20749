"""Per-direction Woodbury derivation: exact identities, limits, generated kernels, theory layer."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from rmtrisk import _kernels as K
from rmtrisk.problem import Problem
from rmtrisk.symbolic import mpmath_function
from rmtrisk.symbolic import woodbury as wb
from rmtrisk.theory.one_layer import direction_factors, resolvent_moments
from rmtrisk.theory.skip import skip_fixed_k_risk

W = wb.WB


# -- symbolic: limits and identities -------------------------------------------------------------


def test_c_gt_1_limit_is_model_section_5():
    lim = wb.one_layer_limits("over")
    assert lim == {W.a: 1 / W.c, W.q: W.c / (W.c - 1)}
    align, b, v = wb.one_layer_derived("over")
    t, c = W.t, W.c
    assert sp.simplify(align.subs(lim) - t / (1 + t)) == 0
    assert sp.simplify(b.subs(lim) - 1 / (1 + t) ** 2) == 0
    assert sp.simplify(v.subs(lim) - c / (c - 1) * t / (1 + t)) == 0


def test_c_lt_1_limit_is_model_section_5():
    lim = wb.one_layer_limits("under")
    t, c = W.t, W.c
    assert lim == {W.a: c, W.q: c / (1 - c), W.q2: c**2 / (1 - c) ** 3}
    align, b, v = wb.one_layer_derived("under")
    assert sp.simplify(align.subs(lim) - c * t / (1 + c * t)) == 0
    assert sp.simplify(b.subs(lim) - 1 / (1 + c * t) ** 2) == 0
    assert sp.simplify(v.subs(lim) - c**2 * t * (1 + t) / ((1 - c) * (1 + c * t) ** 2)) == 0


def test_limit_identities_and_evaluation_forms():
    assert all(x == 0 for x in wb.one_layer_limit_identities())
    for side in wb.SIDES:
        _, b, v = wb.one_layer_derived(side)
        fb, fv = wb.one_layer_factors(side)
        assert sp.simplify(fb.doit() - b) == 0
        assert sp.simplify(fv.doit() - v) == 0
        assert fb.free_symbols | fv.free_symbols <= {W.t, W.a, W.q, W.q2}


@pytest.mark.parametrize(("c", "theta", "B", "V"), [
    (sp.Rational(1, 2), 1, sp.Rational(4, 9), sp.Rational(4, 9)),
    (2, 1, sp.Rational(1, 4), 1),
    (sp.Rational(5, 4), 4, sp.Rational(1, 25), 4),
])
def test_model_table_exact(c, theta, B, V):
    side = "over" if c > 1 else "under"
    _, b, v = wb.one_layer_derived(side)
    vals = {**wb.one_layer_limits(side), W.t: theta}
    vals = {k: sp.sympify(x).subs({W.c: c, W.t: theta}) for k, x in vals.items()}
    assert sp.simplify(b.subs(vals) - B) == 0
    assert sp.simplify(v.subs(vals) - V) == 0


def test_skip_identities():
    """Derived = transcription of rmtrisk.symbolic.skip for every T; fixed-k = theory.md §4."""
    assert all(x == 0 for x in wb.skip_identities())


def test_skip_fixed_k_is_kappa_to_zero_of_proportional():
    """T_{-1}(theta) -> kappa c / b as the tail mass kappa c -> 0 (b the upper edge)."""
    c, e2 = 2.0, 0.5
    for kappa in (1e-3, 1e-5):
        t_mass = kappa * c
        lo, hi = K.mp_edges(1 / c, (c - 1) / c, e2)
        a_, b_ = lo, hi
        # threshold by bisection on the tail mass
        for _ in range(200):
            mid = 0.5 * (a_ + b_)
            if K.mp_tail_mass(mid, 1 / c, (c - 1) / c, e2) > t_mass:
                a_ = mid
            else:
                b_ = mid
        T = K.mp_moment_m1(a_, 1 / c, (c - 1) / c, e2)
        assert T / K.skip_fixed_k_moment(kappa, c, e2) == pytest.approx(1, abs=5 * kappa**(2 / 3))


# -- exact Woodbury identities against dense linear algebra ---------------------------------------


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.standard_normal(n)
    return x / np.linalg.norm(x)


def _lambdified(expr: sp.Expr, names: tuple[str, ...]):
    syms = {s.name: s for s in expr.free_symbols}
    args = [syms.get(n, sp.Symbol(n)) for n in names]
    return sp.lambdify(args, expr, "numpy")


@pytest.mark.parametrize(("d", "n"), [(60, 25), (25, 60)])
def test_one_layer_exact_identity(d, n):
    rng = np.random.default_rng(3)
    A = rng.standard_normal((d, n)) / math.sqrt(d)
    u, v, sigma = _unit(rng, d), _unit(rng, n), 1.3
    Y = A + sigma * np.outer(u, v)
    Wm = sigma * np.outer(u, v) @ np.linalg.pinv(Y)
    side = "over" if d > n else "under"
    align, frob = wb.one_layer_exact(side)
    if side == "over":
        B = np.column_stack([A.T @ u, v])
        R = np.linalg.inv(A.T @ A)
    else:
        B = np.column_stack([A @ v, u])
        R = np.linalg.inv(A @ A.T)
    Z = B.T @ R @ B
    Z2 = B.T @ R @ R @ B
    names = ("sigma", "z11", "z12", "z22", "y11", "y12", "y22")
    vals = (sigma, Z[0, 0], Z[0, 1], Z[1, 1], Z2[0, 0], Z2[0, 1], Z2[1, 1])
    assert _lambdified(align, names)(*vals) == pytest.approx(u @ Wm @ u, rel=1e-10)
    assert _lambdified(frob, names)(*vals) == pytest.approx(np.sum(Wm**2), rel=1e-10)


def test_skip_exact_identity():
    rng = np.random.default_rng(4)
    d, n, k = 60, 25, 4
    A = rng.standard_normal((d, n)) / math.sqrt(d)
    u, v, sigma = _unit(rng, d), _unit(rng, n), 0.9
    Y = A + sigma * np.outer(u, v)
    E, _, _ = np.linalg.svd(A, full_matrices=False)
    Ek = E[:, :k]
    Wm = -Ek @ Ek.T @ A @ np.linalg.pinv(Y)
    Q = np.linalg.inv(A.T @ A)
    B = np.column_stack([A.T @ u, v])
    Z = B.T @ Q @ B
    Pk = B.T @ Q @ A.T @ Ek  # columns p_j
    Kk = Pk @ Pk.T
    names = ("sigma", "z11", "z12", "z22", "k11", "k12", "k22")
    vals = (sigma, Z[0, 0], Z[0, 1], Z[1, 1], Kk[0, 0], Kk[0, 1], Kk[1, 1])
    leak, frob, trace = (_lambdified(e, names)(*vals) for e in wb.skip_exact())
    assert leak == pytest.approx(np.sum((Wm @ u) ** 2), rel=1e-10)
    assert frob == pytest.approx(np.sum(Wm**2) - k, rel=1e-10)
    assert trace == pytest.approx(np.trace(Wm) + k, rel=1e-10, abs=1e-12)


# -- generated kernels and the theory layer vs the previous hand-coded formulas -------------------


def _factors_hand(t: np.ndarray, d: int, n: int, finite_size: bool):
    """The hand-coded formulas that rmtrisk.theory.one_layer.direction_factors used before."""
    a, q, q2 = resolvent_moments(d, n, finite_size)
    shrink = (1 - a) * q
    with np.errstate(invalid="ignore", divide="ignore"):
        b = 1.0 / (1.0 + shrink * t) ** 2
        if d > n:
            v = q * t / (1.0 + shrink * t)
        else:
            v = (a * q / t + (1 - a) ** 2 * q2) / (shrink + 1.0 / t) ** 2
    if not np.isfinite(q):
        b, v = np.zeros_like(t), np.full_like(t, np.inf)
    return b, v


T_GRID = np.logspace(-3, 4, 29)


@pytest.mark.parametrize("finite_size", [False, True])
@pytest.mark.parametrize("c", [0.05, 0.3, 0.8, 0.97, 1.03, 1.25, 2.0, 10.0])
def test_direction_factors_match_hand_coded(c, finite_size):
    d = 1000
    n = round(d / c)
    b, v = direction_factors(T_GRID, d, n, finite_size)
    b0, v0 = _factors_hand(T_GRID, d, n, finite_size)
    np.testing.assert_allclose(b, b0, rtol=1e-14, atol=0)
    np.testing.assert_allclose(v, v0, rtol=1e-14, atol=0)


@pytest.mark.parametrize(("d", "n"), [(20, 19), (19, 20), (18, 20), (17, 20), (3, 4)])
def test_direction_factors_infinite_expectations(d, n):
    t = np.array([0.5, 2.0, 30.0])
    b, v = direction_factors(t, d, n, finite_size=True)
    b0, v0 = _factors_hand(t, d, n, True)
    np.testing.assert_array_equal(np.isinf(v), np.isinf(v0))
    np.testing.assert_allclose(b, b0, rtol=1e-14, atol=0)
    np.testing.assert_allclose(v, v0, rtol=1e-14, atol=0)


def test_direction_factors_shapes():
    b, v = direction_factors(2.0, 100, 50)
    assert b.shape == v.shape == ()
    assert float(b) == pytest.approx(1 / 9) and float(v) == pytest.approx(2 * 2 / 3)
    t = np.array([[0.5, 1.0], [2.0, 4.0]])
    b, v = direction_factors(t, 50, 100)
    assert b.shape == v.shape == (2, 2)


@pytest.mark.parametrize("name", ["one_layer_factors_c_gt_1", "one_layer_factors_c_lt_1"])
def test_kernels_match_mpmath(name):
    args = (3.7, 0.4, 1.9, 2.6)
    got = getattr(K, name)(*args)
    with mpmath.workdps(40):
        ref = mpmath_function(name)(*[mpmath.mpf(x) for x in args])
    for g, r in zip(got, ref, strict=True):
        assert math.isclose(g, float(r), rel_tol=1e-14)


def _skip_fixed_k_hand(p: Problem, finite_size: bool) -> tuple[float, float]:
    """The hand-coded formula that skip_fixed_k_risk used before."""
    d, n, k, c = p.d, p.n, p.k, p.c
    t = p.snr
    rho = t / (1 + t)
    root = np.sqrt(c)
    if finite_size:
        h = d / (d - n - 1) if d - n - 1 > 0 else np.inf
    else:
        h = c / (c - 1)
    g = c * (root - 1) / (root + 1)
    leak = (k / d) * (1 + (root - 1) ** 2 * t) / (1 + t) ** 2
    frob2 = k * (1 + (h - g) * rho.sum() / d)
    trace = -k * (1 - g * rho.sum() / d)
    variance = p.eta2_test * frob2 / d
    bias = float(np.dot(p.test_energy_array, leak)) + p.eta2_test * (d + 2 * trace) / d
    return bias, variance


@pytest.mark.parametrize("finite_size", [False, True])
@pytest.mark.parametrize("c", [1.05, 1.5, 2.0, 4.0, 10.0])
@pytest.mark.parametrize("eta2", [0.3, 1.0, 2.5])
def test_skip_fixed_k_risk_matches_hand_coded(c, eta2, finite_size):
    p = Problem(d=400, c=c, sv=[3.0, 1.0, 0.4, 0.05], test_energy=[0.5, 0.2, 0.1, 0.3],
                eta2_train=eta2, eta2_test=0.7, k=3, skip=True)
    got = skip_fixed_k_risk(p, finite_size)
    ref = _skip_fixed_k_hand(p, finite_size)
    assert got == pytest.approx(ref, rel=1e-14, abs=0)


def test_skip_fixed_k_risk_infinite_finite_size_variance():
    p = Problem(d=20, n=19, sv=[1.0, 0.5], test_energy=[0.3, 0.2], k=2, skip=True)
    bias, var = skip_fixed_k_risk(p, finite_size=True)
    ref_bias, ref_var = _skip_fixed_k_hand(p, True)
    assert np.isinf(var) and np.isinf(ref_var)
    assert bias == pytest.approx(ref_bias, rel=1e-14)
