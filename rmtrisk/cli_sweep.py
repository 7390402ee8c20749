"""The sweep commands of the ``rmtrisk`` command line: ``sweep``, ``show`` and ``verify``.

Parsing and printing only: the cells are run by :func:`rmtrisk.sweep.sweep` and stored in a
:class:`rmtrisk.sweep.SweepStore` (docs/sweeps.md).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .cli_grids import add_grid_options, grid_axes, grid_spectrum, grid_values
from .problem import Problem
from .report.tables import FORMATS, format_table
from .sweep.executors import make_executor
from .sweep.jsonl import import_jsonl
from .sweep.run import sweep
from .sweep.store import CellRecord, SweepStore
from .verification import ResultStore, result_row, verification_grid

__all__ = ["add_executor_options", "add_sweep_commands", "cmd_show", "cmd_sweep", "cmd_verify",
           "open_executor"]

#: file suffixes that ``verify --out`` treats as an SQLite store (anything else: JSON lines)
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
_SWEEP_COLUMNS = ["d", "c", "n", "k", "skip", "reg", "eta2_train", "eta2_test", "reps", "seed",
                  "theory", "mc", "se", "z", "theory_status", "mc_status"]


def add_executor_options(p: argparse.ArgumentParser, default: str | None = "processes") -> None:
    """The ``--executor``, ``--workers`` and ``--dask`` options."""
    g = p.add_argument_group("executor (results are identical whichever runs them)")
    g.add_argument("--executor", choices=("serial", "processes"), default=default,
                   help="serial: in this process; processes: local worker processes with "
                        "one BLAS thread each" + (f" (default {default})" if default else
                                                  " (default: serial with --workers 1, "
                                                  "else processes)"))
    g.add_argument("--workers", type=int, default=None,
                   help="worker processes (default: " + ("the number of CPUs" if default else
                                                        "1, serial") + "; with --dask local "
                        "the LocalCluster's worker count)")
    g.add_argument("--dask", metavar="ADDRESS",
                   help='run on dask.distributed: "local" starts a LocalCluster of '
                        'single-threaded worker processes, tcp://HOST:PORT attaches to a '
                        'scheduler started with `dask scheduler` (needs pip install '
                        '"rmtrisk[dask]")')


def open_executor(args: argparse.Namespace):
    """The executor the options ask for (the caller closes it)."""
    kind = args.executor
    if kind is None:  # verify: serial unless several workers are asked for
        kind = "serial" if (args.workers or 1) == 1 else "processes"
    try:
        return make_executor(kind, workers=args.workers, dask=args.dask)
    except ImportError as exc:  # dask missing: the message says how to install it
        raise ValueError(str(exc)) from None


def _grid_problems(args: argparse.Namespace) -> list[Problem]:
    base = Problem.default()
    grid = grid_axes(args)
    _, spectrum = grid_spectrum(args, base)
    axes = list(grid)
    problems = []
    for d in args.d or [base.d]:
        for values in itertools.product(*(grid[name] for name in axes)):
            kw = dict(zip(axes, values, strict=True))
            try:
                problems.append(Problem(d=d, **spectrum, critical_set=args.critical_set, **kw))
            except ValueError as exc:
                raise ValueError(f"grid cell d={d} {kw}: {exc}") from None
    return problems


def _summary(records: list[CellRecord], store: str | None) -> str:
    resumed = sum(r.resumed for r in records)
    far = sum(bool(np.isfinite(r.z) and abs(r.z) > 4) for r in records)
    none = sum(not np.isfinite(r.theory_risk) for r in records)
    where = f" from {store}" if store else ""
    return (f"{len(records)} cells: {len(records) - resumed} computed, {resumed} resumed"
            f"{where}; {far} with |z| > 4; {none} without a finite theory (not a pass)")


def cmd_sweep(args: argparse.Namespace) -> int:
    """``rmtrisk sweep``: Monte Carlo and theory over a grid, stored cell by cell."""
    problems = _grid_problems(args)
    with open_executor(args) as executor:
        records = sweep(problems, args.reps, args.seed, executor=executor, store=args.store,
                        resume=args.resume, progress=args.format != "json",
                        batch_size=args.batch_size)
    rows = [{**r.row(), "resumed": r.resumed} for r in records]
    machine = args.format in ("csv", "json")
    text = format_table(rows, [*_SWEEP_COLUMNS, "resumed"], fmt=args.format,
                        digits=None if machine else args.digits)
    _emit(text, args.output)
    print(_summary(records, args.store), file=sys.stderr)
    bad = [r for r in records if not np.isfinite(r.theory_risk) or r.mc_status != "SUCCESS"
           or not np.isfinite(r.z) or abs(r.z) > 4]
    return 1 if bad and args.strict else 0


def _emit(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    else:
        print(text)


#: ``show`` filters: option name -> (column, parser kind)
_FILTERS = {"d": ("d", int), "n": ("n", int), "c": ("c", float), "k": ("k", int),
            "skip": ("skip", bool), "reg": ("reg", float), "eta2_train": ("eta2_train", float),
            "eta2_test": ("eta2_test", float), "reps": ("reps", int), "seed": ("seed", int)}
_SHOW_COLUMNS = ["label", "d", "n", "c", "k", "skip", "reg", "eta2_train", "eta2_test", "reps",
                 "seed", "theory", "mc", "se", "z", "theory_status", "mc_status", "regime",
                 "code_version", "source"]


def _where(args: argparse.Namespace) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for name, (column, kind) in _FILTERS.items():
        values = getattr(args, name)
        if values is None:
            continue
        if kind is float:  # stored floats are derived (c = d / n): compare to 1e-9 relative
            parts = [f"abs({column} - ?) <= 1e-9 * abs(?)" for _ in values]
            params += [v for value in values for v in (float(value), float(value))]
        else:
            parts = [f"{column} = ?" for _ in values]
            params += [int(v) for v in values]
        clauses.append("(" + " OR ".join(parts) + ")")
    for name, column in (("regime", "regime"), ("status", "theory_status"),
                         ("mc_status", "mc_status"), ("source", "source"),
                         ("version", "code_version")):
        value = getattr(args, name)
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if args.label:
        clauses.append("instr(label, ?) > 0")
        params.append(args.label)
    return " AND ".join(clauses), params


def cmd_show(args: argparse.Namespace) -> int:
    """``rmtrisk show``: list, filter and export a results store (after --import)."""
    if not args.import_files and not Path(args.store).exists():
        raise ValueError(f"store {args.store!r} does not exist (run rmtrisk sweep --store "
                         f"{args.store} or rmtrisk show {args.store} --import FILE.jsonl)")
    with SweepStore(args.store) as store:
        for path in args.import_files or []:
            count, skipped = import_jsonl(path, store)
            note = f", skipped {len(skipped)} rows that are not verification cells" \
                if skipped else ""
            print(f"imported {count} rows from {path} into {args.store}{note}", file=sys.stderr)
        where, params = _where(args)
        records = list(store.records(where, params))
        total = len(store)
    columns = args.columns.split(",") if args.columns else list(_SHOW_COLUMNS)
    rows = []
    for r in records:
        row = r.row()
        if args.samples:
            row["samples"] = None if r.samples is None else r.samples.tolist()
            columns = columns if "samples" in columns else [*columns, "samples"]
        row.update({k: v for k, v in r.extra.items() if k not in row})
        rows.append(row)
    unknown = sorted({c for c in columns if rows and c not in rows[0]})
    if unknown:
        raise ValueError(f"--columns: unknown column(s) {unknown}; valid: {sorted(rows[0])}")
    machine = args.format in ("csv", "json")
    _emit(format_table(rows, columns, fmt=args.format, digits=None if machine else args.digits),
          args.output)
    print(f"{len(rows)} of {total} stored cells match", file=sys.stderr)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """``rmtrisk verify``: the verification grid as a sweep; ``--out FILE.db`` (SQLite) or any
    other name (JSON lines, as before) keeps finished cells and reruns resume."""
    c_values = tuple(args.c_values) if args.c_values else None
    cells = [cell for d in args.d for cell in verification_grid(d, c_values)]
    by_key = {cell.key: cell for cell in cells}
    sqlite = bool(args.out) and Path(args.out).suffix.lower() in SQLITE_SUFFIXES
    jsonl = ResultStore(args.out) if args.out and not sqlite else None
    rows: dict[str, dict[str, Any]] = {}
    todo = []
    for cell in cells:
        done = jsonl.finished(cell.key, args.reps, args.seed) if jsonl is not None else None
        if done is not None:
            rows[cell.key] = done
        else:
            todo.append(cell)

    def finished(record: CellRecord) -> None:
        if jsonl is not None:
            jsonl.append(record.extra)

    if todo:
        with open_executor(args) as executor:
            records = sweep([c.problem for c in todo], args.reps, args.seed, executor=executor,
                            store=args.out if sqlite else None, labels=[c.key for c in todo],
                            extra=lambda key, mc: result_row(by_key[key], mc),
                            on_finished=finished, source="verify",
                            progress=args.format != "json")
        for cell, record in zip(todo, records, strict=True):
            rows[cell.key] = (result_row(cell, record.monte_carlo()) if record.resumed
                              else record.extra)
    rows_list = [rows[cell.key] for cell in cells]
    cols = ["key", "theory", "finite_size", "paper", "mc", "stderr", "rel_err", "z", "ok",
            "paper_ok"]
    print(format_table(rows_list, cols, fmt=args.format))
    failed = [r["key"] for r in rows_list if r["ok"] is False]
    no_theory = [r["key"] for r in rows_list if r["ok"] is None]  # never a pass
    passed = len(rows_list) - len(failed) - len(no_theory)
    if args.format != "json":
        print(f"{passed}/{len(rows_list)} cells within max(3 stderr, 1 %), {len(failed)} "
              f"outside, {len(no_theory)} without a finite theory (not counted as passing)",
              file=sys.stderr)
        paper_fail = [r["key"] for r in rows_list if r["paper_ok"] is False]
        print(f"paper variant fails in {len(paper_fail)} cells", file=sys.stderr)
    return 1 if (failed or no_theory) and args.strict else 0


def _add_grid_options(p: argparse.ArgumentParser) -> None:
    add_grid_options(p, "grid (as rmtrisk table: a list a,b,c or a range start:stop:count; "
                        "unset options come from the built-in default example; the cells are "
                        "the outer product of the given values)")


def _add_output_options(p: Any) -> None:
    p.add_argument("--format", choices=FORMATS, default="text",
                   help="text, markdown, csv, latex or json (csv and json: full precision; "
                        "json is strict, null for non-finite values)")
    p.add_argument("--digits", type=int, default=6,
                   help="significant digits for text, markdown and latex (default 6)")
    p.add_argument("--output", help="write the table to this file instead of stdout")


def add_sweep_commands(add: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """Add the ``sweep`` and ``show`` sub-commands through ``add(name, help)``."""
    sw = add("sweep", "Monte Carlo with the theory beside it (risk, se, z, status) over a grid "
                      "of problems, every finished cell stored in an SQLite file; resumable, "
                      "on local processes or dask.distributed (docs/sweeps.md)")
    _add_grid_options(sw)
    m = sw.add_argument_group("Monte Carlo and store")
    m.add_argument("--reps", type=int, default=20, help="replicates per cell (default 20)")
    m.add_argument("--seed", type=int, default=0,
                   help="root seed, the same for every cell (default 0)")
    m.add_argument("--store", help="SQLite results file (created if missing); every finished "
                                   "cell is written at once in its own transaction")
    m.add_argument("--resume", action="store_true",
                   help="read the cells already in --store with the same problem, reps, seed "
                        "and code version instead of computing them again")
    m.add_argument("--batch-size", type=int,
                   help="replicates per task (default: about four tasks per worker)")
    m.add_argument("--strict", action="store_true",
                   help="exit 1 if a cell has no finite theory, a Monte Carlo status other "
                        "than SUCCESS or |z| > 4")
    add_executor_options(sw)
    _add_output_options(sw)
    sw.set_defaults(func=cmd_sweep)

    sh = add("show", "list, filter and export the cells of a results store (CSV, JSON, "
                     "Markdown, ...); --import copies verify JSON-lines files into it first")
    sh.add_argument("store", help="SQLite results file written by rmtrisk sweep or verify")
    sh.add_argument("--import", dest="import_files", nargs="+", metavar="FILE",
                    help="JSON-lines files of rmtrisk verify --out to import first (creates "
                         "the store if needed; imported rows have an unknown code version "
                         "and are never resumed from)")
    f = sh.add_argument_group("filters (lists a,b,c or ranges start:stop:count; a row matches "
                              "when every given filter matches one of its values)")
    for name, (_, kind) in _FILTERS.items():
        flag = "--" + name.replace("_", "-")
        f.add_argument(flag, dest=name, type=grid_values(name.replace("_", "-"), kind),
                       help=f"keep rows with these {name} values")
    f.add_argument("--label", help="keep rows whose label contains this text")
    f.add_argument("--regime", help="keep rows of this regime, e.g. skip-ridge")
    f.add_argument("--status", help="keep rows with this theory status, e.g. SUCCESS")
    f.add_argument("--mc-status", help="keep rows with this Monte Carlo status")
    f.add_argument("--source", help="keep rows from this source: sweep, verify, import:FILE")
    f.add_argument("--version", help="keep rows of this code version")
    o = sh.add_argument_group("output")
    o.add_argument("--columns", help=f"comma-separated columns (default: "
                                     f"{','.join(_SHOW_COLUMNS)}; also rank, seconds, key and, for "
                                     f"verify rows, their verification columns)")
    o.add_argument("--samples", action="store_true",
                   help="add the per-replicate (risk, bias, variance) samples (for json)")
    _add_output_options(o)
    sh.set_defaults(func=cmd_show)
