"""The ``rmtrisk`` command line: parsing and printing only; the math lives in the package."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from .cli_data import add_data_options, data_from_args
from .cli_dynamics import add_dynamics_commands
from .cli_grids import add_grid_commands, floats, ints
from .cli_relu import add_relu_commands
from .cli_reproduce import add_reproduce_command
from .cli_risk_time import add_risk_time_command
from .cli_sweep import add_executor_options, add_sweep_commands, cmd_verify
from .montecarlo import monte_carlo_risk
from .montecarlo.real_data import real_data_monte_carlo
from .problem import Problem
from .report.figures import risk_curve, risk_curve_figure, risk_parts_figure
from .report.tables import FORMATS, format_table
from .serialize import strict_json_value
from .status import SolverError
from .theory import (
    VARIANTS,
    asymptotic_risk,
    optimal_bottleneck,
    optimal_regularization,
    optimal_training_noise,
)

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


def _add_problem_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("problem (unset fields come from the built-in default example)")
    g.add_argument("--d", type=int, help="ambient dimension d")
    size = g.add_mutually_exclusive_group()
    size.add_argument("--n", type=int, help="training samples N")
    size.add_argument("--c", type=float, help="aspect ratio c = d/N (sets N = round(d/c))")
    spec = g.add_mutually_exclusive_group()
    spec.add_argument("--sv", type=floats, help="singular values of X, e.g. 1.2,0.8")
    spec.add_argument("--energy", type=floats, help="per-sample energies e_i (sv^2 = N e)")
    g.add_argument("--test-energy", type=floats,
                   help="per-direction test energies l_i (default: sv^2 / N)")
    g.add_argument("--eta2-train", type=float, help="training noise eta_trn^2 > 0")
    g.add_argument("--eta2-test", type=float, help="test noise eta_tst^2 >= 0")
    width = g.add_mutually_exclusive_group()
    width.add_argument("--k", type=int, help="bottleneck width k in [1, d]")
    width.add_argument("--kappa", type=float, help="bottleneck ratio k/d in (0, 1]")
    g.add_argument("--skip", action="store_true", help="skip connection f(y) = (I + W) y")
    g.add_argument("--reg", type=float, help="product regularization lambda >= 0")
    g.add_argument("--critical-set", type=ints,
                   help="1-based ranks of the kept singular triplets (default: top k)")
    add_data_options(p)


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
    spectrum = data_from_args(args)
    if spectrum is not None:  # d, n and the energies come from the data (n chosen by --n/--c)
        for name in ("n", "c"):
            changes.pop(name, None)
        data = spectrum.problem(k=min(base.k, spectrum.d), eta2_train=base.eta2_train,
                                eta2_test=base.eta2_test)
        return data.replace(**changes)
    if "d" in changes and not ({"n", "c"} & changes.keys()):
        changes["c"] = base.c  # keep the default aspect ratio when only d is changed
    if {"n", "c"} & changes.keys() and not {"sv", "energy"} & changes.keys():
        # keep the default's per-sample energies (summing to 0.4096), not its singular values
        changes["energy"] = base.energy.tolist()
        if "test_energy" not in changes:
            changes["test_energy"] = None
    return base.replace(**changes)


def _print(obj: Any, as_json: bool, text: str) -> None:
    """``obj`` as strict JSON (non-finite numbers as null; the status says why) or ``text``."""
    print(json.dumps(strict_json_value(obj), indent=2, allow_nan=False) if as_json else text)


def _cmd_mc(args: argparse.Namespace) -> int:
    problem = problem_from_args(args)
    t0 = time.perf_counter()
    if args.real_data:
        spectrum = data_from_args(args)
        if spectrum is None:
            raise ValueError("--real-data needs --data")
        with tqdm(total=args.reps, desc="replicates", unit="rep", file=sys.stderr,
                  disable=args.json or args.reps < 20) as bar:
            mc = real_data_monte_carlo(spectrum, k=problem.k, skip=problem.skip,
                                       reg=problem.reg, eta2_train=problem.eta2_train,
                                       eta2_test=problem.eta2_test, reps=args.reps,
                                       seed=args.seed, progress=bar.update)
    else:
        mc = monte_carlo_risk(problem, reps=args.reps, seed=args.seed, workers=args.workers,
                              progress=not args.json and args.reps >= 20)
    elapsed = time.perf_counter() - t0
    if args.json:
        out = mc.to_dict()  # with the replicates: MonteCarloResult.from_dict reloads it
        if args.no_samples:
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
    mc.add_argument("--real-data", action="store_true",
                    help="with --data: train on the data's own rank-r matrix (its singular "
                         "vectors, not Haar frames) plus Gaussian noise, and measure the risk "
                         "on the held-out split (serial)")
    mc.add_argument("--json", action="store_true", help="print JSON (risk, bias, variance, "
                                                        "stderr, ci95, problem)")
    mc.add_argument("--no-samples", action="store_true",
                    help="with --json, leave out the replicates (the output then no longer "
                         "reloads with MonteCarloResult.from_dict)")
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
    cur.add_argument("--k-values", type=ints, help="bottleneck widths, e.g. 1,2,5")
    cur.add_argument("--reg-values", type=floats,
                     help="product regularizations, one curve each (at --k/--kappa), e.g. "
                          "0,0.01,0.1,1: how reg > 0 removes the peak at c = 1")
    cur.add_argument("--c-min", type=float, default=0.2, help="smallest c (default 0.2)")
    cur.add_argument("--c-max", type=float, default=5.0, help="largest c (default 5)")
    cur.add_argument("--points", type=int, default=60,
                     help="log-spaced aspect ratios per curve (default 60)")
    cur.add_argument("--mc-c", type=floats, help="aspect ratios with Monte Carlo points")
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

    add_grid_commands(add)
    add_reproduce_command(add)
    add_relu_commands(add)
    add_dynamics_commands(add, extra=[add_risk_time_command])
    add_sweep_commands(add)

    ver = add("verify", "theory against Monte Carlo over the verification grid (resumable)")
    ver.add_argument("--d", type=int, nargs="+", default=[500], help="dimensions (default 500)")
    ver.add_argument("--c-values", type=float, nargs="+", help="aspect ratios (default grid)")
    ver.add_argument("--reps", type=int, default=20, help="replicates per cell (default 20)")
    ver.add_argument("--seed", type=int, default=0, help="Monte Carlo root seed (default 0)")
    ver.add_argument("--out", help="results file: FILE.db (.sqlite, .sqlite3) is an SQLite store "
                                   "as of rmtrisk sweep, any other name a JSON-lines file; "
                                   "finished cells are kept, reruns resume")
    ver.add_argument("--strict", action="store_true",
                     help="exit 1 if any cell fails or has no finite theory")
    ver.add_argument("--format", choices=FORMATS, default="text")
    add_executor_options(ver, default=None)
    ver.set_defaults(func=cmd_verify)
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
