"""Skip connection with product regularization ``lambda > 0``: the kept-spectrum equations.

Derivation in ``docs/skip_ridge.md``; units ``eta_trn = 1`` (``W`` is invariant under rescaling
``(X, A, lambda)`` by ``(eta, eta, eta^2)``), ``t = sigma^2``, ``lam = lambda / eta_trn^2``.
With ``Lambda = A A^T`` (law ``mu``: Marchenko–Pastur, ratio ``c``, scale ``1/c``),
``phi(x) = x^2/(x + lam)`` and ``psi(x) = x/(x + lam)``, one signal direction ``(u, v, sigma)``
gives exactly

    S := A Y^T (Y Y^T + lam)^{-1} Y A^T = phi(Lambda) + lam P K P^T,
    F := A Y^T (Y Y^T + lam)^{-1}        = psi(Lambda) + P L,        W = -Pi_k F,

with ``Pi_k`` the top-k eigenprojector of ``S``, ``P = [psi(Lambda) u, (Lambda + lam)^{-1} A v]``
and (after concentration of the quadratic forms) ``K = [[-q t, sigma], [sigma, (1 - p) t]] / D0``,
``D0 = 1 + (1 - p) q t``, ``L = -K P^T + sigma w u^T``, ``w = e_2 - q K e_2``, where
``p = <psi>`` and ``q = (1/N) tr (A^T A + lam)^{-1}``; equivalently ``P L = -P K diag(lam, 1)
[-(Lambda + lam)^{-1} u, (Lambda + lam)^{-1} A v]^T`` (bounded coefficients as ``lam -> 0``).
Every kept quantity is a bilinear form ``a^T Pi_k b`` of vectors ``f(Lambda) u`` and
``g(Lambda) A v``; by the contour integral ``Pi_k = (1/(2 pi i)) oint (z - S)^{-1} dz`` around
the kept part and Woodbury on ``S`` it is ``(1/pi) int Im[a^T G_S(y + i0) b] dy`` over
``y = phi(zeta)``, ``zeta in (theta, b)``, plus the residue of an outlier eigenvalue of ``S``
above the bulk when one exists, where

    a^T G_S b = G(a, b) - G(a, P) N^{-1} G(P, b),   N = K^{-1}/lam + P^T G_phi P,

and the forms ``G`` are Marchenko–Pastur averages of rational functions against
``1/(phi(x) - phi(zeta)) = (x + lam) / ((x - zeta)(x - w))``, ``w = -lam zeta / (zeta + lam)``.
The traces ``tr(Pi_k F)`` and ``||W||_F^2 = tr(Pi_k F F^T)`` are ``d int_{x > theta} psi dmu``
(resp. ``psi^2``) plus ``O(1)`` per direction: the bilinear forms above and the Ky Fan / spectral
shift correction ``C_h = d/d eps sum_{top k}(S + eps h(Lambda)) - sum_{top k} h(Lambda)``
(the top ``k`` are counted, not cut at a fixed level).

This module builds, as sympy expressions:

* :data:`FORMS` — the eleven averages (five resolvent forms and six squared ones);
* :func:`smooth_part` / :func:`pole_coefficients` — each average split as a smooth integral
  plus ``m(zeta)`` and ``m'(zeta)`` terms (what the compiled solver evaluates: the smooth part
  by Gauss–Legendre quadrature, stable for every ``lam``);
* :func:`partial_fraction_average` — each average in closed form through ``m`` and ``m'`` at
  ``zeta + i0``, ``w`` and ``-lam`` (what the mpmath reference evaluates; it cancels badly in
  float64 when ``lam`` is small, which is why the compiled path does not use it);
* :func:`constants` — ``p, q, <psi^2>, c <x/(x + lam)^2>`` without cancellation;
* :func:`direction_integrands` / :func:`outlier_terms` — the per-direction integrands of
  ``Gamma = ||W u||^2`` and the ``O(1)`` trace terms, and the outlier residues.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import sympy as sp

from .kernel import KernelSpec

__all__ = [
    "AGG",
    "aggregate",
    "boundary_stieltjes",
    "bulk_weights",
    "constants",
    "direction_integrands",
    "edge_matrix",
    "Form",
    "form_symbols",
    "FORMS",
    "full_width_terms",
    "KERNELS",
    "latex_equations",
    "outlier_terms",
    "partial_fraction_average",
    "pole_coefficients",
    "SkipRidgeSymbols",
    "smooth_part",
    "SR",
]


class SkipRidgeSymbols(NamedTuple):
    """Symbols of the skip-connection risk at ``lambda > 0`` (``eta_trn = 1`` units).

    Attributes
    ----------
    x : Symbol
        Eigenvalue of ``Lambda = A A^T`` (integration variable of the averages).
    zeta : Symbol
        Spectral parameter in eigenvalue units: ``y = phi(zeta)`` on the kept part.
    lam : Symbol
        Regularization ``lambda / eta_trn^2 > 0``.
    c : Symbol
        Aspect ratio ``d / N``.
    sigma : Symbol
        Singular value of the signal direction (``t = sigma^2``).
    pbar, q : Symbol
        ``pbar = 1 - p = lam m(-lam)`` with ``p = int psi dmu`` (passed as ``1 - p``: ``p -> 1``
        as ``lam -> 0`` when ``c < 1``) and ``q = (1/N) tr (A^T A + lam)^{-1}``.
    r, gp : Symbol
        ``int (x + lam)^{-2} dmu`` and ``c int x/(x + lam)^2 dmu`` (squared norms of
        ``(Lambda + lam)^{-1} u`` and ``(Lambda + lam)^{-1} A v``).
    h1 : Symbol
        ``psi(theta)`` at the threshold (``psi(theta)^2`` for the Frobenius correction).
    psi2, e3 : Symbol
        ``int psi^2 dmu`` and ``int x^2/(x + lam)^3 dmu`` (full-width case only).
    m, dm : Symbol
        ``m(zeta)`` and ``m'(zeta)`` (the boundary values ``zeta + i0`` on the support).
    mw, dmw, ml, dml : Symbol
        ``m, m'`` at ``w = -lam zeta/(zeta + lam)`` and at ``-lam`` (mpmath path only).
    """

    x: sp.Symbol
    zeta: sp.Symbol
    lam: sp.Symbol
    c: sp.Symbol
    sigma: sp.Symbol
    pbar: sp.Symbol
    q: sp.Symbol
    r: sp.Symbol
    gp: sp.Symbol
    h1: sp.Symbol
    psi2: sp.Symbol
    e3: sp.Symbol
    m: sp.Symbol
    dm: sp.Symbol
    mw: sp.Symbol
    dmw: sp.Symbol
    ml: sp.Symbol
    dml: sp.Symbol


SR = SkipRidgeSymbols(
    x=sp.Symbol("x", positive=True),
    zeta=sp.Symbol("zeta", positive=True),
    lam=sp.Symbol("lam", positive=True),
    c=sp.Symbol("c", positive=True),
    sigma=sp.Symbol("sigma", positive=True),
    pbar=sp.Symbol("pbar", positive=True),
    q=sp.Symbol("q", positive=True),
    r=sp.Symbol("r", positive=True),
    gp=sp.Symbol("gp", positive=True),
    h1=sp.Symbol("h1", positive=True),
    psi2=sp.Symbol("psi2", positive=True),
    e3=sp.Symbol("e3", positive=True),
    m=sp.Symbol("m"),
    dm=sp.Symbol("dm"),
    mw=sp.Symbol("mw"),
    dmw=sp.Symbol("dmw"),
    ml=sp.Symbol("ml"),
    dml=sp.Symbol("dml"),
)

_x, _z, _l, _c = SR.x, SR.zeta, SR.lam, SR.c
PSI = _x / (_x + _l)
#: second root of ``phi(x) = phi(zeta)``
W_ROOT = -_l * _z / (_z + _l)


class Form(NamedTuple):
    """One Marchenko–Pastur average ``<R(x) (1/(phi(x) - phi(zeta)))^power>``.

    ``R`` already carries the weight ``c x`` of the ``A v`` directions
    (``(A v)^T h(Lambda) A v -> c int x h dmu``).
    """

    name: str
    numerator: sp.Expr
    power: int


#: The averages the kept-spectrum integrands need. ``H1, H2`` are the diagonal of
#: ``P^T G_phi P``; ``Y1 = <(Lambda + lam)^{-1} u, G_phi psi u>``,
#: ``Y2 = <psi (Lambda + lam)^{-1} u, G_phi psi u>`` and
#: ``XV = <psi (Lambda + lam)^{-1} A v, G_phi (Lambda + lam)^{-1} A v>`` are the forms of the
#: other vectors against ``P``; ``dH*`` is ``P^T G_phi^2 P`` and ``eH*a``, ``eH*b`` are
#: ``P^T G_phi h(Lambda) G_phi P`` for ``h = psi, psi^2``.
FORMS: tuple[Form, ...] = (
    Form("H1", PSI**2, 1),
    Form("H2", _c * _x / (_x + _l) ** 2, 1),
    Form("Y1", _x / (_x + _l) ** 2, 1),
    Form("Y2", _x**2 / (_x + _l) ** 3, 1),
    Form("XV", _c * _x * PSI / (_x + _l) ** 2, 1),
    Form("dH1", PSI**2, 2),
    Form("dH2", _c * _x / (_x + _l) ** 2, 2),
    Form("eH1a", PSI**3, 2),
    Form("eH2a", _c * _x * PSI / (_x + _l) ** 2, 2),
    Form("eH1b", PSI**4, 2),
    Form("eH2b", _c * _x * PSI**2 / (_x + _l) ** 2, 2),
)


def form_symbols() -> tuple[sp.Symbol, ...]:
    """One (complex) symbol per entry of :data:`FORMS`, in order."""
    return tuple(sp.Symbol(f.name) for f in FORMS)


def _weighted(form: Form) -> sp.Expr:
    """``R(x) ((x + lam)/(x - w))^power`` so that the average is ``<this / (x - zeta)^power>``."""
    ratio = (_x + _l) * (_z + _l) / (_x * _z + _l * _x + _l * _z)
    return form.numerator * ratio**form.power


@functools.cache
def smooth_part(name: str) -> sp.Expr:
    """Smooth integrand ``(R~(x) - Taylor(R~, zeta)) / (x - zeta)^power`` of one average.

    Rational in ``(x, zeta, lam, c)`` with poles only at ``x = -lam`` and ``x = w < 0``
    (outside the support), so ``<this>`` is an integral of a smooth function.
    """
    form = _form(name)
    rt = _weighted(form)
    taylor = rt.subs(_x, _z)
    if form.power == 2:
        taylor += sp.diff(rt, _x).subs(_x, _z) * (_x - _z)
    return sp.factor(sp.cancel((rt - taylor) / (_x - _z) ** form.power))


@functools.cache
def pole_coefficients(name: str) -> tuple[sp.Expr, sp.Expr]:
    """``(A, B)`` with ``<form> = <smooth_part> + A m(zeta) + B m'(zeta)``."""
    form = _form(name)
    rt = _weighted(form)
    at = sp.factor(sp.cancel(rt.subs(_x, _z)))
    if form.power == 1:
        return at, sp.Integer(0)
    return sp.factor(sp.cancel(sp.diff(rt, _x).subs(_x, _z))), at


@functools.cache
def partial_fraction_average(name: str) -> sp.Expr:
    """Closed form of one average through ``m, m'`` at ``zeta``, ``w`` and ``-lam``.

    Exact, but the partial fractions cancel in float64 when ``lam`` is small (``w`` and
    ``-lam`` merge); used by the mpmath reference path.
    """
    form = _form(name)
    wsym = sp.Dummy("w")
    expr = form.numerator * ((_x + _l) / ((_x - _z) * (_x - wsym))) ** form.power
    poles = ((_z, SR.m, SR.dm), (wsym, SR.mw, SR.dmw), (-_l, SR.ml, SR.dml))
    out = sp.Integer(0)
    for term in sp.Add.make_args(sp.apart(sp.together(expr), _x)):
        for pole, m0, m1 in poles:
            c1 = sp.cancel(term * (_x - pole))
            if not c1.has(_x):
                out += c1 * m0
                break
            c2 = sp.cancel(term * (_x - pole) ** 2)
            if not c2.has(_x):
                out += c2 * m1
                break
        else:  # pragma: no cover - all averages are proper with these poles
            raise ValueError(f"unexpected partial fraction {term} in {name}")
    return out.subs(wsym, W_ROOT)


def _form(name: str) -> Form:
    for f in FORMS:
        if f.name == name:
            return f
    raise KeyError(name)


def boundary_stieltjes() -> tuple[sp.Expr, sp.Expr]:
    """``(m(zeta + i0), m'(zeta + i0))`` of ``mu`` for ``zeta`` inside the support.

    ``zeta m^2 - ((1 - c)/c - zeta) m + 1 = 0``; the root with ``Im m > 0`` is
    ``(B + i sqrt((b - zeta)(zeta - a))) / (2 zeta)``, ``B = (1 - c)/c - zeta``.
    """
    sc = sp.sqrt(_c)
    a = (1 - sc) ** 2 / _c
    b = (1 + sc) ** 2 / _c
    B = (1 - _c) / _c - _z
    m = (B + sp.I * sp.sqrt((b - _z) * (_z - a))) / (2 * _z)
    dm = (m**2 + m) / (B - 2 * _z * m)
    return m, dm


def constants() -> tuple[sp.Expr, sp.Expr, sp.Expr, sp.Expr]:
    """``(1 - p, q, <(x + lam)^{-2}>, c <x/(x + lam)^2>)`` in closed form, without cancellation.

    From the law of ``A^T A`` (ratio ``g = 1/c``): with
    ``s = sqrt((lam + (1 + sqrt g)^2)(lam + (1 - sqrt g)^2))``, ``G = 2/(1 + g + lam + s)``
    (``= int x/(x + lam) dmu~``) one has ``c <x/(x + lam)^2> = G/s``, ``q = (1 - G)/lam`` and
    ``1 - p = lam m(-lam) = (1 - g + lam + s)/(1 + g + lam + s)``; ``1 - G`` and ``1 - p`` are
    rationalized (``s^2 - (1 - g)^2 = lam (lam + 2 + 2 g)``) so that small ``lam`` does not
    cancel. ``<(x + lam)^{-2}> = m'(-lam) = (m^2 + m)/((1 - c)/c + lam + 2 lam m)`` with
    ``m = m(-lam) = (1 - p)/lam`` (implicit derivative of ``z m^2 - ((1 - c)/c - z) m + 1``).
    """
    g = 1 / _c
    s = sp.sqrt((_l + (1 + sp.sqrt(g)) ** 2) * (_l + (1 - sp.sqrt(g)) ** 2))
    G = 2 / (1 + g + _l + s)
    # 1 - G = (g - 1 + lam + s) / (1 + g + lam + s); for g < 1 write s - (1 - g) without
    # cancellation: s^2 - (1 - g)^2 = lam (lam + 2 + 2 g)
    num = sp.Piecewise(
        (_l + _l * (_l + 2 + 2 * g) / (s + 1 - g), g < 1),
        (g - 1 + _l + s, True),
    )
    q = num / (_l * (1 + g + _l + s))
    pbar_num = sp.Piecewise(
        (_l + _l * (_l + 2 + 2 * g) / (s + g - 1), g > 1),
        (1 - g + _l + s, True),
    )
    pbar = pbar_num / (1 + g + _l + s)
    m = pbar / _l
    r = (m**2 + m) / ((1 - _c) / _c + _l + 2 * pbar)
    return pbar, q, r, G / s


class _Bilinear(NamedTuple):
    """Evaluation rule for the kept bilinear forms of one direction."""

    form: Callable[[str, str], sp.Expr]          # a^T (kept) b
    correction: Callable[[sp.Expr, tuple[sp.Expr, sp.Expr]], sp.Expr]  # C_h


# basis vectors: P1 = psi u, P2 = (Lambda + lam)^{-1} A v, R1 = -(Lambda + lam)^{-1} u,
# S1 = psi R1, Q2 = psi P2; G(a, b) between them (zero between u- and v-kinds)
_P = ("P1", "P2")


def _g_table(F: dict[str, sp.Expr]) -> dict[tuple[str, str], sp.Expr]:
    t = {("P1", "P1"): F["H1"], ("P2", "P2"): F["H2"], ("R1", "P1"): -F["Y1"],
         ("S1", "P1"): -F["Y2"], ("Q2", "P2"): F["XV"]}
    out = dict(t)
    for (a, b), v in t.items():
        out[(b, a)] = v
    return out


def _kind(v: str) -> str:
    return "u" if v in ("P1", "R1", "S1") else "v"


def _assemble(rule: _Bilinear) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """``(Gamma, trace, frob)`` of one direction from a bilinear rule.

    ``F = psi(Lambda) - P M R^T`` with ``R = [R1, P2]`` and ``M = K diag(lam, 1)``: the
    identities ``sigma w_1 = K_11``, ``sigma w_2 = K_21`` (``w = e_2 - q K e_2``) remove the
    ``u``-terms of ``L`` against ``P1 = u - lam (Lambda + lam)^{-1} u``, so every coefficient
    stays bounded as ``lam -> 0`` (``K_11 ~ q ~ 1/lam`` when ``c < 1``).
    """
    S = SR
    sigma, t = S.sigma, S.sigma**2
    D0 = 1 + S.pbar * S.q * t
    M = sp.Matrix([[-S.lam * S.q * t, sigma], [S.lam * sigma, S.pbar * t]]) / D0
    B = rule.form
    zeta_vec = (1, sigma * S.pbar)
    gamma = sum(zeta_vec[i] * zeta_vec[j] * B(_P[i], _P[j])
                for i in range(2) for j in range(2)) / D0**2
    R, PsiR = ("R1", "P2"), ("S1", "Q2")
    trPF = -sum(M[j, l] * B(R[l], _P[j]) for j in range(2) for l in range(2))
    cross = -sum(M[j, l] * B(PsiR[l], _P[j]) for j in range(2) for l in range(2))
    LLt = M * sp.diag(S.r, S.gp) * M.T
    trLL = sum(LLt[i, j] * B(_P[j], _P[i]) for i in range(2) for j in range(2))
    trace = rule.correction(S.h1, ("eH1a", "eH2a")) + trPF
    frob = rule.correction(S.h1**2, ("eH1b", "eH2b")) + 2 * cross + trLL
    return gamma, trace, frob


def _lam_n(F: dict[str, sp.Expr]) -> sp.Matrix:
    """``lam N = [[p - 1 + lam H1, 1/sigma], [1/sigma, q + lam H2]]`` (symmetric; ``p - 1``
    is ``-pbar``)."""
    S = SR
    return sp.Matrix([[-S.pbar + S.lam * F["H1"], 1 / S.sigma],
                      [1 / S.sigma, S.q + S.lam * F["H2"]]])


def direction_integrands() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """Complex integrands ``J`` of ``(Gamma, trace, frob)`` of one direction at ``zeta + i0``.

    Each kept quantity is ``(1/pi) int_theta^b Im J(zeta) phi'(zeta) dzeta`` (plus the outlier
    residue of :func:`outlier_terms`), in terms of the :data:`FORMS` symbols.
    """
    F = dict(zip([f.name for f in FORMS], form_symbols(), strict=True))
    lamN = _lam_n(F)
    det = lamN.det()
    Ninv = SR.lam * lamN.adjugate() / det           # N^{-1} = lam (lam N)^{-1}
    G = _g_table(F)

    def gvec(a: str) -> sp.Matrix:
        return sp.Matrix([[G.get((a, pj), 0) for pj in _P]])

    def form(a: str, b: str) -> sp.Expr:
        direct = G.get((a, b), 0) if _kind(a) == _kind(b) else 0
        return direct - (gvec(a) * Ninv * gvec(b).T)[0, 0]

    def correction(h_theta: sp.Expr, names: tuple[str, str]) -> sp.Expr:
        M = sp.diag(h_theta * F["dH1"] - F[names[0]], h_theta * F["dH2"] - F[names[1]])
        return (Ninv * M).trace()

    return _assemble(_Bilinear(form, correction))


def outlier_terms() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """Residues ``(Gamma, trace, frob)`` of an outlier eigenvalue ``phi(zeta_o)`` of ``S``.

    At a real root ``zeta_o > b`` of ``det N``, ``a^T G_S b`` has the residue
    ``G(a, P) adj(N) G(P, b) / tr(adj(N) dH)``, and the Ky Fan term is
    ``tr(adj(N) eH_h) / tr(adj(N) dH) - h(theta)`` (Hellmann–Feynman for the outlier).
    Real :data:`FORMS` symbols (evaluated at ``zeta_o``).
    """
    F = dict(zip([f.name for f in FORMS], form_symbols(), strict=True))
    adj = _lam_n(F).adjugate()
    dH = sp.diag(F["dH1"], F["dH2"])
    slope = (adj * dH).trace()
    G = _g_table(F)

    def gvec(a: str) -> sp.Matrix:
        return sp.Matrix([[G.get((a, pj), 0) for pj in _P]])

    def form(a: str, b: str) -> sp.Expr:
        return (gvec(a) * adj * gvec(b).T)[0, 0] / slope

    def correction(h_theta: sp.Expr, names: tuple[str, str]) -> sp.Expr:
        return (adj * sp.diag(F[names[0]], F[names[1]])).trace() / slope - h_theta

    return _assemble(_Bilinear(form, correction))


def full_width_terms() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """``(Gamma, trace, frob)`` of one direction when the bottleneck keeps everything.

    ``k = min(d, N)``: ``Pi_k F = F`` (``F`` maps into the range of ``A``, which is the range
    of ``S``), so the kept bilinear forms are plain inner products and there is no Ky Fan term.
    With ``psi2 = <psi^2>`` and ``e3 = <x^2/(x + lam)^3>``: ``P1^T P1 = psi2``,
    ``P2^T P2 = gp``, ``R1^T P1 = -gp/c``, ``S1^T P1 = -e3``, ``Q2^T P2 = c e3``. This also
    keeps an outlier eigenvalue of ``S`` *below* the bulk, which exists for strong directions
    (as at ``lambda = 0``, docs/skip_under.md) and which the kept-part integral of a narrower
    bottleneck correctly leaves out.
    """
    S = SR
    psi2, e3 = S.psi2, S.e3
    gram = {("P1", "P1"): psi2, ("P2", "P2"): S.gp, ("R1", "P1"): -S.gp / S.c,
            ("S1", "P1"): -e3, ("Q2", "P2"): S.c * e3}

    def form(a: str, b: str) -> sp.Expr:
        return gram.get((a, b), gram.get((b, a), sp.Integer(0)))

    return _assemble(_Bilinear(form, lambda h, names: sp.Integer(0)))


def edge_matrix() -> tuple[sp.Expr, sp.Expr]:
    """``(largest eigenvalue, determinant)`` of ``lam N`` from ``H1, H2`` (real, ``zeta > b``).

    The eigenvalues of ``lam N`` increase with ``zeta`` above the bulk and the larger one is
    positive at infinity, so an outlier exists iff it is negative at the edge ``zeta = b``;
    the outlier is its zero.
    """
    F = dict(zip([f.name for f in FORMS], form_symbols(), strict=True))
    M = _lam_n(F)
    half_tr = (M[0, 0] + M[1, 1]) / 2
    rad = sp.sqrt(((M[0, 0] - M[1, 1]) / 2) ** 2 + M[0, 1] ** 2)
    return half_tr + rad, M.det()


#: Symbols of :func:`aggregate`: the direction sums ``G = sum l_i Gamma_i``, ``Tr``, ``Fr``, the
#: bulk integrals ``T1 = T_psi``, ``T2 = T_psi2``, the test noise and the dimension.
AGG = sp.symbols("G Tr Fr T1 T2 eta2_test d")


def aggregate() -> tuple[sp.Expr, sp.Expr]:
    """``(bias, variance)`` from the direction sums and the bulk integrals.

    ``variance = eta_t^2 (T2 + Fr/d)`` and
    ``bias = G + eta_t^2 (1 - 2 T1 - 2 Tr/d)``, so that
    ``R = G + eta_t^2 (1 - 2 T1 + T2 + (Fr - 2 Tr)/d)`` (``d - 2 tr(Pi F) + tr(Pi F F^T)``).
    """
    G, Tr, Fr, T1, T2, e2t, d = AGG
    return G + e2t * (1 - 2 * T1 - 2 * Tr / d), e2t * (T2 + Fr / d)


def bulk_weights() -> tuple[sp.Expr, sp.Expr]:
    """``(psi(x), psi(x)^2)``: the bulk integrands of ``tr(Pi F)/d`` and ``||W||_F^2/d``."""
    return PSI, PSI**2


# ============================================================================================
# kernels (rendered into rmtrisk/_kernels.py by rmtrisk._codegen)
# ============================================================================================
def _skip_ridge_kernels() -> list[KernelSpec]:
    Z = SR
    forms = form_symbols()
    scalars = (Z.pbar, Z.q, Z.sigma, Z.lam, Z.r, Z.gp, Z.h1)
    return [
        KernelSpec("skip_ridge_constants", (Z.c, Z.lam), constants,
                   "(1 - p, q, <(x + lam)^-2>, c <x/(x + lam)^2>) at -lam, without cancellation."),
        KernelSpec("skip_ridge_smooth", (Z.x, Z.zeta, Z.lam, Z.c),
                   lambda: tuple(smooth_part(f.name) for f in FORMS),
                   "Smooth integrands of the eleven kept-spectrum averages at eigenvalue x."),
        KernelSpec("skip_ridge_poles", (Z.zeta, Z.lam, Z.c),
                   lambda: (tuple(pole_coefficients(f.name)[0] for f in FORMS)
                            + tuple(pole_coefficients(f.name)[1] for f in FORMS
                                    if f.power == 2)),
                   "A of each average, then B of the squared ones: <form> = <smooth> + A m + B m'"),
        KernelSpec("skip_ridge_boundary_m", (Z.zeta, Z.c), boundary_stieltjes,
                   "(m, m') at zeta + i0 inside the support of the law of A A^T.",
                   complex_=True),
        KernelSpec("skip_ridge_bulk", (Z.x, Z.lam), bulk_weights,
                   "(psi, psi^2) = (x/(x + lam), (x/(x + lam))^2)."),
        KernelSpec("skip_ridge_node", forms + scalars, direction_integrands,
                   "Complex integrands J of (Gamma, trace, frob) of one direction at zeta + i0.",
                   complex_=True),
        KernelSpec("skip_ridge_outlier", forms + scalars, outlier_terms,
                   "Residues (Gamma, trace, frob) of one direction at an outlier zeta_o."),
        KernelSpec("skip_ridge_full_width",
                   (Z.pbar, Z.q, Z.sigma, Z.lam, Z.r, Z.gp, Z.psi2, Z.e3, Z.c),
                   full_width_terms,
                   "(Gamma, trace, frob) of one direction when the bottleneck keeps everything."),
        KernelSpec("skip_ridge_aggregate", AGG, aggregate,
                   "(bias, variance) from the direction sums G, Tr, Fr and the bulk T1, T2."),
        KernelSpec("skip_ridge_edge", (forms[0], forms[1], Z.pbar, Z.q, Z.sigma, Z.lam),
                   edge_matrix,
                   "(largest eigenvalue, determinant) of lam N (outlier test and root)."),
    ]


KERNELS: tuple[KernelSpec, ...] = tuple(_skip_ridge_kernels())


# ============================================================================================
# LaTeX (docs/engine.md)
# ============================================================================================
def latex_skip_ridge() -> dict[str, str]:
    """Skip connection at ``lambda > 0``: resolvent split, averages, coefficients, constants."""
    Z = SR
    names = {Z.lam: r"\lambda", Z.zeta: r"\zeta", Z.pbar: r"\bar p", Z.sigma: r"\sigma",
             Z.gp: "g'", Z.h1: r"\psi(\theta)"}

    def tex(e: sp.Expr) -> str:
        return sp.latex(e, symbol_names=names)

    x = Z.x
    forms = r",\quad ".join(
        rf"{f.name} = \left\langle {tex(f.numerator)}\,"
        rf"\frac{{1}}{{(\phi(x) - \phi(\zeta))^{{{f.power}}}}} \right\rangle"
        for f in FORMS)
    pbar, q, r, gp = constants()
    t = Z.sigma**2
    D0 = 1 + Z.pbar * Z.q * t
    M = sp.Matrix([[-Z.lam * Z.q * t, Z.sigma], [Z.lam * Z.sigma, Z.pbar * t]])
    lamN = sp.Matrix([[-Z.pbar + Z.lam * sp.Symbol("H1"), 1 / Z.sigma],
                      [1 / Z.sigma, Z.q + Z.lam * sp.Symbol("H2")]])
    return {
        "resolvent": (r"\phi(x) - \phi(\zeta) = \frac{(x - \zeta)(x - w)}{x + \lambda},\quad "
                      r"w = " + tex(W_ROOT) + r",\quad \phi(x) = " + tex(x**2 / (x + Z.lam))
                      + r",\quad \psi(x) = " + tex(PSI)),
        "averages": forms,
        "constants": (r"\bar p = 1 - \langle\psi\rangle = " + tex(pbar)
                      + r",\quad q = " + tex(q) + r",\quad r = " + tex(r)
                      + r",\quad g' = " + tex(gp)),
        "coefficients": (r"D_0 = " + tex(D0) + r",\quad M = \frac{1}{D_0}" + tex(M)
                         + r",\quad \lambda N = " + tex(lamN)),
        "kept": (r"a^\top \Pi_k b = \frac{1}{\pi}\int_\theta^b "
                 r"\operatorname{Im}\left[G(a, b) - G(a, P) N^{-1} G(P, b)\right]_{\zeta + i0}"
                 r"\phi'(\zeta)\, d\zeta + \text{outlier residue}"),
        "risk": (r"\mathcal{R} = \sum_i \ell_i \Gamma_i + \eta_{\mathrm{tst}}^2\Big[1 - 2T_\psi"
                 r" + T_{\psi^2} + \frac{1}{d}\sum_i (\mathrm{frob}_i - 2\,\mathrm{tr}_i)\Big],"
                 r"\quad T_h = \int_{x > \theta} h\, d\mu"),
    }


def latex_equations() -> dict[str, str]:
    """This regime's equations in LaTeX, by name."""
    return {f"skip_ridge_{k}": v for k, v in latex_skip_ridge().items()}
