"""Speed of the compiled grid solver vs per-point scipy and per-point mpmath.

One run prints, side by side, cells per second on the proportional skip-connection regime for

* the compiled solver (``rmtrisk.engine.skip_grid``, one thread, after compilation);
* (a) scipy per point, done by hand: the tail mass as ``scipy.integrate.quad`` of the
  Marchenko–Pastur density, the threshold by ``scipy.optimize.brentq`` on it, ``T_{-1}`` by
  ``quad``, then the risk sum in numpy;
* (b) mpmath per point (``skip_reference`` at 50 and 30 digits);

and the first-call cost (import + compile + first call) measured in fresh subprocesses with a
cold numba cache (an empty ``NUMBA_CACHE_DIR``) and then a warm one.

Run: python benchmarks/solver_speed.py [--cells 200000] [--rank 100]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from scipy import integrate, optimize

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

from rmtrisk.engine import skip_grid, skip_reference  # noqa: E402

D = 3072
ETA2_TEST = 0.3


def grid(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    c = np.exp(rng.uniform(np.log(1.001), np.log(10.0), n))
    kappa = np.exp(rng.uniform(np.log(1e-4), np.log(0.99), n)) / c
    e2 = rng.uniform(0.1, 3.0, n)
    return c, kappa, e2


def scipy_point(c: float, kappa: float, e2: float, sv: np.ndarray, ell: np.ndarray,
                d: int) -> float:
    """Risk of one cell with quad + brentq (independent of the closed forms)."""
    g, s = 1.0 / c, e2
    a, b = s * (1 - np.sqrt(g)) ** 2, s * (1 + np.sqrt(g)) ** 2

    def dens(x: float) -> float:
        return np.sqrt(max((b - x) * (x - a), 0.0)) / (2 * np.pi * g * s * x)

    def tail(t: float) -> float:
        return integrate.quad(dens, t, b, epsabs=1e-15, epsrel=1e-13, limit=200)[0]

    mass = kappa * c
    theta = optimize.brentq(lambda t: tail(t) - mass, a, b, xtol=1e-15, rtol=1e-15)
    T = integrate.quad(lambda x: dens(x) / x, theta, b, epsabs=1e-15, epsrel=1e-13,
                       limit=200)[0]
    D_ = -(1 / e2 + 1 / sv**2)
    q = c / ((c - 1) * e2)
    am1 = -(c - 1) / c
    Gam = (kappa / sv**4 + am1**2 * T / sv**2) / D_**2
    k = kappa * d
    frob2 = k - np.sum(kappa * q / D_ + am1 / D_ * T)
    trace = -k + np.sum(am1 / D_ * T)
    return float(ell @ Gam + ETA2_TEST * (d + 2 * trace + frob2) / d)


FIRST_CALL = r"""
import time, numpy as np
t0 = time.perf_counter()
from rmtrisk.engine import skip_grid
t1 = time.perf_counter()
skip_grid(2.0, 0.1, 1.0, 0.3, np.ones(3), np.ones(3), 100)
t2 = time.perf_counter()
skip_grid(2.0, 0.1, 1.0, 0.3, np.ones(3), np.ones(3), 100)
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2)
"""


def first_call(cache_dir: str) -> tuple[float, float, float]:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", FIRST_CALL], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return tuple(float(x) for x in out)  # type: ignore[return-value]


def rate(fn, n: int, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=200_000)
    ap.add_argument("--rank", type=int, default=100)
    ap.add_argument("--scipy-cells", type=int, default=200)
    ap.add_argument("--mp-cells", type=int, default=40)
    args = ap.parse_args()

    sv = np.geomspace(4.0, 0.25, args.rank)
    ell = np.geomspace(1.0, 0.01, args.rank)

    # ---- first-call cost: cold numba cache, then warm
    cache = tempfile.mkdtemp(prefix="rmtrisk-numba-cache-")
    try:
        cold = first_call(cache)
        warm = first_call(cache)
    finally:
        shutil.rmtree(cache, ignore_errors=True)

    # ---- compiled solver
    c, kappa, e2 = grid(args.cells)
    skip_grid(c[:10], kappa[:10], e2[:10], ETA2_TEST, sv, ell, D)  # compiled
    res = skip_grid(c, kappa, e2, ETA2_TEST, sv, ell, D)
    r_compiled = rate(lambda: skip_grid(c, kappa, e2, ETA2_TEST, sv, ell, D),
                      args.cells)
    n_ok = int(np.sum(res.success))

    # ---- scipy per point
    ns = args.scipy_cells
    t0 = time.perf_counter()
    sp_vals = np.array([scipy_point(c[i], kappa[i], e2[i], sv, ell, D) for i in range(ns)])
    r_scipy = ns / (time.perf_counter() - t0)
    sp_rel = np.max(np.abs(sp_vals - res.risk[:ns]) / res.risk[:ns])

    # ---- mpmath per point
    nm = args.mp_cells
    r_mp = {}
    skip_reference(c[0], kappa[0], e2[0], ETA2_TEST, sv, ell, D)  # build lambdas
    for dps in (50, 30):
        t0 = time.perf_counter()
        for i in range(nm):
            skip_reference(c[i], kappa[i], e2[i], ETA2_TEST, sv, ell, D, dps=dps)
        r_mp[dps] = nm / (time.perf_counter() - t0)

    print(f"proportional skip-connection risk, r = {args.rank} directions, d = {D}, "
          f"c in [1.001, 10], kappa c in [1e-4, 0.99]; one thread")
    print(f"{'method':<38} {'cells':>8} {'cells/s':>12} {'compiled / method':>18}")
    rows = [("compiled grid solver (numba)", args.cells, r_compiled),
            ("(a) scipy per point (quad + brentq)", ns, r_scipy),
            ("(b) mpmath per point, 50 digits", nm, r_mp[50]),
            ("(b) mpmath per point, 30 digits", nm, r_mp[30])]
    for name, n, r in rows:
        print(f"{name:<38} {n:>8d} {r:>12.4g} {r_compiled / r:>18.4g}")
    print(f"compiled: {n_ok}/{args.cells} cells SUCCESS; target >= 1e5 cells/s: "
          f"{'PASS' if r_compiled >= 1e5 else 'FAIL'}")
    print(f"scipy per point vs compiled: max rel diff of risk = {sp_rel:.2e}")
    print("first call (fresh process):        import    compile+1st call   2nd call")
    print(f"  cold numba cache (empty dir)  {cold[0]:9.3f} s {cold[1]:12.3f} s {cold[2]:10.2e} s")
    print(f"  warm numba cache              {warm[0]:9.3f} s {warm[1]:12.3f} s {warm[2]:10.2e} s")


if __name__ == "__main__":
    main()
