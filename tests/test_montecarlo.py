import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from rmtrisk import Problem
from rmtrisk.montecarlo import MonteCarloResult, monte_carlo_risk, replicate_risk
from rmtrisk.montecarlo.sampling import gaussian_noise, haar_frame, training_sample
from rmtrisk.theory import asymptotic_risk
from rmtrisk.theory.one_layer import direction_factors


def mean_and_se(values):
    values = np.asarray(values)
    return values.mean(), values.std(ddof=1) / np.sqrt(values.size)


@pytest.mark.parametrize("d, n", [(40, 20), (30, 10)])
def test_inverse_wishart_anchor_c_above_one(d, n):
    rng = np.random.default_rng(11)
    vals = [np.trace(np.linalg.inv(A.T @ A))
            for A in (gaussian_noise(d, n, 1.0, rng) for _ in range(3000))]
    mean, se = mean_and_se(vals)
    assert abs(mean - d * n / (d - n - 1)) <= 3 * se


@pytest.mark.parametrize("d, n", [(20, 40), (10, 30)])
def test_inverse_wishart_anchor_c_below_one(d, n):
    rng = np.random.default_rng(12)
    vals = [np.trace(np.linalg.inv(A @ A.T))
            for A in (gaussian_noise(d, n, 1.0, rng) for _ in range(3000))]
    mean, se = mean_and_se(vals)
    assert abs(mean - d**2 / (n - d - 1)) <= 3 * se


def test_haar_frame_is_orthonormal_and_isotropic():
    rng = np.random.default_rng(0)
    Q = haar_frame(50, 3, rng)
    np.testing.assert_allclose(Q.T @ Q, np.eye(3), atol=1e-12)
    # E[Q Q^T] = (r/n) I: the mean of the first diagonal entry over draws
    vals = [(haar_frame(50, 3, rng)[0] ** 2).sum() for _ in range(2000)]
    mean, se = mean_and_se(vals)
    assert abs(mean - 3 / 50) <= 3 * se


def test_training_sample_adds_the_signal_in_place():
    p = Problem(d=30, n=20, sv=[3.0, 1.0], eta2_train=0.4, k=1)
    rng = np.random.default_rng(5)
    Y, U, V = training_sample(p, rng)
    rng = np.random.default_rng(5)
    U2, V2 = haar_frame(30, 2, rng), haar_frame(20, 2, rng)
    A = gaussian_noise(30, 20, 0.4, rng)
    np.testing.assert_allclose(Y, A + (U2 * p.sv_array) @ V2.T, atol=1e-13)


# Sonthalia & Nadakuditi 2023 (rank one, eta = 1, theta = sigma^2): R = (sigma_tst^2/N_t) B + V/d,
# B and V from the closed form, checked at d = 1000 within 3 standard errors.
@pytest.mark.parametrize("c, theta", [(0.5, 1.0), (0.8, 4.0), (1.25, 4.0), (2.0, 1.0)])
def test_one_layer_baseline_matches_closed_form_at_d_1000(c, theta):
    d = 1000
    n = round(d / c)
    ell = 1.0 / n  # sigma_tst^2 / N_t with sigma_tst^2 = 1, N_t = N
    p = Problem(d=d, n=n, sv=[np.sqrt(theta)], test_energy=[ell], eta2_train=1.0,
                eta2_test=1.0, k=1)
    mc = monte_carlo_risk(p, reps=40, seed=1)
    if c < 1:
        B = 1 / (1 + c * theta) ** 2
        V = c**2 * theta * (1 + theta) / ((1 - c) * (1 + c * theta) ** 2)
    else:
        B = 1 / (1 + theta) ** 2
        V = c / (c - 1) * theta / (1 + theta)
    assert abs(mc.bias - ell * B) <= 3 * mc.bias_stderr
    assert abs(mc.variance - V / d) <= 3 * mc.variance_stderr
    b, v = direction_factors(np.array([theta]), d, n)
    assert b[0] == pytest.approx(B, rel=1e-14) and v[0] == pytest.approx(V, rel=1e-14)


def test_skip_risk_is_test_noise_times_one_minus_k_over_d_to_leading_order():
    p = Problem(d=600, n=300, sv=[2.0, 1.0], eta2_train=1.0, eta2_test=0.5, k=6, skip=True)
    mc = monte_carlo_risk(p, reps=20, seed=4)
    leading = 0.5 * (1 - 6 / 600)
    assert abs(mc.risk - leading) < 1e-3 * leading  # corrections are O(k r / d^2)
    th = asymptotic_risk(p)
    assert abs(mc.risk - th.risk) <= 3 * mc.stderr


def test_seeds_do_not_depend_on_batching_or_executor():
    p = Problem(d=40, n=20, sv=[2.0, 1.0], eta2_train=0.5, eta2_test=0.3, k=1)
    serial = monte_carlo_risk(p, reps=9, seed=3)
    batched = monte_carlo_risk(p, reps=9, seed=3, batch_size=2)
    with ThreadPoolExecutor(2) as ex:
        threaded = monte_carlo_risk(p, reps=9, seed=3, executor=ex, batch_size=4)
    np.testing.assert_array_equal(serial.samples, batched.samples)
    np.testing.assert_array_equal(serial.samples, threaded.samples)
    first = replicate_risk(p, np.random.SeedSequence(3).spawn(9)[0])
    np.testing.assert_array_equal(serial.samples[0], first)
    assert monte_carlo_risk(p, reps=9, seed=4).risk != serial.risk


def test_process_pool_gives_the_same_samples():
    p = Problem(d=40, n=20, sv=[2.0, 1.0], eta2_train=0.5, eta2_test=0.3, k=1, skip=True)
    serial = monte_carlo_risk(p, reps=6, seed=8)
    pooled = monte_carlo_risk(p, reps=6, seed=8, workers=2)
    np.testing.assert_allclose(serial.samples, pooled.samples, rtol=1e-12)


def test_result_statistics_and_round_trip():
    p = Problem(d=40, n=20, sv=[2.0, 1.0], eta2_train=0.5, eta2_test=0.3, k=1)
    counts = []
    mc = monte_carlo_risk(p, reps=12, seed=0, progress=counts.append, batch_size=5)
    assert sum(counts) == 12
    assert mc.risk == pytest.approx(mc.bias + mc.variance)
    assert mc.stderr == pytest.approx(mc.samples[:, 0].std(ddof=1) / np.sqrt(12))
    lo, hi = mc.ci
    assert lo < mc.risk < hi
    again = MonteCarloResult.from_dict(json.loads(json.dumps(mc.to_dict())))
    np.testing.assert_array_equal(again.samples, mc.samples)
    assert again.problem == p and again.risk == mc.risk


@pytest.mark.parametrize("kw, words", [(dict(reps=0), "reps must be an integer >= 1"),
                                       (dict(seed=-1), "seed must be an integer >= 0"),
                                       (dict(workers=0), "workers must be an integer >= 1")])
def test_monte_carlo_validates_its_options(kw, words):
    p = Problem(d=10, n=5, sv=[1.0], k=1)
    with pytest.raises(ValueError, match=words):
        monte_carlo_risk(p, **{"reps": 2, **kw})


SMALL = Problem(d=30, n=15, sv=[3.0, 2.0], eta2_train=0.5, eta2_test=0.3, k=1)


@pytest.mark.parametrize("kwargs, words", [
    (dict(reps=0), "reps must be an integer >= 1"),
    (dict(reps=1.5), "reps must be an integer >= 1"),
    (dict(reps=True), "reps must be an integer >= 1"),
    (dict(seed=-1), "seed must be an integer >= 0"),
    (dict(seed=0.5), "seed must be an integer >= 0"),
    (dict(workers=0), "workers must be an integer >= 1"),
    (dict(batch_size=-1), "batch_size must be an integer >= 1 (or None for the default)"),
    (dict(batch_size=0), "batch_size must be an integer >= 1"),
    (dict(batch_size=1.5), "batch_size must be an integer >= 1"),
    (dict(blas_threads=0), "blas_threads must be an integer >= 1"),
    (dict(blas_threads=-2), "blas_threads must be an integer >= 1"),
])
def test_monte_carlo_arguments_are_validated(kwargs, words):
    kw = {"reps": 4, "seed": 0, **kwargs}
    with pytest.raises(ValueError) as err:
        monte_carlo_risk(SMALL, **kw)
    assert words in str(err.value)


def test_explicit_batch_size_gives_the_same_samples():
    a = monte_carlo_risk(SMALL, reps=4, seed=3)
    b = monte_carlo_risk(SMALL, reps=4, seed=3, batch_size=3)
    assert np.all(np.isfinite(b.samples)) and np.array_equal(a.samples, b.samples)
    assert a.status.name == "SUCCESS" and a.message == ""


@pytest.mark.parametrize("d, n", [(30, 30), (30, 29), (29, 30)])
def test_interpolation_threshold_is_flagged(d, n):
    res = monte_carlo_risk(SMALL.replace(d=d, n=n), reps=3)
    assert res.status.name == "AT_INTERPOLATION_THRESHOLD" and "infinite" in res.message
    assert monte_carlo_risk(SMALL.replace(d=d, n=n, reg=0.1), reps=3).status.name == "SUCCESS"


def test_non_finite_replicate_is_flagged_and_status_round_trips():
    samples = np.array([[1.0, 0.5, 0.5], [np.nan, np.nan, np.nan], [1.0, 0.4, 0.6]])
    res = MonteCarloResult(SMALL, 3, 0, samples)
    assert res.status.name == "NON_FINITE" and "1 of 3" in res.message
    back = MonteCarloResult.from_dict(json.loads(json.dumps(res.to_dict(), allow_nan=True)))
    assert back.status == res.status and back.message == res.message


def test_from_dict_of_an_old_dict_without_status_still_loads():
    res = monte_carlo_risk(SMALL, reps=3)
    old = res.to_dict()
    del old["status"], old["message"]
    back = MonteCarloResult.from_dict(old)
    assert back.status.name == "SUCCESS" and np.array_equal(back.samples, res.samples)


@pytest.mark.parametrize("mutate, words", [
    (lambda d: {}, "missing key(s) ['problem', 'reps', 'seed', 'samples']"),
    (lambda d: {k: v for k, v in d.items() if k != "samples"}, "missing key(s) ['samples']"),
    (lambda d: {**d, "problem": {}}, "Problem.from_dict: missing key(s)"),
    (lambda d: {**d, "reps": 7}, "reps must be the integer number of sample rows (3)"),
    (lambda d: {**d, "seed": -1}, "seed must be an integer >= 0"),
    (lambda d: {**d, "samples": "x"}, "samples must be a list of"),
    (lambda d: {**d, "status": "BOGUS"}, "status must be one of"),
    (lambda d: [1], "needs a dict"),
])
def test_from_dict_bad_input_is_a_clear_error(mutate, words):
    data = monte_carlo_risk(SMALL, reps=3).to_dict()
    with pytest.raises(ValueError) as err:
        MonteCarloResult.from_dict(mutate(data))
    assert words in str(err.value)
