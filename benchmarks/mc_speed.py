"""Speed and memory of one Monte Carlo replicate against one thin SVD of the same matrix.

For (d, N) = (2000, 1000) and (2000, 4000) and both architectures, prints side by side:

* the time of one replicate of :func:`rmtrisk.montecarlo.replicate_risk` (draw + train + risk),
* the time of one ``numpy.linalg.svd(Y, full_matrices=False)`` of a matrix of the same shape
  (the floor a careful implementation works against),
* the time of the straightforward implementation (explicit pseudo-inverse, d x d weight),
* peak traced memory of a replicate against the bytes of the d x N noise matrix.

Targets: replicate <= 0.5 SVD without skip, <= 1.5 SVD with skip, peak <= 3 x noise.
Run: ``python benchmarks/mc_speed.py [--repeats 5]``.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from rmtrisk import Problem
from rmtrisk.montecarlo import replicate_risk
from rmtrisk.montecarlo.sampling import training_sample
from rmtrisk.montecarlo.training import critical_point, statistics_from_weight
from rmtrisk.report.tables import format_table


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def straightforward(problem: Problem, seed: int) -> None:
    """Dense reference: pinv-based critical point and a d x d weight."""
    rng = np.random.default_rng(seed)
    Y, U, V = training_sample(problem, rng)
    X = (U * problem.sv_array) @ V.T
    W = critical_point(Y, (X - Y) if problem.skip else X, problem.k)
    statistics_from_weight(W, U, problem.skip)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--format", default="text")
    args = parser.parse_args()
    rows = []
    for d, n in ((2000, 1000), (2000, 4000)):
        Y = np.random.default_rng(0).standard_normal((d, n))
        t_svd = best_time(lambda Y=Y: np.linalg.svd(Y, full_matrices=False), args.repeats)
        noise_bytes = Y.nbytes
        del Y
        for skip in (False, True):
            p = Problem(d=d, n=n, sv=[2.0, 1.5, 1.0, 0.7, 0.5], eta2_train=1.0, eta2_test=1.0,
                        k=3, skip=skip)
            replicate_risk(p, 0)  # warm-up
            t_rep = best_time(lambda p=p: replicate_risk(p, 1), args.repeats)
            t_naive = best_time(lambda p=p: straightforward(p, 1), 1)
            tracemalloc.start()
            replicate_risk(p, 2)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            rows.append({
                "d": d, "N": n, "model": "skip" if skip else "no skip",
                "replicate_s": t_rep, "svd_s": t_svd, "replicate/svd": t_rep / t_svd,
                "target": 1.5 if skip else 0.5,
                "straightforward/svd": t_naive / t_svd,
                "peak/noise": peak / noise_bytes,
            })
    print(format_table(rows, fmt=args.format, digits=3))


if __name__ == "__main__":
    main()
