"""Test risk over training time: the one-layer DAE trained by gradient flow from ``W = 0``.

Model (docs/risk_over_time.md). No skip, no bottleneck, target ``T = X``, the loss of
``rmtrisk.montecarlo.training.dae_loss`` at ``lambda = 0``, ``L(W) = 1/2 ||X - W Y||_F^2`` (a sum
over samples), and gradient flow ``dW/dt = -dL/dW = (X - W Y) Y^T`` from ``W(0) = 0``:

    W(t) = X Y^T g_t(Y Y^T),    g_t(x) = (1 - exp(-t x)) / x    (g_t(0) = t).

``W`` is invariant under ``(X, A, t) -> (a X, a A, t / a^2)``, so the derivation works in
``eta_trn = 1`` units with the dimensionless time ``tau = t eta2_train``.

One signal direction ``(u, v, sigma)``, ``t = sigma^2`` (the SNR). With the Woodbury identity for
the linearization ``[[-I, Y], [Y^T, -z]]`` (:func:`woodbury_forms`) the two forms that the risk
needs concentrate, for complex ``z`` off the spectrum, on

    F_B(z) = sigma v^T Y^T (Y Y^T - z)^{-1} u  ->  1 - 1/(1 + t + t z m(z)),
    F_V(z) = sigma^2 v^T (Y^T Y - z)^{-1} v    ->  t m(z)/(1 + t + t z m(z)),

with ``m`` the Stieltjes transform of the unit-scale law of ``A^T A`` (ratio ``1/c``). They are
Stieltjes transforms of two positive measures ``nu`` and ``mu`` (mass ``t`` each; ``mu`` has a
further atom at 0 when ``c < 1``, which no filter below sees), and

    u^T W(tau) u = int g_tau dnu,        sigma^2 v^T Y^T g_tau^2 Y v = int x g_tau(x)^2 dmu(x).

Stieltjes inversion on the bulk ``(a, b)`` gives the derived Cauchy form
(:func:`bulk_densities`; ``|1 + t + t x m(x + i0)|^2 = c t (z_0 - x)``)

    dnu = x/(z_0 - x) dmu_AA(x),       dmu = (1 + t)/(z_0 - x) dmu_AA(x)     on (a, b),

``mu_AA`` the continuous part of the law of ``A A^T`` (ratio ``c``, scale ``1/c``), and
``z_0 = (1 + t)(1 + c t)/(c t) >= b``. Above the BBP threshold ``t sqrt(c) > 1`` the pole
``z_0`` is an outlier eigenvalue and both measures carry an atom there (:func:`outlier`):

    nu({z_0}) = (c t^2 - 1)/(c t),     mu({z_0}) = (c t^2 - 1)/(1 + c t).

The test risk (docs/conventions.md §6) at leading order (directions decouple; their interaction
is ``O(r/d)``) is

    R(tau) = sum_i l_i (1 - u_i^T W u_i)^2 + (eta2_test/d) sum_i sigma_i^2 v_i^T psi v_i,

and the residual is written without cancellation through the ``tau -> inf`` limit
``1 - int dnu/x = 1/(1 + min(1, c) t)`` (:func:`residual_limit`):

    1 - u^T W(tau) u = 1/(1 + min(1, c) t) + int exp(-tau x)/x dnu.

Every function here is pure and returns sympy objects.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import sympy as sp
from sympy.codegen.cfunctions import expm1

from . import marchenko_pastur as mp
from .kernel import KernelSpec

__all__ = [
    "GF",
    "GFSymbols",
    "KERNELS",
    "bulk_densities",
    "bulk_densities_cauchy",
    "constant_filter",
    "filter_functions",
    "latex_equations",
    "mass_at_zero",
    "outlier",
    "outlier_cauchy",
    "q_identity",
    "residual_limit",
    "stieltjes_forms",
    "woodbury_forms",
]


class GFSymbols(NamedTuple):
    """Symbols of the gradient-flow forms.

    Attributes
    ----------
    c, t, tau
        Aspect ratio ``d/N``, SNR ``sigma^2 / eta2_train``, time ``tau = t eta2_train``.
    x, z
        Real and complex spectral variables.
    m, mt
        Stieltjes transforms of the laws of ``A^T A`` (``m``) and ``A A^T`` (``mt``) at ``z``.
    sigma
        Singular value of the direction (``t = sigma^2``).
    zx, z0, w1, w2
        ``z_0 - x``, the pole, and the two atom weights.
    """

    c: sp.Symbol
    t: sp.Symbol
    tau: sp.Symbol
    x: sp.Symbol
    z: sp.Symbol
    m: sp.Symbol
    mt: sp.Symbol
    sigma: sp.Symbol
    zx: sp.Symbol
    z0: sp.Symbol
    w1: sp.Symbol
    w2: sp.Symbol


GF = GFSymbols(
    c=sp.Symbol("c", positive=True),
    t=sp.Symbol("t", positive=True),
    tau=sp.Symbol("tau", positive=True),
    x=sp.Symbol("x", positive=True),
    z=sp.Symbol("z"),
    m=sp.Symbol("m"),
    mt=sp.Symbol("mt"),
    sigma=sp.Symbol("sigma", positive=True),
    zx=sp.Symbol("zx", positive=True),
    z0=sp.Symbol("z0", positive=True),
    w1=sp.Symbol("w1", nonnegative=True),
    w2=sp.Symbol("w2", nonnegative=True),
)

#: The unit-scale law of ``A^T A`` (ratio ``1/c``) with ``1 - 1/c`` written exactly.
LAW_ATA = mp.MPLaw(gamma=1 / GF.c, gammabar=(GF.c - 1) / GF.c, s=sp.Integer(1))


# ============================================================================================
# derivation
# ============================================================================================
@functools.cache
def woodbury_forms() -> tuple[sp.Expr, sp.Expr]:
    """Limits of ``(v^T Y^T (YY^T - z)^{-1} u, v^T (Y^T Y - z)^{-1} v)`` for ``Y = A + s u v^T``.

    ``M = [[-I, Y], [Y^T, -z]]`` has ``M^{-1}_{22} = (Y^T Y - z)^{-1}`` and
    ``M^{-1}_{21} = Y^T (Y Y^T - z)^{-1}``. ``M = M_0 + sigma E J E^T`` with
    ``E = diag(u, v)``, ``J = [[0, 1], [1, 0]]``, so
    ``E^T M^{-1} E = (Q^{-1} + sigma J)^{-1}`` with ``Q = E^T M_0^{-1} E -> diag(z mt, m)``
    (``u^T (-I + A G A^T) u = z u^T (AA^T - z)^{-1} u``; the off-diagonal terms vanish for
    Haar ``u, v``).
    """
    z, m, mt, s = GF.z, GF.m, GF.mt, GF.sigma
    Q = sp.diag(z * mt, m)
    J = sp.Matrix([[0, 1], [1, 0]])
    F = sp.simplify((Q.inv() + s * J).inv())
    return sp.simplify(F[1, 0]), sp.simplify(F[1, 1])


@functools.cache
def q_identity() -> tuple[sp.Expr, sp.Expr]:
    """``(z m mt + 1 + z m, P)``: the first is a multiple of the Stieltjes polynomial ``P``.

    ``mt = m/c + (1/c - 1)/z`` (``A^T A`` and ``A A^T`` share their non-zero eigenvalues), so
    ``z m mt = -(1 + z m)`` on the solution of ``P(z, m) = 0`` (the remainder is 0).
    """
    z, m, c = GF.z, GF.m, GF.c
    mt = m / c + (1 / c - 1) / z
    P = sp.expand(mp.stieltjes_polynomial(LAW_ATA, z=z, m=m) * c)
    return sp.expand((z * m * mt + 1 + z * m) * c), P


@functools.cache
def stieltjes_forms() -> tuple[sp.Expr, sp.Expr]:
    """``(F_B, F_V)`` as functions of ``m``: ``t (v Y^T R u) sigma`` and ``t v R v``.

    From :func:`woodbury_forms` with ``z mt = -(1 + z m)/m`` (:func:`q_identity`), times
    ``sigma`` and ``sigma^2``, ``sigma^2 = t``.
    """
    z, m, mt, s, t = GF.z, GF.m, GF.mt, GF.sigma, GF.t
    fb, fv = woodbury_forms()
    sub = {mt: -(1 + z * m) / (z * m)}
    FB = sp.simplify((s * fb).subs(sub).subs(s, sp.sqrt(t)))
    FV = sp.simplify((s**2 * fv).subs(sub).subs(s, sp.sqrt(t)))
    return FB, FV


@functools.cache
def _bulk_xm() -> sp.Expr:
    """``x m(x + i0)`` on the bulk: ``(c - 1 - c x + i c rho)/2``, ``rho = sqrt((x-a)(b-x))``.

    The physical root ``(s gammabar - x + S)/(2 gamma s x)`` with
    ``S = sqrt(x - a) sqrt(x - b) = i rho`` at ``x + i0``.
    """
    x = GF.x
    rho = sp.Symbol("rho", positive=True)
    B = LAW_ATA.s * LAW_ATA.gammabar - x
    m = (B + sp.I * rho) / (2 * LAW_ATA.gamma * LAW_ATA.s * x)
    return sp.expand(x * m), rho


@functools.cache
def bulk_densities() -> tuple[sp.Expr, sp.Expr, sp.Symbol]:
    """Densities of ``nu`` and ``mu`` w.r.t. ``dx`` on the bulk: ``Im F / pi`` at ``x + i0``.

    Returns ``(dnu/dx, dmu/dx, rho)`` in ``(x, c, t, rho)``.
    """
    x, m = GF.x, GF.m
    xm, rho = _bulk_xm()
    FB, FV = stieltjes_forms()
    mb = xm / x
    dens = []
    for F in (FB, FV):
        val = sp.expand_complex(F.subs({GF.z * m: xm}).subs({m: mb}).subs(GF.z, x))
        dens.append(sp.simplify(sp.im(val) / sp.pi))
    return dens[0], dens[1], rho


@functools.cache
def outlier() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """``(z_0, nu({z_0}), mu({z_0}))`` from the pole of ``F_B`` above the bulk.

    ``1 + t + t z m(z) = 0`` with ``z m = (c - 1 - c z + c sqrt((z-a)(z-b)))/2`` for ``z > b``:
    squaring gives a linear equation in ``z`` (root valid iff ``c t - 1/t >= 0``); the weights
    are minus the residues, ``1/D'(z_0)`` and ``-t m(z_0)/D'(z_0)`` with ``D = 1 + t + t z m``.
    """
    z, c, t = GF.z, GF.c, GF.t
    a, b = (1 - 1 / sp.sqrt(c)) ** 2, (1 + 1 / sp.sqrt(c)) ** 2      # edges of LAW_ATA
    S = sp.Symbol("S", positive=True)                               # sqrt((z - a)(z - b))
    S_val = sp.solve(sp.Eq(1 + t + t * (c - 1 - c * z + c * S) / 2, 0), S)[0]
    z0 = sp.factor(sp.solve(sp.expand(S_val**2 - (z - a) * (z - b)), z)[0])
    S0 = sp.factor(S_val.subs(z, z0))               # > 0 iff c t^2 > 1 (the root is valid)
    # D(z) = 1 + t + t (c - 1 - c z + c S(z))/2, S' = (z - (a + b)/2)/S
    Dp0 = sp.factor(sp.simplify(t * c * (-1 + (z0 - (a + b) / 2) / S0) / 2))
    m0 = -(1 + t) / (t * z0)                        # z0 m(z0) = -(1 + t)/t
    return z0, sp.factor(sp.simplify(1 / Dp0)), sp.factor(sp.simplify(-t * m0 / Dp0))


def outlier_cauchy() -> tuple[sp.Expr, sp.Expr, sp.Expr, sp.Expr]:
    """``(z_0, z_0 - b, nu({z_0}), mu({z_0}))`` in the cancellation-free forms of the kernel.

    ``z_0 - b = (t sqrt(c) - 1)^2/(c t)`` and ``c t^2 - 1 = (t sqrt(c) - 1)(t sqrt(c) + 1)``.
    """
    c, t = GF.c, GF.t
    rc = sp.sqrt(c)
    z0 = (1 + t) * (1 + c * t) / (c * t)
    lo, hi = t * rc - 1, t * rc + 1
    return z0, lo**2 / (c * t), lo * hi / (c * t), lo * hi / (1 + c * t)


def bulk_densities_cauchy() -> tuple[sp.Expr, sp.Expr]:
    """``(dnu/dx, dmu/dx)`` as ``x f/(z_0 - x)`` and ``(1 + t) f/(z_0 - x)``.

    ``f = rho/(2 pi x)`` is the density of the law of ``A A^T`` (ratio ``c``, scale ``1/c``).
    """
    x, t = GF.x, GF.t
    rho = bulk_densities()[2]
    z0 = outlier_cauchy()[0]
    f = rho / (2 * sp.pi * x)
    return x * f / (z0 - x), (1 + t) * f / (z0 - x)


def mass_at_zero() -> sp.Expr:
    """``mu({0}) = t (1 - c)/(1 + c t)`` for ``c < 1`` (``-`` residue of ``F_V`` at 0)."""
    c, t = GF.c, GF.t
    return t * (1 - c) / (1 + c * t)


def constant_filter() -> tuple[sp.Expr, sp.Expr]:
    """``(kappa*, R*)``: the best spectral filter of one direction and its risk (``r = 1``).

    For ``W = X Y^T phi(Y Y^T)`` the leading-order risk ``l (1 - int phi dnu)^2 +
    s int x phi^2 dmu`` (``s = eta2_test / d``) is stationary where
    ``phi(x) = l (1 - B)/s * (dnu/dmu)(x)/x``; ``dnu/dmu = x/(1 + t)`` on the bulk and
    ``nu({z_0})/mu({z_0}) = z_0/(1 + t)`` at the outlier, so the optimal ``phi`` is the
    constant ``kappa``. With ``nu``'s mass ``t`` and ``mu``'s first moment ``t (1 + t)``
    (large-``z`` expansion of ``F_V``) the risk ``l (1 - kappa t)^2 + s kappa^2 t (1 + t)`` is
    minimal at ``kappa* = l/(l t + s (1 + t))``.
    """
    t = GF.t
    ell, s_, k = sp.symbols("ell s kappa", positive=True)
    risk = ell * (1 - k * t) ** 2 + s_ * k**2 * t * (1 + t)
    k_star = sp.solve(sp.diff(risk, k), k)[0]
    return sp.simplify(k_star), sp.factor(sp.simplify(risk.subs(k, k_star)))


def residual_limit() -> sp.Expr:
    """``1 - u^T W(inf) u = 1/(1 + min(1, c) t)`` (the one-layer minimum-norm residual)."""
    return 1 / (1 + sp.Min(1, GF.c) * GF.t)


def filter_functions() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """``(g_tau(x), x g_tau(x)^2, exp(-tau x)/x)`` with ``g_tau = -expm1(-tau x)/x``."""
    x, tau = GF.x, GF.tau
    g = -expm1(-tau * x) / x
    return g, x * g**2, sp.exp(-tau * x) / x


def _bulk_integrands() -> tuple[sp.Expr, sp.Expr]:
    """Integrands against ``x dmu_AA(x)`` (``zx = z_0 - x``): residual part and ``V`` part."""
    x, tau, t, zx = GF.x, GF.tau, GF.t, GF.zx
    g = -expm1(-tau * x) / x
    return sp.exp(-tau * x) / (x * zx), (1 + t) * g**2 / zx


def _atom_terms() -> tuple[sp.Expr, sp.Expr]:
    """Outlier contributions ``(w1 exp(-tau z0)/z0, w2 z0 g_tau(z0)^2)``."""
    tau, z0, w1, w2 = GF.tau, GF.z0, GF.w1, GF.w2
    g = -expm1(-tau * z0) / z0
    return w1 * sp.exp(-tau * z0) / z0, w2 * z0 * g**2


# ============================================================================================
# kernels (rendered into rmtrisk/_kernels.py by rmtrisk._codegen)
# ============================================================================================
KERNELS: tuple[KernelSpec, ...] = (
    KernelSpec("gf_outlier", (GF.c, GF.t), outlier_cauchy,
               "Gradient flow (z0, z0 - b, nu({z0}), mu({z0})) of one direction (atoms iff "
               "t sqrt(c) > 1)."),
    KernelSpec("gf_residual_limit", (GF.c, GF.t), lambda: (residual_limit(),),
               "Gradient flow tau -> inf residual 1 - u^T W u = 1/(1 + min(1, c) t)."),
    KernelSpec("gf_bulk_integrands", (GF.tau, GF.x, GF.zx, GF.t), _bulk_integrands,
               "Gradient flow bulk integrands against x dmu_AA: (exp(-tau x)/(x zx), "
               "(1 + t) g^2/zx)."),
    KernelSpec("gf_atom_terms", (GF.tau, GF.z0, GF.w1, GF.w2), _atom_terms,
               "Gradient flow outlier terms (w1 exp(-tau z0)/z0, w2 z0 g(z0)^2)."),
)


# ============================================================================================
# LaTeX (docs/engine.md, docs/risk_over_time.md)
# ============================================================================================
def latex_equations() -> dict[str, str]:
    """This module's equations in LaTeX, by name."""
    t, x, tau = GF.t, GF.x, GF.tau
    names = {GF.tau: r"\tau", GF.mt: r"\breve m", GF.z0: "z_0"}

    def tex(e: sp.Expr) -> str:
        return sp.latex(e, symbol_names=names)

    FB, FV = stieltjes_forms()
    z0, delta, w1, w2 = outlier_cauchy()
    zs = sp.Symbol("z_0", positive=True)
    f = sp.Symbol("f_{AA^T}(x)", positive=True)
    return {
        "gradient_flow_weight": r"W(\tau) = X Y^\top g_\tau(Y Y^\top),\quad g_\tau(x) = "
                                + tex(sp.simplify((1 - sp.exp(-tau * x)) / x)),
        "gradient_flow_forms": r"\sigma v^\top Y^\top (YY^\top - z)^{-1} u \to " + tex(FB)
                               + r",\quad \sigma^2 v^\top (Y^\top Y - z)^{-1} v \to " + tex(FV),
        "gradient_flow_bulk": r"\frac{d\nu}{dx} = " + tex(x * f / (zs - x))
                              + r",\quad \frac{d\mu}{dx} = " + tex((1 + t) * f / (zs - x)),
        "gradient_flow_outlier": r"z_0 = " + tex(z0) + r",\quad z_0 - b = " + tex(delta)
                                 + r",\quad \nu(\{z_0\}) = " + tex(w1)
                                 + r",\quad \mu(\{z_0\}) = " + tex(w2)
                                 + r"\quad (t\sqrt{c} > 1)",
        "gradient_flow_risk": r"\mathcal{R}(\tau) = \sum_i \ell_i \Big(" + tex(residual_limit())
                              + r" + \int \frac{e^{-\tau x}}{x}\, d\nu_i\Big)^2 + "
                              r"\frac{\eta_{\mathrm{tst}}^2}{d} \sum_i \int "
                              + tex((1 - sp.exp(-tau * x)) ** 2 / x) + r"\, d\mu_i(x)",
        "gradient_flow_constant_filter": r"\varphi^* \equiv " + tex(constant_filter()[0])
                                         + r",\quad \mathcal{R}^* = "
                                         + tex(constant_filter()[1]) + r"\quad (r = 1)",
        "gradient_flow_mass_at_zero": r"\mu(\{0\}) = " + tex(mass_at_zero())
                                      + r"\quad (c < 1)",
    }
