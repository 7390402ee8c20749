"""Closed form of the ``ridge`` regime (no skip connection, product regularization).

The regime was derived by hand (``docs/ridge.md``); this module is the one place where its
formulas live as sympy expressions, written in the cancellation-free
algebra of the derivations so that the printed kernels (``rmtrisk/_kernels.py``) and the mpmath
reference (:func:`rmtrisk.symbolic.mpmath_function`) evaluate them stably.

**Ridge** (``eta_trn = 1`` units: ``t = sigma^2 / eta2_train``, ``lam = lambda / eta2_train``,
``gamma = 1/c``): with ``(1 -+ sqrt(gamma))^2`` written as ``(c - 1)^2 / (c (1 + sqrt c)^2)``
and ``(1 + sqrt c)^2 / c`` (no cancellation near ``c = 1``),

    s = sqrt((lam + (1 + sqrt(gamma))^2)(lam + (1 - sqrt(gamma))^2)),
    g = 2 / (1 + gamma + lam + s),    g' = g / s,
    b = 1 / (1 + g t)^2,              v = t (1 + t) g' / (1 + g t)^2.
"""

from __future__ import annotations

import functools

import sympy as sp

from .kernel import KernelSpec
from .symbols import REG

__all__ = [
    "KERNELS",
    "latex_equations",
    "ridge_aggregate",
    "ridge_direction_factors",
    "ridge_moments",
    "ridge_moments_transcribed",
]


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
# kernels (rendered into rmtrisk/_kernels.py by rmtrisk._codegen)
# ============================================================================================
KERNELS: tuple[KernelSpec, ...] = (
    KernelSpec("ridge_moments", (REG.c, REG.lam), ridge_moments,
               "Ridge (g, g') = (int x/(x+lam) dmu, int x/(x+lam)^2 dmu), law of A^T A (1/c)."),
    KernelSpec("ridge_direction_factors", (REG.t, REG.g, REG.gprime), ridge_direction_factors,
               "Ridge (b, v) = (1/(1 + g t)^2, t (1 + t) g'/(1 + g t)^2) of one direction."),
    KernelSpec("ridge_aggregate", (REG.Bk, REG.Bd, REG.V, REG.eta2_test, REG.d), ridge_aggregate,
               "Ridge (risk, bias, variance) from the sums Bk, Bd, V."),
)


# ============================================================================================
# LaTeX (docs/engine.md)
# ============================================================================================
def latex_ridge() -> dict[str, str]:
    """Ridge (no skip, ``lambda > 0``) resolvent moments, per-direction factors and aggregate."""
    R = REG
    names = {R.lam: r"\lambda", R.gprime: "g'", R.eta2_test: r"\eta_{\mathrm{tst}}^2",
             R.Bk: r"B_{\mathrm{kept}}", R.Bd: r"B_{\mathrm{drop}}"}

    def tex(e: sp.Expr) -> str:
        return sp.latex(e, symbol_names=names)

    g, gp = ridge_moments()
    s_sym = sp.Symbol("s", positive=True)
    s_expr = g / gp
    b, v = ridge_direction_factors()
    risk, bias, var = ridge_aggregate()
    return {
        "moments": (r"s = " + tex(s_expr)
                    + r",\quad g = " + tex(2 / (1 + 1 / R.c + R.lam + s_sym))
                    + r",\quad g' = \frac{g}{s}"),
        "factors": r"b_i = " + tex(b.subs(R.t, sp.Symbol("t_i", positive=True)))
                   + r",\quad v_i = " + tex(v.subs(R.t, sp.Symbol("t_i", positive=True))),
        "sums": r"B_{\mathrm{kept}} = \sum_{i \in I} \ell_i b_i,\quad "
                r"B_{\mathrm{drop}} = \sum_{i \notin I} \ell_i,\quad V = \sum_{i \in I} v_i",
        "risk": r"\mathcal{R} = " + tex(risk) + r",\quad \mathrm{bias} = " + tex(bias)
                + r",\quad \mathrm{variance} = " + tex(var),
    }


def latex_equations() -> dict[str, str]:
    """This regime's equations in LaTeX, by name."""
    return {f"ridge_{k}": v for k, v in latex_ridge().items()}
