"""Speed of :func:`rmtrisk.risk_grid` against the per-``Problem`` loop and the engine alone.

For one regime per row, the same cells three ways, side by side in one run (single thread):
``risk_grid`` (one call over the broadcast grid), a Python loop of ``asymptotic_risk`` over the
same problems, and, where the regime has one, the compiled grid solver alone on the same cells
(the floor: no status policy, no interaction term). Prints cells per second and the ratios.

    OPENBLAS_NUM_THREADS=1 python benchmarks/grid_speed.py [--cells 400]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from rmtrisk import Problem, asymptotic_risk, risk_grid, skip_grid, skip_ridge_grid

SV = [2.0, 1.4, 1.0, 0.7]
D = 1000


def _best(fn, repeat: int = 3) -> float:
    fn()  # warm (compilation, caches)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=400, help="cells per regime")
    args = parser.parse_args()
    c = np.linspace(1.2, 4.0, args.cells)
    cases = [
        ("skip, limit", dict(skip=True, kappa=0.1, limit=True), None),
        ("skip, default (+ interaction)", dict(skip=True, kappa=0.1), None),
        ("skip-ridge, limit", dict(skip=True, kappa=0.1, reg=0.1, limit=True), "ridge"),
        ("no skip, bottleneck, default", dict(k=2), None),
    ]
    print("| regime | cells | risk_grid cells/s | per-Problem loop cells/s | grid speed-up "
          "over the loop | engine alone cells/s |")
    print("|---|---|---|---|---|---|")
    for name, kw, engine in cases:
        print(_row(name, kw, engine, c))


def _row(name: str, kw: dict, engine: str | None, c: np.ndarray) -> str:
    """One table row: the same cells through risk_grid, the loop and the engine."""
    opts = {key: kw[key] for key in ("limit",) if key in kw}
    pkw = {key: v for key, v in kw.items() if key != "limit"}
    problems = [Problem(d=D, sv=SV, c=float(ci), **pkw) for ci in c]
    t_grid = _best(lambda: risk_grid(d=D, sv=SV, c=c, **kw))
    t_loop = _best(lambda: [asymptotic_risk(p, throw=False, **opts) for p in problems])
    cc = np.array([p.c for p in problems])
    kappa = np.array([min(p.k, p.n) / p.d for p in problems])
    if engine == "ridge":
        t_eng = _best(lambda: skip_ridge_grid(cc, kappa, 0.1, 1.0, 1.0, SV, SV, D))
    elif kw.get("skip") and "reg" not in kw:
        t_eng = _best(lambda: skip_grid(cc, kappa, 1.0, 1.0, SV, SV, D))
    else:
        t_eng = float("nan")
    n = len(problems)
    return (f"| {name} | {n} | {n / t_grid:.3g} | {n / t_loop:.3g} | {t_loop / t_grid:.2f} | "
            f"{n / t_eng:.3g} |")

if __name__ == "__main__":
    main()
