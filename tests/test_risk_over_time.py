"""Test risk over gradient-flow time of the one-layer DAE: derivation, engine, Monte Carlo."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import quad, solve_ivp

from rmtrisk import Problem
from rmtrisk._kernels import gf_outlier
from rmtrisk.dynamics.risk_over_time import best_filter_risk, early_stopping, risk_over_time
from rmtrisk.dynamics.risk_over_time_mc import (
    gradient_flow_statistics,
    gradient_flow_weight,
    risk_over_time_mc,
    spectral_filter_mc,
)
from rmtrisk.engine import ridge_factors
from rmtrisk.engine.gradient_flow import (
    gradient_flow_direction,
    gradient_flow_grid,
    gradient_flow_reference,
)
from rmtrisk.montecarlo.estimate import monte_carlo_risk
from rmtrisk.montecarlo.sampling import training_sample
from rmtrisk.montecarlo.training import dae_gradient
from rmtrisk.status import Status
from rmtrisk.symbolic import gradient_flow as G
from rmtrisk.theory import asymptotic_risk, optimal_regularization


# ---------------------------------------------------------------------------------- symbolic
def test_q_identity_is_a_multiple_of_the_stieltjes_polynomial():
    e, P = G.q_identity()
    q, r = sp.div(sp.Poly(e, G.GF.m), sp.Poly(P, G.GF.m))
    assert r.is_zero and q.as_expr() == 1


def test_bulk_densities_reduce_to_the_cauchy_form():
    """Stieltjes inversion of the derived forms equals x f/(z0 - x), (1 + t) f/(z0 - x)."""
    dn, dm, rho = G.bulk_densities()
    cn, cm = G.bulk_densities_cauchy()
    args = (G.GF.c, G.GF.t, G.GF.x, rho)
    fns = [sp.lambdify(args, e, modules="math") for e in (dn, cn, dm, cm)]
    for cv, tv in ((0.5, 0.7), (2.0, 3.0), (4.0, 0.2)):
        a, b = (1 - cv**-0.5) ** 2, (1 + cv**-0.5) ** 2
        for xv in (a + 0.1 * (b - a), 0.5 * (a + b), b - 0.01 * (b - a)):
            vals = [f(cv, tv, xv, math.sqrt((xv - a) * (b - xv))) for f in fns]
            assert vals[0] == pytest.approx(vals[1], rel=1e-12)
            assert vals[2] == pytest.approx(vals[3], rel=1e-12)


def test_outlier_matches_the_factored_kernel_form():
    z0, w1, w2 = G.outlier()
    cz0, delta, cw1, cw2 = G.outlier_cauchy()
    c = G.GF.c
    assert sp.simplify(z0 - cz0) == 0
    assert sp.simplify(w1 - cw1) == 0 and sp.simplify(w2 - cw2) == 0
    assert sp.simplify(cz0 - (1 + 1 / sp.sqrt(c)) ** 2 - delta) == 0


def _measures(c, t):
    """Densities (numerical, from the Cauchy form) and atoms of nu and mu."""
    a, b = (1 - 1 / math.sqrt(c)) ** 2, (1 + 1 / math.sqrt(c)) ** 2
    z0, _, w1, w2 = gf_outlier(c, t)

    def f(x):
        return math.sqrt(max((x - a) * (b - x), 0.0)) / (2 * math.pi * x)

    atoms = (z0, w1, w2) if t * math.sqrt(c) > 1 else (z0, 0.0, 0.0)
    return a, b, (lambda x: x * f(x) / (z0 - x)), (lambda x: (1 + t) * f(x) / (z0 - x)), atoms


@pytest.mark.parametrize("c", [0.5, 2.0, 4.0])
@pytest.mark.parametrize("t", [0.3, 1.2, 5.0])
def test_measures_have_mass_t_and_reproduce_ridge(c, t):
    """Masses (nu: t; mu: t minus its atom at 0 for c < 1) and the ridge filter 1/(x + lam)."""
    a, b, nu, mu, (z0, w1, w2) = _measures(c, t)
    m_nu = quad(nu, a, b, limit=200)[0] + w1
    m_mu = quad(mu, a, b, limit=200)[0] + w2
    assert m_nu == pytest.approx(t, rel=1e-9)
    at0 = t * (1 - c) / (1 + c * t) if c < 1 else 0.0
    assert m_mu + at0 == pytest.approx(t, rel=1e-9)
    for lam in (0.05, 0.7, 3.0):
        B = quad(lambda x, lam=lam: nu(x) / (x + lam), a, b, limit=200)[0] + w1 / (z0 + lam)
        V = quad(lambda x, lam=lam: x * mu(x) / (x + lam) ** 2, a, b, limit=200)[0] \
            + w2 * z0 / (z0 + lam) ** 2
        b_r, v_r = ridge_factors(t, c, lam)
        assert (1 - B) ** 2 == pytest.approx(float(b_r), rel=1e-8)
        assert V == pytest.approx(float(v_r), rel=1e-8)


# ----------------------------------------------------------------------------- closed form
def test_closed_form_weight_is_the_gradient_flow():
    """W(t) = X Y^T g_t(Y Y^T) solves dW/dt = -dL/dW of dae_loss (integrated, W(0) = 0)."""
    p = Problem(12, c=2.0, sv=[3.0, 1.0], eta2_train=0.8, k=12)
    Y, U, V = training_sample(p, np.random.default_rng(3))
    X = U * p.sv_array @ V.T
    d = p.d

    def rhs(_, w):
        W = w.reshape(d, d)
        # one-layer gradient: dae_gradient with W1 = W, W2 = I gives dL/dW1 = dL/dW
        return -dae_gradient(W, np.eye(d), Y, X)[0].ravel()

    sol = solve_ivp(rhs, (0, 2.5), np.zeros(d * d), method="DOP853", rtol=1e-11, atol=1e-13,
                    t_eval=[0.4, 2.5])
    for j, tt in enumerate(sol.t):
        np.testing.assert_allclose(sol.y[:, j].reshape(d, d), gradient_flow_weight(Y, X, tt),
                                   atol=1e-9)


@pytest.mark.parametrize("c", [0.5, 2.0])
def test_statistics_match_the_dense_weight(c):
    p = Problem(30, c=c, sv=[3.0, 1.5], eta2_train=0.7, k=30)
    Y, U, V = training_sample(p, np.random.default_rng(1))
    X = U * p.sv_array @ V.T
    times = np.array([0.0, 0.3, 4.0, 50.0])
    M, frob = gradient_flow_statistics(Y, U, p.sv_array, V, times)
    for j, tt in enumerate(times):
        W = gradient_flow_weight(Y, X, tt)
        np.testing.assert_allclose(M[j], U.T @ W @ U, atol=1e-12)
        assert frob[j] == pytest.approx(np.sum(W * W), rel=1e-10, abs=1e-14)
        np.testing.assert_allclose((np.eye(p.d) - W) @ U, U @ (np.eye(2) - M[j]), atol=1e-12)


# ---------------------------------------------------------------------------------- engine
def test_time_zero_is_the_untrained_risk():
    r, v, st = gradient_flow_direction([0.3, 1.0, 2.0, 5.0], 2.0, 0.0)
    np.testing.assert_allclose(r, 1.0, rtol=1e-13)
    np.testing.assert_array_equal(v, 0.0)
    assert np.all(st == 0)
    p = Problem(100, c=2.0, sv=[2.0, 1.0], test_energy=[1.0, 0.4], k=100)
    out = risk_over_time(p, 0.0)
    assert float(out.risk) == pytest.approx(1.4, rel=1e-13)


@pytest.mark.parametrize("c", [0.3, 0.5, 0.9, 1.2, 2.0, 4.0])
@pytest.mark.parametrize("sv", [[0.6], [2.0, 1.0, 0.3]])
def test_long_time_limit_is_the_one_layer_risk(c, sv):
    p = Problem(400, c=c, sv=sv, eta2_train=0.7, eta2_test=0.4, k=400)
    ref = asymptotic_risk(p, limit=True)
    a = (1 - 1 / math.sqrt(c)) ** 2 * p.eta2_train
    t_long = 60.0 / a                        # exp(-t x) < e^-60 over the whole spectrum
    out = risk_over_time(p, t_long, throw=True)
    assert float(out.risk) == pytest.approx(ref.risk, rel=1e-11)
    assert float(out.bias) == pytest.approx(ref.bias, rel=1e-11)
    assert float(out.variance) == pytest.approx(ref.variance, rel=1e-11)


def test_risk_at_c_equal_one_is_finite_and_grows():
    p = Problem(200, c=1.0, sv=[2.0], test_energy=[1.0], k=200)
    out = risk_over_time(p, [1.0, 1e2, 1e4, 1e6], throw=True)
    assert np.all(np.isfinite(out.risk))
    assert np.all(np.diff(out.variance) > 0)
    # the variance grows like sqrt(t) (a ~ sqrt(x) density at 0 with the 1/x filter)
    assert out.variance[3] / out.variance[2] == pytest.approx(10.0, rel=0.02)


@pytest.mark.parametrize(("c", "time", "sv"), [
    (0.5, 0.7, [2.0, 0.5]), (2.0, 3.0, [1.5]), (1.0, 10.0, [1.0, 3.0]),
    (2.0, 1.0, [2.0 ** -0.25 * 0.9999999]),          # just below the BBP threshold
    (0.25, 1e3, [0.3]), (8.0, 0.01, [5.0]),
])
def test_compiled_matches_mpmath_reference(c, time, sv):
    args = (c, time, 0.8, 0.6, sv, [1.0] * len(sv), 50)
    g = gradient_flow_grid(*args, throw=True)
    ref = gradient_flow_reference(*args, dps=30)
    assert ref.status == Status.SUCCESS
    assert float(g.risk) == pytest.approx(float(ref.risk), rel=1e-10)
    assert float(g.variance) == pytest.approx(float(ref.variance), rel=1e-10)
    assert float(g.error) < 1e-10 * float(g.risk)


def test_grid_broadcasts_like_scalar_calls():
    cs = np.array([[0.5], [2.0]])
    ts = np.array([0.1, 1.0, 10.0])
    g = gradient_flow_grid(cs, ts, 1.0, 1.0, [2.0, 1.0], [1.0, 0.5], 100)
    assert g.risk.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            one = gradient_flow_grid(cs[i, 0], ts[j], 1.0, 1.0, [2.0, 1.0], [1.0, 0.5], 100)
            assert float(one.risk) == g.risk[i, j]


def test_time_units_follow_eta2_train():
    """W is invariant under (X, A, t) -> (aX, aA, t/a^2): the risk depends on t eta2_train."""
    base = gradient_flow_grid(2.0, 1.5, 1.0, 0.5, [2.0], [1.0], 100)
    scaled = gradient_flow_grid(2.0, 1.5 / 4.0, 4.0, 0.5, [4.0], [1.0], 100)
    assert float(scaled.risk) == pytest.approx(float(base.risk), rel=1e-13)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="time"):
        gradient_flow_grid(2.0, -1.0, 1.0, 1.0, [1.0], [1.0], 10)
    with pytest.raises(ValueError, match="c must"):
        gradient_flow_grid(0.0, 1.0, 1.0, 1.0, [1.0], [1.0], 10)
    p = Problem(50, c=2.0, sv=[1.0, 0.5], k=50)
    with pytest.raises(ValueError, match="skip"):
        risk_over_time(p.replace(skip=True), 1.0)
    with pytest.raises(ValueError, match="reg"):
        risk_over_time(p.replace(reg=0.1), 1.0)
    with pytest.raises(ValueError, match="every signal direction"):
        risk_over_time(p.replace(k=1), 1.0)
    with pytest.raises(ValueError, match="reps"):
        risk_over_time_mc(p, 1.0, reps=1)


# ------------------------------------------------------------------------- early stopping
def test_early_stopping_against_ridge_and_convergence():
    p = Problem(200, c=2.0, sv=[2.0], eta2_train=1.0, eta2_test=1.0, k=200)
    es = early_stopping(p)
    opt = optimal_regularization(p)
    assert es.reg == opt.reg and es.risk_reg == opt.risk
    # R(t*) is a minimum of the curve: not above any scanned time, nor the converged risk
    ts = np.geomspace(1e-3, 1e3, 61)
    assert es.risk <= np.min(risk_over_time(p, ts).risk) * (1 + 1e-12)
    assert es.risk <= es.risk_converged
    assert float(risk_over_time(p, es.time).risk) == pytest.approx(es.risk, rel=1e-12)


def test_early_stopping_not_needed_with_strong_test_signal_far_from_threshold():
    """l = O(1), variance O(1/d): the bias decreases monotonically, so t* = inf."""
    p = Problem(200, c=4.0, sv=[2.0], test_energy=[1.0], k=200)
    es = early_stopping(p)
    assert es.time == math.inf and es.risk == es.risk_converged


def test_best_filter_is_below_early_stopping_and_ridge():
    p = Problem(300, c=2.0, sv=[2.0], eta2_train=0.9, eta2_test=1.1, k=300)
    es = early_stopping(p)
    k_star, r_star = G.constant_filter()
    at = {G.GF.t: float(p.snr[0]), sp.Symbol("ell", positive=True): p.test_energy[0],
          sp.Symbol("s", positive=True): p.eta2_test / p.d}
    assert es.risk_best_filter == pytest.approx(float(r_star.subs(at)), rel=1e-13)
    assert es.risk_best_filter < es.risk < es.risk_reg
    assert math.isnan(best_filter_risk(Problem(300, c=2.0, sv=[2.0, 1.0], k=300)))
    # Monte Carlo of the constant filter phi = kappa* / eta2_train (noise units -> absolute)
    kappa = float(k_star.subs(at)) / p.eta2_train
    mc = spectral_filter_mc(p, [lambda x: np.full_like(x, kappa)], reps=40, seed=2)
    assert abs(mc.risk[0] - es.risk_best_filter) < 4 * mc.risk_se[0]


def test_filter_mc_with_ridge_filter_is_the_closed_form_trainer():
    """Same draws as montecarlo.estimate: the ridge filter 1/(x + lam) gives its risks."""
    p = Problem(60, c=2.0, sv=[2.0, 1.0], eta2_train=0.7, eta2_test=0.5, k=60)
    for lam in (0.05, 0.3):
        a = spectral_filter_mc(p, [lambda x, lam=lam: 1 / (x + lam)], reps=4, seed=4)
        b = monte_carlo_risk(p.replace(reg=lam), reps=4, seed=4, method="dense")
        np.testing.assert_allclose(a.samples[:, 0], b.samples[:, 0], rtol=1e-10)


# ---------------------------------------------------------------------------- Monte Carlo
def _z(th, mc):
    return (mc.risk - th.risk) / mc.risk_se


def test_theory_matches_monte_carlo_small_d():
    times = np.array([0.2, 1.0, 5.0, 50.0])
    for c in (0.5, 2.0):
        p = Problem(200, c=c, sv=[2.0], test_energy=[1.0], eta2_train=1.0, eta2_test=1.0, k=200)
        mc = risk_over_time_mc(p, times, reps=24, seed=7)
        z = _z(risk_over_time(p, times), mc)
        assert np.all(np.abs(z) < 4), (c, z)


@pytest.mark.slow
@pytest.mark.parametrize("c", [0.5, 2.0])
@pytest.mark.parametrize("sv", [[2.0], [3.0, 1.0]])
def test_theory_matches_monte_carlo_d1000(c, sv):
    times = np.array([0.1, 0.5, 2.0, 10.0, 100.0])
    p = Problem(1000, c=c, sv=sv, test_energy=[1.0] * len(sv), eta2_train=1.0, eta2_test=1.0,
                k=1000)
    mc = risk_over_time_mc(p, times, reps=30, seed=21)
    th = risk_over_time(p, times)
    z = _z(th, mc)
    assert np.all(np.abs(z) < 4), z
    zv = (mc.variance - th.variance) / mc.variance_se
    assert np.all(np.abs(zv) < 4), zv


# --------------------------------------------------------------------------------------- CLI
def test_cli_risk_command_on_fresh_subparsers(tmp_path, capsys):
    import argparse
    import json

    from rmtrisk.cli_risk_time import add_risk_time_command

    parser = argparse.ArgumentParser(prog="rmtrisk dynamics")
    sub = parser.add_subparsers(dest="command")
    add_risk_time_command(lambda name, help_: sub.add_parser(name, help=help_))
    args = parser.parse_args(["risk", "--d", "100", "--c", "2", "--sv", "2", "--points", "5",
                              "--mc-reps", "3", "--mc-times", "0.5,5", "--early-stopping",
                              "--json", "--output", str(tmp_path)])
    args.argv = ["dynamics", "risk"]
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    p = Problem(100, c=2.0, sv=[2.0], k=100)
    times = np.geomspace(1e-2, 1e3, 5)
    np.testing.assert_allclose([r["risk"] for r in out["theory"]],
                               risk_over_time(p, times).risk, rtol=1e-14)
    assert out["early_stopping"]["risk"] == pytest.approx(early_stopping(p).risk, rel=1e-12)
    mc = risk_over_time_mc(p, [0.5, 5.0], reps=3, seed=0)
    np.testing.assert_allclose([r["risk"] for r in out["monte_carlo"]["rows"]], mc.risk)
    for name in ("risk_over_time.csv", "risk_over_time_mc.csv", "risk_over_time.json",
                 "risk_over_time.png", "risk_over_time.svg"):
        assert (tmp_path / name).stat().st_size > 0
    with pytest.raises(SystemExit):
        parser.parse_args(["risk", "--sv", "x"])


def test_docs_show_the_generated_equations():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "risk_over_time.md").read_text(
        encoding="utf-8")
    for name, tex in G.latex_equations().items():
        assert tex in text, f"docs/risk_over_time.md lacks the generated equation {name}"
