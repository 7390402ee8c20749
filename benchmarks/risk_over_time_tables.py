"""Tables of docs/risk_over_time.md: theory against Monte Carlo, early stopping against ridge.

Run from the worktree root:
``PYTHONPATH=. OPENBLAS_NUM_THREADS=1 python benchmarks/risk_over_time_tables.py``.
"""

import time

import numpy as np

from rmtrisk import Problem
from rmtrisk.dynamics.risk_over_time import early_stopping, risk_over_time
from rmtrisk.dynamics.risk_over_time_mc import risk_over_time_mc, spectral_filter_mc


def one_layer(d, c, sv, test_energy=None):
    return Problem(d, c=c, sv=sv, test_energy=test_energy, eta2_train=1.0, eta2_test=1.0, k=d)


def verification(ts):
    print("## theory vs Monte Carlo, d = 1000, eta2 = 1, test energy 1 per direction")
    print("| c | sv | t | theory | MC ± SE | z | reps |")
    for c, reps in ((0.5, 40), (2.0, 80)):
        for sv in ([2.0], [3.0, 1.0]):
            p = one_layer(1000, c, sv, [1.0] * len(sv))
            t0 = time.time()
            th = risk_over_time(p, ts)
            mc = risk_over_time_mc(p, ts, reps=reps, seed=11)
            for j, t in enumerate(ts):
                z = (mc.risk[j] - th.risk[j]) / mc.risk_se[j]
                print(f"| {c} | {sv} | {t:g} | {th.risk[j]:.5f} | {mc.risk[j]:.5f} ± "
                      f"{mc.risk_se[j]:.5f} | {z:+.2f} | {reps} |")
            print(f"(MC {time.time() - t0:.0f} s)", flush=True)
            if c == 2.0 and sv == [2.0]:
                print("variance: | t | d var theory | d var MC ± SE | z |")
                for j, t in enumerate(ts):
                    z = (mc.variance[j] - th.variance[j]) / mc.variance_se[j]
                    print(f"| {t:g} | {1e3 * th.variance[j]:.5f} | {1e3 * mc.variance[j]:.5f} "
                          f"± {1e3 * mc.variance_se[j]:.5f} | {z:+.2f} |")


def early_stopping_table():
    print("## early stopping, r = 1, in-distribution test energy, eta2 = 1, d = 1000 (d R)")
    print("| c | t | t* | d R(t*) | lambda* | d R(lambda*) | d R(inf) | excess | d R* |")
    for c in (0.5, 2.0, 4.0):
        for sv in (1.0, 2.0, 4.0):
            es = early_stopping(one_layer(1000, c, [sv]))
            print(f"| {c} | {sv ** 2:g} | {es.time:.4g} | {1e3 * es.risk:.5f} | {es.reg:.4g} | "
                  f"{1e3 * es.risk_reg:.5f} | {1e3 * es.risk_converged:.5f} | "
                  f"{100 * es.excess:+.2f} % | {1e3 * es.risk_best_filter:.5f} |", flush=True)


def early_stopping_mc(reps=200):
    print(f"## Monte Carlo at t*, lambda* and the constant filter, d = 1000, {reps} reps "
          "(same draws), d R")
    print("| c | t | t*: theory | MC | lambda*: theory | MC | const: theory | MC | "
          "MC R(t*) - R(lambda*) |")
    for c, sv in ((2.0, 2.0), (0.5, 2.0)):
        p = one_layer(1000, c, [sv])
        es = early_stopping(p)
        t, ell, s = float(p.snr[0]), p.test_energy[0], p.eta2_test / p.d
        kappa = ell / (ell * t + s * (1 + t)) / p.eta2_train
        lam = es.reg
        gf = risk_over_time_mc(p, [es.time], reps=reps, seed=5)      # same draws as below
        mc = spectral_filter_mc(p, [lambda x, lam=lam: 1.0 / (x + lam),
                                    lambda x, k=kappa: np.full_like(x, k)], reps=reps, seed=5)
        diff = gf.samples[:, 0] - mc.samples[:, 0]
        means = np.concatenate([gf.risk, mc.risk])
        ses = np.concatenate([gf.risk_se, mc.risk_se])
        cells = [f"{1e3 * th:.5f} | {1e3 * m:.5f} ± {1e3 * se:.5f}" for th, m, se in
                 zip((es.risk, es.risk_reg, es.risk_best_filter), means, ses, strict=True)]
        print(f"| {c} | {sv ** 2:g} | " + " | ".join(cells) + f" | {1e3 * diff.mean():+.5f} ± "
              f"{1e3 * diff.std(ddof=1) / np.sqrt(diff.size):.5f} |", flush=True)


if __name__ == "__main__":
    print("load", open("/proc/loadavg").read().split()[:3])
    verification(np.array([0.1, 0.5, 2.0, 10.0, 100.0]))
    early_stopping_table()
    early_stopping_mc()
