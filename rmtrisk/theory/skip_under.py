"""Risk of the skip-connection DAE on the underparameterized side c = d/N < 1, lambda = 0.

Derivation: ``docs/skip_under.md``. Work in ``eta_trn = 1`` units (``W`` is invariant under
rescaling ``(X, A)``), ``t_i = sigma_i^2 / eta_trn^2``. For c < 1, ``K = Y Y^T`` is invertible and

    A Y^+ = I - X Y^+ =: M,     A H A^T = M K M^T = A A^T - X (I - H) X^T,

so the minimizer is ``W = -Pi_k M``, ``Pi_k`` the projector on the top-k eigenvectors of
``Lambda' = A A^T - U D U^T``, ``D -> diag(delta_i)``, ``delta = t (1 - c) / (1 + c t)`` (a
*negative* rank-r perturbation: no outlier above the bulk; for ``t > 1/sqrt(c)`` one below it,
never kept when ``k < d``). With ``b_i = sigma_i Y^{+T} v_i`` (``b_i^T u_i -> c t/(1 + c t)``,
``||b_i||^2 -> v_i``, the one-layer variance factor) the identities
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

The formulas live in :mod:`rmtrisk.symbolic.skip_under` (``skip_under_*`` kernels of
``rmtrisk/_kernels.py``); the functions here evaluate them through
:func:`rmtrisk.engine.skip_under_kept_overlaps` and :func:`rmtrisk.engine.skip_under_grid`
(mpmath reference :func:`rmtrisk.engine.skip_under_reference`).
"""

from __future__ import annotations

import numpy as np

from .. import _kernels as K
from ..engine import skip_under_grid, skip_under_kept_overlaps, threshold
from ..problem import Problem
from ..status import Status
from .corrections import skip_fluctuation_correction
from .evaluation import TERMS_FINITE_SIZE, TERMS_LIMIT, Evaluation
from .one_layer import direction_factors

__all__ = ["evaluate", "skip_under_signal_terms", "skip_under_fixed_k_risk",
           "skip_under_risk"]


def _direction_terms(c: float, t: np.ndarray, pi0: np.ndarray, pi1: np.ndarray
                     ) -> tuple[np.ndarray, ...]:
    """``(Gamma, tr, frob, v pi0)`` per direction from the generated kernel."""
    rows = [K.skip_under_direction_terms(float(ti), c, float(p0), float(p1))
            for ti, p0, p1 in zip(np.ravel(t), np.ravel(pi0), np.ravel(pi1), strict=True)]
    out = np.array(rows, dtype=float).reshape(-1, 4)
    return tuple(out[:, j].reshape(np.shape(t)) for j in range(4))


def skip_under_signal_terms(c: float, kappa: float, t, theta: float | None = None
                               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-direction terms ``(Gamma_i, tr_i, frob_i)`` of the c < 1 skip minimizer.

    ``Gamma_i = ||W u_i||^2``, ``tr W = -k + sum_i tr_i``, ``||W||_F^2 = k + sum_i frob_i``
    (``eta_trn = 1`` units for ``t``; the three are scale free).

    Parameters
    ----------
    c, kappa, t, theta
        As in :func:`rmtrisk.engine.skip_under_kept_overlaps`.
    """
    t = np.asarray(t, dtype=float)
    pi0, pi1 = skip_under_kept_overlaps(c, kappa, t, theta)
    gamma, tr, frob, _ = _direction_terms(float(c), t, pi0, pi1)
    return gamma, tr, frob


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
    if not finite_size:
        res = skip_under_grid(c, kappa, problem.eta2_train, problem.eta2_test,
                              problem.sv_array, problem.test_energy_array, problem.d)
        status = Status(int(res.status))
        if status is Status.AT_EDGE:        # full width or the kappa -> 0 edge limit
            status = Status.SUCCESS
        return float(res.bias), float(res.variance), status
    status = Status.SUCCESS
    theta = None
    if kappa < 1.0:
        res = threshold(c, kappa, 1.0 / c)
        theta, st = float(res.threshold), Status(int(res.status))
        if st not in (Status.SUCCESS, Status.AT_EDGE):
            status = st
    pi0, pi1 = skip_under_kept_overlaps(c, kappa, t, theta)
    _, tr, _, _ = _direction_terms(c, t, pi0, pi1)
    b1, v = direction_factors(t, problem.d, problem.n, finite_size=True)
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
    pi = np.array([K.skip_under_edge_overlaps(float(ti), c, kappa) for ti in t],
                  dtype=float).reshape(-1, 2)
    pi0, pi1 = pi[:, 0], pi[:, 1]
    gamma, tr, _, vpi0 = _direction_terms(c, t, pi0, pi1)
    if finite_size:
        b1, v = direction_factors(t, problem.d, problem.n, finite_size=True)
    else:
        b1, v = gamma / pi0, vpi0 / pi0
    return _aggregate(problem, b1, v, pi0, tr)


def evaluate(problem: Problem, finite_size: bool = False, limit: bool = False) -> Evaluation:
    """Regime ``skip-under``: :func:`skip_under_risk`; with ``finite_size`` plus the ``O(1/d)``
    fluctuations of the signal quadratic forms (docs/skip_under.md)."""
    bias, variance, status = skip_under_risk(problem)
    corrected = finite_size and status in (Status.SUCCESS, Status.AT_EDGE)
    if corrected:
        bias += skip_fluctuation_correction(problem)
    return Evaluation(bias, variance, status, 0.0, corrected,
                      TERMS_FINITE_SIZE if corrected else TERMS_LIMIT)
