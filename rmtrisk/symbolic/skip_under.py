"""Closed form of the ``skip-under`` regime (skip connection, ``c < 1``, ``lambda = 0``).

Derived by hand (``docs/skip_under.md``), written in the cancellation-free algebra of the
derivation.

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

import sympy as sp

from .kernel import KernelSpec
from .symbols import REG

__all__ = [
    "KERNELS",
    "latex_equations",
    "semicircle_in",
    "skip_under_aggregate",
    "skip_under_direction_terms",
    "skip_under_edge_overlaps",
    "skip_under_edges",
    "skip_under_full_overlaps",
    "skip_under_overlaps",
    "skip_under_pole_terms",
    "skip_under_semicircle",
]


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


# ============================================================================================
# kernels (rendered into rmtrisk/_kernels.py by rmtrisk._codegen)
# ============================================================================================
KERNELS: tuple[KernelSpec, ...] = (
    KernelSpec("skip_under_edges", (REG.c,), skip_under_edges,
               "Edges (a, b) of the law of A A^T (ratio c, scale 1/c)."),
    KernelSpec("skip_under_pole_terms", (REG.t, REG.c), skip_under_pole_terms,
               "(delta, 1 + delta, x0, sqrt(a - x0), sqrt(b - x0)) of one direction, c < 1."),
    KernelSpec("skip_under_semicircle", (REG.t, REG.c, REG.theta), skip_under_semicircle,
               "(G(x0), (G(x0) - G(0))/x0) shifted semicircle integral, a <= theta <= b."),
    KernelSpec("skip_under_overlaps", (REG.t, REG.c, REG.theta), skip_under_overlaps,
               "(pi0, pi1, dpi0/dtheta, dpi1/dtheta, scale0, scale1) kept overlaps, c < 1."),
    KernelSpec("skip_under_edge_overlaps", (REG.t, REG.c, REG.kappa), skip_under_edge_overlaps,
               "kappa -> 0 overlaps (pi0, pi1) with the threshold at the upper edge, c < 1."),
    KernelSpec("skip_under_full_overlaps", (REG.t, REG.c), skip_under_full_overlaps,
               "Full-width (kappa = 1) overlaps (1, c (1 + c t)/(1 - c)), c < 1."),
    KernelSpec("skip_under_direction_terms", (REG.t, REG.c, REG.pi0, REG.pi1),
               skip_under_direction_terms,
               "(Gamma, tr, frob, v pi0) of one signal direction, skip connection, c < 1."),
    KernelSpec("skip_under_aggregate",
               (REG.G, REG.F, REG.Tr, REG.Vp, REG.kappa, REG.d, REG.eta2_test),
               skip_under_aggregate,
               "(risk, bias, variance) of the c < 1 skip connection from the sums G, F, Tr, Vp."),
)


# ============================================================================================
# LaTeX (docs/engine.md)
# ============================================================================================
def latex_skip_under() -> dict[str, str]:
    """Skip connection for ``c < 1``: pole terms, shifted semicircle integral, overlaps, risk."""
    R = REG
    names = {R.eta2_test: r"\eta_{\mathrm{tst}}^2", R.pi0: r"\pi_0", R.pi1: r"\pi_1",
             R.theta: r"\theta", R.kappa: r"\kappa", R.Vp: r"V_\pi"}

    def tex(e: sp.Expr) -> str:
        return sp.latex(e, symbol_names=names)

    a, b = skip_under_edges()
    delta, one_delta, x0, ra, rb = skip_under_pole_terms()
    A, B, X0 = sp.symbols("a b x_0", positive=True)
    RA, RB = sp.Symbol(r"\sqrt{a - x_0}", positive=True), sp.Symbol(r"\sqrt{b - x_0}",
                                                                       positive=True)
    parts = semicircle_in(A, B, X0, RA, RB, R.theta)
    Gs, dGs = sp.Symbol(r"\mathcal{G}(x_0)"), sp.Symbol(r"\mathcal{G}'")
    VT, PH = sp.Symbol(r"\vartheta"), sp.Symbol(r"\varphi")
    readable = {parts["vartheta"] / 2: VT / 2, parts["phi"]: PH}

    def short(e: sp.Expr) -> str:
        return tex(e.subs(readable))

    p0, p1 = skip_under_edge_overlaps()
    gamma, tr, frob, vpi0 = skip_under_direction_terms()
    risk, bias, var = skip_under_aggregate()
    return {
        "edges": r"a = " + tex(a) + r",\quad b = " + tex(b)
                 + r",\quad \mu((\theta, \infty)) = \kappa",
        "pole": (r"\delta = " + tex(delta) + r",\quad 1 + \delta = " + tex(one_delta)
                 + r",\quad x_0 = " + tex(x0)),
        "pole_roots": (r"\sqrt{a - x_0} = " + tex(ra) + r",\quad \sqrt{b - x_0} = " + tex(rb)),
        "angles": (r"\vartheta = " + tex(parts["vartheta"]) + r",\quad \varphi = "
                   + tex(parts["phi"])),
        "semicircle": r"\mathcal{G}(x_0) = " + short(parts["G"]),
        "divided_difference": (r"\mathcal{G}' = \frac{\mathcal{G}(x_0) - \mathcal{G}(0)}{x_0} = "
                               + short(parts["dG"])),
        "overlaps": (r"\pi_0 = " + tex(Gs / (2 * sp.pi * (1 + sp.Symbol(r"\delta"))))
                     + r",\quad \pi_1 = "
                     + tex(dGs / (2 * sp.pi * (1 + sp.Symbol(r"\delta"))))),
        "edge_limit": (r"\kappa \to 0:\ \pi_0 = " + tex(p0) + r",\quad \pi_1 = "
                       + tex(p1)),
        "direction_terms": (r"\Gamma_i = " + tex(gamma) + r",\quad \mathrm{tr}_i = " + tex(tr)
                            + r",\quad \mathrm{frob}_i = " + tex(frob)
                            + r",\quad v_i \pi_0 = " + tex(vpi0)),
        "risk": (r"\mathcal{R} = " + tex(risk) + r",\quad \mathrm{bias} = " + tex(bias)
                 + r",\quad \mathrm{variance} = " + tex(var)),
    }


def latex_equations() -> dict[str, str]:
    """This regime's equations in LaTeX, by name."""
    return {f"skip_under_{k}": v for k, v in latex_skip_under().items()}
