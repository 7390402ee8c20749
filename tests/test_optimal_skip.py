"""optimal_regularization for the skip-connection model (regime skip-ridge) and the CLI."""

import math
import warnings

import numpy as np
import pytest

from rmtrisk import Problem
from rmtrisk.cli import main
from rmtrisk.theory import asymptotic_risk, optimal_regularization

SV = np.array([2.0, 1.4, 1.0, 0.7])
D = 2000
LOWER = 1e-6  # default lower bound (eta2_train = 1)


def make(c, kappa=0.1, strong=False):
    n = round(D / c)
    ell = np.ones(SV.size) if strong else SV**2 / n
    return Problem(d=D, n=n, sv=SV, test_energy=ell, k=int(round(kappa * D)), skip=True,
                   eta2_train=1.0, eta2_test=1.0)


def risk_at(p, reg):
    """The risk that optimal_regularization minimizes: the d -> infinity limit."""
    return asymptotic_risk(p.replace(reg=reg), limit=True).risk


@pytest.mark.parametrize("c, kappa, strong", [(0.9, 0.1, False), (1.2, 0.3, False),
                                              (0.5, 0.1, True), (1.0, 0.1, True)])
def test_skip_lambda_star_is_a_local_minimum(c, kappa, strong):
    p = make(c, kappa, strong)
    lam, risk = optimal_regularization(p)
    assert LOWER * 1.01 < lam < 1e4
    # the returned risk is the limiting risk at lambda*
    assert risk == pytest.approx(risk_at(p, lam), rel=1e-12)
    for f in (1 - 1e-2, 1 + 1e-2):
        assert risk_at(p, lam * f) >= risk


@pytest.mark.parametrize("kappa, strong", [(0.1, False), (0.3, False), (0.1, True)])
def test_skip_peak_at_c_one_is_removed(kappa, strong):
    p = make(1.0, kappa, strong)
    res0 = asymptotic_risk(p.replace(reg=0.0), throw=False)
    assert math.isinf(res0.risk)
    lam, risk = optimal_regularization(p)
    assert lam > 1e-4 and math.isfinite(risk)
    # at the optimum the risk through c = 1 is within 0.2 % of its neighbours
    near = [optimal_regularization(make(c, kappa, strong)).risk for c in (0.9, 1.1)]
    assert all(abs(risk / r - 1) < 2e-3 for r in near)


def test_skip_in_distribution_lambda_star_decreases_above_c_one():
    # observed (docs/ridge.md section 5): lambda* ~ 0.07 eta^2 at c = 1, decreasing with c,
    # at the lower bound (no regularization is best) by c = 4; never worse than lambda = 0
    cs = (1.0, 1.2, 1.5, 2.0, 4.0)
    opts = [optimal_regularization(make(c)) for c in cs]
    lams = [o.reg for o in opts]
    assert all(a > b for a, b in zip(lams, lams[1:], strict=False))
    assert lams[-1] == pytest.approx(LOWER, rel=1e-5)
    for c, o in zip(cs, opts, strict=True):
        r0 = asymptotic_risk(make(c).replace(reg=0.0), limit=True, throw=False).risk
        # up to the offset of the lower bound lambda = 1e-6 (c = 4: R(1e-6) - R(0) ~ 1e-9)
        assert o.risk <= r0 * (1 + 1e-8)


def test_skip_strong_signal_has_two_branches():
    # strong test signal: the risk in lambda has a small-lambda and a large-lambda minimum;
    # the global one switches from large (c = 0.9) to lambda -> 0 (c = 1.1) and back (c = 2)
    assert optimal_regularization(make(0.9, strong=True)).reg > 10
    low = optimal_regularization(make(1.1, strong=True))
    assert low.reg == pytest.approx(LOWER, rel=1e-5)
    assert low.risk == pytest.approx(
        asymptotic_risk(make(1.1, strong=True).replace(reg=0.0), limit=True).risk, rel=1e-5)
    assert optimal_regularization(make(2.0, strong=True)).reg > 10


def test_skip_lambda_zero_better_than_bounds_warns():
    p = make(1.1, strong=True)  # lambda = 0 beats the large-lambda branch
    with pytest.warns(RuntimeWarning, match="no regularization is best"):
        optimal_regularization(p, bounds=(1.0, 1e4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimal_regularization(make(0.9))


def test_skip_critical_set_is_rejected():
    p = make(2.0).replace(k=2, critical_set=[1, 3])
    with pytest.raises(ValueError, match="global minimizer"):
        optimal_regularization(p)


def test_cli_optimal_skip_prints_lambda_star(capsys):
    code = main(["optimal", "--skip", "--d", "400", "--c", "1", "--kappa", "0.1"])
    out = capsys.readouterr().out
    assert code == 0
    assert "regularization lambda*" in out and "skip" in out
    assert "computed for the model without skip only" in out
    line = next(s for s in out.splitlines() if "regularization lambda*" in s)
    lam = float(line.split()[-2])
    base = Problem.default()  # the CLI keeps the default's per-sample energies when c changes
    p = base.replace(d=400, c=1.0, energy=base.energy.tolist(), kappa=0.1, skip=True)
    assert lam == pytest.approx(optimal_regularization(p).reg, rel=1e-5)
    noise = next(s for s in out.splitlines() if "(reg = lambda*)" in s)
    assert float(noise.split()[-2]) > 0


def test_cli_optimal_skip_json(capsys):
    import json

    code = main(["optimal", "--skip", "--d", "400", "--c", "2", "--kappa", "0.3", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["problem"]["skip"] is True
    values = {row["optimum"]: row["value"] for row in data["optima"]}
    assert values["bottleneck k* (reg = 0)"] is None
    p = Problem.from_dict(data["problem"])
    assert values["regularization lambda* (k as given)"] == pytest.approx(
        optimal_regularization(p).reg, rel=1e-9)
    assert values["training noise eta2_train* (reg = 0)"] > 0
