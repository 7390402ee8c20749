"""One algorithm, two precisions: a loop body compiled by numba or run in mpmath.

A loop body is a plain Python function written against a small vocabulary of globals: the
generated kernels as ``K.<name>``, ``isfinite``, ``inf`` and ``nan``, and ``eps`` (the unit
roundoff) as an argument. :func:`compiled` turns it into a cached numba function with those
globals bound to :mod:`rmtrisk._kernels` and :mod:`math`; :func:`reference` runs the *same
code object* with them bound to mpmath: the kernels become the sympy expressions they were
generated from, evaluated at the ambient ``mpmath.mp.dps``. A control-flow fix in a body is made
once and holds in both precisions.

sympy is imported lazily, on the first reference call (``import rmtrisk`` stays light).
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
from numba import njit

__all__ = ["EPS", "MPMATH_KERNELS", "check_dps", "compiled", "mp_call", "mp_scalar",
           "mp_scalars", "reference"]

#: Unit roundoff of float64 (the ``eps`` argument of the compiled bodies).
EPS = float(np.finfo(float).eps)


def compiled(body: Callable[..., Any]) -> Any:
    """numba-compile a loop body (``cache=True``, numpy error model: 1/0 gives inf)."""
    return njit(cache=True, error_model="numpy")(body)


@functools.cache
def _kernel(name: str) -> Callable[..., Any]:
    # lazy heavy import: sympy is needed only by the high-precision path
    from ..symbolic import mpmath_function

    f = mpmath_function(name)

    def call(*args: Any) -> Any:
        try:
            return f(*args)
        except ZeroDivisionError:  # the float64 kernels give inf/nan under numpy's model
            return mpmath.nan

    call.__name__ = name
    return call


class _MpmathKernels:
    """``K.<name>``: the kernel ``name`` as an mpmath function (a division by zero is nan)."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("__"):
            raise AttributeError(name)
        return _kernel(name)


#: The kernels namespace of the reference bodies.
MPMATH_KERNELS = _MpmathKernels()

_MPMATH_GLOBALS = {"K": MPMATH_KERNELS, "isfinite": mpmath.isfinite, "inf": mpmath.inf,
                   "nan": mpmath.nan}


def mp_call(name: str, *args: Any) -> Any:
    """Evaluate the kernel ``name`` in mpmath (a division by zero gives ``nan``)."""
    return _kernel(name)(*args)


def reference(body: Callable[..., Any], **overrides: Any) -> Callable[..., Any]:
    """The loop ``body`` run in mpmath: same code, mpmath kernels and constants.

    ``overrides`` rebind further globals of the body (e.g. a compiled helper to its own
    reference). The function is assembled on first call, when the body's module is complete.
    """
    @functools.cache
    def build() -> Callable[..., Any]:
        names = {**body.__globals__, **_MPMATH_GLOBALS, **overrides}
        return types.FunctionType(body.__code__, names, f"{body.__name__}_reference",
                                  body.__defaults__, body.__closure__)

    @functools.wraps(body)
    def run(*args: Any) -> Any:
        return build()(*args)

    run.__name__ = run.__qualname__ = f"{body.__name__}_reference"
    return run


def mp_scalar(name: str, value: Any) -> mpmath.mpf:
    """A finite real scalar as an exact ``mpf`` (a ``ValueError`` naming ``name`` otherwise)."""
    if isinstance(value, mpmath.mpf):
        return value
    arr = np.asarray(value, dtype=float)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a scalar in the mpmath path, got shape {arr.shape}")
    if not np.isfinite(arr):
        raise ValueError(f"{name} must be finite (no NaN or inf), got {value!r}")
    return mpmath.mpf(float(arr))


def mp_scalars(**values: Any) -> None:
    """Check that every named value is a scalar (one cell of the reference path)."""
    for name, v in values.items():
        if np.ndim(v) != 0:
            raise ValueError(f"{name} must be a scalar in the mpmath path, got {v!r}")


def check_dps(dps: Any) -> int:
    """Validate a working precision in decimal digits (``>= 15``)."""
    if isinstance(dps, bool) or not isinstance(dps, (int, np.integer)) or dps < 15:
        raise ValueError(f"dps must be an integer >= 15, got {dps!r}")
    return int(dps)
