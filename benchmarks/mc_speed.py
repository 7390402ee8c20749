"""Speed and memory of one Monte Carlo replicate against one thin SVD of the same matrix.

For (d, N) = (2000, 1000), (2000, 4000), (3072, 2560), (8000, 4000), both architectures (skip
with k = 3 and k = d / 5), reg = 0, prints side by side, measured in the same process:

* ``svd_s``: one ``numpy.linalg.svd(Y, full_matrices=False)`` of a ``d x N`` matrix,
* ``gram/svd``: one replicate of ``replicate_risk(..., method="gram")`` (the default),
* ``dense/svd``: one replicate of ``method="dense"`` (the previous default, the reference),
* ``naive/svd``: the straightforward implementation (pseudo-inverse critical point, ``d x d``
  weight; the peer),
* ``peak/dN``: peak traced (tracemalloc) memory of one replicate over ``8 d N`` bytes,

and ``--rss`` also runs a 20-replicate ``monte_carlo_risk`` at d = 8000 for both models in a
fresh process and reports its maximum resident set size.

Targets (issue 12): gram/svd <= 0.04 without skip and <= 0.2 with skip; peak/dN <= 1 without
skip and <= 3 with skip. Ratios are within one run; the load average is printed (the machine
is shared). Run: ``OPENBLAS_NUM_THREADS=1 python benchmarks/mc_speed.py [--format markdown]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np

from rmtrisk import Problem
from rmtrisk.montecarlo import replicate_risk
from rmtrisk.montecarlo.sampling import training_sample
from rmtrisk.montecarlo.training import critical_point, statistics_from_weight
from rmtrisk.report.tables import format_table

SHAPES = ((2000, 1000), (2000, 4000), (3072, 2560), (8000, 4000))
SV = [2.0, 1.5, 1.0, 0.7, 0.5]


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def straightforward(problem: Problem, seed: int) -> None:
    """Dense peer: pinv-based critical point and a d x d weight."""
    rng = np.random.default_rng(seed)
    Y, U, V = training_sample(problem, rng)
    X = (U * problem.sv_array) @ V.T
    W = critical_point(Y, (X - Y) if problem.skip else X, problem.k)
    statistics_from_weight(W, U, problem.skip)


def peak_ratio(problem: Problem, method: str) -> float:
    tracemalloc.start()
    replicate_risk(problem, 2, method=method)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / (8.0 * problem.d * problem.n)


def measure_shape(d: int, n: int, repeats: int, peers: bool, reg: float = 0.0) -> list[dict]:
    big = d * n > 2e7
    reps = 1 if big else repeats
    Y = np.random.default_rng(0).standard_normal((d, n))
    t_svd = best_time(lambda Y=Y: np.linalg.svd(Y, full_matrices=False), 1 if big else 2)
    del Y
    rows = []
    for skip, k in ((False, 3), (True, 3), (True, d // 5)):
        p = Problem(d=d, n=n, sv=SV, eta2_train=1.0, eta2_test=1.0, k=k, skip=skip, reg=reg)
        replicate_risk(p, 0)  # warm-up
        t_gram = best_time(lambda p=p: replicate_risk(p, 1), max(reps, 3))
        t_dense = best_time(lambda p=p: replicate_risk(p, 1, method="dense"), reps)
        t_naive = best_time(lambda p=p: straightforward(p, 1), 1) if peers else float("nan")
        rows.append({
            "d": d, "N": n, "model": "skip" if skip else "no skip", "k": k, "reg": reg,
            "svd_s": t_svd, "gram_s": t_gram,
            "gram/svd": t_gram / t_svd, "target": 0.2 if skip else 0.04,
            "dense/svd": t_dense / t_svd, "naive/svd": t_naive / t_svd,
            "peak/dN gram": peak_ratio(p, "gram"),
            "peak/dN dense": float("nan") if big else peak_ratio(p, "dense"),
            "peak target": 3.0 if skip else 1.0,
        })
    return rows


def rss_run() -> dict:
    """20 replicates at d = 8000, N = 4000, both models (run in a fresh process)."""
    from rmtrisk import asymptotic_risk
    from rmtrisk.montecarlo import monte_carlo_risk
    out = {}
    for skip, k in ((False, 3), (True, 1600)):
        p = Problem(d=8000, n=4000, sv=SV, eta2_train=1.0, eta2_test=1.0,
                    test_energy=[1.0] * 5, k=k, skip=skip)
        t0 = time.perf_counter()
        mc = monte_carlo_risk(p, reps=20, seed=0)
        th = asymptotic_risk(p, throw=False)
        out["skip" if skip else "no skip"] = {
            "seconds": time.perf_counter() - t0, "mc": mc.risk, "stderr": mc.stderr,
            "theory": th.risk, "z": (mc.risk - th.risk) / mc.stderr}
    out["max_rss_GiB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--format", default="text")
    parser.add_argument("--shape", type=int, nargs=2, action="append",
                        help="d N (repeatable); default: the four shapes of issue 12")
    parser.add_argument("--no-peers", action="store_true",
                        help="skip the straightforward peer (slow at d = 8000)")
    parser.add_argument("--rss", action="store_true", help="also the d = 8000 RSS run")
    parser.add_argument("--reg", type=float, default=0.0,
                        help="product regularization of every problem (default 0)")
    parser.add_argument("--one", type=int, nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--rss-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        print(json.dumps(rss_run()))
        return
    if args.one:
        print(json.dumps(measure_shape(*args.one, args.repeats, not args.no_peers, args.reg)))
        return
    with open("/proc/loadavg") as fh:
        print("load average before:", fh.read().strip())
    rows = []
    for d, n in args.shape or SHAPES:  # one fresh process per shape (clean peak memory)
        cmd = [sys.executable, __file__, "--one", str(d), str(n), "--repeats", str(args.repeats),
               "--reg", str(args.reg)]
        if args.no_peers:
            cmd.append("--no-peers")
        done = subprocess.run(cmd, capture_output=True, text=True, check=True, env=os.environ)
        rows += json.loads(done.stdout.strip().splitlines()[-1])
        print(f"({d}, {n}) done", file=sys.stderr)
    print(format_table(rows, fmt=args.format, digits=3))
    if args.rss:
        done = subprocess.run([sys.executable, __file__, "--rss-child"], capture_output=True,
                              text=True, check=True, env=os.environ)
        print(done.stdout.strip())
    with open("/proc/loadavg") as fh:
        print("load average after:", fh.read().strip())


if __name__ == "__main__":
    main()
