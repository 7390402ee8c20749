"""The convergence experiments on ReLU autoencoders (docs/relu_autoencoders.md), as rows.

Pure functions: each returns a list of dicts (one per run or per summary) and calls
``progress()`` once per gradient-descent run, so that the command line and the benchmark can
show progress and write the tables. Inputs are independent uniform unit vectors
(:func:`~rmtrisk.dynamics.relu_training.unit_inputs`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from .relu_gram import kron_identity, limiting_gram, predicted_loss_factor
from .relu_training import (
    empirical_ntk,
    fit_loss_factor,
    init_autoencoder,
    train_relu_autoencoder,
    unit_inputs,
)

__all__ = ["THRESHOLD_WIDTHS", "linearized_losses", "rate_experiment", "threshold_experiment",
           "tied_experiment"]

#: widths tried by :func:`threshold_experiment` unless given
THRESHOLD_WIDTHS = (5, 10, 15, 20, 30, 40, 60, 80, 120, 160, 240, 320)

Progress = Callable[[], None] | None


def _tick(progress: Progress) -> None:
    if progress is not None:
        progress()


def linearized_losses(gram: np.ndarray, R0: np.ndarray, eta: float, steps: int) -> np.ndarray:
    """``1/2 |(I - eta gram ⊗ I_d)^t r_0|^2`` for ``t = 0..steps``: the loss curve of gradient
    descent on the model linearized with the kernel ``gram ⊗ I_d`` (``R0`` the ``d x n``
    initial residual)."""
    lam, Q = np.linalg.eigh(np.asarray(gram, dtype=np.float64))
    weights = np.sum((Q.T @ np.asarray(R0, dtype=np.float64).T) ** 2, axis=1)  # per eigenvalue
    t = np.arange(steps + 1)[:, None]
    with np.errstate(under="ignore"):
        return 0.5 * np.sum(weights * (1.0 - eta * lam) ** (2 * t), axis=1)


def rate_experiment(d: int, n_values: Sequence[int], widths: Sequence[int],
                    regimes: Sequence[str] = ("weak", "joint"), seeds: Sequence[int] = (0,),
                    data_seed: int = 1000, max_iter: int = 20_000, tol: float = 1e-12,
                    window: tuple[float, float] = (1e-3, 1e-10),
                    progress: Progress = None) -> list[dict]:
    """Observed per-step loss factor against the ones the kernels predict.

    For each ``n``, regime, width and seed: gradient descent with ``eta = 1 / lambda_max`` of
    the limiting kernel; the factor fitted on ``L_t / L_0`` in ``window``
    (``rho_observed``), the asymptotic prediction ``(1 - eta lambda_min)^2`` of the limit
    (``rho_limit``), the same fit on the loss curve of the model linearized with the limiting
    kernel from the run's own initial residual (``rho_linearized``), the asymptotic prediction
    of the final finite-width kernel (``rho_final_kernel``) and the operator-norm distances of
    the initial and final kernels from the limit.
    """
    rows = []
    upper, lower = window
    for n in n_values:
        X = unit_inputs(d, n, data_seed + n)
        for regime in regimes:
            gram = limiting_gram(X, regime)
            lam = np.linalg.eigvalsh(gram)
            eta = 1.0 / lam[-1]
            K_inf = kron_identity(gram, d)
            for m in widths:
                for seed in seeds:
                    net = init_autoencoder(d, m, regime, seed)
                    res = train_relu_autoencoder(X, eta=eta, max_iter=max_iter, tol=tol,
                                                 network=net)
                    lin = linearized_losses(gram, net(X) - X, eta, len(res.losses) - 1)
                    K0, KT = empirical_ntk(net, X), empirical_ntk(res.final, X)
                    rows.append({
                        "regime": regime, "d": d, "n": n, "m": m, "seed": seed, "eta": eta,
                        "lambda_min": float(lam[0]), "lambda_max": float(lam[-1]),
                        "rho_observed": fit_loss_factor(res.losses, upper, lower),
                        "rho_linearized": fit_loss_factor(lin, upper, lower),
                        "rho_limit": predicted_loss_factor(eta, lam),
                        "rho_final_kernel": predicted_loss_factor(eta, np.linalg.eigvalsh(KT)),
                        "kernel_dev_init": float(np.linalg.norm(K0 - K_inf, 2)),
                        "kernel_dev_final": float(np.linalg.norm(KT - K_inf, 2)),
                        "status": res.status, "iterations": res.iterations})
                    _tick(progress)
    return rows


def threshold_experiment(d: int, n_values: Sequence[int], widths: Sequence[int] | None = None,
                         regimes: Sequence[str] = ("weak", "joint"),
                         seeds: Sequence[int] = (0, 1, 2, 3, 4), data_seed: int = 2000,
                         max_iter: int = 10_000, tol: float = 1e-6,
                         progress: Progress = None) -> tuple[list[dict], list[dict]]:
    """Smallest width at which gradient descent reaches ``L <= tol L_0`` within ``max_iter``
    steps (step ``1 / lambda_max`` of the run's initial finite-width kernel).

    For each ``n``, regime and seed the widths are tried in increasing order (default
    :data:`THRESHOLD_WIDTHS`) until one converges.
    Returns the per-run rows and one summary row per ``(n, regime)``: median, min and max over
    seeds of the smallest converging width (``nan`` for a seed that converged at none).
    """
    if widths is not None and (not widths or min(widths) < 1):
        raise ValueError(f"widths must be integers >= 1, got {widths!r}")
    runs, summary = [], []
    for n in n_values:
        X = unit_inputs(d, n, data_seed + n)
        grid = sorted(set(THRESHOLD_WIDTHS if widths is None else widths))
        for regime in regimes:
            firsts = []
            for seed in seeds:
                first = math.nan
                for m in grid:
                    res = train_relu_autoencoder(X, m, regime, max_iter=max_iter, tol=tol,
                                                 seed=seed)
                    runs.append({"regime": regime, "d": d, "n": n, "m": m, "seed": seed,
                                 "status": res.status, "iterations": res.iterations,
                                 "eta": res.eta,
                                 "relative_final_loss": res.final_loss / res.losses[0]})
                    _tick(progress)
                    if res.converged:
                        first = m
                        break
                firsts.append(first)
            ok = np.array([f for f in firsts if not math.isnan(f)], dtype=np.float64)
            summary.append({
                "regime": regime, "d": d, "n": n, "seeds": len(seeds),
                "converged_seeds": int(ok.size),
                "m_median": float(np.median(firsts)) if ok.size == len(firsts) else math.nan,
                "m_min": float(ok.min()) if ok.size else math.nan,
                "m_max": float(ok.max()) if ok.size == len(firsts) else math.nan,
                "m_per_seed": firsts, "widths": grid, "max_iter": max_iter, "tol": tol})
    return runs, summary


def _linear_fit(net, Xt: np.ndarray) -> tuple[float, float, float, float]:
    """Best scalar ``c`` with ``u(x) ~ c x``, ``|M - I|_F`` of the best linear map ``M``, the
    relative size of what no linear map explains and ``|u(x) - x| / |x|`` on ``Xt``."""
    U = net(Xt)
    M = U @ np.linalg.pinv(Xt)
    c = float(np.sum(U * Xt) / np.sum(Xt * Xt))
    nonlinear = float(np.linalg.norm(U - M @ Xt) / np.linalg.norm(U))
    error = float(np.linalg.norm(U - Xt) / np.linalg.norm(Xt))
    return c, float(np.linalg.norm(M - np.eye(Xt.shape[0]))), nonlinear, error


def tied_experiment(d: int, n: int, widths: Sequence[int],
                    regimes: Sequence[str] = ("tied", "weak", "joint"),
                    scales: Sequence[str] = ("ntk", "mean-field"), seed: int = 0,
                    data_seed: int = 3000, test_points: int = 2000, max_iter: int = 20_000,
                    tol: float = 1e-10, progress: Progress = None) -> list[dict]:
    """What a network learns from random initialization, judged off the training set.

    For each regime, output scale (``"ntk"``: ``alpha = 1/sqrt(m)``; ``"mean-field"``:
    ``alpha = 1/m``, tied only) and width: the best scalar ``c`` in ``u(x) ~ c x`` at
    initialization and after training (on ``test_points`` fresh unit vectors), the distance of
    the best linear map from the identity, the part no linear map explains, the relative test
    error ``|u(x) - x| / |x|``, how far the weights moved and by what factor their norm changed.
    """
    X = unit_inputs(d, n, data_seed + n)
    Xt = unit_inputs(d, test_points, data_seed + 1)
    rows = []
    for regime in regimes:
        for scale in scales:
            if scale not in ("ntk", "mean-field"):
                raise ValueError(f"scales must be 'ntk' or 'mean-field', got {scale!r}")
            if regime != "tied" and scale != "ntk":
                continue
            for m in widths:
                alpha = 1.0 / math.sqrt(m) if scale == "ntk" else 1.0 / m
                net = init_autoencoder(d, m, regime, seed, alpha)
                c0, _, nl0, err0 = _linear_fit(net, Xt)
                res = train_relu_autoencoder(X, max_iter=max_iter, tol=tol, network=net)
                c1, dist1, nl1, err1 = _linear_fit(res.final, Xt)
                W0, W1 = net.W, res.final.W
                rows.append({
                    "regime": regime, "scale": scale, "d": d, "n": n, "m": m, "seed": seed,
                    "c_init": c0,
                    "c_init_predicted": alpha * m / 2.0 if regime == "tied" else 0.0,
                    "nonlinear_init": nl0, "test_error_init": err0,
                    "status": res.status, "iterations": res.iterations, "eta": res.eta,
                    "loss_init": float(res.losses[0]), "loss_final": res.final_loss,
                    "c_final": c1, "linear_map_minus_identity": dist1,
                    "nonlinear_final": nl1, "test_error_final": err1,
                    "weight_move": float(np.linalg.norm(W1 - W0) / np.linalg.norm(W0)),
                    "weight_norm_ratio": float(np.linalg.norm(W1) / np.linalg.norm(W0))})
                _tick(progress)
    return rows
