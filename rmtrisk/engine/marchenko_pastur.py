"""The Marchenko–Pastur law: threshold, truncated moments, density, Stieltjes transform.

The law of the eigenvalues of a ``p x p`` Wishart matrix ``X X^T / n`` with ratio
``gamma = p/n`` and scale ``s`` (the noise Gram matrices of every regime), evaluated from the
generated kernels ``mp_*`` of :mod:`rmtrisk._kernels` (``mp_`` = Marchenko–Pastur). In the
style of :mod:`scipy.optimize.elementwise`: array inputs broadcast together, a compiled loop
evaluates every cell, and every cell carries a :class:`~rmtrisk.status.Status` code. Nothing
raises inside the loop; with ``throw=True`` a :class:`~rmtrisk.status.SolverError` is raised
afterwards if any cell is not SUCCESS.

The threshold ``t`` with ``mu((t, inf)) = mass`` is a safeguarded Newton iteration on the
tail-mass equation ``F(t) = mass`` with the analytic derivative ``F'(t) = -f(t)``, started from
the edge asymptotics of ``F``, kept inside a bracket that every evaluation shrinks, with a
bisection step whenever the Newton step leaves the bracket. A cell converges when the step is
below 2 ulp of ``t`` or the residual is below the rounding level of the closed form; its error
estimate is ``(|F(t) - mass| + rounding) / f(t)`` (the bracket width if it did not converge).
The iteration is written once (:func:`threshold_cell`) and runs in float64 (numba) and, as
:func:`threshold_reference`, in mpmath at any precision (:mod:`rmtrisk.engine._precision`).
"""

from __future__ import annotations

from math import inf, isfinite, nan
from typing import Any, NamedTuple

import mpmath
import numpy as np

from .. import _kernels as K
from ..status import Status
from ._cache import invalidate_stale_caches
from ._grid import (
    broadcast,
    check_maxiter,
    float_array,
    frozen,
    law_inputs,
    raise_if_bad,
    require,
    success_mask,
)
from ._precision import EPS, check_dps, compiled, mp_call, mp_scalar, reference

__all__ = [
    "StieltjesResult",
    "ThresholdReferenceResult",
    "ThresholdResult",
    "density",
    "stieltjes",
    "stieltjes_reference",
    "tail_mass",
    "threshold",
    "threshold_cell",
    "threshold_cell_reference",
    "threshold_reference",
    "truncated_moment",
    "truncated_moment_reference",
]

_SUCCESS = int(Status.SUCCESS)
_MAX_ITERATIONS = int(Status.MAX_ITERATIONS)
_NON_FINITE = int(Status.NON_FINITE)
_WRONG_BRANCH = int(Status.WRONG_BRANCH)
_AT_EDGE = int(Status.AT_EDGE)


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

    success = success_mask


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

    success = success_mask


class ThresholdReferenceResult(NamedTuple):
    """mpmath threshold: value, status, error estimate and iterations."""

    threshold: mpmath.mpf
    status: Status
    error: mpmath.mpf
    iterations: int


# ============================================================================================
# the threshold iteration, one body for both precisions
# ============================================================================================
def _threshold_body(mass, gamma, gammabar, s, maxiter, eps):
    """Safeguarded Newton for ``F(t) = mass``: ``(t, status, error, iterations)``."""
    a, b = K.mp_edges(gamma, gammabar, s)
    cm = K.mp_masses(gamma, gammabar, s)[1]
    if mass <= 0.0:
        return b, _AT_EDGE, 0.0 * b, 0
    if mass >= cm:
        if gammabar >= 0.0 or mass == cm:
            return a, _AT_EDGE, 0.0 * a, 0
        return 0.0 * a, _AT_EDGE, 0.0 * a, 0
    lo = a
    hi = b
    tu, tl = K.mp_threshold_guess(mass, gamma, gammabar, s)
    t = tu if mass <= 0.5 * cm else tl
    if not (lo < t < hi):
        t = 0.5 * (lo + hi)
    for it in range(1, maxiter + 1):
        g = K.mp_tail_mass(t, gamma, gammabar, s) - mass
        f = K.mp_density(t, gamma, gammabar, s)
        noise = 4.0 * eps * K.mp_moment_scale_0(t, gamma, gammabar, s) + eps * mass
        if g > 0.0:
            lo = t
        elif g < 0.0:
            hi = t
        if f > 0.0 and abs(g) <= noise:
            return t, _SUCCESS, (abs(g) + noise) / f, it
        tn = t + g / f if f > 0.0 else 0.5 * (lo + hi)
        if not (lo < tn < hi):
            tn = 0.5 * (lo + hi)
        if abs(tn - t) <= 2.0 * eps * abs(t) or hi - lo <= 2.0 * eps * hi:
            err = (abs(g) + noise) / f if f > 0.0 else hi - lo
            return tn, _SUCCESS, max(err, eps * abs(tn)), it
        t = tn
    return t, _MAX_ITERATIONS, hi - lo, maxiter


#: One threshold cell in float64: ``(t, status, error, iterations)``; ``eps`` is :data:`EPS`.
threshold_cell = compiled(_threshold_body)
#: The same cell in mpmath at the ambient precision (``eps = mpmath.eps``).
threshold_cell_reference = reference(_threshold_body)


@compiled
def _threshold_grid(mass, gamma, s, maxiter, t_out, st_out, err_out, it_out):
    for i in range(mass.size):
        t, st, err, it = threshold_cell(mass[i], gamma[i], 1.0 - gamma[i], s[i], maxiter, EPS)
        t_out[i] = t
        st_out[i] = st
        err_out[i] = err
        it_out[i] = it


@compiled
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


@compiled
def _moment_grid(p, t, gamma, s, out):
    for i in range(t.size):
        out[i] = _moment_scalar(p, t[i], gamma[i], 1.0 - gamma[i], s[i])


@compiled
def _density_grid(x, gamma, s, out):
    for i in range(x.size):
        out[i] = K.mp_density(x[i], gamma[i], 1.0 - gamma[i], s[i])


@compiled
def _branch_ok(z, m, gamma, gammabar, s):
    """Herglotz / support-bound test that singles out the physical root."""
    a, b = K.mp_edges(gamma, gammabar, s)
    atom, cm = K.mp_masses(gamma, gammabar, s)
    if z.imag != 0.0:
        # Im m and Im(z m) have the sign of Im z for a measure on [0, inf)
        tol = 64.0 * EPS * abs(m)
        return m.imag * z.imag > -tol * abs(z.imag) and (z * m).imag * z.imag > -tol * abs(
            z * z.imag)
    x = z.real
    mc = m.real + (atom / x if atom > 0.0 else 0.0)  # remove the atom term -atom / x
    lo = cm / (a - x)
    hi = cm / (b - x)
    if lo > hi:
        lo, hi = hi, lo
    slack = 64.0 * EPS * (abs(lo) + abs(hi))
    return lo - slack <= mc <= hi + slack


@compiled
def _stieltjes_grid(z, gamma, s, m0, use_m0, maxiter, m_out, dm_out, st_out):
    for i in range(z.size):
        g = gamma[i]
        gb = 1.0 - g
        zi = z[i]
        a, b = K.mp_edges(g, gb, s[i])
        status = _SUCCESS
        if zi == 0.0:
            # m(0) = 1/(s (1 - gamma)) without atom; the atom at 0 is a pole (gamma >= 1)
            m = complex(1.0 / (s[i] * gb), 0.0) if gb > 0.0 else complex(inf, 0.0)
        elif use_m0:
            m = m0[i]
            status = _MAX_ITERATIONS
            for _ in range(maxiter):
                P, dP = K.mp_stieltjes_poly(zi, m, g, gb, s[i])
                if dP == 0.0:
                    break
                step = P / dP
                m = m - step
                if abs(step) <= 4.0 * EPS * abs(m):
                    status = _SUCCESS
                    break
        else:
            m = K.mp_stieltjes(zi, g, gb, s[i])
        if zi == 0.0 and gb <= 0.0:
            dm = complex(nan, 0.0)
        else:
            dm = K.mp_stieltjes_deriv(zi, m, g, gb, s[i])
        if zi.imag == 0.0 and a <= zi.real <= b and a < b and zi != 0.0:
            status = _AT_EDGE
        elif not (isfinite(m.real) and isfinite(m.imag)):
            status = _NON_FINITE
        elif status == _SUCCESS and not _branch_ok(zi, m, g, gb, s[i]):
            status = _WRONG_BRANCH
        m_out[i] = m
        dm_out[i] = dm
        st_out[i] = status


invalidate_stale_caches(globals(), __name__)


# ============================================================================================
# public compiled API
# ============================================================================================
def threshold(gamma: Any, mass: Any, scale: Any = 1.0, *, maxiter: int = 100,
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
    g, s = law_inputs(gamma, scale)
    q = float_array("mass", mass)
    require("mass", q, (q >= 0) & (q <= 1), "in [0, 1]")
    maxiter = check_maxiter(maxiter)
    shape, (q, g, s) = broadcast(q, g, s)
    n = q.size
    t = np.empty(n)
    st = np.empty(n, dtype=np.int8)
    err = np.empty(n)
    it = np.empty(n, dtype=np.int64)
    _threshold_grid(q, g, s, maxiter, t, st, err, it)
    out = ThresholdResult(*(frozen(x.reshape(shape)) for x in (t, st, err, it)))
    if throw:
        raise_if_bad(out.status, "threshold")
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
    g, s = law_inputs(gamma, scale)
    tt = float_array("t", t)
    shape, (tt, g, s) = broadcast(tt, g, s)
    out = np.empty(tt.size)
    _moment_grid(int(p), tt, g, s, out)
    return out.reshape(shape)


def tail_mass(t: Any, gamma: Any, scale: Any = 1.0) -> np.ndarray:
    """Tail mass ``F(t) = mu((t, inf)) = T_0(t)`` (vectorized)."""
    return truncated_moment(0, t, gamma, scale)


def density(x: Any, gamma: Any, scale: Any = 1.0) -> np.ndarray:
    """Density of the continuous part of the law (vectorized; 0 outside ``(a, b)``)."""
    g, s = law_inputs(gamma, scale)
    xx = float_array("x", x)
    shape, (xx, g, s) = broadcast(xx, g, s)
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
    g, s = law_inputs(gamma, scale)
    maxiter = check_maxiter(maxiter)
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
    out = StieltjesResult(*(frozen(x.reshape(shape)) for x in (m, dm, st)))
    if throw:
        raise_if_bad(out.status, "Stieltjes")
    return out


# ============================================================================================
# reference path: the same equations in mpmath at `dps` digits
# ============================================================================================
def threshold_reference(gamma: Any, mass: Any, scale: Any = 1.0, *, dps: int = 50,
                    maxiter: int = 400) -> ThresholdReferenceResult:
    """mpmath reference of :func:`threshold` (one cell) at ``dps`` decimal digits."""
    dps = check_dps(dps)
    with mpmath.workdps(dps):
        g = mp_scalar("gamma", gamma)
        s = mp_scalar("scale", scale)
        q = mp_scalar("mass", mass)
        if g <= 0:
            raise ValueError(f"gamma must be > 0 (ratio p/n), got {gamma!r}")
        if s <= 0:
            raise ValueError(f"scale must be > 0, got {scale!r}")
        if not 0 <= q <= 1:
            raise ValueError(f"mass must be in [0, 1], got {mass!r}")
        t, status, error, iterations = threshold_cell_reference(q, g, 1 - g, s,
                                                                check_maxiter(maxiter),
                                                                mpmath.eps)
        return ThresholdReferenceResult(t, Status(status), error, iterations)


def truncated_moment_reference(p: int, t: Any, gamma: Any, scale: Any = 1.0, *,
                        dps: int = 50) -> mpmath.mpf:
    """mpmath reference of :func:`truncated_moment` (one cell) at ``dps`` digits."""
    if isinstance(p, bool) or p not in (-2, -1, 0, 1, 2):
        raise ValueError(f"p must be one of -2, -1, 0, 1, 2, got {p!r}")
    dps = check_dps(dps)
    tag = f"m{-p}" if p < 0 else str(p)
    with mpmath.workdps(dps):
        g = mp_scalar("gamma", gamma)
        s = mp_scalar("scale", scale)
        if g <= 0 or s <= 0:
            raise ValueError(f"gamma and scale must be > 0, got {gamma!r}, {scale!r}")
        return mp_call(f"mp_moment_{tag}", mp_scalar("t", t), g, 1 - g, s)


def stieltjes_reference(z: Any, gamma: Any, scale: Any = 1.0, *, dps: int = 50) -> mpmath.mpc:
    """mpmath reference of the closed-form physical root ``m(z)`` at ``dps`` digits."""
    dps = check_dps(dps)
    with mpmath.workdps(dps):
        g = mp_scalar("gamma", gamma)
        s = mp_scalar("scale", scale)
        if g <= 0 or s <= 0:
            raise ValueError(f"gamma and scale must be > 0, got {gamma!r}, {scale!r}")
        zz = mpmath.mpc(z)
        return mp_call("mp_stieltjes", zz, g, 1 - g, s)
