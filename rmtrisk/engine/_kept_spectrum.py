"""The kept-spectrum quadrature of the ``skip-ridge`` regime (compiled).

The pieces :mod:`rmtrisk.engine.skip_ridge` assembles a cell from: the eleven Marchenko–Pastur
averages at a spectral point (:func:`kept_averages`, inner Gauss–Legendre rule sized by
:func:`inner_size`), the outlier eigenvalues of the kept matrix above the bulk and their
residues (:func:`outlier`, :func:`keep_top_outliers`), and one outer rule over the kept part of
the bulk (:func:`outer_rule`). Derivation in docs/skip_ridge.md.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _kernels as K
from ._cache import invalidate_stale_caches
from ._precision import EPS, compiled
from ._quadrature import GL_OFF, GL_W, GL_X, from_angle, inner_rule

__all__ = ["NFORMS", "RTOL", "edge_eigenvalue", "inner_size", "keep_top_outliers",
           "kept_averages", "outer_rule", "outlier"]

#: number of kept-spectrum averages (``rmtrisk.symbolic.skip_ridge.FORMS``)
NFORMS = 11
_INNER_FIRST, _INNER_LAST = 0, 3      # 16 ... 128 nodes per panel
#: relative agreement of two rules (and of the inner check) that counts as converged
RTOL = 1e-13


@compiled
def kept_averages(zeta, lam, c, m, dm, xs, ws, n, atom, first_only, out):
    """The eleven averages at ``zeta`` from the inner rule and ``m(zeta), m'(zeta)``."""
    acc = np.zeros(NFORMS)
    for j in range(n):
        v = K.skip_ridge_smooth(xs[j], zeta, lam, c)
        for i in range(NFORMS):
            acc[i] += ws[j] * v[i]
    if atom > 0.0:
        v = K.skip_ridge_smooth(0.0, zeta, lam, c)
        for i in range(NFORMS):
            acc[i] += atom * v[i]
    pc = K.skip_ridge_poles(zeta, lam, c)
    for i in range(NFORMS):
        if first_only and i >= 5:
            out[i] = complex(math.nan, 0.0)
        elif i < 5:
            out[i] = acc[i] + pc[i] * m
        else:
            out[i] = acc[i] + pc[i] * m + pc[i + 6] * dm


@compiled
def inner_size(c, w, xs, ws, atom):
    """Smallest inner rule whose integral of ``1/(x - w)`` (``w`` nearest the support) matches
    the closed-form ``m(w)`` to ``RTOL``: ``(n, relative residual, converged)``.

    The panels are sized by the distance ``rho`` of the pole ``w < 0`` from the real axis in
    the angle variable, ``cos(i rho) = (mid - w)/half``.
    """
    ref = K.mp_stieltjes_real(w, c, 1.0 - c, 1.0 / c)
    a, b = K.mp_edges(c, 1.0 - c, 1.0 / c)
    eps = (a - w) / (0.5 * (b - a))
    rho = math.log1p(eps + math.sqrt(eps * (2.0 + eps)))   # acosh(1 + eps)
    rho = max(rho, math.pi * 2.0**-40)                       # at most 41 panels
    res = math.inf
    n = 0
    for idx in range(_INNER_FIRST, _INNER_LAST + 1):
        n = inner_rule(c, rho, idx, xs, ws)
        s = atom / (0.0 - w) if atom > 0.0 else 0.0
        for j in range(n):
            s += ws[j] / (xs[j] - w)
        res = abs(s - ref) / abs(ref)
        if res <= RTOL:
            return n, res, True
    return n, res, False


@compiled
def edge_eigenvalue(zeta, lam, c, pbar, q, sigma, xs, ws, n, atom, f):
    """Largest eigenvalue of ``lam N`` at real ``zeta >= b`` (outside the bulk)."""
    m = K.mp_stieltjes_real(zeta, c, 1.0 - c, 1.0 / c)
    kept_averages(zeta, lam, c, complex(m, 0.0), complex(math.nan, 0.0), xs, ws, n, atom, True, f)
    return K.skip_ridge_edge(f[0].real, f[1].real, pbar, q, sigma, lam)[0]


@compiled
def outlier(lam, c, pbar, q, sigma, rnorm, gp, h1, xs, ws, n, atom, f, res):
    """Residues of the outlier of one direction into ``res[0:3]`` and its position ``zeta_o``
    into ``res[3]``; returns 1 if there is one."""
    a, b = K.mp_edges(c, 1.0 - c, 1.0 / c)
    g_lo = edge_eigenvalue(b, lam, c, pbar, q, sigma, xs, ws, n, atom, f)
    if not g_lo < 0.0:
        return 0
    lo, hi = b, 2.0 * b
    g_hi = edge_eigenvalue(hi, lam, c, pbar, q, sigma, xs, ws, n, atom, f)
    for _ in range(200):
        if g_hi > 0.0:
            break
        lo, g_lo = hi, g_hi
        hi *= 2.0
        g_hi = edge_eigenvalue(hi, lam, c, pbar, q, sigma, xs, ws, n, atom, f)
    # Illinois regula falsi on the increasing eigenvalue
    side = 0
    z = hi
    for _ in range(200):
        z = (lo * g_hi - hi * g_lo) / (g_hi - g_lo)
        if not (lo < z < hi):
            z = 0.5 * (lo + hi)
        g = edge_eigenvalue(z, lam, c, pbar, q, sigma, xs, ws, n, atom, f)
        if g > 0.0:
            hi, g_hi = z, g
            if side == 1:
                g_lo *= 0.5
            side = 1
        elif g < 0.0:
            lo, g_lo = z, g
            if side == -1:
                g_hi *= 0.5
            side = -1
        else:
            break
        if hi - lo <= 4.0 * EPS * hi:
            break
    m = K.mp_stieltjes_real(z, c, 1.0 - c, 1.0 / c)
    dm = K.mp_stieltjes_deriv(z, m, c, 1.0 - c, 1.0 / c)
    kept_averages(z, lam, c, complex(m, 0.0), complex(dm, 0.0), xs, ws, n, atom, False, f)
    r = K.skip_ridge_outlier(f[0].real, f[1].real, f[2].real, f[3].real, f[4].real, f[5].real,
                             f[6].real, f[7].real, f[8].real, f[9].real, f[10].real,
                             pbar, q, sigma, lam, rnorm, gp, h1)
    res[0], res[1], res[2], res[3] = r[0], r[1], r[2], z
    return 1


@compiled
def outer_rule(n_index, theta, lam, c, sig, pbar, q, rnorm, gp, h1, xs, ws, n_in, atom, f, acc):
    """One outer rule: ``acc = [T_psi, T_psi2, (Gamma_i, trace_i, frob_i) for each i]``."""
    a, b = K.mp_edges(c, 1.0 - c, 1.0 / c)
    mid, half = 0.5 * (a + b), 0.5 * (b - a)
    cw = (mid - theta) / half
    om0 = math.acos(min(1.0, max(-1.0, cw)))
    lo, hi = GL_OFF[n_index], GL_OFF[n_index + 1]
    r = sig.size
    for i in range(acc.size):
        acc[i] = 0.0
    scale = 0.5 * (math.pi - om0)
    for j in range(hi - lo):
        om = om0 + scale * (GL_X[lo + j] + 1.0)
        wj = scale * GL_W[lo + j]
        zeta = from_angle(om, a, b)
        sn = half * math.sin(om)
        psi, psi_sq = K.skip_ridge_bulk(zeta, lam)
        dens = wj * sn * sn / (2.0 * math.pi * zeta)
        acc[0] += dens * psi
        acc[1] += dens * psi_sq
        m, dm = K.skip_ridge_boundary_m(zeta, c)
        kept_averages(zeta, lam, c, m, dm, xs, ws, n_in, atom, False, f)
        dphi = zeta * (zeta + 2.0 * lam) / ((zeta + lam) * (zeta + lam))
        jac = wj * sn * dphi / math.pi
        for i in range(r):
            J = K.skip_ridge_node(f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9],
                                  f[10], pbar, q, sig[i], lam, rnorm, gp, h1)
            acc[2 + 3 * i] += jac * J[0].imag
            acc[3 + 3 * i] += jac * J[1].imag
            acc[4 + 3 * i] += jac * J[2].imag


@compiled
def keep_top_outliers(where, extra, k):
    """Keep the residues of the ``k`` largest outliers only; returns how many are kept.

    The bottleneck keeps the top ``k`` eigenvectors of ``S``: every outlier and ``k - n_out``
    bulk eigenvectors when ``k >= n_out`` (each kept outlier displaces the bulk eigenvalue at
    the threshold, the ``- h(theta)`` of its residue), only the ``k`` largest outliers when
    ``k < n_out``. ``where`` holds the outliers' positions (``-inf``: no outlier).
    """
    order = np.argsort(-where)
    keep = int(k + 0.5)
    n_out = 0
    for j in range(where.size):
        i = order[j]
        if where[i] == -math.inf:
            continue
        if n_out < keep:
            n_out += 1
        else:
            extra[3 * i] = extra[3 * i + 1] = extra[3 * i + 2] = 0.0
    return n_out


invalidate_stale_caches(globals(), __name__)
