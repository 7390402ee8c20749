"""Skip connection, ``c > 1``, ``lambda = 0``: the risk with a proportional bottleneck.

Regime ``skip`` (:mod:`rmtrisk.symbolic.skip`). Per cell: the threshold ``theta`` of the
noise-Gram law with ``mu((theta, inf)) = kappa c``, the truncated moment ``T_{-1}(theta)``,
then the per-direction terms summed and aggregated by the generated kernels. The cell is
written once (:func:`_skip_cell`) and runs in float64 over a grid (:func:`skip_grid`) and in
mpmath for one cell (:func:`skip_reference`).
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
from ._precision import EPS, check_dps, compiled, mp_scalars, reference
from .marchenko_pastur import threshold_cell, threshold_cell_reference

__all__ = ["SkipGridResult", "SkipReferenceResult", "skip_grid", "skip_reference"]

_SUCCESS = int(Status.SUCCESS)
_NON_FINITE = int(Status.NON_FINITE)
_AT_THRESHOLD = int(Status.AT_INTERPOLATION_THRESHOLD)
_UNSUPPORTED = int(Status.UNSUPPORTED)
#: slack allowed on ``kappa * c <= 1`` (``kappa = 1/c`` computed in floating point)
_KAPPA_SLACK = 8 * EPS


class SkipGridResult(NamedTuple):
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

    success = success_mask


class SkipReferenceResult(NamedTuple):
    """mpmath reference of one cell of :func:`skip_grid`."""

    risk: mpmath.mpf
    bias: mpmath.mpf
    variance: mpmath.mpf
    threshold: mpmath.mpf
    moment: mpmath.mpf
    status: Status


# ============================================================================================
# one cell, both precisions
# ============================================================================================
def _skip_cell(ci, ki, s, e2, sv, ell, d, maxiter, eps):
    """``(risk, bias, variance, theta, T_{-1}, status, error)`` of one cell."""
    if ci < 1.0:
        return nan, nan, nan, nan, nan, _UNSUPPORTED, nan
    gamma = 1.0 / ci
    gbar = (ci - 1.0) / ci
    mass = min(ki * ci, 1.0)
    t, st, err_t, _ = threshold_cell(mass, gamma, gbar, s, maxiter, eps)
    T = K.mp_moment_m1(t, gamma, gbar, s)
    if ci == 1.0:
        return inf, inf, inf, t, T, _AT_THRESHOLD, nan
    G = 0.0
    dG = 0.0
    F = 0.0
    dF = 0.0
    Tr = 0.0
    dTr = 0.0
    for j in range(len(sv)):
        g_, dg_, f_, df_, tr_, dtr_ = K.skip_direction_terms(sv[j], ki, ci, s, T)
        G += ell[j] * g_
        dG += ell[j] * dg_
        F += f_
        dF += df_
        Tr += tr_
        dTr += dtr_
    R, B, V = K.skip_aggregate(G, F, Tr, ki, d, e2)
    # error: threshold error through T_{-1} (dT/dt = -f(t)/t), plus rounding
    err_T = (K.mp_density(t, gamma, gbar, s) / t) * err_t + 4.0 * eps * abs(
        K.mp_moment_scale_m1(t, gamma, gbar, s))
    dR = dG + e2 * (2.0 * dTr + dF) / d
    size = abs(G) + e2 * (abs(1.0 - ki) + (2.0 * abs(Tr) + abs(F)) / d)
    err = abs(dR) * err_T + (len(sv) + 8.0) * eps * size
    if not (isfinite(R) and isfinite(B) and isfinite(V) and isfinite(T)):
        st = _NON_FINITE
    return R, B, V, t, T, st, err


_skip_cell_compiled = compiled(_skip_cell)
_skip_cell_reference = reference(_skip_cell, threshold_cell=threshold_cell_reference)


@compiled
def _skip_grid(c, kappa, e2tr, e2te, sv, ell, d, maxiter,
               risk, bias, var, theta, moment, st_out, err_out):
    for i in range(c.size):
        out = _skip_cell_compiled(c[i], kappa[i], e2tr[i], e2te[i], sv, ell, d, maxiter, EPS)
        risk[i], bias[i], var[i], theta[i], moment[i] = out[0], out[1], out[2], out[3], out[4]
        st_out[i], err_out[i] = out[5], out[6]


invalidate_stale_caches(globals(), __name__)


def _inputs(c: Any, kappa: Any, eta2_train: Any, eta2_test: Any, sv: Any, test_energy: Any,
            d: Any):
    cc = float_array("c", c)
    require("c", cc, cc > 0, "> 0 (aspect ratio d/N)")
    kk = float_array("kappa", kappa)
    require("kappa", kk, kk > 0, "in (0, 1/c] (bottleneck k = kappa d)")
    cb, kb = np.broadcast_arrays(cc, kk)
    ok = (kb * cb <= 1.0 + _KAPPA_SLACK) | ((cb < 1.0) & (kb <= 1.0))
    if not np.all(ok):
        bad = np.argmax(~ok.ravel())
        raise ValueError(
            f"kappa must be in (0, 1/c] (k = kappa d <= N) for c >= 1 and in (0, 1] for c < 1, "
            f"got kappa={kb.ravel()[bad]!r} at c={cb.ravel()[bad]!r}")
    e2tr, e2te, svs, ell, d = signal_inputs(eta2_train, eta2_test, sv, test_energy, d)
    return cc, kk, e2tr, e2te, svs, ell, d


def skip_grid(c: Any, kappa: Any, eta2_train: Any, eta2_test: Any, sv: Any, test_energy: Any,
              d: int, *, maxiter: int = 100, throw: bool = False) -> SkipGridResult:
    """Test risk of the skip-connection DAE with a proportional bottleneck ``k = kappa d``.

    Regime ``c > 1``, ``lambda = 0`` (formula in :mod:`rmtrisk.symbolic.skip`). ``c``,
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
    SkipGridResult
        Arrays of the broadcast shape of ``(c, kappa, eta2_train, eta2_test)``.
    """
    cc, kk, e2tr, e2te, svs, ell, d = _inputs(c, kappa, eta2_train, eta2_test, sv,
                                              test_energy, d)
    maxiter = check_maxiter(maxiter)
    shape, (cc, kk, e2tr, e2te) = broadcast(cc, kk, e2tr, e2te)
    n = cc.size
    outs = [np.empty(n) for _ in range(5)]
    st = np.empty(n, dtype=np.int8)
    err = np.empty(n)
    _skip_grid(cc, kk, e2tr, e2te, svs, ell, float(d), maxiter, *outs, st, err)
    risk, bias, var, theta, moment = (frozen(x.reshape(shape)) for x in outs)
    out = SkipGridResult(risk, bias, var, theta, moment, frozen(st.reshape(shape)),
                         frozen(err.reshape(shape)))
    if throw:
        raise_if_bad(out.status, "risk")
    return out


def skip_reference(c: Any, kappa: Any, eta2_train: Any, eta2_test: Any, sv: Any,
                   test_energy: Any, d: int, *, dps: int = 50,
                   maxiter: int = 400) -> SkipReferenceResult:
    """mpmath reference of one cell of :func:`skip_grid` at ``dps`` digits.

    The inputs are taken as exact binary floats; ``gamma = 1/c`` and ``1 - gamma = (c - 1)/c``
    are formed in ``dps``-digit arithmetic.
    """
    dps = check_dps(dps)
    mp_scalars(c=c, kappa=kappa, eta2_train=eta2_train, eta2_test=eta2_test)
    cc, kk, e2tr, e2te, svs, ell, d = _inputs(c, kappa, eta2_train, eta2_test, sv,
                                              test_energy, d)
    maxiter = check_maxiter(maxiter)
    with mpmath.workdps(dps):
        cell = _skip_cell_reference(
            mpmath.mpf(float(cc)), mpmath.mpf(float(kk)), mpmath.mpf(float(e2tr)),
            mpmath.mpf(float(e2te)), [mpmath.mpf(float(x)) for x in svs],
            [mpmath.mpf(float(x)) for x in ell], mpmath.mpf(d), maxiter, mpmath.eps)
        return SkipReferenceResult(*cell[:5], Status(cell[5]))
