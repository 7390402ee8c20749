"""Skip connection, ``c < 1``, ``lambda = 0``: the risk with a proportional bottleneck.

Regime ``skip-under`` (:mod:`rmtrisk.symbolic.skip_under`; derivation
``docs/skip_under.md``). Per cell the threshold ``theta`` of the law of ``A A^T`` (ratio
``c``, scale ``1/c``) with ``mu((theta, inf)) = kappa``, then per direction the kept overlaps
``(pi0, pi1)`` in closed form (their ``kappa -> 0`` limit within ``1e-7 (b - a)`` of the upper
edge, the full-width values at ``kappa = 1``). Compiled grid :func:`skip_under_grid`, mpmath
reference :func:`skip_under_reference`.
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
    raise_if_bad,
    require,
    signal_inputs,
    success_mask,
)
from ._precision import EPS, check_dps, compiled, mp_call, mp_scalars
from .marchenko_pastur import threshold_cell, threshold_cell_reference

__all__ = ["SkipUnderGridResult", "SkipUnderReferenceResult", "skip_under_grid",
           "skip_under_kept_overlaps", "skip_under_reference"]

_SUCCESS = int(Status.SUCCESS)
_NON_FINITE = int(Status.NON_FINITE)
_AT_EDGE = int(Status.AT_EDGE)
_AT_THRESHOLD = int(Status.AT_INTERPOLATION_THRESHOLD)
_UNSUPPORTED = int(Status.UNSUPPORTED)
#: relative distance of the threshold from the upper edge below which the overlaps use their
#: kappa -> 0 limit (the closed form cancels there)
_EDGE_REL = 1e-7


class SkipUnderGridResult(NamedTuple):
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

    success = success_mask


class SkipUnderReferenceResult(NamedTuple):
    """mpmath reference of one cell of :func:`skip_under_grid`."""

    risk: mpmath.mpf
    bias: mpmath.mpf
    variance: mpmath.mpf
    threshold: mpmath.mpf
    status: Status


@compiled
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


@compiled
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


@compiled
def _skip_under_mode(c, kappa, maxiter):
    """Threshold and branch of one cell: ``(theta, status, error, mode, edge_gap)``."""
    if kappa >= 1.0:
        theta, st, err = K.skip_under_edges(c)[0], _AT_EDGE, 0.0
    else:
        theta, st, err, _ = threshold_cell(kappa, c, 1.0 - c, 1.0 / c, maxiter, EPS)
    theta, mode, gap = _skip_under_branch(c, kappa, theta)
    if mode != 0:
        st = _AT_EDGE
    return theta, st, err, mode, gap


@compiled
def _skip_under_overlaps_grid(t, c, kappa, theta, use_theta, maxiter, pi0, pi1):
    for i in range(t.size):
        if use_theta:
            th, mode, _ = _skip_under_branch(c[i], kappa[i], theta[i])
        else:
            th, _, _, mode, _ = _skip_under_mode(c[i], kappa[i], maxiter)
        p0, p1, _, _, _ = _skip_under_overlaps_scalar(t[i], c[i], kappa[i], th, mode)
        pi0[i] = p0
        pi1[i] = p1


@compiled
def _skip_under_grid(c, kappa, e2tr, e2te, sv, ell, d, maxiter,
                     risk, bias, var, theta_out, st_out, err_out):
    r = sv.size
    for i in range(c.size):
        ci = c[i]
        ki = kappa[i]
        if ci > 1.0:
            risk[i] = bias[i] = var[i] = theta_out[i] = err_out[i] = nan
            st_out[i] = _UNSUPPORTED
            continue
        if ci == 1.0:
            risk[i] = bias[i] = var[i] = inf
            theta_out[i] = err_out[i] = nan
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
            dpi = abs(dp0) * err_t + 8.0 * EPS * s0 + 2.0 * gap * s0
            err += sens * dpi
            size += abs(ell[j] * gam) + e2te[i] * (abs(vp) + abs(fr) + 2.0 * abs(tr)) / d
        R, B, V = K.skip_under_aggregate(G, F, Tr, Vp, ki, d, e2te[i])
        risk[i] = R
        bias[i] = B
        var[i] = V
        size += e2te[i] * (1.0 + ki)
        err_out[i] = err + (r + 8.0) * EPS * size
        if not (isfinite(R) and isfinite(B) and isfinite(V)):
            st_out[i] = _NON_FINITE
        else:
            st_out[i] = st


invalidate_stale_caches(globals(), __name__)


def _skip_under_law_inputs(c: Any, kappa: Any) -> tuple[np.ndarray, np.ndarray]:
    cc = float_array("c", c)
    require("c", cc, cc > 0, "> 0 (aspect ratio d/N; the regime is c < 1)")
    kk = float_array("kappa", kappa)
    require("kappa", kk, (kk > 0) & (kk <= 1), "in (0, 1] (bottleneck k = kappa d <= d)")
    return cc, kk


def skip_under_kept_overlaps(c: Any, kappa: Any, t: Any, theta: Any = None, *,
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
    require("c", cc, cc < 1, "< 1 (underparameterized side)")
    tt = float_array("t", t)
    require("t", tt, tt > 0, "> 0 (training SNR sigma^2 / eta2_train)")
    use_theta = theta is not None
    th = float_array("theta", 0.0 if theta is None else theta)
    maxiter = check_maxiter(maxiter)
    shape, (tt, cc, kk, th) = broadcast(tt, cc, kk, th)
    pi0 = np.empty(tt.size)
    pi1 = np.empty(tt.size)
    _skip_under_overlaps_grid(tt, cc, kk, th, use_theta, maxiter, pi0, pi1)
    return pi0.reshape(shape), pi1.reshape(shape)


def skip_under_grid(c: Any, kappa: Any, eta2_train: Any, eta2_test: Any, sv: Any,
                                 test_energy: Any, d: int, *, maxiter: int = 100,
                                 throw: bool = False) -> SkipUnderGridResult:
    """Test risk of the skip-connection DAE for ``c < 1``, ``lambda = 0``, ``k = kappa d``.

    Closed form of :mod:`rmtrisk.symbolic.skip_under` (derivation ``docs/skip_under.md``):
    ``R = sum_i l_i Gamma_i + eta2_test (1 - kappa) + (eta2_test / d) sum_i v_i pi0_i``.
    ``c``, ``kappa``, ``eta2_train`` and ``eta2_test`` broadcast together; the signal spectrum
    is shared by all cells.

    Parameters
    ----------
    c : array_like
        Aspect ratio ``d / N > 0``. ``c = 1`` gives AT_INTERPOLATION_THRESHOLD (risk ``inf``),
        ``c > 1`` UNSUPPORTED (``nan``; see :func:`rmtrisk.engine.skip.skip_grid`).
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
    SkipUnderGridResult
        Arrays of the broadcast shape of ``(c, kappa, eta2_train, eta2_test)``.
    """
    cc, kk = _skip_under_law_inputs(c, kappa)
    e2tr, e2te, svs, ell, d = signal_inputs(eta2_train, eta2_test, sv, test_energy, d)
    maxiter = check_maxiter(maxiter)
    shape, (cc, kk, e2tr, e2te) = broadcast(cc, kk, e2tr, e2te)
    n = cc.size
    outs = [np.empty(n) for _ in range(4)]
    st = np.empty(n, dtype=np.int8)
    err = np.empty(n)
    _skip_under_grid(cc, kk, e2tr, e2te, svs, ell, float(d), maxiter, *outs, st, err)
    risk, bias, var, theta = (frozen(x.reshape(shape)) for x in outs)
    out = SkipUnderGridResult(risk, bias, var, theta, frozen(st.reshape(shape)),
                              frozen(err.reshape(shape)))
    if throw:
        raise_if_bad(out.status, "skip c < 1 risk")
    return out


def _overlaps_reference(t, c, kappa, theta, mode):
    if mode == 2:
        p0, p1 = mp_call("skip_under_full_overlaps", t, c)
        return mpmath.mpf(p0), p1
    if mode == 1:
        return mp_call("skip_under_edge_overlaps", t, c, kappa)
    return mp_call("skip_under_overlaps", t, c, theta)[:2]


def skip_under_reference(c: Any, kappa: Any, eta2_train: Any, eta2_test: Any,
                                    sv: Any, test_energy: Any, d: int, *, dps: int = 50,
                                    maxiter: int = 400) -> SkipUnderReferenceResult:
    """mpmath reference of one cell of :func:`skip_under_grid` at ``dps`` digits.

    Same branches as the compiled loop (full width at ``kappa = 1``, the ``kappa -> 0`` limit
    within ``1e-7 (b - a)`` of the upper edge), the threshold solved in ``dps`` digits for the
    law ``(gamma, 1 - gamma, s) = (c, 1 - c, 1/c)``.
    """
    dps = check_dps(dps)
    mp_scalars(c=c, kappa=kappa, eta2_train=eta2_train, eta2_test=eta2_test)
    cc, kk = _skip_under_law_inputs(c, kappa)
    e2tr, e2te, svs, ell, d = signal_inputs(eta2_train, eta2_test, sv, test_energy, d)
    maxiter = check_maxiter(maxiter)
    nan = mpmath.nan
    with mpmath.workdps(dps):
        c_, k_ = mpmath.mpf(float(cc)), mpmath.mpf(float(kk))
        s, e2 = mpmath.mpf(float(e2tr)), mpmath.mpf(float(e2te))
        if c_ > 1:
            return SkipUnderReferenceResult(nan, nan, nan, nan, Status.UNSUPPORTED)
        if c_ == 1:
            inf = mpmath.inf
            return SkipUnderReferenceResult(inf, inf, inf, nan, Status.AT_INTERPOLATION_THRESHOLD)
        a, b = mp_call("skip_under_edges", c_)
        if k_ >= 1:
            theta, status, mode = a, Status.AT_EDGE, 2
        else:
            theta, code, _, _ = threshold_cell_reference(k_, c_, 1 - c_, 1 / c_, maxiter,
                                                         mpmath.eps)
            theta, status, mode = theta, Status(code), 0
            if b - theta <= _EDGE_REL * (b - a):
                status, mode = Status.AT_EDGE, 1
            else:
                theta = max(theta, a)
        G = F = Tr = Vp = mpmath.mpf(0)
        for sig, l in zip(svs, ell, strict=True):
            t = mpmath.mpf(float(sig)) ** 2 / s
            p0, p1 = _overlaps_reference(t, c_, k_, theta, mode)
            gam, tr, fr, vp = mp_call("skip_under_direction_terms", t, c_, p0, p1)
            G += mpmath.mpf(float(l)) * gam
            F += fr
            Tr += tr
            Vp += vp
        R, B, V = mp_call("skip_under_aggregate", G, F, Tr, Vp, k_, mpmath.mpf(d), e2)
        if not all(mpmath.isfinite(x) for x in (R, B, V)):
            status = Status.NON_FINITE
        return SkipUnderReferenceResult(R, B, V, theta, status)
