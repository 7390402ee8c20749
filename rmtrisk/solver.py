"""Vectorized grid solver with per-cell status, and the mpmath reference path.

In the style of :mod:`scipy.optimize.elementwise`: array inputs broadcast together, a compiled
(numba) loop evaluates every cell, and every cell carries a :class:`~rmtrisk.status.Status` code
and an error estimate. Nothing raises inside the loop; with ``throw=True`` a
:class:`~rmtrisk.status.SolverError` is raised afterwards if any cell is not SUCCESS.
Inputs are validated (``ValueError`` naming the parameter and its valid range) before any
compiled code runs.

The compiled path calls the generated scalar kernels of :mod:`rmtrisk._kernels`; the reference
path (``*_mp`` functions) evaluates the *same* sympy expressions with mpmath at ``dps`` digits
(:func:`rmtrisk.symbolic.codegen.mpmath_function`) and runs the same safeguarded Newton
iteration in arbitrary precision.

Root-finds are Newton iterations on the tail-mass equation ``F(t) = mass`` with the analytic
derivative ``F'(t) = -f(t)`` (minus the density), started from the edge asymptotics of ``F``,
kept inside a bracket that every evaluation shrinks, with a bisection step whenever the Newton
step leaves the bracket. A cell converges when the Newton step is below 2 ulp of ``t`` or the
residual is below the rounding level of the closed form; its error estimate is
``(|F(t) - mass| + rounding) / f(t)`` (the bracket width if it did not converge).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import mpmath
import numpy as np
from numba import njit

from . import _kernels as K
from .status import SolverError, Status

__all__ = [
    "RidgeRiskResult",
    "RidgeRiskResultMP",
    "SkipUnderRiskResult",
    "SkipUnderRiskResultMP",
    "SkipRiskResult",
    "SkipRiskResultMP",
    "StieltjesResult",
    "ThresholdResult",
    "ThresholdResultMP",
    "density",
    "mp_threshold",
    "mp_threshold_mp",
    "ridge_factors",
    "ridge_moments",
    "ridge_risk",
    "ridge_risk_mp",
    "skip_proportional_risk",
    "skip_proportional_risk_mp",
    "skip_under_overlaps",
    "skip_under_proportional_risk",
    "skip_under_proportional_risk_mp",
    "stieltjes",
    "stieltjes_mp",
    "tail_mass",
    "truncated_moment",
    "truncated_moment_mp",
]

_EPS = float(np.finfo(float).eps)
_SUCCESS = int(Status.SUCCESS)
_MAX_ITERATIONS = int(Status.MAX_ITERATIONS)
_NON_FINITE = int(Status.NON_FINITE)
_WRONG_BRANCH = int(Status.WRONG_BRANCH)
_AT_EDGE = int(Status.AT_EDGE)
_AT_THRESHOLD = int(Status.AT_INTERPOLATION_THRESHOLD)
_UNSUPPORTED = int(Status.UNSUPPORTED)
#: slack allowed on ``kappa * c <= 1`` (``kappa = 1/c`` computed in floating point)
_KAPPA_SLACK = 8 * _EPS
#: relative distance of the threshold from the upper edge below which the c < 1 skip overlaps
#: use their kappa -> 0 limit (the closed form cancels there)
_EDGE_REL = 1e-7


# ============================================================================================
# result types
# ============================================================================================
def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    a.flags.writeable = False
    return a


class ThresholdResult(NamedTuple):
    """Marchenko–Pastur threshold ``t`` with ``mu((t, inf)) = mass`` (read-only arrays).

    Attributes
    ----------
    threshold : ndarray
        The threshold (at an edge for ``mass`` 0 or the whole continuous mass).
    status : ndarray of int8
        :class:`~rmtrisk.status.Status` codes.
    error : ndarray
        Estimated absolute error of ``threshold``.
    iterations : ndarray of int
        Newton/bisection iterations used.
    """

    threshold: np.ndarray
    status: np.ndarray
    error: np.ndarray
    iterations: np.ndarray

    @property
    def success(self) -> np.ndarray:
        """Boolean mask of SUCCESS cells."""
        return self.status == _SUCCESS


class StieltjesResult(NamedTuple):
    """Stieltjes transform ``m(z)``, its derivative and a status per cell (read-only arrays).

    Attributes
    ----------
    m, dm : ndarray of complex
        ``m(z)`` and ``m'(z)``.
    status : ndarray of int8
        SUCCESS; AT_EDGE for real ``z`` in ``[a, b]`` (the boundary value ``m(x + i0)`` is
        returned); NON_FINITE at the atom pole; WRONG_BRANCH if the root fails the Herglotz
        and support-bound checks (e.g. a Newton solve from ``m0`` that found the other root);
        MAX_ITERATIONS if that Newton solve did not converge.
    """

    m: np.ndarray
    dm: np.ndarray
    status: np.ndarray

    @property
    def success(self) -> np.ndarray:
        """Boolean mask of SUCCESS cells."""
        return self.status == _SUCCESS


class SkipRiskResult(NamedTuple):
    """Proportional-bottleneck skip-connection risk per cell (read-only arrays).

    Attributes
    ----------
    risk, bias, variance : ndarray
        Test risk and its split (``variance = eta2_test ||W||_F^2 / d``); ``inf`` at ``c = 1``,
        ``nan`` where unsupported.
    threshold : ndarray
        Noise-Gram eigenvalue threshold ``theta`` with ``mu((theta, inf)) = kappa c``.
    moment : ndarray
        ``T_{-1}(theta) = int_{x > theta} x^{-1} dmu(x)``.
    status : ndarray of int8
        :class:`~rmtrisk.status.Status` codes.
    error : ndarray
        Estimated absolute error of ``risk`` (threshold error propagated through ``T_{-1}``
        plus the rounding level of the sums).
    """

    risk: np.ndarray
    bias: np.ndarray
    variance: np.ndarray
    threshold: np.ndarray
    moment: np.ndarray
    status: np.ndarray
    error: np.ndarray

    @property
    def success(self) -> np.ndarray:
        """Boolean mask of SUCCESS cells."""
        return self.status == _SUCCESS


class ThresholdResultMP(NamedTuple):
    """mpmath threshold: value, status, error estimate and iterations."""

    threshold: mpmath.mpf
    status: Status
    error: mpmath.mpf
    iterations: int


class SkipRiskResultMP(NamedTuple):
    """mpmath reference of one cell of :func:`skip_proportional_risk`."""

    risk: mpmath.mpf
    bias: mpmath.mpf
    variance: mpmath.mpf
    threshold: mpmath.mpf
    moment: mpmath.mpf
    status: Status


class RidgeRiskResult(NamedTuple):
    """No-skip bottleneck risk with product regularization per cell (read-only arrays).

    Attributes
    ----------
    risk, bias, variance : ndarray
        Test risk and its split (``variance = (eta2_test / d) sum_{kept} v_i``); variance and
        risk ``inf`` at ``c = 1, reg = 0``.
    g, gprime : ndarray
        Resolvent moments ``int x/(x + lam) dmu`` and ``int x/(x + lam)^2 dmu`` of the noise
        Gram law at ``lam = reg / eta2_train``.
    status : ndarray of int8
        :class:`~rmtrisk.status.Status` codes.
    error : ndarray
        Estimated absolute rounding error of ``risk``.
    """

    risk: np.ndarray
    bias: np.ndarray
    variance: np.ndarray
    g: np.ndarray
    gprime: np.ndarray
    status: np.ndarray
    error: np.ndarray

    @property
    def success(self) -> np.ndarray:
        """Boolean mask of SUCCESS cells."""
        return self.status == _SUCCESS


class SkipUnderRiskResult(NamedTuple):
    """Skip-connection risk on the side ``c < 1`` (``lambda = 0``) per cell (read-only arrays).

    Attributes
    ----------
    risk, bias, variance : ndarray
        Test risk and its split; ``inf`` at ``c = 1``, ``nan`` where unsupported (``c > 1``).
    threshold : ndarray
        Threshold ``theta`` of the law of ``A A^T`` (``eta_trn = 1`` units: ratio ``c``, scale
        ``1/c``) with ``mu((theta, inf)) = kappa``.
    status : ndarray of int8
        :class:`~rmtrisk.status.Status` codes.
    error : ndarray
        Estimated absolute error of ``risk`` (threshold error and the rounding level of the
        closed-form overlaps; the edge-limit truncation for AT_EDGE cells).
    """

    risk: np.ndarray
    bias: np.ndarray
    variance: np.ndarray
    threshold: np.ndarray
    status: np.ndarray
    error: np.ndarray

    @property
    def success(self) -> np.ndarray:
        """Boolean mask of SUCCESS cells."""
        return self.status == _SUCCESS


class RidgeRiskResultMP(NamedTuple):
    """mpmath reference of one cell of :func:`ridge_risk`."""

    risk: mpmath.mpf
    bias: mpmath.mpf
    variance: mpmath.mpf
    g: mpmath.mpf
    gprime: mpmath.mpf
    status: Status


class SkipUnderRiskResultMP(NamedTuple):
    """mpmath reference of one cell of :func:`skip_under_proportional_risk`."""

    risk: mpmath.mpf
    bias: mpmath.mpf
    variance: mpmath.mpf
    threshold: mpmath.mpf
    status: Status


# ============================================================================================
# validation (before any compiled code runs)
# ============================================================================================
def _float_array(name: str, value: Any) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number or array of them, got {value!r}") from None
    bad = ~np.isfinite(arr)
    if np.any(bad):
        raise ValueError(f"{name} must be finite (no NaN or inf), got {arr[bad].flat[0]!r}")
    return arr


def _require(name: str, arr: np.ndarray, ok: np.ndarray, valid: str) -> None:
    if not np.all(ok):
        raise ValueError(f"{name} must be {valid}, got {np.asarray(arr)[~ok].flat[0]!r}")


def _law_inputs(gamma: Any, scale: Any) -> tuple[np.ndarray, np.ndarray]:
    g = _float_array("gamma", gamma)
    _require("gamma", g, g > 0, "> 0 (ratio p/n)")
    s = _float_array("scale", scale)
    _require("scale", s, s > 0, "> 0")
    return g, s


def _spectrum(name: str, value: Any, positive: bool) -> np.ndarray:
    arr = _float_array(name, value)
    arr = np.atleast_1d(arr)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty one-dimensional array, got shape "
                         f"{arr.shape}")
    if positive:
        _require(name, arr, arr > 0, "> 0 (drop zero directions)")
    else:
        _require(name, arr, arr >= 0, ">= 0")
    return np.ascontiguousarray(arr)


def _raise_if_bad(status: np.ndarray, what: str) -> None:
    bad = status != _SUCCESS
    if np.any(bad):
        idx = np.unravel_index(int(np.argmax(bad)), status.shape) if status.ndim else ()
        code = Status(int(status[idx]))
        raise SolverError(code, f"{int(bad.sum())} of {status.size} {what} cells not SUCCESS "
                                f"(first at index {tuple(int(i) for i in idx)})")


# ============================================================================================
# compiled scalar solvers
# ============================================================================================
@njit(cache=True, error_model="numpy")
def _threshold_scalar(mass, gamma, gammabar, s, maxiter):
    """Safeguarded Newton for ``F(t) = mass``: ``(t, status, error, iterations)``."""
    a, b = K.mp_edges(gamma, gammabar, s)
    cm = K.mp_masses(gamma, gammabar, s)[1]
    if mass <= 0.0:
        return b, _AT_EDGE, 0.0, 0
    if mass >= cm:
        if gammabar >= 0.0 or mass == cm:
            return a, _AT_EDGE, 0.0, 0
        return 0.0, _AT_EDGE, 0.0, 0
    lo = a
    hi = b
    tu, tl = K.mp_threshold_guess(mass, gamma, gammabar, s)
    t = tu if mass <= 0.5 * cm else tl
    if not (lo < t < hi):
        t = 0.5 * (lo + hi)
    for it in range(1, maxiter + 1):
        g = K.mp_tail_mass(t, gamma, gammabar, s) - mass
        f = K.mp_density(t, gamma, gammabar, s)
        noise = 4.0 * _EPS * K.mp_moment_scale_0(t, gamma, gammabar, s) + _EPS * mass
        if g > 0.0:
            lo = t
        elif g < 0.0:
            hi = t
        if f > 0.0 and abs(g) <= noise:
            return t, _SUCCESS, (abs(g) + noise) / f, it
        step = g / f if f > 0.0 else math.nan
        tn = t + step
        if not (lo < tn < hi):
            tn = 0.5 * (lo + hi)
        if abs(tn - t) <= 2.0 * _EPS * abs(t) or hi - lo <= 2.0 * _EPS * hi:
            err = (abs(g) + noise) / f if f > 0.0 else hi - lo
            return tn, _SUCCESS, max(err, _EPS * abs(tn)), it
        t = tn
    return t, _MAX_ITERATIONS, hi - lo, maxiter


@njit(cache=True, error_model="numpy")
def _threshold_grid(mass, gamma, s, maxiter, t_out, st_out, err_out, it_out):
    for i in range(mass.size):
        t, st, err, it = _threshold_scalar(mass[i], gamma[i], 1.0 - gamma[i], s[i], maxiter)
        t_out[i] = t
        st_out[i] = st
        err_out[i] = err
        it_out[i] = it


@njit(cache=True, error_model="numpy")
def _moment_scalar(p, t, gamma, gammabar, s):
    if p == -2:
        return K.mp_moment_m2(t, gamma, gammabar, s)
    if p == -1:
        return K.mp_moment_m1(t, gamma, gammabar, s)
    if p == 0:
        return K.mp_moment_0(t, gamma, gammabar, s)
    if p == 1:
        return K.mp_moment_1(t, gamma, gammabar, s)
    return K.mp_moment_2(t, gamma, gammabar, s)


@njit(cache=True, error_model="numpy")
def _moment_grid(p, t, gamma, s, out):
    for i in range(t.size):
        out[i] = _moment_scalar(p, t[i], gamma[i], 1.0 - gamma[i], s[i])


@njit(cache=True, error_model="numpy")
def _density_grid(x, gamma, s, out):
    for i in range(x.size):
        out[i] = K.mp_density(x[i], gamma[i], 1.0 - gamma[i], s[i])


@njit(cache=True, error_model="numpy")
def _branch_ok(z, m, gamma, gammabar, s):
    """Herglotz / support-bound test that singles out the physical root."""
    a, b = K.mp_edges(gamma, gammabar, s)
    atom, cm = K.mp_masses(gamma, gammabar, s)
    if z.imag != 0.0:
        # Im m and Im(z m) have the sign of Im z for a measure on [0, inf)
        tol = 64.0 * _EPS * abs(m)
        return m.imag * z.imag > -tol * abs(z.imag) and (z * m).imag * z.imag > -tol * abs(
            z * z.imag)
    x = z.real
    mc = m.real + (atom / x if atom > 0.0 else 0.0)  # remove the atom term -atom / x
    lo = cm / (a - x)
    hi = cm / (b - x)
    if lo > hi:
        lo, hi = hi, lo
    slack = 64.0 * _EPS * (abs(lo) + abs(hi))
    return lo - slack <= mc <= hi + slack


@njit(cache=True, error_model="numpy")
def _stieltjes_grid(z, gamma, s, m0, use_m0, maxiter, m_out, dm_out, st_out):
    for i in range(z.size):
        g = gamma[i]
        gb = 1.0 - g
        zi = z[i]
        a, b = K.mp_edges(g, gb, s[i])
        status = _SUCCESS
        if zi == 0.0:
            # m(0) = 1/(s (1 - gamma)) without atom; the atom at 0 is a pole (gamma >= 1)
            m = complex(1.0 / (s[i] * gb), 0.0) if gb > 0.0 else complex(math.inf, 0.0)
        elif use_m0:
            m = m0[i]
            status = _MAX_ITERATIONS
            for _ in range(maxiter):
                P, dP = K.mp_stieltjes_poly(zi, m, g, gb, s[i])
                if dP == 0.0:
                    break
                step = P / dP
                m = m - step
                if abs(step) <= 4.0 * _EPS * abs(m):
                    status = _SUCCESS
                    break
        else:
            m = K.mp_stieltjes(zi, g, gb, s[i])
        if zi == 0.0 and gb <= 0.0:
            dm = complex(math.nan, 0.0)
        else:
            dm = K.mp_stieltjes_deriv(zi, m, g, gb, s[i])
        if zi.imag == 0.0 and a <= zi.real <= b and a < b and zi != 0.0:
            status = _AT_EDGE
        elif not (math.isfinite(m.real) and math.isfinite(m.imag)):
            status = _NON_FINITE
        elif status == _SUCCESS and not _branch_ok(zi, m, g, gb, s[i]):
            status = _WRONG_BRANCH
        m_out[i] = m
        dm_out[i] = dm
        st_out[i] = status


@njit(cache=True, error_model="numpy")
def _skip_grid(c, kappa, e2tr, e2te, sv, ell, d, maxiter,
               risk, bias, var, theta, moment, st_out, err_out):
    r = sv.size
    for i in range(c.size):
        ci = c[i]
        ki = kappa[i]
        if ci < 1.0:
            risk[i] = bias[i] = var[i] = theta[i] = moment[i] = err_out[i] = math.nan
            st_out[i] = _UNSUPPORTED
            continue
        gamma = 1.0 / ci
        gbar = (ci - 1.0) / ci
        s = e2tr[i]
        mass = min(ki * ci, 1.0)
        t, st, err_t, _ = _threshold_scalar(mass, gamma, gbar, s, maxiter)
        T = K.mp_moment_m1(t, gamma, gbar, s)
        theta[i] = t
        moment[i] = T
        if ci == 1.0:
            risk[i] = bias[i] = var[i] = math.inf
            err_out[i] = math.nan
            st_out[i] = _AT_THRESHOLD
            continue
        G = 0.0
        dG = 0.0
        F = 0.0
        dF = 0.0
        Tr = 0.0
        dTr = 0.0
        for j in range(r):
            g_, dg_, f_, df_, tr_, dtr_ = K.skip_direction_terms(sv[j], ki, ci, s, T)
            G += ell[j] * g_
            dG += ell[j] * dg_
            F += f_
            dF += df_
            Tr += tr_
            dTr += dtr_
        R, B, V = K.skip_aggregate(G, F, Tr, ki, d, e2te[i])
        risk[i] = R
        bias[i] = B
        var[i] = V
        # error: threshold error through T_{-1} (dT/dt = -f(t)/t), plus rounding
        err_T = (K.mp_density(t, gamma, gbar, s) / t) * err_t + 4.0 * _EPS * abs(
            K.mp_moment_scale_m1(t, gamma, gbar, s))
        dR = dG + e2te[i] * (2.0 * dTr + dF) / d
        size = abs(G) + e2te[i] * (abs(1.0 - ki) + (2.0 * abs(Tr) + abs(F)) / d)
        err_out[i] = abs(dR) * err_T + (r + 8.0) * _EPS * size
        if not (math.isfinite(R) and math.isfinite(B) and math.isfinite(V)
                and math.isfinite(T)):
            st_out[i] = _NON_FINITE
        else:
            st_out[i] = st


@njit(cache=True, error_model="numpy")
def _ridge_factors_grid(t, c, lam, b_out, v_out, g_out, gp_out):
    for i in range(t.size):
        g, gp = K.ridge_moments(c[i], lam[i])
        b, v = K.ridge_direction_factors(t[i], g, gp)
        b_out[i] = b
        v_out[i] = v
        g_out[i] = g
        gp_out[i] = gp


@njit(cache=True, error_model="numpy")
def _ridge_grid(c, reg, e2tr, e2te, sv, ell, kept, d,
                risk, bias, var, g_out, gp_out, st_out, err_out):
    r = sv.size
    for i in range(c.size):
        lam = reg[i] / e2tr[i]
        g, gp = K.ridge_moments(c[i], lam)
        Bk = 0.0
        Bd = 0.0
        V = 0.0
        for j in range(r):
            if kept[j]:
                b, v = K.ridge_direction_factors(sv[j] * sv[j] / e2tr[i], g, gp)
                Bk += ell[j] * b
                V += v
            else:
                Bd += ell[j]
        R, B, Vv = K.ridge_aggregate(Bk, Bd, V, e2te[i], d)
        g_out[i] = g
        gp_out[i] = gp
        bias[i] = B
        if c[i] == 1.0 and lam == 0.0:
            risk[i] = var[i] = math.inf
            err_out[i] = math.nan
            st_out[i] = _AT_THRESHOLD
            continue
        risk[i] = R
        var[i] = Vv
        # every term is positive: relative rounding of the kernels plus the sums
        err_out[i] = (r + 16.0) * _EPS * abs(R)
        if not (math.isfinite(R) and math.isfinite(B) and math.isfinite(Vv)
                and math.isfinite(g) and math.isfinite(gp)):
            st_out[i] = _NON_FINITE
        else:
            st_out[i] = _SUCCESS


@njit(cache=True, error_model="numpy")
def _skip_under_overlaps_scalar(t, c, kappa, theta, mode):
    """``(pi0, pi1, dpi0/dtheta, scale0, scale1)``; mode 0 general, 1 upper edge, 2 full width."""
    if mode == 2:
        p0, p1 = K.skip_under_full_overlaps(t, c)
        return float(p0), p1, 0.0, 0.0, 0.0
    if mode == 1:
        p0, p1 = K.skip_under_edge_overlaps(t, c, kappa)
        return p0, p1, 0.0, abs(p0), abs(p1)
    p0, p1, dp0, _, s0, s1 = K.skip_under_overlaps(t, c, theta)
    return p0, p1, dp0, s0, s1


@njit(cache=True, error_model="numpy")
def _skip_under_branch(c, kappa, theta):
    """Branch of one cell from its threshold: ``(theta, mode, edge_gap)``.

    Mode 2: full width (``kappa >= 1``); mode 1: threshold within ``_EDGE_REL`` of the upper
    edge (the closed form cancels there; its ``kappa -> 0`` limit is used); mode 0: general.
    """
    a, b = K.skip_under_edges(c)
    if kappa >= 1.0:
        return a, 2, 0.0
    if b - theta <= _EDGE_REL * (b - a):
        return theta, 1, (b - theta) / (b - a)
    return max(theta, a), 0, 0.0


@njit(cache=True, error_model="numpy")
def _skip_under_mode(c, kappa, maxiter):
    """Threshold and branch of one cell: ``(theta, status, error, mode, edge_gap)``."""
    if kappa >= 1.0:
        theta, st, err = K.skip_under_edges(c)[0], _AT_EDGE, 0.0
    else:
        theta, st, err, _ = _threshold_scalar(kappa, c, 1.0 - c, 1.0 / c, maxiter)
    theta, mode, gap = _skip_under_branch(c, kappa, theta)
    if mode != 0:
        st = _AT_EDGE
    return theta, st, err, mode, gap


@njit(cache=True, error_model="numpy")
def _skip_under_overlaps_grid(t, c, kappa, theta, use_theta, maxiter, pi0, pi1):
    for i in range(t.size):
        if use_theta:
            th, mode, _ = _skip_under_branch(c[i], kappa[i], theta[i])
        else:
            th, _, _, mode, _ = _skip_under_mode(c[i], kappa[i], maxiter)
        p0, p1, _, _, _ = _skip_under_overlaps_scalar(t[i], c[i], kappa[i], th, mode)
        pi0[i] = p0
        pi1[i] = p1


@njit(cache=True, error_model="numpy")
def _skip_under_grid(c, kappa, e2tr, e2te, sv, ell, d, maxiter,
                     risk, bias, var, theta_out, st_out, err_out):
    r = sv.size
    for i in range(c.size):
        ci = c[i]
        ki = kappa[i]
        if ci > 1.0:
            risk[i] = bias[i] = var[i] = theta_out[i] = err_out[i] = math.nan
            st_out[i] = _UNSUPPORTED
            continue
        if ci == 1.0:
            risk[i] = bias[i] = var[i] = math.inf
            theta_out[i] = err_out[i] = math.nan
            st_out[i] = _AT_THRESHOLD
            continue
        th, st, err_t, mode, gap = _skip_under_mode(ci, ki, maxiter)
        theta_out[i] = th
        G = 0.0
        F = 0.0
        Tr = 0.0
        Vp = 0.0
        err = 0.0
        size = 0.0
        for j in range(r):
            t = sv[j] * sv[j] / e2tr[i]
            p0, p1, dp0, s0, s1 = _skip_under_overlaps_scalar(t, ci, ki, th, mode)
            gam, tr, fr, vp = K.skip_under_direction_terms(t, ci, p0, p1)
            G += ell[j] * gam
            F += fr
            Tr += tr
            Vp += vp
            # sensitivity of the risk to pi0 (tr cancels in the risk)
            w1, _, _, v1 = K.skip_under_direction_terms(t, ci, 1.0, 0.0)
            sens = ell[j] * w1 + e2te[i] * v1 / d
            dpi = abs(dp0) * err_t + 8.0 * _EPS * s0 + 2.0 * gap * s0
            err += sens * dpi
            size += abs(ell[j] * gam) + e2te[i] * (abs(vp) + abs(fr) + 2.0 * abs(tr)) / d
        R, B, V = K.skip_under_aggregate(G, F, Tr, Vp, ki, d, e2te[i])
        risk[i] = R
        bias[i] = B
        var[i] = V
        size += e2te[i] * (1.0 + ki)
        err_out[i] = err + (r + 8.0) * _EPS * size
        if not (math.isfinite(R) and math.isfinite(B) and math.isfinite(V)):
            st_out[i] = _NON_FINITE
        else:
            st_out[i] = st


def invalidate_stale_caches(namespace: dict[str, Any], module: str, tag: str) -> None:
    """Flush a module's numba caches when ``_kernels.py`` or this module changed.

    numba keys a cached function on the stat of its own source file only, so regenerating the
    kernels (or the solver loops other modules call) would otherwise leave the compiled loops
    calling the old inlined code. A stamp (hash of ``_kernels.py`` and ``solver.py``) named
    ``tag`` is kept next to the cache files of the jitted functions of ``namespace`` (a
    module's ``globals()``) defined in ``module``.
    """
    try:
        sources = (Path(K.__file__), Path(__file__))  # the kernels and this module's loops
        digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:32]
        dispatchers = [obj for obj in namespace.values() if hasattr(obj, "_cache")
                       and getattr(obj, "py_func", None) is not None
                       and obj.py_func.__module__ == module]
        stamp = Path(dispatchers[0]._cache._cache_path) / f"{tag}.kernels-stamp"
        old = stamp.read_text() if stamp.exists() else None
        if old != digest:
            for disp in dispatchers:
                disp._cache.flush()
            stamp.write_text(digest)
    except (OSError, AttributeError, IndexError):  # pragma: no cover - caching is optional
        pass


invalidate_stale_caches(globals(), __name__, "rmtrisk_solver")


# ============================================================================================
# public compiled API
# ============================================================================================
def _broadcast(*arrays: np.ndarray) -> tuple[tuple[int, ...], list[np.ndarray]]:
    b = np.broadcast_arrays(*arrays)
    shape = b[0].shape
    return shape, [np.array(x, dtype=float).ravel() for x in b]


def _maxiter(maxiter: Any) -> int:
    if isinstance(maxiter, bool) or not isinstance(maxiter, (int, np.integer)) or maxiter < 1:
        raise ValueError(f"maxiter must be an integer >= 1, got {maxiter!r}")
    return int(maxiter)


def mp_threshold(gamma: Any, mass: Any, scale: Any = 1.0, *, maxiter: int = 100,
                 throw: bool = False) -> ThresholdResult:
    """Threshold ``t`` with ``mu((t, inf)) = mass`` for the Marchenko–Pastur law.

    Parameters
    ----------
    gamma : array_like
        Ratio ``gamma > 0``.
    mass : array_like
        Tail mass in ``[0, 1]``. ``0`` gives the upper edge and a mass at least the continuous
        mass ``min(1, 1/gamma)`` gives the lower edge ``a`` (``0`` above ``1/gamma`` when
        ``gamma > 1``), both with status AT_EDGE.
    scale : array_like
        Scale ``s > 0``.
    maxiter : int
        Iteration limit of the safeguarded Newton iteration.
    throw : bool
        Raise :class:`~rmtrisk.status.SolverError` if any cell is not SUCCESS.

    Returns
    -------
    ThresholdResult
        Arrays of the broadcast shape of the inputs.
    """
    g, s = _law_inputs(gamma, scale)
    q = _float_array("mass", mass)
    _require("mass", q, (q >= 0) & (q <= 1), "in [0, 1]")
    maxiter = _maxiter(maxiter)
    shape, (q, g, s) = _broadcast(q, g, s)
    n = q.size
    t = np.empty(n)
    st = np.empty(n, dtype=np.int8)
    err = np.empty(n)
    it = np.empty(n, dtype=np.int64)
    _threshold_grid(q, g, s, maxiter, t, st, err, it)
    out = ThresholdResult(*(_frozen(x.reshape(shape)) for x in (t, st, err, it)))
    if throw:
        _raise_if_bad(out.status, "threshold")
    return out


def truncated_moment(p: int, t: Any, gamma: Any, scale: Any = 1.0) -> np.ndarray:
    """``T_p(t) = int_{x > t} x^p dmu(x)`` in closed form, vectorized over ``t, gamma, scale``.

    Parameters
    ----------
    p : {-2, -1, 0, 1, 2}
        Order of the moment.
    t : array_like
        Threshold (any real; clamped to the support, the atom at 0 counts for ``t < 0``).
    gamma, scale : array_like
        Ratio ``> 0`` and scale ``> 0`` of the law.

    Returns
    -------
    ndarray
        Values of the broadcast shape (``inf`` for ``p < 0`` below an atom).
    """
    if isinstance(p, bool) or p not in (-2, -1, 0, 1, 2):
        raise ValueError(f"p must be one of -2, -1, 0, 1, 2, got {p!r}")
    g, s = _law_inputs(gamma, scale)
    tt = _float_array("t", t)
    shape, (tt, g, s) = _broadcast(tt, g, s)
    out = np.empty(tt.size)
    _moment_grid(int(p), tt, g, s, out)
    return out.reshape(shape)


def tail_mass(t: Any, gamma: Any, scale: Any = 1.0) -> np.ndarray:
    """Tail mass ``F(t) = mu((t, inf)) = T_0(t)`` (vectorized)."""
    return truncated_moment(0, t, gamma, scale)


def density(x: Any, gamma: Any, scale: Any = 1.0) -> np.ndarray:
    """Density of the continuous part of the law (vectorized; 0 outside ``(a, b)``)."""
    g, s = _law_inputs(gamma, scale)
    xx = _float_array("x", x)
    shape, (xx, g, s) = _broadcast(xx, g, s)
    out = np.empty(xx.size)
    _density_grid(xx, g, s, out)
    return out.reshape(shape)


def stieltjes(z: Any, gamma: Any, scale: Any = 1.0, *, m0: Any = None, maxiter: int = 50,
              throw: bool = False) -> StieltjesResult:
    """Stieltjes transform ``m(z) = int dmu(x) / (x - z)`` and ``m'(z)``, vectorized.

    Parameters
    ----------
    z : array_like of complex
        Spectral argument. Real ``z`` in ``[a, b]`` returns the boundary value ``m(x + i0)``
        with status AT_EDGE.
    gamma, scale : array_like
        Ratio ``> 0`` and scale ``> 0``.
    m0 : array_like of complex, optional
        If given, solve the quadratic by Newton's method from ``m0`` instead of using the closed
        form, and check the branch of the result (WRONG_BRANCH if it is the other root).
    maxiter : int
        Newton iteration limit (with ``m0``).
    throw : bool
        Raise :class:`~rmtrisk.status.SolverError` if any cell is not SUCCESS.

    Returns
    -------
    StieltjesResult
    """
    try:
        zz = np.asarray(z, dtype=complex)
    except (TypeError, ValueError):
        raise ValueError(f"z must be a complex number or array of them, got {z!r}") from None
    if not np.all(np.isfinite(zz)):
        raise ValueError("z must be finite (no NaN or inf)")
    g, s = _law_inputs(gamma, scale)
    maxiter = _maxiter(maxiter)
    use_m0 = m0 is not None
    mm0 = np.asarray(0.0 if m0 is None else m0, dtype=complex)
    if not np.all(np.isfinite(mm0)):
        raise ValueError("m0 must be finite (no NaN or inf)")
    b = np.broadcast_arrays(zz, g, s, mm0)
    shape = b[0].shape
    zz, mm0 = (np.array(b[i], dtype=complex).ravel() for i in (0, 3))
    g, s = (np.array(b[i], dtype=float).ravel() for i in (1, 2))
    n = zz.size
    m = np.empty(n, dtype=complex)
    dm = np.empty(n, dtype=complex)
    st = np.empty(n, dtype=np.int8)
    _stieltjes_grid(zz, g, s, mm0, use_m0, maxiter, m, dm, st)
    out = StieltjesResult(*(_frozen(x.reshape(shape)) for x in (m, dm, st)))
    if throw:
        _raise_if_bad(out.status, "Stieltjes")
    return out


def _skip_inputs(c: Any, kappa: Any, eta2_train: Any, eta2_test: Any, sv: Any,
                 test_energy: Any, d: Any):
    cc = _float_array("c", c)
    _require("c", cc, cc > 0, "> 0 (aspect ratio d/N)")
    kk = _float_array("kappa", kappa)
    _require("kappa", kk, kk > 0, "in (0, 1/c] (bottleneck k = kappa d)")
    cb, kb = np.broadcast_arrays(cc, kk)
    ok = (kb * cb <= 1.0 + _KAPPA_SLACK) | ((cb < 1.0) & (kb <= 1.0))
    if not np.all(ok):
        bad = np.argmax(~ok.ravel())
        raise ValueError(
            f"kappa must be in (0, 1/c] (k = kappa d <= N) for c >= 1 and in (0, 1] for c < 1, "
            f"got kappa={kb.ravel()[bad]!r} at c={cb.ravel()[bad]!r}")
    e2tr = _float_array("eta2_train", eta2_train)
    _require("eta2_train", e2tr, e2tr > 0, "> 0 (training-noise level)")
    e2te = _float_array("eta2_test", eta2_test)
    _require("eta2_test", e2te, e2te >= 0, ">= 0 (test-noise level)")
    svs = _spectrum("sv", sv, positive=True)
    ell = _spectrum("test_energy", test_energy, positive=False)
    if ell.size != svs.size:
        raise ValueError(f"test_energy must have one entry per direction (r={svs.size}), "
                         f"got {ell.size}")
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
        raise ValueError(f"d must be an integer, got {d!r}")
    if d < svs.size:
        raise ValueError(f"d must be an integer >= r = len(sv) = {svs.size}, got {d}")
    return cc, kk, e2tr, e2te, svs, ell, int(d)


def skip_proportional_risk(c: Any, kappa: Any, eta2_train: Any, eta2_test: Any, sv: Any,
                           test_energy: Any, d: int, *, maxiter: int = 100,
                           throw: bool = False) -> SkipRiskResult:
    """Test risk of the skip-connection DAE with a proportional bottleneck ``k = kappa d``.

    Regime ``c > 1``, ``lambda = 0`` (formula in :mod:`rmtrisk.symbolic.risk`). ``c``,
    ``kappa``, ``eta2_train`` and ``eta2_test`` broadcast together; the signal spectrum is
    shared by all cells.

    Parameters
    ----------
    c : array_like
        Aspect ratio ``d / N > 0``. ``c = 1`` gives AT_INTERPOLATION_THRESHOLD (risk ``inf``),
        ``c < 1`` UNSUPPORTED (``nan``).
    kappa : array_like
        Bottleneck ratio ``k / d`` in ``(0, 1/c]``; ``kappa = 1/c`` keeps the whole noise
        spectrum (threshold at the lower edge, status AT_EDGE, values still computed).
    eta2_train : array_like
        Training-noise level ``> 0``.
    eta2_test : array_like
        Test-noise level ``>= 0``.
    sv : array_like, shape (r,)
        Singular values ``> 0`` of the clean training data.
    test_energy : array_like, shape (r,)
        Per-direction test energies ``>= 0``.
    d : int
        Ambient dimension ``>= r`` (enters only the ``O(r/d)`` terms).
    maxiter : int
        Iteration limit of the threshold root-find (MAX_ITERATIONS when exhausted).
    throw : bool
        Raise :class:`~rmtrisk.status.SolverError` if any cell is not SUCCESS.

    Returns
    -------
    SkipRiskResult
        Arrays of the broadcast shape of ``(c, kappa, eta2_train, eta2_test)``.
    """
    cc, kk, e2tr, e2te, svs, ell, d = _skip_inputs(c, kappa, eta2_train, eta2_test, sv,
                                                   test_energy, d)
    maxiter = _maxiter(maxiter)
    shape, (cc, kk, e2tr, e2te) = _broadcast(cc, kk, e2tr, e2te)
    n = cc.size
    outs = [np.empty(n) for _ in range(5)]
    st = np.empty(n, dtype=np.int8)
    err = np.empty(n)
    _skip_grid(cc, kk, e2tr, e2te, svs, ell, float(d), maxiter, *outs, st, err)
    risk, bias, var, theta, moment = (_frozen(x.reshape(shape)) for x in outs)
    out = SkipRiskResult(risk, bias, var, theta, moment, _frozen(st.reshape(shape)),
                         _frozen(err.reshape(shape)))
    if throw:
        _raise_if_bad(out.status, "risk")
    return out


def _ridge_law_inputs(c: Any, lam: Any, lam_name: str) -> tuple[np.ndarray, np.ndarray]:
    cc = _float_array("c", c)
    _require("c", cc, cc > 0, "> 0 (aspect ratio d/N)")
    ll = _float_array(lam_name, lam)
    _require(lam_name, ll, ll >= 0, ">= 0 (product regularization)")
    return cc, ll


def ridge_moments(c: Any, lam: Any) -> tuple[np.ndarray, np.ndarray]:
    """Ridge resolvent moments ``(g, g')`` of the unit-scale law of ``A^T A`` at ``z = -lam``.

    ``g = int x/(x + lam) dmu`` and ``g' = int x/(x + lam)^2 dmu`` (ratio ``1/c``), from the
    generated kernel ``ridge_moments`` (:mod:`rmtrisk.symbolic.regimes`), vectorized.

    Parameters
    ----------
    c : array_like
        Aspect ratio ``d / N > 0``.
    lam : array_like
        Regularization in noise units ``lambda / eta2_train >= 0`` (``g' = inf`` at ``c = 1``,
        ``lam = 0``).

    Returns
    -------
    g, gprime : ndarray
        Arrays of the broadcast shape.
    """
    cc, ll = _ridge_law_inputs(c, lam, "lam")
    shape, (cc, ll) = _broadcast(cc, ll)
    return _ridge_factor_arrays(np.ones_like(cc), cc, ll, shape)[2:]


def _ridge_factor_arrays(t, c, lam, shape):
    n = t.size
    outs = [np.empty(n) for _ in range(4)]
    _ridge_factors_grid(t, c, lam, *outs)
    return tuple(x.reshape(shape) for x in outs)


def ridge_factors(t: Any, c: Any, lam: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per-direction ridge factors ``(b, v)`` (vectorized over ``t, c, lam``).

    Parameters
    ----------
    t : array_like
        Training SNRs ``sigma^2 / eta2_train > 0``.
    c, lam : array_like
        As in :func:`ridge_moments`.

    Returns
    -------
    b, v : ndarray
        ``b = 1/(1 + g t)^2``, ``v = t (1 + t) g'/(1 + g t)^2`` of the broadcast shape.
    """
    tt = _float_array("t", t)
    _require("t", tt, tt > 0, "> 0 (training SNR sigma^2 / eta2_train)")
    cc, ll = _ridge_law_inputs(c, lam, "lam")
    shape, (tt, cc, ll) = _broadcast(tt, cc, ll)
    return _ridge_factor_arrays(tt, cc, ll, shape)[:2]


def _signal_inputs(eta2_train: Any, eta2_test: Any, sv: Any, test_energy: Any, d: Any):
    e2tr = _float_array("eta2_train", eta2_train)
    _require("eta2_train", e2tr, e2tr > 0, "> 0 (training-noise level)")
    e2te = _float_array("eta2_test", eta2_test)
    _require("eta2_test", e2te, e2te >= 0, ">= 0 (test-noise level)")
    svs = _spectrum("sv", sv, positive=True)
    ell = _spectrum("test_energy", test_energy, positive=False)
    if ell.size != svs.size:
        raise ValueError(f"test_energy must have one entry per direction (r={svs.size}), "
                         f"got {ell.size}")
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
        raise ValueError(f"d must be an integer, got {d!r}")
    if d < svs.size:
        raise ValueError(f"d must be an integer >= r = len(sv) = {svs.size}, got {d}")
    return e2tr, e2te, svs, ell, int(d)


def _ridge_inputs(c, reg, eta2_train, eta2_test, sv, test_energy, d, kept):
    cc, rr = _ridge_law_inputs(c, reg, "reg")
    e2tr, e2te, svs, ell, d = _signal_inputs(eta2_train, eta2_test, sv, test_energy, d)
    if kept is None:
        mask = np.ones(svs.size, dtype=np.bool_)
    else:
        mask = np.asarray(kept)
        if mask.dtype != np.bool_ or mask.shape != svs.shape:
            raise ValueError(f"kept must be a boolean mask of shape ({svs.size},) (one entry per "
                             f"direction), got {kept!r}")
        mask = np.ascontiguousarray(mask)
    return cc, rr, e2tr, e2te, svs, ell, d, mask


def ridge_risk(c: Any, reg: Any, eta2_train: Any, eta2_test: Any, sv: Any, test_energy: Any,
               d: int, *, kept: Any = None, throw: bool = False) -> RidgeRiskResult:
    """Test risk of the no-skip bottleneck DAE with product regularization ``lambda = reg``.

    Closed form of :mod:`rmtrisk.symbolic.regimes` (derivation ``docs/ridge.md``):
    ``R = sum_{kept} (l_i b_i + eta2_test v_i / d) + sum_{dropped} l_i`` with
    ``t_i = sv_i^2 / eta2_train`` and ``lam = reg / eta2_train``. ``c``, ``reg``,
    ``eta2_train`` and ``eta2_test`` broadcast together; the signal spectrum is shared.

    Parameters
    ----------
    c : array_like
        Aspect ratio ``d / N > 0`` (both sides of ``c = 1``).
    reg : array_like
        Product regularization ``lambda >= 0``; ``reg = 0`` is the minimum-norm limit, at
        ``c = 1`` with status AT_INTERPOLATION_THRESHOLD (variance and risk ``inf``).
    eta2_train : array_like
        Training-noise level ``> 0``.
    eta2_test : array_like
        Test-noise level ``>= 0``.
    sv : array_like, shape (r,)
        Singular values ``> 0`` of the clean training data.
    test_energy : array_like, shape (r,)
        Per-direction test energies ``>= 0``.
    d : int
        Ambient dimension ``>= r``.
    kept : array_like of bool, shape (r,), optional
        Directions kept by the bottleneck (default: all, i.e. ``k >= r``). The global minimizer
        keeps the top ``k`` singular values.
    throw : bool
        Raise :class:`~rmtrisk.status.SolverError` if any cell is not SUCCESS.

    Returns
    -------
    RidgeRiskResult
        Arrays of the broadcast shape of ``(c, reg, eta2_train, eta2_test)``; status SUCCESS,
        AT_INTERPOLATION_THRESHOLD or NON_FINITE (overflow, e.g. ``sv^2 / eta2_train = inf``).
    """
    cc, rr, e2tr, e2te, svs, ell, d, mask = _ridge_inputs(c, reg, eta2_train, eta2_test, sv,
                                                          test_energy, d, kept)
    shape, (cc, rr, e2tr, e2te) = _broadcast(cc, rr, e2tr, e2te)
    n = cc.size
    outs = [np.empty(n) for _ in range(5)]
    st = np.empty(n, dtype=np.int8)
    err = np.empty(n)
    _ridge_grid(cc, rr, e2tr, e2te, svs, ell, mask, float(d), *outs, st, err)
    risk, bias, var, g, gp = (_frozen(x.reshape(shape)) for x in outs)
    out = RidgeRiskResult(risk, bias, var, g, gp, _frozen(st.reshape(shape)),
                          _frozen(err.reshape(shape)))
    if throw:
        _raise_if_bad(out.status, "ridge risk")
    return out


def _skip_under_law_inputs(c: Any, kappa: Any) -> tuple[np.ndarray, np.ndarray]:
    cc = _float_array("c", c)
    _require("c", cc, cc > 0, "> 0 (aspect ratio d/N; the regime is c < 1)")
    kk = _float_array("kappa", kappa)
    _require("kappa", kk, (kk > 0) & (kk <= 1), "in (0, 1] (bottleneck k = kappa d <= d)")
    return cc, kk


def skip_under_overlaps(c: Any, kappa: Any, t: Any, theta: Any = None, *,
                        maxiter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Kept overlaps ``(pi0, pi1)`` of the ``c < 1`` skip connection (vectorized).

    ``pi0 = u^T Pi u`` and ``pi1 = u^T Lambda'^{-1} Pi u`` (``eta_trn = 1`` units) from the
    generated kernels: the closed form ``skip_under_overlaps`` for a threshold inside the bulk,
    its ``kappa -> 0`` limit within ``1e-7 (b - a)`` of the upper edge, and the full-width
    values ``(1, c (1 + c t)/(1 - c))`` at ``kappa = 1``.

    Parameters
    ----------
    c : array_like
        Aspect ratio in ``(0, 1)``.
    kappa : array_like
        Kept fraction ``k / d`` in ``(0, 1]``.
    t : array_like
        Training SNRs ``sigma^2 / eta2_train > 0``.
    theta : array_like, optional
        Threshold of the law of ``A A^T`` (ratio ``c``, scale ``1/c``) with
        ``mu((theta, inf)) = kappa``; solved for if omitted.
    maxiter : int
        Iteration limit of the threshold root-find.

    Returns
    -------
    pi0, pi1 : ndarray
        Arrays of the broadcast shape.
    """
    cc, kk = _skip_under_law_inputs(c, kappa)
    _require("c", cc, cc < 1, "< 1 (underparameterized side)")
    tt = _float_array("t", t)
    _require("t", tt, tt > 0, "> 0 (training SNR sigma^2 / eta2_train)")
    use_theta = theta is not None
    th = _float_array("theta", 0.0 if theta is None else theta)
    maxiter = _maxiter(maxiter)
    shape, (tt, cc, kk, th) = _broadcast(tt, cc, kk, th)
    pi0 = np.empty(tt.size)
    pi1 = np.empty(tt.size)
    _skip_under_overlaps_grid(tt, cc, kk, th, use_theta, maxiter, pi0, pi1)
    return pi0.reshape(shape), pi1.reshape(shape)


def skip_under_proportional_risk(c: Any, kappa: Any, eta2_train: Any, eta2_test: Any, sv: Any,
                                 test_energy: Any, d: int, *, maxiter: int = 100,
                                 throw: bool = False) -> SkipUnderRiskResult:
    """Test risk of the skip-connection DAE for ``c < 1``, ``lambda = 0``, ``k = kappa d``.

    Closed form of :mod:`rmtrisk.symbolic.regimes` (derivation ``docs/skip_under.md``):
    ``R = sum_i l_i Gamma_i + eta2_test (1 - kappa) + (eta2_test / d) sum_i v_i pi0_i``.
    ``c``, ``kappa``, ``eta2_train`` and ``eta2_test`` broadcast together; the signal spectrum
    is shared by all cells.

    Parameters
    ----------
    c : array_like
        Aspect ratio ``d / N > 0``. ``c = 1`` gives AT_INTERPOLATION_THRESHOLD (risk ``inf``),
        ``c > 1`` UNSUPPORTED (``nan``; see :func:`skip_proportional_risk`).
    kappa : array_like
        Bottleneck ratio ``k / d`` in ``(0, 1]``. ``kappa = 1`` (full width, ``Pi = I``) and a
        threshold within ``1e-7 (b - a)`` of the upper edge (``kappa`` below about ``1e-11``,
        where the ``kappa -> 0`` limit replaces the cancelling closed form) give AT_EDGE,
        values computed.
    eta2_train : array_like
        Training-noise level ``> 0``.
    eta2_test : array_like
        Test-noise level ``>= 0``.
    sv : array_like, shape (r,)
        Singular values ``> 0`` of the clean training data.
    test_energy : array_like, shape (r,)
        Per-direction test energies ``>= 0``.
    d : int
        Ambient dimension ``>= r`` (enters only the ``O(r/d)`` terms).
    maxiter : int
        Iteration limit of the threshold root-find (MAX_ITERATIONS when exhausted).
    throw : bool
        Raise :class:`~rmtrisk.status.SolverError` if any cell is not SUCCESS.

    Returns
    -------
    SkipUnderRiskResult
        Arrays of the broadcast shape of ``(c, kappa, eta2_train, eta2_test)``.
    """
    cc, kk = _skip_under_law_inputs(c, kappa)
    e2tr, e2te, svs, ell, d = _signal_inputs(eta2_train, eta2_test, sv, test_energy, d)
    maxiter = _maxiter(maxiter)
    shape, (cc, kk, e2tr, e2te) = _broadcast(cc, kk, e2tr, e2te)
    n = cc.size
    outs = [np.empty(n) for _ in range(4)]
    st = np.empty(n, dtype=np.int8)
    err = np.empty(n)
    _skip_under_grid(cc, kk, e2tr, e2te, svs, ell, float(d), maxiter, *outs, st, err)
    risk, bias, var, theta = (_frozen(x.reshape(shape)) for x in outs)
    out = SkipUnderRiskResult(risk, bias, var, theta, _frozen(st.reshape(shape)),
                              _frozen(err.reshape(shape)))
    if throw:
        _raise_if_bad(out.status, "skip c < 1 risk")
    return out


# ============================================================================================
# mpmath reference path: the same sympy expressions at `dps` digits
# ============================================================================================
def _mpfun(name: str) -> Callable[..., Any]:
    from .symbolic.codegen import mpmath_function

    return mpmath_function(name)


def _call(name: str, *args: Any) -> Any:
    """Evaluate a generated expression in mpmath; a division by zero gives ``nan``."""
    try:
        return _mpfun(name)(*args)
    except ZeroDivisionError:
        return mpmath.nan


def _mp_scalar(name: str, value: Any) -> mpmath.mpf:
    arr = np.asarray(value, dtype=float) if not isinstance(value, mpmath.mpf) else None
    if arr is not None:
        if arr.ndim != 0:
            raise ValueError(f"{name} must be a scalar in the mpmath path, got shape {arr.shape}")
        if not np.isfinite(arr):
            raise ValueError(f"{name} must be finite (no NaN or inf), got {value!r}")
        return mpmath.mpf(float(arr))
    return mpmath.mpf(value)


def _check_dps(dps: Any) -> int:
    if isinstance(dps, bool) or not isinstance(dps, (int, np.integer)) or dps < 15:
        raise ValueError(f"dps must be an integer >= 15, got {dps!r}")
    return int(dps)


def _mp_threshold_core(mass, gamma, gammabar, s, maxiter) -> ThresholdResultMP:
    eps = mpmath.eps
    a, b = _call("mp_edges", gamma, gammabar, s)
    cm = _call("mp_masses", gamma, gammabar, s)[1]
    if mass <= 0:
        return ThresholdResultMP(b, Status.AT_EDGE, mpmath.mpf(0), 0)
    if mass >= cm:
        t = a if (gammabar >= 0 or mass == cm) else mpmath.mpf(0)
        return ThresholdResultMP(t, Status.AT_EDGE, mpmath.mpf(0), 0)
    lo, hi = a, b
    tu, tl = _call("mp_threshold_guess", mass, gamma, gammabar, s)
    t = tu if mass <= cm / 2 else tl
    if not (lo < t < hi):
        t = (lo + hi) / 2
    for it in range(1, maxiter + 1):
        g = _call("mp_tail_mass", t, gamma, gammabar, s) - mass
        f = _call("mp_density", t, gamma, gammabar, s)
        noise = 4 * eps * _call("mp_moment_scale_0", t, gamma, gammabar, s) + eps * mass
        if g > 0:
            lo = t
        elif g < 0:
            hi = t
        if f > 0 and abs(g) <= noise:
            return ThresholdResultMP(t, Status.SUCCESS, (abs(g) + noise) / f, it)
        tn = t + g / f if f > 0 else (lo + hi) / 2
        if not (lo < tn < hi):
            tn = (lo + hi) / 2
        if abs(tn - t) <= 2 * eps * abs(t) or hi - lo <= 2 * eps * hi:
            err = (abs(g) + noise) / f if f > 0 else hi - lo
            return ThresholdResultMP(tn, Status.SUCCESS, max(err, eps * abs(tn)), it)
        t = tn
    return ThresholdResultMP(t, Status.MAX_ITERATIONS, hi - lo, maxiter)


def mp_threshold_mp(gamma: Any, mass: Any, scale: Any = 1.0, *, dps: int = 50,
                    maxiter: int = 400) -> ThresholdResultMP:
    """mpmath reference of :func:`mp_threshold` (one cell) at ``dps`` decimal digits."""
    dps = _check_dps(dps)
    with mpmath.workdps(dps):
        g = _mp_scalar("gamma", gamma)
        s = _mp_scalar("scale", scale)
        q = _mp_scalar("mass", mass)
        if g <= 0:
            raise ValueError(f"gamma must be > 0 (ratio p/n), got {gamma!r}")
        if s <= 0:
            raise ValueError(f"scale must be > 0, got {scale!r}")
        if not 0 <= q <= 1:
            raise ValueError(f"mass must be in [0, 1], got {mass!r}")
        return _mp_threshold_core(q, g, 1 - g, s, _maxiter(maxiter))


def truncated_moment_mp(p: int, t: Any, gamma: Any, scale: Any = 1.0, *,
                        dps: int = 50) -> mpmath.mpf:
    """mpmath reference of :func:`truncated_moment` (one cell) at ``dps`` digits."""
    if isinstance(p, bool) or p not in (-2, -1, 0, 1, 2):
        raise ValueError(f"p must be one of -2, -1, 0, 1, 2, got {p!r}")
    dps = _check_dps(dps)
    tag = f"m{-p}" if p < 0 else str(p)
    with mpmath.workdps(dps):
        g = _mp_scalar("gamma", gamma)
        s = _mp_scalar("scale", scale)
        if g <= 0 or s <= 0:
            raise ValueError(f"gamma and scale must be > 0, got {gamma!r}, {scale!r}")
        return _call(f"mp_moment_{tag}", _mp_scalar("t", t), g, 1 - g, s)


def stieltjes_mp(z: Any, gamma: Any, scale: Any = 1.0, *, dps: int = 50) -> mpmath.mpc:
    """mpmath reference of the closed-form physical root ``m(z)`` at ``dps`` digits."""
    dps = _check_dps(dps)
    with mpmath.workdps(dps):
        g = _mp_scalar("gamma", gamma)
        s = _mp_scalar("scale", scale)
        if g <= 0 or s <= 0:
            raise ValueError(f"gamma and scale must be > 0, got {gamma!r}, {scale!r}")
        zz = mpmath.mpc(z)
        return _call("mp_stieltjes", zz, g, 1 - g, s)


def skip_proportional_risk_mp(c: Any, kappa: Any, eta2_train: Any, eta2_test: Any, sv: Any,
                              test_energy: Any, d: int, *, dps: int = 50,
                              maxiter: int = 400) -> SkipRiskResultMP:
    """mpmath reference of one cell of :func:`skip_proportional_risk` at ``dps`` digits.

    The inputs are taken as exact binary floats; ``gamma = 1/c`` and ``1 - gamma = (c - 1)/c``
    are formed in ``dps``-digit arithmetic.
    """
    dps = _check_dps(dps)
    for name, v in (("c", c), ("kappa", kappa), ("eta2_train", eta2_train),
                    ("eta2_test", eta2_test)):
        if np.ndim(v) != 0:
            raise ValueError(f"{name} must be a scalar in the mpmath path, got {v!r}")
    cc, kk, e2tr, e2te, svs, ell, d = _skip_inputs(c, kappa, eta2_train, eta2_test, sv,
                                                   test_energy, d)
    maxiter = _maxiter(maxiter)
    nan = mpmath.nan
    with mpmath.workdps(dps):
        c_, k_ = mpmath.mpf(float(cc)), mpmath.mpf(float(kk))
        s, e2 = mpmath.mpf(float(e2tr)), mpmath.mpf(float(e2te))
        if c_ < 1:
            return SkipRiskResultMP(nan, nan, nan, nan, nan, Status.UNSUPPORTED)
        gamma, gbar = 1 / c_, (c_ - 1) / c_
        mass = min(k_ * c_, mpmath.mpf(1))
        thr = _mp_threshold_core(mass, gamma, gbar, s, maxiter)
        t = thr.threshold
        T = _call("mp_moment_m1", t, gamma, gbar, s)
        if c_ == 1:
            inf = mpmath.inf
            return SkipRiskResultMP(inf, inf, inf, t, T, Status.AT_INTERPOLATION_THRESHOLD)
        G = F = Tr = mpmath.mpf(0)
        for sig, l in zip(svs, ell, strict=True):
            g_, _, f_, _, tr_, _ = _call("skip_direction_terms", mpmath.mpf(float(sig)), k_, c_,
                                         s, T)
            G += mpmath.mpf(float(l)) * g_
            F += f_
            Tr += tr_
        R, B, V = _call("skip_aggregate", G, F, Tr, k_, mpmath.mpf(d), e2)
        status = thr.status
        if not all(mpmath.isfinite(x) for x in (R, B, V, T)):
            status = Status.NON_FINITE
        return SkipRiskResultMP(R, B, V, t, T, status)


def _mp_cell_scalars(**values: Any) -> None:
    for name, v in values.items():
        if np.ndim(v) != 0:
            raise ValueError(f"{name} must be a scalar in the mpmath path, got {v!r}")


def ridge_risk_mp(c: Any, reg: Any, eta2_train: Any, eta2_test: Any, sv: Any, test_energy: Any,
                  d: int, *, kept: Any = None, dps: int = 50) -> RidgeRiskResultMP:
    """mpmath reference of one cell of :func:`ridge_risk` at ``dps`` digits.

    The inputs are taken as exact binary floats; ``t_i = sv_i^2 / eta2_train`` and
    ``lam = reg / eta2_train`` are formed in ``dps``-digit arithmetic.
    """
    dps = _check_dps(dps)
    _mp_cell_scalars(c=c, reg=reg, eta2_train=eta2_train, eta2_test=eta2_test)
    cc, rr, e2tr, e2te, svs, ell, d, mask = _ridge_inputs(c, reg, eta2_train, eta2_test, sv,
                                                          test_energy, d, kept)
    with mpmath.workdps(dps):
        c_, s = mpmath.mpf(float(cc)), mpmath.mpf(float(e2tr))
        lam = mpmath.mpf(float(rr)) / s
        e2 = mpmath.mpf(float(e2te))
        if c_ == 1 and lam == 0:
            g, gp = mpmath.mpf(1), mpmath.inf      # s = 0: the kernel divides by zero
        else:
            g, gp = _call("ridge_moments", c_, lam)
        Bk = Bd = V = mpmath.mpf(0)
        for sig, l, k in zip(svs, ell, mask, strict=True):
            if k:
                b, v = _call("ridge_direction_factors", mpmath.mpf(float(sig)) ** 2 / s, g, gp)
                Bk += mpmath.mpf(float(l)) * b
                V += v
            else:
                Bd += mpmath.mpf(float(l))
        R, B, Vv = _call("ridge_aggregate", Bk, Bd, V, e2, mpmath.mpf(d))
        if c_ == 1 and lam == 0:
            inf = mpmath.inf
            return RidgeRiskResultMP(inf, B, inf, g, gp, Status.AT_INTERPOLATION_THRESHOLD)
        status = Status.SUCCESS
        if not all(mpmath.isfinite(x) for x in (R, B, Vv, g, gp)):
            status = Status.NON_FINITE
        return RidgeRiskResultMP(R, B, Vv, g, gp, status)


def _mp_skip_under_overlaps(t, c, kappa, theta, mode):
    if mode == 2:
        p0, p1 = _call("skip_under_full_overlaps", t, c)
        return mpmath.mpf(p0), p1
    if mode == 1:
        return _call("skip_under_edge_overlaps", t, c, kappa)
    return _call("skip_under_overlaps", t, c, theta)[:2]


def skip_under_proportional_risk_mp(c: Any, kappa: Any, eta2_train: Any, eta2_test: Any,
                                    sv: Any, test_energy: Any, d: int, *, dps: int = 50,
                                    maxiter: int = 400) -> SkipUnderRiskResultMP:
    """mpmath reference of one cell of :func:`skip_under_proportional_risk` at ``dps`` digits.

    Same branches as the compiled loop (full width at ``kappa = 1``, the ``kappa -> 0`` limit
    within ``1e-7 (b - a)`` of the upper edge), the threshold solved in ``dps`` digits for the
    law ``(gamma, 1 - gamma, s) = (c, 1 - c, 1/c)``.
    """
    dps = _check_dps(dps)
    _mp_cell_scalars(c=c, kappa=kappa, eta2_train=eta2_train, eta2_test=eta2_test)
    cc, kk = _skip_under_law_inputs(c, kappa)
    e2tr, e2te, svs, ell, d = _signal_inputs(eta2_train, eta2_test, sv, test_energy, d)
    maxiter = _maxiter(maxiter)
    nan = mpmath.nan
    with mpmath.workdps(dps):
        c_, k_ = mpmath.mpf(float(cc)), mpmath.mpf(float(kk))
        s, e2 = mpmath.mpf(float(e2tr)), mpmath.mpf(float(e2te))
        if c_ > 1:
            return SkipUnderRiskResultMP(nan, nan, nan, nan, Status.UNSUPPORTED)
        if c_ == 1:
            inf = mpmath.inf
            return SkipUnderRiskResultMP(inf, inf, inf, nan, Status.AT_INTERPOLATION_THRESHOLD)
        a, b = _call("skip_under_edges", c_)
        if k_ >= 1:
            theta, status, mode = a, Status.AT_EDGE, 2
        else:
            thr = _mp_threshold_core(k_, c_, 1 - c_, 1 / c_, maxiter)
            theta, status, mode = thr.threshold, thr.status, 0
            if b - theta <= _EDGE_REL * (b - a):
                status, mode = Status.AT_EDGE, 1
            else:
                theta = max(theta, a)
        G = F = Tr = Vp = mpmath.mpf(0)
        for sig, l in zip(svs, ell, strict=True):
            t = mpmath.mpf(float(sig)) ** 2 / s
            p0, p1 = _mp_skip_under_overlaps(t, c_, k_, theta, mode)
            gam, tr, fr, vp = _call("skip_under_direction_terms", t, c_, p0, p1)
            G += mpmath.mpf(float(l)) * gam
            F += fr
            Tr += tr
            Vp += vp
        R, B, V = _call("skip_under_aggregate", G, F, Tr, Vp, k_, mpmath.mpf(d), e2)
        if not all(mpmath.isfinite(x) for x in (R, B, V)):
            status = Status.NON_FINITE
        return SkipUnderRiskResultMP(R, B, V, theta, status)
