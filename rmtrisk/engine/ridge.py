"""No skip connection, product regularization ``lambda >= 0``: the ridge regime.

Regime ``ridge`` (:mod:`rmtrisk.symbolic.ridge`; derivation ``docs/ridge.md``): the resolvent
moments ``(g, g')`` of the noise-Gram law at ``-lambda`` and per-direction factors ``(b, v)``
in closed form, summed over the kept directions. ``lambda = 0`` is the minimum-norm limit of
the ``bottleneck`` and ``one-layer`` regimes. Compiled grid :func:`ridge_grid`, mpmath
reference :func:`ridge_reference` (same kernels at ``dps`` digits).
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
    float_array,
    frozen,
    raise_if_bad,
    require,
    signal_inputs,
    success_mask,
)
from ._precision import EPS, check_dps, compiled, mp_call, mp_scalars

__all__ = ["RidgeGridResult", "RidgeReferenceResult", "ridge_factors", "ridge_grid",
           "ridge_moments", "ridge_reference"]

_SUCCESS = int(Status.SUCCESS)
_NON_FINITE = int(Status.NON_FINITE)
_AT_THRESHOLD = int(Status.AT_INTERPOLATION_THRESHOLD)


class RidgeGridResult(NamedTuple):
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

    success = success_mask


class RidgeReferenceResult(NamedTuple):
    """mpmath reference of one cell of :func:`ridge_grid`."""

    risk: mpmath.mpf
    bias: mpmath.mpf
    variance: mpmath.mpf
    g: mpmath.mpf
    gprime: mpmath.mpf
    status: Status


@compiled
def _ridge_factors_grid(t, c, lam, b_out, v_out, g_out, gp_out):
    for i in range(t.size):
        g, gp = K.ridge_moments(c[i], lam[i])
        b, v = K.ridge_direction_factors(t[i], g, gp)
        b_out[i] = b
        v_out[i] = v
        g_out[i] = g
        gp_out[i] = gp


@compiled
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
            risk[i] = var[i] = inf
            err_out[i] = nan
            st_out[i] = _AT_THRESHOLD
            continue
        risk[i] = R
        var[i] = Vv
        # every term is positive: relative rounding of the kernels plus the sums
        err_out[i] = (r + 16.0) * EPS * abs(R)
        if not (isfinite(R) and isfinite(B) and isfinite(Vv)
                and isfinite(g) and isfinite(gp)):
            st_out[i] = _NON_FINITE
        else:
            st_out[i] = _SUCCESS


invalidate_stale_caches(globals(), __name__)


def _ridge_law_inputs(c: Any, lam: Any, lam_name: str) -> tuple[np.ndarray, np.ndarray]:
    cc = float_array("c", c)
    require("c", cc, cc > 0, "> 0 (aspect ratio d/N)")
    ll = float_array(lam_name, lam)
    require(lam_name, ll, ll >= 0, ">= 0 (product regularization)")
    return cc, ll


def ridge_moments(c: Any, lam: Any) -> tuple[np.ndarray, np.ndarray]:
    """Ridge resolvent moments ``(g, g')`` of the unit-scale law of ``A^T A`` at ``z = -lam``.

    ``g = int x/(x + lam) dmu`` and ``g' = int x/(x + lam)^2 dmu`` (ratio ``1/c``), from the
    generated kernel ``ridge_moments`` (:mod:`rmtrisk.symbolic.ridge`), vectorized.

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
    shape, (cc, ll) = broadcast(cc, ll)
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
    tt = float_array("t", t)
    require("t", tt, tt > 0, "> 0 (training SNR sigma^2 / eta2_train)")
    cc, ll = _ridge_law_inputs(c, lam, "lam")
    shape, (tt, cc, ll) = broadcast(tt, cc, ll)
    return _ridge_factor_arrays(tt, cc, ll, shape)[:2]


def _ridge_inputs(c, reg, eta2_train, eta2_test, sv, test_energy, d, kept):
    cc, rr = _ridge_law_inputs(c, reg, "reg")
    e2tr, e2te, svs, ell, d = signal_inputs(eta2_train, eta2_test, sv, test_energy, d)
    if kept is None:
        mask = np.ones(svs.size, dtype=np.bool_)
    else:
        mask = np.asarray(kept)
        if mask.dtype != np.bool_ or mask.shape != svs.shape:
            raise ValueError(f"kept must be a boolean mask of shape ({svs.size},) (one entry per "
                             f"direction), got {kept!r}")
        mask = np.ascontiguousarray(mask)
    return cc, rr, e2tr, e2te, svs, ell, d, mask


def ridge_grid(c: Any, reg: Any, eta2_train: Any, eta2_test: Any, sv: Any, test_energy: Any,
               d: int, *, kept: Any = None, throw: bool = False) -> RidgeGridResult:
    """Test risk of the no-skip bottleneck DAE with product regularization ``lambda = reg``.

    Closed form of :mod:`rmtrisk.symbolic.ridge` (derivation ``docs/ridge.md``):
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
    RidgeGridResult
        Arrays of the broadcast shape of ``(c, reg, eta2_train, eta2_test)``; status SUCCESS,
        AT_INTERPOLATION_THRESHOLD or NON_FINITE (overflow, e.g. ``sv^2 / eta2_train = inf``).
    """
    cc, rr, e2tr, e2te, svs, ell, d, mask = _ridge_inputs(c, reg, eta2_train, eta2_test, sv,
                                                          test_energy, d, kept)
    shape, (cc, rr, e2tr, e2te) = broadcast(cc, rr, e2tr, e2te)
    n = cc.size
    outs = [np.empty(n) for _ in range(5)]
    st = np.empty(n, dtype=np.int8)
    err = np.empty(n)
    _ridge_grid(cc, rr, e2tr, e2te, svs, ell, mask, float(d), *outs, st, err)
    risk, bias, var, g, gp = (frozen(x.reshape(shape)) for x in outs)
    out = RidgeGridResult(risk, bias, var, g, gp, frozen(st.reshape(shape)),
                          frozen(err.reshape(shape)))
    if throw:
        raise_if_bad(out.status, "ridge risk")
    return out


def ridge_reference(c: Any, reg: Any, eta2_train: Any, eta2_test: Any, sv: Any, test_energy: Any,
                  d: int, *, kept: Any = None, dps: int = 50) -> RidgeReferenceResult:
    """mpmath reference of one cell of :func:`ridge_grid` at ``dps`` digits.

    The inputs are taken as exact binary floats; ``t_i = sv_i^2 / eta2_train`` and
    ``lam = reg / eta2_train`` are formed in ``dps``-digit arithmetic.
    """
    dps = check_dps(dps)
    mp_scalars(c=c, reg=reg, eta2_train=eta2_train, eta2_test=eta2_test)
    cc, rr, e2tr, e2te, svs, ell, d, mask = _ridge_inputs(c, reg, eta2_train, eta2_test, sv,
                                                          test_energy, d, kept)
    with mpmath.workdps(dps):
        c_, s = mpmath.mpf(float(cc)), mpmath.mpf(float(e2tr))
        lam = mpmath.mpf(float(rr)) / s
        e2 = mpmath.mpf(float(e2te))
        if c_ == 1 and lam == 0:
            g, gp = mpmath.mpf(1), mpmath.inf      # s = 0: the kernel divides by zero
        else:
            g, gp = mp_call("ridge_moments", c_, lam)
        Bk = Bd = V = mpmath.mpf(0)
        for sig, l, k in zip(svs, ell, mask, strict=True):
            if k:
                b, v = mp_call("ridge_direction_factors", mpmath.mpf(float(sig)) ** 2 / s, g, gp)
                Bk += mpmath.mpf(float(l)) * b
                V += v
            else:
                Bd += mpmath.mpf(float(l))
        R, B, Vv = mp_call("ridge_aggregate", Bk, Bd, V, e2, mpmath.mpf(d))
        if c_ == 1 and lam == 0:
            inf = mpmath.inf
            return RidgeReferenceResult(inf, B, inf, g, gp, Status.AT_INTERPOLATION_THRESHOLD)
        status = Status.SUCCESS
        if not all(mpmath.isfinite(x) for x in (R, B, Vv, g, gp)):
            status = Status.NON_FINITE
        return RidgeReferenceResult(R, B, Vv, g, gp, status)
