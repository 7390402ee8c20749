"""Input noise versus weight decay in the mode dynamics of the two-layer linear DAE.

Units: the functions take a mode's eigenvalue, noise and weight decay in any one consistent
set of units, either the paper's per-sample ones (``lam_bar = lam / N``, per-coordinate noise
variance ``var``, weight decay ``gamma`` on the mean loss) or rmtrisk's summed ones
(``a = N lam_bar``, ``nu = N var``, ``wd = N gamma``): every relation here is homogeneous of
degree one in (eigenvalue, noise, weight decay) and the time or step size scales inversely.

Derived (docs/dynamics.md §4):

* same fixed point: ``(a - wd)/a = a/(a + nu)`` at ``wd = a nu / (a + nu)``
  (:func:`equivalent_weight_decay`);
* gradient flow: with that ``wd`` both balanced modes are logistic with the same fixed point
  ``u* = a/(a + nu)`` and rates ``2a`` (noise) and ``2(a - wd) = 2a u*`` (weight decay), so
  ``u_decay(s) = u_noise(u* s)`` exactly (:func:`decay_time_rescaling`);
* gradient descent (the balanced scalar recursion ``w <- w - lr dl/dw``): with
  ``z = u / u*`` every (noise, weight decay) pair follows the same map
  ``z <- z (1 + h (1 - z))**2`` with ``h = lr (a - wd)``
  (:func:`scalar_gradient_descent`), so the weight-decay model at step ``lr`` is the noise
  model at step ``lr u*``, step for step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .modes import mode_fixed_point

__all__ = [
        "decay_time_rescaling",
    "equivalent_weight_decay",
    "noise_vs_decay_rows",
    "optimal_step",
    "paper_optimal_learning_rates",
    "scalar_gradient_descent",
    "scalar_hessian",
    "steps_to_converge",
]


def _positive(name: str, value, *, allow_zero: bool = True) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or (not allow_zero and np.any(arr == 0)):
        rel = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {rel}, got {value!r}")
    return arr


def equivalent_weight_decay(eigenvalue, noise) -> np.ndarray:
    """The weight decay with the noise's fixed point: ``lam_bar var / (lam_bar + var)``.

    In the paper's units ``eigenvalue = lam / N`` and ``noise = var`` (returns ``gamma``);
    in rmtrisk's ``eigenvalue = a = sv**2`` and ``noise = nu = N eta2_train / d`` (returns
    ``wd = N gamma``). It is below both the eigenvalue and the noise, so the weight-decay mode
    does not die.
    """
    lam = _positive("eigenvalue", eigenvalue, allow_zero=False)
    var = _positive("noise", noise)
    return lam * var / (lam + var)


def decay_time_rescaling(eigenvalue, noise) -> np.ndarray:
    """The factor ``u* = lam_bar / (lam_bar + var)``: with the equivalent weight decay,
    ``u_decay(t) = u_noise(u* t)`` for balanced modes from the same start (gradient flow),
    and the weight-decay recursion at step ``lr`` is the noise recursion at step ``lr u*``."""
    lam = _positive("eigenvalue", eigenvalue, allow_zero=False)
    var = _positive("noise", noise)
    return lam / (lam + var)


def paper_optimal_learning_rates(lam, var) -> tuple[np.ndarray, np.ndarray]:
    """The paper's optimal step sizes of its scalar model (``N = 1``):
    ``1 / (2 lam + 3 var)`` for the DAE and ``1 / (2 lam + gamma)`` for weight decay with the
    equivalent ``gamma``. Both are ``1 / (largest Hessian eigenvalue at w1 = w2 = 1)`` of the
    model's loss (see :func:`scalar_hessian`), i.e. taken at the noise-free solution, not at
    the fixed point."""
    lam = _positive("lam", lam, allow_zero=False)
    var = _positive("var", var)
    gamma = equivalent_weight_decay(lam, var)
    return 1.0 / (2.0 * lam + 3.0 * var), 1.0 / (2.0 * lam + gamma)


def scalar_hessian(w1: float, w2: float, lam: float, var: float = 0.0,
                   gamma: float = 0.0) -> np.ndarray:
    """Hessian in ``(w1, w2)`` of the scalar loss
    ``l = (lam/2)(1 - w1 w2)**2 + (var/2)(w1 w2)**2 + (gamma/2)(w1**2 + w2**2)``."""
    b = lam + var
    off = -lam + 2.0 * b * w1 * w2
    return np.array([[b * w2 * w2 + gamma, off], [off, b * w1 * w1 + gamma]])


def scalar_gradient_descent(lam, var, gamma, learning_rate, steps: int, u0: float,
                            imbalance: float = 0.0) -> np.ndarray:
    """``u_t = w1_t w2_t``, ``t = 0..steps``, of gradient descent ``w <- w - lr grad l`` on the
    scalar loss of :func:`scalar_hessian`, from ``w1 = sqrt(u0)(1 + imbalance)``,
    ``w2 = sqrt(u0)(1 - imbalance)``.

    With ``imbalance = 0`` the run stays exactly balanced and is the one-dimensional
    recursion ``w <- w (1 + lr ((lam - gamma) - (lam + var) w**2))``; a non-zero
    ``imbalance`` exposes the instability of the direction ``w1 - w2``, whose curvature is
    ``lam (1 - u) + gamma - var u`` on the balanced line. ``lam``, ``var``, ``gamma`` and
    ``learning_rate`` broadcast; the result has shape ``(steps + 1, *broadcast shape)``; a
    divergent run becomes ``inf``/``nan``.
    """
    lam = _positive("lam", lam, allow_zero=False)
    var, gamma = _positive("var", var), _positive("gamma", gamma)
    lr = _positive("learning_rate", learning_rate, allow_zero=False)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    u0 = float(_positive("u0", u0, allow_zero=False))
    rho = float(imbalance)
    if not np.isfinite(rho) or abs(rho) >= 1:
        raise ValueError(f"imbalance must be in (-1, 1), got {imbalance!r}")
    lam, var, gamma, lr = np.broadcast_arrays(lam, var, gamma, lr)
    u = np.empty((steps + 1, *lam.shape))
    w1 = np.full(lam.shape, np.sqrt(u0) * (1.0 + rho))
    w2 = np.full(lam.shape, np.sqrt(u0) * (1.0 - rho))
    u[0] = w1 * w2
    b = lam + var
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            e = b * w1 * w2 - lam  # dl/du of the data and noise terms
            w1, w2 = w1 - lr * (e * w2 + gamma * w1), w2 - lr * (e * w1 + gamma * w2)
            u[t + 1] = w1 * w2
    return u


def steps_to_converge(u: np.ndarray, target, tol: float) -> np.ndarray:
    """First step from which ``|u_t - target| <= tol |target|`` holds for every later
    recorded step, along axis 0 of ``u``; ``-1`` where it never settles (a divergent or
    still oscillating run). Returns an int array of ``u.shape[1:]``."""
    u = np.asarray(u, dtype=float)
    with np.errstate(invalid="ignore"):
        ok = np.abs(u - target) <= tol * np.abs(target)
    n = u.shape[0]
    # index of the last failing step + 1 (0 if none fails)
    last_bad = n - np.argmax(~ok[::-1], axis=0)
    last_bad = np.where(np.all(ok, axis=0), 0, last_bad)
    return np.where(ok[-1], last_bad, -1).astype(int)


def optimal_step(lam, var, gamma, u0: float, tol: float = 1e-2, *, imbalance: float = 0.0,
                 steps: int = 5000, grid: int = 400) -> tuple[float, int]:
    """The step size in ``(0, 1/(lam - gamma))`` (the stable range of the balanced recursion,
    ``0 < h < 1``) that reaches ``tol`` relative to the fixed point in the fewest steps of
    :func:`scalar_gradient_descent`, on a grid of ``grid`` values of ``h = lr (lam - gamma)``;
    returns ``(lr, steps)`` (``(nan, -1)`` if no grid value settles within ``steps``)."""
    lam, var, gamma = float(lam), float(var), float(gamma)
    if not lam > gamma:
        raise ValueError(f"lam must be > gamma (a living mode), got lam={lam}, gamma={gamma}")
    target = float(mode_fixed_point(lam, var, gamma))
    h = np.linspace(0.0, 1.0, grid + 1)[1:-1]
    lr = h / (lam - gamma)
    n = steps_to_converge(scalar_gradient_descent(lam, var, gamma, lr, steps, u0, imbalance),
                          target, tol)
    if np.all(n < 0):
        return float("nan"), -1
    i = int(np.argmin(np.where(n < 0, np.iinfo(int).max, n)))
    return float(lr[i]), int(n[i])


def noise_vs_decay_rows(lam: float, noises, u0: float = 1e-6, tol: float = 1e-2, *,
                        imbalance: float = 1e-2, steps: int = 5000,
                        grid: int = 400) -> list[dict[str, Any]]:
    """One row per noise level of the scalar model (``N = 1``), noise against the weight decay
    with the same fixed point.

    Columns: the equivalent weight decay, the common fixed point, the paper's step sizes and
    the flow rates per step they give (``2 lam lr`` and ``2 (lam - gamma) lr``), the largest
    locally stable step ``2 / (largest Hessian eigenvalue at the fixed point)`` of each model,
    and the measured number of gradient-descent steps to reach ``tol`` of the fixed point from
    ``u0``: at the paper's step sizes, at a common step size (the DAE's), at the weight-decay
    step size of the paper's Figure 3 code, ``(lam + var)/(2 lam (lam + 2 var))``, and at each
    model's own best step size on a grid (:func:`optimal_step`), once from an exactly balanced
    start and once with the relative ``imbalance``. ``-1`` steps means the run did not settle
    within ``steps``.
    """
    lam = float(_positive("lam", lam, allow_zero=False))
    rows = []
    for var in np.atleast_1d(_positive("noises", noises)).tolist():
        gamma = float(equivalent_weight_decay(lam, var))
        target = float(mode_fixed_point(lam, var, 0.0))
        lr_dae, lr_wd = (float(x) for x in paper_optimal_learning_rates(lam, var))
        lr_fig3 = (lam + var) / (2.0 * lam * (lam + 2.0 * var))
        w_star = np.sqrt(target)
        top_dae = float(np.linalg.eigvalsh(scalar_hessian(w_star, w_star, lam, var, 0.0))[-1])
        top_wd = float(np.linalg.eigvalsh(scalar_hessian(w_star, w_star, lam, 0.0, gamma))[-1])

        def count(v, g, lr, target=target):
            u = scalar_gradient_descent(lam, v, g, lr, steps, u0)
            return int(steps_to_converge(u, target, tol))

        row: dict[str, Any] = {
            "lam": lam, "var": var, "gamma_equivalent": gamma, "fixed_point": target,
            "lr_dae_paper": lr_dae, "lr_wd_paper": lr_wd,
            "rate_dae_paper": 2.0 * lam * lr_dae, "rate_wd_paper": 2.0 * (lam - gamma) * lr_wd,
            "lr_dae_stable_max": 2.0 / top_dae, "lr_wd_stable_max": 2.0 / top_wd,
            "steps_dae_paper_lr": count(var, 0.0, lr_dae),
            "steps_wd_paper_lr": count(0.0, gamma, lr_wd),
            "steps_wd_at_dae_lr": count(0.0, gamma, lr_dae),
            "lr_wd_figure3_code": lr_fig3,
            "steps_wd_figure3_lr": count(0.0, gamma, lr_fig3),
        }
        for label, rho in (("balanced", 0.0), ("perturbed", imbalance)):
            for model, v, g in (("dae", var, 0.0), ("wd", 0.0, gamma)):
                best = optimal_step(lam, v, g, u0, tol, imbalance=rho, steps=steps, grid=grid)
                row[f"lr_{model}_best_{label}"], row[f"steps_{model}_best_{label}"] = best
        rows.append(row)
    return rows
