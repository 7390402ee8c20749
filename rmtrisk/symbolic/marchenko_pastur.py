"""The Marchenko–Pastur law in closed form: Stieltjes transform, edges, density, truncated moments.

Conventions (docs/conventions.md §10). ``mu`` is the limiting spectral law of ``s G^T G / n``
with ``G`` an ``n x p`` standard Gaussian matrix, ratio ``gamma = p / n`` and scale ``s``:

* support ``[a, b]`` with ``a = s (1 - sqrt(gamma))^2`` and ``b = s (1 + sqrt(gamma))^2``, plus an
  atom of mass ``1 - 1/gamma`` at 0 when ``gamma > 1``;
* Stieltjes transform ``m(z) = int dmu(x) / (x - z)``, the root of
  ``gamma s z m^2 - (s (1 - gamma) - z) m + 1 = 0`` with ``Im m > 0`` for ``Im z > 0``;
* density of the continuous part ``f(x) = sqrt((b - x)(x - a)) / (2 pi gamma s x)`` on ``(a, b)``;
* truncated moments ``T_p(t) = int_{x > t} x^p dmu(x)``; ``T_0`` is the tail mass ``mu((t, inf))``.

Every function here is pure and returns sympy objects. The law is described by a
:class:`MPLaw` holding three sympy expressions: the ratio ``gamma``, the scale ``s`` and
``gammabar = 1 - gamma``, carried separately so that callers who know ``1 - gamma`` more
accurately than ``gamma`` (e.g. ``gamma = 1/c``, ``1 - gamma = (c - 1)/c`` near ``c = 1``) can
pass it exactly; all edges are written through it without cancellation:
``sqrt(a) = sqrt(s) |1 - gamma| / (1 + sqrt(gamma))``, ``sqrt(b) = sqrt(s) (1 + sqrt(gamma))``.

Closed forms of the truncated moments (derivation in ``docs/engine.md``). With
``R(t) = (b - t)(t - a)`` and the two angles (``t`` in ``[a, b]``)

    theta = 2 atan2(sqrt(b - t), sqrt(t - a)),    phi = atan2(sqrt(a (b - t)), sqrt(b (t - a))),

(``x = (a + b)/2 + (b - a)/2 cos(theta')`` maps ``(t, b)`` onto ``(0, theta)``, and
``int_t^b dx / (x sqrt(R)) = 2 phi / sqrt(a b)``), ``T_p = K_{p-1} / (2 pi gamma s)`` where
``K_n(t) = int_t^b x^n sqrt(R(x)) dx``:

    K_{-3} = sqrt(R)/(2 t^2) - (a + b) sqrt(R)/(4 a b t) + (b - a)^2 phi / (4 (a b)^{3/2})
    K_{-2} = sqrt(R)/t + (a + b) phi / sqrt(a b) - theta
    K_{-1} = (a + b) theta / 2 - sqrt(R) - 2 sqrt(a b) phi
    K_0    = (b - a)^2 theta / 8 - sqrt(R) (2 t - a - b) / 4
    K_1    = (a + b) K_0 / 2 + R^{3/2} / 3

and at ``a = 0`` (``gamma = 1``) the limits ``K_{-2} = 2 sqrt((b - t)/t) - theta`` and
``K_{-3} = sqrt(R)/(2 t^2) + sqrt(b - t)(b - 3 t)/(4 b t^{3/2}) - (b - t)^{3/2}/(12 b t^{3/2})``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

import sympy as sp

from .kernel import KernelSpec

__all__ = [
    "atom_mass",
    "continuous_mass",
    "density",
    "edges",
    "full_moment",
    "KERNELS",
    "latex_equations",
    "moment_integrand_terms",
    "MOMENT_ORDERS",
    "MPLaw",
    "MPSymbols",
    "sqrt_edges",
    "stieltjes_derivative",
    "stieltjes_equation",
    "stieltjes_physical",
    "stieltjes_polynomial",
    "stieltjes_real",
    "stieltjes_roots",
    "SYMBOLS",
    "tail_mass",
    "tail_mass_derivative",
    "threshold_equation",
    "threshold_initial_guess",
    "truncated_moment",
    "truncated_moment_interior",
    "truncated_moment_scale",
]

#: Orders ``p`` for which :func:`truncated_moment` has a closed form.
MOMENT_ORDERS: tuple[int, ...] = (-2, -1, 0, 1, 2)


class MPSymbols(NamedTuple):
    """The sympy symbols shared by the Marchenko–Pastur expressions.

    Attributes
    ----------
    z : Symbol
        Complex spectral argument of the Stieltjes transform.
    x : Symbol
        Real spectral variable (density argument, real Stieltjes argument).
    t : Symbol
        Threshold of the truncated moments.
    m : Symbol
        Value of the Stieltjes transform (unknown of the quadratic).
    mass : Symbol
        Target tail mass of the threshold equation.
    gamma : Symbol
        Ratio ``p / n > 0``.
    gammabar : Symbol
        ``1 - gamma`` (passed separately for accuracy near ``gamma = 1``).
    s : Symbol
        Scale ``> 0``.
    """

    z: sp.Symbol
    x: sp.Symbol
    t: sp.Symbol
    m: sp.Symbol
    mass: sp.Symbol
    gamma: sp.Symbol
    gammabar: sp.Symbol
    s: sp.Symbol


SYMBOLS = MPSymbols(
    z=sp.Symbol("z"),
    x=sp.Symbol("x", real=True),
    t=sp.Symbol("t", real=True),
    m=sp.Symbol("m"),
    mass=sp.Symbol("mass", nonnegative=True),
    gamma=sp.Symbol("gamma", positive=True),
    gammabar=sp.Symbol("gammabar", real=True),
    s=sp.Symbol("s", positive=True),
)


@dataclass(frozen=True)
class MPLaw:
    """Parameters of one Marchenko–Pastur law as sympy expressions.

    Parameters
    ----------
    gamma : sympy expression
        Ratio ``gamma > 0``.
    gammabar : sympy expression
        ``1 - gamma``, written in a cancellation-free form if possible.
    s : sympy expression
        Scale ``s > 0``.
    """

    gamma: sp.Expr = SYMBOLS.gamma
    gammabar: sp.Expr = SYMBOLS.gammabar
    s: sp.Expr = SYMBOLS.s


_DEFAULT = MPLaw()


# ------------------------------------------------------------------------------------------
# edges, masses
# ------------------------------------------------------------------------------------------
def sqrt_edges(law: MPLaw = _DEFAULT) -> tuple[sp.Expr, sp.Expr]:
    """``(sqrt(a), sqrt(b))``, the square roots of the support edges, without cancellation."""
    root = sp.sqrt(law.gamma)
    return sp.sqrt(law.s) * sp.Abs(law.gammabar) / (1 + root), sp.sqrt(law.s) * (1 + root)


def edges(law: MPLaw = _DEFAULT) -> tuple[sp.Expr, sp.Expr]:
    """Support edges ``(a, b) = (s (1 - sqrt(gamma))^2, s (1 + sqrt(gamma))^2)``."""
    sa, sb = sqrt_edges(law)
    return sa**2, sb**2


def atom_mass(law: MPLaw = _DEFAULT) -> sp.Expr:
    """Mass ``max(0, 1 - 1/gamma)`` of the atom at 0."""
    return sp.Max(0, -law.gammabar / law.gamma)


def continuous_mass(law: MPLaw = _DEFAULT) -> sp.Expr:
    """Mass ``min(1, 1/gamma)`` of the continuous part."""
    return sp.Min(1, 1 / law.gamma)


# ------------------------------------------------------------------------------------------
# Stieltjes transform
# ------------------------------------------------------------------------------------------
def stieltjes_polynomial(law: MPLaw = _DEFAULT, z: sp.Expr = SYMBOLS.z,
                         m: sp.Expr = SYMBOLS.m) -> sp.Expr:
    """``P(z, m) = gamma s z m^2 - (s (1 - gamma) - z) m + 1`` (``P = 0`` defines ``m``)."""
    return law.gamma * law.s * z * m**2 - (law.s * law.gammabar - z) * m + 1


def stieltjes_equation(law: MPLaw = _DEFAULT) -> sp.Eq:
    """The Stieltjes equation ``P(z, m) = 0`` as a sympy equation."""
    return sp.Eq(stieltjes_polynomial(law), 0, evaluate=False)


def _discriminant_root(law: MPLaw, z: sp.Expr) -> sp.Expr:
    """``sqrt(z - a) sqrt(z - b)``: the branch of ``sqrt((z - a)(z - b))`` that is ``~ z`` at
    infinity and has its cut on ``[a, b]`` (NOT the principal root of the product)."""
    a, b = edges(law)
    return sp.sqrt(z - a) * sp.sqrt(z - b)


def stieltjes_roots(law: MPLaw = _DEFAULT) -> tuple[sp.Expr, sp.Expr]:
    """``(physical, other)`` roots of the Stieltjes equation in the textbook form.

    ``physical = (B + S) / (2 gamma s z)`` and ``other = (B - S) / (2 gamma s z)`` with
    ``B = s (1 - gamma) - z`` and ``S = sqrt(z - a) sqrt(z - b)``.
    """
    z = SYMBOLS.z
    B = law.s * law.gammabar - z
    S = _discriminant_root(law, z)
    den = 2 * law.gamma * law.s * z
    return (B + S) / den, (B - S) / den


def stieltjes_physical(law: MPLaw = _DEFAULT) -> sp.Expr:
    """Physical root in a cancellation-free form (complex ``z``).

    Uses ``(B + S)/(2 gamma s z) = 2/(B - S)`` and picks whichever of ``B - S`` and ``B + S``
    is larger in modulus as the divisor.
    """
    z = SYMBOLS.z
    B = law.s * law.gammabar - z
    S = _discriminant_root(law, z)
    return sp.Piecewise(
        (2 / (B - S), sp.Abs(B - S) >= sp.Abs(B + S)),
        ((B + S) / (2 * law.gamma * law.s * z), True),
    )


def stieltjes_real(law: MPLaw = _DEFAULT) -> sp.Expr:
    """Physical root for real ``x`` outside the support (``nan`` inside ``(a, b)``).

    For ``x < a``: ``S = -sqrt((a - x)(b - x))``; for ``x > b``: ``S = +sqrt((x - a)(x - b))``.
    """
    x = SYMBOLS.x
    a, b = edges(law)
    B = law.s * law.gammabar - x

    def root(S: sp.Expr) -> sp.Expr:
        return sp.Piecewise(
            (2 / (B - S), sp.Abs(B - S) >= sp.Abs(B + S)),
            ((B + S) / (2 * law.gamma * law.s * x), True),
        )

    return sp.Piecewise(
        (root(-sp.sqrt((a - x) * (b - x))), x <= a),
        (root(sp.sqrt((x - a) * (x - b))), x >= b),
        (sp.nan, True),
    )


def stieltjes_derivative(law: MPLaw = _DEFAULT) -> sp.Expr:
    """``m'(z) = -P_z / P_m`` by implicit differentiation, in terms of ``(z, m)``.

    Equals ``(gamma s m^2 + m) / ((s (1 - gamma) - z) - 2 gamma s z m)`` (standard at s = 1).
    """
    z, m = SYMBOLS.z, SYMBOLS.m
    P = stieltjes_polynomial(law)
    return sp.factor(-sp.diff(P, z) / sp.diff(P, m))


# ------------------------------------------------------------------------------------------
# density and truncated moments
# ------------------------------------------------------------------------------------------
def density(law: MPLaw = _DEFAULT, x: sp.Expr = SYMBOLS.x) -> sp.Expr:
    """Density of the continuous part, ``sqrt((b - x)(x - a)) / (2 pi gamma s x)`` on ``(a, b)``."""
    a, b = edges(law)
    inside = sp.sqrt(b - x) * sp.sqrt(x - a) / (2 * sp.pi * law.gamma * law.s * x)
    return sp.Piecewise((inside, (x > a) & (x < b)), (0, True))


class _Aux(NamedTuple):
    """Auxiliary quantities of the angle parametrization at threshold ``t``."""

    a: sp.Expr
    b: sp.Expr
    sa: sp.Expr  # sqrt(a)
    sb: sp.Expr  # sqrt(b)
    t: sp.Expr
    sR: sp.Expr  # sqrt((b - t)(t - a))
    theta: sp.Expr
    phi: sp.Expr


def _aux(law: MPLaw, t: sp.Expr) -> _Aux:
    sa, sb = sqrt_edges(law)
    a, b = sa**2, sb**2
    u, v = sp.sqrt(b - t), sp.sqrt(t - a)
    theta = 2 * sp.atan2(u, v)
    phi = sp.atan2(sa * u, sb * v)
    return _Aux(a, b, sa, sb, t, u * v, theta, phi)


def moment_integrand_terms(n: int, q: _Aux, limit_a0: bool = False) -> tuple[sp.Expr, ...]:
    """The terms of ``K_n(t) = int_t^b x^n sqrt(R(x)) dx`` (``n = p - 1``), in auxiliary form.

    Parameters
    ----------
    n : int
        One of -3, -2, -1, 0, 1.
    q : _Aux
        Auxiliary quantities (expressions or plain symbols, e.g. for LaTeX).
    limit_a0 : bool
        Return the ``a -> 0`` limit (``gamma = 1``) for ``n = -2, -3``.

    Returns
    -------
    tuple of sympy expressions
        Terms whose sum is ``K_n``; kept separate so that their absolute sum bounds rounding.
    """
    a, b, sa, sb, t, sR, theta, phi = q
    if n == -3:
        if limit_a0:
            return (
                sR / (2 * t**2),
                sp.sqrt(b - t) * (b - 3 * t) / (4 * b * t ** sp.Rational(3, 2)),
                -((b - t) ** sp.Rational(3, 2)) / (12 * b * t ** sp.Rational(3, 2)),
            )
        return (
            sR / (2 * t**2),
            -(a + b) * sR / (4 * a * b * t),
            (b - a) ** 2 * phi / (4 * (sa * sb) ** 3),
        )
    if n == -2:
        if limit_a0:
            return (2 * sp.sqrt((b - t) / t), -theta)
        return (sR / t, (a + b) * phi / (sa * sb), -theta)
    if n == -1:
        return ((a + b) * theta / 2, -sR, -2 * sa * sb * phi)
    if n == 0:
        return ((b - a) ** 2 * theta / 8, -sR * (2 * t - a - b) / 4)
    if n == 1:
        k0 = moment_integrand_terms(0, q)
        return tuple((a + b) * term / 2 for term in k0) + (sR**3 / 3,)
    raise ValueError(f"n must be one of -3, -2, -1, 0, 1, got {n}")


def _check_order(p: int) -> None:
    if p not in MOMENT_ORDERS:
        raise ValueError(f"p must be one of {MOMENT_ORDERS}, got {p!r}")


@functools.cache
def truncated_moment_interior(p: int, law: MPLaw = _DEFAULT) -> sp.Expr:
    """``T_p(t)`` for ``a <= t <= b`` (closed form, no clamping, no atom)."""
    _check_order(p)
    q = _aux(law, SYMBOLS.t)
    pref = 1 / (2 * sp.pi * law.gamma * law.s)
    general = pref * sp.Add(*moment_integrand_terms(p - 1, q))
    if p >= 0:
        return general
    limit = pref * sp.Add(*moment_integrand_terms(p - 1, q, limit_a0=True))
    return sp.Piecewise((limit, sp.Eq(law.gammabar, 0)), (general, True))


@functools.cache
def truncated_moment_scale(p: int, law: MPLaw = _DEFAULT) -> sp.Expr:
    """Sum of the absolute values of the terms of ``T_p`` for ``a <= t <= b``.

    ``eps`` times this bounds the rounding error of the closed form (the terms cancel near the
    upper edge, where ``T_p`` is ``O((b - t)^{3/2})`` but the terms are ``O(sqrt(b - t))``).
    """
    _check_order(p)
    q = _aux(law, SYMBOLS.t)
    pref = 1 / (2 * sp.pi * law.gamma * law.s)
    general = pref * sp.Add(*[sp.Abs(x) for x in moment_integrand_terms(p - 1, q)])
    if p >= 0:
        return general
    limit = pref * sp.Add(*[sp.Abs(x) for x in moment_integrand_terms(p - 1, q, True)])
    return sp.Piecewise((limit, sp.Eq(law.gammabar, 0)), (general, True))


@functools.cache
def truncated_moment(p: int, law: MPLaw = _DEFAULT) -> sp.Expr:
    """``T_p(t) = int_{x > t} x^p dmu(x)`` for every real ``t``, ``p`` in ``{-2, ..., 2}``.

    The threshold is clamped to ``[a, b]`` (``T_p = 0`` for ``t >= b``, the full moment of the
    continuous part for ``t <= a``); for ``t < 0`` and ``gamma > 1`` the atom at 0 adds
    ``1 - 1/gamma`` to ``T_0`` and makes ``T_p = inf`` for ``p < 0``.
    """
    _check_order(p)
    t = SYMBOLS.t
    a, b = edges(law)
    tc = sp.Min(sp.Max(t, a), b)
    body = truncated_moment_interior(p, law).subs(t, tc)
    below_atom = (t < 0) & (law.gammabar < 0)
    if p == 0:
        return body + sp.Piecewise((atom_mass(law), below_atom), (0, True))
    if p < 0:
        return sp.Piecewise((sp.oo, below_atom), (body, True))
    return body


def full_moment(p: int, law: MPLaw = _DEFAULT) -> sp.Expr:
    """``int x^p dmu_c(x)`` over the continuous part (``T_p`` at ``t = a``), simplified."""
    _check_order(p)
    a, _ = edges(law)
    body = truncated_moment_interior(p, law)
    if isinstance(body, sp.Piecewise):
        body = body.args[-1][0]
    return sp.simplify(body.subs(SYMBOLS.t, a))


def tail_mass(law: MPLaw = _DEFAULT) -> sp.Expr:
    """``F(t) = mu((t, inf)) = T_0(t)``."""
    return truncated_moment(0, law)


def tail_mass_derivative(law: MPLaw = _DEFAULT) -> sp.Expr:
    """``F'(t) = -f(t)``: minus the density (used by every Newton root-find on ``F``)."""
    return -density(law, SYMBOLS.t)


def threshold_equation(law: MPLaw = _DEFAULT) -> sp.Eq:
    """``F(t) = mass``: the threshold keeping a fraction ``mass`` of the spectrum."""
    return sp.Eq(truncated_moment_interior(0, law), SYMBOLS.mass, evaluate=False)


def threshold_initial_guess(law: MPLaw = _DEFAULT) -> tuple[sp.Expr, sp.Expr]:
    """Edge asymptotics of the threshold: ``(t_upper(mass), t_lower(mass))``.

    Near the upper edge ``F(t) ~ sqrt(b - a) (b - t)^{3/2} / (3 pi gamma s b)``; near the lower
    edge ``F(a) - F(t) ~ sqrt(b - a) (t - a)^{3/2} / (3 pi gamma s a)``. Each is inverted for
    ``t``; the root-find starts from the one matching the side of ``mass``.
    """
    a, b = edges(law)
    mass = SYMBOLS.mass
    c3 = 3 * sp.pi * law.gamma * law.s
    upper = b - (c3 * b * mass / sp.sqrt(b - a)) ** sp.Rational(2, 3)
    lower = a + (c3 * a * (continuous_mass(law) - mass) / sp.sqrt(b - a)) ** sp.Rational(2, 3)
    return upper, lower


# ============================================================================================
# kernels (rendered into rmtrisk/_kernels.py by rmtrisk._codegen)
# ============================================================================================
_LAW_ARGS = (SYMBOLS.gamma, SYMBOLS.gammabar, SYMBOLS.s)


def _moment_kernels() -> list[KernelSpec]:
    out = []
    for p in MOMENT_ORDERS:
        tag = f"m{-p}" if p < 0 else str(p)
        out.append(KernelSpec(
            f"mp_moment_{tag}", (SYMBOLS.t,) + _LAW_ARGS,
            functools.partial(lambda p: (truncated_moment(p),), p),
            f"Truncated moment T_{p}(t) = int_{{x > t}} x^{p} dmu(x) (closed form, any real t).",
        ))
        out.append(KernelSpec(
            f"mp_moment_scale_{tag}", (SYMBOLS.t,) + _LAW_ARGS,
            functools.partial(lambda p: (_clamped(truncated_moment_scale(p)),), p),
            f"Sum of |terms| of T_{p}(t) (eps times this bounds its rounding error).",
        ))
    return out


def _clamped(expr: sp.Expr) -> sp.Expr:
    a, b = edges()
    return expr.subs(SYMBOLS.t, sp.Min(sp.Max(SYMBOLS.t, a), b))


KERNELS: tuple[KernelSpec, ...] = (
    KernelSpec("mp_edges", _LAW_ARGS, lambda: edges(),
               "Support edges (a, b) = (s (1 - sqrt(gamma))^2, s (1 + sqrt(gamma))^2)."),
    KernelSpec("mp_masses", _LAW_ARGS, lambda: (atom_mass(), continuous_mass()),
               "(atom mass at 0, continuous mass)."),
    KernelSpec("mp_density", (SYMBOLS.x,) + _LAW_ARGS, lambda: (density(),),
               "Density of the continuous part (0 outside (a, b))."),
    KernelSpec("mp_tail_mass", (SYMBOLS.t,) + _LAW_ARGS, lambda: (tail_mass(),),
               "Tail mass F(t) = mu((t, inf))."),
    KernelSpec("mp_tail_mass_dt", (SYMBOLS.t,) + _LAW_ARGS, lambda: (tail_mass_derivative(),),
               "dF/dt = -density(t) (Newton derivative of the threshold equation)."),
    *_moment_kernels(),
    KernelSpec("mp_threshold_guess", (SYMBOLS.mass,) + _LAW_ARGS,
               lambda: threshold_initial_guess(),
               "Edge asymptotics (t_upper, t_lower) of the threshold F(t) = mass."),
    KernelSpec("mp_stieltjes", (SYMBOLS.z,) + _LAW_ARGS, lambda: (stieltjes_physical(),),
               "Physical (Herglotz) root m(z) of the Stieltjes equation, complex z.",
               complex_=True),
    KernelSpec("mp_stieltjes_real", (SYMBOLS.x,) + _LAW_ARGS, lambda: (stieltjes_real(),),
               "m(x) for real x outside the support (nan inside (a, b))."),
    KernelSpec("mp_stieltjes_deriv", (SYMBOLS.z, SYMBOLS.m) + _LAW_ARGS,
               lambda: (stieltjes_derivative(),),
               "m'(z) by implicit differentiation, from (z, m(z))."),
    KernelSpec("mp_stieltjes_poly", (SYMBOLS.z, SYMBOLS.m) + _LAW_ARGS,
               lambda: (stieltjes_polynomial(),
                        sp.diff(stieltjes_polynomial(), SYMBOLS.m)),
               "(P(z, m), dP/dm) of the Stieltjes quadratic (Newton on m)."),
)


# ============================================================================================
# LaTeX (docs/engine.md), readable auxiliary symbols where the expanded form is unreadable
# ============================================================================================
_a, _b, _t = sp.symbols("a b t", positive=True)
_theta, _phi = sp.symbols("theta varphi", nonnegative=True)
_R = sp.Symbol("R", nonnegative=True)
_AUX = _Aux(_a, _b, sp.sqrt(_a), sp.sqrt(_b), _t, sp.sqrt(_R), _theta, _phi)
_ORDER = {"order": "none"}


def latex_stieltjes_equation() -> str:
    """The Stieltjes (self-consistent) equation."""
    return sp.latex(stieltjes_equation(), **_ORDER)


def latex_stieltjes_root() -> str:
    """The physical root, with the branch of the square root spelled out."""
    z, m = SYMBOLS.z, SYMBOLS.m
    a, b = _a, _b
    B = SYMBOLS.s * SYMBOLS.gammabar - z
    root = (B + sp.Symbol(r"\sqrt{z - a}\,\sqrt{z - b}")) / (2 * SYMBOLS.gamma * SYMBOLS.s * z)
    stable = 2 / (B - sp.Symbol(r"\sqrt{z - a}\,\sqrt{z - b}"))
    del a, b
    return sp.latex(m) + " = " + sp.latex(root) + " = " + sp.latex(stable)


def latex_stieltjes_derivative() -> str:
    """``m'(z)`` by implicit differentiation."""
    return r"m'(z) = " + sp.latex(stieltjes_derivative())


def latex_edges() -> str:
    """Support edges and the atom."""
    a, b = edges()
    return (r"a = " + sp.latex(a) + r",\quad b = " + sp.latex(b)
            + r",\quad \mu(\{0\}) = " + sp.latex(atom_mass()))


def latex_density() -> str:
    """Density of the continuous part."""
    S = SYMBOLS
    f = sp.sqrt(_b - S.x) * sp.sqrt(S.x - _a) / (2 * sp.pi * S.gamma * S.s * S.x)
    return r"f(x) = " + sp.latex(f) + r"\quad (a < x < b)"


def latex_truncated_moment(p: int) -> str:
    """``T_p(t)`` in the angle parametrization (``a <= t <= b``)."""
    terms = moment_integrand_terms(p - 1, _AUX)
    body = sp.Add(*terms, evaluate=False)
    pref = sp.latex(1 / (2 * sp.pi * SYMBOLS.gamma * SYMBOLS.s))
    return rf"T_{{{p}}}(t) = {pref}\left({sp.latex(body, **_ORDER)}\right)"


def latex_threshold() -> str:
    """Angle definitions and the threshold equation."""
    theta = 2 * sp.atan2(sp.sqrt(_b - _t), sp.sqrt(_t - _a))
    phi = sp.atan2(sp.sqrt(_a * (_b - _t)), sp.sqrt(_b * (_t - _a)))
    return (r"R = (b - t)(t - a),\quad \theta = " + sp.latex(theta)
            + r",\quad \varphi = " + sp.latex(phi)
            + r";\qquad \mu((t_\star, \infty)) = T_0(t_\star) = \mathrm{mass},"
            + r"\quad F'(t) = -f(t)")


def latex_equations() -> dict[str, str]:
    """The law's equations in LaTeX, by name."""
    out = {
        "stieltjes_equation": latex_stieltjes_equation(),
        "stieltjes_root": latex_stieltjes_root(),
        "stieltjes_derivative": latex_stieltjes_derivative(),
        "edges": latex_edges(),
        "density": latex_density(),
        "threshold": latex_threshold(),
    }
    for p in MOMENT_ORDERS:
        out[f"T_{p}"] = latex_truncated_moment(p)
    return out
