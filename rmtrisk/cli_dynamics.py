"""The ``rmtrisk dynamics`` command group: ``modes`` and ``noise-vs-decay``.

Parsing and writing only: the values come from :mod:`rmtrisk.dynamics.modes`,
:mod:`rmtrisk.dynamics.flow` and :mod:`rmtrisk.dynamics.weight_decay`. Further subcommands
(e.g. ``dynamics risk``) register through :data:`DYNAMICS_SUBCOMMANDS` or the ``extra``
argument of :func:`add_dynamics_commands`: each registrar is called with
``add(name, help) -> argparse.ArgumentParser`` for the ``dynamics`` sub-subparsers and sets
``func`` on the parser it creates.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .cli_grids import floats
from .dynamics.flow import (
    aligned_balanced_init,
    crossing_time,
    mode_projections,
    noise_averaged_flow,
    predicted_modes,
)
from .dynamics.modes import mode_fixed_point, mode_value, noise_product_regularization
from .dynamics.weight_decay import (
    decay_time_rescaling,
    equivalent_weight_decay,
    noise_vs_decay_rows,
)
from .montecarlo.sampling import haar_frame
from .report.dynamics_figures import modes_figure, noise_vs_decay_figure
from .serialize import strict_json_value

__all__ = ["DYNAMICS_SUBCOMMANDS", "add_dynamics_commands", "cmd_modes", "cmd_noise_vs_decay",
           "write_outputs"]

Adder = Callable[[str, str], argparse.ArgumentParser]

#: registrars of further ``rmtrisk dynamics`` subcommands, each called as ``registrar(add)``
DYNAMICS_SUBCOMMANDS: list[Callable[[Adder], None]] = []


def _json_text(obj: Any) -> str:
    return json.dumps(strict_json_value(obj), indent=2, allow_nan=False) + "\n"


def write_outputs(out: Path, stem: str, args: argparse.Namespace, rows: list[dict],
                  summary: dict[str, Any], fig) -> list[Path]:
    """Write ``STEM.csv`` (rows), ``STEM.json`` (summary and rows, strict JSON),
    ``STEM.png`` (the figure) and ``STEM.meta.json`` (the command, version and every option)
    into the directory ``out``; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{stem}.{ext}" for ext in ("csv", "json", "png", "meta.json")]
    with paths[0].open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    paths[1].write_text(_json_text({**summary, "rows": rows}), encoding="utf-8")
    fig.savefig(paths[2], dpi=150)
    options = {k: v for k, v in vars(args).items() if k not in ("func", "argv")}
    meta = {"command": ["rmtrisk", *getattr(args, "argv", [])], "version": __version__,
            "options": options, "files": [p.name for p in paths[:3]]}
    paths[3].write_text(_json_text(meta), encoding="utf-8")
    return paths


def _positive_int(name: str, value: int, lo: int = 1) -> None:
    if value < lo:
        raise ValueError(f"--{name} must be an integer >= {lo}, got {value}")


def cmd_modes(args: argparse.Namespace) -> int:
    """``rmtrisk dynamics modes``: closed-form mode trajectories, checked by the integrator."""
    energy = np.asarray(args.energy, dtype=float)
    if energy.size == 0 or np.any(energy <= 0) or not np.all(np.isfinite(energy)):
        raise ValueError("--energy must be finite numbers > 0")
    _positive_int("n", args.n)
    _positive_int("points", args.points, 2)
    if not 1 <= energy.size <= args.d:
        raise ValueError(f"--d must be >= the number of energies ({energy.size})")
    for name in ("eta2_train", "weight_decay"):
        if not np.isfinite(getattr(args, name)) or getattr(args, name) < 0:
            raise ValueError(f"--{name.replace('_', '-')} must be finite and >= 0")
    if not np.isfinite(args.u0) or args.u0 <= 0:
        raise ValueError("--u0 must be finite and > 0")
    N, d, r = args.n, args.d, energy.size
    sv = np.sqrt(N * energy)
    nu = noise_product_regularization(args.eta2_train, N, d)
    wd = N * args.weight_decay
    star = mode_fixed_point(sv**2, nu, wd)
    living = energy > args.weight_decay
    if args.time is not None:
        if not np.isfinite(args.time) or args.time <= 0:
            raise ValueError("--time must be finite and > 0")
        t_max = args.time
    else:  # ten time constants of the slowest mode (living or dying) past its rise
        rate = 2.0 * np.abs(energy - args.weight_decay)
        rate = np.where(rate > 0, rate, 2.0 * energy)
        start = args.u0 if args.init != "random" else min(args.u0, args.init_scale**2 / 10)
        t_max = float(np.max((np.log(1.0 / start) + 10.0) / rate))
    t = np.concatenate([[0.0], np.geomspace(t_max * 1e-4, t_max, args.points - 1)])
    s = t / N  # gradient-flow time on the summed loss
    u0 = np.full(r, args.u0)
    closed = mode_value(s[:, None], sv**2, nu, wd, u0)
    integrated, summary_check = None, {}
    if args.init != "none":
        rng = np.random.default_rng(args.seed)
        U = haar_frame(d, r, rng)
        k = r
        if args.init == "aligned":
            W1, W2 = aligned_balanced_init(U, u0, rotation=haar_frame(k, k, rng))
        else:
            W1 = args.init_scale * rng.standard_normal((k, d))
            W2 = args.init_scale * rng.standard_normal((d, k))
            closed = predicted_modes(W1, W2, U, sv, nu, s, wd=wd)
        run = noise_averaged_flow(sv, U, nu, W1, W2, s, wd=wd)
        integrated = mode_projections(run.W, U)
        scale = np.where(star > 0, star, np.max(np.abs(closed), axis=0))
        deviation = np.max(np.abs(integrated - closed), axis=0) / scale
        with np.errstate(divide="ignore", invalid="ignore"):
            seen = np.abs(closed) > 1e-10
            rel = np.where(seen, np.abs(integrated / closed - 1), np.nan)
        half = [(crossing_time(t, integrated[:, i], star[i] / 2),
                 crossing_time(t, closed[:, i], star[i] / 2)) if star[i] > 0 else
                (float("nan"), float("nan")) for i in range(r)]
        summary_check = {
            "init": args.init, "seed": args.seed,
            "max_abs_deviation_over_fixed_point": deviation.tolist(),
            "max_relative_deviation": [float(np.nanmax(x)) if np.any(np.isfinite(x)) else None
                                       for x in rel.T],
            "half_rise_time_integrator": [h[0] for h in half],
            "half_rise_time_closed_form": [h[1] for h in half],
            "final_relative_distance_to_fixed_point": [
                float(abs(integrated[-1, i] - star[i]) / star[i]) if star[i] > 0 else
                float(abs(integrated[-1, i])) for i in range(r)],
        }
    rows = []
    for j in range(t.size):
        row: dict[str, Any] = {"t": float(t[j]), "s": float(s[j])}
        row.update({f"u{i + 1}": float(closed[j, i]) for i in range(r)})
        if integrated is not None:
            row.update({f"u{i + 1}_integrator": float(integrated[j, i]) for i in range(r)})
        rows.append(row)
    summary = {"energy": energy.tolist(), "n": N, "d": d, "eta2_train": args.eta2_train,
               "weight_decay": args.weight_decay, "u0": args.u0,
               "nu": nu, "wd_summed": wd, "fixed_point": star.tolist(),
               "rate_per_t": (2.0 * (energy - args.weight_decay)).tolist(),
               "living": living.tolist(), **summary_check}
    labels = [f"e = {e:g}" + ("" if alive else " (dies)") for e, alive in zip(energy, living,
                                                                                  strict=True)]
    kind = {"aligned": "closed form (lines), integrator from aligned balanced start (dots)",
            "random": "per-mode prediction (lines), integrator from small random start (dots)",
            "none": "closed form"}[args.init]
    fig = modes_figure(t, closed, labels, integrated, fixed_points=star,
                       title=f"{kind}\nN = {N}, d = {d}, eta2_train = {args.eta2_train:g}, "
                             f"weight decay = {args.weight_decay:g}, u0 = {args.u0:g}")
    paths = write_outputs(Path(args.output), "modes", args, rows, summary, fig)
    _report(paths, summary, ("fixed_point", "max_relative_deviation",
                             "max_abs_deviation_over_fixed_point"))
    return 0


def cmd_noise_vs_decay(args: argparse.Namespace) -> int:
    """``rmtrisk dynamics noise-vs-decay``: the scalar model, noise against weight decay."""
    noise = np.asarray(args.noise, dtype=float)
    if noise.size == 0 or np.any(noise <= 0) or not np.all(np.isfinite(noise)):
        raise ValueError("--noise must be finite numbers > 0")
    if not np.isfinite(args.lam) or args.lam <= 0:
        raise ValueError("--lam must be finite and > 0")
    if not 0 < args.tol < 1:
        raise ValueError("--tol must be in (0, 1)")
    _positive_int("steps", args.steps)
    _positive_int("grid", args.grid, 2)
    rows = noise_vs_decay_rows(args.lam, noise, args.u0, args.tol, imbalance=args.imbalance,
                               steps=args.steps, grid=args.grid)
    star = decay_time_rescaling(args.lam, noise)
    gamma = equivalent_weight_decay(args.lam, noise)
    t = np.linspace(0.0, (np.log(1.0 / args.u0) + 6.0) / (2.0 * args.lam * star.min()), 241)
    noise_u = mode_value(t[:, None], args.lam, noise, 0.0, args.u0)
    decay_u = mode_value(t[:, None], args.lam, 0.0, gamma, args.u0)
    # the decay trajectory at time t / u* lies on the noise one at time t
    decay_late = mode_value(t[:, None] / star, args.lam, 0.0, gamma, args.u0)
    summary = {"lam": args.lam, "u0": args.u0, "tol": args.tol, "imbalance": args.imbalance,
               "fixed_point": star.tolist(), "gamma_equivalent": gamma.tolist(),
               "max_rescaling_mismatch": float(np.max(np.abs(decay_late - noise_u)))}
    fig = noise_vs_decay_figure(t, noise_u, decay_u, decay_late, rows,
                                title=f"scalar model, lam = {args.lam:g}, u0 = {args.u0:g}, "
                                      f"tol = {args.tol:g}, perturbed start: imbalance "
                                      f"{args.imbalance:g}")
    paths = write_outputs(Path(args.output), "noise_vs_decay", args, rows, summary, fig)
    _report(paths, summary, ("max_rescaling_mismatch",))
    return 0


def _report(paths: Sequence[Path], summary: dict[str, Any], keys: Sequence[str]) -> None:
    for key in keys:
        if key in summary:
            print(f"{key}: {summary[key]}", file=sys.stderr)
    print("wrote " + ", ".join(str(p) for p in paths), file=sys.stderr)


def _add_modes(add: Adder) -> None:
    p = add("modes", "closed-form mode trajectories u_i(t) of the two-layer linear DAE on the "
                     "noise-averaged loss, checked by integrating gradient flow (figure, CSV, "
                     "JSON, metadata)")
    p.add_argument("--energy", type=floats, default=[2.0, 1.0, 0.4, 0.05],
                   help="per-sample energies e_i = sv_i^2 / N of the modes, i.e. the paper's "
                        "lam / N (default 2,1,0.4,0.05)")
    p.add_argument("--n", type=int, default=40, help="training samples N (default 40)")
    p.add_argument("--d", type=int, default=20,
                   help="ambient dimension d of the integrated network (default 20)")
    p.add_argument("--eta2-train", type=float, default=0.5,
                   help="training noise eta2_train (per-coordinate variance eta2_train / d, "
                        "the paper's var; default 0.5)")
    p.add_argument("--weight-decay", type=float, default=0.0,
                   help="weight decay gamma on the per-sample mean loss (the paper's gamma; "
                        "a mode with e_i <= gamma dies; default 0)")
    p.add_argument("--u0", type=float, default=1e-6,
                   help="starting mode value w1 w2 of every mode (default 1e-6)")
    p.add_argument("--time", type=float,
                   help="largest time t = N s (learning rate x epochs on the mean loss; "
                        "default: the slowest mode's rise from u0, or from init-scale^2 / 10 "
                        "with --init random, plus ten time constants)")
    p.add_argument("--points", type=int, default=120,
                   help="recorded times, t = 0 and log-spaced (default 120)")
    p.add_argument("--init", choices=["aligned", "random", "none"], default="aligned",
                   help="start of the integrator: aligned balanced factors at u0 (checks the "
                        "closed form), small random factors (measures the per-mode "
                        "prediction's deviation), or none (closed form only; default aligned)")
    p.add_argument("--init-scale", type=float, default=1e-3,
                   help="--init random: standard deviation of the weights (default 1e-3)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the data directions and the start (default 0)")
    p.add_argument("--output", default="dynamics_modes",
                   help="output directory: modes.png, .csv, .json, .meta.json "
                        "(default dynamics_modes)")
    p.set_defaults(func=cmd_modes)


def _add_noise_vs_decay(add: Adder) -> None:
    p = add("noise-vs-decay", "input noise against the weight decay with the same fixed point "
                              "in the paper's scalar model: trajectories, time rescaling and "
                              "gradient-descent steps at each model's own step size")
    p.add_argument("--lam", type=float, default=1.0,
                   help="eigenvalue of the scalar model (N = 1; default 1)")
    p.add_argument("--noise", type=floats, default=[0.2, 0.5, 1.0, 2.0, 5.0],
                   help="noise variances var (default 0.2,0.5,1,2,5); the weight decay is "
                        "gamma = lam var / (lam + var)")
    p.add_argument("--u0", type=float, default=1e-6,
                   help="starting value w1 w2 (default 1e-6)")
    p.add_argument("--tol", type=float, default=1e-2,
                   help="converged when within tol x the fixed point for good (default 0.01)")
    p.add_argument("--imbalance", type=float, default=1e-2,
                   help="relative imbalance of the perturbed start, w1 = sqrt(u0)(1 + x), "
                        "w2 = sqrt(u0)(1 - x) (default 0.01)")
    p.add_argument("--steps", type=int, default=2000,
                   help="gradient-descent steps per run (default 2000)")
    p.add_argument("--grid", type=int, default=200,
                   help="step sizes tried per model for the best one (default 200)")
    p.add_argument("--output", default="dynamics_noise_vs_decay",
                   help="output directory: noise_vs_decay.png, .csv, .json, .meta.json "
                        "(default dynamics_noise_vs_decay)")
    p.set_defaults(func=cmd_noise_vs_decay)


def add_dynamics_commands(add: Adder, extra: Sequence[Callable[[Adder], None]] = ()) -> None:
    """Add ``rmtrisk dynamics`` through ``add(name, help)`` with the subcommands ``modes``,
    ``noise-vs-decay``, those of :data:`DYNAMICS_SUBCOMMANDS` and ``extra``.

    The help of every subcommand is appended to the help of ``rmtrisk dynamics`` (so that the
    generated reference docs/cli.md lists every option).
    """
    dyn = add("dynamics", "training dynamics of linear DAEs: mode trajectories and noise "
                          "versus weight decay (subcommands; docs/dynamics.md)")
    sub = dyn.add_subparsers(dest="dynamics_command", metavar="SUBCOMMAND", required=True)

    def fixed(prog: str) -> argparse.HelpFormatter:
        return argparse.RawDescriptionHelpFormatter(prog, width=100)

    def add_sub(name: str, help_: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_, description=help_, formatter_class=fixed)

    for registrar in (_add_modes, _add_noise_vs_decay, *DYNAMICS_SUBCOMMANDS, *extra):
        registrar(add_sub)
    helps = [f"=== {parser.prog} ===\n{parser.format_help().rstrip()}"
             for parser in sub.choices.values()]
    dyn.epilog = "\n\n".join(["subcommands in full:", *helps, dyn.epilog or ""])
