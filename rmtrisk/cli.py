"""The ``rmtrisk`` command line: parsing and printing only; the math lives in the package."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from . import __version__
from .montecarlo import monte_carlo_risk
from .problem import Problem
from .report.figures import phase_figure, risk_curve, risk_curve_figure, risk_parts_figure
from .report.tables import FORMATS, format_table
from .serialize import strict_json_value
from .status import SolverError, Status
from .theory import (
    VARIANTS,
    asymptotic_risk,
    optimal_bottleneck,
    optimal_regularization,
    optimal_training_noise,
    risk_grid,
)
from .verification import ResultStore, verification_grid, verify_cell

CONVENTIONS = """\
conventions (docs/conventions.md):
  data      X = U diag(sv) V^T (d x N, rank r, U and V Haar), c = d / N (c > 1: N < d)
  noise     A with i.i.d. N(0, eta2_train / d) entries; Y = X + A (each column ~ eta^2)
  model     f(y) = W y (no skip) or (I + W) y (skip), W = W2 W1 of rank <= k,
            trained on 1/2 ||T - W Y||^2 + reg/2 ||W||^2 (T = X, or -A with skip);
            the global minimizer keeps the top-k singular triplets (minimum-norm if reg = 0)
  risk      exact in expectation over test noise N(0, eta2_test / d): sum_i l_i ||(I-W) u_i||^2
            + eta2_test/d ||W||^2 (no skip), sum_i l_i ||W u_i||^2 + eta2_test/d ||I+W||^2
            (skip); variance = eta2_test/d ||W||_F^2, bias = risk - variance
  scalings  spiked: --sv of order 1; per-sample: --energy e_i (sv_i^2 = N e_i)
  default   with no problem option: d=400, N=200, rank-10 geometric energies summing to
            0.4096, eta2_train = eta2_test = 0.3, k = 5 (the paper's setting, small)
"""


def _floats(text: str) -> list[float]:
    try:
        return [float(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")\
            from None


def _ints(text: str) -> list[int]:
    try:
        return [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")\
            from None


def _grid_values(name: str, kind: type = float):
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


def _add_problem_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("problem (unset fields come from the built-in default example)")
    g.add_argument("--d", type=int, help="ambient dimension d")
    size = g.add_mutually_exclusive_group()
    size.add_argument("--n", type=int, help="training samples N")
    size.add_argument("--c", type=float, help="aspect ratio c = d/N (sets N = round(d/c))")
    spec = g.add_mutually_exclusive_group()
    spec.add_argument("--sv", type=_floats, help="singular values of X, e.g. 1.2,0.8")
    spec.add_argument("--energy", type=_floats, help="per-sample energies e_i (sv^2 = N e)")
    g.add_argument("--test-energy", type=_floats,
                   help="per-direction test energies l_i (default: sv^2 / N)")
    g.add_argument("--eta2-train", type=float, help="training noise eta_trn^2 > 0")
    g.add_argument("--eta2-test", type=float, help="test noise eta_tst^2 >= 0")
    width = g.add_mutually_exclusive_group()
    width.add_argument("--k", type=int, help="bottleneck width k in [1, d]")
    width.add_argument("--kappa", type=float, help="bottleneck ratio k/d in (0, 1]")
    g.add_argument("--skip", action="store_true", help="skip connection f(y) = (I + W) y")
    g.add_argument("--reg", type=float, help="product regularization lambda >= 0")
    g.add_argument("--critical-set", type=_ints,
                   help="1-based ranks of the kept singular triplets (default: top k)")


def problem_from_args(args: argparse.Namespace) -> Problem:
    """The problem described by the command-line options (default example for unset ones)."""
    changes: dict[str, Any] = {}
    for name in ("d", "n", "c", "sv", "energy", "test_energy", "eta2_train", "eta2_test", "k",
                 "kappa", "reg", "critical_set"):
        value = getattr(args, name, None)
        if value is not None:
            changes[name] = value
    if getattr(args, "skip", False):
        changes["skip"] = True
    base = Problem.default()
    if "d" in changes and not ({"n", "c"} & changes.keys()):
        changes["c"] = base.c  # keep the default aspect ratio when only d is changed
    if {"n", "c"} & changes.keys() and not {"sv", "energy"} & changes.keys():
        # keep the default's per-sample energies (summing to 0.4096), not its singular values
        changes["energy"] = base.energy.tolist()
        if "test_energy" not in changes:
            changes["test_energy"] = None
    return base.replace(**changes)


def _print(obj: Any, as_json: bool, text: str) -> None:
    print(json.dumps(obj, indent=2) if as_json else text)


def _cmd_mc(args: argparse.Namespace) -> int:
    problem = problem_from_args(args)
    t0 = time.perf_counter()
    mc = monte_carlo_risk(problem, reps=args.reps, seed=args.seed, workers=args.workers,
                          progress=not args.json and args.reps >= 20)
    elapsed = time.perf_counter() - t0
    if args.json:
        out = mc.to_dict()
        if not args.samples:
            out.pop("samples")
        _print(out, True, "")
        return 0 if mc.status.ok else 1
    rows = [{"quantity": name, "mean": getattr(mc, name), "stderr": se}
            for name, se in (("risk", mc.stderr), ("bias", mc.bias_stderr),
                             ("variance", mc.variance_stderr))]
    print(_describe(problem))
    print(format_table(rows, fmt=args.format))
    lo, hi = mc.ci
    print(f"95% CI of the risk: [{lo:.6g}, {hi:.6g}]  ({mc.reps} replicates, seed {mc.seed}, "
          f"{elapsed:.2f} s)")
    print(f"status: {mc.status.name}" + (f" ({mc.message})" if mc.message else ""))
    return 0 if mc.status.ok else 1


def _describe(p: Problem) -> str:
    arch = "skip" if p.skip else "no skip"
    return (f"d={p.d} N={p.n} c={p.c:.4g} r={p.r} k={p.k} {arch} reg={p.reg:g} "
            f"eta2_train={p.eta2_train:g} eta2_test={p.eta2_test:g}")


def _cmd_risk(args: argparse.Namespace) -> int:
    problem = problem_from_args(args)
    if args.finite_size and args.limit:
        raise SystemExit("rmtrisk risk: error: --finite-size and --limit exclude each other")
    res = asymptotic_risk(problem, args.variant, finite_size=args.finite_size,
                          limit=args.limit and args.variant == "default", throw=False)
    if args.json:
        out = res.to_dict()
        out["problem"] = problem.to_dict()
        _print(out, True, "")
        return 0 if res.status.ok else 1
    print(_describe(problem))
    rows = [{"risk": res.risk, "bias": res.bias, "variance": res.variance,
             "status": res.status.name, "regime": res.regime, "variant": res.variant,
             "terms": res.terms}]
    print(format_table(rows, fmt=args.format))
    if res.message:
        print(f"note: {res.message}")
    return 0 if res.status.ok else 1


#: grid options of ``rmtrisk table`` in the order of the table's axes
_TABLE_AXES = ("c", "n", "k", "kappa", "reg", "eta2_train", "eta2_test", "skip")


def _cmd_table(args: argparse.Namespace) -> int:
    base = Problem.default()
    grid: dict[str, list] = {name: getattr(args, name) for name in _TABLE_AXES
                             if getattr(args, name) is not None}
    if not {"c", "n"} & grid.keys():
        grid["c"] = [base.c]
    if not {"k", "kappa"} & grid.keys():
        grid["k"] = [base.k]
    for name in ("eta2_train", "eta2_test"):
        grid.setdefault(name, [getattr(base, name)])
    spectrum = {name: getattr(args, name) for name in ("sv", "energy", "test_energy")
                if getattr(args, name) is not None}
    if "sv" not in spectrum and "energy" not in spectrum:
        spectrum["energy"] = base.energy.tolist()  # sums to 0.4096 at every c
    axes = [name for name in _TABLE_AXES if name in grid]
    shaped = {name: np.reshape(grid[name], [-1 if i == j else 1 for j in range(len(axes))])
              for i, name in enumerate(axes)}
    rows = []
    ds = args.d or [base.d]
    with _bar(len(ds) * int(np.prod([len(v) for v in grid.values()]))) as bar:
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
                "grid": grid, "d": args.d or [base.d], **spectrum,
                "critical_set": args.critical_set, "variant": args.variant,
                "finite_size": args.finite_size, "limit": args.limit, "rows": len(rows),
                "columns": columns}
        meta_path = out.with_name(out.name + ".meta.json")
        meta_path.write_text(json.dumps(strict_json_value(meta), indent=2, allow_nan=False)
                             + "\n", encoding="utf-8")
        print(f"wrote {out} ({len(rows)} rows) and {meta_path}", file=sys.stderr)
    else:
        print(text)
    if bad:
        print(f"note: {bad} of {len(rows)} cells are not SUCCESS (see the status column)",
              file=sys.stderr)
    return 0


def _cmd_phase(args: argparse.Namespace) -> int:
    base = Problem.default()
    d = args.d or base.d
    spectrum = {name: getattr(args, name) for name in ("sv", "energy", "test_energy")
                if getattr(args, name) is not None}
    if "sv" not in spectrum and "energy" not in spectrum:
        spectrum["energy"] = base.energy.tolist()
    eta = {"eta2_train": args.eta2_train or base.eta2_train,
           "eta2_test": args.eta2_test or base.eta2_test}
    common = dict(d=d, **spectrum, **eta, finite_size=args.finite_size, limit=args.limit)
    terms = "limit" if args.limit else ("finite-size" if args.finite_size else
                                         "limit + interaction O(r/d)")
    default_c = np.geomspace(0.2, 5, {"skip-advantage": 49, "regularization": 25,
                                      "bottleneck": 17, "training-noise": 17}[args.kind])
    c = np.asarray(default_c if args.c is None else args.c, dtype=float)
    if args.kind == "skip-advantage":
        ys, yname = np.asarray(args.kappa, dtype=float), "kappa"
        with _bar(2 * c.size * ys.size) as bar:
            grids = {skip: risk_grid(**common, c=c[None, :], kappa=ys[:, None], reg=args.reg,
                                     skip=skip, progress=bar.update) for skip in (False, True)}
        ok = grids[False].success() & grids[True].success()
        with np.errstate(invalid="ignore"):  # inf - inf at c = 1 (masked below)
            diff = np.where(ok, grids[False].risk - grids[True].risk, np.nan)
        panels = [(diff, "", None)]
        extra = {"difference": diff}
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
        with _bar(total) as bar:
            for skip in (False, True):
                best, risk = _optimum_map(args, d, base_spec, scaled, eta, c, ys, skip,
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
    else:  # regularization: log10 risk over (c, lambda) for both models, lambda*(c) drawn
        ys, yname = np.asarray(args.reg_values, dtype=float), "reg"
        width = {"kappa": args.kappa_value} if args.kappa_value else {"k": args.k or base.k}
        with _bar(2 * c.size * ys.size) as bar:
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
                            "status_no_skip": _status_name(grids[False].status[j, i]),
                            "status_skip": _status_name(grids[True].status[j, i])})
            row.update({key: float(value[j, i]) for key, value in extra.items()
                        if np.ndim(value) == 2})
            rows.append(row)
    prefix.with_suffix(".csv").write_text(format_table(rows, fmt="csv", digits=None) + "\n",
                                          encoding="utf-8")
    fig = phase_figure(c, ys, panels, xlabel="c = d / N", xline=1.0, **fig_kw)
    written = []
    for ext in (".png", ".svg"):
        fig.savefig(prefix.with_suffix(ext), dpi=150)
        written.append(str(prefix.with_suffix(ext)))
    bad = (int(np.sum(~(grids[False].success() & grids[True].success()))) if grids else
           int(sum(np.sum(~np.isfinite(v)) for key, v in extra.items()
                   if key.startswith(("kappa_star", "eta2_train_star")))))
    meta = {"command": ["rmtrisk", *args.argv], "version": __version__, "kind": args.kind,
            "d": d, **spectrum, **eta, "c": c.tolist(), yname: ys.tolist(), "terms": terms,
            "cells_without_value": bad,
            **{key: value.tolist() for key, value in extra.items()
               if key != "difference" and np.ndim(value) == 1}}
    if args.kind == "training-noise":
        meta["eta2_train_levels"] = (np.geomspace(1e-2, 1e1, 25) * eta["eta2_train"]).tolist()
    prefix.with_suffix(".meta.json").write_text(
        json.dumps(strict_json_value(meta), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    print("wrote " + ", ".join([*written, *(str(prefix.with_suffix(e)) for e in
                                            (".npz", ".csv", ".meta.json"))]), file=sys.stderr)
    return 0


def _optimum_map(args: argparse.Namespace, d: int, base_spec: dict, scaled: str, eta: dict,
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


def _bar(total: int):
    """A progress bar on stderr for grids of more than 200 cells (disabled otherwise)."""
    return tqdm(total=total, desc="cells", unit="cell", file=sys.stderr, leave=False,
                disable=total <= 200)


def _status_name(code: Any) -> str:
    return Status(int(code)).name


def _cmd_demo(args: argparse.Namespace) -> int:
    base = problem_from_args(args)
    rows = []
    for skip in (False, True):
        p = base.replace(skip=skip)
        mc = monte_carlo_risk(p, reps=args.reps, seed=args.seed)
        th = asymptotic_risk(p, throw=False)
        lim = asymptotic_risk(p, limit=True, throw=False)
        fs = asymptotic_risk(p, finite_size=True, throw=False)
        pa = asymptotic_risk(p, variant="paper", throw=False)
        rows.append({"model": "skip" if skip else "bottleneck", "theory": th.risk,
                     "limit": lim.risk, "finite_size": fs.risk, "paper": pa.risk,
                     "monte_carlo": mc.risk,
                     "stderr": mc.stderr, "z": (mc.risk - th.risk) / mc.stderr,
                     "z_finite": (mc.risk - fs.risk) / mc.stderr,
                     "z_paper": (mc.risk - pa.risk) / mc.stderr})
    print(_describe(base))
    print(format_table(rows, fmt=args.format))
    if not base.skip:
        best = optimal_bottleneck(base.replace(skip=False))
        print(f"optimal bottleneck without skip: k* = {best.k} (risk {best.risk:.6g})")
    print("theory: the default (d -> infinity limit + the O(r/d) interaction of signal directions,"
          " leading order\nin the per-sample scaling); limit: the strict d -> infinity limit;"
          " finite_size: with exact finite-d\nmoments and every derived O(1/d) term; paper: the"
          " published formula; z = (Monte Carlo - formula) / stderr")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    store = ResultStore(args.out) if args.out else None
    c_values = tuple(args.c_values) if args.c_values else None
    cells = [cell for d in args.d for cell in verification_grid(d, c_values)]
    rows = []
    for cell in tqdm(cells, desc="cells", disable=args.format == "json"):
        if store is not None and cell.key in store:
            rows.append(store.get(cell.key))
            continue
        row = verify_cell(cell, reps=args.reps, seed=args.seed, workers=args.workers)
        if store is not None:
            store.append(row)
        rows.append(row)
    cols = ["key", "theory", "finite_size", "paper", "mc", "stderr", "rel_err", "z", "ok",
            "paper_ok"]
    print(format_table(rows, cols, fmt=args.format))
    failed = [r["key"] for r in rows if r["ok"] is False]
    if args.format != "json":
        print(f"{len(rows) - len(failed)}/{len(rows)} cells within max(3 stderr, 1 %)")
        paper_fail = [r["key"] for r in rows if r["paper_ok"] is False]
        print(f"paper variant fails in {len(paper_fail)} cells")
    return 1 if failed and args.strict else 0


def _cmd_optimal(args: argparse.Namespace) -> int:
    problem = problem_from_args(args).replace(critical_set=None)
    rows: list[dict[str, Any]] = []
    if problem.skip:
        rows.append({"optimum": "bottleneck k* (reg = 0)", "value": None, "risk": None,
                     "note": "computed for the model without skip only"})
    else:
        width = optimal_bottleneck(problem.replace(reg=0.0))
        rows.append({"optimum": "bottleneck k* (reg = 0)", "value": width.k,
                     "risk": width.risk, "note": ""})
    reg = optimal_regularization(problem)
    lower = reg.reg <= 1e-6 * problem.eta2_train * (1 + 1e-6)
    rows.append({"optimum": "regularization lambda* (k as given)", "value": reg.reg,
                 "risk": reg.risk,
                 "note": "at the lower bound: no regularization is best" if lower else ""})
    for label, lam in (("reg = 0", 0.0), ("reg = lambda*", reg.reg)):
        name = f"training noise eta2_train* ({label})"
        try:
            noise = optimal_training_noise(problem.replace(reg=lam))
        except SolverError as exc:
            rows.append({"optimum": name, "value": None, "risk": None, "note": str(exc)})
            continue
        edge = ("at the lower bound 1e-6" if noise.eta2_train <= 1e-6 * (1 + 1e-6) else
                "at the upper bound 1e6" if noise.eta2_train >= 1e6 * (1 - 1e-6) else "")
        rows.append({"optimum": name, "value": noise.eta2_train, "risk": noise.risk,
                     "note": edge})
    if args.json:
        _print({"problem": problem.to_dict(), "optima": rows}, True, "")
        return 0
    print(_describe(problem))
    shown = [{key: ("n/a" if value is None else value) for key, value in row.items()}
             for row in rows]
    print(format_table(shown, fmt=args.format))
    return 0


def _cmd_curve(args: argparse.Namespace) -> int:
    problem = problem_from_args(args)
    if args.k_values and args.reg_values:
        raise ValueError("give --k-values or --reg-values, not both")
    c_values = np.geomspace(args.c_min, args.c_max, args.points)
    if args.reg_values:
        name, values = "reg", list(args.reg_values)
        curves = [problem.replace(reg=r, critical_set=None) for r in values]
    else:
        name, values = "k", list(args.k_values or [problem.k])
        curves = [problem.replace(k=k, critical_set=None) for k in values]
    if all(p.reg == 0 for p in curves):
        c_values = c_values[np.abs(c_values - 1) > 1e-9]
    mc = {}
    for value, p in zip(values, curves, strict=True):
        for c in args.mc_c or []:
            res = monte_carlo_risk(p.replace(c=c), reps=args.reps, seed=args.seed)
            mc[(value, problem.replace(c=c).c)] = (res.risk, res.stderr)
    if args.out and args.parts:
        if name == "reg":
            raise ValueError("--parts draws one curve per --k-values, not per --reg-values")
        risk_parts_figure(problem, c_values, values).savefig(args.out, dpi=150)
        print(f"wrote {args.out}", file=sys.stderr)
    elif args.out:
        kw = {"reg_values": values} if name == "reg" else {"k_values": values}
        fig = risk_curve_figure(problem, c_values, paper=not args.no_paper, monte_carlo=mc, **kw)
        fig.savefig(args.out, dpi=150)
        print(f"wrote {args.out}", file=sys.stderr)
    rows = []
    for value, p in zip(values, curves, strict=True):
        for c, r in zip(c_values, risk_curve(p, c_values), strict=True):
            rows.append({name: value, "c": float(c), "risk": float(r)})
    if args.table or not args.out:  # without --out the table is the only output
        print(format_table(rows, fmt=args.format))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``rmtrisk`` command."""
    parser = argparse.ArgumentParser(
        prog="rmtrisk",
        description="Exact high-dimensional test risk of linear denoising autoencoders "
                    "(bottleneck k, optional skip connection), checked by Monte Carlo.",
        epilog=CONVENTIONS, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_, epilog=CONVENTIONS,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        return p

    demo = add("demo", "theory against Monte Carlo on the default example (the main job)")
    _add_problem_options(demo)
    demo.add_argument("--reps", type=int, default=40, help="replicates (default 40)")
    demo.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    demo.add_argument("--format", choices=FORMATS, default="text")
    demo.set_defaults(func=_cmd_demo)

    mc = add("mc", "Monte Carlo estimate of the test risk (risk, bias, variance, stderr)")
    _add_problem_options(mc)
    mc.add_argument("--reps", type=int, default=100, help="replicates (default 100)")
    mc.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    mc.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    mc.add_argument("--json", action="store_true", help="print JSON (risk, bias, variance, "
                                                        "stderr, ci95, problem)")
    mc.add_argument("--samples", action="store_true", help="with --json, include replicates")
    mc.add_argument("--format", choices=FORMATS, default="text")
    mc.set_defaults(func=_cmd_mc)

    risk = add("risk", "asymptotic (closed-form) test risk")
    _add_problem_options(risk)
    risk.add_argument("--variant", choices=VARIANTS, default="default",
                      help="default: derivation/Monte Carlo supported; paper: as published")
    risk.add_argument("--finite-size", action="store_true",
                      help="every derived finite-d term: exact Gaussian moments, interaction, "
                           "fluctuation corrections")
    risk.add_argument("--limit", action="store_true",
                      help="the strict d -> infinity limit (default: the limit plus the O(r/d) "
                           "interaction of signal directions, leading order in the per-sample "
                           "scaling)")
    risk.add_argument("--json", action="store_true",
                      help="print JSON (risk, bias, variance, status, problem)")
    risk.add_argument("--format", choices=FORMATS, default="text")
    risk.set_defaults(func=_cmd_risk)

    opt = add("optimal", "optimal regularization lambda* and training noise (both models; "
                         "lambda* with k as given) and bottleneck k* (model without skip)")
    _add_problem_options(opt)
    opt.add_argument("--json", action="store_true", help="print JSON")
    opt.add_argument("--format", choices=FORMATS, default="text")
    opt.set_defaults(func=_cmd_optimal)

    cur = add("curve", "risk against c for several bottleneck widths or regularizations "
                       "(table and/or figure)")
    _add_problem_options(cur)
    cur.add_argument("--k-values", type=_ints, help="bottleneck widths, e.g. 1,2,5")
    cur.add_argument("--reg-values", type=_floats,
                     help="product regularizations, one curve each (at --k/--kappa), e.g. "
                          "0,0.01,0.1,1: how reg > 0 removes the peak at c = 1")
    cur.add_argument("--c-min", type=float, default=0.2, help="smallest c (default 0.2)")
    cur.add_argument("--c-max", type=float, default=5.0, help="largest c (default 5)")
    cur.add_argument("--points", type=int, default=60,
                     help="log-spaced aspect ratios per curve (default 60)")
    cur.add_argument("--mc-c", type=_floats, help="aspect ratios with Monte Carlo points")
    cur.add_argument("--reps", type=int, default=20,
                     help="Monte Carlo replicates per point (default 20)")
    cur.add_argument("--seed", type=int, default=0, help="Monte Carlo root seed (default 0)")
    cur.add_argument("--out", help="figure file (png, pdf, svg; needs matplotlib)")
    cur.add_argument("--no-paper", action="store_true", help="omit the published formula")
    cur.add_argument("--parts", action="store_true",
                     help="with --out: risk, bias and variance in three panels (one curve per "
                          "--k-values; no Monte Carlo points)")
    cur.add_argument("--table", action="store_true",
                     help="print the curve as a table also with --out (always without it)")
    cur.add_argument("--format", choices=FORMATS, default="text")
    cur.set_defaults(func=_cmd_curve)

    tab = add("table", "risk, bias, variance and status over a grid of problems, one row per "
                       "cell; every grid option takes a list a,b,c or a range start:stop:count")
    g = tab.add_argument_group("grid (unset options come from the built-in default example; "
                               "the table is the outer product of the given values)")
    g.add_argument("--d", type=_grid_values("d", int), help="ambient dimensions d")
    size = g.add_mutually_exclusive_group()
    size.add_argument("--n", type=_grid_values("n", int), help="training samples N")
    size.add_argument("--c", type=_grid_values("c"), help="aspect ratios c = d/N")
    width = g.add_mutually_exclusive_group()
    width.add_argument("--k", type=_grid_values("k", int), help="bottleneck widths k")
    width.add_argument("--kappa", type=_grid_values("kappa"), help="bottleneck ratios k/d")
    g.add_argument("--reg", type=_grid_values("reg"), help="product regularizations lambda")
    g.add_argument("--eta2-train", type=_grid_values("eta2-train"), help="training noise levels")
    g.add_argument("--eta2-test", type=_grid_values("eta2-test"), help="test noise levels")
    g.add_argument("--skip", type=_grid_values("skip", bool),
                   help="skip connection: false, true or false,true (default false)")
    s = tab.add_argument_group("spectrum (shared by every cell; default: the default "
                               "example's per-sample energies)")
    spec = s.add_mutually_exclusive_group()
    spec.add_argument("--sv", type=_floats, help="singular values of X, e.g. 1.2,0.8")
    spec.add_argument("--energy", type=_floats, help="per-sample energies e_i (sv^2 = N e)")
    s.add_argument("--test-energy", type=_floats, help="per-direction test energies l_i")
    s.add_argument("--critical-set", type=_ints, help="1-based ranks of the kept triplets")
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
    tab.set_defaults(func=_cmd_table)

    pha = add("phase", "phase diagrams (skip-advantage, regularization, bottleneck, "
                       "training-noise) as PNG and SVG plus their data (NPZ, CSV) and the "
                       "command that made them (.meta.json)")
    pha.add_argument("kind", choices=["skip-advantage", "regularization", "bottleneck",
                                      "training-noise"],
                     help="skip-advantage: R(no skip) - R(skip) over (c, kappa); "
                          "regularization: the risk over (c, lambda) for both models with "
                          "lambda*(c) drawn; bottleneck: k*/d over (c, signal strength) for "
                          "both models; training-noise: the optimal eta2_train over (c, "
                          "test-signal strength) for both models")
    pha.add_argument("--c", type=_grid_values("c"),
                     help="aspect ratios (list or start:stop:count; default log-spaced in "
                          "[0.2, 5]: 49 points for skip-advantage, 25 for regularization)")
    pha.add_argument("--kappa", type=_grid_values("kappa"),
                     default=np.linspace(0.02, 0.5, 25).tolist(),
                     help="skip-advantage: the bottleneck-ratio axis (default 0.02:0.5:25)")
    pha.add_argument("--d", type=int, help="ambient dimension (default: the default example's)")
    spec = pha.add_mutually_exclusive_group()
    spec.add_argument("--sv", type=_floats, help="singular values of X")
    spec.add_argument("--energy", type=_floats, help="per-sample energies (default: the "
                                                     "default example's)")
    pha.add_argument("--test-energy", type=_floats, help="per-direction test energies")
    pha.add_argument("--reg", type=float, default=0.0,
                     help="skip-advantage: product regularization (default 0)")
    pha.add_argument("--reg-values", type=_grid_values("reg-values"),
                     default=np.geomspace(1e-3, 1e2, 16).tolist(),
                     help="regularization: the lambda axis (default 16 log-spaced in "
                          "[1e-3, 1e2])")
    pha.add_argument("--strength", type=_grid_values("strength"),
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
    pha.add_argument("--out", help="output prefix: PREFIX.png, .svg, .npz, .csv, .meta.json "
                                   "(default: the kind, e.g. skip_advantage)")
    pha.set_defaults(func=_cmd_phase)

    ver = add("verify", "theory against Monte Carlo over the verification grid (resumable)")
    ver.add_argument("--d", type=int, nargs="+", default=[500], help="dimensions (default 500)")
    ver.add_argument("--c-values", type=float, nargs="+", help="aspect ratios (default grid)")
    ver.add_argument("--reps", type=int, default=20, help="replicates per cell (default 20)")
    ver.add_argument("--seed", type=int, default=0, help="Monte Carlo root seed (default 0)")
    ver.add_argument("--workers", type=int, default=1,
                     help="Monte Carlo worker processes (default 1)")
    ver.add_argument("--out", help="JSON-lines file: finished cells are kept, reruns resume")
    ver.add_argument("--strict", action="store_true", help="exit 1 if any cell fails")
    ver.add_argument("--format", choices=FORMATS, default="text")
    ver.set_defaults(func=_cmd_verify)
    return parser


def cli_reference() -> str:
    """The command-line reference (``docs/cli.md``): every command's ``--help``, generated from
    the parsers at a fixed width so that the file is reproducible."""
    parser = build_parser()

    def fixed(prog: str) -> argparse.HelpFormatter:
        return argparse.RawDescriptionHelpFormatter(prog, width=100)

    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    parts = ["# Command-line reference", "",
             "Generated from the parsers (`rmtrisk.cli.cli_reference()`; regenerate with",
             "`python -c \"import rmtrisk.cli as c; print(c.cli_reference(), end='')\" > "
             "docs/cli.md`). `tests/test_table.py` checks that every command and option is in it.",
             ""]
    for name, command in [("rmtrisk", parser), *sub.choices.items()]:
        command.formatter_class = fixed
        title = name if name == "rmtrisk" else f"rmtrisk {name}"
        text = command.format_help().split("conventions (docs/conventions.md):")[0].rstrip()
        parts += [f"## `{title}`", "", "```", text, "```", ""]
    parts += ["The conventions every command shares (`rmtrisk --help` prints them):", "",
              "```", CONVENTIONS.rstrip(), "```", ""]
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rmtrisk`` command."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except (ValueError, TypeError, SolverError) as exc:
        print(f"rmtrisk: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `rmtrisk demo | head`: the reader left, not an error
        sys.stderr.close()
        return 0
    except OSError as exc:  # e.g. an output directory that does not exist
        print(f"rmtrisk: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
