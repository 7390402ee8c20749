"""Theory against Monte Carlo over the verification grid, with a convergence table in d.

Runs :func:`rmtrisk.verification.verify_cells` for every cell of the grid at each dimension
(default d = 500, 1000, 2000; cells that differ only in the test energies share their Monte
Carlo draws), stores every finished cell in a JSON-lines file (rerunning resumes; each row
records its ``reps`` and ``seed``), then prints

1. the full table at the largest d (theory, finite-size, paper, MC mean, stderr, z, pass),
2. the convergence table: per regime and d, the largest |relative error| and |z|,
3. the cells where the published formula fails.

Cells whose theory is not available yet (nan) are stored and listed with nan theory columns;
they count as neither passed nor failed, and the convergence table takes its maxima over the
cells with a finite theory.

Run: ``python benchmarks/theory_vs_mc.py [--d 500 1000 2000] [--reps 40] [--workers 1]
[--out benchmarks/results/theory_vs_mc.jsonl] [--format markdown]``.

The stored results hold 40 replicates per cell, except the skip + ridge cells at d = 2000 (20:
``--d 250 500 1000`` then ``--d 2000 --reps 20 --workers 2``). Printing every stored d without
new Monte Carlo: ``--d 250 500 1000 2000 --format markdown``.
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict

from tqdm.auto import tqdm

from rmtrisk.montecarlo import training_side
from rmtrisk.report.tables import format_table
from rmtrisk.verification import compare, verification_grid, verify_cells
from rmtrisk.verification.store import ResultStore


def _finite(values) -> list[float]:
    return [abs(v) for v in values if v is not None and math.isfinite(v)]


def _max(values) -> float:
    vals = _finite(values)
    return max(vals) if vals else math.nan


def _mean(values) -> float:
    vals = _finite(values)
    return sum(vals) / len(vals) if vals else math.nan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, nargs="+", default=[500, 1000, 2000])
    parser.add_argument("--reps", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/results/theory_vs_mc.jsonl")
    parser.add_argument("--format", default="text")
    args = parser.parse_args()

    store = ResultStore(args.out)
    cells = [cell for d in args.d for cell in verification_grid(d)]
    # cells differing only in the test energies run on the same draws, stored once all are done
    pending: dict[tuple, list] = defaultdict(list)
    for cell in cells:
        if cell.key not in store:
            pending[training_side(cell.problem)].append(cell)
    for batch in tqdm(list(pending.values()), desc="problems"):
        for row in verify_cells(batch, reps=args.reps, seed=args.seed, workers=args.workers):
            store.append(row)
    # stored Monte Carlo estimates stay; the theory columns are recomputed with the current code
    rows = [{**store.get(cell.key), **compare(cell.problem, store.get(cell.key)["mc"],
                                             store.get(cell.key)["stderr"])} for cell in cells]

    top = max(args.d)
    cols = ["key", "theory", "finite_size", "paper", "mc", "stderr", "rel_err", "z", "z_finite",
            "ok", "paper_ok"]
    reps = sorted({r["reps"] for r in rows if r["d"] == top})
    print(f"## Theory against Monte Carlo at d = {top} "
          f"({' or '.join(map(str, reps))} replicates per cell)\n")
    print(format_table([r for r in rows if r["d"] == top], cols, fmt=args.format, digits=5))
    passed = sum(bool(r["ok"]) for r in rows if r["d"] == top)
    total = sum(1 for r in rows if r["d"] == top and r["ok"] is not None)
    no_theory = sum(1 for r in rows if r["d"] == top and r["ok"] is None)
    print(f"\n{passed}/{total} cells within max(3 stderr, 1 %) at d = {top}"
          f" ({no_theory} cells without theory)\n")

    groups: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["group"], r["d"])].append(r)
    conv = []
    for (name, d), rs in sorted(groups.items()):
        conv.append({"group": name, "d": d, "cells": len(rs),
                     "reps": "/".join(map(str, sorted({r["reps"] for r in rs}))),
                     "max|rel_err|": _max(r["rel_err"] for r in rs),
                     "mean|rel_err|": _mean(r["rel_err"] for r in rs),
                     "max|z|": _max(r["z"] for r in rs),
                     "max|z| finite-size": _max(r["z_finite"] for r in rs),
                     "passed": sum(bool(r["ok"]) for r in rs),
                     "passed finite-size": sum(bool(r["finite_ok"]) for r in rs)})
    print("## Convergence in d\n")
    print(format_table(conv, fmt=args.format, digits=3))
    fails = [r for r in rows if r["paper_ok"] is False and r["d"] == top]
    print(f"\n## Cells where the published formula fails at d = {top}: {len(fails)}\n")
    print(format_table(fails, ["key", "paper", "mc", "stderr", "z_paper"], fmt=args.format,
                       digits=5))


if __name__ == "__main__":
    main()
