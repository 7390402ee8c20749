"""The generator: render the symbolic layer into ``rmtrisk/_kernels.py`` and ``docs/engine.md``.

Run ``python -m rmtrisk._codegen`` to regenerate the committed module, and
``python -m rmtrisk._codegen --check`` to verify it is up to date (exit status 1 if not).
``--docs`` also rewrites the generated-equations block of ``docs/engine.md``.

Each kernel is a plain function of scalars decorated with
``@numba.njit(cache=True, error_model="numpy")`` (division by zero gives ``inf``/``nan`` instead
of raising), whose body is the common-subexpression-eliminated sympy expression printed with
``math.`` (real kernels) or ``cmath.`` (complex kernels) calls. The same expressions are
evaluated at arbitrary precision by :func:`rmtrisk.symbolic.mpmath_function`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from ..symbolic import KERNELS, KernelSpec, equations_markdown

__all__ = ["kernel_path", "main", "render_docs", "render_kernels"]

HEADER = '''\
"""Numba scalar kernels GENERATED from the sympy expressions of ``rmtrisk.symbolic``.

DO NOT EDIT: regenerate with ``python -m rmtrisk._codegen``
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


class KernelPrinter(PythonCodePrinter):
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
    printer = KernelPrinter(spec.complex_)
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


def _docs_path() -> Path:
    return Path(__file__).resolve().parents[2] / "docs" / "engine.md"


BEGIN_MARK = "<!-- BEGIN GENERATED EQUATIONS (python -m rmtrisk._codegen --docs) -->"
END_MARK = "<!-- END GENERATED EQUATIONS -->"


def render_docs(text: str) -> str:
    """``text`` (docs/engine.md) with the generated-equations block replaced."""
    head, sep, rest = text.partition(BEGIN_MARK)
    if not sep:
        raise ValueError(f"marker {BEGIN_MARK!r} not found")
    _, sep2, tail = rest.partition(END_MARK)
    if not sep2:
        raise ValueError(f"marker {END_MARK!r} not found")
    return head + BEGIN_MARK + "\n\n" + equations_markdown() + "\n" + END_MARK + tail


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: write (or ``--check``) the generated files."""
    parser = argparse.ArgumentParser(prog="python -m rmtrisk._codegen",
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
                print(f"{path} is stale: run python -m rmtrisk._codegen", file=sys.stderr)
                status = 1
        elif current != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
        else:
            print(f"{path} is up to date")
    return status
