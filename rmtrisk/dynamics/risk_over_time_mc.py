"""Monte Carlo of the one-layer DAE trained by gradient flow for time ``t``.

Per replicate: one draw ``Y = X + A`` (:func:`rmtrisk.montecarlo.sampling.training_sample`),
one symmetric eigendecomposition of the smaller Gram matrix of ``Y``, and then, for every
requested time at once, the closed-form gradient-flow weight
``W(t) = X Y^T g_t(Y Y^T) = X g_t(Y^T Y) Y^T`` with ``g_t(x) = (1 - exp(-t x))/x``
(``g_t(0) = t``). ``W U`` lies in ``span(U)``, so the exact test risk of the draw
(docs/conventions.md §6) needs only the ``r x r`` matrix ``M = U^T W U`` and ``||W||_F^2``:

    R = sum_i l_i [(I - M)^T (I - M)]_ii + (eta2_test / d) ||W||_F^2.

The mean over replicates and its standard error (sample standard deviation / sqrt(reps)) are
returned per time; the replicates are independent (one ``SeedSequence`` child each), the
times of one replicate share its draw.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..montecarlo.sampling import training_sample
from ..problem import Problem
from .risk_over_time import check_one_layer

__all__ = ["RiskOverTimeMC", "filter_statistics", "gradient_flow_statistics",
           "gradient_flow_weight", "risk_over_time_mc", "spectral_filter_mc"]


class RiskOverTimeMC(NamedTuple):
    """Monte Carlo risk over time (arrays of ``time``'s shape; ``*_se`` standard errors).

    ``samples`` holds the per-replicate risks, shape ``(reps,) + time.shape``.
    """

    time: np.ndarray
    risk: np.ndarray
    risk_se: np.ndarray
    bias: np.ndarray
    bias_se: np.ndarray
    variance: np.ndarray
    variance_se: np.ndarray
    reps: int
    samples: np.ndarray


def _filter(lam: np.ndarray, t: float) -> np.ndarray:
    """``g_t(lam) = (1 - exp(-t lam))/lam`` (``t`` at ``lam <= 0``: rounding below zero)."""
    lam = np.maximum(lam, 0.0)
    pos = lam > 0
    safe = np.where(pos, lam, 1.0)
    return np.where(pos, -np.expm1(-t * safe) / safe, t)


def gradient_flow_weight(Y: np.ndarray, X: np.ndarray, t: float) -> np.ndarray:
    """Dense ``W(t) = X Y^T g_t(Y Y^T)`` (reference for small problems and tests)."""
    lam, P = np.linalg.eigh(Y @ Y.T)
    return (X @ Y.T @ P) * _filter(lam, t) @ P.T


def filter_statistics(Y: np.ndarray, U: np.ndarray, sv: np.ndarray, V: np.ndarray,
                      filters: Sequence[Callable[[np.ndarray], np.ndarray]]
                      ) -> tuple[np.ndarray, np.ndarray]:
    """``(M, frob)`` of ``W = X Y^T phi(Y Y^T)`` for every filter ``phi`` of ``filters``.

    ``M[j] = U^T W_j U`` (r x r) and ``frob[j] = ||W_j||_F^2``, ``X = U diag(sv) V^T``; one
    eigendecomposition of the smaller Gram matrix of ``Y`` serves every filter (``phi`` maps
    an array of eigenvalues ``>= 0`` to the filter values; ``Y^T phi(Y Y^T) = phi(Y^T Y) Y^T``).
    """
    d, n = Y.shape
    sv = np.asarray(sv, dtype=float)
    if n <= d:
        lam, Q = np.linalg.eigh(Y.T @ Y)
        lam = np.maximum(lam, 0.0)
        left = Q.T @ V                    # U^T W U = S V^T phi(Y^T Y) Y^T U
        right = Q.T @ (Y.T @ U)
        frob_w = np.sum((left * sv) ** 2, axis=1) * lam       # ||W||^2 = sum x phi^2 (..)
    else:
        lam, P = np.linalg.eigh(Y @ Y.T)
        lam = np.maximum(lam, 0.0)
        left = P.T @ (Y @ V)              # U^T W U = S V^T Y^T phi(Y Y^T) U
        right = P.T @ U
        frob_w = np.sum((left * sv) ** 2, axis=1)             # ||W||^2 = sum phi^2 (..)
    M = np.empty((len(filters), sv.size, sv.size))
    frob = np.empty(len(filters))
    for j, phi in enumerate(filters):
        g = np.asarray(phi(lam), dtype=float)
        M[j] = sv[:, None] * (left.T @ (g[:, None] * right))
        frob[j] = float(np.sum(frob_w * g**2))
    return M, frob


def gradient_flow_statistics(Y: np.ndarray, U: np.ndarray, sv: np.ndarray, V: np.ndarray,
                             times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`filter_statistics` of the gradient-flow filters ``g_t``, ``t`` in ``times``."""
    return filter_statistics(Y, U, sv, V, [functools.partial(_filter, t=float(t))
                                           for t in np.asarray(times, dtype=float).ravel()])


def _replicates(p: Problem, filters, reps: int, seed: int,
                progress: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-replicate ``(bias, variance)``, shape ``(reps, len(filters))``."""
    if isinstance(reps, bool) or int(reps) != reps or reps < 2:
        raise ValueError(f"reps must be an integer >= 2 (for a standard error), got {reps!r}")
    ell = p.test_energy_array
    bias = np.empty((int(reps), len(filters)))
    var = np.empty_like(bias)
    for k, child in enumerate(np.random.SeedSequence(seed).spawn(int(reps))):
        Y, U, V = training_sample(p, np.random.default_rng(child))
        M, frob = filter_statistics(Y, U, p.sv_array, V, filters)
        resid = np.eye(p.r)[None] - M
        gram_diag = np.einsum("jki,jki->ji", resid, resid)      # diag of (I - M)^T (I - M)
        bias[k] = gram_diag @ ell
        var[k] = p.eta2_test * frob / p.d
        if progress is not None:
            progress(1)
    return bias, var


def _result(t: np.ndarray, bias: np.ndarray, var: np.ndarray) -> RiskOverTimeMC:
    risk = bias + var

    def stats(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (a.mean(axis=0).reshape(t.shape),
                (a.std(axis=0, ddof=1) / np.sqrt(a.shape[0])).reshape(t.shape))

    (rm, rs), (bm, bs), (vm, vs) = stats(risk), stats(bias), stats(var)
    reps = risk.shape[0]
    return RiskOverTimeMC(t.copy(), rm, rs, bm, bs, vm, vs, reps,
                          risk.reshape((reps,) + t.shape))


def spectral_filter_mc(problem: Problem, filters: Sequence[Callable[[np.ndarray], np.ndarray]],
                       reps: int = 20, seed: int = 0) -> RiskOverTimeMC:
    """Monte Carlo test risk of ``W = X Y^T phi(Y Y^T)`` for each filter ``phi``.

    The same draws as :func:`risk_over_time_mc` with the same ``seed`` (e.g. the ridge filter
    ``1/(x + lambda)`` or a constant, next to gradient flow). ``time`` of the result is
    ``nan`` (one entry per filter). ``phi`` acts on eigenvalues of ``Y Y^T`` in the problem's
    units.
    """
    p = check_one_layer(problem)
    if len(filters) == 0:
        raise ValueError("filters must hold at least one filter")
    bias, var = _replicates(p, list(filters), reps, seed)
    return _result(np.full(len(filters), np.nan), bias, var)


def risk_over_time_mc(problem: Problem, time: Any, reps: int = 20, seed: int = 0, *,
                      progress: Callable[[int], None] | None = None) -> RiskOverTimeMC:
    """Monte Carlo test risk of the gradient-flow network at ``time`` (mean and standard error).

    Parameters
    ----------
    problem : Problem
        One-layer model (:func:`rmtrisk.dynamics.risk_over_time.check_one_layer`).
    time : array_like
        Times ``>= 0`` (same units as :func:`rmtrisk.dynamics.risk_over_time.risk_over_time`).
    reps : int
        Number of independent draws (``>= 2``).
    seed : int
        Seed of the ``SeedSequence`` whose children seed the replicates (the same draws as
        :func:`rmtrisk.montecarlo.monte_carlo_risk` with that seed and ``method="dense"``).
    progress : callable, optional
        Called with 1 after each replicate (e.g. ``tqdm.update``).

    Returns
    -------
    RiskOverTimeMC
    """
    p = check_one_layer(problem)
    t = np.asarray(time, dtype=float)
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError(f"time must be finite and >= 0, got {time!r}")
    filters = [functools.partial(_filter, t=float(x)) for x in t.ravel()]
    bias, var = _replicates(p, filters, reps, seed, progress)
    return _result(t, bias, var)
