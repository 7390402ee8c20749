"""Render the symbolic expressions into ``rmtrisk/_kernels.py`` (numba scalar kernels).

Run ``python -m rmtrisk.symbolic.codegen`` to regenerate the committed module, and
``python -m rmtrisk.symbolic.codegen --check`` to verify it is up to date (exit status 1 if
not). ``--docs`` also rewrites the generated-equations block of ``docs/engine.md``.

Each kernel is a plain function of scalars decorated with
``@numba.njit(cache=True, error_model="numpy")`` (division by zero gives ``inf``/``nan`` instead
of raising), whose body is the common-subexpression-eliminated sympy expression printed with
``math.`` (real kernels) or ``cmath.`` (complex kernels) calls. The same expressions are
evaluated at arbitrary precision by :func:`mpmath_function`.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from . import marchenko_pastur as mpl
from . import regimes as rg
from . import risk as rk
from . import skip_ridge as sr
from . import woodbury as wb

__all__ = [
    "KERNELS",
    "KernelSpec",
    "kernel_path",
    "main",
    "mpmath_function",
    "render_kernels",
]

S = mpl.SYMBOLS
K = rk.SKIP
W = wb.WB
R = rg.REG
_LAW_ARGS = (S.gamma, S.gammabar, S.s)

HEADER = '''\
"""Numba scalar kernels GENERATED from the sympy expressions of ``rmtrisk.symbolic``.

DO NOT EDIT: regenerate with ``python -m rmtrisk.symbolic.codegen``
(``tests/test_kernels.py`` fails when this file is stale).

Marchenko–Pastur kernels take the law as ``(gamma, gammabar, s)`` with ``gammabar = 1 - gamma``
passed separately (exact when ``gamma = 1/c``: ``gammabar = (c - 1)/c``).
"""

# ruff: noqa
# fmt: off
from __future__ import annotations

import cmath
import math

from numba import njit

'''


@dataclass(frozen=True)
class KernelSpec:
    """One generated kernel.

    Attributes
    ----------
    name : str
        Function name in ``rmtrisk._kernels``.
    args : tuple of Symbol
        Positional arguments, in order.
    build : callable
        Returns the output expressions (a tuple; one element gives a scalar return).
    doc : str
        One-line docstring.
    complex_ : bool
        Print ``sqrt`` as ``cmath.sqrt`` (complex arguments).
    """

    name: str
    args: tuple[sp.Symbol, ...]
    build: Callable[[], tuple[sp.Expr, ...]]
    doc: str
    complex_: bool = False

    @functools.cached_property
    def exprs(self) -> tuple[sp.Expr, ...]:
        """The output expressions."""
        return tuple(self.build())


def _moment_kernels() -> list[KernelSpec]:
    out = []
    for p in mpl.MOMENT_ORDERS:
        tag = f"m{-p}" if p < 0 else str(p)
        out.append(KernelSpec(
            f"mp_moment_{tag}", (S.t,) + _LAW_ARGS,
            functools.partial(lambda p: (mpl.truncated_moment(p),), p),
            f"Truncated moment T_{p}(t) = int_{{x > t}} x^{p} dmu(x) (closed form, any real t).",
        ))
        out.append(KernelSpec(
            f"mp_moment_scale_{tag}", (S.t,) + _LAW_ARGS,
            functools.partial(lambda p: (_clamped(mpl.truncated_moment_scale(p)),), p),
            f"Sum of |terms| of T_{p}(t) (eps times this bounds its rounding error).",
        ))
    return out


def _clamped(expr: sp.Expr) -> sp.Expr:
    a, b = mpl.edges()
    return expr.subs(S.t, sp.Min(sp.Max(S.t, a), b))


def _skip_ridge_kernels() -> list[KernelSpec]:
    Z = sr.SR
    forms = sr.form_symbols()
    scalars = (Z.pbar, Z.q, Z.sigma, Z.lam, Z.r, Z.gp, Z.h1)
    return [
        KernelSpec("skip_ridge_constants", (Z.c, Z.lam), sr.constants,
                   "(1 - p, q, <(x + lam)^-2>, c <x/(x + lam)^2>) at -lam, without cancellation."),
        KernelSpec("skip_ridge_smooth", (Z.x, Z.zeta, Z.lam, Z.c),
                   lambda: tuple(sr.smooth_part(f.name) for f in sr.FORMS),
                   "Smooth integrands of the eleven kept-spectrum averages at eigenvalue x."),
        KernelSpec("skip_ridge_poles", (Z.zeta, Z.lam, Z.c),
                   lambda: (tuple(sr.pole_coefficients(f.name)[0] for f in sr.FORMS)
                            + tuple(sr.pole_coefficients(f.name)[1] for f in sr.FORMS
                                    if f.power == 2)),
                   "A of each average, then B of the squared ones: <form> = <smooth> + A m + B m'"),
        KernelSpec("skip_ridge_boundary_m", (Z.zeta, Z.c), sr.boundary_stieltjes,
                   "(m, m') at zeta + i0 inside the support of the law of A A^T.",
                   complex_=True),
        KernelSpec("skip_ridge_bulk", (Z.x, Z.lam), sr.bulk_weights,
                   "(psi, psi^2) = (x/(x + lam), (x/(x + lam))^2)."),
        KernelSpec("skip_ridge_node", forms + scalars, sr.direction_integrands,
                   "Complex integrands J of (Gamma, trace, frob) of one direction at zeta + i0.",
                   complex_=True),
        KernelSpec("skip_ridge_outlier", forms + scalars, sr.outlier_terms,
                   "Residues (Gamma, trace, frob) of one direction at an outlier zeta_o."),
        KernelSpec("skip_ridge_full_width",
                   (Z.pbar, Z.q, Z.sigma, Z.lam, Z.r, Z.gp, Z.psi2, Z.e3, Z.c),
                   sr.full_width_terms,
                   "(Gamma, trace, frob) of one direction when the bottleneck keeps everything."),
        KernelSpec("skip_ridge_aggregate", sr.AGG, sr.aggregate,
                   "(bias, variance) from the direction sums G, Tr, Fr and the bulk T1, T2."),
        KernelSpec("skip_ridge_edge", (forms[0], forms[1], Z.pbar, Z.q, Z.sigma, Z.lam),
                   sr.edge_matrix,
                   "(largest eigenvalue, determinant) of lam N (outlier test and root)."),
    ]


KERNELS: tuple[KernelSpec, ...] = (
    KernelSpec("mp_edges", _LAW_ARGS, lambda: mpl.edges(),
               "Support edges (a, b) = (s (1 - sqrt(gamma))^2, s (1 + sqrt(gamma))^2)."),
    KernelSpec("mp_masses", _LAW_ARGS, lambda: (mpl.atom_mass(), mpl.continuous_mass()),
               "(atom mass at 0, continuous mass)."),
    KernelSpec("mp_density", (S.x,) + _LAW_ARGS, lambda: (mpl.density(),),
               "Density of the continuous part (0 outside (a, b))."),
    KernelSpec("mp_tail_mass", (S.t,) + _LAW_ARGS, lambda: (mpl.tail_mass(),),
               "Tail mass F(t) = mu((t, inf))."),
    KernelSpec("mp_tail_mass_dt", (S.t,) + _LAW_ARGS, lambda: (mpl.tail_mass_derivative(),),
               "dF/dt = -density(t) (Newton derivative of the threshold equation)."),
    *_moment_kernels(),
    KernelSpec("mp_threshold_guess", (S.mass,) + _LAW_ARGS,
               lambda: mpl.threshold_initial_guess(),
               "Edge asymptotics (t_upper, t_lower) of the threshold F(t) = mass."),
    KernelSpec("mp_stieltjes", (S.z,) + _LAW_ARGS, lambda: (mpl.stieltjes_physical(),),
               "Physical (Herglotz) root m(z) of the Stieltjes equation, complex z.",
               complex_=True),
    KernelSpec("mp_stieltjes_real", (S.x,) + _LAW_ARGS, lambda: (mpl.stieltjes_real(),),
               "m(x) for real x outside the support (nan inside (a, b))."),
    KernelSpec("mp_stieltjes_deriv", (S.z, S.m) + _LAW_ARGS,
               lambda: (mpl.stieltjes_derivative(),),
               "m'(z) by implicit differentiation, from (z, m(z))."),
    KernelSpec("mp_stieltjes_poly", (S.z, S.m) + _LAW_ARGS,
               lambda: (mpl.stieltjes_polynomial(),
                        sp.diff(mpl.stieltjes_polynomial(), S.m)),
               "(P(z, m), dP/dm) of the Stieltjes quadratic (Newton on m)."),
    KernelSpec("skip_direction_terms", (K.sigma, K.kappa, K.c, K.eta2_train, K.T),
               rk.skip_direction_terms,
               "(Gamma, dGamma/dT, frob, dfrob/dT, trace, dtrace/dT) of one signal direction."),
    KernelSpec("skip_aggregate", (K.G, K.F, K.Tr, K.kappa, K.d, K.eta2_test),
               rk.skip_aggregate,
               "(risk, bias, variance) from the direction sums G, F, Tr."),
    KernelSpec("skip_fixed_k_moment", (K.kappa, K.c, K.eta2_train),
               lambda: (rk.skip_fixed_k_moment(),),
               "kappa -> 0 limit of T_{-1}: kappa c / (eta2_train (1 + 1/sqrt(c))^2)."),
    KernelSpec("one_layer_factors_c_gt_1", (W.t, W.a, W.q, W.q2),
               lambda: wb.one_layer_factors("over"),
               "(b, v) of one direction of W = X Y^+, c > 1 (Woodbury; q2 unused)."),
    KernelSpec("one_layer_factors_c_lt_1", (W.t, W.a, W.q, W.q2),
               lambda: wb.one_layer_factors("under"),
               "(b, v) of one direction of W = X Y^+, c < 1 (Woodbury)."),
    KernelSpec("ridge_moments", (R.c, R.lam), rg.ridge_moments,
               "Ridge (g, g') = (int x/(x+lam) dmu, int x/(x+lam)^2 dmu), law of A^T A (1/c)."),
    KernelSpec("ridge_direction_factors", (R.t, R.g, R.gprime), rg.ridge_direction_factors,
               "Ridge (b, v) = (1/(1 + g t)^2, t (1 + t) g'/(1 + g t)^2) of one direction."),
    KernelSpec("ridge_aggregate", (R.Bk, R.Bd, R.V, R.eta2_test, R.d), rg.ridge_aggregate,
               "Ridge (risk, bias, variance) from the sums Bk, Bd, V."),
    KernelSpec("skip_under_edges", (R.c,), rg.skip_under_edges,
               "Edges (a, b) of the law of A A^T (ratio c, scale 1/c)."),
    KernelSpec("skip_under_pole_terms", (R.t, R.c), rg.skip_under_pole_terms,
               "(delta, 1 + delta, x0, sqrt(a - x0), sqrt(b - x0)) of one direction, c < 1."),
    KernelSpec("skip_under_semicircle", (R.t, R.c, R.theta), rg.skip_under_semicircle,
               "(G(x0), (G(x0) - G(0))/x0) shifted semicircle integral, a <= theta <= b."),
    KernelSpec("skip_under_overlaps", (R.t, R.c, R.theta), rg.skip_under_overlaps,
               "(pi0, pi1, dpi0/dtheta, dpi1/dtheta, scale0, scale1) kept overlaps, c < 1."),
    KernelSpec("skip_under_edge_overlaps", (R.t, R.c, R.kappa), rg.skip_under_edge_overlaps,
               "kappa -> 0 overlaps (pi0, pi1) with the threshold at the upper edge, c < 1."),
    KernelSpec("skip_under_full_overlaps", (R.t, R.c), rg.skip_under_full_overlaps,
               "Full-width (kappa = 1) overlaps (1, c (1 + c t)/(1 - c)), c < 1."),
    KernelSpec("skip_under_direction_terms", (R.t, R.c, R.pi0, R.pi1),
               rg.skip_under_direction_terms,
               "(Gamma, tr, frob, v pi0) of one signal direction, skip connection, c < 1."),
    KernelSpec("skip_under_aggregate", (R.G, R.F, R.Tr, R.Vp, R.kappa, R.d, R.eta2_test),
               rg.skip_under_aggregate,
               "(risk, bias, variance) of the c < 1 skip connection from the sums G, F, Tr, Vp."),
    *_skip_ridge_kernels(),
)


class _KernelPrinter(PythonCodePrinter):
    """``math.``-qualified Python printer; ``cmath.sqrt`` for complex kernels."""

    def __init__(self, complex_: bool = False):
        super().__init__({"fully_qualified_modules": True, "standard": "python3"})
        self._sqrt = "cmath.sqrt" if complex_ else "math.sqrt"

    def _print_Pow(self, expr, rational=False):  # noqa: D102
        # x**(-n) as 1/x**n: numba raises ZeroDivisionError for 0.0**(-n) even with
        # error_model="numpy", while 1/0.0 gives inf
        if expr.exp.is_Integer and expr.exp < 0:
            return f"(1/({self._print(expr.base**(-expr.exp))}))"
        return self._hprint_Pow(expr, rational=rational, sqrt=self._sqrt)


def _render_kernel(spec: KernelSpec) -> str:
    printer = _KernelPrinter(spec.complex_)
    names = sp.numbered_symbols("_x")
    replacements, reduced = sp.cse(list(spec.exprs), symbols=names)
    lines = [
        "@njit(cache=True, error_model=\"numpy\")",
        f"def {spec.name}({', '.join(str(a) for a in spec.args)}):",
        f'    """{spec.doc}"""',
    ]
    for sym, sub in replacements:
        lines.append(f"    {sym} = {printer.doprint(sub)}")
    outs = [printer.doprint(e) for e in reduced]
    lines.append(f"    return {outs[0]}" if len(outs) == 1 else f"    return ({', '.join(outs)})")
    return "\n".join(lines) + "\n"


def render_kernels() -> str:
    """Source text of ``rmtrisk/_kernels.py``."""
    names = ", ".join(f'"{k.name}"' for k in KERNELS)
    parts = [HEADER, f"__all__ = [{names}]\n"]
    for spec in KERNELS:
        parts.append("\n\n" + _render_kernel(spec))
    return "".join(parts)


def kernel_path() -> Path:
    """Path of the committed generated module."""
    return Path(__file__).resolve().parent.parent / "_kernels.py"


@functools.cache
def mpmath_function(name: str) -> Callable[..., object]:
    """The kernel ``name`` as an mpmath function (same expressions, arbitrary precision).

    Evaluates at the ambient ``mpmath.mp.dps``; returns a tuple for multi-output kernels.
    """
    spec = {k.name: k for k in KERNELS}[name]
    exprs = spec.exprs
    f = sp.lambdify(spec.args, exprs[0] if len(exprs) == 1 else exprs, modules="mpmath")
    return f


def _docs_path() -> Path:
    return Path(__file__).resolve().parents[2] / "docs" / "engine.md"


BEGIN_MARK = "<!-- BEGIN GENERATED EQUATIONS (python -m rmtrisk.symbolic.codegen --docs) -->"
END_MARK = "<!-- END GENERATED EQUATIONS -->"


def render_docs(text: str) -> str:
    """``text`` (docs/engine.md) with the generated-equations block replaced."""
    from .latex import equations_markdown

    head, sep, rest = text.partition(BEGIN_MARK)
    if not sep:
        raise ValueError(f"marker {BEGIN_MARK!r} not found")
    _, sep2, tail = rest.partition(END_MARK)
    if not sep2:
        raise ValueError(f"marker {END_MARK!r} not found")
    return head + BEGIN_MARK + "\n\n" + equations_markdown() + "\n" + END_MARK + tail


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: write (or ``--check``) the generated files."""
    parser = argparse.ArgumentParser(prog="python -m rmtrisk.symbolic.codegen",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the committed file(s) differ from a fresh rendering")
    parser.add_argument("--docs", action="store_true",
                        help="also render the equations block of docs/engine.md")
    args = parser.parse_args(argv)
    targets = [(kernel_path(), render_kernels())]
    if args.docs:
        path = _docs_path()
        targets.append((path, render_docs(path.read_text(encoding="utf-8"))))
    status = 0
    for path, text in targets:
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if args.check:
            if current != text:
                print(f"{path} is stale: run python -m rmtrisk.symbolic.codegen", file=sys.stderr)
                status = 1
        elif current != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
        else:
            print(f"{path} is up to date")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
