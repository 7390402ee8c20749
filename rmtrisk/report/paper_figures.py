"""The figures of :mod:`rmtrisk.report.reproduce`: test error, variance and bias against c.

Conventions of every figure of this kind: the corrected theory is a solid line (the
``d -> infinity`` limit, so the title carries no d), the published formula the same colour
dashed and named in the legend, Monte Carlo points with 1-standard-error bars (circles: the
Gaussian model with the data's spectrum; triangles: training on the data's own matrix), the
divergence at c = 1 drawn as an asymptote (grey line; the curves rise towards it, never joined
across), and a log y-axis on every panel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .reproduce import Curves, Point

__all__ = ["reproduced_figure"]

_QUANTITIES = (("risk", "test error", 0), ("variance", "variance", 2), ("bias", "bias", 1))


def reproduced_figure(curves: Curves, points: Sequence[Point] = (), title: str = "") -> Any:
    """Three panels (test error, variance, bias) against ``c``, one colour per curve.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    fig, axes = plt.subplots(1, 3, figsize=(14.5, 4.4), constrained_layout=True)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    order = np.argsort(curves.c)
    c = curves.c[order]
    crosses_one = c.min() < 1 < c.max()
    for ax, (name, label, col) in zip(axes, _QUANTITIES, strict=True):
        for i, curve_label in enumerate(curves.labels):
            colour = colours[i % len(colours)]
            y = curves.corrected[name][i][order]
            if crosses_one:  # two branches towards the asymptote, not one peak
                cut = np.searchsorted(c, 1.0)
                cx, y = np.insert(c, cut, 1.0), np.insert(y, cut, np.nan)
            else:
                cx = c
            ax.plot(cx, np.where(y > 0, y, np.nan), color=colour, lw=1.6)
            pub = curves.published[name][i][order]
            if np.any(np.isfinite(pub)):
                ax.plot(c, np.where(pub > 0, pub, np.nan), color=colour, lw=1.2, ls="--")
            for p in points:
                if p.label != curve_label:
                    continue
                for est, marker, dx in ((p.gaussian, "o", 0.997), (p.real, "^", 1.003)):
                    if est is None:
                        continue
                    ax.errorbar(p.c * dx, est[col], yerr=est[col + 3], fmt=marker,
                                color=colour, ms=5, mfc="white" if marker == "^" else colour,
                                capsize=2, lw=1)
        if crosses_one:
            ax.axvline(1.0, color="0.6", lw=0.9)
        ax.set_yscale("log")
        ax.set_xlabel("c = d / N")
        ax.set_title(label, fontsize="medium")
    handles = [Line2D([], [], color=colours[i % len(colours)], lw=1.6, label=lab)
               for i, lab in enumerate(curves.labels)]
    handles += [Line2D([], [], color="k", lw=1.6, label="corrected theory (d → ∞)"),
                Line2D([], [], color="k", lw=1.2, ls="--",
                       label="published formula (Ham et al. 2025, c > 1)")]
    if any(p.gaussian is not None for p in points):
        handles.append(Line2D([], [], color="k", marker="o", ls="none",
                              label="Monte Carlo, Gaussian model (± 1 SE)"))
    if any(p.real is not None for p in points):
        handles.append(Line2D([], [], color="k", marker="^", mfc="white", ls="none",
                              label="Monte Carlo, data's own matrix (± 1 SE)"))
    if crosses_one:
        handles.append(Line2D([], [], color="0.6", lw=0.9, label="c = 1: the risk diverges"))
    axes[0].legend(handles=handles, fontsize=7.5, loc="best")
    if title:
        fig.suptitle(title, fontsize="medium")
    return fig
