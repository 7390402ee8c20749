"""Figures of the mode dynamics (``rmtrisk dynamics modes`` and ``noise-vs-decay``).

Plotting only (matplotlib, imported lazily): the values come from :mod:`rmtrisk.dynamics`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["modes_figure", "noise_vs_decay_figure"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def modes_figure(t: np.ndarray, closed: np.ndarray, labels: Sequence[str],
                 integrated: np.ndarray | None = None, *, fixed_points: np.ndarray,
                 title: str, integrated_label: str = "integrator"):
    """Mode trajectories ``u_i(t)`` (lines) with the integrator's values (dots) if given,
    their fixed points dotted, on a log time axis.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.6, 4.2))
    for i, label in enumerate(labels):
        (line,) = ax.plot(t, closed[:, i], label=label)
        ax.axhline(fixed_points[i], color=line.get_color(), ls=":", lw=0.8)
        if integrated is not None:
            step = max(1, t.size // 25)
            ax.plot(t[::step], integrated[::step, i], "o", ms=3.5, mfc="none",
                    color=line.get_color())
    if integrated is not None:
        ax.plot([], [], "o", ms=3.5, mfc="none", color="gray", label=integrated_label)
    ax.set_xscale("symlog", linthresh=max(float(t[1]) if t.size > 1 else 1.0, 1e-12))
    ax.set_xlabel("t = N s (gradient-flow time on the mean loss = learning rate x epochs)")
    ax.set_ylabel("mode value u_i = u_i^T W2 W1 u_i")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def noise_vs_decay_figure(t: np.ndarray, noise: np.ndarray, decay: np.ndarray,
                          rescaled: np.ndarray, rows: Sequence[dict], *, title: str):
    """Left: noise and equivalent-weight-decay trajectories at one step size (the decay
    trajectory drawn again on the rescaled time ``u* t``, where it lies on the noise one).
    Right: gradient-descent steps to reach the fixed point at each model's own best step
    size, exactly balanced and perturbed starts, against the noise level.

    ``noise``, ``decay`` and ``rescaled`` have shape ``(len(t), len(rows))``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for j, row in enumerate(rows):
        (line,) = ax1.plot(t, noise[:, j], label=f"noise var = {row['var']:g}")
        ax1.plot(t, decay[:, j], ls="--", color=line.get_color())
        ax1.plot(t[::12], rescaled[::12, j], "o", ms=3, mfc="none", color=line.get_color())
    ax1.plot([], [], "k--", label="weight decay, same fixed point")
    ax1.plot([], [], "ko", ms=3, mfc="none", label="weight decay at time t / u*")
    ax1.set_xlabel("t (flow time = learning rate x steps)")
    ax1.set_ylabel("u(t)")
    ax1.legend(fontsize=7)
    ax1.set_title("same step size: weight decay is slower by the factor u*", fontsize=9)
    var = [row["var"] for row in rows]

    def steps(key):
        return [row[key] if row[key] >= 0 else np.nan for row in rows]

    ax2.plot(var, steps("steps_dae_paper_lr"), "s-", label="noise, paper step 1/(2 lam + 3 var)")
    ax2.plot(var, steps("steps_wd_paper_lr"), "x--", label="decay, paper step 1/(2 lam + gamma)")
    ax2.plot(var, steps("steps_dae_best_perturbed"), "o-", label="noise, best step (perturbed)")
    ax2.plot(var, steps("steps_wd_best_perturbed"), "^-", label="decay, best step (perturbed)")
    ax2.plot(var, steps("steps_wd_best_balanced"), "v:", label="decay, best step (balanced)")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xticks(var, [f"{v:g}" for v in var])
    ax2.minorticks_off()
    ax2.set_xlabel("noise var (decay: gamma = lam var / (lam + var))")
    ax2.set_ylabel("gradient-descent steps to the fixed point")
    ax2.legend(fontsize=7)
    ax2.set_title("each model at its own step size", fontsize=9)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig
