"""Quadrature rules shared by the corrections."""

from __future__ import annotations

from functools import cache

import numpy as np

__all__ = ["gauss_legendre"]


@cache
def gauss_legendre(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes and weights on ``[-1, 1]``, computed once per size (read-only)."""
    x, w = np.polynomial.legendre.leggauss(nodes)
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w
