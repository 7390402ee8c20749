"""Closed forms of the ridge (no skip, ``lambda > 0``) and skip ``c < 1`` (``lambda = 0``) regimes.

Both regimes were derived by hand (``docs/ridge.md``, ``docs/skip_under.md``); this module is
the one place where their formulas live as sympy expressions, written in the cancellation-free
algebra of the derivations so that the printed kernels (``rmtrisk/_kernels.py``) and the mpmath
reference (:func:`rmtrisk.symbolic.codegen.mpmath_function`) evaluate them stably.

**Ridge** (``eta_trn = 1`` units: ``t = sigma^2 / eta2_train``, ``lam = lambda / eta2_train``,
``gamma = 1/c``): with ``(1 -+ sqrt(gamma))^2`` written as ``(c - 1)^2 / (c (1 + sqrt c)^2)``
and ``(1 + sqrt c)^2 / c`` (no cancellation near ``c = 1``),

    s = sqrt((lam + (1 + sqrt(gamma))^2)(lam + (1 - sqrt(gamma))^2)),
    g = 2 / (1 + gamma + lam + s),    g' = g / s,
    b = 1 / (1 + g t)^2,              v = t (1 + t) g' / (1 + g t)^2.

**Skip, c < 1** (law of ``A A^T``: ratio ``c``, scale ``1/c``, edges
``a = (1 - c)^2 / (c (1 + sqrt c)^2)``, ``b = (1 + sqrt c)^2 / c``; threshold ``theta`` with
``mu((theta, inf)) = kappa``): per direction the pole terms

    delta = t (1 - c) / (1 + c t),    1 + delta = (1 + t) / (1 + c t),
    x0 = t (1 - c)^2 / (c (1 + c t)(1 + t)),
    sqrt(a - x0) = (1 - c) |1 - sqrt(c) t| / ((1 + sqrt c) sqrt(c (1 + c t)(1 + t))),
    sqrt(b - x0) = (1 + sqrt c)(1 + sqrt(c) t) / sqrt(c (1 + c t)(1 + t)),

the shifted semicircle integral ``G(x0) = int_theta^b sqrt((b - x)(x - a)) / (x - x0) dx``,
``pi0 = G(x0) / (2 pi (1 + delta))`` and the divided difference
``pi1 = (G(x0) - G(0)) / (2 pi (1 + delta) x0)`` evaluated without cancellation, then

    Gamma = pi0 / (1 + c t)^2,   tr = delta pi1 / (1 + c t),   frob = v pi0 - 2 tr,
    v = c^2 t (1 + t) / ((1 - c)(1 + c t)^2).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import sympy as sp

__all__ = [
    "REG",
    "RegimeSymbols",
    "ridge_aggregate",
    "ridge_direction_factors",
    "ridge_moments",
    "ridge_moments_transcribed",
    "skip_under_aggregate",
    "skip_under_direction_terms",
    "skip_under_edge_overlaps",
    "skip_under_edges",
    "skip_under_full_overlaps",
    "skip_under_overlaps",
    "skip_under_pole_terms",
    "skip_under_semicircle",
    "semicircle_in",
]


class RegimeSymbols(NamedTuple):
    """Symbols of the ridge and skip ``c < 1`` closed forms.

    Attributes
    ----------
    c, lam, t, kappa, theta
        Aspect ratio ``d/N``, regularization ``lambda / eta2_train``, training SNR
        ``sigma^2 / eta2_train``, bottleneck ratio ``k/d`` and noise-eigenvalue threshold.
    g, gprime
        Ridge resolvent moments ``int x/(x + lam) dmu`` and ``int x/(x + lam)^2 dmu``.
    pi0, pi1
        Kept overlaps ``u^T Pi u`` and ``u^T Lambda'^{-1} Pi u`` of one direction.
    Bk, Bd, V
        Ridge sums: ``sum_{kept} l_i b_i``, ``sum_{dropped} l_i``, ``sum_{kept} v_i``.
    G, F, Tr, Vp
        Skip sums: ``sum l_i Gamma_i``, ``sum frob_i``, ``sum tr_i``, ``sum v_i pi0_i``.
    eta2_test, d
        Test-noise level and ambient dimension.
    """

    c: sp.Symbol
    lam: sp.Symbol
    t: sp.Symbol
    kappa: sp.Symbol
    theta: sp.Symbol
    g: sp.Symbol
    gprime: sp.Symbol
    pi0: sp.Symbol
    pi1: sp.Symbol
    Bk: sp.Symbol
    Bd: sp.Symbol
    V: sp.Symbol
    G: sp.Symbol
    F: sp.Symbol
    Tr: sp.Symbol
    Vp: sp.Symbol
    eta2_test: sp.Symbol
    d: sp.Symbol


REG = RegimeSymbols(
    c=sp.Symbol("c", positive=True),
    lam=sp.Symbol("lam", nonnegative=True),
    t=sp.Symbol("t", positive=True),
    kappa=sp.Symbol("kappa", positive=True),
    theta=sp.Symbol("theta", positive=True),
    g=sp.Symbol("g", positive=True),
    gprime=sp.Symbol("gprime", positive=True),
    pi0=sp.Symbol("pi0", nonnegative=True),
    pi1=sp.Symbol("pi1", nonnegative=True),
    Bk=sp.Symbol("Bk", nonnegative=True),
    Bd=sp.Symbol("Bd", nonnegative=True),
    V=sp.Symbol("V", nonnegative=True),
    G=sp.Symbol("G", real=True),
    F=sp.Symbol("F", real=True),
    Tr=sp.Symbol("Tr", real=True),
    Vp=sp.Symbol("Vp", real=True),
    eta2_test=sp.Symbol("eta2_test", nonnegative=True),
    d=sp.Symbol("d", positive=True),
)


# ============================================================================================
# ridge (no skip connection, product regularization)
# ============================================================================================
def _ridge_s() -> sp.Expr:
    c, lam = REG.c, REG.lam
    sc = sp.sqrt(c)
    upper = (1 + sc) ** 2 / c                       # (1 + sqrt(gamma))^2, gamma = 1/c
    lower = (c - 1) ** 2 / (c * (1 + sc) ** 2)      # (1 - sqrt(gamma))^2 without cancellation
    return sp.sqrt((lam + upper) * (lam + lower))


@functools.cache
def ridge_moments() -> tuple[sp.Expr, sp.Expr]:
    """``(g, g')`` of the unit-scale law of ``A^T A`` at ``z = -lam`` (ratio ``1/c``).

    Returns
    -------
    tuple of sympy expressions in ``(c, lam)``
        ``g = 2 / (1 + 1/c + lam + s)`` and ``g' = g / s``; every term is positive.
    """
    c, lam = REG.c, REG.lam
    s = _ridge_s()
    g = 2 / (1 + 1 / c + lam + s)
    return g, g / s


def ridge_moments_transcribed() -> tuple[sp.Expr, sp.Expr]:
    """``(g, g')`` literally from the quadratic ``gamma g^2 - (1 + gamma + lam) g + 1 = 0``.

    ``g`` is the root in ``(0, 1]`` (minus sign) and ``g' = dg/dlam`` by implicit
    differentiation; used to check :func:`ridge_moments` symbolically.
    """
    c, lam = REG.c, REG.lam
    gamma = 1 / c
    B = 1 + gamma + lam
    g = (B - sp.sqrt(B**2 - 4 * gamma)) / (2 * gamma)
    return g, -sp.diff(g, lam)


@functools.cache
def ridge_direction_factors() -> tuple[sp.Expr, sp.Expr]:
    """Per-direction ``(b, v)`` in ``(t, g, gprime)``.

    ``b = 1/(1 + g t)^2``, ``v = t (1 + t) g'/(1 + g t)^2``.
    """
    t, g, gp = REG.t, REG.g, REG.gprime
    den = (1 + g * t) ** 2
    return 1 / den, t * (1 + t) * gp / den


@functools.cache
def ridge_aggregate() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """``(risk, bias, variance)`` from ``Bk = sum_kept l b``, ``Bd = sum_dropped l``, ``V``.

    ``bias = Bk + Bd``, ``variance = eta2_test V / d``, ``risk = bias + variance``.
    """
    Bk, Bd, V, e2, d = REG.Bk, REG.Bd, REG.V, REG.eta2_test, REG.d
    bias = Bk + Bd
    variance = e2 * V / d
    return bias + variance, bias, variance


# ============================================================================================
# skip connection, c < 1, lambda = 0
# ============================================================================================
@functools.cache
def skip_under_edges() -> tuple[sp.Expr, sp.Expr]:
    """Edges ``(a, b)`` of the law of ``A A^T`` (ratio ``c``, scale ``1/c``), no cancellation."""
    c = REG.c
    sc = sp.sqrt(c)
    return (1 - c) ** 2 / (c * (1 + sc) ** 2), (1 + sc) ** 2 / c


@functools.cache
def skip_under_pole_terms() -> tuple[sp.Expr, ...]:
    """``(delta, 1 + delta, x0, sqrt(a - x0), sqrt(b - x0))`` of one direction, in ``(t, c)``.

    ``1/|1 - delta m(x + i0)|^2 = x / ((1 + delta)(x - x0))`` on the support; ``x0 <= a``.
    """
    c, t = REG.c, REG.t
    sc = sp.sqrt(c)
    den = c * (1 + c * t) * (1 + t)
    delta = t * (1 - c) / (1 + c * t)
    one_delta = (1 + t) / (1 + c * t)
    x0 = t * (1 - c) ** 2 / den
    ra = (1 - c) / (1 + sc) * sp.Abs(1 - sc * t) / sp.sqrt(den)
    rb = (1 + sc) * (1 + sc * t) / sp.sqrt(den)
    return delta, one_delta, x0, ra, rb


def semicircle_in(a: sp.Expr, b: sp.Expr, x0: sp.Expr, ra: sp.Expr, rb: sp.Expr,
                  theta: sp.Expr) -> dict[str, sp.Expr]:
    """``G(x0)``, its divided difference and their pieces in terms of the edges and the pole.

    Parameters
    ----------
    a, b, x0, ra, rb, theta : sympy expressions
        Edges, pole, ``sqrt(a - x0)``, ``sqrt(b - x0)`` and threshold (symbols for display,
        or the expressions of :func:`skip_under_edges` / :func:`skip_under_pole_terms`).

    Returns
    -------
    dict
        ``P, Q, R, vartheta, phi, gx, G, G_scale, g0, rho, rho0, dg, w, dphi, dG, dG_scale``.
    """
    P, Q = sp.sqrt(b - theta), sp.sqrt(theta - a)
    R = P * Q
    vartheta = 2 * sp.atan2(P, Q)
    phi = sp.atan2(ra * P, rb * Q)               # atan2(sqrt(a - x0) P, sqrt(b - x0) Q)
    gx = ra * rb                                 # sqrt((a - x0)(b - x0))
    G = vartheta * (a + b - 2 * x0) / 2 - R - 2 * phi * gx
    G_scale = vartheta * (a + b - 2 * x0) / 2 + R + 2 * phi * gx
    # divided difference (G(x0) - G(0)) / x0, G(0) the same integral without the pole shift
    g0 = sp.sqrt(a * b)
    rho0 = sp.sqrt(a / b)
    rho = ra / rb
    dg = (x0 - a - b) / (gx + g0)                # (g(x0) - g(0)) / x0
    w = (a - b) * R / (b * rb**2 * (rho + rho0) * (Q**2 + rho * rho0 * P**2))
    dphi = sp.atan(x0 * w) / x0                  # (phi(x0) - phi(0)) / x0
    dG = -vartheta - 2 * (phi * dg + g0 * dphi)
    dG_scale = vartheta + 2 * (phi * sp.Abs(dg) + g0 * sp.Abs(dphi))
    return dict(P=P, Q=Q, R=R, vartheta=vartheta, phi=phi, gx=gx, G=G, G_scale=G_scale, g0=g0,
                rho=rho, rho0=rho0, dg=dg, w=w, dphi=dphi, dG=dG, dG_scale=dG_scale)


def _semicircle_parts() -> dict[str, sp.Expr]:
    """Building blocks of ``G(x0)`` and its divided difference (shared by the kernels)."""
    a, b = skip_under_edges()
    delta, one_delta, x0, ra, rb = skip_under_pole_terms()
    out = semicircle_in(a, b, x0, ra, rb, REG.theta)
    out.update(a=a, b=b, delta=delta, one_delta=one_delta, x0=x0, ra=ra, rb=rb)
    return out


@functools.cache
def skip_under_semicircle() -> tuple[sp.Expr, sp.Expr]:
    """``(G(x0), (G(x0) - G(0))/x0)`` in ``(t, c, theta)`` (``a <= theta <= b``).

    ``G(x0) = vartheta (a + b - 2 x0)/2 - sqrt((b - theta)(theta - a))
    - 2 phi(x0) sqrt((a - x0)(b - x0))`` with ``vartheta = 2 atan2(sqrt(b - theta),
    sqrt(theta - a))``, ``phi(x0) = atan2(sqrt(a - x0) sqrt(b - theta), sqrt(b - x0)
    sqrt(theta - a))``; the divided difference uses ``(g(x0) - g(0))/x0 = (x0 - a - b)/(g(x0) +
    g(0))`` and ``phi(x0) - phi(0) = atan(x0 w)``.
    """
    p = _semicircle_parts()
    return p["G"], p["dG"]


@functools.cache
def skip_under_overlaps() -> tuple[sp.Expr, ...]:
    """Kept overlaps, their ``theta``-derivatives and rounding scales, in ``(t, c, theta)``.

    Returns
    -------
    tuple of sympy expressions
        ``(pi0, pi1, dpi0/dtheta, dpi1/dtheta, scale0, scale1)``: ``pi0 = G/(2 pi (1 + delta))``,
        ``pi1 = dG/(2 pi (1 + delta))``; the derivatives are minus the integrands at
        ``theta`` (``-sqrt((b - theta)(theta - a)) / (2 pi (1 + delta)(theta - x0))`` and that
        over ``theta``, with ``theta - x0 = (theta - a) + (a - x0)``); ``eps`` times the scales
        bounds the rounding error of ``pi0``, ``pi1``.
    """
    p = _semicircle_parts()
    norm = 2 * sp.pi * p["one_delta"]
    dpi0 = -p["R"] / (norm * (p["Q"] ** 2 + p["ra"] ** 2))
    return (p["G"] / norm, p["dG"] / norm, dpi0, dpi0 / REG.theta,
            p["G_scale"] / norm, p["dG_scale"] / norm)


@functools.cache
def skip_under_edge_overlaps() -> tuple[sp.Expr, sp.Expr]:
    """``kappa -> 0`` (threshold at the upper edge ``b``) overlaps, in ``(t, c, kappa)``.

    ``pi0 = kappa b / ((1 + delta)(b - x0)) = kappa (1 + c t)^2 / (1 + sqrt(c) t)^2`` and
    ``pi1 = pi0 / b``.
    """
    c, t, kappa = REG.c, REG.t, REG.kappa
    sc = sp.sqrt(c)
    b = skip_under_edges()[1]
    pi0 = kappa * (1 + c * t) ** 2 / (1 + sc * t) ** 2
    return pi0, pi0 / b


@functools.cache
def skip_under_full_overlaps() -> tuple[sp.Expr, sp.Expr]:
    """Full width ``kappa = 1`` (``Pi = I``, outlier kept): ``(1, c (1 + c t)/(1 - c))``."""
    c, t = REG.c, REG.t
    return sp.Integer(1), c * (1 + c * t) / (1 - c)


@functools.cache
def skip_under_direction_terms() -> tuple[sp.Expr, ...]:
    """``(Gamma, tr, frob, v pi0)`` of one direction in ``(t, c, pi0, pi1)``.

    ``Gamma = ||W u||^2 = pi0/(1 + c t)^2``, ``tr = delta pi1/(1 + c t)``,
    ``frob = v pi0 - 2 tr`` with ``v = c^2 t (1 + t)/((1 - c)(1 + c t)^2)``;
    ``tr W = -k + sum tr``, ``||W||_F^2 = k + sum frob``.
    """
    c, t, pi0, pi1 = REG.c, REG.t, REG.pi0, REG.pi1
    delta = skip_under_pole_terms()[0]
    v = c**2 * t * (1 + t) / ((1 - c) * (1 + c * t) ** 2)
    gamma = pi0 / (1 + c * t) ** 2
    tr = delta * pi1 / (1 + c * t)
    return gamma, tr, v * pi0 - 2 * tr, v * pi0


@functools.cache
def skip_under_aggregate() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """``(risk, bias, variance)`` from ``G = sum l Gamma``, ``F = sum frob``, ``Tr``, ``Vp``.

    ``risk = G + eta2_test ((1 - kappa) + Vp/d)`` (``tr`` cancels exactly),
    ``bias = G + eta2_test ((1 - 2 kappa) + 2 Tr/d)``, ``variance = eta2_test (kappa + F/d)``.
    """
    G, F, Tr, Vp = REG.G, REG.F, REG.Tr, REG.Vp
    kappa, e2, d = REG.kappa, REG.eta2_test, REG.d
    risk = G + e2 * ((1 - kappa) + Vp / d)
    bias = G + e2 * ((1 - 2 * kappa) + 2 * Tr / d)
    variance = e2 * (kappa + F / d)
    return risk, bias, variance
