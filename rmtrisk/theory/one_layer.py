"""Per-direction risk factors of the minimum-norm denoiser ``W = X Y^+`` (lambda = 0).

For one signal direction ``(u, v, sigma)`` with SNR ``t = sigma^2 / eta_trn^2`` the Woodbury
route (docs/theory.md §2) gives, at leading order,

* c > 1:  ``u^T W u -> Q t / (1 + Q t)`` and ``sigma^2 v^T (Y^T Y)^{-1} v -> q t / (1 + Q t)``,
  with ``q = lim eta^2 (1/N) tr (A^T A)^{-1} = c / (c - 1)`` and ``Q = (1 - N/d) q = 1``;
* c < 1:  ``u^T W u -> P t / (1 + P t)`` and ``||W||_F^2 -> (a q / t + (1 - a)^2 q_2) /
  (P + 1/t)^2``, with ``a = d/N = c``, ``q = eta^2 (1/d) tr (A A^T)^{-1} -> c / (1 - c)``,
  ``q_2 = eta^4 (1/d) tr (A A^T)^{-2} -> c^2 / (1 - c)^3`` and ``P = (1 - a) q = c``.

Per direction the bias factor is ``(1 - u^T W u)^2`` and the variance factor ``||W||_F^2`` of the
rank-one part, so ``R = sum_i l_i b_i + (eta_tst^2 / d) sum_i v_i`` (Sonthalia & Nadakuditi,
TMLR 2023). These factors are derived by sympy in :mod:`rmtrisk.symbolic.woodbury` and
evaluated by the generated kernels ``one_layer_factors_c_gt_1`` / ``one_layer_factors_c_lt_1``
of :mod:`rmtrisk._kernels`; this module only supplies ``(a, q, q_2)``.

The *finite-size* variant replaces the limits of ``q`` and ``q_2`` by the exact
Gaussian expectations ``E tr (A^T A)^{-1} = d^2 N / (eta^2 d (d - N - 1))`` and the
inverse-Wishart moments ``E W^{-1} = I / (n - p - 1)``,
``E W^{-2} = (n - 1) I / ((n - p)(n - p - 1)(n - p - 3))``, keeping ``a = N/d`` (resp. ``d/N``)
exact. That is the dominant finite-size correction near ``c = 1``.
"""

from __future__ import annotations

import numpy as np

from .. import _kernels as K

__all__ = ["direction_factors", "resolvent_moments"]


def resolvent_moments(d: int, n: int, finite_size: bool = False) -> tuple[float, float, float]:
    """``(a, q, q2)`` of the side of ``c = d/n`` in use, in units of ``eta_trn^2 = 1``.

    With ``Q`` the inverse of the small Gram matrix of the noise (``(A^T A)^{-1}`` for
    ``c > 1``, ``(A A^T)^{-1}`` for ``c < 1``): ``a`` the projection mass ``small / big``,
    ``q = (1/small) tr Q`` and ``q2 = (1/small) tr Q^2`` — their limits, or with ``finite_size``
    the exact Gaussian (inverse-Wishart) expectations. ``inf`` marks an infinite expectation.
    """
    big, small = max(d, n), min(d, n)
    gap = big - small
    if finite_size:
        q = d / (gap - 1) if gap - 1 > 0 else np.inf
        q2 = d**2 * (big - 1) / (gap * (gap - 1) * (gap - 3)) if gap - 3 > 0 else np.inf
    else:
        q = d / gap
        q2 = d**2 * big / gap**3
    return small / big, q, q2


def direction_factors(t: np.ndarray, d: int, n: int, finite_size: bool = False
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Bias and variance factors ``(b_i, v_i)`` of the minimum-norm denoiser, per direction.

    Parameters
    ----------
    t : ndarray
        Training SNRs ``sigma_i^2 / eta_trn^2`` (> 0).
    d, n : int
        Dimension and sample size (``c = d / n != 1``).
    finite_size : bool
        Use exact Gaussian finite-``d`` expectations of the resolvent moments.

    Returns
    -------
    b, v : ndarray
        ``R = sum_i l_i b_i + (eta_tst^2 / d) sum_i v_i`` for the directions kept.
    """
    t = np.asarray(t, dtype=float)
    a, q, q2 = (float(x) for x in resolvent_moments(d, n, finite_size))
    kernel = K.one_layer_factors_c_gt_1 if d > n else K.one_layer_factors_c_lt_1
    b = np.empty_like(t)
    v = np.empty_like(t)
    with np.errstate(invalid="ignore", divide="ignore"):
        for i, ti in np.ndenumerate(t):
            b[i], v[i] = kernel(float(ti), a, q, q2)
    if not np.isfinite(q):
        b = np.zeros_like(t)
        v = np.full_like(t, np.inf)
    return b, v
