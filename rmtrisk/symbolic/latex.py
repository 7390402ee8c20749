"""LaTeX renderings of the derived equations (strings; used by ``docs/engine.md``).

Every function returns a LaTeX string produced by :func:`sympy.latex` from the same expressions
that feed the generated kernels, written with readable auxiliary symbols (``a``, ``b``,
``\\theta``, ``\\varphi``, ``\\sqrt{R}``) where the fully expanded form would be unreadable.
"""

from __future__ import annotations

import sympy as sp

from . import marchenko_pastur as mpl
from . import regimes as rg
from . import risk as rk
from . import skip_ridge as sr
from . import woodbury as wb

__all__ = [
    "latex_density",
    "latex_edges",
    "latex_equations",
    "latex_ridge",
    "latex_skip_under",
    "latex_skip_ridge",
    "latex_skip_risk",
    "latex_stieltjes_derivative",
    "latex_stieltjes_equation",
    "latex_stieltjes_root",
    "latex_threshold",
    "latex_truncated_moment",
    "latex_woodbury",
    "equations_markdown",
]

S = mpl.SYMBOLS
_a, _b, _t = sp.symbols("a b t", positive=True)
_theta, _phi = sp.symbols("theta varphi", nonnegative=True)
_R = sp.Symbol("R", nonnegative=True)
_AUX = mpl._Aux(_a, _b, sp.sqrt(_a), sp.sqrt(_b), _t, sp.sqrt(_R), _theta, _phi)
_ORDER = {"order": "none"}


def latex_stieltjes_equation() -> str:
    """The Stieltjes (self-consistent) equation."""
    return sp.latex(mpl.stieltjes_equation(), **_ORDER)


def latex_stieltjes_root() -> str:
    """The physical root, with the branch of the square root spelled out."""
    z, m = S.z, S.m
    a, b = _a, _b
    B = S.s * S.gammabar - z
    root = (B + sp.Symbol(r"\sqrt{z - a}\,\sqrt{z - b}")) / (2 * S.gamma * S.s * z)
    stable = 2 / (B - sp.Symbol(r"\sqrt{z - a}\,\sqrt{z - b}"))
    del a, b
    return sp.latex(m) + " = " + sp.latex(root) + " = " + sp.latex(stable)


def latex_stieltjes_derivative() -> str:
    """``m'(z)`` by implicit differentiation."""
    return r"m'(z) = " + sp.latex(mpl.stieltjes_derivative())


def latex_edges() -> str:
    """Support edges and the atom."""
    a, b = mpl.edges()
    return (r"a = " + sp.latex(a) + r",\quad b = " + sp.latex(b)
            + r",\quad \mu(\{0\}) = " + sp.latex(mpl.atom_mass()))


def latex_density() -> str:
    """Density of the continuous part."""
    f = sp.sqrt(_b - S.x) * sp.sqrt(S.x - _a) / (2 * sp.pi * S.gamma * S.s * S.x)
    return r"f(x) = " + sp.latex(f) + r"\quad (a < x < b)"


def latex_truncated_moment(p: int) -> str:
    """``T_p(t)`` in the angle parametrization (``a <= t <= b``)."""
    terms = mpl.moment_integrand_terms(p - 1, _AUX)
    body = sp.Add(*terms, evaluate=False)
    pref = sp.latex(1 / (2 * sp.pi * S.gamma * S.s))
    return rf"T_{{{p}}}(t) = {pref}\left({sp.latex(body, **_ORDER)}\right)"


def latex_threshold() -> str:
    """Angle definitions and the threshold equation."""
    theta = 2 * sp.atan2(sp.sqrt(_b - _t), sp.sqrt(_t - _a))
    phi = sp.atan2(sp.sqrt(_a * (_b - _t)), sp.sqrt(_b * (_t - _a)))
    return (r"R = (b - t)(t - a),\quad \theta = " + sp.latex(theta)
            + r",\quad \varphi = " + sp.latex(phi)
            + r";\qquad \mu((t_\star, \infty)) = T_0(t_\star) = \mathrm{mass},"
            + r"\quad F'(t) = -f(t)")


def latex_skip_risk() -> dict[str, str]:
    """The per-direction terms and the aggregate of the proportional skip risk."""
    K = rk.SKIP
    names = {K.eta2_train: r"\eta_{\mathrm{trn}}^2", K.eta2_test: r"\eta_{\mathrm{tst}}^2"}

    def tex(e: sp.Expr) -> str:
        return sp.latex(e, symbol_names=names)

    gamma_i, _, frob_i, _, trace_i, _ = rk.skip_direction_terms()
    risk, bias, var = rk.skip_aggregate()
    return {
        "law": (r"\mu = \mathrm{MP}\left(\gamma = 1/c,\ \bar{\gamma} = (c - 1)/c,\ s = "
                + names[K.eta2_train] + r"\right),\quad \mu((t_\star, \infty)) = \kappa c,"
                r"\quad T = T_{-1}(t_\star)"),
        "Gamma_i": r"\Gamma_i = " + tex(gamma_i),
        "frob_i": r"\|W\|_F^2 = \kappa d + \sum_i \left(" + tex(frob_i) + r"\right)",
        "trace_i": r"\operatorname{tr} W = -\kappa d + \sum_i " + tex(trace_i),
        "sums": r"G = \sum_i \ell_i \Gamma_i,\quad F = \|W\|_F^2 - \kappa d,\quad "
                r"\mathrm{Tr} = \operatorname{tr} W + \kappa d",
        "risk": r"\mathcal{R} = " + tex(risk),
        "bias": r"\mathrm{bias} = " + tex(bias),
        "variance": r"\mathrm{variance} = " + tex(var),
        "kappa_to_0": r"T \to " + tex(rk.skip_fixed_k_moment()) + r"\quad(\kappa \to 0)",
    }


def latex_woodbury() -> dict[str, str]:
    """Per-direction Woodbury derivation: core matrix, one-layer factors, skip terms (eta = 1)."""
    W = wb.WB
    conc = wb.one_layer_concentration("over")
    core = wb.core_matrix(wb.quadratic_form_matrix("z")).subs(conc).subs(sp.sqrt(W.t), W.sigma)
    out = {
        "core": (r"C = " + sp.latex(wb.coupling_matrix()) + r",\quad M = C^{-1} + "
                 r"\operatorname{diag}(a, q) = " + sp.latex(core)),
    }
    names = {"over": "c_gt_1", "under": "c_lt_1"}
    for side in wb.SIDES:
        align = wb.one_layer_derived(side)[0]
        b, v = wb.one_layer_factors(side)
        lim = wb.one_layer_limits(side)
        sn_b, sn_v = wb.sonthalia_nadakuditi(side)
        out[f"one_layer_{names[side]}"] = (
            r"u^\top W u = " + sp.latex(align) + r",\quad b = (1 - u^\top W u)^2 = "
            + sp.latex(b) + r",\quad v = \|W\|_F^2 = " + sp.latex(v))
        out[f"one_layer_{names[side]}_limit"] = (
            ",\\ ".join(sp.latex(k) + " = " + sp.latex(x) for k, x in lim.items())
            + r"\ \Rightarrow\ b = " + sp.latex(sn_b) + r",\quad v = " + sp.latex(sn_v))
    gamma, frob, trace = wb.skip_derived()
    out["skip_woodbury"] = (
        r"\|W u_i\|^2 = " + sp.latex(gamma) + r",\quad \|W\|_F^2 = \kappa d + \sum_i "
        + sp.latex(frob) + r",\quad \operatorname{tr} W = -\kappa d + \sum_i " + sp.latex(trace))
    gamma, frob, trace = wb.skip_fixed_k_closed_form()
    out["skip_fixed_k"] = (
        r"T = " + sp.latex(wb.skip_fixed_k_moment_unit()) + r":\quad \|W u_i\|^2 = "
        + sp.latex(gamma) + r",\quad \mathrm{frob}_i = " + sp.latex(frob)
        + r",\quad \mathrm{trace}_i = " + sp.latex(trace))
    return out


def latex_ridge() -> dict[str, str]:
    """Ridge (no skip, ``lambda > 0``) resolvent moments, per-direction factors and aggregate."""
    R = rg.REG
    names = {R.lam: r"\lambda", R.gprime: "g'", R.eta2_test: r"\eta_{\mathrm{tst}}^2",
             R.Bk: r"B_{\mathrm{kept}}", R.Bd: r"B_{\mathrm{drop}}"}

    def tex(e: sp.Expr) -> str:
        return sp.latex(e, symbol_names=names)

    g, gp = rg.ridge_moments()
    s_sym = sp.Symbol("s", positive=True)
    s_expr = g / gp
    b, v = rg.ridge_direction_factors()
    risk, bias, var = rg.ridge_aggregate()
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


def latex_skip_under() -> dict[str, str]:
    """Skip connection for ``c < 1``: pole terms, shifted semicircle integral, overlaps, risk."""
    R = rg.REG
    names = {R.eta2_test: r"\eta_{\mathrm{tst}}^2", R.pi0: r"\pi_0", R.pi1: r"\pi_1",
             R.theta: r"\theta", R.kappa: r"\kappa", R.Vp: r"V_\pi"}

    def tex(e: sp.Expr) -> str:
        return sp.latex(e, symbol_names=names)

    a, b = rg.skip_under_edges()
    delta, one_delta, x0, ra, rb = rg.skip_under_pole_terms()
    A, B, X0 = sp.symbols("a b x_0", positive=True)
    RA, RB = sp.Symbol(r"\sqrt{a - x_0}", positive=True), sp.Symbol(r"\sqrt{b - x_0}",
                                                                       positive=True)
    parts = rg.semicircle_in(A, B, X0, RA, RB, R.theta)
    Gs, dGs = sp.Symbol(r"\mathcal{G}(x_0)"), sp.Symbol(r"\mathcal{G}'")
    VT, PH = sp.Symbol(r"\vartheta"), sp.Symbol(r"\varphi")
    readable = {parts["vartheta"] / 2: VT / 2, parts["phi"]: PH}

    def short(e: sp.Expr) -> str:
        return tex(e.subs(readable))

    p0, p1 = rg.skip_under_edge_overlaps()
    gamma, tr, frob, vpi0 = rg.skip_under_direction_terms()
    risk, bias, var = rg.skip_under_aggregate()
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


def latex_skip_ridge() -> dict[str, str]:
    """Skip connection at ``lambda > 0``: resolvent split, averages, coefficients, constants."""
    Z = sr.SR
    names = {Z.lam: r"\lambda", Z.zeta: r"\zeta", Z.pbar: r"\bar p", Z.sigma: r"\sigma",
             Z.gp: "g'", Z.h1: r"\psi(\theta)"}

    def tex(e: sp.Expr) -> str:
        return sp.latex(e, symbol_names=names)

    x = Z.x
    forms = r",\quad ".join(
        rf"{f.name} = \left\langle {tex(f.numerator)}\,"
        rf"\frac{{1}}{{(\phi(x) - \phi(\zeta))^{{{f.power}}}}} \right\rangle"
        for f in sr.FORMS)
    pbar, q, r, gp = sr.constants()
    t = Z.sigma**2
    D0 = 1 + Z.pbar * Z.q * t
    M = sp.Matrix([[-Z.lam * Z.q * t, Z.sigma], [Z.lam * Z.sigma, Z.pbar * t]])
    lamN = sp.Matrix([[-Z.pbar + Z.lam * sp.Symbol("H1"), 1 / Z.sigma],
                      [1 / Z.sigma, Z.q + Z.lam * sp.Symbol("H2")]])
    return {
        "resolvent": (r"\phi(x) - \phi(\zeta) = \frac{(x - \zeta)(x - w)}{x + \lambda},\quad "
                      r"w = " + tex(sr.W_ROOT) + r",\quad \phi(x) = " + tex(x**2 / (x + Z.lam))
                      + r",\quad \psi(x) = " + tex(sr.PSI)),
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
    """Every derived equation, by name."""
    out = {
        "stieltjes_equation": latex_stieltjes_equation(),
        "stieltjes_root": latex_stieltjes_root(),
        "stieltjes_derivative": latex_stieltjes_derivative(),
        "edges": latex_edges(),
        "density": latex_density(),
        "threshold": latex_threshold(),
    }
    for p in mpl.MOMENT_ORDERS:
        out[f"T_{p}"] = latex_truncated_moment(p)
    out.update({f"skip_{k}": v for k, v in latex_skip_risk().items()})
    out.update({f"woodbury_{k}": v for k, v in latex_woodbury().items()})
    out.update({f"ridge_{k}": v for k, v in latex_ridge().items()})
    out.update({f"skip_under_{k}": v for k, v in latex_skip_under().items()})
    out.update({f"skip_ridge_{k}": v for k, v in latex_skip_ridge().items()})
    return out


def equations_markdown() -> str:
    """Markdown list of :func:`latex_equations` as display math (for docs/engine.md)."""
    lines = []
    for name, tex in latex_equations().items():
        lines += [f"**{name}**", "", "$$", tex, "$$", ""]
    return "\n".join(lines)
