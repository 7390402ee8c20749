"""Equal singular values straddling the bottleneck cutoff (no skip connection).

The critical point keeps a uniformly random subspace of a tied block the cutoff cuts: the
value must not depend on how the equal directions are labelled, and must agree with Monte Carlo.
"""

import pytest

from rmtrisk import Problem, Status, asymptotic_risk, monte_carlo_risk
from rmtrisk.theory import NEAR_TIE_RTOL, cutoff_gap, tie_averaged
from rmtrisk.theory.bottleneck import bottleneck_risk
from rmtrisk.theory.no_skip import near_tie_gap


def _pair(d=500, **kw):
    base = dict(d=d, c=0.5, sv=[1.5, 1.0, 1.0, 0.5], k=2)
    base.update(kw)
    a = Problem(test_energy=[0.1, 1.0, 0.2, 0.1], **base)
    b = Problem(test_energy=[0.1, 0.2, 1.0, 0.1], **base)
    return a, b


@pytest.mark.parametrize("reg", [0.0, 0.05])
@pytest.mark.parametrize("opts", [{}, {"limit": True}, {"finite_size": True}])
def test_relabelling_equal_directions_leaves_the_value_unchanged(reg, opts):
    a, b = _pair(reg=reg)
    ra, rb = asymptotic_risk(a, **opts), asymptotic_risk(b, **opts)
    assert ra.status is Status.SUCCESS and "straddle" in ra.message
    assert ra.risk == rb.risk and ra.variance == rb.variance


def test_tie_average_is_the_mean_over_labellings():
    a, b = _pair()
    swap = [sum(bottleneck_risk(p.replace(sv=[1.5, 1.0, 1.0 - 1e-3, 0.5],
                                          test_energy=list(p.test_energy)), False))
            for p in (a, b)]
    avg = asymptotic_risk(tie_averaged(a), limit=True)
    # keeping either member of the block with probability 1/2 (the gap 1e-3 only separates
    # which one is kept; its effect on the factors is O(1e-3))
    assert avg.risk == pytest.approx(0.5 * (swap[0] + swap[1]), rel=2e-3)
    assert cutoff_gap(a) == 0.0 and cutoff_gap(a.replace(k=4)) == float("inf")


def test_near_tie_is_continuous_in_the_gap():
    """The sampled expectation is uniform in the gap: from the exact tie through near-ties to a
    separated pair the default changes smoothly (here by less than 1 % per decade)."""
    a, _ = _pair()
    ell = list(a.test_energy)
    values = []
    edge = near_tie_gap(a)
    for gap in (0.0, 1e-6, 1e-4, 3e-3, 0.95 * edge):
        res = asymptotic_risk(a.replace(sv=[1.5, 1.0, 1.0 - gap, 0.5], test_energy=ell))
        assert res.status is Status.SUCCESS and "straddle" in res.message
        values.append(res.risk)
    assert values[1] == pytest.approx(values[0], rel=1e-4)
    assert values[2] == pytest.approx(values[0], rel=2e-3)
    far = asymptotic_risk(a.replace(sv=[1.5, 1.0, 1.0 - 1.05 * edge, 0.5], test_energy=ell))
    # across near_tie_gap the sampled and the second-order expectations meet
    assert far.status is Status.SUCCESS and not far.message
    assert far.risk == pytest.approx(values[-1], rel=2e-3)


def test_tie_average_agrees_with_monte_carlo():
    a, b = _pair(d=300)
    theory = asymptotic_risk(a).risk
    for p in (a, b):
        mc = monte_carlo_risk(p, reps=60, seed=2, blas_threads=1)
        assert abs(mc.risk - theory) <= 4 * mc.stderr


def test_near_tie_above_the_interpolation_threshold_is_resolved_exactly():
    """c > 1, reg = 0: Y^+ Y = I, the kept directions are the top singular values exactly, so a
    near-tie at the cutoff is an ordinary problem: SUCCESS, and it agrees with Monte Carlo."""
    p = Problem(d=400, c=2.0, sv=[1.5, 1.0 + 1e-3, 1.0, 0.5], test_energy=[0.1, 0.2, 1.0, 0.1],
                k=2)
    assert cutoff_gap(p) < NEAR_TIE_RTOL
    res = asymptotic_risk(p)
    assert res.status is Status.SUCCESS and not res.message
    mc = monte_carlo_risk(p, reps=300, seed=5)
    assert abs(res.risk - mc.risk) <= max(4 * mc.stderr, 5e-3 * mc.risk)
