"""Risk of the skip-connection DAE for c > 1, lambda = 0 and a bottleneck k fixed as d grows.

For c > 1, ``T H T^T = A A^T``: the bottleneck keeps the top-k left singular vectors ``E_k`` of
the training noise and ``W = -E_k E_k^T A Y^+``. Per signal direction ``(u, v, sigma)`` Woodbury
on ``Y^T Y = A^T A + B C B^T`` (``B = [A^T u, v]``, MODEL.md §7) gives, with
``t = sigma^2 / eta_trn^2``, ``rho = t / (1 + t)`` and the top noise eigenvalues at the
Marchenko–Pastur edge ``lambda_+ = eta_trn^2 (1 + 1/sqrt(c))^2``:

* signal leakage ``||W u||^2 = (k/d) (1 + (sqrt(c) - 1)^2 t) / (1 + t)^2``,
* ``||W||_F^2 = k [1 + (h - g) sum_i rho_i / d]`` and ``tr W = -k [1 - g sum_i rho_i / d]``,
  with ``h = c / (c - 1)`` and ``g = c (sqrt(c) - 1) / (sqrt(c) + 1)``,

so that ``R = eta_tst^2 (1 - k/d) + sum_i l_i ||W u_i||^2 + eta_tst^2 (k/d^2)(h + g) sum rho_i``.
The finite-size variant uses ``h = d / (d - N - 1)`` (exact inverse-Wishart mean) and
``a = N/d`` exactly. The paper's ``J_sc`` and variance corrections differ: docs/paper.md.
"""

from __future__ import annotations

import numpy as np

from ..problem import Problem

__all__ = ["skip_fixed_k_risk"]


def skip_fixed_k_risk(problem: Problem, finite_size: bool = False) -> tuple[float, float]:
    """``(bias, variance)`` of the skip-connection minimizer, c > 1, lambda = 0, k fixed."""
    d, n, k, c = problem.d, problem.n, problem.k, problem.c
    t = problem.snr
    rho = t / (1 + t)
    root = np.sqrt(c)
    if finite_size:
        h = d / (d - n - 1) if d - n - 1 > 0 else np.inf
    else:
        h = c / (c - 1)
    g = c * (root - 1) / (root + 1)
    leak = (k / d) * (1 + (root - 1) ** 2 * t) / (1 + t) ** 2
    frob2 = k * (1 + (h - g) * rho.sum() / d)
    trace = -k * (1 - g * rho.sum() / d)
    eta2 = problem.eta2_test
    variance = eta2 * frob2 / d
    bias = float(np.dot(problem.test_energy_array, leak)) + eta2 * (d + 2 * trace) / d
    return bias, variance
