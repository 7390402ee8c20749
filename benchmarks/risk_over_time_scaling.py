"""Finite-d deviation of the gradient-flow risk from its d -> infinity limit (docs table)."""

import numpy as np

from rmtrisk import Problem
from rmtrisk.dynamics.risk_over_time import risk_over_time
from rmtrisk.dynamics.risk_over_time_mc import risk_over_time_mc

print(open("/proc/loadavg").read())
ts = np.array([0.5, 2.0, 100.0])
for c, sv in ((0.5, [3.0, 1.0]), (2.0, [3.0, 1.0])):
    for d, reps in ((50, 1600), (100, 800), (200, 400), (400, 200)):
        p = Problem(d, c=c, sv=sv, test_energy=[1.0] * len(sv), eta2_train=1.0, eta2_test=1.0,
                    k=d)
        th = risk_over_time(p, ts)
        mc = risk_over_time_mc(p, ts, reps=reps, seed=3)
        for j, t in enumerate(ts):
            dev = mc.risk[j] - th.risk[j]
            print(f"| {c} | {t:g} | {d} | {reps} | {th.risk[j]:.5f} | {mc.risk[j]:.5f} "
                  f"± {mc.risk_se[j]:.5f} | {d * dev:+.3f} ± {d * mc.risk_se[j]:.3f} |",
                  flush=True)
