"""``rmtrisk dynamics risk``: test risk over gradient-flow time of the one-layer DAE.

Parsing and writing only: the curve comes from
:func:`rmtrisk.dynamics.risk_over_time.risk_over_time`, the Monte Carlo points from
:func:`rmtrisk.dynamics.risk_over_time_mc.risk_over_time_mc`, early stopping from
:func:`rmtrisk.dynamics.risk_over_time.early_stopping`. The command is added to the
``rmtrisk dynamics`` sub-command group by :func:`add_risk_time_command`.
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
from .cli_grids import floats
from .dynamics.risk_over_time import early_stopping, risk_over_time
from .dynamics.risk_over_time_mc import risk_over_time_mc
from .problem import Problem
from .report.risk_over_time import risk_over_time_figure
from .report.tables import FORMATS, format_table
from .serialize import strict_json_value
from .status import Status

__all__ = ["add_risk_time_command", "cmd_risk_time"]


def _problem(args: argparse.Namespace) -> Problem:
    return Problem(args.d, c=args.c, sv=args.sv, test_energy=args.test_energy,
                   eta2_train=args.eta2_train, eta2_test=args.eta2_test, k=args.d)


def _rows(time: np.ndarray, **columns: np.ndarray) -> list[dict[str, Any]]:
    rows = []
    for j, t in enumerate(time):
        row: dict[str, Any] = {"time": float(t)}
        for name, values in columns.items():
            v = values[j]
            row[name] = Status(int(v)).name if name == "status" else float(v)
        rows.append(row)
    return rows


def cmd_risk_time(args: argparse.Namespace) -> int:
    """Run ``rmtrisk dynamics risk``: curve, optional Monte Carlo and early stopping."""
    p = _problem(args)
    if not (0 < args.t_min < args.t_max) or args.points < 2:
        raise ValueError("need 0 < --t-min < --t-max and --points >= 2, got "
                         f"{args.t_min}, {args.t_max}, {args.points}")
    times = np.geomspace(args.t_min, args.t_max, args.points)
    th = risk_over_time(p, times)
    rows = _rows(times, risk=th.risk, bias=th.bias, variance=th.variance, status=th.status)
    result: dict[str, Any] = {"problem": p.to_dict(), "terms": th.terms, "theory": rows}
    mc_rows: list[dict[str, Any]] = []
    mc = None
    if args.mc_reps:
        mc_times = np.asarray(args.mc_times, dtype=float)
        with tqdm(total=args.mc_reps, desc="replicates", unit="rep", file=sys.stderr,
                  leave=False) as bar:
            mc = risk_over_time_mc(p, mc_times, reps=args.mc_reps, seed=args.seed,
                                   progress=bar.update)
        ref = risk_over_time(p, mc_times)
        mc_rows = _rows(mc_times, theory=ref.risk, risk=mc.risk, risk_se=mc.risk_se,
                        z=(mc.risk - ref.risk) / mc.risk_se)
        result["monte_carlo"] = {"reps": args.mc_reps, "seed": args.seed, "rows": mc_rows}
    es = None
    if args.early_stopping:
        es = early_stopping(p)
        result["early_stopping"] = {**es._asdict(), "excess": es.excess}
    if args.output:
        out = Path(args.output)
        out.mkdir(parents=True, exist_ok=True)
        (out / "risk_over_time.csv").write_text(format_table(rows, fmt="csv", digits=None)
                                                + "\n", encoding="utf-8")
        if mc_rows:
            (out / "risk_over_time_mc.csv").write_text(
                format_table(mc_rows, fmt="csv", digits=None) + "\n", encoding="utf-8")
        meta = {"command": ["rmtrisk", *getattr(args, "argv", [])], "version": __version__,
                **result}
        (out / "risk_over_time.json").write_text(
            json.dumps(strict_json_value(meta), indent=2, allow_nan=False) + "\n",
            encoding="utf-8")
        levels = {}
        if es is not None:
            levels = {"R(inf)": es.risk_converged, "R(lambda*)": es.risk_reg}
        fig = risk_over_time_figure(
            times, th.risk, bias=th.bias, variance=th.variance,
            mc_time=None if mc is None else mc.time, mc_risk=None if mc is None else mc.risk,
            mc_se=None if mc is None else mc.risk_se, levels=levels,
            title=f"one-layer DAE, gradient flow from W = 0: d = {p.d}, c = {p.c:g}, "
                  f"sv = {list(p.sv)}, terms: {th.terms}")
        for ext in ("png", "svg"):
            fig.savefig(out / f"risk_over_time.{ext}", dpi=150)
        print(f"wrote risk_over_time.{{csv,json,png,svg}} to {out}", file=sys.stderr)
    if args.json:
        print(json.dumps(strict_json_value(result), indent=2, allow_nan=False))
        return 0
    print(format_table(rows, fmt=args.format, digits=args.digits))
    if mc_rows:
        print()
        print(format_table(mc_rows, fmt=args.format, digits=args.digits))
    if es is not None:
        print(f"\nearly stopping: t* = {es.time:.6g}, R(t*) = {es.risk:.6g}; "
              f"ridge: lambda* = {es.reg:.6g}, R(lambda*) = {es.risk_reg:.6g}; "
              f"R(inf) = {es.risk_converged:.6g}; R(t*)/R(lambda*) - 1 = {es.excess:+.3%}")
    return 0


def add_risk_time_command(add: Callable[[str, str], argparse.ArgumentParser]
                          ) -> argparse.ArgumentParser:
    """Add the ``risk`` sub-command of ``rmtrisk dynamics`` through ``add(name, help)`` (the
    registrar convention of :func:`rmtrisk.cli_dynamics.add_dynamics_commands`).

    Returns
    -------
    argparse.ArgumentParser
        The ``risk`` parser (its ``func`` default is :func:`cmd_risk_time`).
    """
    help_ = ("test risk over gradient-flow time of the one-layer linear DAE (no skip, every "
             "direction kept, trained from W = 0): theory curve, Monte Carlo of trained "
             "networks, early stopping against the optimal ridge lambda*")
    p = add("risk", help_)
    g = p.add_argument_group("problem")
    g.add_argument("--d", type=int, default=1000, help="ambient dimension d (default 1000)")
    g.add_argument("--c", type=float, default=2.0, help="aspect ratio c = d/N (default 2)")
    g.add_argument("--sv", type=floats, default=[2.0],
                   help="singular values of X, e.g. 3,1 (default 2)")
    g.add_argument("--test-energy", type=floats,
                   help="per-direction test energies l_i (default: sv^2 / N)")
    g.add_argument("--eta2-train", type=float, default=1.0,
                   help="training noise eta_trn^2 > 0 (default 1)")
    g.add_argument("--eta2-test", type=float, default=1.0,
                   help="test noise eta_tst^2 >= 0 (default 1)")
    t = p.add_argument_group("times (in the loss's units; 1/eta2_train is the natural scale)")
    t.add_argument("--t-min", type=float, default=1e-2, help="first time (default 0.01)")
    t.add_argument("--t-max", type=float, default=1e3, help="last time (default 1000)")
    t.add_argument("--points", type=int, default=61,
                   help="log-spaced times of the curve (default 61)")
    m = p.add_argument_group("Monte Carlo and early stopping")
    m.add_argument("--mc-reps", type=int, default=0,
                   help="Monte Carlo replicates (default 0: none)")
    m.add_argument("--mc-times", type=floats, default=[0.1, 1.0, 10.0, 100.0],
                   help="times of the Monte Carlo points (default 0.1,1,10,100)")
    m.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    m.add_argument("--early-stopping", action="store_true",
                   help="optimal stopping time and risk against the optimal ridge lambda*")
    o = p.add_argument_group("output")
    o.add_argument("--format", choices=FORMATS, default="text",
                   help="table format on stdout (default text)")
    o.add_argument("--digits", type=int, default=6, help="significant digits (default 6)")
    o.add_argument("--json", action="store_true",
                   help="strict JSON on stdout (non-finite numbers as null)")
    o.add_argument("--output", metavar="DIR",
                   help="write risk_over_time.{csv,json,png,svg} (and the Monte Carlo CSV) "
                        "to DIR")
    p.set_defaults(func=cmd_risk_time)
    return p
