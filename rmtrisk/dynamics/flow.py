"""Gradient flow of the two-layer linear DAE on the noise-averaged loss, weights recorded.

The noise-averaged loss of rmtrisk's DAE (docs/conventions.md §5, no skip connection) is

    E_A 1/2 ||X - W2 W1 (X + A)||_F^2 = 1/2 ||X - W X||_F^2 + (nu/2) ||W||_F^2,
    nu = N eta2_train / d,

which is :func:`rmtrisk.montecarlo.training.dae_loss` with ``Y = T = X`` and ``reg = nu``. It
depends on ``X`` only through ``X X^T = U diag(sv**2) U^T``, so the flow runs on the compact
factor ``U diag(sv)`` (``d x r``) in place of ``X``. An optional weight decay adds
``(wd/2)(||W1||_F^2 + ||W2||_F^2)``. Time ``s`` is gradient-flow time on this summed loss,
``dW/ds = -dL/dW`` (the integrator :func:`rmtrisk.montecarlo.gradient_flow` uses ``s`` times
``||Y||_2^2`` instead). :mod:`rmtrisk.dynamics.modes` gives the closed form of each mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..montecarlo.training import dae_gradient, dae_loss
from .modes import hyperbolic_mode_value, mode_value

__all__ = ["FlowTrajectory", "aligned_balanced_init", "crossing_time", "mode_projections",
           "noise_averaged_flow", "predicted_modes"]


@dataclass(frozen=True)
class FlowTrajectory:
    """Weights of a gradient-flow run at the requested times.

    Attributes
    ----------
    times : ndarray, shape (T,)
        Gradient-flow times ``s`` on the summed loss.
    W1 : ndarray, shape (T, k, d)
    W2 : ndarray, shape (T, d, k)
    losses : ndarray, shape (T,)
        The noise-averaged loss (with the weight decay) at ``times``.
    """

    times: np.ndarray
    W1: np.ndarray
    W2: np.ndarray
    losses: np.ndarray

    @property
    def W(self) -> np.ndarray:
        """The products ``W2 W1``, shape ``(T, d, d)``."""
        return self.W2 @ self.W1


def aligned_balanced_init(U: np.ndarray, u0, rotation: np.ndarray | None = None
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Factors ``W1 = Q diag(sqrt(u0)) U^T`` and ``W2 = U diag(sqrt(u0)) Q^T``.

    They are aligned with the columns of ``U`` (the modes) and balanced
    (``W1 W1^T = W2^T W2``), so ``W2 W1 = U diag(u0) U^T`` and every mode follows
    :func:`rmtrisk.dynamics.modes.mode_value` exactly.

    Parameters
    ----------
    U : ndarray, shape (d, k)
        Orthonormal mode directions (eigenvectors of ``X X^T``).
    u0 : float or array of length k
        Starting mode values, ``> 0``.
    rotation : ndarray, shape (k, k), optional
        The orthogonal ``Q`` (default identity): any ``Q`` gives the same product.
    """
    U = np.asarray(U, dtype=float)
    if U.ndim != 2 or U.shape[1] > U.shape[0]:
        raise ValueError(f"U must be a (d, k) array with k <= d, got shape {U.shape}")
    if not np.allclose(U.T @ U, np.eye(U.shape[1]), atol=1e-10):
        raise ValueError("U must have orthonormal columns")
    k = U.shape[1]
    u0 = np.broadcast_to(np.asarray(u0, dtype=float), (k,))
    if not np.all(np.isfinite(u0)) or np.any(u0 <= 0):
        raise ValueError(f"u0 must be finite and > 0, got {u0!r}")
    Q = np.eye(k) if rotation is None else np.asarray(rotation, dtype=float)
    if Q.shape != (k, k) or not np.allclose(Q.T @ Q, np.eye(k), atol=1e-10):
        raise ValueError(f"rotation must be an orthogonal ({k}, {k}) matrix")
    root = np.sqrt(u0)
    return (Q * root) @ U.T, (U * root) @ Q.T


def mode_projections(W: np.ndarray, U: np.ndarray) -> np.ndarray:
    """Mode values ``u_i = U[:, i]^T W U[:, i]`` of products ``W`` (shape ``(..., d, d)``)."""
    U = np.asarray(U, dtype=float)
    return np.einsum("di,...de,ei->...i", U, np.asarray(W, dtype=float), U)


def noise_averaged_flow(sv, U, nu: float, W1: np.ndarray, W2: np.ndarray, times, *,
                        wd: float = 0.0, rtol: float = 1e-12,
                        atol: float | None = None) -> FlowTrajectory:
    """Integrate gradient flow on the noise-averaged loss and record the weights.

    Parameters
    ----------
    sv : array, shape (r,)
        Singular values of ``X`` (``> 0``); ``X X^T = U diag(sv**2) U^T``.
    U : ndarray, shape (d, r)
        Left singular vectors of ``X`` (orthonormal columns).
    nu : float
        Noise as product regularization, ``N eta2_train / d`` (``>= 0``).
    W1, W2 : ndarray, shapes (k, d) and (d, k)
        Starting point.
    times : array
        Increasing times ``s >= 0`` at which to record the weights.
    wd : float
        Weight decay on the summed loss (``>= 0``).
    rtol, atol : float
        Tolerances of the DOP853 integrator; ``atol`` defaults to ``rtol`` times 1e-3 of the
        largest starting weight (small starts need a small absolute tolerance).

    Returns
    -------
    FlowTrajectory
    """
    sv = np.asarray(sv, dtype=float).ravel()
    U = np.asarray(U, dtype=float)
    if sv.size == 0 or not np.all(np.isfinite(sv)) or np.any(sv <= 0):
        raise ValueError(f"sv must be a non-empty array of finite numbers > 0, got {sv!r}")
    if U.ndim != 2 or U.shape[1] != sv.size:
        raise ValueError(f"U must have shape (d, {sv.size}), got {U.shape}")
    W1 = np.asarray(W1, dtype=float)
    W2 = np.asarray(W2, dtype=float)
    d = U.shape[0]
    if W1.ndim != 2 or W1.shape[1] != d or W2.shape != (d, W1.shape[0]):
        raise ValueError(f"W1 must be (k, {d}) and W2 ({d}, k), got {W1.shape}, {W2.shape}")
    for name, value in (("nu", nu), ("wd", wd)):
        if isinstance(value, bool) or not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    times = np.asarray(times, dtype=float).ravel()
    if times.size == 0 or not np.all(np.isfinite(times)) or np.any(times < 0) \
            or np.any(np.diff(times) <= 0):
        raise ValueError("times must be a non-empty increasing array of finite numbers >= 0")
    if not np.isfinite(rtol) or rtol <= 0:
        raise ValueError(f"rtol must be finite and > 0, got {rtol!r}")
    x0 = np.concatenate([W1.ravel(), W2.ravel()])
    if atol is None:
        atol = rtol * 1e-3 * max(float(np.max(np.abs(x0))), 1e-300)
    if not np.isfinite(atol) or atol <= 0:
        raise ValueError(f"atol must be finite and > 0, got {atol!r}")
    F = U * sv  # d x r: F F^T = X X^T
    k = W1.shape[0]
    n1 = k * d

    def unpack(x):
        return x[:n1].reshape(k, d), x[n1:].reshape(d, k)

    def rhs(_, x):
        w1, w2 = unpack(x)
        g1, g2 = dae_gradient(w1, w2, F, F, nu)
        return -np.concatenate([(g1 + wd * w1).ravel(), (g2 + wd * w2).ravel()])

    from scipy.integrate import solve_ivp  # lazy heavy import, used only here

    if times[-1] == 0:
        ys = np.repeat(x0[:, None], times.size, axis=1)
    else:
        sol = solve_ivp(rhs, (0.0, float(times[-1])), x0, method="DOP853", t_eval=times,
                        rtol=rtol, atol=atol)
        if sol.status != 0:
            raise RuntimeError(f"the integrator failed: {sol.message}")
        ys = sol.y
    W1s = np.stack([unpack(y)[0] for y in ys.T])
    W2s = np.stack([unpack(y)[1] for y in ys.T])
    losses = np.array([dae_loss(a, b, F, F, nu)
                       + 0.5 * wd * (float(np.sum(a * a)) + float(np.sum(b * b)))
                       for a, b in zip(W1s, W2s, strict=True)])
    return FlowTrajectory(times, W1s, W2s, losses)


def predicted_modes(W1: np.ndarray, W2: np.ndarray, U: np.ndarray, sv, nu: float, times, *,
                    wd: float = 0.0) -> np.ndarray:
    """Closed-form mode values from the start ``(W1, W2)``, mode by mode, shape ``(T, r)``.

    Mode ``i`` starts from its input vector ``p = W1 u_i`` and output vector ``q = W2^T u_i``
    (both in the ``k``-dimensional hidden space). Without weight decay the prediction is
    :func:`~rmtrisk.dynamics.modes.hyperbolic_mode_value` with ``u0 = p . q`` and
    ``delta = |p|^2 - |q|^2``; with weight decay it is the balanced
    :func:`~rmtrisk.dynamics.modes.mode_value` from ``u0 = |p| |q|``. Both are exact for
    aligned starts (``p`` parallel to ``q``, modes in orthogonal hidden directions); for other
    starts (e.g. small random ones) they neglect the coupling of the modes through the
    hidden space, and docs/dynamics.md reports the deviation that is observed.
    """
    U = np.asarray(U, dtype=float)
    sv = np.asarray(sv, dtype=float).ravel()
    P = np.asarray(W1, dtype=float) @ U            # k x r: columns p_i
    Q = (U.T @ np.asarray(W2, dtype=float)).T      # k x r: columns q_i
    t = np.asarray(times, dtype=float)[:, None]
    if wd == 0:
        u0 = np.sum(P * Q, axis=0)
        delta = np.sum(P * P, axis=0) - np.sum(Q * Q, axis=0)
        return hyperbolic_mode_value(t, sv**2, nu, u0, delta)
    u0 = np.sqrt(np.sum(P * P, axis=0) * np.sum(Q * Q, axis=0))
    return mode_value(t, sv**2, nu, wd, u0)


def crossing_time(times, values, level) -> float:
    """First time at which ``values`` reaches ``level`` (linear interpolation between the
    recorded times); ``nan`` if it never does."""
    times, values = np.asarray(times, dtype=float), np.asarray(values, dtype=float)
    above = np.flatnonzero(values >= level)
    if above.size == 0:
        return float("nan")
    j = int(above[0])
    if j == 0:
        return float(times[0])
    v0, v1 = values[j - 1], values[j]
    return float(times[j - 1] + (level - v0) / (v1 - v0) * (times[j] - times[j - 1]))
