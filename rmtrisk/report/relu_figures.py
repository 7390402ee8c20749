"""Figures of the ReLU-autoencoder experiments (matplotlib, imported when a figure is drawn)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["loss_curves_figure"]


def loss_curves_figure(curves: Mapping[str, Sequence[float]], title: str = "") -> Any:
    """Relative training loss ``L_t / L_0`` against the step ``t`` (log scale), one line each.

    Parameters
    ----------
    curves : mapping of str to sequence of float
        Label -> loss history (``losses[0]`` at initialization).
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
    for label, losses in curves.items():
        losses = np.asarray(losses, dtype=np.float64)
        ax.semilogy(np.arange(losses.size), losses / losses[0], label=label)
    ax.set_xlabel("gradient step t")
    ax.set_ylabel("L_t / L_0")
    if title:
        ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
