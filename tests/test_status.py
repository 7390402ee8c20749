"""The one status policy: rmtrisk.status.settle / check_invariants and how RiskResult applies it."""

import math

import pytest

import rmtrisk.theory as theory
import rmtrisk.theory.no_skip as no_skip
from rmtrisk import Problem, SolverError, Status, asymptotic_risk
from rmtrisk.status import ACCEPT_RTOL, check_invariants, settle


def test_settle_maps_engine_statuses():
    assert settle(Status.SUCCESS, 1.0) == (Status.SUCCESS, "")
    st, msg = settle(Status.AT_EDGE, 1.0)
    assert st is Status.SUCCESS and "edge" in msg
    assert settle(Status.MAX_ITERATIONS, 2.0, 0.5 * ACCEPT_RTOL * 2.0)[0] is Status.SUCCESS
    assert settle(Status.MAX_ITERATIONS, 2.0, 2.0 * ACCEPT_RTOL * 2.0)[0] is Status.MAX_ITERATIONS
    assert settle(Status.MAX_ITERATIONS, 2.0, math.nan)[0] is Status.MAX_ITERATIONS
    for st in (Status.NON_FINITE, Status.WRONG_BRANCH, Status.UNSUPPORTED):
        assert settle(st, 1.0)[0] is st


def test_check_invariants_signs_and_rounding_slack():
    assert check_invariants(1.0, 0.5, 0.5, skip=False, scale=1.0) == ""
    assert "variance" in check_invariants(1.0, 1.1, -0.1, skip=False, scale=1.0)
    assert "risk" in check_invariants(-0.1, -0.2, 0.1, skip=True, scale=1.0)
    assert "bias" in check_invariants(0.1, -0.1, 0.2, skip=False, scale=1.0)
    assert check_invariants(0.1, -0.1, 0.2, skip=True, scale=1.0) == ""  # skip: bias may be < 0
    assert check_invariants(1e-12, -1e-11, 1.1e-11, skip=False, scale=1.0) == ""  # rounding
    assert check_invariants(math.inf, math.inf, 0.0, skip=False, scale=1.0) == ""


def test_impossible_value_is_never_success(monkeypatch):
    p = Problem(d=200, c=2.0, sv=[1.5, 1.0], k=2)
    monkeypatch.setattr(no_skip, "bottleneck_risk", lambda problem, fs: (0.3, -0.01))
    res = asymptotic_risk(p, throw=False, limit=True)
    assert res.status is Status.INVALID_VALUE and "negative variance" in res.message
    with pytest.raises(SolverError, match="INVALID_VALUE"):
        asymptotic_risk(p, limit=True)


def test_terms_and_exclusive_options():
    p = Problem(d=400, c=2.0, sv=[2.0, 1.4, 1.0], eta2_test=0.5, k=2)
    lim = asymptotic_risk(p, limit=True)
    default = asymptotic_risk(p)
    fin = asymptotic_risk(p, finite_size=True)
    assert lim.terms == theory.TERMS_LIMIT
    assert default.terms == theory.TERMS_INTERACTION
    assert fin.terms == theory.TERMS_FINITE_SIZE
    assert default.variance != lim.variance and default.bias != lim.bias
    with pytest.raises(ValueError, match="exclude"):
        asymptotic_risk(p, finite_size=True, limit=True)
    with pytest.raises(TypeError, match="problem must be a rmtrisk.Problem"):
        asymptotic_risk(None)


def test_interaction_term_is_order_one_over_d_in_spiked_scaling():
    gaps = []
    for d in (400, 1600):
        p = Problem(d=d, c=2.0, sv=[2.0, 1.4, 1.0], test_energy=[1.0, 1.0, 1.0], k=3)
        gaps.append(d * (asymptotic_risk(p).bias - asymptotic_risk(p, limit=True).bias))
    assert gaps[0] == pytest.approx(gaps[1], rel=0.05)


def test_optima_carry_a_status_and_validate():
    from rmtrisk import optimal_bottleneck, optimal_training_noise

    p = Problem(d=400, c=2.0, sv=[2.0, 1.0, 0.3], eta2_test=0.5, k=1)
    best = optimal_bottleneck(p)
    assert best.status is Status.SUCCESS and best.risk == min(best.risks)
    assert optimal_training_noise(p).status is Status.SUCCESS
    with pytest.raises(ValueError, match="bounds must be finite"):
        optimal_training_noise(p, bounds=(1.0, math.inf))
    with pytest.raises(TypeError, match="problem must be"):
        optimal_bottleneck(None)
    with pytest.raises(TypeError, match="problem must be"):
        optimal_training_noise(None)
    # widths whose risk is not usable are reported, not silently compared
    at_one = Problem(d=400, n=400, sv=[2.0, 1.0], k=1)
    with pytest.raises(SolverError):
        optimal_bottleneck(at_one)


def test_accepted_is_settle_elementwise():
    import numpy as np

    from rmtrisk.status import accepted

    codes = [Status.SUCCESS, Status.AT_EDGE, Status.MAX_ITERATIONS, Status.MAX_ITERATIONS,
             Status.NON_FINITE, Status.SUCCESS]
    values = [1.0, 1.0, 1.0, 1.0, 1.0, np.nan]
    errors = [0.0, 0.0, 1e-12, 1e-3, 0.0, 0.0]
    got = accepted(np.array(codes, dtype=np.int8), values, errors)
    want = [settle(c, v, e)[0] is Status.SUCCESS and np.isfinite(v)
            for c, v, e in zip(codes, values, errors, strict=True)]
    assert got.tolist() == want
