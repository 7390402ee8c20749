"""The grid commands of the ``rmtrisk`` command line: ``table`` and ``phase``.

Parsing and writing only: the cells come from :func:`rmtrisk.theory.risk_grid` (and
:func:`rmtrisk.montecarlo.monte_carlo_risk` for the Monte Carlo maps).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from . import __version__
from .cli_data import add_data_options, data_from_args
from .montecarlo import monte_carlo_risk
from .problem import Problem
from .report.figures import phase_figure
from .report.tables import FORMATS, format_table
from .serialize import strict_json_value
from .status import Status
from .theory import VARIANTS, risk_grid
from .theory.outliers import outlier_map

__all__ = ["add_grid_commands", "cmd_phase", "cmd_table", "floats", "grid_values", "ints"]


def floats(text: str) -> list[float]:
    """argparse type: comma-separated numbers."""
    try:
        return [float(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")\
            from None


def ints(text: str) -> list[int]:
    """argparse type: comma-separated integers."""
    try:
        return [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")\
            from None


def grid_values(name: str, kind: type = float):
    """argparse type of a grid option: a list ``a,b,c`` or a range ``start:stop:count``
    (``count`` points, both ends included); ``kind`` is float, int or bool."""
    def parse(text: str) -> list:
        text = text.replace(" ", "")
        try:
            if kind is bool:
                words = {"0": False, "1": True, "false": False, "true": True, "no": False,
                         "yes": True}
                values = [words[x.lower()] for x in text.split(",") if x]
            elif ":" in text:
                lo, hi, count = text.split(":")
                if int(count) < 1:
                    raise ValueError
                values = np.linspace(float(lo), float(hi), int(count)).tolist()
            else:
                values = [float(x) for x in text.split(",") if x]
        except (ValueError, KeyError):
            what = ("a list of true/false, e.g. false,true" if kind is bool else
                    "a list a,b,c or a range start:stop:count")
            raise argparse.ArgumentTypeError(f"--{name}: expected {what}, got {text!r}") from None
        if not values:
            raise argparse.ArgumentTypeError(f"--{name}: no values in {text!r}")
        if kind is int:
            if any(v != round(v) for v in values):
                raise argparse.ArgumentTypeError(f"--{name}: expected integers, got {text!r}")
            values = [int(round(v)) for v in values]
        return values
    return parse


#: The options that may take lists in ``table`` and ``sweep``, in column order.
GRID_AXES = ("c", "n", "k", "kappa", "reg", "eta2_train", "eta2_test", "skip")


def grid_axes(args: argparse.Namespace) -> dict[str, list]:
    """The grid options given (``GRID_AXES`` order), with the default example's aspect
    ratio, bottleneck width and noise levels where they are not given."""
    base = Problem.default()
    grid: dict[str, list] = {name: getattr(args, name) for name in GRID_AXES
                             if getattr(args, name, None) is not None}
    if not {"c", "n"} & grid.keys():
        grid["c"] = [base.c]
    if not {"k", "kappa"} & grid.keys():
        grid["k"] = [base.k]
    for name in ("eta2_train", "eta2_test"):
        grid.setdefault(name, [getattr(base, name)])
    return {name: grid[name] for name in GRID_AXES if name in grid}


def cmd_table(args: argparse.Namespace) -> int:
    """``rmtrisk table``: one row per cell of the outer product of the grid options."""
    base = Problem.default()
    grid = grid_axes(args)
    d_data, spectrum = grid_spectrum(args, base)
    axes = list(grid)
    shaped = {name: np.reshape(grid[name], [-1 if i == j else 1 for j in range(len(axes))])
              for i, name in enumerate(axes)}
    rows = []
    ds = [d_data] if d_data else (args.d or [base.d])
    with progress_bar(len(ds) * int(np.prod([len(v) for v in grid.values()]))) as bar:
        for d in ds:
            res = risk_grid(d=d, **spectrum, **shaped, critical_set=args.critical_set,
                            variant=args.variant, finite_size=args.finite_size,
                            limit=args.limit, progress=bar.update)
            rows += [{"d": d, **row} for row in res.rows()]
    columns = ["d", *[c for c in rows[0] if c != "d"]] if rows else []
    machine = args.format in ("csv", "json")
    text = format_table(rows, columns, fmt=args.format, digits=None if machine else args.digits)
    bad = sum(row["status"] != "SUCCESS" for row in rows)
    if args.output:
        out = Path(args.output)
        out.write_text(text + "\n", encoding="utf-8")
        meta = {"command": ["rmtrisk", *args.argv], "version": __version__,
                "grid": grid, "d": ds, "data": args.data, **spectrum,
                "critical_set": args.critical_set, "variant": args.variant,
                "finite_size": args.finite_size, "limit": args.limit, "rows": len(rows),
                "columns": columns}
        meta_path = out.with_name(out.name + ".meta.json")
        _write_meta(meta_path, meta)
        print(f"wrote {out} ({len(rows)} rows) and {meta_path}", file=sys.stderr)
    else:
        print(text)
    if bad:
        print(f"note: {bad} of {len(rows)} cells are not SUCCESS (see the status column)",
              file=sys.stderr)
    return 0


def cmd_phase(args: argparse.Namespace) -> int:
    """``rmtrisk phase KIND``: the diagram's maps, figure, data and metadata."""
    base = Problem.default()
    d_data, spectrum = grid_spectrum(args, base)
    d = d_data or args.d or base.d
    eta = {name: getattr(base, name) if getattr(args, name) is None else getattr(args, name)
           for name in ("eta2_train", "eta2_test")}  # eta2_test = 0 is a valid choice
    common = dict(d=d, **spectrum, **eta, finite_size=args.finite_size, limit=args.limit)
    terms = "limit" if args.limit else ("finite-size" if args.finite_size else
                                         "limit + interaction O(r/d)")
    default_c = np.geomspace(0.2, 5, {"skip-advantage": 49, "regularization": 25,
                                      "bottleneck": 17, "training-noise": 17,
                                      "outliers": 33}[args.kind])
    c = np.asarray(default_c if args.c is None else args.c, dtype=float)
    if args.kind == "skip-advantage":
        ys, yname = np.asarray(args.kappa, dtype=float), "kappa"
        with progress_bar(2 * c.size * ys.size) as bar:
            grids = {skip: risk_grid(**common, c=c[None, :], kappa=ys[:, None], reg=args.reg,
                                     skip=skip, progress=bar.update) for skip in (False, True)}
        ok = grids[False].success() & grids[True].success()
        with np.errstate(invalid="ignore"):  # inf - inf at c = 1 (masked below)
            diff = np.where(ok, grids[False].risk - grids[True].risk, np.nan)
        panels = [(diff, "theory" if args.mc_reps else "", None)]
        extra = {"difference": diff}
        if args.mc_reps:
            mc_diff, mc_se = mc_difference(args, d, spectrum, eta, c, ys, ok)
            panels.append((mc_diff, f"Monte Carlo, {args.mc_reps} paired replicates "
                                    "(dashed: the theory's zero contour)", None))
            extra.update({"difference_mc": mc_diff, "difference_mc_stderr": mc_se})
        fig_kw = dict(ylabel="kappa = k / d", zlabel="R(no skip) - R(skip)",
                      title=f"where the skip connection lowers the risk (> 0, blue)\n"
                            f"d = {d}, reg = {args.reg:g}, terms: {terms}")
    elif args.kind in ("bottleneck", "training-noise"):
        ys = np.asarray(args.strength, dtype=float)
        base_spec = {key: np.asarray(val, dtype=float) for key, val in spectrum.items()}
        scaled = "sv" if "sv" in base_spec else "energy"
        r = base_spec[scaled].size
        if args.kind == "bottleneck":  # factor on the training signal; axis k
            yname, axis_name = "strength", "k"
            axes = {False: np.arange(1, min(r + 1, d) + 1),
                    True: np.unique(np.geomspace(1, d, 16).round().astype(int))}
        else:  # factor on the test energies; axis eta2_train
            yname, axis_name = "test_strength", "eta2_train"
            level = np.geomspace(1e-2, 1e1, 25) * eta["eta2_train"]
            axes = {False: level, True: level}
        total = int(ys.size * c.size * sum(v.size for v in axes.values()))
        grids, extra = {}, {}
        if axis_name == "eta2_train":
            extra["eta2_train_levels"] = axes[False]  # 1-D: into the npz and the metadata
        with progress_bar(total) as bar:
            for skip in (False, True):
                best, risk = optimum_map(args, d, base_spec, scaled, eta, c, ys, skip,
                                          axis_name, axes[skip], bar)
                name = "skip" if skip else "no_skip"
                star = "kappa_star" if axis_name == "k" else "eta2_train_star"
                extra[f"{star}_{name}"] = best / d if axis_name == "k" else best
                extra[f"risk_star_{name}"] = risk
        star = "kappa_star" if axis_name == "k" else "eta2_train_star"
        panels = [(extra[f"{star}_no_skip"] if axis_name == "k"
                   else np.log10(extra[f"{star}_no_skip"]),
                   "no skip (k* <= r + 1 suffices)" if axis_name == "k" else "no skip", None),
                  (extra[f"{star}_skip"] if axis_name == "k"
                   else np.log10(extra[f"{star}_skip"]), "skip connection", None)]
        if axis_name == "k":
            fig_kw = dict(ylabel=f"signal strength (x the {scaled}"
                                 f"{'^2' if scaled == 'sv' else ''})",
                          zlabel="k* / d", diverging=False, ylog=True,
                          title=f"optimal bottleneck k*/d over (c, signal strength), on the k "
                                f"grid\nd = {d}, reg = {args.reg:g}, terms: {terms}")
        else:
            fig_kw = dict(ylabel="test-signal strength (x the test energies)",
                          zlabel="log10 eta2_train*", diverging=False, ylog=True,
                          title=f"optimal training noise over (c, test-signal strength), on a "
                                f"25-level grid\nd = {d}, reg = {args.reg:g}, terms: {terms}")
    elif args.kind == "outliers":  # outlier emergence over (c, lambda)
        ys, yname = np.asarray(args.reg_values, dtype=float), "reg"
        kappa = args.kappa_value or (args.k or base.k) / d
        found = outlier_map(c, ys, d=d, kappa=kappa, **eta, **spectrum)
        kept = np.where(found["kept_skip"] >= 0, found["kept_skip"], np.nan)
        signal = np.broadcast_to(found["signal_no_skip"], kept.shape).astype(float)
        grids = {}
        extra = {"kept_outliers_skip": kept, "signal_outliers_no_skip": signal}
        panels = [(kept, f"skip connection: kept outlier eigenvalues (k = {kappa * d:g})", None),
                  (signal, "no skip: signal singular values of Y outside the bulk", None)]
        fig_kw = dict(ylabel="reg = lambda", zlabel="outliers", diverging=False, ylog=True,
                      title=f"where signal directions separate from the noise bulk\n"
                            f"d = {d}, kappa = {kappa:g}, leading order")
    else:  # regularization: log10 risk over (c, lambda) for both models, lambda*(c) drawn
        ys, yname = np.asarray(args.reg_values, dtype=float), "reg"
        width = {"kappa": args.kappa_value} if args.kappa_value else {"k": args.k or base.k}
        with progress_bar(2 * c.size * ys.size) as bar:
            grids = {skip: risk_grid(**common, c=c[None, :], reg=ys[:, None], skip=skip,
                                     progress=bar.update, **width) for skip in (False, True)}
        panels, extra = [], {}
        for skip, grid in grids.items():
            risk = np.where(grid.success(), grid.risk, np.nan)
            best = np.full(c.size, np.nan)
            for i in range(c.size):
                if np.any(np.isfinite(risk[:, i])):
                    best[i] = ys[int(np.nanargmin(risk[:, i]))]
            name = "skip" if skip else "no_skip"
            extra[f"lambda_star_{name}"] = best
            with np.errstate(divide="ignore", invalid="ignore"):
                panels.append((np.log10(risk), "skip connection" if skip else "no skip",
                               (c, best)))
        fig_kw = dict(ylabel="reg = lambda", zlabel="log10 risk", diverging=False, ylog=True,
                      title=f"risk over (c, lambda) with lambda*(c) on the grid (white)\n"
                            f"d = {d}, {', '.join(f'{k}={v}' for k, v in width.items())}, "
                            f"terms: {terms}")
    prefix = Path(args.out or args.kind.replace("-", "_"))
    prefix.parent.mkdir(parents=True, exist_ok=True)
    if grids:
        arrays = {"risk_no_skip": grids[False].risk, "risk_skip": grids[True].risk,
                  "status_no_skip": grids[False].status, "status_skip": grids[True].status}
    else:
        arrays = {}
    np.savez(prefix.with_suffix(".npz"), c=c, **{yname: ys}, **arrays, **extra)
    rows = []
    for j in range(ys.size):
        for i in range(c.size):
            row: dict[str, Any] = {"c": float(c[i]), yname: float(ys[j])}
            if grids:
                row.update({"k": int(grids[False].parameters["k"][j, i]),
                            "risk_no_skip": float(grids[False].risk[j, i]),
                            "risk_skip": float(grids[True].risk[j, i]),
                            "status_no_skip": status_name(grids[False].status[j, i]),
                            "status_skip": status_name(grids[True].status[j, i])})
            row.update({key: float(value[j, i]) for key, value in extra.items()
                        if np.ndim(value) == 2})
            rows.append(row)
    prefix.with_suffix(".csv").write_text(format_table(rows, fmt="csv", digits=None) + "\n",
                                          encoding="utf-8")
    if "difference_mc" in extra:
        fig_kw["boundary"] = extra["difference"]
    fig = phase_figure(c, ys, panels, xlabel="c = d / N", xline=1.0, **fig_kw)
    written = []
    for ext in (".png", ".svg"):
        fig.savefig(prefix.with_suffix(ext), dpi=150)
        written.append(str(prefix.with_suffix(ext)))
    bad = (int(np.sum(~(grids[False].success() & grids[True].success()))) if grids else
           int(sum(np.sum(~np.isfinite(v)) for key, v in extra.items()
                   if key.startswith(("kappa_star", "eta2_train_star", "kept_outliers")))))
    meta = {"command": ["rmtrisk", *args.argv], "version": __version__, "kind": args.kind,
            "d": d, **spectrum, **eta, "c": c.tolist(), yname: ys.tolist(), "terms": terms,
            "cells_without_value": bad,
            **{key: value.tolist() for key, value in extra.items()
               if key != "difference" and np.ndim(value) == 1}}
    _write_meta(prefix.with_suffix(".meta.json"), meta)
    print("wrote " + ", ".join([*written, *(str(prefix.with_suffix(e)) for e in
                                            (".npz", ".csv", ".meta.json"))]), file=sys.stderr)
    return 0


def mc_difference(args: argparse.Namespace, d: int, spectrum: dict, eta: dict, c: np.ndarray,
                   kappa: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo R(no skip) - R(skip) per cell (paired: both models on the same draws and
    seed) and its standard error; cells without a theory value are skipped (nan)."""
    diff = np.full((kappa.size, c.size), np.nan)
    se = np.full_like(diff, np.nan)
    with progress_bar(int(ok.sum()) * args.mc_reps * 2) as bar:
        for j, kap in enumerate(kappa):
            for i, ci in enumerate(c):
                if not ok[j, i]:
                    continue
                p = Problem(d=d, c=float(ci), kappa=float(kap), reg=args.reg, **spectrum,
                            **eta)
                plain, skip = (monte_carlo_risk(p.replace(skip=s), reps=args.mc_reps,
                                                seed=args.seed, progress=bar.update)
                               for s in (False, True))
                paired = plain.samples[:, 0] - skip.samples[:, 0]
                diff[j, i] = float(np.mean(paired))
                se[j, i] = float(np.std(paired, ddof=1) / np.sqrt(paired.size))
    return diff, se


def optimum_map(args: argparse.Namespace, d: int, base_spec: dict, scaled: str, eta: dict,
                 c: np.ndarray, ys: np.ndarray, skip: bool, axis_name: str,
                 axis: np.ndarray, bar) -> tuple[np.ndarray, np.ndarray]:
    """Per cell (strength ``ys[j]``, ``c[i]``): the ``axis`` value of smallest risk and that
    risk (nan where no value on the axis is usable). The strength multiplies the training
    spectrum (axis ``k``) or the test energies (axis ``eta2_train``)."""
    best = np.full((ys.size, c.size), np.nan)
    risk = np.full((ys.size, c.size), np.nan)
    for j, s in enumerate(ys):
        spec = dict(base_spec)
        if axis_name == "k":
            spec[scaled] = base_spec[scaled] * (np.sqrt(s) if scaled == "sv" else s)
            fixed = {"eta2_train": eta["eta2_train"]}
        else:
            if "test_energy" not in base_spec and scaled == "sv":
                raise ValueError("phase training-noise with --sv needs --test-energy (the "
                                 "in-distribution default sv^2/N changes with c)")
            spec["test_energy"] = base_spec.get("test_energy", base_spec.get("energy")) * s
            fixed = {"k": args.k or Problem.default().k}
        g = risk_grid(d=d, **{k: v.tolist() for k, v in spec.items()},
                      eta2_test=eta["eta2_test"], finite_size=args.finite_size,
                      limit=args.limit, reg=args.reg, c=c[None, :],
                      **{axis_name: axis[:, None]}, **fixed, skip=skip, progress=bar.update)
        values = np.where(g.success(), g.risk, np.nan)
        for i in range(c.size):
            if np.any(np.isfinite(values[:, i])):
                at = int(np.nanargmin(values[:, i]))
                best[j, i], risk[j, i] = axis[at], values[at, i]
    return best, risk


def grid_spectrum(args: argparse.Namespace, base: Problem
                  ) -> tuple[int | None, dict[str, list[float]]]:
    """``(d, spectrum)``: ``d`` and the energies of ``--data`` (``d = None`` without), else the
    spectrum options given, or the default example's per-sample energies (which sum to 0.4096
    at every c)."""
    data = data_from_args(args)
    if data is not None:
        return data.d, {"energy": data.energy.tolist(), "test_energy": data.test_energy.tolist()}
    spectrum = {name: getattr(args, name) for name in ("sv", "energy", "test_energy")
                if getattr(args, name) is not None}
    if "sv" not in spectrum and "energy" not in spectrum:
        spectrum["energy"] = base.energy.tolist()
    return None, spectrum


def _write_meta(path: Path, meta: dict[str, Any]) -> None:
    """The sidecar metadata as strict JSON (non-finite values as null)."""
    path.write_text(json.dumps(strict_json_value(meta), indent=2, allow_nan=False) + "\n",
                    encoding="utf-8")


def progress_bar(total: int):
    """A progress bar on stderr for grids of more than 200 cells (disabled otherwise)."""
    return tqdm(total=total, desc="cells", unit="cell", file=sys.stderr, leave=False,
                disable=total <= 200)


def status_name(code: Any) -> str:
    """The :class:`~rmtrisk.status.Status` name of an integer code."""
    return Status(int(code)).name


def add_grid_options(p: argparse.ArgumentParser, title: str) -> None:
    """The grid options of ``rmtrisk table`` (each a list a,b,c or a range start:stop:count)
    and the shared spectrum, in an argument group called ``title``."""
    g = p.add_argument_group(title)
    g.add_argument("--d", type=grid_values("d", int), help="ambient dimensions d")
    size = g.add_mutually_exclusive_group()
    size.add_argument("--n", type=grid_values("n", int), help="training samples N")
    size.add_argument("--c", type=grid_values("c"), help="aspect ratios c = d/N")
    width = g.add_mutually_exclusive_group()
    width.add_argument("--k", type=grid_values("k", int), help="bottleneck widths k")
    width.add_argument("--kappa", type=grid_values("kappa"), help="bottleneck ratios k/d")
    g.add_argument("--reg", type=grid_values("reg"), help="product regularizations lambda")
    g.add_argument("--eta2-train", type=grid_values("eta2-train"), help="training noise levels")
    g.add_argument("--eta2-test", type=grid_values("eta2-test"), help="test noise levels")
    g.add_argument("--skip", type=grid_values("skip", bool),
                   help="skip connection: false, true or false,true (default false)")
    s = p.add_argument_group("spectrum (shared by every cell; default: the default example's "
                             "per-sample energies)")
    spec = s.add_mutually_exclusive_group()
    spec.add_argument("--sv", type=floats, help="singular values of X, e.g. 1.2,0.8")
    spec.add_argument("--energy", type=floats, help="per-sample energies e_i (sv^2 = N e)")
    s.add_argument("--test-energy", type=floats, help="per-direction test energies l_i")
    s.add_argument("--critical-set", type=ints, help="1-based ranks of the kept triplets")


def add_grid_commands(add: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """Add the ``table`` and ``phase`` sub-commands through ``add(name, help)``."""
    tab = add("table", "risk, bias, variance and status over a grid of problems, one row per "
                       "cell; every grid option takes a list a,b,c or a range start:stop:count")
    add_grid_options(tab, "grid (unset options come from the built-in default example; the "
                          "table is the outer product of the given values)")
    o = tab.add_argument_group("terms and output")
    o.add_argument("--variant", choices=VARIANTS, default="default")
    terms = o.add_mutually_exclusive_group()
    terms.add_argument("--finite-size", action="store_true", help="every derived finite-d term")
    terms.add_argument("--limit", action="store_true", help="the strict d -> infinity limit")
    o.add_argument("--format", choices=FORMATS, default="text",
                   help="text, markdown, csv, latex or json (csv and json: full precision, "
                        "strict JSON with null for non-finite values)")
    o.add_argument("--digits", type=int, default=6,
                   help="significant digits for text, markdown and latex (default 6)")
    o.add_argument("--output", help="write the table to this file and its metadata (every "
                                    "parameter, the version, the command) to FILE.meta.json")
    add_data_options(tab)
    tab.set_defaults(func=cmd_table)

    pha = add("phase", "phase diagrams (skip-advantage, regularization, bottleneck, "
                       "training-noise) as PNG and SVG plus their data (NPZ, CSV) and the "
                       "command that made them (.meta.json)")
    pha.add_argument("kind", choices=["skip-advantage", "regularization", "bottleneck",
                                      "training-noise", "outliers"],
                     help="skip-advantage: R(no skip) - R(skip) over (c, kappa); "
                          "regularization: the risk over (c, lambda) for both models with "
                          "lambda*(c) drawn; bottleneck: k*/d over (c, signal strength) for "
                          "both models; training-noise: the optimal eta2_train over (c, "
                          "test-signal strength) for both models; outliers: where signal "
                          "directions separate from the bulk over (c, lambda)")
    pha.add_argument("--c", type=grid_values("c"),
                     help="aspect ratios (list or start:stop:count; default log-spaced in "
                          "[0.2, 5]: 49 points for skip-advantage, 25 for regularization)")
    pha.add_argument("--kappa", type=grid_values("kappa"),
                     default=np.linspace(0.02, 0.5, 25).tolist(),
                     help="skip-advantage: the bottleneck-ratio axis (default 0.02:0.5:25)")
    pha.add_argument("--d", type=int, help="ambient dimension (default: the default example's)")
    spec = pha.add_mutually_exclusive_group()
    spec.add_argument("--sv", type=floats, help="singular values of X")
    spec.add_argument("--energy", type=floats, help="per-sample energies (default: the "
                                                     "default example's)")
    pha.add_argument("--test-energy", type=floats, help="per-direction test energies")
    pha.add_argument("--reg", type=float, default=0.0,
                     help="skip-advantage: product regularization (default 0)")
    pha.add_argument("--reg-values", type=grid_values("reg-values"),
                     default=np.geomspace(1e-3, 1e2, 16).tolist(),
                     help="regularization, outliers: the lambda axis (default 16 "
                          "log-spaced in [1e-3, 1e2])")
    pha.add_argument("--strength", type=grid_values("strength"),
                     default=np.geomspace(0.1, 10, 9).tolist(),
                     help="bottleneck: factors on the per-sample energies (or sv^2); "
                          "training-noise: factors on the test energies (default 9 "
                          "log-spaced in [0.1, 10])")
    width = pha.add_mutually_exclusive_group()
    width.add_argument("--k", type=int, help="regularization: bottleneck width (default: the "
                                             "default example's)")
    width.add_argument("--kappa-value", type=float, help="regularization: bottleneck ratio")
    pha.add_argument("--eta2-train", type=float, help="training noise level")
    pha.add_argument("--eta2-test", type=float, help="test noise level")
    terms = pha.add_mutually_exclusive_group()
    terms.add_argument("--finite-size", action="store_true", help="every derived finite-d term")
    terms.add_argument("--limit", action="store_true", help="the strict d -> infinity limit")
    pha.add_argument("--mc-reps", type=int,
                     help="skip-advantage: also Monte Carlo of the difference at every cell "
                          "(same d as the theory), this many replicates per model (paired "
                          "draws), drawn beside the theory with the theory's zero contour on "
                          "top; use a coarse grid and a small --d")
    pha.add_argument("--seed", type=int, default=0, help="Monte Carlo root seed (default 0)")
    pha.add_argument("--out", help="output prefix: PREFIX.png, .svg, .npz, .csv, .meta.json "
                                   "(default: the kind, e.g. skip_advantage)")
    add_data_options(pha)
    pha.set_defaults(func=cmd_phase)
