"""One generated kernel: its name, arguments, expressions and docstring."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

__all__ = ["KernelSpec"]


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
