"""Gradient flow of the two-layer linear DAE on ``(W1, W2)``.

Integrates ``dW1/dt = -dL/dW1``, ``dW2/dt = -dL/dW2`` for the loss of
:func:`rmtrisk.montecarlo.training.dae_loss` with an adaptive high-order Runge–Kutta method
(DOP853), from a small random initialization, until the gradient vanishes. It is the check that
the closed-form critical points of :mod:`rmtrisk.montecarlo.training` are what training
actually finds (docs/conventions.md §5).
Meant for small problems (a few hundred parameters).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..status import Status
from .training import dae_gradient, dae_loss

__all__ = ["GradientFlowResult", "gradient_flow"]


@dataclass(frozen=True)
class GradientFlowResult:
    """End point and trajectory of a gradient-flow run.

    Attributes
    ----------
    W1 : ndarray, shape (k, d)
    W2 : ndarray, shape (d, k)
    times : ndarray
        Times (in units of ``1 / ||Y||_2^2``) at which the loss was recorded.
    losses : ndarray
        Loss at ``times``.
    grad_norm : float
        Frobenius norm of the gradient at the end point.
    converged : bool
        Whether ``grad_norm`` fell below the tolerance before ``t_max``.
    status : Status
        ``SUCCESS`` when converged with a finite end point; ``NON_FINITE`` when the integrator
        failed or the end point / loss is not finite; ``MAX_ITERATIONS`` when ``t_max`` was
        reached before the gradient vanished.
    message : str
        Explanation of a status other than ``SUCCESS``.
    """

    W1: np.ndarray
    W2: np.ndarray
    times: np.ndarray
    losses: np.ndarray
    grad_norm: float
    converged: bool
    status: Status = Status.SUCCESS
    message: str = ""

    @property
    def W(self) -> np.ndarray:
        """The product ``W2 W1``."""
        return self.W2 @ self.W1


def gradient_flow(Y: np.ndarray, T: np.ndarray, k: int, reg: float = 0.0, *,
                  W1: np.ndarray | None = None, W2: np.ndarray | None = None,
                  init_scale: float = 1e-6, seed: int = 0, t_max: float = 1e5,
                  gtol: float = 1e-9, rtol: float = 1e-10, atol: float = 1e-14,
                  n_records: int = 400) -> GradientFlowResult:
    """Run gradient flow on the product-regularized DAE loss.

    Parameters
    ----------
    Y, T : ndarray, shape (d, N)
        Inputs and targets.
    k : int
        Bottleneck width.
    reg : float
        Product regularization ``lambda >= 0``.
    W1, W2 : ndarray, optional
        Starting point; default i.i.d. ``N(0, init_scale^2)`` entries.
    init_scale : float
        Scale of the random initialization.
    seed : int
        Seed of the initialization.
    t_max : float
        Largest time, in units of ``1 / ||Y||_2^2``.
    gtol : float
        Stop when ``||grad||_F <= gtol * ||T Y^T||_F``.
    rtol, atol : float
        Integrator tolerances.
    n_records : int
        Number of log-spaced times at which the loss is recorded.

    Returns
    -------
    GradientFlowResult
    """
    Y = np.asarray(Y, dtype=float)
    T = np.asarray(T, dtype=float)
    if Y.ndim != 2:
        raise ValueError(f"Y must be a 2-D (d, N) array, got shape {Y.shape}")
    d, N = Y.shape
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or not 1 <= k <= d:
        raise ValueError(f"k must be an integer in [1, d={d}], got {k!r}")
    for name, value, lo in (("init_scale", init_scale, 0.0), ("t_max", t_max, 0.0),
                            ("gtol", gtol, 0.0), ("rtol", rtol, 0.0), ("atol", atol, 0.0)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) \
                or not np.isfinite(value) or value <= lo:
            raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    if isinstance(n_records, bool) or not isinstance(n_records, (int, np.integer)) \
            or n_records < 1:
        raise ValueError(f"n_records must be an integer >= 1, got {n_records!r}")
    if T.shape != (d, N):
        raise ValueError(f"T must have the shape of Y {Y.shape}, got {T.shape}")
    if isinstance(reg, bool) or not isinstance(reg, (int, float, np.floating)) \
            or not np.isfinite(reg) or reg < 0:
        raise ValueError(f"reg must be >= 0 and finite, got {reg!r}")
    rng = np.random.default_rng(seed)
    if W1 is None:
        W1 = init_scale * rng.standard_normal((k, d))
    if W2 is None:
        W2 = init_scale * rng.standard_normal((d, k))
    unit = float(np.linalg.norm(Y, 2)) ** 2
    scale = float(np.linalg.norm(T @ Y.T)) or 1.0
    n1 = k * d

    def unpack(x):
        return x[:n1].reshape(k, d), x[n1:].reshape(d, k)

    def rhs(_, x):
        g1, g2 = dae_gradient(*unpack(x), Y, T, reg)
        return -np.concatenate([g1.ravel(), g2.ravel()]) / unit

    def stationary(_, x):
        g1, g2 = dae_gradient(*unpack(x), Y, T, reg)
        return np.sqrt(np.sum(g1 * g1) + np.sum(g2 * g2)) - gtol * scale

    stationary.terminal = True
    stationary.direction = -1
    times = np.concatenate([[0.0], np.geomspace(1e-3, t_max, n_records)])
    x0 = np.concatenate([W1.ravel(), W2.ravel()])
    from scipy.integrate import solve_ivp  # lazy heavy import (0.2 s), used only here

    sol = solve_ivp(rhs, (0.0, t_max), x0, method="DOP853", t_eval=times, rtol=rtol,
                    atol=atol, events=stationary)
    ys = np.asarray(sol.y, dtype=float).reshape(x0.size, -1)  # a list when it fails at once
    hit = sol.t_events is not None and sol.t_events[0].size > 0
    end = sol.y_events[0][0] if hit else (ys[:, -1] if ys.shape[1] else x0)
    W1e, W2e = unpack(end)
    with np.errstate(all="ignore"):
        losses = np.array([dae_loss(*unpack(x), Y, T, reg) for x in ys.T])
    with np.errstate(all="ignore"):
        g1, g2 = dae_gradient(W1e, W2e, Y, T, reg)
        grad = float(np.sqrt(np.sum(g1 * g1) + np.sum(g2 * g2)))
    converged = hit
    finite = (np.isfinite(grad) and np.all(np.isfinite(W1e)) and np.all(np.isfinite(W2e))
              and np.all(np.isfinite(losses)))
    if sol.status < 0 or not finite:
        status = Status.NON_FINITE
        message = (f"integrator failed: {sol.message}" if sol.status < 0 else
                   "the trajectory left the finite range (nan or inf)")
    elif not converged:
        status = Status.MAX_ITERATIONS
        message = (f"t_max={t_max:g} reached with ||grad|| = {grad:.3g} > gtol * ||T Y^T|| = "
                   f"{gtol * scale:.3g}")
    else:
        status, message = Status.SUCCESS, ""
    return GradientFlowResult(W1e, W2e, np.asarray(sol.t, dtype=float), losses, grad,
                              bool(converged), status, message)
