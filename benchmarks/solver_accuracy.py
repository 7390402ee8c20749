"""Accuracy of the compiled grid solver against the mpmath reference at 50 digits.

Grid: c log-spaced in [1.001, 10], kappa log-spaced in [1e-4, 0.99/c] (per c), three training
noise levels; a rank-20 spiked spectrum shared by all cells. Prints the maximum relative error
of risk, bias, variance, threshold and T_{-1} over the SUCCESS cells (target <= 1e-12), how
often the per-cell error estimate bounds the actual error, and the count of every status.
Also checks that one reference value agrees at dps = 30, 50 and 80.

Run: python benchmarks/solver_accuracy.py [--nc 24] [--nk 24] [--dps 50]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import mpmath
import numpy as np

from rmtrisk.engine import skip_grid, skip_reference
from rmtrisk.status import Status


def build_grid(nc: int, nk: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cs = np.geomspace(1.001, 10.0, nc)
    cc, kk, ee = [], [], []
    for c in cs:
        for k in np.geomspace(1e-4, 0.99 / c, nk):
            for e in (0.1, 1.0, 3.0):
                cc.append(c)
                kk.append(k)
                ee.append(e)
    return np.array(cc), np.array(kk), np.array(ee)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nc", type=int, default=24)
    ap.add_argument("--nk", type=int, default=24)
    ap.add_argument("--dps", type=int, default=50)
    args = ap.parse_args()

    d = 3072
    sv = np.geomspace(4.0, 0.25, 20)
    ell = np.geomspace(1.0, 0.01, 20)
    eta2_test = 0.3
    c, kappa, e2 = build_grid(args.nc, args.nk)

    res = skip_grid(c, kappa, e2, eta2_test, sv, ell, d)
    t0 = time.perf_counter()
    fields = ("risk", "bias", "variance", "threshold", "moment")
    rel = {f: np.full(c.size, np.nan) for f in fields}
    ref_status = np.empty(c.size, dtype=int)
    for i in range(c.size):
        ref = skip_reference(c[i], kappa[i], e2[i], eta2_test, sv, ell, d,
                                        dps=args.dps)
        ref_status[i] = int(ref.status)
        for f in fields:
            exact = getattr(ref, f)
            got = mpmath.mpf(float(getattr(res, f)[i]))
            rel[f][i] = float(abs(got - exact) / abs(exact)) if exact != 0 else float(abs(got))
        if i == 0:
            abs_err_risk = np.full(c.size, np.nan)
        abs_err_risk[i] = float(abs(mpmath.mpf(float(res.risk[i])) - ref.risk))
    t_ref = time.perf_counter() - t0

    ok = res.status == int(Status.SUCCESS)
    print(f"grid: {c.size} cells (c in [1.001, 10], kappa in [1e-4, 0.99/c], "
          f"eta2_train in {{0.1, 1, 3}}, r = {sv.size}, d = {d}); reference: mpmath "
          f"{args.dps} digits ({t_ref:.1f} s)")
    print(f"{'quantity':<10} {'max rel err (SUCCESS cells)':>28} {'median':>10}")
    for f in fields:
        print(f"{f:<10} {np.nanmax(rel[f][ok]):>28.3e} {np.nanmedian(rel[f][ok]):>10.2e}")
    bounded = np.mean(abs_err_risk[ok] <= res.error[ok])
    ratio = np.nanmax(abs_err_risk[ok] / res.error[ok])
    print(f"error estimate bounds the actual risk error in {100 * bounded:.1f}% of SUCCESS "
          f"cells (max actual/estimate = {ratio:.2f}); "
          f"median estimate/risk = {np.median(res.error[ok] / res.risk[ok]):.1e}")
    target = 1e-12
    worst = np.nanmax(rel["risk"][ok])
    print(f"target max rel err <= {target:.0e}: {'PASS' if worst <= target else 'FAIL'}")
    print("status counts (compiled):", dict(Counter(Status(int(s)).name for s in res.status)))
    print("status counts (mpmath):  ", dict(Counter(Status(int(s)).name for s in ref_status)))
    agree = np.all(ref_status == res.status)
    print(f"statuses agree cell by cell: {agree}")

    # same reference at several precisions
    args0 = (1.5, 0.1, 1.0, eta2_test, sv, ell, d)
    vals = {p: skip_reference(*args0, dps=p).risk for p in (30, 50, 80)}
    with mpmath.workdps(90):
        d3050 = abs(vals[30] - vals[80]) / vals[80]
        d5080 = abs(vals[50] - vals[80]) / vals[80]
        print(f"reference at c=1.5, kappa=0.1: dps=80 risk = {mpmath.nstr(vals[80], 40)}")
        print(f"  rel diff dps30 vs dps80 = {mpmath.nstr(d3050, 3)}, "
              f"dps50 vs dps80 = {mpmath.nstr(d5080, 3)}")


if __name__ == "__main__":
    main()
