"""Matplotlib figures (optional dependency: ``pip install rmtrisk[plot]``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..problem import Problem
from ..theory import asymptotic_risk, risk_grid

__all__ = ["phase_figure", "risk_curve", "risk_curve_figure", "risk_parts_figure"]


def risk_curve(problem: Problem, c_values: Sequence[float], variant: str = "default",
               finite_size: bool = False, with_status: bool = False) -> Any:
    """Asymptotic risk of ``problem`` at each aspect ratio in ``c_values`` (nan if unsupported).

    ``d`` is kept and ``N = round(d / c)``; c = 1 (without regularization) gives ``inf``.
    With ``with_status`` also a boolean array: which values are ``SUCCESS``.
    """
    out = np.empty(len(c_values))
    ok = np.zeros(len(c_values), dtype=bool)
    for i, c in enumerate(c_values):
        res = asymptotic_risk(problem.replace(c=float(c)), variant, finite_size=finite_size,
                              throw=False)
        out[i] = res.risk
        ok[i] = res.status.ok
    return (out, ok) if with_status else out


def _break_at_one(c: np.ndarray, y: np.ndarray, diverges: bool) -> tuple[np.ndarray, np.ndarray]:
    """Insert a gap (nan) where ``c`` crosses 1 when the risk diverges there (``reg = 0``), so
    that the two branches rise towards the asymptote instead of meeting in a grid peak."""
    if not diverges:
        return c, y
    cut = np.searchsorted(c, 1.0)
    if cut in (0, c.size):
        return c, y
    return np.insert(c, cut, 1.0), np.insert(np.asarray(y, dtype=float), cut, np.nan)


def risk_curve_figure(problem: Problem, c_values: Sequence[float],
                      k_values: Sequence[int] | None = None, *,
                      reg_values: Sequence[float] | None = None, paper: bool = True,
                      monte_carlo: dict[tuple[float, float], tuple[float, float]] | None = None
                      ) -> Any:
    """Risk against ``c`` for several bottleneck widths or regularizations.

    The double-descent picture: with ``k_values`` one curve per width (at the problem's
    ``reg``), with ``reg_values`` one curve per product regularization (at the problem's ``k``:
    how ``lambda > 0`` removes the peak at ``c = 1``).

    Parameters
    ----------
    problem : Problem
        Template (its ``k`` is used when ``k_values`` is None).
    c_values : sequence of float
        Aspect ratios on the x axis (log scale).
    k_values : sequence of int, optional
        Bottleneck widths, one curve each.
    reg_values : sequence of float, optional
        Regularizations ``lambda >= 0``, one curve each (not together with ``k_values``).
    paper : bool
        Also draw the published formula (dashed) where it applies (c > 1, reg = 0).
    monte_carlo : dict, optional
        ``{(k or reg, c): (mean, stderr)}`` drawn as error bars (3 standard errors); points
        above the theory's range as triangles at the top edge.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if k_values and reg_values:
        raise ValueError("give k_values or reg_values, not both")
    if reg_values:
        curves = [(float(r), f"reg = {r:g}", problem.replace(reg=float(r), critical_set=None))
                  for r in reg_values]
        fixed = f"k = {problem.k}"
    else:
        curves = [(int(k), f"k = {k}", problem.replace(k=int(k), critical_set=None))
                  for k in (k_values or [problem.k])]
        fixed = f"reg = {problem.reg:g}"
    c_values = np.asarray(c_values, dtype=float)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    colors = {}
    doubtful = False
    for value, label, p in curves:
        risk, ok = risk_curve(p, c_values, with_status=True)
        (line,) = ax.plot(*_break_at_one(c_values, np.where(ok, risk, np.nan), p.reg == 0),
                          label=label)
        colors[value] = line.get_color()
        if not np.all(ok | ~np.isfinite(risk)):  # values without SUCCESS: dotted, not hidden
            near = ~ok | np.convolve(~ok, [1, 1, 1], mode="same").astype(bool)
            ax.plot(*_break_at_one(c_values, np.where(near & np.isfinite(risk), risk, np.nan),
                                   p.reg == 0), ls=":", color=line.get_color())
            doubtful = True
        if paper and p.reg == 0:
            right = c_values > 1
            ax.plot(c_values[right], risk_curve(p, c_values[right], "paper"), ls="--",
                    color=line.get_color(), alpha=0.7)
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    ax.set_xscale("log")
    # the y range follows the theory; Monte Carlo points above it (e.g. c = 1 without
    # regularization, where the finite-d risk is huge too) are drawn as triangles at the top
    finite = [v for line in ax.get_lines() for v in line.get_ydata() if np.isfinite(v) and v > 0]
    if finite:
        lo, hi = min(finite), max(finite)
        if hi / lo > 10:
            ax.set_yscale("log")
            ax.set_ylim(lo / 1.2, hi * 1.2)
        else:
            pad = 0.05 * (hi - lo) or 0.05 * hi
            ax.set_ylim(lo - pad, hi + pad)
    top = ax.get_ylim()[1]
    shown = {"inside": False, "above": False}
    for (v, c), (mean, se) in (monte_carlo or {}).items():
        if v not in colors:
            continue
        if mean > top:
            ax.plot([c], [top], marker="^", color=colors[v], ms=6, clip_on=False)
            shown["above"] = True
        else:
            ax.errorbar([c], [mean], yerr=[3 * se], fmt="o", color=colors[v], ms=4, capsize=2)
            shown["inside"] = True
    ticks = [t for t in (0.1, 0.25, 0.5, 1, 2, 4, 10, 20) if c_values.min() <= t <= c_values.max()]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.axvline(1.0, color="0.7", lw=0.8)
    ax.set_xlabel("c = d / N")
    ax.set_ylabel("test risk")
    from matplotlib.lines import Line2D

    arch = "skip connection" if problem.skip else "bottleneck, no skip"
    # the curves are the default terms (limit + O(r/d) interaction), which depend on d
    ax.set_title(f"{arch}, theory at d = {problem.d}, {fixed}", fontsize=9)
    handles, _ = ax.get_legend_handles_labels()
    if paper and any(p.reg == 0 for *_, p in curves):
        handles.append(Line2D([], [], color="k", ls="--", alpha=0.7,
                              label="published formula (Ham et al. 2025, c > 1)"))
    if doubtful:
        handles.append(Line2D([], [], color="k", ls=":", label="status not SUCCESS (e.g. the "
                              "O(r/d) term not trusted: limit)"))
    if shown["inside"]:
        handles.append(Line2D([], [], color="k", marker="o", ls="none",
                              label="Monte Carlo (± 3 SE)"))
    if shown["above"]:
        handles.append(Line2D([], [], color="k", marker="^", ls="none",
                              label="Monte Carlo above the axis"))
    if any(p.reg == 0 for *_, p in curves) and c_values.min() < 1 < c_values.max():
        handles.append(Line2D([], [], color="0.7", lw=0.8, label="c = 1: the risk diverges"))
    ax.legend(handles=handles, fontsize=8)
    fig.tight_layout()
    return fig


def phase_figure(x: np.ndarray, y: np.ndarray, panels: Sequence[tuple], *, xlabel: str,
                 ylabel: str, zlabel: str, title: str, diverging: bool = True,
                 ylog: bool = False, xline: float | None = None,
                 boundary: np.ndarray | None = None) -> Any:
    """Heat maps over ``(x[i], y[j])``, one panel per ``(z, subtitle, curve)`` in ``panels``.

    ``z`` has shape ``(ny, nx)``; non-finite cells are left blank (grey). With ``diverging``
    the colour scale is centred at 0, shared by the panels, and the zero contour is drawn (a
    phase boundary); otherwise each panel has its own sequential scale and colour bar.
    ``curve`` (or None) is ``(xs, ys)`` drawn on top (e.g. an optimum ``y*(x)``). ``x`` is on
    a log scale, ``y`` with ``ylog``. ``boundary`` (shape ``(ny, nx)``): its zero contour is
    drawn dashed on every panel (e.g. the theory's phase boundary over a Monte Carlo map).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.colors as mcolors
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    masked = [np.ma.masked_invalid(np.asarray(z, dtype=float)) for z, _, _ in panels]
    if diverging:
        values = np.concatenate([m.compressed() for m in masked])
        span = float(np.max(np.abs(values))) if values.size else 1.0
        norm = mcolors.TwoSlopeNorm(vcenter=0.0, vmin=-(span or 1.0), vmax=span or 1.0)
        cmap = "RdBu"
    else:
        norm, cmap = None, "viridis"
    fig, axes = plt.subplots(1, len(panels), figsize=(6.4 * len(panels), 4.6),
                             constrained_layout=True, squeeze=False)
    lo_x, hi_x = float(np.min(x)), float(np.max(x))
    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50) if lo_x <= t <= hi_x]
    for ax, zm, (_, subtitle, curve) in zip(axes[0], masked, panels, strict=True):
        ax.set_facecolor("0.85")
        mesh = ax.pcolormesh(x, y, zm, cmap=cmap, norm=norm, shading="nearest")
        if not diverging:
            fig.colorbar(mesh, ax=ax, label=zlabel)
        if diverging and zm.count() and float(zm.min()) < 0 < float(zm.max()):
            ax.contour(x, y, zm.filled(np.nan), levels=[0.0], colors="k", linewidths=1.5)
        if curve is not None:
            ax.plot(curve[0], curve[1], color="w", linewidth=1.8, marker="o", markersize=2.5)
        if boundary is not None:
            bm = np.ma.masked_invalid(np.asarray(boundary, dtype=float))
            if bm.count() and float(bm.min()) < 0 < float(bm.max()):
                ax.contour(x, y, bm.filled(np.nan), levels=[0.0], colors="k",
                           linewidths=1.2, linestyles="--")
        if xline is not None:
            ax.axvline(xline, color="k", linestyle="--", linewidth=0.8)
        ax.set_xscale("log")
        if ylog:
            ax.set_yscale("log")
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(subtitle, fontsize="medium")
    fig.suptitle(title, fontsize="medium")
    if diverging:
        fig.colorbar(mesh, ax=axes[0].tolist(), label=zlabel)
    return fig


def risk_parts_figure(problem: Problem, c_values: Sequence[float], k_values: Sequence[int]
                      ) -> Any:
    """Risk, bias and variance against ``c`` (three panels), one curve per bottleneck width.

    Every value is :func:`~rmtrisk.theory.asymptotic_risk` of the problem at that ``(k, c)``
    (default terms), through :func:`~rmtrisk.theory.risk_grid`; cells without a usable value
    (``c = 1`` at ``reg = 0``) are left out. With a skip connection the bias can be negative
    (docs/conventions.md), so the bias panel has a linear scale.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    c_values = np.asarray(c_values, dtype=float)
    ks = np.asarray(list(k_values), dtype=int)
    spectrum = {"sv": problem.sv_array.tolist(), "test_energy": problem.test_energy_array.tolist()}
    grid = risk_grid(d=problem.d, **spectrum, c=c_values[None, :], k=ks[:, None],
                     reg=problem.reg, eta2_train=problem.eta2_train,
                     eta2_test=problem.eta2_test, skip=problem.skip)
    fig, axes = plt.subplots(1, 3, figsize=(13.5, 4.0), constrained_layout=True)
    ticks = [t for t in (0.1, 0.25, 0.5, 1, 2, 4, 10, 20) if c_values.min() <= t <= c_values.max()]
    for ax, name in zip(axes, ("risk", "bias", "variance"), strict=True):
        values = np.where(grid.success(), getattr(grid, name), np.nan)
        for row, k in enumerate(ks):
            ax.plot(*_break_at_one(c_values, values[row], problem.reg == 0), label=f"k = {k}")
        ax.set_xscale("log")
        if name != "bias" and np.nanmin(values) > 0 and np.nanmax(values) / np.nanmin(values) > 10:
            ax.set_yscale("log")
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.axvline(1.0, color="0.7", lw=0.8)
        ax.set_xlabel("c = d / N")
        ax.set_title(name, fontsize="medium")
    axes[0].legend(fontsize=8)
    arch = "skip connection" if problem.skip else "no skip"
    asymptote = "; at c = 1 the risk diverges (grey line)" if problem.reg == 0 else ""
    fig.suptitle(f"{arch}, d = {problem.d}, reg = {problem.reg:g} (default terms{asymptote})",
                 fontsize="medium")
    return fig
