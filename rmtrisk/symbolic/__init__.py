"""Symbolic layer (sympy only): the equations behind every risk formula.

One module per regime, each defining its equations as sympy expressions, the ``KERNELS`` the
generator renders into :mod:`rmtrisk._kernels`, and ``latex_equations()`` for the docs:

* :mod:`.marchenko_pastur` — the noise law: Stieltjes equation and physical root, edges,
  density, tail mass, closed-form truncated moments and the threshold's edge asymptotics;
* :mod:`.skip` — skip connection, ``c > 1``, ``lambda = 0`` (proportional bottleneck);
* :mod:`.woodbury` — the per-direction Woodbury derivation: one-layer factors (regimes
  ``one-layer`` and ``bottleneck``) on both sides of ``c = 1`` and the fixed-``k`` skip identities;
* :mod:`.ridge` — no skip connection, ``lambda > 0``;
* :mod:`.skip_under` — skip connection, ``c < 1``, ``lambda = 0``;
* :mod:`.skip_ridge` — skip connection, ``lambda > 0`` (kept-spectrum contour integrands);
* :mod:`.gradient_flow` — the one-layer DAE trained by gradient flow for time ``t`` (spectral
  measures of one direction: Cauchy-form bulk densities and the BBP outlier atoms);
* :mod:`.symbols` — the symbol table shared by :mod:`.ridge` and :mod:`.skip_under`;
  :mod:`.kernel` — :class:`KernelSpec`.

:data:`KERNELS` lists every kernel in the order of ``rmtrisk/_kernels.py``;
:func:`mpmath_function` evaluates one of them in mpmath at any precision (the engine's reference
path); the generator is :mod:`rmtrisk._codegen`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import sympy as sp

from . import gradient_flow, marchenko_pastur, ridge, skip, skip_ridge, skip_under, woodbury
from .kernel import KernelSpec
from .marchenko_pastur import SYMBOLS, MPLaw

__all__ = ["KERNELS", "KernelSpec", "MPLaw", "SYMBOLS", "equations_markdown", "gradient_flow",
           "latex_equations", "marchenko_pastur", "mpmath_function", "ridge", "skip", "skip_ridge",
           "skip_under", "woodbury"]

#: The modules whose kernels and equations make up the generated files, in their order.
_MODULES = (marchenko_pastur, skip, woodbury, ridge, skip_under, skip_ridge, gradient_flow)

#: Every generated kernel, in the order of ``rmtrisk/_kernels.py``.
KERNELS: tuple[KernelSpec, ...] = tuple(spec for module in _MODULES for spec in module.KERNELS)


@functools.cache
def mpmath_function(name: str) -> Callable[..., object]:
    """The kernel ``name`` as an mpmath function (same expressions, arbitrary precision).

    Evaluates at the ambient ``mpmath.mp.dps``; returns a tuple for multi-output kernels.
    """
    spec = {k.name: k for k in KERNELS}[name]
    exprs = spec.exprs
    return sp.lambdify(spec.args, exprs[0] if len(exprs) == 1 else exprs, modules="mpmath")


def latex_equations() -> dict[str, str]:
    """Every derived equation in LaTeX, by name (the modules' ``latex_equations`` merged)."""
    out: dict[str, str] = {}
    for module in _MODULES:
        out.update(module.latex_equations())
    return out


def equations_markdown() -> str:
    """Markdown list of :func:`latex_equations` as display math (for docs/engine.md)."""
    lines = []
    for name, tex in latex_equations().items():
        lines += [f"**{name}**", "", "$$", tex, "$$", ""]
    return "\n".join(lines)
