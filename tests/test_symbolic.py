"""Symbolic layer: Marchenko–Pastur closed forms, risk expressions, LaTeX."""

from __future__ import annotations

from pathlib import Path

import mpmath
import pytest
import sympy as sp

from rmtrisk import symbolic as latex
from rmtrisk._codegen import BEGIN_MARK, END_MARK, render_docs
from rmtrisk.symbolic import marchenko_pastur as mpl
from rmtrisk.symbolic import skip as rk

S = mpl.SYMBOLS


def _law(gamma, s=1) -> dict:
    gamma = sp.nsimplify(gamma)
    return {S.gamma: gamma, S.gammabar: 1 - gamma, S.s: sp.nsimplify(s)}


@pytest.mark.parametrize(
    ("gamma", "z", "expected"),
    [
        (sp.Rational(1, 2), -1, (sp.sqrt(17) - 3) / 2),
        (2, -1, sp.sqrt(2) / 2),
    ],
)
def test_stieltjes_anchors_exact(gamma, z, expected):
    roots = mpl.stieltjes_roots()
    phys = sp.simplify(roots[0].subs(_law(gamma)).subs(S.z, z))
    assert sp.simplify(phys - expected) == 0
    stable = mpl.stieltjes_physical().subs(_law(gamma)).subs(S.z, z)
    assert sp.simplify(stable - expected) == 0


def test_stieltjes_at_zero_and_polynomial():
    g = sp.Rational(3, 10)
    m0 = mpl.stieltjes_physical().subs(_law(g)).subs(S.z, 0)
    assert sp.simplify(m0 - 1 / (1 - g)) == 0
    # both roots solve the quadratic identically
    for root in mpl.stieltjes_roots():
        P = mpl.stieltjes_polynomial(z=S.z, m=root)
        assert sp.simplify(sp.expand(P.subs(_law(g)).subs(S.z, -sp.Rational(7, 3)))) == 0


def test_stieltjes_derivative_matches_spec_form():
    z, m, g, gb, s = S.z, S.m, S.gamma, S.gammabar, S.s
    spec = (g * s * m**2 + m) / ((s * gb - z) - 2 * g * s * z * m)
    assert sp.simplify(mpl.stieltjes_derivative() - spec) == 0


def test_stieltjes_derivative_numeric():
    """Implicit m'(z) equals the numerical derivative of the closed-form root (30 digits)."""
    root = sp.lambdify((S.z, S.gamma, S.gammabar, S.s), mpl.stieltjes_roots()[0], "mpmath")
    dm = sp.lambdify((S.z, S.m, S.gamma, S.gammabar, S.s), mpl.stieltjes_derivative(), "mpmath")
    with mpmath.workdps(30):
        g, s = mpmath.mpf("0.5"), mpmath.mpf(2)
        z0 = mpmath.mpc("-1.5", "0.3333")
        num = mpmath.diff(lambda z: root(z, g, 1 - g, s), z0)
        via = dm(z0, root(z0, g, 1 - g, s), g, 1 - g, s)
        assert abs(num - via) < 1e-20 * abs(via)


def test_edges_and_masses():
    a, b = mpl.edges()
    law = _law(sp.Rational(1, 4), 3)
    assert sp.simplify(a.subs(law) - 3 * sp.Rational(1, 4)) == 0  # 3 (1 - 1/2)^2
    assert sp.simplify(b.subs(law) - 3 * sp.Rational(9, 4)) == 0
    assert mpl.atom_mass().subs(_law(4)) == sp.Rational(3, 4)
    assert mpl.atom_mass().subs(_law(sp.Rational(1, 2))) == 0
    assert mpl.continuous_mass().subs(_law(4)) == sp.Rational(1, 4)


def _mp_eval(expr, **vals):
    f = sp.lambdify(tuple(vals), expr, "mpmath")
    return f(*vals.values())


@pytest.mark.parametrize("gamma", ["0.3", "1", "2.5"])
@pytest.mark.parametrize("p", mpl.MOMENT_ORDERS)
def test_truncated_moment_vs_quadrature(p, gamma):
    with mpmath.workdps(30):
        g, s = mpmath.mpf(gamma), mpmath.mpf("1.7")
        a, b = s * (1 - mpmath.sqrt(g)) ** 2, s * (1 + mpmath.sqrt(g)) ** 2

        def dens(x):
            return mpmath.sqrt((b - x) * (x - a)) / (2 * mpmath.pi * g * s * x)

        expr = mpl.truncated_moment(p)
        for frac in ("0.001", "0.3", "0.9", "0.99999"):
            t = a + (b - a) * mpmath.mpf(frac)
            got = _mp_eval(expr, t=t, gamma=g, gammabar=1 - g, s=s)
            ref = mpmath.quad(lambda x: x**p * dens(x), [t, (t + b) / 2, b])
            assert abs(got - ref) <= 1e-20 * abs(ref)
        assert _mp_eval(expr, t=b * 2, gamma=g, gammabar=1 - g, s=s) == 0


@pytest.mark.parametrize("p", mpl.MOMENT_ORDERS)
def test_truncated_moment_derivative_is_minus_weighted_density(p):
    """d/dt T_p(t) = -t^p f(t), checked on the interior closed form at 30 digits."""
    expr = mpl.truncated_moment_interior(p)
    deriv = sp.diff(expr, S.t)
    target = -(S.t**p) * mpl.density(x=S.t).args[0][0]
    with mpmath.workdps(30):
        for gamma, t in (("0.4", "1.1"), ("3", "4.2"), ("0.9", "0.5")):
            vals = dict(t=mpmath.mpf(t), gamma=mpmath.mpf(gamma),
                        gammabar=1 - mpmath.mpf(gamma), s=mpmath.mpf("1.3"))
            d1 = _mp_eval(deriv, **vals)
            d2 = _mp_eval(target, **vals)
            assert abs(d1 - d2) <= 1e-25 * abs(d2)


def test_tail_mass_derivative_is_minus_density():
    assert sp.simplify(mpl.tail_mass_derivative() + mpl.density(x=S.t)) == 0


def test_full_moments_known_values():
    g, s = S.gamma, S.s
    law = {S.gammabar: 1 - g}
    expected = {0: 1, 1: s, 2: s**2 * (1 + g), -1: 1 / (s * (1 - g)),
                -2: 1 / (s**2 * (1 - g) ** 3)}
    for p, val in expected.items():
        got = mpl.full_moment(p).subs(law)
        for gv in (sp.Rational(1, 3), sp.Rational(7, 10)):
            assert sp.simplify((got - val).subs({g: gv, s: sp.Rational(5, 2)})) == 0, p


def test_atom_handling_below_zero():
    law = _law(3)
    t = {S.t: -1}
    assert sp.simplify(mpl.truncated_moment(0).subs(law).subs(t) - 1) == 0
    assert mpl.truncated_moment(-1).subs(law).subs(t) == sp.oo
    assert sp.simplify(mpl.truncated_moment(1).subs(law).subs(t) - 1) == 0


def test_threshold_initial_guess_is_asymptotic():
    """The edge asymptotics invert F to leading order: relative error -> 0 with the mass."""
    up, _ = mpl.threshold_initial_guess()
    F = mpl.truncated_moment_interior(0)
    with mpmath.workdps(30):
        vals = dict(gamma=mpmath.mpf("0.5"), gammabar=mpmath.mpf("0.5"), s=mpmath.mpf(1))
        errs = []
        for mass in ("1e-3", "1e-5", "1e-7"):
            t0 = _mp_eval(up, mass=mpmath.mpf(mass), **vals)
            errs.append(abs(_mp_eval(F, t=t0, **vals) / mpmath.mpf(mass) - 1))
        assert errs[0] > errs[1] > errs[2] and errs[2] < 1e-3


def test_skip_identities_and_transcription():
    assert all(x == 0 for x in rk.skip_identities())


def test_skip_fixed_k_limit_matches_leak_formula():
    """T = kappa c / b turns Gamma_i into the fixed-k leak (k/d)(1 + (sqrt c - 1)^2 t)/(1 + t)^2."""
    K = rk.SKIP
    gamma_i = rk.skip_direction_terms()[0].subs(K.T, rk.skip_fixed_k_moment())
    t = K.sigma**2 / K.eta2_train
    leak = K.kappa * (1 + (sp.sqrt(K.c) - 1) ** 2 * t) / (1 + t) ** 2
    for vals in ({K.c: 3, K.sigma: 2, K.eta2_train: sp.Rational(1, 3)},
                 {K.c: sp.Rational(5, 4), K.sigma: 1, K.eta2_train: 2}):
        assert sp.simplify((gamma_i - leak).subs(vals)) == 0


def test_noise_gram_law_edges():
    a, b = mpl.edges(rk.noise_gram_law())
    K = rk.SKIP
    assert sp.simplify(b - K.eta2_train * (1 + 1 / sp.sqrt(K.c)) ** 2) == 0
    assert sp.simplify(a - K.eta2_train * (1 - 1 / sp.sqrt(K.c)) ** 2) == 0


def test_latex_strings():
    eqs = latex.latex_equations()
    for name in ("stieltjes_equation", "stieltjes_root", "stieltjes_derivative", "edges",
                 "density", "threshold", "T_-2", "T_-1", "T_0", "T_1", "T_2", "skip_risk",
                 "skip_Gamma_i"):
        assert isinstance(eqs[name], str) and eqs[name]
    assert r"\gamma" in eqs["stieltjes_equation"]
    assert r"\bar{\gamma}" in eqs["stieltjes_equation"]
    assert r"\varphi" in eqs["T_-1"]
    assert "$$" in latex.equations_markdown()


def test_docs_equations_block_is_current():
    path = Path(__file__).resolve().parents[1] / "docs" / "engine.md"
    text = path.read_text(encoding="utf-8")
    assert BEGIN_MARK in text and END_MARK in text
    assert render_docs(text) == text, "run: python -m rmtrisk._codegen --docs"


def test_bad_moment_order():
    with pytest.raises(ValueError, match="p must be one of"):
        mpl.truncated_moment(3)
