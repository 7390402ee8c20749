"""Accuracy and speed of the skip-connection lambda > 0 solver against its mpmath reference.

Compiled path: ``rmtrisk.engine.skip_ridge_grid`` (numba; Gauss–Legendre in an angle
variable, smooth-part / pole split of the Marchenko–Pastur averages). Reference:
``rmtrisk.engine.skip_ridge_reference`` (mpmath; partial fractions, tanh-sinh, guard
digits for small lambda). Same equations, different numerics.

Grid: c in {0.25, 0.5, 0.8, 0.95, 1, 1.05, 1.2, 2, 4}, reg in {1e-4, 1e-3, 1e-2, 0.05, 0.3, 1,
10}, kappa in {0.01, 0.1, 0.3, min(1, 1/c)} (the last is the full-width AT_EDGE cell; 0.3 becomes
0.8 min(1, 1/c) where it exceeds the maximum, i.e. 0.2 at c = 4),
eta2_train in {1, 0.3}; spectrum sv = (30, 2, 1.4, 1, 0.7) (the strong first direction and
large reg give outlier eigenvalues of the kept matrix above the bulk), test energies
(1, 1, 0.8, 0.6, 0.4), eta2_test = 1, d = 2000. The full grid is 504 cells at ~1-25 s per
mpmath cell; ``--per-pair n`` keeps n of the 8 (kappa, eta2_train) combinations for every
(c, reg) pair, cycled so that every combination is used equally often (``--quick`` = 1).

Prints, and with ``--out`` writes as Markdown: the maximum relative error of risk, bias
(relative to |bias| + variance) and variance over the cells SUCCESS in both paths (target
1e-12), the same over AT_EDGE cells, status counts of both paths and their cell-by-cell
agreement, outlier counts (and agreement), whether the compiled ``error`` bounds the actual
risk error, the dps = 30 vs 50 spread of the reference on two cells, and the speed section:
compiled cells/s on a random grid (one thread, after warm-up), the first-call cost in a fresh
process with a cold and a warm numba cache, the mpmath time per cell, and one finite-d Monte
Carlo replicate (``rmtrisk.montecarlo.replicate_risk``, d = 2000) of the same problem.

The mpmath cells run in a process pool (``--workers``, default 2).

Known limitation of the reference: at full width (``kappa = min(1, 1/c)``, AT_EDGE) the
compiled path uses the closed form of the one-layer ridge skip model, which keeps the outlier
of the kept matrix *below* the bulk; the mpmath path integrates the bulk and looks for outliers
only above it, so for c < 1 at full width it returns the ``kappa -> min(1, 1/c)`` limit
instead (a different quantity; Monte Carlo sides with the compiled value). Those cells are
listed in the mismatch table and discussed in ``docs/engine.md``.

Run: python benchmarks/skip_ridge_accuracy.py [--quick | --per-pair 2] [--workers 2]
     [--speed-cells 10000] [--out benchmarks/results/skip_ridge_accuracy.md]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import mpmath  # noqa: E402
import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from rmtrisk import Problem  # noqa: E402
from rmtrisk.engine import skip_ridge_grid, skip_ridge_reference  # noqa: E402
from rmtrisk.montecarlo import replicate_risk  # noqa: E402
from rmtrisk.status import Status  # noqa: E402

D = 2000
SV = np.array([30.0, 2.0, 1.4, 1.0, 0.7])
ELL = np.array([1.0, 1.0, 0.8, 0.6, 0.4])
ETA2_TEST = 1.0
CS = (0.25, 0.5, 0.8, 0.95, 1.0, 1.05, 1.2, 2.0, 4.0)
REGS = (1e-4, 1e-3, 1e-2, 0.05, 0.3, 1.0, 10.0)
KAPPAS = (0.01, 0.1, 0.3, None)  # None: the maximum min(1, 1/c)
ETA2_TRAIN = (1.0, 0.3)
TARGET = 1e-12
#: speed grid: the fixed four-direction spectrum of the brief
SPEED_SV = np.array([2.0, 1.4, 1.0, 0.7])
SPEED_ELL = np.array([1.0, 0.8, 0.6, 0.4])


def grid(per_pair: int) -> tuple[np.ndarray, ...]:
    """(c, kappa, reg, eta2_train) of the cells: ``per_pair`` combinations per (c, reg)."""
    combos = [(k, e) for e in ETA2_TRAIN for k in KAPPAS]  # 8
    per_pair = min(per_pair, len(combos))
    rows = []
    j = 0
    for c in CS:
        for reg in REGS:
            for _ in range(per_pair):
                k, e = combos[j % len(combos)]
                j += 1 if per_pair == len(combos) else 3  # 3 is coprime to 8: cycles all
                cm = min(1.0, 1.0 / c)
                # kappa = 0.3 > 1/c at c = 4: an interior cell 0.8 min(1, 1/c) instead
                rows.append((c, cm if k is None else (k if k < cm else 0.8 * cm), reg, e))
            if per_pair == len(combos):
                j = 0
    return tuple(np.array(x) for x in zip(*rows, strict=True))


def mp_cell(c: float, kappa: float, reg: float, e2: float, dps: int = 30):
    """One reference cell in a worker: values as strings (exact transfer) and the time."""
    t0 = time.perf_counter()
    r = skip_ridge_reference(c, kappa, reg, e2, ETA2_TEST, SV, ELL, D, dps=dps)
    dt = time.perf_counter() - t0
    with mpmath.workdps(dps + 30):
        vals = tuple(mpmath.nstr(v, dps + 20) for v in (r.risk, r.bias, r.variance))
    return vals, int(r.outliers), int(r.status), dt


def _rel(got: float, exact: mpmath.mpf, scale: mpmath.mpf) -> float:
    return float(abs(mpmath.mpf(float(got)) - exact) / scale)


def accuracy(args) -> tuple[list[str], np.ndarray]:
    c, kappa, reg, e2 = grid(args.per_pair)
    n = c.size
    res = skip_ridge_grid(c, kappa, reg, e2, ETA2_TEST, SV, ELL, D)
    fields = ("risk", "bias", "variance")
    rel = {f: np.full(n, np.nan) for f in fields}
    abs_err = np.full(n, np.nan)
    mp_out = np.zeros(n, dtype=int)
    mp_st = np.zeros(n, dtype=int)
    mp_time = np.zeros(n)
    mp_val: list[tuple[str, ...] | None] = [None] * n
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as ex:
        futs = {ex.submit(mp_cell, c[i], kappa[i], reg[i], e2[i]): i for i in range(n)}
        # two cells at dps 30 vs 50: a cheap one and an outlier one
        prec_cells = [(0.25, 0.01, 0.05, 1.0), (1.0, 0.1, 10.0, 1.0)]
        prec = {(p, dps): ex.submit(mp_cell, *p, dps=dps) for p in prec_cells for dps in (30, 50)}
        for fut in tqdm(as_completed(futs), total=n, desc="mpmath cells", smoothing=0):
            i = futs[fut]
            mp_val[i], mp_out[i], mp_st[i], mp_time[i] = fut.result()
        prec_res = {k: f.result() for k, f in prec.items()}
    wall = time.perf_counter() - t0
    with mpmath.workdps(60):
        for i in range(n):
            if mp_st[i] not in (int(Status.SUCCESS), int(Status.AT_EDGE)):
                continue
            risk_, bias_, var_ = (mpmath.mpf(v) for v in mp_val[i])
            scale = abs(bias_) + abs(var_)
            rel["risk"][i] = _rel(res.risk[i], risk_, abs(risk_))
            rel["bias"][i] = _rel(res.bias[i], bias_, scale)
            rel["variance"][i] = _rel(res.variance[i], var_, abs(var_))
            abs_err[i] = float(abs(mpmath.mpf(float(res.risk[i])) - risk_))

    st = np.asarray(res.status, dtype=int)
    ok = (st == int(Status.SUCCESS)) & (mp_st == int(Status.SUCCESS))
    edge = (st == int(Status.AT_EDGE)) & (mp_st == int(Status.AT_EDGE))
    worst = max(np.nanmax(rel[f][ok]) for f in fields)
    worst_at = int(np.nanargmax(np.where(ok, np.fmax(np.fmax(rel["risk"], rel["bias"]),
                                                     rel["variance"]), np.nan)))
    both = ok | edge
    bounded = abs_err[both] <= np.asarray(res.error)[both]
    ratio = np.nanmax(abs_err[both] / np.asarray(res.error)[both])
    n_out_c = np.asarray(res.outliers)
    lines = [
        "## Accuracy: compiled vs mpmath (dps 30)", "",
        f"{n} cells ({args.per_pair} of the 8 (kappa, eta2_train) combinations per (c, reg) "
        f"pair); {int(ok.sum())} SUCCESS and {int(edge.sum())} AT_EDGE in both paths. "
        f"Reference wall time {wall:.0f} s with {args.workers} workers.", "",
        "| quantity | max rel err (SUCCESS) | median (SUCCESS) | max rel err (AT_EDGE) |",
        "|---|---|---|---|"]
    for f in fields:
        e_edge = f"{np.nanmax(rel[f][edge]):.2e}" if edge.any() else "-"
        lines.append(f"| {f} | {np.nanmax(rel[f][ok]):.2e} | {np.nanmedian(rel[f][ok]):.1e} "
                     f"| {e_edge} |")
    lines += [
        "",
        f"- target max rel err <= {TARGET:.0e} on every output (SUCCESS cells): "
        f"{'PASS' if worst <= TARGET else 'FAIL'} (worst {worst:.2e} at c, kappa, reg, "
        f"eta2_train = {c[worst_at]:g}, {kappa[worst_at]:g}, {reg[worst_at]:g}, "
        f"{e2[worst_at]:g})",
        f"- compiled `error` bounds the actual risk error in {100 * bounded.mean():.1f}% of "
        f"SUCCESS/AT_EDGE cells (max actual/estimate = {ratio:.3f})",
        "- status counts (compiled): " + str(dict(Counter(Status(int(s)).name for s in st))),
        "- status counts (mpmath): " + str(dict(Counter(Status(int(s)).name for s in mp_st))),
        f"- statuses agree cell by cell: {bool(np.all(st == mp_st))}",
        f"- cells with outliers (compiled): {int(np.sum(n_out_c > 0))} "
        f"({int(n_out_c.sum())} outlier directions in all); "
        f"mpmath: {int(np.sum(mp_out > 0))} ({int(mp_out.sum())}); outlier counts agree "
        f"cell by cell: {bool(np.all(n_out_c == mp_out))}",
    ]
    if np.any(n_out_c > 0):
        o = ok & (n_out_c > 0)
        if o.any():
            lines.append("- max rel err over SUCCESS cells with outliers: "
                         + ", ".join(f"{f} {np.nanmax(rel[f][o]):.2e}" for f in fields))
    lines.append("- max rel err (risk) per reg over SUCCESS cells: " + ", ".join(
        f"{r:g}: {np.nanmax(np.where(ok & (reg == r), rel['risk'], np.nan)):.1e}"
        for r in REGS if np.any(ok & (reg == r))))
    lines.append("- max rel err (risk) per c over SUCCESS cells: " + ", ".join(
        f"{x:g}: {np.nanmax(np.where(ok & (c == x), rel['risk'], np.nan)):.1e}"
        for x in CS if np.any(ok & (c == x))))
    bad = np.flatnonzero((ok & (np.fmax(rel["risk"], rel["variance"]) > TARGET))
                         | (rel["bias"] > TARGET) | (st != mp_st) | (n_out_c != mp_out))
    if bad.size:
        lines += ["", "Cells beyond the target or with mismatched status/outliers:", "",
                  "| c | kappa | reg | eta2_train | status (comp / mp) | risk compiled | "
                  "risk mpmath | rel err risk |", "|---|---|---|---|---|---|---|---|"]
        for i in bad:
            lines.append(f"| {c[i]:g} | {kappa[i]:g} | {reg[i]:g} | {e2[i]:g} | "
                         f"{Status(int(st[i])).name} / {Status(int(mp_st[i])).name} | "
                         f"{float(res.risk[i])!r} | {mp_val[i][0][:25]} | {rel['risk'][i]:.2e} |")
    lines += ["", "### Reference precision (dps 30 vs 50)", ""]
    with mpmath.workdps(80):
        for p in prec_cells:
            v30, v50 = (mpmath.mpf(prec_res[(p, dps)][0][0]) for dps in (30, 50))
            lines.append(f"- (c, kappa, reg, eta2_train) = {p}: dps=50 risk = "
                         f"{mpmath.nstr(v50, 30)}; rel diff dps30 vs dps50 = "
                         f"{mpmath.nstr(abs(v30 - v50) / abs(v50), 3)} "
                         f"(time {prec_res[(p, 30)][3]:.1f} s / {prec_res[(p, 50)][3]:.1f} s)")
    lines.append("")
    return lines, mp_time


FIRST_CALL = r"""
import time, numpy as np
t0 = time.perf_counter()
from rmtrisk.engine import skip_ridge_grid
t1 = time.perf_counter()
skip_ridge_grid(2.0, 0.1, 0.3, 1.0, 1.0, np.ones(3), np.ones(3), 100)
t2 = time.perf_counter()
skip_ridge_grid(2.0, 0.1, 0.3, 1.0, 1.0, np.ones(3), np.ones(3), 100)
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2)
"""


def first_call(cache_dir: str) -> tuple[float, ...]:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", FIRST_CALL], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return tuple(float(x) for x in out)


def speed_grid(n: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    c = np.exp(rng.uniform(np.log(0.25), np.log(4.0), n))
    kappa = np.exp(rng.uniform(np.log(1e-3), 0.0, n)) * np.minimum(1.0, 1.0 / c)
    reg = np.exp(rng.uniform(np.log(1e-4), np.log(10.0), n))
    return c, kappa, reg


def best_time(fn, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def speed(args, mp_time: np.ndarray | None) -> list[str]:
    cache = tempfile.mkdtemp(prefix="rmtrisk-numba-cache-")
    try:
        cold = first_call(cache)
        warm = first_call(cache)
    finally:
        shutil.rmtree(cache, ignore_errors=True)

    c, kappa, reg = speed_grid(args.speed_cells)
    skip_ridge_grid(c[:10], kappa[:10], reg[:10], 1.0, ETA2_TEST, SPEED_SV, SPEED_ELL, D)
    res = skip_ridge_grid(c, kappa, reg, 1.0, ETA2_TEST, SPEED_SV, SPEED_ELL, D)
    t_grid = best_time(lambda: skip_ridge_grid(c, kappa, reg, 1.0, ETA2_TEST, SPEED_SV,
                                               SPEED_ELL, D))
    rate = args.speed_cells / t_grid
    per_cell = t_grid / args.speed_cells
    nodes = Counter(int(x) for x in res.nodes)

    # mpmath per cell on the same four-direction problem (a few cells, this process)
    rng = np.random.default_rng(1)
    pick = rng.choice(args.speed_cells, args.mp_cells, replace=False)
    skip_ridge_reference(1.0, 0.1, 1.0, 1.0, ETA2_TEST, SPEED_SV[:1], SPEED_ELL[:1], D)
    t_mp = []
    for i in pick:
        t0 = time.perf_counter()
        skip_ridge_reference(c[i], kappa[i], reg[i], 1.0, ETA2_TEST, SPEED_SV, SPEED_ELL, D)
        t_mp.append(time.perf_counter() - t0)
    t_mp = np.array(t_mp)

    # one Monte Carlo replicate at d = 2000 of the same problem, both sides of c = 1
    mc_rows = []
    for cc in (0.5, 2.0):
        p = Problem(d=D, c=cc, sv=SPEED_SV, test_energy=SPEED_ELL, eta2_train=1.0,
                    eta2_test=ETA2_TEST, kappa=0.1, skip=True, reg=0.3)
        replicate_risk(p, 0)
        t_rep = best_time(lambda p=p: replicate_risk(p, 1))
        mc_rows.append((cc, p.n, t_rep))

    lines = [
        "## Speed (one thread)", "",
        f"Compiled grid: {args.speed_cells} random cells, c log-uniform in [0.25, 4], reg "
        f"log-uniform in [1e-4, 10], kappa / min(1, 1/c) log-uniform in [1e-3, 1], "
        f"eta2_train = 1, r = 4 directions sv = (2, 1.4, 1, 0.7), d = {D}; best of 3 after "
        f"warm-up. {int(np.sum(res.success))}/{args.speed_cells} SUCCESS; accepted outer "
        f"rules (nodes: cells) {dict(sorted(nodes.items()))}.", "",
        "| method | time per cell | cells/s | vs compiled |", "|---|---|---|---|",
        f"| compiled grid solver (numba) | {per_cell * 1e6:.0f} us | {rate:.4g} | 1 |",
        f"| mpmath reference, dps 30 (r = 4, {args.mp_cells} random cells; median / max) | "
        f"{np.median(t_mp):.2f} s / {t_mp.max():.2f} s | {1 / np.median(t_mp):.3g} | "
        f"{np.median(t_mp) / per_cell:.3g} x slower |",
    ]
    if mp_time is not None and mp_time.size:
        lines.append(f"| mpmath reference, dps 30 (accuracy grid, r = 5; median / max) | "
                     f"{np.median(mp_time):.2f} s / {mp_time.max():.2f} s | "
                     f"{1 / np.median(mp_time):.3g} | {np.median(mp_time) / per_cell:.3g} x "
                     "slower |")
    for cc, nn, t_rep in mc_rows:
        lines.append(f"| one Monte Carlo replicate, d = {D}, N = {nn} (c = {cc:g}, kappa = 0.1, "
                     f"reg = 0.3) | {t_rep:.3f} s | {1 / t_rep:.3g} | {t_rep / per_cell:.3g} x "
                     "slower |")
    lines += [
        "",
        "First call in a fresh process (`NUMBA_CACHE_DIR` pointed at an empty directory for "
        "the cold case, so every compiled function of the package is rebuilt; then the same "
        "directory again, warm):", "",
        "| numba cache | import | compile + first call | second call |", "|---|---|---|---|",
        f"| cold | {cold[0]:.2f} s | {cold[1]:.2f} s | {cold[2] * 1e3:.2f} ms |",
        f"| warm | {warm[0]:.2f} s | {warm[1]:.2f} s | {warm[2] * 1e3:.2f} ms |", ""]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-pair", type=int, default=8,
                    help="(kappa, eta2_train) combinations per (c, reg) pair, 1..8 (8 = full)")
    ap.add_argument("--quick", action="store_true", help="same as --per-pair 1 (63 cells)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--speed-cells", type=int, default=10_000)
    ap.add_argument("--mp-cells", type=int, default=6,
                    help="mpmath cells timed in the speed section")
    ap.add_argument("--no-accuracy", action="store_true")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    if args.quick:
        args.per_pair = 1

    lines = ["# Skip connection with lambda > 0: compiled solver vs mpmath reference", "",
             f"r = {SV.size} directions sv = {tuple(float(x) for x in SV)}, test energies "
             f"{tuple(float(x) for x in ELL)}, eta2_test = {ETA2_TEST}, d = {D}; "
             f"c in {CS}, reg in {REGS}, kappa in {{0.01, 0.1, 0.3, min(1, 1/c)}}, eta2_train "
             f"in {ETA2_TRAIN}.", ""]
    mp_time = None
    if not args.no_accuracy:
        acc, mp_time = accuracy(args)
        lines += acc
    if not args.no_speed:
        lines += speed(args, mp_time)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
