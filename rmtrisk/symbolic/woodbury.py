"""Per-direction Woodbury route (docs/theory.md §2 and §4): the paper-regime closed forms, derived.

One signal direction ``(u, v, sigma)`` (unit ``u``, ``v``) of ``Y = A + sigma u v^T`` is a
rank-two update of the noise Gram matrix with the coupling matrix
``C = [[0, sigma], [sigma, sigma^2]]``:

* ``c > 1`` (side ``"over"``): ``Y^T Y = A^T A + B C B^T``, ``B = [A^T u, v]``,
  ``Q = (A^T A)^{-1}``, ``Z = B^T Q B`` and ``Y^T u = B [1, sigma]^T``;
* ``c < 1`` (side ``"under"``): ``Y Y^T = A A^T + B C B^T``, ``B = [A v, u]``,
  ``P = (A A^T)^{-1}``, ``Z = B^T P B``, ``Z_2 = B^T P^2 B`` and ``Y v = B [1, sigma]^T``.

With ``M = C^{-1} + Z``, Woodbury gives ``(Gram)^{-1} B = Q B M^{-1} C^{-1}`` (resp. ``P``), so
every quantity of the minimum-norm denoiser ``W = sigma u v^T Y^+`` is an *exact* rational
function of ``sigma`` and the 2 x 2 quadratic-form matrices (:func:`one_layer_exact`):

* ``c > 1``: ``u^T W u = sigma e_2^T Z M^{-1} C^{-1} [1, sigma]^T`` and
  ``||W||_F^2 = sigma^2 v^T (Y^T Y)^{-1} v = sigma^2 e_2^T (Z - Z M^{-1} Z) e_2``;
* ``c < 1``: ``u^T W u = sigma [1, sigma] Z M^{-1} C^{-1} e_2`` and
  ``||W||_F^2 = sigma^2 [1, sigma] C^{-1} M^{-1} Z_2 M^{-1} C^{-1} [1, sigma]^T``.

The quadratic forms concentrate (Haar ``u``, ``v`` independent of ``A``; docs/theory.md §2), in
``eta_trn = 1`` units (``W`` is invariant under rescaling ``(X, A)``, so ``sigma^2 = t``):
``Z -> diag(a, q)`` with ``a = N/d`` (c > 1) or ``d/N`` (c < 1) and ``q`` the resolvent mean
``(1/N) tr (A^T A)^{-1}`` resp. ``(1/d) tr (A A^T)^{-1}``, and ``Z_2 -> diag(a q, q_2)`` with
``q_2 = (1/d) tr (A A^T)^{-2}``. :func:`one_layer_derived` does this substitution and sympy's
inversion of ``M``; :func:`one_layer_factors` rewrites the bias factor ``b = (1 - u^T W u)^2``
and the variance factor ``v = ||W||_F^2`` without cancellation (in ``1 - a``), which is what the
generated kernels ``one_layer_factors_c_gt_1`` / ``_c_lt_1`` evaluate. With the limits
``a = 1/c, q = c/(c - 1)`` resp. ``a = c, q = c/(1 - c), q_2 = c^2/(1 - c)^3`` they reduce to
the published one-layer factors (Sonthalia & Nadakuditi, TMLR 2023),
:func:`one_layer_limit_identities`.

**Skip connection, c > 1** (docs/theory.md §4). ``W = -E_k S_k F_k^T Y^+`` with ``A = E S F^T``.
With ``p_j = B^T Q A^T e_j = s_j B^T Q f_j`` and ``K = sum_{j <= k} p_j p_j^T``, exactly
(:func:`skip_exact`)

* ``||W u||^2 = w^T K w`` with ``w = M^{-1} C^{-1} [1, sigma]^T``,
* ``||W||_F^2 = k - tr(M^{-1} K)``,
* ``tr W = -k - sigma K_12 + tr(M^{-1} (K + sigma Z e_2 e_1^T K))``,

and ``K -> diag(kappa, T)`` with ``kappa = k/d`` and ``T = (1/N) sum_{j <= k} s_j^{-2}`` the
truncated moment ``T_{-1}`` of the noise Gram law. :func:`skip_derived` is the result; it
equals the transcription of :mod:`.skip` identically in ``T``, and with the fixed-``k`` moment
``T = kappa c / (1 + 1/sqrt(c))^2`` (top eigenvalues at the upper edge) it is the closed form
of docs/theory.md §4 (:func:`skip_fixed_k_closed_form`, :func:`skip_identities`).

Every function here is pure and returns sympy objects.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import sympy as sp

from . import skip as skip_forms
from .kernel import KernelSpec

__all__ = [
    "core_matrix",
    "coupling_matrix",
    "KERNELS",
    "latex_equations",
    "one_layer_concentration",
    "one_layer_derived",
    "one_layer_exact",
    "one_layer_factors",
    "one_layer_limit_identities",
    "one_layer_limits",
    "quadratic_form_matrix",
    "SIDES",
    "skip_concentration",
    "skip_derived",
    "skip_exact",
    "skip_fixed_k_closed_form",
    "skip_fixed_k_moment_unit",
    "skip_identities",
    "sonthalia_nadakuditi",
    "WB",
    "WoodburySymbols",
]

#: ``"over"``: c > 1 (Gram side ``A^T A``); ``"under"``: c < 1 (``A A^T``).
SIDES: tuple[str, ...] = ("over", "under")


class WoodburySymbols(NamedTuple):
    """Symbols of the per-direction Woodbury derivation (``eta_trn = 1`` units).

    Attributes
    ----------
    t : Symbol
        Training SNR ``sigma^2 / eta_trn^2``.
    sigma : Symbol
        Singular value of the direction (``sigma^2 = t`` in these units).
    a : Symbol
        Concentrated ``u^T A Q A^T u`` (c > 1: ``N/d``) resp. ``v^T A^T P A v`` (c < 1: ``d/N``).
    q, q2 : Symbol
        Resolvent mean and (c < 1) second resolvent moment.
    c : Symbol
        Aspect ratio ``d / N``.
    kappa, T : Symbol
        Skip connection: ``k/d`` and the truncated moment ``T_{-1}`` above the threshold.
    """

    t: sp.Symbol
    sigma: sp.Symbol
    a: sp.Symbol
    q: sp.Symbol
    q2: sp.Symbol
    c: sp.Symbol
    kappa: sp.Symbol
    T: sp.Symbol


WB = WoodburySymbols(
    t=sp.Symbol("t", positive=True),
    sigma=sp.Symbol("sigma", positive=True),
    a=sp.Symbol("a", positive=True),
    q=sp.Symbol("q", positive=True),
    q2=sp.Symbol("q2", positive=True),
    c=sp.Symbol("c", positive=True),
    kappa=sp.Symbol("kappa", positive=True),
    T=sp.Symbol("T", nonnegative=True),
)

_ABAR = sp.Symbol("abar", positive=True)  # 1 - a (> 0 on both sides)
_E1 = sp.Matrix([1, 0])
_E2 = sp.Matrix([0, 1])


def _check_side(side: str) -> None:
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, got {side!r}")


def coupling_matrix() -> sp.Matrix:
    """``C = [[0, sigma], [sigma, sigma^2]]``, so ``B C B^T = sigma (b_1 b_2^T + b_2 b_1^T)
    + sigma^2 b_2 b_2^T`` for ``B = [b_1, b_2]``."""
    s = WB.sigma
    return sp.Matrix([[0, s], [s, s**2]])


def quadratic_form_matrix(name: str) -> sp.Matrix:
    """Generic symmetric 2 x 2 matrix of real symbols ``name11, name12, name22``."""
    x11, x12, x22 = sp.symbols(f"{name}11 {name}12 {name}22", real=True)
    return sp.Matrix([[x11, x12], [x12, x22]])


def core_matrix(Z: sp.Matrix) -> sp.Matrix:
    """``M = C^{-1} + Z``, the 2 x 2 matrix that Woodbury inverts."""
    return coupling_matrix().inv() + Z


def _signal_vector() -> sp.Matrix:
    return sp.Matrix([1, WB.sigma])


def one_layer_exact(side: str) -> tuple[sp.Expr, sp.Expr]:
    """``(u^T W u, ||W||_F^2)`` of ``W = sigma u v^T Y^+``, exact in ``sigma`` and ``Z`` (``Z_2``).

    The quadratic-form matrices are the generic symmetric matrices
    ``quadratic_form_matrix("z")`` (``Z``) and ``quadratic_form_matrix("y")`` (``Z_2``, c < 1).
    """
    _check_side(side)
    s = WB.sigma
    Z = quadratic_form_matrix("z")
    Ci = coupling_matrix().inv()
    Mi = core_matrix(Z).inv()
    w = _signal_vector()
    if side == "over":
        # Y^+ u = (Y^T Y)^{-1} B [1, sigma]^T = Q B M^{-1} C^{-1} [1, sigma]^T and B e_2 = v
        align = s * (_E2.T * Z * Mi * Ci * w)[0, 0]
        # ||W||^2 = sigma^2 v^T (Y^T Y)^{-1} v, (Y^T Y)^{-1} = Q - Q B M^{-1} B^T Q
        frob = s**2 * (_E2.T * (Z - Z * Mi * Z) * _E2)[0, 0]
    else:
        Z2 = quadratic_form_matrix("y")
        # Y^+ = Y^T (Y Y^T)^{-1}, v^T Y^T = [1, sigma] B^T, u = B e_2,
        # B^T (Y Y^T)^{-1} B = Z M^{-1} C^{-1}
        align = s * (w.T * Z * Mi * Ci * _E2)[0, 0]
        # ||W||^2 = sigma^2 v^T Y^T (Y Y^T)^{-2} Y v and (Y Y^T)^{-1} B = P B M^{-1} C^{-1}
        frob = s**2 * (w.T * Ci * Mi * Z2 * Mi * Ci * w)[0, 0]
    return align, frob


def one_layer_concentration(side: str) -> dict[sp.Symbol, sp.Expr]:
    """Substitution of the concentrated quadratic forms (``eta = 1``, ``sigma = sqrt(t)``).

    ``Z -> diag(a, q)``; c < 1 also ``Z_2 -> diag(a q, q2)``: ``v^T A^T P^2 A v -> (1/N) tr P``.
    """
    _check_side(side)
    Z = quadratic_form_matrix("z")
    sub: dict[sp.Symbol, sp.Expr] = {Z[0, 0]: WB.a, Z[0, 1]: 0, Z[1, 1]: WB.q}
    if side == "under":
        Z2 = quadratic_form_matrix("y")
        sub.update({Z2[0, 0]: WB.a * WB.q, Z2[0, 1]: 0, Z2[1, 1]: WB.q2})
    sub[WB.sigma] = sp.sqrt(WB.t)
    return sub


@functools.cache
def one_layer_derived(side: str) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """``(u^T W u, b, v)`` at leading order, functions of ``(t, a, q, q2)``.

    ``b = (1 - u^T W u)^2`` is the bias factor and ``v = ||W||_F^2`` the variance factor of the
    direction: ``R = sum_i l_i b_i + (eta_tst^2 / d) sum_i v_i``.
    """
    align, frob = one_layer_exact(side)
    sub = one_layer_concentration(side)
    align = sp.simplify(align.subs(sub))
    bias = sp.simplify((1 - align) ** 2)
    var = sp.simplify(frob.subs(sub))
    return align, bias, var


def _in_abar(expr: sp.Expr) -> sp.Expr:
    """``expr`` as ``num / den`` with the denominator factored in ``1 - a`` (one factor).

    The denominators are polynomials in ``(1 - a) q t``; writing them so avoids the
    cancellation ``a q t - q t`` near ``c = 1``. The numerator is collected in the moments
    ``q``, ``q2`` with factored coefficients (``a q t + (a - 1)^2 q2 t^2``: a sum of positive
    terms).
    """
    num, den = sp.fraction(sp.cancel(expr))
    den = sp.factor(den.subs(WB.a, 1 - _ABAR))
    if den.could_extract_minus_sign():
        num, den = -num, -den
    den = den.subs(_ABAR, sp.UnevaluatedExpr(1 - WB.a))
    terms = sp.collect(sp.expand(num), [WB.q2, WB.q], evaluate=False)
    num = sp.Add(*(sp.factor(coeff) * mono for mono, coeff in terms.items()))
    return num / den


@functools.cache
def one_layer_factors(side: str) -> tuple[sp.Expr, sp.Expr]:
    """``(b, v)`` in evaluation form (what the kernels compute), functions of ``(t, a, q, q2)``.

    Rational functions of ``t`` with ``1 - a`` kept as one factor, e.g. for c > 1
    ``b = 1/((1 - a) q t + 1)^2`` and ``v = q t/((1 - a) q t + 1)``: no ``1 - u^T W u``
    cancellation at large ``t`` and no ``a q t - q t`` cancellation near ``c = 1``.
    """
    _, bias, var = one_layer_derived(side)
    return _in_abar(bias), _in_abar(var)


def one_layer_limits(side: str) -> dict[sp.Symbol, sp.Expr]:
    """The ``d -> inf`` values of ``(a, q, q2)`` in terms of ``c`` (``eta = 1``)."""
    _check_side(side)
    c = WB.c
    if side == "over":
        return {WB.a: 1 / c, WB.q: c / (c - 1)}
    return {WB.a: c, WB.q: c / (1 - c), WB.q2: c**2 / (1 - c) ** 3}


def sonthalia_nadakuditi(side: str) -> tuple[sp.Expr, sp.Expr]:
    """The published one-layer ``(b, v)`` (Sonthalia & Nadakuditi 2023), in ``(t, c)``."""
    _check_side(side)
    t, c = WB.t, WB.c
    if side == "over":
        return 1 / (1 + t) ** 2, c / (c - 1) * t / (1 + t)
    return 1 / (1 + c * t) ** 2, c**2 * t * (1 + t) / ((1 - c) * (1 + c * t) ** 2)


def one_layer_limit_identities() -> tuple[sp.Expr, ...]:
    """Limit of the derived (and evaluation-form) factors minus the published ones (all 0)."""
    out = []
    for side in SIDES:
        lim = one_layer_limits(side)
        _, bias, var = one_layer_derived(side)
        fb, fv = one_layer_factors(side)
        for derived, published in zip((bias, var, fb, fv), sonthalia_nadakuditi(side) * 2,
                                      strict=True):
            out.append(sp.simplify(derived.doit().subs(lim) - published))
    return tuple(out)


def skip_exact() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """``(||W u||^2, ||W||_F^2 - k, tr W + k)`` of the skip minimizer, exact in ``Z``, ``K``.

    ``Z = quadratic_form_matrix("z")`` (``B^T Q B``) and ``K = quadratic_form_matrix("k")``
    (``sum_{j <= k} p_j p_j^T``, ``p_j = B^T Q A^T e_j``), one signal direction, c > 1.
    """
    s = WB.sigma
    Z = quadratic_form_matrix("z")
    Kk = quadratic_form_matrix("k")
    Ci = coupling_matrix().inv()
    Mi = core_matrix(Z).inv()
    # E_k^T A Y^+ u = [p_j^T]_j M^{-1} C^{-1} [1, sigma]^T
    w = Mi * Ci * _signal_vector()
    leak = (w.T * Kk * w)[0, 0]
    # sum_j s_j^2 f_j^T (Y^T Y)^{-1} f_j with s_j^2 f_j^T Q f_j = 1 and s_j Q f_j -> p_j
    frob = -(Mi * Kk).trace()
    # sum_j s_j f_j^T Y^+ e_j with Y^T e_j = s_j f_j + sigma (u^T e_j) v, u^T e_j = (p_j)_1,
    # s_j f_j^T Q A^T e_j = 1, s_j f_j^T Q v = (p_j)_2 and B^T Q v = Z e_2:
    # = k + sigma K_12 - tr(M^{-1} (K + sigma Z e_2 e_1^T K))
    trace = -(s * Kk[0, 1] - (Mi * (Kk + s * Z * _E2 * _E1.T * Kk)).trace())
    return leak, frob, trace


def skip_concentration() -> dict[sp.Symbol, sp.Expr]:
    """``Z -> diag(a, q)``, ``K -> diag(kappa, T)``, ``sigma -> sqrt(t)`` (``eta = 1``)."""
    Kk = quadratic_form_matrix("k")
    sub = one_layer_concentration("over")
    sub.update({Kk[0, 0]: WB.kappa, Kk[0, 1]: 0, Kk[1, 1]: WB.T})
    return sub


@functools.cache
def skip_derived() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """Per-direction ``(Gamma, frob, trace)`` in ``(t, kappa, a, q, T)``, ``eta = 1`` units.

    ``||W u_i||^2 -> Gamma_i``, ``||W||_F^2 -> kappa d + sum_i frob_i``,
    ``tr W -> -kappa d + sum_i trace_i``; ``T`` is ``T_{-1}`` of the noise Gram law at
    ``eta = 1`` (i.e. ``eta_trn^2`` times the ``T`` of :mod:`.skip`).
    """
    sub = skip_concentration()
    return tuple(sp.simplify(e.subs(sub)) for e in skip_exact())  # type: ignore[return-value]


def skip_fixed_k_moment_unit() -> sp.Expr:
    """``kappa c / (1 + 1/sqrt(c))^2``: :func:`.skip.skip_fixed_k_moment` at ``eta_trn = 1``."""
    K = skip_forms.SKIP
    return skip_forms.skip_fixed_k_moment().subs(K.eta2_train, 1).subs(K.c, WB.c) \
        .subs(K.kappa, WB.kappa)


def skip_fixed_k_closed_form() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """docs/theory.md §4 per direction, ``(Gamma, frob, trace)`` in ``(t, kappa, c)``.

    ``Gamma = kappa (1 + (sqrt(c) - 1)^2 t)/(1 + t)^2``, ``frob = kappa (h - g) rho``,
    ``trace = kappa g rho`` with ``rho = t/(1 + t)``, ``h = c/(c - 1)`` and
    ``g = c (sqrt(c) - 1)/(sqrt(c) + 1)``.
    """
    t, c, kappa = WB.t, WB.c, WB.kappa
    rho = t / (1 + t)
    h = c / (c - 1)
    g = c * (sp.sqrt(c) - 1) / (sp.sqrt(c) + 1)
    gamma = kappa * (1 + (sp.sqrt(c) - 1) ** 2 * t) / (1 + t) ** 2
    return gamma, kappa * (h - g) * rho, kappa * g * rho


def _risk_transcription_unit() -> tuple[sp.Expr, ...]:
    """:mod:`.skip`'s ``(Gamma, frob, trace)`` with ``sigma^2 = t eta2``, ``T -> T / eta2``."""
    K = skip_forms.SKIP
    gamma, _, frob, _, trace, _ = skip_forms.skip_direction_terms()
    sub = {K.sigma: sp.sqrt(WB.t * K.eta2_train), K.c: WB.c, K.kappa: WB.kappa,
           K.T: WB.T / K.eta2_train}
    return tuple(sp.simplify(e.subs(sub)) for e in (gamma, frob, trace))


def skip_identities() -> tuple[sp.Expr, ...]:
    """Differences that simplify to 0.

    1. derived (``a = 1/c``, ``q = c/(c - 1)``) minus the transcription of :mod:`.skip`, for
       every ``T`` and ``eta_trn`` (3 expressions);
    2. derived at the fixed-``k`` moment minus :func:`skip_fixed_k_closed_form` (3);
    3. the transcription at :func:`.skip.skip_fixed_k_moment` (the ``kappa -> 0`` limit of
       the proportional formula) minus :func:`skip_fixed_k_closed_form` (3).
    """
    lim = one_layer_limits("over")
    derived = [e.subs(lim) for e in skip_derived()]
    transcribed = _risk_transcription_unit()
    closed = skip_fixed_k_closed_form()
    T0 = skip_fixed_k_moment_unit()
    out = [sp.simplify(x - y) for x, y in zip(derived, transcribed, strict=True)]
    out += [sp.simplify(x.subs(WB.T, T0) - y) for x, y in zip(derived, closed, strict=True)]
    out += [sp.simplify(x.subs(WB.T, T0) - y) for x, y in zip(transcribed, closed, strict=True)]
    return tuple(out)


# ============================================================================================
# kernels (rendered into rmtrisk/_kernels.py by rmtrisk._codegen)
# ============================================================================================
KERNELS: tuple[KernelSpec, ...] = (
    KernelSpec("one_layer_factors_c_gt_1", (WB.t, WB.a, WB.q, WB.q2),
               lambda: one_layer_factors("over"),
               "(b, v) of one direction of W = X Y^+, c > 1 (Woodbury; q2 unused)."),
    KernelSpec("one_layer_factors_c_lt_1", (WB.t, WB.a, WB.q, WB.q2),
               lambda: one_layer_factors("under"),
               "(b, v) of one direction of W = X Y^+, c < 1 (Woodbury)."),
)


# ============================================================================================
# LaTeX (docs/engine.md)
# ============================================================================================
def latex_woodbury() -> dict[str, str]:
    """Per-direction Woodbury derivation: core matrix, one-layer factors, skip terms (eta = 1)."""
    W = WB
    conc = one_layer_concentration("over")
    core = core_matrix(quadratic_form_matrix("z")).subs(conc).subs(sp.sqrt(W.t), W.sigma)
    out = {
        "core": (r"C = " + sp.latex(coupling_matrix()) + r",\quad M = C^{-1} + "
                 r"\operatorname{diag}(a, q) = " + sp.latex(core)),
    }
    names = {"over": "c_gt_1", "under": "c_lt_1"}
    for side in SIDES:
        align = one_layer_derived(side)[0]
        b, v = one_layer_factors(side)
        lim = one_layer_limits(side)
        sn_b, sn_v = sonthalia_nadakuditi(side)
        out[f"one_layer_{names[side]}"] = (
            r"u^\top W u = " + sp.latex(align) + r",\quad b = (1 - u^\top W u)^2 = "
            + sp.latex(b) + r",\quad v = \|W\|_F^2 = " + sp.latex(v))
        out[f"one_layer_{names[side]}_limit"] = (
            ",\\ ".join(sp.latex(k) + " = " + sp.latex(x) for k, x in lim.items())
            + r"\ \Rightarrow\ b = " + sp.latex(sn_b) + r",\quad v = " + sp.latex(sn_v))
    gamma, frob, trace = skip_derived()
    out["skip_woodbury"] = (
        r"\|W u_i\|^2 = " + sp.latex(gamma) + r",\quad \|W\|_F^2 = \kappa d + \sum_i "
        + sp.latex(frob) + r",\quad \operatorname{tr} W = -\kappa d + \sum_i " + sp.latex(trace))
    gamma, frob, trace = skip_fixed_k_closed_form()
    out["skip_fixed_k"] = (
        r"T = " + sp.latex(skip_fixed_k_moment_unit()) + r":\quad \|W u_i\|^2 = "
        + sp.latex(gamma) + r",\quad \mathrm{frob}_i = " + sp.latex(frob)
        + r",\quad \mathrm{trace}_i = " + sp.latex(trace))
    return out


def latex_equations() -> dict[str, str]:
    """This regime's equations in LaTeX, by name."""
    return {f"woodbury_{k}": v for k, v in latex_woodbury().items()}
