"""Figure of the test risk over gradient-flow time (theory curve, Monte Carlo points)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["risk_over_time_figure"]


def risk_over_time_figure(time: np.ndarray, risk: np.ndarray, *, bias: np.ndarray | None = None,
                          variance: np.ndarray | None = None, mc_time: np.ndarray | None = None,
                          mc_risk: np.ndarray | None = None, mc_se: np.ndarray | None = None,
                          levels: dict[str, float] | None = None, title: str = "") -> Any:
    """Risk (and its split) against time on a log axis, with optional Monte Carlo points.

    Parameters
    ----------
    time, risk : ndarray
        The theory curve (``time > 0``).
    bias, variance : ndarray, optional
        Its split, drawn thin.
    mc_time, mc_risk, mc_se : ndarray, optional
        Monte Carlo means with error bars of 2 standard errors.
    levels : dict, optional
        Horizontal reference lines by label (e.g. ``R(inf)``, ``R(lambda*)``).
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(time, risk, color="C0", label="risk (theory)")
    if bias is not None:
        ax.plot(time, bias, color="C1", lw=0.8, label="bias")
    if variance is not None:
        ax.plot(time, variance, color="C2", lw=0.8, label="variance")
    if mc_time is not None and mc_risk is not None:
        ax.errorbar(mc_time, mc_risk, yerr=None if mc_se is None else 2 * np.asarray(mc_se),
                    fmt="o", ms=4, color="k", label="Monte Carlo (± 2 SE)")
    for i, (label, value) in enumerate((levels or {}).items()):
        if np.isfinite(value):
            ax.axhline(value, ls="--", lw=0.8, color=f"C{3 + i}", label=label)
    ax.set_xscale("log")
    ax.set_xlabel("gradient-flow time t")
    ax.set_ylabel("test risk")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
