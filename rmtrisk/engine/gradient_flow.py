"""Test risk of the one-layer DAE trained by gradient flow for time ``t`` from ``W = 0``.

Equations in :mod:`rmtrisk.symbolic.gradient_flow` (derivation ``docs/risk_over_time.md``):
per signal direction the residual ``1 - u^T W(tau) u`` and the norm ``sigma^2 v^T psi v`` are
integrals of the generated integrands against ``x dmu_AA(x)`` over the noise bulk ``(a, b)``
plus, above the BBP threshold ``t sqrt(c) > 1``, the outlier atom at ``z_0``. ``tau = time *
eta2_train`` is the time in noise units. The leading-order (``d -> infinity``) risk; the
``O(r/d)`` interaction of signal directions is not included (``terms = "limit"``).

* **compiled path** (:func:`gradient_flow_grid`): Gauss–Legendre rules in the angle variable
  ``x = (a + b)/2 - (b - a)/2 cos(omega)`` on panels graded geometrically towards both edges
  (towards ``b`` on the scale of the pole distance ``z_0 - b = (t sqrt(c) - 1)^2/(c t)``,
  towards ``a`` on the scale of ``min(a, 1/tau)``), doubling the rule until two agree to
  :data:`RTOL`;
* **mpmath path** (:func:`gradient_flow_reference`): the same integrands, tanh-sinh quadrature
  (``mpmath.quad``) on the same breakpoints at ``dps`` digits: shared equations, different
  numerics.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import mpmath
import numpy as np

from .. import _kernels as K
from ..status import Status
from ._cache import invalidate_stale_caches
from ._grid import (
    broadcast,
    float_array,
    frozen,
    raise_if_bad,
    require,
    signal_inputs,
    success_mask,
)
from ._precision import EPS, check_dps, compiled, mp_call, mp_scalars
from ._quadrature import GL_OFF, GL_W, GL_X, SIZES

__all__ = ["GradientFlowGridResult", "GradientFlowReferenceResult", "RTOL",
           "gradient_flow_direction", "gradient_flow_grid", "gradient_flow_reference"]

_SUCCESS = int(Status.SUCCESS)
_MAX_ITERATIONS = int(Status.MAX_ITERATIONS)
_NON_FINITE = int(Status.NON_FINITE)

#: Relative agreement of two successive rules at which the quadrature stops.
RTOL = 1e-13
_RHO_MIN = 1e-9


class GradientFlowGridResult(NamedTuple):
    """Gradient-flow test risk per cell (read-only arrays).

    Attributes
    ----------
    risk, bias, variance : ndarray
        Test risk and its split (``variance = eta2_test ||W(t)||_F^2 / d``).
    status : ndarray of int8
        SUCCESS, MAX_ITERATIONS (rules did not agree to ``RTOL``; ``error`` says by how much)
        or NON_FINITE.
    error : ndarray
        Estimated absolute error of ``risk`` (quadrature plus rounding).
    """

    risk: np.ndarray
    bias: np.ndarray
    variance: np.ndarray
    status: np.ndarray
    error: np.ndarray

    success = success_mask


class GradientFlowReferenceResult(NamedTuple):
    """mpmath reference of one cell of :func:`gradient_flow_grid`."""

    risk: mpmath.mpf
    bias: mpmath.mpf
    variance: mpmath.mpf
    status: Status


@compiled
def _panel(tau, t, a, b, delta, lo_om, hi_om, n_index):
    """GL rule ``n_index`` on ``[lo_om, hi_om]``: (residual part, V part) against x dmu_AA."""
    lo, hi = GL_OFF[n_index], GL_OFF[n_index + 1]
    half = 0.5 * (b - a)
    scale = 0.5 * (hi_om - lo_om)
    s1 = 0.0
    s2 = 0.0
    for j in range(hi - lo):
        om = lo_om + scale * (GL_X[lo + j] + 1.0)
        sh = math.sin(0.5 * om)
        ch = math.cos(0.5 * om)
        x = a + (b - a) * sh * sh
        zx = (b - a) * ch * ch + delta
        sn = half * math.sin(om)
        w = scale * GL_W[lo + j] * sn * sn / (2.0 * math.pi)
        f1, f2 = K.gf_bulk_integrands(tau, x, zx, t)
        s1 += w * f1
        s2 += w * f2
    return s1, s2


@compiled
def _bulk(tau, t, a, b, delta, rho_l, rho_r, n_index):
    """Bulk integrals on panels graded by ``rho_l`` (at ``a``) and ``rho_r`` (at ``b``)."""
    s1 = 0.0
    s2 = 0.0
    mid = 0.5 * math.pi
    left = 0.0
    right = min(rho_l, mid)
    while left < mid:
        p1, p2 = _panel(tau, t, a, b, delta, left, right, n_index)
        s1 += p1
        s2 += p2
        left = right
        right = min(2.0 * right, mid)
    width = min(rho_r, mid)
    hi = math.pi
    while hi > mid:
        lo = max(math.pi - width, mid)
        p1, p2 = _panel(tau, t, a, b, delta, lo, hi, n_index)
        s1 += p1
        s2 += p2
        hi = lo
        width = 2.0 * width
    return s1, s2


@compiled
def _grading(tau, a, b, delta):
    """Panel scales ``(rho_l, rho_r)`` in the angle variable."""
    rho_l = 0.5 * math.pi
    if tau > 0.0:
        s = a if 0.0 < a < 1.0 / tau else 1.0 / tau
        rho_l = min(max(2.0 * math.sqrt(s / (b - a)), _RHO_MIN), 0.5 * math.pi)
    rho_r = min(max(2.0 * math.sqrt(delta / (b - a)), _RHO_MIN), 0.5 * math.pi)
    return rho_l, rho_r


@compiled
def _direction(c, t, tau):
    """``(residual, V, error of residual, error of V, converged)`` of one direction."""
    a, b = K.mp_edges(c, 1.0 - c, 1.0 / c)
    z0, delta, w1, w2 = K.gf_outlier(c, t)
    rho_l, rho_r = _grading(tau, a, b, delta)
    e1 = K.gf_residual_limit(c, t)
    v = 0.0
    if t * math.sqrt(c) > 1.0:
        q1, q2 = K.gf_atom_terms(tau, z0, w1, w2)
        e1 += q1
        v += q2
    p1, p2 = _bulk(tau, t, a, b, delta, rho_l, rho_r, 0)
    d1 = d2 = math.inf
    ok = False
    for n_index in range(1, len(SIZES)):
        s1, s2 = _bulk(tau, t, a, b, delta, rho_l, rho_r, n_index)
        d1 = abs(s1 - p1)
        d2 = abs(s2 - p2)
        p1, p2 = s1, s2
        if d1 <= RTOL * (e1 + abs(s1)) and d2 <= RTOL * (v + abs(s2)):
            ok = True
            break
    res = e1 + p1
    vv = v + p2
    return res, vv, d1 + 8.0 * EPS * res, d2 + 8.0 * EPS * vv, ok


@compiled
def _direction_grid(c, t, tau, res, vv, e_res, e_v, ok):
    for i in range(c.size):
        r1, r2, d1, d2, conv = _direction(c[i], t[i], tau[i])
        res[i] = r1
        vv[i] = r2
        e_res[i] = d1
        e_v[i] = d2
        ok[i] = conv


@compiled
def _gf_grid(c, time, e2tr, e2te, sv, ell, d, risk, bias, var, st_out, err_out):
    r = sv.size
    for i in range(c.size):
        tau = time[i] * e2tr[i]
        B = 0.0
        V = 0.0
        eb = 0.0
        ev = 0.0
        conv = True
        for j in range(r):
            res, v, d1, d2, ok = _direction(c[i], sv[j] * sv[j] / e2tr[i], tau)
            B += ell[j] * res * res
            V += v
            eb += ell[j] * (2.0 * res * d1 + d1 * d1)
            ev += d2
            conv = conv and ok
        R, Bo, Vo = K.ridge_aggregate(B, 0.0, V, e2te[i], d)
        risk[i] = R
        bias[i] = Bo
        var[i] = Vo
        err_out[i] = eb + e2te[i] * ev / d + (r + 4.0) * EPS * abs(R)
        if not (math.isfinite(R) and math.isfinite(Bo) and math.isfinite(Vo)):
            st_out[i] = _NON_FINITE
        elif not conv:
            st_out[i] = _MAX_ITERATIONS
        else:
            st_out[i] = _SUCCESS


invalidate_stale_caches(globals(), __name__)


def _time_input(time: Any) -> np.ndarray:
    tt = float_array("time", time)
    require("time", tt, tt >= 0, ">= 0 (gradient-flow time, in units of 1 / eta2_train)")
    return tt


def _c_input(c: Any) -> np.ndarray:
    cc = float_array("c", c)
    require("c", cc, cc > 0, "> 0 (aspect ratio d/N)")
    return cc


def gradient_flow_direction(c: Any, t: Any, tau: Any) -> tuple[np.ndarray, ...]:
    """Per-direction forms ``(1 - u^T W u, sigma^2 v^T psi v, status)`` in noise units.

    Parameters
    ----------
    c : array_like
        Aspect ratio ``d/N > 0``.
    t : array_like
        SNR ``sigma^2 / eta2_train > 0``.
    tau : array_like
        Time in noise units ``time * eta2_train >= 0``.

    Returns
    -------
    residual, norm, status : ndarray
        Broadcast shape; the bias of the direction is ``l residual^2`` and its variance
        ``eta2_test norm / d``; status SUCCESS or MAX_ITERATIONS.
    """
    cc = _c_input(c)
    tt = float_array("t", t)
    require("t", tt, tt > 0, "> 0 (training SNR sigma^2 / eta2_train)")
    ta = float_array("tau", tau)
    require("tau", ta, ta >= 0, ">= 0 (time in noise units)")
    shape, (cc, tt, ta) = broadcast(cc, tt, ta)
    n = cc.size
    res, vv, e1, e2 = (np.empty(n) for _ in range(4))
    ok = np.empty(n, dtype=np.bool_)
    _direction_grid(cc, tt, ta, res, vv, e1, e2, ok)
    status = np.where(ok, _SUCCESS, _MAX_ITERATIONS).astype(np.int8)
    return tuple(frozen(x.reshape(shape)) for x in (res, vv, status))


def gradient_flow_grid(c: Any, time: Any, eta2_train: Any, eta2_test: Any, sv: Any,
                       test_energy: Any, d: int, *, throw: bool = False) -> GradientFlowGridResult:
    """Leading-order test risk of the one-layer DAE after gradient flow for ``time``.

    ``W(time) = X Y^T g(Y Y^T)``, ``g(x) = (1 - exp(-time x))/x``: gradient flow on
    ``1/2 ||X - W Y||_F^2`` (``rmtrisk.montecarlo.training.dae_loss``, a sum over samples)
    from ``W = 0``. ``c``, ``time``, ``eta2_train`` and ``eta2_test`` broadcast together; the
    signal spectrum is shared. Every ``c > 0`` is allowed (at ``c = 1`` the risk is finite at
    every finite time and grows without bound as ``time -> inf``).

    Parameters
    ----------
    c : array_like
        Aspect ratio ``d/N > 0``.
    time : array_like
        Gradient-flow time ``>= 0`` in the loss's own units (``tau = time * eta2_train`` is
        the dimensionless time; ``time = 0`` gives ``W = 0`` and ``R = sum l_i``).
    eta2_train, eta2_test : array_like
        Training-noise level ``> 0`` and test-noise level ``>= 0``.
    sv : array_like, shape (r,)
        Singular values ``> 0`` of the clean training data.
    test_energy : array_like, shape (r,)
        Per-direction test energies ``>= 0``.
    d : int
        Ambient dimension ``>= r`` (the variance carries ``1/d``).
    throw : bool
        Raise :class:`~rmtrisk.status.SolverError` if any cell is not SUCCESS.

    Returns
    -------
    GradientFlowGridResult
    """
    cc = _c_input(c)
    tt = _time_input(time)
    e2tr, e2te, svs, ell, d = signal_inputs(eta2_train, eta2_test, sv, test_energy, d)
    shape, (cc, tt, e2tr, e2te) = broadcast(cc, tt, e2tr, e2te)
    n = cc.size
    outs = [np.empty(n) for _ in range(3)]
    st = np.empty(n, dtype=np.int8)
    err = np.empty(n)
    _gf_grid(cc, tt, e2tr, e2te, svs, ell, float(d), *outs, st, err)
    risk, bias, var = (frozen(x.reshape(shape)) for x in outs)
    out = GradientFlowGridResult(risk, bias, var, frozen(st.reshape(shape)),
                                 frozen(err.reshape(shape)))
    if throw:
        raise_if_bad(out.status, "gradient-flow risk")
    return out


def _direction_reference(c, t, tau):
    """``(residual, V)`` of one direction by tanh-sinh quadrature (ambient precision)."""
    a, b = mp_call("mp_edges", c, 1 - c, 1 / c)
    z0, delta, w1, w2 = mp_call("gf_outlier", c, t)
    e1 = mp_call("gf_residual_limit", c, t)
    v = mpmath.mpf(0)
    if t * mpmath.sqrt(c) > 1:
        q1, q2 = mp_call("gf_atom_terms", tau, z0, w1, w2)
        e1 += q1
        v += q2
    rho_l, rho_r = (mpmath.mpf(x) for x in _grading.py_func(float(tau), float(a), float(b),
                                                             float(delta)))
    pts = sorted({mpmath.mpf(0), rho_l, mpmath.pi / 2, mpmath.pi - rho_r, mpmath.pi})
    half = (b - a) / 2

    def integrand(om, j):
        x = a + (b - a) * mpmath.sin(om / 2) ** 2
        zx = (b - a) * mpmath.cos(om / 2) ** 2 + delta
        w = (half * mpmath.sin(om)) ** 2 / (2 * mpmath.pi)
        return w * mp_call("gf_bulk_integrands", tau, x, zx, t)[j]

    s1 = mpmath.quad(lambda om: integrand(om, 0), pts)
    s2 = mpmath.quad(lambda om: integrand(om, 1), pts)
    return e1 + s1, v + s2


def gradient_flow_reference(c: Any, time: Any, eta2_train: Any, eta2_test: Any, sv: Any,
                            test_energy: Any, d: int, *,
                            dps: int = 30) -> GradientFlowReferenceResult:
    """mpmath reference of one cell of :func:`gradient_flow_grid` at ``dps`` digits.

    The same generated integrands (as mpmath functions), tanh-sinh quadrature on the
    breakpoints of the compiled grading. Slow (about a second per direction).
    """
    dps = check_dps(dps)
    mp_scalars(c=c, time=time, eta2_train=eta2_train, eta2_test=eta2_test)
    cc = _c_input(c)
    tt = _time_input(time)
    e2tr, e2te, svs, ell, d = signal_inputs(eta2_train, eta2_test, sv, test_energy, d)
    with mpmath.workdps(dps):
        c_, s = mpmath.mpf(float(cc)), mpmath.mpf(float(e2tr))
        tau = mpmath.mpf(float(tt)) * s
        B = V = mpmath.mpf(0)
        for sig, li in zip(svs, ell, strict=True):
            res, v = _direction_reference(c_, mpmath.mpf(float(sig)) ** 2 / s, tau)
            B += mpmath.mpf(float(li)) * res**2
            V += v
        R, Bo, Vo = mp_call("ridge_aggregate", B, mpmath.mpf(0), V, mpmath.mpf(float(e2te)),
                            mpmath.mpf(d))
        ok = all(mpmath.isfinite(x) for x in (R, Bo, Vo))
        return GradientFlowReferenceResult(R, Bo, Vo, Status.SUCCESS if ok else Status.NON_FINITE)
