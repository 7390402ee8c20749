"""Gauss–Legendre rules in the angle variable of a square-root-edge density.

On a support ``[a, b]`` the substitution ``x = (a + b)/2 - (b - a)/2 cos(omega)`` turns the
square-root edges of a Marchenko–Pastur density into analytic endpoints, so Gauss–Legendre
rules in ``omega`` converge geometrically. The rules of :data:`SIZES` nodes are tabulated once,
concatenated (``GL_X``, ``GL_W``; the ``i``-th rule is ``GL_OFF[i]:GL_OFF[i + 1]``).
"""

from __future__ import annotations

import math

import numpy as np

from .. import _kernels as K
from ._cache import invalidate_stale_caches
from ._precision import compiled

__all__ = ["GL_OFF", "GL_W", "GL_X", "SIZES", "from_angle", "inner_rule"]

#: Gauss–Legendre rule sizes (rules double from one to the next)
SIZES = (16, 32, 64, 128, 256, 512, 1024)


def _gauss_legendre_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    nodes, weights, offsets = [], [], [0]
    for n in SIZES:
        x, w = np.polynomial.legendre.leggauss(n)
        nodes.append(x)
        weights.append(w)
        offsets.append(offsets[-1] + n)
    return np.concatenate(nodes), np.concatenate(weights), np.array(offsets, dtype=np.int64)


GL_X, GL_W, GL_OFF = _gauss_legendre_table()


@compiled
def from_angle(om, a, b):
    """``(a + b)/2 - (b - a)/2 cos(om)`` without cancellation near either edge."""
    if om < 0.5 * math.pi:
        s = math.sin(0.5 * om)
        return a + (b - a) * s * s
    s = math.cos(0.5 * om)
    return b - (b - a) * s * s


@compiled
def inner_rule(c, rho, n_index, xs, ws):
    """Continuous part of ``mu`` as a composite Gauss–Legendre rule in the angle variable.

    ``x = (a + b)/2 - (b - a)/2 cos(omega)``; panels ``[0, rho], [rho, 2 rho], [2 rho, 4 rho],
    ...`` up to ``pi`` (``rho`` the distance of the nearest integrand pole from the real
    ``omega`` axis) with the ``n_index``-th rule on each: geometric refinement towards the
    lower edge, where the poles at ``w`` and ``-lam`` approach the support when ``a`` and
    ``lam`` are small. Returns the number of nodes.
    """
    a, b = K.mp_edges(c, 1.0 - c, 1.0 / c)
    half = 0.5 * (b - a)
    lo, hi = GL_OFF[n_index], GL_OFF[n_index + 1]
    n = 0
    left = 0.0
    right = min(rho, math.pi)
    while left < math.pi:
        scale = 0.5 * (right - left)
        for j in range(hi - lo):
            om = left + scale * (GL_X[lo + j] + 1.0)
            x = from_angle(om, a, b)
            sn = half * math.sin(om)
            xs[n] = x
            ws[n] = scale * GL_W[lo + j] * sn * sn / (2.0 * math.pi * x)
            n += 1
        left = right
        right = min(2.0 * right, math.pi)
    return n


invalidate_stale_caches(globals(), __name__)
