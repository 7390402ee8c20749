"""Skip connection with product regularization ``lambda > 0``: kept-spectrum quadrature.

Regime ``skip-ridge``.

For ``lambda > 0`` the bottleneck of the skip-connection DAE keeps the top-k eigenvectors of
``S = phi(Lambda) + lam P K P^T`` (a rank-two perturbation per signal direction of a spectral
function of the noise Gram ``Lambda = A A^T``), which does not commute with the resolvent. The
kept quantities are contour integrals of the Woodbury resolvent around the kept part of the
spectrum (equations in :mod:`rmtrisk.symbolic.skip_ridge`, derivation in
``docs/skip_ridge.md``). This module evaluates them:

* **compiled path** (:func:`skip_ridge_grid`): a numba loop over grid cells. Per cell it finds
  the threshold ``theta`` (``mu((theta, inf)) = kappa``, the Newton solver of
  :mod:`rmtrisk.engine.marchenko_pastur`), integrates the generated integrands over the kept part
  ``zeta in (theta, b)`` by Gauss–Legendre quadrature in the angle variable
  ``zeta = (a + b)/2 - (b - a)/2 cos(omega)`` (the square-root edge becomes analytic), doubling
  the number of nodes until two rules agree, and adds the residue of the outlier eigenvalue
  above the bulk when there is one. The Marchenko–Pastur averages inside the integrands are
  split into a smooth integral (inner Gauss–Legendre rule, sized by a closed-form check) plus
  ``m(zeta)`` and ``m'(zeta)`` terms, which is stable for every ``lambda``;
* **mpmath path** (:func:`skip_ridge_reference`): the same integrands with the averages in
  closed form by partial fractions (exact, but cancelling in float64 for small ``lambda``), the
  outer integral by tanh-sinh quadrature at ``dps`` digits. The two paths share the equations
  but not the numerics, so their agreement checks both.
"""

from __future__ import annotations

import functools
import math
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
from ._kept_spectrum import (
    NFORMS,
    RTOL,
    inner_size,
    keep_top_outliers,
    outer_rule,
    outlier,
)
from ._precision import EPS, check_dps, compiled, mp_call, mp_scalars
from ._quadrature import SIZES
from .marchenko_pastur import threshold_cell, threshold_cell_reference

__all__ = ["SkipRidgeGridResult", "SkipRidgeReferenceResult", "skip_ridge_grid",
           "skip_ridge_reference"]

_SUCCESS = int(Status.SUCCESS)
_MAX_ITERATIONS = int(Status.MAX_ITERATIONS)
_NON_FINITE = int(Status.NON_FINITE)
_AT_EDGE = int(Status.AT_EDGE)
_UNSUPPORTED = int(Status.UNSUPPORTED)

_OUTER_FIRST, _OUTER_LAST = 1, 5      # 32 ... 512 nodes
_INNER_MAX = 128 * 48                 # panels: at most log2(pi / rho) + 1


class SkipRidgeGridResult(NamedTuple):
    """Skip-connection risk at ``lambda > 0`` per cell (read-only arrays).

    Attributes
    ----------
    risk, bias, variance : ndarray
        Test risk and its split (``variance = eta2_test ||W||_F^2 / d``); ``nan`` where the
        cell is UNSUPPORTED (``reg = 0``).
    threshold : ndarray
        Threshold ``theta`` of the law of ``A A^T`` (``eta_trn = 1`` units: ratio ``c``, scale
        ``1/c``) with ``mu((theta, inf)) = kappa``.
    outliers : ndarray of int
        Number of kept outlier eigenvalues of ``S`` above the bulk (one per signal direction at
        most; the ``k`` largest when there are more than ``k``), their residues added.
    status : ndarray of int8
        :class:`~rmtrisk.status.Status` codes: SUCCESS; AT_EDGE when ``kappa`` keeps everything
        (full width, closed form, values computed); MAX_ITERATIONS when two outer rules did not
        agree to ``1e-13`` relative by 512 nodes (near the emergence of an outlier; values of
        the largest rule, error estimate set) or the inner rule missed its check with 128 nodes
        per panel; NON_FINITE; UNSUPPORTED (``reg = 0``).
    error : ndarray
        Estimated absolute error of ``risk`` (difference of the last two quadrature rules plus
        the inner-rule check and the threshold error).
    nodes : ndarray of int
        Outer quadrature nodes of the accepted rule (0 at full width).
    """

    risk: np.ndarray
    bias: np.ndarray
    variance: np.ndarray
    threshold: np.ndarray
    outliers: np.ndarray
    status: np.ndarray
    error: np.ndarray
    nodes: np.ndarray

    success = success_mask


class SkipRidgeReferenceResult(NamedTuple):
    """mpmath reference of one cell of :func:`skip_ridge_grid`."""

    risk: mpmath.mpf
    bias: mpmath.mpf
    variance: mpmath.mpf
    threshold: mpmath.mpf
    outliers: int
    status: Status


# ============================================================================================
# compiled path
# ============================================================================================
@compiled
def _full_width(c, lam, sig, ell, e2te, d, pbar, q, rnorm, gp, xs, ws, n_in, theta, status,
                inner_res):
    """Cell result when the bottleneck keeps everything (``Pi F = F``): closed forms in
    ``<psi^2>`` and ``<x^2/(x + lam)^3>`` (inner rule; the atom at 0 contributes nothing)."""
    psi2 = e3 = 0.0
    for j in range(n_in):
        x = xs[j]
        u = x / (x + lam)
        psi2 += ws[j] * u * u
        e3 += ws[j] * u * u / (x + lam)
    G = Tr = Fr = 0.0
    for i in range(sig.size):
        gam, tr, fr = K.skip_ridge_full_width(pbar, q, sig[i], lam, rnorm, gp, psi2, e3, c)
        G += ell[i] * gam
        Tr += tr
        Fr += fr
    bias, variance = K.skip_ridge_aggregate(G, Tr, Fr, 1.0 - pbar, psi2, e2te, d)
    risk = bias + variance
    scale = abs(bias) + abs(variance)
    error = inner_res * scale + 4.0 * EPS * scale
    if not (math.isfinite(risk) and math.isfinite(bias) and math.isfinite(variance)):
        status = _NON_FINITE
    return risk, bias, variance, theta, 0, status, error, 0


@compiled
def _cell(c, kappa, lam, sig, ell, e2te, d, maxiter):
    """``(risk, bias, variance, theta, outliers, status, error, nodes)`` of one cell."""
    nan = math.nan
    if lam <= 0.0:
        return nan, nan, nan, nan, 0, _UNSUPPORTED, nan, 0
    cm = min(1.0, 1.0 / c)
    theta, st_t, err_t, _ = threshold_cell(min(kappa, cm), c, 1.0 - c, 1.0 / c, maxiter, EPS)
    status = _SUCCESS
    if st_t == _AT_EDGE:
        status = _AT_EDGE
    elif st_t != _SUCCESS:
        return nan, nan, nan, theta, 0, st_t, nan, 0
    atom = max(0.0, 1.0 - 1.0 / c)
    pbar, q, rnorm, gp = K.skip_ridge_constants(c, lam)
    h1 = K.skip_ridge_bulk(theta, lam)[0]
    xs = np.empty(_INNER_MAX)
    ws = np.empty(_INNER_MAX)
    full = st_t == _AT_EDGE and kappa >= cm
    # nearest pole of the smooth integrands: w(theta) = -lam theta/(theta + lam), or -lam at
    # full width (no resolvent there)
    w_pole = -lam if full else -lam * theta / (theta + lam)
    n_in, inner_res, inner_ok = inner_size(c, w_pole, xs, ws, atom)
    if not inner_ok:
        status = _MAX_ITERATIONS
    r = sig.size
    if full:
        return _full_width(c, lam, sig, ell, e2te, d, pbar, q, rnorm, gp, xs, ws, n_in, theta,
                           status, inner_res)
    f = np.empty(NFORMS, dtype=np.complex128)
    # outlier residues do not depend on the outer rule
    extra = np.zeros(3 * r)
    where = np.full(r, -math.inf)
    vals = np.empty(4)
    for i in range(r):
        if outlier(lam, c, pbar, q, sig[i], rnorm, gp, h1, xs, ws, n_in, atom, f, vals):
            extra[3 * i], extra[3 * i + 1], extra[3 * i + 2] = vals[0], vals[1], vals[2]
            where[i] = vals[3]
    n_out = keep_top_outliers(where, extra, kappa * d)
    acc = np.empty(2 + 3 * r)
    bias = variance = math.nan
    diff = math.inf
    nodes = 0
    for idx in range(_OUTER_FIRST, _OUTER_LAST + 1):
        outer_rule(idx, theta, lam, c, sig, pbar, q, rnorm, gp, h1, xs, ws, n_in, atom, f, acc)
        nodes = SIZES[idx]
        G = Tr = Fr = 0.0
        for i in range(r):
            G += ell[i] * (acc[2 + 3 * i] + extra[3 * i])
            Tr += acc[3 + 3 * i] + extra[3 * i + 1]
            Fr += acc[4 + 3 * i] + extra[3 * i + 2]
        new_bias, new_var = K.skip_ridge_aggregate(G, Tr, Fr, acc[0], acc[1], e2te, d)
        if idx > _OUTER_FIRST:
            diff = abs(new_bias - bias) + abs(new_var - variance)
        bias, variance = new_bias, new_var
        if diff <= RTOL * (abs(bias) + abs(variance)):
            break
    else:
        status = _MAX_ITERATIONS
    risk = bias + variance
    scale = abs(bias) + abs(variance)
    # the threshold error moves T_psi and T_psi2 by at most density(theta) * err_t
    dens_t = K.mp_density(theta, c, 1.0 - c, 1.0 / c) if st_t == _SUCCESS else 0.0
    error = (diff if diff < math.inf else scale) + inner_res * scale
    error += 3.0 * e2te * dens_t * err_t + 4.0 * EPS * scale
    if not (math.isfinite(risk) and math.isfinite(bias) and math.isfinite(variance)):
        status = _NON_FINITE
    return risk, bias, variance, theta, n_out, status, error, nodes


@compiled
def _skip_ridge_grid(c, kappa, reg, e2tr, e2te, sv, ell, d, maxiter,
                     risk, bias, var, theta, nout, st, err, nodes):
    for i in range(c.size):
        # noise units: lam = reg / eta2_train, sigma = sv / eta_train
        out = _cell(c[i], kappa[i], reg[i] / e2tr[i], sv / math.sqrt(e2tr[i]), ell, e2te[i], d,
                    maxiter)
        risk[i], bias[i], var[i], theta[i] = out[0], out[1], out[2], out[3]
        nout[i], st[i], err[i], nodes[i] = out[4], out[5], out[6], out[7]


invalidate_stale_caches(globals(), __name__)


def _inputs(c: Any, kappa: Any, reg: Any, eta2_train: Any, eta2_test: Any, sv: Any,
            test_energy: Any, d: Any):
    cc = float_array("c", c)
    require("c", cc, cc > 0, "> 0 (aspect ratio d/N)")
    kk = float_array("kappa", kappa)
    require("kappa", kk, kk > 0, "in (0, min(1, 1/c)] (bottleneck k = kappa d)")
    rr = float_array("reg", reg)
    require("reg", rr, rr >= 0, ">= 0 (product regularization lambda)")
    cb, kb = np.broadcast_arrays(cc, kk)
    ok = kb <= np.minimum(1.0, 1.0 / cb) * (1.0 + 1e-12)
    if not np.all(ok):
        bad = np.argmax(~ok.ravel())
        raise ValueError(f"kappa must be in (0, min(1, 1/c)] (k = kappa d <= min(d, N)), got "
                         f"kappa={kb.ravel()[bad]!r} at c={cb.ravel()[bad]!r}")
    e2tr, e2te, svs, ell, d = signal_inputs(eta2_train, eta2_test, sv, test_energy, d)
    return cc, kk, rr, e2tr, e2te, svs, ell, d


def skip_ridge_grid(c: Any, kappa: Any, reg: Any, eta2_train: Any, eta2_test: Any, sv: Any,
                    test_energy: Any, d: int, *, maxiter: int = 100,
                    throw: bool = False) -> SkipRidgeGridResult:
    """Test risk of the skip-connection DAE with ``k = kappa d`` and product regularization.

    Both sides of ``c = 1`` (and ``c = 1`` itself), ``reg = lambda > 0``. ``c``, ``kappa``,
    ``reg``, ``eta2_train`` and ``eta2_test`` broadcast together; the signal spectrum is shared
    by all cells. Leading order in ``d`` with the ``O(r/d)`` per-direction trace terms, like
    :func:`rmtrisk.engine.skip.skip_grid` (``lambda = 0``, ``c > 1``), which it tends
    to as ``reg -> 0``.

    Parameters
    ----------
    c : array_like
        Aspect ratio ``d / N > 0``.
    kappa : array_like
        Bottleneck ratio ``k / d`` in ``(0, min(1, 1/c)]`` (wider bottlenecks are the same
        minimizer: cap ``k`` at ``min(d, N)``).
    reg : array_like
        Product regularization ``lambda >= 0``; ``0`` gives UNSUPPORTED (use the
        ``lambda = 0`` solvers).
    eta2_train, eta2_test : array_like
        Training-noise level ``> 0`` and test-noise level ``>= 0``.
    sv : array_like, shape (r,)
        Singular values ``> 0`` of the clean training data.
    test_energy : array_like, shape (r,)
        Per-direction test energies ``>= 0``.
    d : int
        Ambient dimension ``>= r`` (enters only the ``O(r/d)`` terms).
    maxiter : int
        Iteration limit of the threshold root-find.
    throw : bool
        Raise :class:`~rmtrisk.status.SolverError` if any cell is not SUCCESS.

    Returns
    -------
    SkipRidgeGridResult
        Arrays of the broadcast shape of ``(c, kappa, reg, eta2_train, eta2_test)``.
    """
    cc, kk, rr, e2tr, e2te, svs, ell, d = _inputs(c, kappa, reg, eta2_train, eta2_test, sv,
                                                  test_energy, d)
    maxiter = check_maxiter(maxiter)
    shape, (cc, kk, rr, e2tr, e2te) = broadcast(cc, kk, rr, e2tr, e2te)
    n = cc.size
    outs = [np.empty(n) for _ in range(4)]
    nout = np.empty(n, dtype=np.int64)
    st = np.empty(n, dtype=np.int8)
    err = np.empty(n)
    nodes = np.empty(n, dtype=np.int64)
    _skip_ridge_grid(cc, kk, rr, e2tr, e2te, svs, ell, float(d), maxiter, *outs, nout, st,
                     err, nodes)
    risk, bias, var, theta = (frozen(x.reshape(shape)) for x in outs)
    out = SkipRidgeGridResult(risk, bias, var, theta, frozen(nout.reshape(shape)),
                          frozen(st.reshape(shape)), frozen(err.reshape(shape)),
                          frozen(nodes.reshape(shape)))
    if throw:
        raise_if_bad(out.status, "skip lambda > 0 risk")
    return out


# ============================================================================================
# mpmath reference path
# ============================================================================================
@functools.cache
def _averages_reference():
    """The eleven averages in closed form (partial fractions) as one mpmath function."""
    import sympy as sp  # lazy heavy import: the reference path only

    from ..symbolic import skip_ridge as sr

    Z = sr.SR
    args = (Z.zeta, Z.lam, Z.c, Z.m, Z.dm, Z.mw, Z.dmw, Z.ml, Z.dml)
    exprs = [sr.partial_fraction_average(f.name) for f in sr.FORMS]
    return sp.lambdify(args, exprs, modules="mpmath")


def _stieltjes_pair_reference(z, c):
    """``(m, m')`` of the law of ``A A^T`` at real ``z`` outside the support."""
    m = mp_call("mp_stieltjes_real", z, c, 1 - c, 1 / c)
    return m, mp_call("mp_stieltjes_deriv", z, m, c, 1 - c, 1 / c)


def _forms_reference(zeta, lam, c, inside):
    if inside:
        m, dm = mp_call("skip_ridge_boundary_m", zeta, c)
    else:
        m, dm = _stieltjes_pair_reference(zeta, c)
    mw, dmw = _stieltjes_pair_reference(-lam * zeta / (zeta + lam), c)
    ml, dml = _stieltjes_pair_reference(-lam, c)
    return _averages_reference()(zeta, lam, c, m, dm, mw, dmw, ml, dml)


def _outlier_reference(lam, c, pbar, q, sigma, rnorm, gp, h1, b):
    def eig(z):
        f = _forms_reference(z, lam, c, inside=False)
        return mp_call("skip_ridge_edge", mpmath.re(f[0]), mpmath.re(f[1]), pbar, q, sigma, lam)[0]

    # at the edge only the first-power forms are finite; evaluate just above it
    zb = b * (1 + mpmath.eps ** mpmath.mpf(0.5))
    if not eig(zb) < 0:
        return None
    lo, hi = zb, 2 * b
    while eig(hi) <= 0:
        lo, hi = hi, 2 * hi
    z = mpmath.findroot(eig, (lo, hi), solver="anderson")
    f = [mpmath.re(v) for v in _forms_reference(z, lam, c, inside=False)]
    return mp_call("skip_ridge_outlier", *f, pbar, q, sigma, lam, rnorm, gp, h1), z


def _full_width_reference(c, lam, a, b, sigmas, ell, et, dd, pbar, q, rnorm, gp, theta, status):
    """Full-width cell in mpmath: ``<psi^2>`` and ``<x^2/(x + lam)^3>`` by tanh-sinh."""
    def avg(f):
        return mpmath.quad(lambda x: f(x) * mpmath.sqrt((b - x) * (x - a)) / (2 * mpmath.pi * x),
                           [a, b])

    psi2 = avg(lambda x: (x / (x + lam)) ** 2)
    e3 = avg(lambda x: x**2 / (x + lam) ** 3)
    G = Tr = Fr = mpmath.mpf(0)
    for sg, li in zip(sigmas, ell, strict=True):
        gam, tr, fr = mp_call("skip_ridge_full_width", pbar, q, sg, lam, rnorm, gp, psi2, e3, c)
        G += mpmath.mpf(float(li)) * gam
        Tr += tr
        Fr += fr
    bias, variance = mp_call("skip_ridge_aggregate", G, Tr, Fr, 1 - pbar, psi2, et, dd)
    risk = bias + variance
    if not all(mpmath.isfinite(v) for v in (risk, bias, variance)):
        status = Status.NON_FINITE
    return SkipRidgeReferenceResult(risk, bias, variance, theta, 0, status)


def skip_ridge_reference(c: Any, kappa: Any, reg: Any, eta2_train: Any, eta2_test: Any, sv: Any,
                       test_energy: Any, d: int, *, dps: int = 30,
                       maxiter: int = 400) -> SkipRidgeReferenceResult:
    """mpmath reference of one cell of :func:`skip_ridge_grid` at ``dps`` digits.

    Same equations; the averages by partial fractions, the outer integral by tanh-sinh
    quadrature (``mpmath.quad``), the outlier by ``mpmath.findroot``. The partial fractions
    cancel like ``lambda^-3`` as ``lambda -> 0``, so the work precision carries
    ``10 + 3 log10(1/lambda)`` guard digits. Slow (seconds per cell).
    """
    dps = check_dps(dps)
    mp_scalars(c=c, kappa=kappa, reg=reg, eta2_train=eta2_train, eta2_test=eta2_test)
    cc, kk, rr, e2tr, e2te, svs, ell, d = _inputs(c, kappa, reg, eta2_train, eta2_test, sv,
                                                  test_energy, d)
    maxiter = check_maxiter(maxiter)
    nan = mpmath.nan
    # the partial fractions cancel like lam^-3 as lam -> 0: guard digits
    guard = 10 + 3 * max(0, math.ceil(-math.log10(float(rr / e2tr)))) if rr > 0 else 0
    with mpmath.workdps(dps + guard):
        c_, k_ = mpmath.mpf(float(cc)), mpmath.mpf(float(kk))
        e2, et = mpmath.mpf(float(e2tr)), mpmath.mpf(float(e2te))
        lam = mpmath.mpf(float(rr)) / e2
        if lam <= 0:
            return SkipRidgeReferenceResult(nan, nan, nan, nan, 0, Status.UNSUPPORTED)
        # full width decided in float64 as in the compiled path (kappa = fl(1/c) keeps all)
        full = float(kk) >= min(1.0, 1.0 / float(cc))
        mass = min(1, 1 / c_) if full else min(k_, min(1, 1 / c_))
        theta, code, _, _ = threshold_cell_reference(mass, c_, 1 - c_, 1 / c_, maxiter,
                                                     mpmath.eps)
        status = Status(code)
        a, b = mp_call("mp_edges", c_, 1 - c_, 1 / c_)
        mid, half = (a + b) / 2, (b - a) / 2
        om0 = mpmath.acos(max(-1, min(1, (mid - theta) / half)))
        pbar, q, rnorm, gp = mp_call("skip_ridge_constants", c_, lam)
        h1 = mp_call("skip_ridge_bulk", theta, lam)[0]
        sigmas = [mpmath.mpf(float(s)) / mpmath.sqrt(e2) for s in svs]
        dd = mpmath.mpf(d)
        if full:
            return _full_width_reference(c_, lam, a, b, sigmas, ell, et, dd, pbar, q, rnorm, gp,
                                         theta, status)

        @functools.cache
        def node(om):
            # half-angle forms: zeta stays strictly inside (a, b) at tanh-sinh end nodes
            zeta = (a + (b - a) * mpmath.sin(om / 2) ** 2 if om < mpmath.pi / 2
                    else b - (b - a) * mpmath.cos(om / 2) ** 2)
            sn = half * mpmath.sin(om)
            if not a < zeta < b:  # an end node closer to the edge than dps resolves:
                return [mpmath.mpf(0)] * (2 + 3 * len(sigmas))  # weight below eps
            psi, psi_sq = mp_call("skip_ridge_bulk", zeta, lam)
            dens = sn * sn / (2 * mpmath.pi * zeta)
            f = _forms_reference(zeta, lam, c_, inside=True)
            jac = sn * zeta * (zeta + 2 * lam) / ((zeta + lam) ** 2 * mpmath.pi)
            out = [dens * psi, dens * psi_sq]
            for sg in sigmas:
                J = mp_call("skip_ridge_node", *f, pbar, q, sg, lam, rnorm, gp, h1)
                out += [jac * mpmath.im(v) for v in J]
            return out

        tot = [mpmath.quad(lambda om, j=j: node(om)[j], [om0, mpmath.pi])
               for j in range(2 + 3 * len(sigmas))]
        found = {i: _outlier_reference(lam, c_, pbar, q, sg, rnorm, gp, h1, b)
                 for i, sg in enumerate(sigmas)}
        # the k largest outliers are kept (see keep_top_outliers)
        ranked = sorted((i for i in found if found[i] is not None), key=lambda i: -found[i][1])
        kept = set(ranked[:int(float(kk) * d + 0.5)])
        n_out = len(kept)
        G = Tr = Fr = mpmath.mpf(0)
        for i, li in enumerate(ell):
            gam, tr, fr = tot[2 + 3 * i: 5 + 3 * i]
            if i in kept:
                res = found[i][0]
                gam, tr, fr = gam + res[0], tr + res[1], fr + res[2]
            G += mpmath.mpf(float(li)) * gam
            Tr += tr
            Fr += fr
        bias, variance = mp_call("skip_ridge_aggregate", G, Tr, Fr, tot[0], tot[1], et, dd)
        risk = bias + variance
        if not all(mpmath.isfinite(v) for v in (risk, bias, variance)):
            status = Status.NON_FINITE
        return SkipRidgeReferenceResult(risk, bias, variance, theta, n_out, status)
