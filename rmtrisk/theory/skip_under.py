"""Risk of the skip-connection DAE on the underparameterized side c = d/N < 1, lambda = 0.

Derivation: ``docs/skip_under.md``. Work in ``eta_trn = 1`` units (``W`` is invariant under
rescaling ``(X, A)``), ``t_i = sigma_i^2 / eta_trn^2``. For c < 1, ``K = Y Y^T`` is invertible and

    A Y^+ = I - X Y^+ =: M,     A H A^T = M K M^T = A A^T - X (I - H) X^T,

so the minimizer is ``W = -Pi_k M``, ``Pi_k`` the projector on the top-k eigenvectors of
``Lambda' = A A^T - U D U^T``, ``D -> diag(delta_i)``, ``delta = t (1 - c) / (1 + c t)`` (a
*negative* rank-r perturbation: no outlier above the bulk; for ``t > 1/sqrt(c)`` one below it,
never kept when ``k < d``). With ``b_i = sigma_i Y^{+T} v_i`` (``b_i^T u_i -> c t/(1 + c t)``,
``||b_i||^2 -> v_i``, the one-layer variance factor of MODEL.md §5) the identities
``M u_i = u_i (1 - b_i^T u_i) + O(d^{-1/2}) span(U)``, ``tr W = -k + sum_i b_i^T Pi u_i`` and
``||W||_F^2 = k - 2 sum_i b_i^T Pi u_i + sum_i ||b_i||^2 u_i^T Pi u_i`` reduce everything to two
kept overlaps per direction (``mu`` the Marchenko–Pastur law of ``A A^T``: ratio ``c``, scale
``1/c``; ``theta`` with ``mu((theta, inf)) = kappa = k/d``):

    pi0 = u^T Pi u       -> int_{x>theta} dmu(x) / |1 - delta m(x + i0)|^2,
    pi1 = u^T Lambda'^{-1} Pi u -> int_{x>theta} x^{-1} dmu(x) / |1 - delta m(x + i0)|^2,

and ``|1 - delta m(x)|^2 = (1 + delta)(x - x0)/x`` on the support, with the pole
``x0 = t (1 - c)^2 / (c (1 + c t)(1 + t)) <= a`` (equality at ``t = 1/sqrt(c)``). Both are closed
forms in the shifted semicircle integral ``G(x0) = int_theta^b sqrt((b - x)(x - a)) / (x - x0) dx``:
``pi0 = G(x0) / (2 pi (1 + delta))`` and ``pi1 = (G(x0) - G(0)) / (2 pi (1 + delta) x0)`` with
``G(0) = 2 pi kappa``. Per direction

    ||W u_i||^2 = pi0 / (1 + c t)^2,   tr_i = delta pi1 / (1 + c t),   frob_i = v_i pi0 - 2 tr_i,

``tr W = -k + sum tr_i``, ``||W||_F^2 = k + sum frob_i`` and, exactly (``tr_i`` cancels),

    R = sum_i l_i ||W u_i||^2 + eta_tst^2 (1 - k/d) + (eta_tst^2 / d) sum_i v_i pi0_i.

Fixed k (``kappa -> 0``): ``pi0 -> kappa (1 + c t)^2 / (1 + sqrt(c) t)^2``, ``pi1 -> pi0 / b``,

    R = eta_tst^2 (1 - k/d) + (k/d) sum_i l_i / (1 + sqrt(c) t_i)^2
        + eta_tst^2 (k/d^2) sum_i c^2 t_i (1 + t_i) / ((1 - c)(1 + sqrt(c) t_i)^2).
"""

from __future__ import annotations

import numpy as np

from ..problem import Problem
from ..status import Status
from .one_layer import direction_factors

__all__ = [
    "signal_overlaps",
    "skip_under_direction_terms",
    "skip_under_fixed_k_risk",
    "skip_under_risk",
]

# below this relative distance of the threshold from the upper edge the edge limit is used
_EDGE_REL = 1e-7


def _edges(c: float) -> tuple[float, float]:
    """Edges ``(a, b)`` of the Marchenko–Pastur law of ``A A^T`` (``eta = 1``), no cancellation."""
    sc = np.sqrt(c)
    return (1.0 - c) ** 2 / (c * (1.0 + sc) ** 2), (1.0 + sc) ** 2 / c


def _pole_terms(c: float, t: np.ndarray):
    """``delta``, ``1 + delta``, ``x0``, ``sqrt(a - x0)``, ``sqrt(b - x0)`` per direction."""
    sc = np.sqrt(c)
    den = c * (1.0 + c * t) * (1.0 + t)
    delta = t * (1.0 - c) / (1.0 + c * t)
    one_delta = (1.0 + t) / (1.0 + c * t)
    x0 = t * (1.0 - c) ** 2 / den
    ra = (1.0 - c) / (1.0 + sc) * np.abs(1.0 - sc * t) / np.sqrt(den)
    rb = (1.0 + sc) * (1.0 + sc * t) / np.sqrt(den)
    return delta, one_delta, x0, ra, rb


def _atanc(y: np.ndarray) -> np.ndarray:
    """``atan(y) / y`` with the value 1 at ``y = 0``."""
    small = np.abs(y) < 1e-6
    safe = np.where(small, 1.0, y)
    return np.where(small, 1.0 - y * y / 3.0, np.arctan(safe) / safe)


def signal_overlaps(c: float, kappa: float, t, theta: float | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Kept overlaps ``(pi0, pi1) = (u^T Pi u, u^T Lambda'^{-1} Pi u)`` per signal direction.

    Parameters
    ----------
    c : float
        Aspect ratio ``d / N`` in ``(0, 1)``.
    kappa : float
        Kept fraction ``k / d`` in ``(0, 1]``; ``1`` keeps everything (including the outlier
        below the bulk that exists for ``t > 1/sqrt(c)``): ``pi0 = 1``,
        ``pi1 = c (1 + c t) / (1 - c)``.
    t : array_like
        Training SNRs ``sigma_i^2 / eta_trn^2 > 0``.
    theta : float, optional
        Threshold with ``mu((theta, inf)) = kappa`` for the law of ``A A^T`` (``eta = 1``:
        ratio ``c``, scale ``1/c``); computed by :func:`rmtrisk.solver.mp_threshold` if omitted.

    Returns
    -------
    pi0, pi1 : ndarray
        In ``eta_trn = 1`` units (``pi1`` scales like ``1 / eta_trn^2``).
    """
    t = np.asarray(t, dtype=float)
    if kappa >= 1.0:
        return np.ones_like(t), c * (1.0 + c * t) / (1.0 - c)
    a, b = _edges(c)
    if theta is None:
        from ..solver import mp_threshold

        theta = float(mp_threshold(c, kappa, 1.0 / c).threshold)
    delta, one_delta, x0, ra, rb = _pole_terms(c, t)
    if b - theta <= _EDGE_REL * (b - a):
        # top-k eigenvalues at the upper edge: 1/|1 - delta m(b)|^2 = b / ((1 + delta)(b - x0))
        pi0 = kappa * b / (one_delta * rb**2)
        return pi0, pi0 / b
    theta = max(theta, a)
    P, Q = np.sqrt(b - theta), np.sqrt(theta - a)
    R = P * Q
    vartheta = 2.0 * np.arctan2(P, Q)
    phi = np.arctan2(ra * P, rb * Q)          # atan2(sqrt(a - x0) P, sqrt(b - x0) Q)
    g = ra * rb                                # sqrt((a - x0)(b - x0))
    G = vartheta * (a + b - 2.0 * x0) / 2.0 - R - 2.0 * phi * g
    pi0 = G / (2.0 * np.pi * one_delta)
    # divided difference (G(x0) - G(0)) / x0 without cancellation
    g0, rho0 = np.sqrt(a * b), np.sqrt(a / b)
    rho = ra / rb
    dg = (x0 - a - b) / (g + g0)
    w = (a - b) * R / (b * rb**2 * (rho + rho0) * (Q * Q + rho * rho0 * P * P))
    dphi = w * _atanc(x0 * w)
    dG = -vartheta - 2.0 * (phi * dg + g0 * dphi)
    pi1 = dG / (2.0 * np.pi * one_delta)
    return pi0, pi1


def skip_under_direction_terms(c: float, kappa: float, t, theta: float | None = None
                               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-direction terms ``(Gamma_i, tr_i, frob_i)`` of the c < 1 skip minimizer.

    ``Gamma_i = ||W u_i||^2``, ``tr W = -k + sum_i tr_i``, ``||W||_F^2 = k + sum_i frob_i``
    (``eta_trn = 1`` units for ``t``; the three are scale free).

    Parameters
    ----------
    c, kappa, t, theta
        As in :func:`signal_overlaps`.
    """
    t = np.asarray(t, dtype=float)
    pi0, pi1 = signal_overlaps(c, kappa, t, theta)
    delta = t * (1.0 - c) / (1.0 + c * t)
    v = c**2 * t * (1.0 + t) / ((1.0 - c) * (1.0 + c * t) ** 2)
    gamma = pi0 / (1.0 + c * t) ** 2
    tr = delta * pi1 / (1.0 + c * t)
    return gamma, tr, v * pi0 - 2.0 * tr


def _unsupported(problem: Problem) -> Status | None:
    if not problem.skip or problem.reg != 0.0 or problem.critical_set is not None:
        return Status.UNSUPPORTED
    if problem.d == problem.n:
        return Status.AT_INTERPOLATION_THRESHOLD
    if problem.d > problem.n:
        return Status.UNSUPPORTED
    return None


def _aggregate(problem: Problem, b1: np.ndarray, v: np.ndarray, pi0: np.ndarray,
               tr: np.ndarray) -> tuple[float, float]:
    """``(bias, variance)`` from ``(1 - b^T u)^2``, ``||b||^2``, ``pi0`` and ``tr_i``."""
    d, k, e2t = problem.d, problem.k, problem.eta2_test
    ell = problem.test_energy_array
    signal = float(np.dot(ell, b1 * pi0))
    extra = float(np.sum(v * pi0))          # d + 2 tr W + ||W||^2 = d - k + extra
    risk = signal + e2t * ((d - k) + extra) / d
    variance = e2t * (k + extra - 2.0 * float(np.sum(tr))) / d
    return risk - variance, variance


def skip_under_risk(problem: Problem, finite_size: bool = False
                    ) -> tuple[float, float, Status]:
    """``(bias, variance, status)`` of the skip-connection minimizer, c < 1, lambda = 0.

    Any bottleneck ``1 <= k <= d``, evaluated at ``kappa = k / d`` (proportional formula; it
    tends to :func:`skip_under_fixed_k_risk` as ``kappa -> 0``, and ``k = d`` is the one-layer
    denoiser ``X Y^+`` exactly).

    Parameters
    ----------
    problem : Problem
        ``skip=True``, ``reg=0``, global minimizer, ``d < n``.
    finite_size : bool
        Replace the one-layer factors ``(1 - b^T u)^2 = 1/(1 + c t)^2`` and
        ``||b||^2 = c^2 t (1 + t)/((1 - c)(1 + c t)^2)`` by their exact-Gaussian-moment
        versions (:func:`rmtrisk.theory.one_layer.direction_factors`); the kept overlaps stay
        at their limits.

    Returns
    -------
    bias, variance : float
        ``variance = (eta_tst^2 / d) ||W||_F^2`` and ``bias = risk - variance``.
    status : Status
        ``UNSUPPORTED`` (nan) outside the regime, ``AT_INTERPOLATION_THRESHOLD`` (inf) at
        ``d = n``, the threshold's status if it is neither SUCCESS nor AT_EDGE, ``NON_FINITE``
        if a value is not finite.
    """
    bad = _unsupported(problem)
    if bad is Status.AT_INTERPOLATION_THRESHOLD:
        return np.inf, np.inf, bad
    if bad is not None:
        return np.nan, np.nan, bad
    c, kappa, t = float(problem.c), problem.k / problem.d, problem.snr
    status = Status.SUCCESS
    theta = None
    if kappa < 1.0:
        from ..solver import mp_threshold

        res = mp_threshold(c, kappa, 1.0 / c)
        theta, st = float(res.threshold), Status(int(res.status))
        if st not in (Status.SUCCESS, Status.AT_EDGE):
            status = st
    pi0, pi1 = signal_overlaps(c, kappa, t, theta)
    delta = t * (1.0 - c) / (1.0 + c * t)
    tr = delta * pi1 / (1.0 + c * t)
    if finite_size:
        b1, v = direction_factors(t, problem.d, problem.n, finite_size=True)
    else:
        b1 = 1.0 / (1.0 + c * t) ** 2
        v = c**2 * t * (1.0 + t) / ((1.0 - c) * (1.0 + c * t) ** 2)
    bias, variance = _aggregate(problem, b1, v, pi0, tr)
    if status is Status.SUCCESS and not (np.isfinite(bias) and np.isfinite(variance)):
        status = Status.NON_FINITE
    return bias, variance, status


def skip_under_fixed_k_risk(problem: Problem, finite_size: bool = False
                            ) -> tuple[float, float]:
    """``(bias, variance)`` of the skip-connection minimizer, c < 1, lambda = 0, k fixed.

    The ``kappa -> 0`` limit of :func:`skip_under_risk` in closed form (top-k noise directions
    at the upper edge ``b = (1 + sqrt(c))^2 / c``): ``||W u_i||^2 = (k/d) / (1 + sqrt(c) t_i)^2``,
    ``tr W = -k + (k/d) sum_i c t_i (1 - sqrt(c)) / ((1 + sqrt(c))(1 + sqrt(c) t_i)^2)``,
    ``||W||_F^2 = k + (k/d) sum_i [c^2 t_i (1 + t_i) / ((1 - c)(1 + sqrt(c) t_i)^2) - 2 tr_i]``.

    Parameters
    ----------
    problem : Problem
        ``d < n`` (the other fields as in :func:`skip_under_risk`, which checks them).
    finite_size : bool
        As in :func:`skip_under_risk`.
    """
    c, kappa, t = float(problem.c), problem.k / problem.d, problem.snr
    if not 0.0 < c < 1.0:
        raise ValueError(f"skip_under_fixed_k_risk needs c < 1, got c = {c}")
    sc = np.sqrt(c)
    pi0 = kappa * (1.0 + c * t) ** 2 / (1.0 + sc * t) ** 2
    tr = kappa * c * t * (1.0 - sc) / ((1.0 + sc) * (1.0 + sc * t) ** 2)
    if finite_size:
        b1, v = direction_factors(t, problem.d, problem.n, finite_size=True)
    else:
        b1 = 1.0 / (1.0 + c * t) ** 2
        v = c**2 * t * (1.0 + t) / ((1.0 - c) * (1.0 + c * t) ** 2)
    return _aggregate(problem, b1, v, pi0, tr)
