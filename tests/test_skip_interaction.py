"""Interaction of signal directions in the skip-connection risk (corrections/skip_interaction).

The reduced map against dense draws (exact at lambda = 0; the noise-projector model at
lambda > 0), its value at the means against the leading order, the form statistics against
closed forms, the subsystem decomposition of the second-order term against the full system,
the lambda -> 0 limit, and Monte Carlo.
"""

from __future__ import annotations

import numpy as np
import pytest

from rmtrisk import Problem, Status, asymptotic_risk, monte_carlo_risk
from rmtrisk.engine import skip_grid, threshold, truncated_moment
from rmtrisk.montecarlo.sampling import haar_frame
from rmtrisk.montecarlo.training import risk_statistics
from rmtrisk.theory.corrections import skip_interaction
from rmtrisk.theory.corrections.skip_interaction import (
    FORM_FAMILIES,
    kept_angle,
    skip_interaction_correction,
    skip_reduced_statistics,
)


def forms_from_draw(A, U, V, k, lam):
    """The reduced forms of one draw (module docstring of skip_interaction)."""
    E, sd, Ft = np.linalg.svd(A, full_matrices=False)   # c > 1: all N directions
    n = A.shape[1]
    alpha, beta, x = E.T @ U, Ft @ V, sd**2
    out = {}
    for fam in FORM_FAMILIES:
        p, q = fam.power
        w = sd ** (2 * p) / (x + lam) ** q
        m = slice(0, k) if fam.kept else slice(0, n)
        left = beta if fam.block == "bb" else alpha
        right = alpha if fam.block == "aa" else beta
        out[(fam.block, fam.matrix)] = left[m].T @ (w[m, None] * right[m])
    mats = []
    for mat in ("M", "N", "J", "X"):
        ab = out[("ab", mat)]
        mats.append(np.block([[out[("aa", mat)], ab], [ab.T, out[("bb", mat)]]]))
    h = np.hstack([out[("aa", "H")], out[("ab", "H")]])
    psi = x[:k] / (x[:k] + lam)
    bulk = (float(np.sum(psi)), float(np.sum(x[:k] / (x[:k] + lam) ** 2)))
    return (*mats, h), bulk, E


def draw(d, n, sv, seed):
    rng = np.random.default_rng(seed)
    U, V = haar_frame(d, sv.size, rng), haar_frame(n, sv.size, rng)
    A = rng.standard_normal((d, n)) / np.sqrt(d)
    return A, U, V, A + (U * sv) @ V.T


SV = np.array([2.0, 1.3, 0.8])
ELL = np.array([1.0, 0.5, 0.2])


def test_exact_reduction_at_lambda_zero():
    """c > 1, lambda = 0: the reduced map is the exact risk statistics of the minimizer."""
    d, n, k = 300, 150, 40
    A, U, V, Y = draw(d, n, SV, 1)
    mats, bulk, _ = forms_from_draw(A, U, V, k, 0.0)
    signal, trace, frob = skip_reduced_statistics(*mats, SV, ELL, 0.0, bulk)
    st = risk_statistics(Y, U, SV, V, k=k, skip=True)
    assert signal == pytest.approx(float(np.diag(st.test_gram) @ ELL), rel=1e-12)
    assert trace == pytest.approx(st.trace, rel=1e-12)
    assert frob == pytest.approx(st.frob2, rel=1e-12)


def test_reduction_with_the_noise_projector():
    """lambda > 0: the map is exact for W = -E_k E_k^T A Y^T (Y Y^T + lambda)^{-1}."""
    d, n, k, lam = 300, 120, 40, 0.3
    A, U, V, Y = draw(d, n, SV, 2)
    mats, bulk, E = forms_from_draw(A, U, V, k, lam)
    signal, trace, frob = skip_reduced_statistics(*mats, SV, ELL, lam, bulk)
    F = A @ Y.T @ np.linalg.inv(Y @ Y.T + lam * np.eye(d))
    W = -E[:, :k] @ (E[:, :k].T @ F)
    assert signal == pytest.approx(float(np.sum((W @ U) ** 2, axis=0) @ ELL), rel=1e-11)
    assert trace == pytest.approx(np.trace(W), rel=1e-11)
    assert frob == pytest.approx(np.sum(W * W), rel=1e-11)


@pytest.mark.parametrize("c, kappa", [(1.5, 0.1), (2.0, 0.3), (4.0, 0.2)])
def test_means_give_the_leading_order(c, kappa):
    """The reduced map at the limiting means (bulk sum k) is the skip engine's risk."""
    d = 1000
    n = round(d / c)
    k = round(kappa * d)
    y = n / d
    means, _ = skip_interaction._family_statistics(y, kept_angle(y, k / n), 0.0, d, n)
    r = SV.size
    eye, zero = np.eye(r), np.zeros((r, r))
    mats = [np.block([[means[("aa", m)] * eye, zero], [zero, means[("bb", m)] * eye]])
            for m in ("M", "N", "J", "X")]
    h = np.hstack([means[("aa", "H")] * eye, zero])
    signal, trace, frob = skip_reduced_statistics(*mats, h, SV, ELL, 0.0, (k, 0.0))
    e2t = 0.7
    res = skip_grid(d / n, k / d, 1.0, e2t, SV, ELL, d)
    assert signal + e2t * (d + 2 * trace) / d == pytest.approx(float(res.bias), rel=1e-12)
    assert e2t * frob / d == pytest.approx(float(res.variance), rel=1e-12)


@pytest.mark.parametrize("c", [1.05, 2.0])
def test_form_statistics_against_closed_forms(c):
    """lambda = 0: q = 1/(1 - y), q2 = 1/(1 - y)^3, T_{-1}, T_{-2}, a(1 - a), kappa(1 - a)."""
    d, y, mass = 2000, 1 / c, 0.3
    n = round(d * y)
    theta = float(threshold(y, mass).threshold)
    means, covs = skip_interaction._family_statistics(y, kept_angle(y, mass), 0.0, d, n)
    q, q2 = 1 / (1 - y), 1 / (1 - y) ** 3
    t1, t2 = (float(truncated_moment(p, theta, y)) for p in (-1, -2))
    kappa = mass * y
    assert means[("bb", "M")] == pytest.approx(q, rel=1e-10)
    assert means[("bb", "J")] == pytest.approx(t1, rel=1e-12)
    assert means[("aa", "J")] == pytest.approx(kappa, rel=1e-12)
    fams, cov = covs["bb"]
    idx = {f.matrix: i for i, f in enumerate(fams)}
    assert cov[idx["M"], idx["M"]] * n == pytest.approx(q2 - q * q, rel=1e-8)
    assert cov[idx["M"], idx["J"]] * n == pytest.approx(t2 - q * t1, rel=1e-8)
    assert cov[idx["J"], idx["J"]] * n == pytest.approx(t2 - t1 * t1, rel=1e-10)
    fams, cov = covs["aa"]
    idx = {f.matrix: i for i, f in enumerate(fams)}
    assert cov[idx["M"], idx["M"]] * d == pytest.approx(y * (1 - y), rel=1e-10)
    assert cov[idx["M"], idx["J"]] * d == pytest.approx(kappa * (1 - y), rel=1e-10)
    fams, cov = covs["ab"]
    idx = {f.matrix: i for i, f in enumerate(fams)}
    assert cov[idx["M"], idx["M"]] * d == pytest.approx(q, rel=1e-10)
    assert cov[idx["M"], idx["J"]] * d == pytest.approx(t1, rel=1e-10)


@pytest.mark.parametrize("reg", [0.0, 0.2])
def test_subsystems_reproduce_the_full_second_order_term(reg):
    """The second-order term on 2 x 2 and 4 x 4 subsystems equals the one on the whole
    2r x 2r system (the means are block diagonal per direction)."""
    p = Problem(d=600, c=2.0, sv=[1.8, 1.2, 0.9], test_energy=[1.0, 0.4, 2.0], kappa=0.2,
                skip=True, reg=reg, eta2_train=1.0, eta2_test=0.8)
    delta_bias, delta_var, _ = skip_interaction_correction(p)
    d, n, r = p.d, p.n, p.r
    y = n / d
    means, covs = skip_interaction._family_statistics(y, kept_angle(y, p.k / n), reg, d, n)
    eye, zero = np.eye(r), np.zeros((r, r))
    base = {m: np.block([[means[("aa", m)] * eye, zero], [zero, means[("bb", m)] * eye]])
            for m in ("M", "N", "J", "X")}
    base["H"] = np.hstack([means[("aa", "H")] * eye, zero])
    total = np.zeros(3)
    f0 = skip_reduced_statistics(*(base[m] for m in "MNJXH"), p.sv_array, p.test_energy_array,
                                 reg)
    for block, (fams, cov) in covs.items():
        val, vec = np.linalg.eigh(cov)
        for e in np.flatnonzero(val > 1e-13 * val.max()):
            for i in range(r):
                for j in range(r) if block == "ab" else range(i, r):
                    a, b = {"aa": (i, j), "bb": (r + i, r + j), "ab": (i, r + j)}[block]
                    var = val[e] * (2.0 if block != "ab" and i == j else 1.0)
                    h = 1e-2 * np.sqrt(var)
                    moved = []
                    for sign in (1.0, -1.0):
                        mats = {m: base[m].copy() for m in "MNJXH"}
                        for f, amp in zip(fams, vec[:, e], strict=True):
                            mats[f.matrix][a, b] += sign * h * amp
                            if a != b and (f.matrix != "H" or block == "aa"):
                                mats[f.matrix][b, a] += sign * h * amp
                        moved.append(skip_reduced_statistics(
                            *(mats[m] for m in "MNJXH"), p.sv_array, p.test_energy_array, reg))
                    total += 0.5 * var * (moved[0] + moved[1] - 2 * f0) / h**2
    scale = p.eta2_test / d
    assert delta_bias == pytest.approx(total[0] + 2 * scale * total[1], rel=1e-6)
    assert delta_var == pytest.approx(scale * total[2], rel=1e-6)


def test_lambda_to_zero_is_linear_and_continuous():
    """c > 1: correction(lambda) - correction(0) is linear in lambda down to 1e-9."""
    base = Problem(d=2000, c=1.2, sv=[2.0, 1.4, 1.0, 0.7], kappa=0.3, skip=True,
                   eta2_train=1.0, eta2_test=1.0)
    def total(p):
        corr = skip_interaction_correction(p)
        return corr.delta_bias + corr.delta_variance

    c0 = total(base)
    gaps = [total(base.replace(reg=lam)) - c0
            for lam in (1e-5, 1e-7, 1e-9)]
    for g1, g2 in zip(gaps[:-1], gaps[1:], strict=True):
        assert g2 == pytest.approx(g1 / 100, rel=0.02)
    r0 = asymptotic_risk(base)
    r1 = asymptotic_risk(base.replace(reg=1e-9))
    assert r1.risk == pytest.approx(r0.risk, abs=1e-8)


def test_domain_and_terms():
    p = Problem(d=400, c=0.5, sv=[2.0, 1.0], kappa=0.2, skip=True)
    for below in (p, p.replace(reg=0.1), p.replace(c=1.0)):
        with pytest.raises(ValueError, match="c > 1"):
            skip_interaction_correction(below)
    with pytest.raises(ValueError, match="skip connection"):
        skip_interaction_correction(p.replace(skip=False, k=1))
    at_one = Problem(d=400, c=1.0, sv=[2.0, 1.0], kappa=0.2, skip=True, reg=0.1)
    assert np.all(np.isfinite(skip_interaction_correction(at_one)))
    over = p.replace(c=2.0)
    assert asymptotic_risk(over).terms == "limit + interaction O(r/d)"
    assert asymptotic_risk(over, limit=True).terms == "limit"
    assert asymptotic_risk(over, finite_size=True).terms == "finite-size"


def test_monte_carlo_per_sample_scaling():
    """Per-sample energies, wide bottleneck (as audit cell 222): the limit misses the
    interaction at leading order, the default does not."""
    rng = np.random.default_rng(4)
    p = Problem(d=300, c=2.0, energy=list(rng.uniform(0.01, 0.2, 10)), test_energy=[1.0] * 10,
                kappa=0.25, skip=True, eta2_train=0.3, eta2_test=0.3)
    mc = monte_carlo_risk(p, reps=300, seed=7, blas_threads=1)
    limit = asymptotic_risk(p, limit=True).risk
    default = asymptotic_risk(p).risk
    assert abs(limit - mc.risk) > 6 * mc.stderr
    assert abs(default - mc.risk) < 3 * mc.stderr


def test_large_expansion_parameter_is_ill_conditioned_and_critical_sets_unsupported():
    """c -> 1 with small reg, or d - N = 1 at reg = 0: the second-order expansion fails
    (Monte Carlo: the correction overshoots by 33 SE at c = 1, reg = 1e-7, d = 200); the limit
    comes back with ILL_CONDITIONED. A critical set with skip has no theory: UNSUPPORTED."""
    spec = dict(sv=[2.0, 1.4, 1.0, 0.7], test_energy=[1.0] * 4, kappa=0.1, skip=True)
    fine = Problem(d=2000, c=2.0, **spec)
    assert skip_interaction_correction(fine).expansion < 0.2
    assert asymptotic_risk(fine).terms == "limit + interaction O(r/d)"
    for p in (Problem(d=200, c=1.0, reg=1e-7, **spec), Problem(d=2001, n=2000, **spec)):
        assert skip_interaction_correction(p).expansion > skip_interaction.MAX_EXPANSION
        res = asymptotic_risk(p, throw=False)
        assert res.status is Status.ILL_CONDITIONED and "expansion" in res.message
        assert res.risk == asymptotic_risk(p, limit=True).risk
    ok = Problem(d=200, c=1.0, reg=1e-3, **spec)  # expansion 0.6: corrected (MC z +4.3)
    assert asymptotic_risk(ok).status is Status.SUCCESS
    for p in (fine.replace(critical_set=[1]), fine.replace(reg=0.1, critical_set=[1])):
        res = asymptotic_risk(p, throw=False)
        assert res.status is Status.UNSUPPORTED and "global minimizer" in res.message
