"""The default is right at leading order in the per-sample scaling (sv**2 = N e).

There every kept direction's own bias is O(1/d**2) and the interaction of the signal
directions through the shared noise is O(1/d), the order of the whole bias: the strict limit
misses about a third of it at every d, the default (limit + interaction) does not.
"""

import numpy as np

from rmtrisk import Problem, asymptotic_risk, monte_carlo_risk

ENERGY = list(np.random.default_rng(3).uniform(0.01, 0.2, 10))


def test_per_sample_scaling_bias_at_leading_order():
    p = Problem(d=300, c=2.0, energy=ENERGY, eta2_train=1.0, eta2_test=1.0, k=12)
    mc = monte_carlo_risk(p, reps=40, seed=1, blas_threads=1)
    lim = asymptotic_risk(p, limit=True)
    default = asymptotic_risk(p)
    assert (mc.bias - lim.bias) / mc.bias_stderr > 8          # ~1/3 of the bias missing
    assert abs(mc.bias - default.bias) <= 4 * mc.bias_stderr
    assert abs(mc.risk - default.risk) <= 4 * mc.stderr
