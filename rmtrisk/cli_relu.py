"""The ``rmtrisk relu-ae`` command: gradient-descent convergence of two-layer ReLU autoencoders.

Parsing and writing only: the runs come from :mod:`rmtrisk.dynamics.relu_experiments`
(docs/relu_autoencoders.md explains the experiments and the predicted rates).
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
from .cli_grids import ints
from .dynamics.relu_experiments import (
    THRESHOLD_WIDTHS,
    rate_experiment,
    threshold_experiment,
    tied_experiment,
)
from .dynamics.relu_training import train_relu_autoencoder, unit_inputs
from .report.relu_figures import loss_curves_figure
from .report.tables import FORMATS, format_table
from .serialize import strict_json_value

__all__ = ["add_relu_commands", "cmd_relu_ae"]

EXPERIMENTS = ("rates", "widths", "tied")

_RATE_COLS = ["regime", "n", "m", "seed", "lambda_min", "eta", "rho_limit", "rho_linearized",
              "rho_final_kernel", "rho_observed", "kernel_dev_init", "kernel_dev_final",
              "iterations", "status"]
_WIDTH_COLS = ["regime", "n", "seeds", "converged_seeds", "m_median", "m_min", "m_max",
               "m_per_seed"]
_TIED_COLS = ["regime", "scale", "m", "c_init", "c_init_predicted", "status", "iterations",
              "loss_final", "c_final", "linear_map_minus_identity", "test_error_final",
              "weight_move", "weight_norm_ratio"]


def _check(args: argparse.Namespace) -> None:
    for name, low in (("d", 1), ("reps", 1), ("max_iter", 1), ("tied_n", 1)):
        value = getattr(args, name)
        if value < low:
            raise ValueError(f"{name.replace('_', '-')} must be an integer >= {low}, "
                             f"got {value}")
    for name in ("n", "widths", "threshold_widths", "tied_widths"):
        values = getattr(args, name)
        if values is not None and (not values or min(values) < 1):
            raise ValueError(f"--{name.replace('_', '-')} must be integers >= 1, got {values}")


def _write(out: Path, name: str, rows: list[dict], columns: list[str]) -> None:
    (out / f"{name}.csv").write_text(format_table(rows, columns, fmt="csv", digits=None) + "\n",
                                     encoding="utf-8")
    (out / f"{name}.json").write_text(
        json.dumps(strict_json_value(rows), indent=2, allow_nan=False) + "\n", encoding="utf-8")


def cmd_relu_ae(args: argparse.Namespace) -> int:
    """``rmtrisk relu-ae``: the rate, width and weight-tied experiments, tables and files."""
    _check(args)
    chosen = EXPERIMENTS if "all" in args.experiment else tuple(args.experiment)
    seeds = [args.seed + i for i in range(args.reps)]
    data_seed = 1000 + args.seed
    bar = tqdm(desc="relu-ae runs", unit="run", file=sys.stderr, leave=False,
               disable=args.no_progress)
    tick: Callable[[], None] = bar.update
    tables: dict[str, tuple[list[dict], list[str]]] = {}
    try:
        if "rates" in chosen:
            rows = rate_experiment(args.d, args.n, args.widths, seeds=seeds,
                                   data_seed=data_seed, max_iter=args.max_iter, progress=tick)
            tables["rates"] = (rows, _RATE_COLS)
        if "widths" in chosen:
            _, summary = threshold_experiment(args.d, args.n, args.threshold_widths,
                                              seeds=seeds, data_seed=data_seed,
                                              max_iter=args.max_iter, progress=tick)
            for row in summary:
                row["m_per_seed"] = ",".join("none" if np.isnan(v) else str(int(v))
                                             for v in row["m_per_seed"])
            tables["widths"] = (summary, _WIDTH_COLS)
        if "tied" in chosen:
            rows = tied_experiment(args.d, args.tied_n, args.tied_widths, seed=args.seed,
                                   data_seed=data_seed, max_iter=args.max_iter, progress=tick)
            tables["tied"] = (rows, _TIED_COLS)
    finally:
        bar.close()
    titles = {"rates": "observed against predicted per-step loss factor",
              "widths": f"smallest width reaching L <= 1e-6 L_0 within {args.max_iter} steps",
              "tied": "weight-tied (and weak, joint) networks judged on fresh inputs"}
    if args.format == "json":  # one document: {experiment: rows}
        print(json.dumps(strict_json_value({name: rows for name, (rows, _) in tables.items()}),
                         indent=2, allow_nan=False))
    for name, (rows, cols) in tables.items() if args.format != "json" else ():
        if args.format != "csv":
            print(f"{titles[name]}:")
        print(format_table(rows, cols, fmt=args.format, digits=5))
    if args.output:
        out = Path(args.output)
        out.mkdir(parents=True, exist_ok=True)
        for name, (rows, cols) in tables.items():
            _write(out, name, rows, cols)
        curves = _loss_curves(args)
        fig = loss_curves_figure(curves, title=f"d={args.d}, n={args.n[-1]}, "
                                               f"m={args.widths[0]}, seed {args.seed}")
        fig.savefig(out / "loss_curves.png", dpi=120)
        meta = {"command": ["rmtrisk", *getattr(args, "argv", [])], "version": __version__,
                "experiments": list(chosen), "seed": args.seed, "seeds": seeds,
                "data_seed": data_seed, "d": args.d, "n": args.n, "widths": args.widths,
                "threshold_widths": list(args.threshold_widths or THRESHOLD_WIDTHS),
                "tied_n": args.tied_n, "tied_widths": args.tied_widths,
                "max_iter": args.max_iter,
                "files": sorted([f"{n}.{e}" for n in tables for e in ("csv", "json")]
                                + ["loss_curves.png"])}
        (out / "metadata.json").write_text(
            json.dumps(strict_json_value(meta), indent=2, allow_nan=False) + "\n",
            encoding="utf-8")
        print(f"wrote {len(meta['files']) + 1} files to {out}", file=sys.stderr)
    return 0


def _loss_curves(args: argparse.Namespace) -> dict[str, Any]:
    """One loss history per regime at the first width and the largest n (for the figure)."""
    X = unit_inputs(args.d, args.n[-1], 1000 + args.seed + args.n[-1])
    curves = {}
    for regime in ("weak", "joint", "tied"):
        res = train_relu_autoencoder(X, args.widths[0], regime, max_iter=args.max_iter,
                                     tol=1e-12, seed=args.seed)
        curves[f"{regime} ({res.status}, {res.iterations} steps)"] = res.losses
    return curves


def add_relu_commands(add: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """Register ``relu-ae`` with ``add(name, help)`` (the parser factory of :mod:`rmtrisk.cli`)."""
    p = add("relu-ae", "gradient descent on over-parameterized two-layer ReLU autoencoders "
                       "u(x) = V relu(W^T x)/sqrt(m): observed against predicted linear rates, "
                       "the width needed (encoder only vs jointly trained), tied weights")
    p.add_argument("--experiment", nargs="+", choices=(*EXPERIMENTS, "all"), default=["all"],
                   help="which experiments: rates (observed vs kernel-predicted loss factor), "
                        "widths (smallest converging width per seed), tied (what tied, weak and "
                        "joint networks learn, judged on fresh inputs); default all")
    p.add_argument("--d", type=int, default=10, help="input dimension d (default 10)")
    p.add_argument("--n", type=ints, default=[5, 10],
                   help="sample counts n of unit-norm inputs, e.g. 5,10 (default 5,10)")
    p.add_argument("--widths", type=ints, default=[200, 2000],
                   help="widths m of the rate experiment (default 200,2000)")
    p.add_argument("--threshold-widths", type=ints,
                   help="widths tried in increasing order by the width experiment "
                        f"(default {','.join(map(str, THRESHOLD_WIDTHS))})")
    p.add_argument("--tied-n", type=int, default=10,
                   help="sample count of the tied experiment (default 10)")
    p.add_argument("--tied-widths", type=ints, default=[100, 1000],
                   help="widths of the tied experiment (default 100,1000)")
    p.add_argument("--reps", type=int, default=3,
                   help="seeds per configuration: seed, seed+1, ... (default 3)")
    p.add_argument("--seed", type=int, default=0,
                   help="root seed of the weights; the inputs use 1000 + seed (default 0)")
    p.add_argument("--max-iter", type=int, default=5000,
                   help="gradient steps per run at most (default 5000)")
    p.add_argument("--output", help="directory for rates/widths/tied .csv and .json, "
                                    "loss_curves.png and metadata.json (created if missing)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument("--format", choices=FORMATS, default="text", help="table format")
    p.set_defaults(func=cmd_relu_ae)
