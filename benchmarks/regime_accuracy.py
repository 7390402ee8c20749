"""Accuracy of the ridge and skip c < 1 grid solvers against their mpmath references.

Ridge (``rmtrisk.engine.ridge_grid``): c log-spaced in [0.1, 10] plus the cells
{0.999, 0.9999, 1, 1.0001, 1.001} around the interpolation threshold, lambda log-spaced in
[1e-4, 10], three training noise levels; the bottom quarter of the spectrum dropped.
Skip c < 1 (``rmtrisk.engine.skip_under_grid``): c in [0.05, 0.99] (linear),
kappa log-spaced in [1e-4, 1] (kappa = 1 is the full-width AT_EDGE cell), three training noise
levels. Both: a rank-20 spiked spectrum, d = 3072, eta2_test = 0.3.

Prints, per regime, the maximum relative error over the SUCCESS cells of every output (bias
relative to |bias| + variance, since it changes sign), how often the per-cell error estimate
bounds the actual risk error, the status counts of both paths and whether they agree cell by
cell, and the spread of one reference value over dps = 30, 50, 80. ``--out`` also writes the
report as Markdown.

Run: python benchmarks/regime_accuracy.py [--nc 20] [--nk 20] [--dps 50] [--out FILE]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

import mpmath
import numpy as np

from rmtrisk.engine import (
    ridge_grid,
    ridge_reference,
    skip_under_grid,
    skip_under_reference,
)
from rmtrisk.status import Status

D = 3072
SV = np.geomspace(4.0, 0.25, 20)
ELL = np.geomspace(1.0, 0.01, 20)
ETA2_TEST = 0.3
KEPT = np.arange(20) < 15
TARGET = 1e-12


def ridge_cells(nc: int, nk: int) -> tuple[np.ndarray, ...]:
    cs = np.union1d(np.geomspace(0.1, 10.0, nc), [0.999, 0.9999, 1.0, 1.0001, 1.001])
    ls = np.geomspace(1e-4, 10.0, nk)
    return tuple(x.ravel() for x in np.meshgrid(cs, ls, [0.1, 1.0, 3.0], indexing="ij"))


def skip_under_cells(nc: int, nk: int) -> tuple[np.ndarray, ...]:
    cs = np.linspace(0.05, 0.99, nc)
    ks = np.geomspace(1e-4, 1.0, nk)
    return tuple(x.ravel() for x in np.meshgrid(cs, ks, [0.1, 1.0, 3.0], indexing="ij"))


def _rel(got: float, exact, scale=None) -> float:
    scale = abs(exact) if scale is None else scale
    return float(abs(mpmath.mpf(float(got)) - exact) / scale) if scale != 0 else float(abs(got))


def compare(name, res, ref_fn, cells, fields) -> list[str]:
    """Evaluate the reference on every cell and return the report lines."""
    n = cells[0].size
    rel = {f: np.full(n, np.nan) for f in fields}
    abs_err = np.full(n, np.nan)
    ref_status = np.empty(n, dtype=int)
    t0 = time.perf_counter()
    worst_at = None
    for i in range(n):
        ref = ref_fn(*(x[i] for x in cells))
        ref_status[i] = int(ref.status)
        if ref.status not in (Status.SUCCESS, Status.AT_EDGE):
            continue
        for f in fields:
            scale = abs(ref.bias) + abs(ref.variance) if f == "bias" else None
            rel[f][i] = _rel(getattr(res, f)[i], getattr(ref, f), scale)
        abs_err[i] = float(abs(mpmath.mpf(float(res.risk[i])) - ref.risk))
    t_ref = time.perf_counter() - t0
    ok = (res.status == int(Status.SUCCESS)) & (ref_status == int(Status.SUCCESS))
    worst_at = int(np.nanargmax(np.where(ok, rel["risk"], np.nan)))
    lines = [f"### {name}", "",
             f"{n} cells, {int(ok.sum())} SUCCESS in both paths; reference "
             f"{t_ref:.1f} s", "",
             "| quantity | max rel err (SUCCESS) | median |", "|---|---|---|"]
    for f in fields:
        lines.append(f"| {f} | {np.nanmax(rel[f][ok]):.2e} | {np.nanmedian(rel[f][ok]):.1e} |")
    bounded = np.mean(abs_err[ok] <= res.error[ok])
    ratio = np.nanmax(abs_err[ok] / res.error[ok])
    worst = max(np.nanmax(rel[f][ok]) for f in fields)
    edge = (res.status == int(Status.AT_EDGE)) & (ref_status == int(Status.AT_EDGE))
    if edge.any():
        lines += ["", f"- AT_EDGE cells ({int(edge.sum())}, values computed): max rel err "
                  + ", ".join(f"{f} {np.nanmax(rel[f][edge]):.2e}" for f in fields)]
    lines += ["",
              f"- error estimate bounds the actual risk error in {100 * bounded:.1f}% of SUCCESS "
              f"cells (max actual/estimate = {ratio:.2f})",
              "- worst risk cell (c, lambda or kappa, eta2_train): "
              + ", ".join(f"{x[worst_at]:.6g}" for x in cells)
              + f" (rel err {rel['risk'][worst_at]:.2e})",
              f"- target max rel err <= {TARGET:.0e} on every output: "
              f"{'PASS' if worst <= TARGET else 'FAIL'} (worst {worst:.2e})",
              "- status counts (compiled): "
              + str(dict(Counter(Status(int(s)).name for s in res.status))),
              "- status counts (mpmath): "
              + str(dict(Counter(Status(int(s)).name for s in ref_status))),
              f"- statuses agree cell by cell: {bool(np.all(ref_status == res.status))}", ""]
    return lines


def precision_lines(name, fn, args) -> list[str]:
    vals = {p: fn(*args, dps=p).risk for p in (30, 50, 80)}
    with mpmath.workdps(90):
        d30 = abs(vals[30] - vals[80]) / vals[80]
        d50 = abs(vals[50] - vals[80]) / vals[80]
        return [f"- {name} reference at {args[:2]}: dps=80 risk = {mpmath.nstr(vals[80], 30)}; "
                f"rel diff dps30 vs dps80 = {mpmath.nstr(d30, 3)}, dps50 vs dps80 = "
                f"{mpmath.nstr(d50, 3)}"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nc", type=int, default=20)
    ap.add_argument("--nk", type=int, default=20)
    ap.add_argument("--dps", type=int, default=50)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    lines = [f"# Regime accuracy: compiled grid solver vs mpmath at {args.dps} digits", "",
             f"r = {SV.size} directions (sv log-spaced 4 .. 0.25, test energy 1 .. 0.01), "
             f"d = {D}, eta2_test = {ETA2_TEST}; eta2_train in {{0.1, 1, 3}}.", ""]

    c, reg, e2 = ridge_cells(args.nc, args.nk)
    res = ridge_grid(c, reg, e2, ETA2_TEST, SV, ELL, D, kept=KEPT)
    lines += compare(
        "Ridge (no skip, lambda > 0): c in [0.1, 10] incl. 0.999 .. 1.001, lambda in "
        "[1e-4, 10], 15 of 20 directions kept", res,
        lambda c_, r_, e_: ridge_reference(c_, r_, e_, ETA2_TEST, SV, ELL, D, kept=KEPT,
                                         dps=args.dps),
        (c, reg, e2), ("risk", "bias", "variance", "g", "gprime"))

    c, kappa, e2 = skip_under_cells(args.nc, args.nk)
    res = skip_under_grid(c, kappa, e2, ETA2_TEST, SV, ELL, D)
    lines += compare(
        "Skip connection, c < 1, lambda = 0: c in [0.05, 0.99], kappa in [1e-4, 1]", res,
        lambda c_, k_, e_: skip_under_reference(c_, k_, e_, ETA2_TEST, SV, ELL, D,
                                                           dps=args.dps),
        (c, kappa, e2), ("risk", "bias", "variance", "threshold"))

    lines += ["### Reference precision", ""]
    lines += precision_lines("ridge", lambda *a, dps: ridge_reference(*a, kept=KEPT, dps=dps),
                             (1.001, 1e-4, 1.0, ETA2_TEST, SV, ELL, D))
    lines += precision_lines("skip c < 1", skip_under_reference,
                             (0.5, 0.1, 1.0, ETA2_TEST, SV, ELL, D))
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
