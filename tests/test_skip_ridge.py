"""Skip connection with product regularization lambda > 0 (engine and theory skip_ridge)."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy.integrate import quad

from rmtrisk import Problem, Status
from rmtrisk import _kernels as K
from rmtrisk.engine import skip_ridge_grid, skip_ridge_reference
from rmtrisk.engine._kept_spectrum import inner_size, kept_averages
from rmtrisk.montecarlo import monte_carlo_risk
from rmtrisk.status import SolverError
from rmtrisk.symbolic import skip_ridge as sr
from rmtrisk.theory import asymptotic_risk

SV = [2.0, 1.4, 1.0, 0.7]
STRONG = [1.0] * 4


def make(c: float, d: int = 2000, **kw) -> Problem:
    base = dict(sv=SV, test_energy=STRONG, eta2_train=1.0, eta2_test=1.0, skip=True,
                kappa=0.3, reg=0.3)
    base.update(kw)
    return Problem(d=d, n=round(d / c), **base)


def _edges(c: float) -> tuple[float, float]:
    return (1 - math.sqrt(c)) ** 2 / c, (1 + math.sqrt(c)) ** 2 / c


def _density(x: float, c: float) -> float:
    a, b = _edges(c)
    return math.sqrt(max((b - x) * (x - a), 0.0)) / (2 * math.pi * x)


# ---- equations ----------------------------------------------------------------------------------

@pytest.mark.parametrize("c", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("lam", [1e-3, 0.3, 10.0])
def test_constants_match_quadrature(c, lam):
    a, b = _edges(c)
    atom = max(0.0, 1 - 1 / c)
    pbar, q, r, gp = K.skip_ridge_constants(c, lam)

    def avg(f):
        return quad(lambda x: _density(x, c) * f(x), a, b, epsabs=0, epsrel=1e-13,
                    limit=200)[0]

    assert pbar == pytest.approx(1 - avg(lambda x: x / (x + lam)), rel=1e-11)
    assert r == pytest.approx(avg(lambda x: (x + lam) ** -2) + atom / lam**2, rel=1e-11)
    assert gp == pytest.approx(c * avg(lambda x: x / (x + lam) ** 2), rel=1e-11)
    # q = (1/N) tr (A^T A + lam)^{-1}: the N-side law is c mu + (1 - c) delta_0
    q_ref = c * (avg(lambda x: 1 / (x + lam)) + atom / lam) + (1 - c) / lam
    assert q == pytest.approx(q_ref, rel=1e-10)


@pytest.mark.parametrize("c, lam", [(0.5, 0.3), (2.0, 0.05), (1.0, 1e-3), (0.8, 5.0)])
def test_averages_split_equals_partial_fractions(c, lam):
    """Smooth quadrature + m, m' terms (compiled) == partial fractions (mpmath), in and
    above the bulk."""
    a, b = _edges(c)
    atom = max(0.0, 1 - 1 / c)
    xs, ws = np.empty(128 * 48), np.empty(128 * 48)
    theta = a + 0.3 * (b - a)
    n, res, ok = inner_size(c, -lam * theta / (theta + lam), xs, ws, atom)
    assert ok and res <= 1e-13
    pf = [sp.lambdify((sr.SR.zeta, sr.SR.lam, sr.SR.c, sr.SR.m, sr.SR.dm, sr.SR.mw, sr.SR.dmw,
                       sr.SR.ml, sr.SR.dml), sr.partial_fraction_average(f.name), "mpmath")
          for f in sr.FORMS]
    mpmath.mp.dps = 40
    cm, lm = mpmath.mpf(c), mpmath.mpf(lam)

    def m_real(z):
        m = mpmath.mpf(K.mp_stieltjes_real(float(z), c, 1 - c, 1 / c))
        m = mpmath.findroot(lambda v: z * v**2 - ((1 - cm) / cm - z) * v + 1, m)
        return m, (m**2 + m) / ((1 - cm) / cm - z - 2 * z * m)

    for zeta in (a + 0.6 * (b - a), 1.3 * b):
        inside = zeta < b
        out = np.empty(11, dtype=np.complex128)
        if inside:
            m, dm = K.skip_ridge_boundary_m(zeta, c)
            zm = mpmath.mpf(zeta)
            mm = (((1 - cm) / cm - zm) + 1j * mpmath.sqrt((b - zm) * (zm - a))) / (2 * zm)
            mp_m = (mm, (mm**2 + mm) / ((1 - cm) / cm - zm - 2 * zm * mm))
        else:
            m = K.mp_stieltjes_real(zeta, c, 1 - c, 1 / c)
            dm = K.mp_stieltjes_deriv(zeta, m, c, 1 - c, 1 / c)
            mp_m = m_real(mpmath.mpf(zeta))
        kept_averages(zeta, lam, c, complex(m), complex(dm), xs, ws, n, atom, False, out)
        zm = mpmath.mpf(zeta)
        w = -lm * zm / (zm + lm)
        args = (zm, lm, cm, *mp_m, *m_real(w), *m_real(-lm))
        for i, f in enumerate(pf):
            ref = complex(f(*args))
            assert abs(out[i] - ref) <= 1e-12 * abs(ref) + 1e-14, sr.FORMS[i].name
    mpmath.mp.dps = 15


def test_kernel_printer_parenthesizes_reciprocal_sums():
    """``1/(a + b)`` must not print as ``1/a + b`` (a bug the skip kernels exposed)."""
    from rmtrisk._codegen import KernelPrinter

    a, b = sp.symbols("a b")
    text = KernelPrinter().doprint(1 / (a + b) ** 2)
    assert eval(text, {"a": 1.0, "b": 2.0}) == pytest.approx(1 / 9)
    text = KernelPrinter().doprint(1 / (a + b))
    assert eval(text, {"a": 1.0, "b": 2.0}) == pytest.approx(1 / 3)


# ---- limits -------------------------------------------------------------------------------------

@pytest.mark.parametrize("c", [0.25, 0.8, 1.2, 2.0])
@pytest.mark.parametrize("kappa", [0.1, 0.3])
def test_lambda_to_zero_reproduces_the_lambda_zero_formulas(c, kappa):
    """c > 1: the proportional skip engine; c < 1: the closed form of docs/skip_under.md. The
    gap is linear in lambda down to 1e-9 (no loss of precision as lambda -> 0). The limits
    (the default adds the interaction of signal directions for c > 1:
    tests/test_skip_interaction.py checks its own lambda -> 0 limit)."""
    base = make(c, kappa=kappa, reg=0.0)
    r0 = asymptotic_risk(base, limit=True)
    gaps = []
    for lam in (1e-5, 1e-7, 1e-9):
        r = asymptotic_risk(base.replace(reg=lam), limit=True)
        gaps.append((r.risk - r0.risk, r.variance - r0.variance))
    for (g1, v1), (g2, v2) in zip(gaps[:-1], gaps[1:], strict=True):
        assert g2 == pytest.approx(g1 / 100, rel=0.02, abs=1e-12)
        assert v2 == pytest.approx(v1 / 100, rel=0.02, abs=1e-12)
    assert abs(gaps[-1][0]) < 1e-8


@pytest.mark.parametrize("c", [0.5, 2.0])
@pytest.mark.parametrize("lam", [0.05, 1.0])
def test_full_width_is_the_one_layer_ridge_skip(c, lam):
    """``kappa = min(1, 1/c)`` keeps the range of ``F``: ``Gamma = ||F u||^2`` in closed form
    ``(<psi^2> + t (1 - p)^2 c <x/(x + lam)^2>) / (1 + (1 - p) q t)^2``, status AT_EDGE."""
    kappa = min(1.0, 1.0 / c)
    t = 2.0
    on = skip_ridge_grid(c, kappa, lam, 1.0, 1.0, [math.sqrt(t)], [1.0], 1000)
    off = skip_ridge_grid(c, kappa, lam, 1.0, 1.0, [math.sqrt(t)], [0.0], 1000)
    assert int(on.status) == Status.AT_EDGE
    pbar, q, r, gp = K.skip_ridge_constants(c, lam)
    psi2 = 1 - 2 * pbar + lam**2 * r
    gamma = (psi2 + t * pbar**2 * gp) / (1 + pbar * q * t) ** 2
    assert float(on.bias - off.bias) == pytest.approx(gamma, rel=1e-11)


def test_no_signal_is_the_bulk_only():
    """Without signal the risk is ``eta^2 (1 - 2 T_psi + T_psi^2)`` (any d)."""
    c, kappa, lam = 0.7, 0.2, 0.4
    res = [skip_ridge_grid(c, kappa, lam, 1.0, 0.5, [1e-9], [0.0], d) for d in (100, 10**6)]
    assert float(res[0].risk) == pytest.approx(float(res[1].risk), rel=1e-12)
    a, b = _edges(c)
    theta = float(res[0].threshold)

    def t(p):
        return quad(lambda x: _density(x, c) * (x / (x + lam)) ** p, theta, b, epsabs=0,
                    epsrel=1e-13)[0]

    assert float(res[0].variance) == pytest.approx(0.5 * t(2), rel=1e-9)
    assert float(res[0].bias) == pytest.approx(0.5 * (1 - 2 * t(1)), rel=1e-9)


# ---- solver contract -------------------------------------------------------------------------

def test_vectorized_equals_scalar_calls():
    c = np.array([[0.25], [0.9], [1.0], [1.7], [3.0]])
    kappa = np.array([0.05, 0.2, 0.3])
    reg = 0.2
    grid = skip_ridge_grid(c, kappa, reg, [1.0, 0.5, 1.0], 0.7, SV, STRONG, 1500)
    assert grid.risk.shape == (5, 3)
    for i in range(5):
        for j in range(3):
            one = skip_ridge_grid(c[i, 0], kappa[j], reg, [1.0, 0.5, 1.0][j], 0.7, SV, STRONG,
                                  1500)
            for f in ("risk", "bias", "variance", "threshold", "error"):
                assert getattr(grid, f)[i, j] == getattr(one, f)
            assert grid.status[i, j] == one.status
    assert not grid.risk.flags.writeable


def test_status_codes():
    res = skip_ridge_grid([2.0, 2.0, 2.0, 0.5], [0.2, 0.5, 0.2, 0.3], [0.3, 0.3, 0.0, 0.3],
                          1.0, 1.0, SV, STRONG, 1000)
    assert [Status(int(s)) for s in res.status] == [Status.SUCCESS, Status.AT_EDGE,
                                                    Status.UNSUPPORTED, Status.SUCCESS]
    assert np.isnan(res.risk[2]) and np.isfinite(res.risk[1])
    short = skip_ridge_grid(2.0, 0.2, 0.3, 1.0, 1.0, SV, STRONG, 1000, maxiter=1)
    assert int(short.status) == Status.MAX_ITERATIONS and np.isnan(short.risk)
    with pytest.raises(SolverError):
        skip_ridge_grid(2.0, 0.2, 0.0, 1.0, 1.0, SV, STRONG, 1000, throw=True)


def test_outlier_above_the_bulk_is_kept():
    """A strong direction at large lambda pushes an eigenvalue of S above the bulk."""
    res = skip_ridge_grid(0.5, 0.1, [0.3, 50.0], 1.0, 1.0, [math.sqrt(1000.0)], [1.0], 1000)
    assert list(res.outliers) == [0, 1]
    assert np.all(res.success)


@pytest.mark.parametrize("kw, match", [
    (dict(c=0.0), "c must be > 0"),
    (dict(c=np.nan), "c must be finite"),
    (dict(kappa=0.6), "kappa must be in"),          # c = 2: at most 1/c
    (dict(kappa=0.0), "kappa must be in"),
    (dict(reg=-0.1), "reg must be >= 0"),
    (dict(eta2_train=0.0), "eta2_train must be > 0"),
    (dict(eta2_test=-1.0), "eta2_test must be >= 0"),
    (dict(sv=[]), "sv"),
    (dict(test_energy=[1.0]), "test_energy must have one entry per direction"),
    (dict(d=2.5), "d must be an integer"),
])
def test_bad_input_names_the_parameter(kw, match):
    args = dict(c=2.0, kappa=0.2, reg=0.3, eta2_train=1.0, eta2_test=1.0, sv=SV,
                test_energy=STRONG, d=1000)
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        skip_ridge_grid(**args)


@pytest.mark.parametrize("cell", [(0.99, 0.3, 1e-3, [1.0]), (0.5, 0.1, 50.0, [math.sqrt(1e3)]),
                                  (0.5, 1.0, 0.05, [3.0])])
def test_compiled_matches_mpmath_reference(cell):
    c, kappa, lam, sv = cell
    fast = skip_ridge_grid(c, kappa, lam, 1.0, 1.0, sv, [1.0], 1000)
    ref = skip_ridge_reference(c, kappa, lam, 1.0, 1.0, sv, [1.0], 1000, dps=20)
    assert int(fast.status) == ref.status and int(fast.outliers) == ref.outliers
    for f in ("risk", "variance"):
        exact = float(getattr(ref, f))
        assert abs(float(getattr(fast, f)) - exact) <= 1e-12 * abs(exact)
    assert abs(float(fast.risk) - float(ref.risk)) <= float(fast.error)


# ---- theory layer and Monte Carlo -------------------------------------------------------------

def test_asymptotic_risk_dispatch_and_width_cap():
    p = make(2.0, d=1000, kappa=None, k=400)   # k > N = 500 is capped at N: same minimizer
    wide = asymptotic_risk(p.replace(k=900), throw=False)
    capped = asymptotic_risk(p.replace(k=500), throw=False)
    assert wide.regime == "skip-ridge" and wide.risk == capped.risk
    assert capped.status is Status.SUCCESS and "spectral edge" in capped.message


@pytest.mark.parametrize("c, reg", [(0.5, 0.05), (0.5, 1.0), (2.0, 1.0)])
def test_monte_carlo_small_d(c, reg):
    """d = 300, 40 draws: bias and variance within 3 standard errors."""
    p = make(c, d=300, reg=reg)
    mc = monte_carlo_risk(p, reps=40, seed=7, blas_threads=1)
    th = asymptotic_risk(p)
    assert abs(mc.bias - th.bias) <= 3 * mc.bias_stderr
    assert abs(mc.variance - th.variance) <= 3 * mc.variance_stderr


def test_more_outliers_than_the_bottleneck_keeps():
    """k = 1 with two signal outliers above the bulk: only the larger one is kept.

    Keeping both (and a negative count of bulk eigenvalues) gave a negative variance and the
    wrong sign of d (risk - eta2_test). At d = 4000 the O(k/d) excess over the identity term
    matches Monte Carlo; the compiled path equals the mpmath reference.
    """
    base = dict(c=10.0, skip=True, sv=[2.0, 1.0], eta2_train=1e-3, eta2_test=0.3, k=1, reg=1e-3)
    small = Problem(d=500, **base)
    grid = skip_ridge_grid(small.c, 1 / 500, small.reg, small.eta2_train, small.eta2_test,
                           small.sv_array, small.test_energy_array, 500)
    assert int(grid.outliers) == 1
    ref = skip_ridge_reference(small.c, 1 / 500, small.reg, small.eta2_train, small.eta2_test,
                               small.sv_array, small.test_energy_array, 500, dps=20)
    assert ref.outliers == 1
    assert float(grid.risk) == pytest.approx(float(ref.risk), rel=1e-11)
    p = Problem(d=4000, **base)
    th = asymptotic_risk(p)
    assert th.status is Status.SUCCESS and th.variance > 0
    mc = monte_carlo_risk(p, reps=100, seed=3)
    assert abs(th.risk - mc.risk) <= 4 * mc.stderr
    assert (th.risk - 0.3) * p.d < -0.1  # the excess is negative, as in Monte Carlo
