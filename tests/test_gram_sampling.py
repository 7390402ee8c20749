"""The Gram-space Monte Carlo (rmtrisk/montecarlo/gram.py) against the dense reference.

Three kinds of checks: exact moments of the sampled noise spectrum; the same draw given to
both paths (the dense one rotated by arbitrary orthogonal matrices, which the statistics do
not see); and the two samplers compared in distribution (two-sample z of the means and the
variances of risk, bias and variance, |z| < 4).
"""

import itertools
import tracemalloc

import numpy as np
import pytest

import rmtrisk.montecarlo.gram as gram
from rmtrisk import Problem
from rmtrisk.montecarlo import monte_carlo_risk, replicate_risk
from rmtrisk.montecarlo.gram import (
    GramSample,
    dense_training_set,
    gram_risk_statistics,
    gram_sample,
    noise_bidiagonal,
    noise_singular_values,
)
from rmtrisk.montecarlo.sampling import haar_frame, training_sample
from rmtrisk.montecarlo.training import risk_statistics


def _z_mean(x, y):
    return (x.mean() - y.mean()) / np.sqrt(x.var(ddof=1) / x.size + y.var(ddof=1) / y.size)


def _z_var(x, y):
    """Two-sample z of the variances (SE of a sample variance from the fourth moment)."""
    def var_and_se2(v):
        c = v - v.mean()
        s2 = np.mean(c**2) * v.size / (v.size - 1)
        return s2, (np.mean(c**4) - s2**2) / v.size
    (sx, ex), (sy, ey) = var_and_se2(x), var_and_se2(y)
    return (sx - sy) / np.sqrt(ex + ey)


# --------------------------------------------------------------------------------------------
# the noise spectrum
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("d, n", [(12, 5), (5, 12), (8, 8)])
def test_noise_spectrum_has_the_exact_gaussian_moments(d, n):
    eta2 = 0.7
    rng = np.random.default_rng(3)
    a = np.array([noise_singular_values(d, n, eta2, rng) for _ in range(4000)])
    assert a.shape[1] == min(d, n) and np.all(np.diff(a, axis=1) <= 0)
    s2, s4 = np.sum(a**2, axis=1), np.sum(a**4, axis=1)
    # E tr(A^T A) = N eta2 and E tr((A^T A)^2) = (eta2/d)^2 d N (d + N + 1)
    for vals, exact in ((s2, n * eta2), (s4, (eta2 / d) ** 2 * d * n * (d + n + 1))):
        assert abs(vals.mean() - exact) < 4 * vals.std(ddof=1) / np.sqrt(vals.size)


@pytest.mark.parametrize("d, n", [(10, 6), (6, 10), (7, 7)])
def test_noise_spectrum_matches_dense_singular_values_in_distribution(d, n):
    rng = np.random.default_rng(4)
    ours = np.array([noise_singular_values(d, n, 1.0, rng) for _ in range(3000)])
    dense = np.array([np.linalg.svd(rng.standard_normal((d, n)) / np.sqrt(d),
                                    compute_uv=False) for _ in range(3000)])
    for j in (0, min(d, n) - 1):  # largest and smallest
        assert abs(_z_mean(ours[:, j], dense[:, j])) < 4
        assert abs(_z_var(ours[:, j], dense[:, j])) < 4


def test_bidiagonal_has_the_chi_degrees_of_freedom():
    rng = np.random.default_rng(5)
    draws = [noise_bidiagonal(9, 4, 9.0, rng) for _ in range(3000)]  # scale^2 = eta2 / d = 1
    alpha2 = np.array([a for a, _ in draws]) ** 2
    beta2 = np.array([b for _, b in draws]) ** 2
    se = np.sqrt(2 * np.array([9, 8, 7, 6]) / 3000)
    assert np.all(np.abs(alpha2.mean(0) - [9, 8, 7, 6]) < 4 * se)
    assert np.all(np.abs(beta2.mean(0) - [3, 2, 1]) < 4 * np.sqrt(2 * np.array([3, 2, 1]) / 3000))


# --------------------------------------------------------------------------------------------
# the same draw in both paths
# --------------------------------------------------------------------------------------------
SV = [3.0, 2.0, 1.5, 0.5]
CASES = list(itertools.product([(30, 12), (12, 30), (20, 20), (21, 20), (40, 37)],
                               [False, True], [0.0, 0.3], [None, (2, 3)]))


def _assert_same(got, ref, rtol=1e-9):
    scale = max(1.0, abs(ref.frob2))
    np.testing.assert_allclose(got.test_gram, ref.test_gram, atol=rtol * scale)
    assert abs(got.trace - ref.trace) <= rtol * scale
    assert abs(got.frob2 - ref.frob2) <= rtol * scale


@pytest.mark.parametrize("dn, skip, reg, cs", CASES)
def test_singular_frame_of_a_dense_draw_gives_its_statistics(dn, skip, reg, cs):
    d, n = dn
    p = Problem(d=d, n=n, sv=SV, eta2_train=0.5, k=3, skip=skip, reg=reg, critical_set=cs)
    Y, U, V = training_sample(p, np.random.default_rng(d + n))
    P, a, Qt = np.linalg.svd(Y - (U * p.sv_array) @ V.T)      # the draw's own noise
    sample = GramSample(a, np.zeros(a.size - 1), P.T @ U, Qt @ V)
    ref = risk_statistics(Y, U, p.sv_array, V, k=3, skip=skip, reg=reg, critical_set=cs)
    _assert_same(gram_risk_statistics(sample, p.sv_array, k=3, skip=skip, reg=reg,
                                      critical_set=cs), ref)


@pytest.mark.parametrize("dn, skip, reg, cs", CASES)
@pytest.mark.parametrize("k", [2, 9])
def test_bidiagonal_draw_rotated_gives_the_same_statistics(dn, skip, reg, cs, k):
    d, n = dn
    p = Problem(d=d, n=n, sv=SV, eta2_train=0.5, k=k, skip=skip, reg=reg, critical_set=cs)
    rng = np.random.default_rng(7 * d + n + k)
    sample = gram_sample(p, rng)
    O1, O2 = haar_frame(d, d, rng), haar_frame(n, n, rng)
    Y = O1 @ dense_training_set(sample, p.sv_array, skip=skip) @ O2.T
    ref = risk_statistics(Y, O1 @ sample.U, p.sv_array, O2 @ sample.V, k=k, skip=skip,
                          reg=reg, critical_set=cs)
    _assert_same(gram_risk_statistics(sample, p.sv_array, k=k, skip=skip, reg=reg,
                                      critical_set=cs), ref)


@pytest.mark.parametrize("skip", [False, True])
@pytest.mark.parametrize("dn", [(20, 20), (30, 12), (12, 30)])
def test_fallback_and_dense_eigensolver_give_the_same_statistics(monkeypatch, skip, dn):
    d, n = dn
    p = Problem(d=d, n=n, sv=SV, eta2_train=0.5, k=3, skip=skip, reg=0.1)
    sample = gram_sample(p, np.random.default_rng(1))
    fast = gram_risk_statistics(sample, p.sv_array, k=3, skip=skip, reg=0.1)
    monkeypatch.setattr(gram, "_LANCZOS_MAX", 0)           # dense partial eigh
    _assert_same(gram_risk_statistics(sample, p.sv_array, k=3, skip=skip, reg=0.1), fast)
    monkeypatch.setattr(gram, "_RESIDUAL_EPS", -1.0)        # every Woodbury check fails
    _assert_same(gram_risk_statistics(sample, p.sv_array, k=3, skip=skip, reg=0.1), fast)


def test_bad_sample_and_method_are_clear_errors():
    p = Problem(d=10, n=6, sv=[1.0, 0.5], k=1)
    sample = gram_sample(p, np.random.default_rng(0))
    with pytest.raises(ValueError, match="alpha of length min"):
        gram_risk_statistics(sample._replace(alpha=sample.alpha[:-1]), p.sv_array, k=1,
                             skip=False)
    with pytest.raises(ValueError, match="k must be an integer in"):
        gram_risk_statistics(sample, p.sv_array, k=0, skip=False)
    with pytest.raises(ValueError, match=r"method must be one of \['gram', 'dense'\]"):
        replicate_risk(p, 0, method="fast")
    with pytest.raises(ValueError, match="method must be one of"):
        monte_carlo_risk(p, reps=2, method=None)


# --------------------------------------------------------------------------------------------
# the two samplers in distribution
# --------------------------------------------------------------------------------------------
DIST = [
    dict(d=30, n=15, k=2),                                  # no skip, c = 2
    dict(d=16, n=32, k=2, reg=0.2),                         # no skip, c = 1/2, ridge
    dict(d=24, n=20, k=3, critical_set=(2, 3)),             # saddle
    dict(d=30, n=15, k=4, skip=True),                       # skip, c > 1: coordinate directions
    dict(d=30, n=15, k=4, skip=True, reg=0.3),              # skip, c > 1, ridge
    dict(d=16, n=32, k=3, skip=True),                       # skip, c < 1
    dict(d=16, n=32, k=6, skip=True, reg=0.3),              # skip, c < 1, ridge
]


@pytest.mark.parametrize("kw", DIST)
def test_gram_and_dense_samplers_agree_in_distribution(kw):
    p = Problem(sv=[2.5, 1.5, 1.0], eta2_train=0.5, eta2_test=0.3, test_energy=[1, 1, 1], **kw)
    a = monte_carlo_risk(p, reps=700, seed=1, method="gram").samples
    b = monte_carlo_risk(p, reps=700, seed=2, method="dense").samples
    for col in range(3):
        assert abs(_z_mean(a[:, col], b[:, col])) < 4, (kw, col)
        assert abs(_z_var(a[:, col], b[:, col])) < 4, (kw, col)


@pytest.mark.slow
@pytest.mark.parametrize("skip, kw", [(False, dict(c=2.0)), (False, dict(c=0.5, reg=0.05)),
                                      (True, dict(c=2.0, kappa=0.2)),
                                      (True, dict(c=0.5, kappa=0.1, reg=0.05))])
def test_samplers_agree_in_distribution_at_d_400(skip, kw):
    p = Problem(d=400, sv=[2.0, 1.4, 1.0], eta2_train=1.0, eta2_test=1.0,
                test_energy=[1, 1, 1], skip=skip, **({} if "kappa" in kw else {"k": 2}), **kw)
    a = monte_carlo_risk(p, reps=300, seed=3, method="gram").samples
    b = monte_carlo_risk(p, reps=300, seed=4, method="dense").samples
    for col in range(3):
        assert abs(_z_mean(a[:, col], b[:, col])) < 4
        assert abs(_z_var(a[:, col], b[:, col])) < 4


# --------------------------------------------------------------------------------------------
# memory
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("skip", [False, True])
def test_gram_replicate_never_allocates_a_d_by_n_matrix(skip):
    p = Problem(d=3000, n=1500, sv=[2.0, 1.0], k=3, skip=skip)
    replicate_risk(p, 0)
    tracemalloc.start()
    replicate_risk(p, 1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 0.05 * 8 * p.d * p.n
