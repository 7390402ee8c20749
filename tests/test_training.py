import numpy as np
import pytest

from rmtrisk import Problem
from rmtrisk.montecarlo.training import (
    critical_point,
    dae_gradient,
    dae_loss,
    factorize,
    risk_statistics,
    statistics_from_weight,
)

SHAPES = [(30, 12), (12, 30), (20, 20)]


def problem(d, n, **kw):
    base = dict(sv=[3.0, 2.0, 1.5, 0.5], eta2_train=0.5, eta2_test=0.3, k=3)
    base.update(kw)
    return Problem(d=d, n=n, **base)


@pytest.mark.parametrize("d, n", SHAPES)
@pytest.mark.parametrize("skip", [False, True])
@pytest.mark.parametrize("reg", [0.0, 0.3])
@pytest.mark.parametrize("critical_set", [None, (2, 3)])
def test_factored_statistics_equal_dense_reference(small_draw, d, n, skip, reg, critical_set):
    p = problem(d, n, skip=skip, reg=reg, critical_set=critical_set)
    Y, U, V, X, A = small_draw(p)
    W = critical_point(Y, -A if skip else X, p.k, reg, critical_set)
    ref = statistics_from_weight(W, U, skip)
    got = risk_statistics(Y, U, p.sv_array, V, k=p.k, skip=skip, reg=reg,
                          critical_set=critical_set)
    scale = max(1.0, abs(ref.frob2))
    np.testing.assert_allclose(got.test_gram, ref.test_gram, atol=1e-10 * scale)
    assert abs(got.trace - ref.trace) <= 1e-10 * scale
    assert abs(got.frob2 - ref.frob2) <= 1e-10 * scale


@pytest.mark.parametrize("d, n", SHAPES)
@pytest.mark.parametrize("skip", [False, True])
@pytest.mark.parametrize("reg", [0.0, 0.2])
def test_every_critical_point_has_zero_gradient_and_top_k_is_lowest(small_draw, d, n, skip,
                                                                    reg):
    p = problem(d, n, skip=skip, reg=reg, k=2)
    Y, U, V, X, A = small_draw(p, seed=1)
    T = -A if skip else X
    losses = {}
    for cs in [(1, 2), (1, 3), (2, 4), (3,)]:
        W = critical_point(Y, T, 2, reg, cs)
        W1, W2 = factorize(W, 2)
        g1, g2 = dae_gradient(W1, W2, Y, T, reg)
        scale = np.linalg.norm(T @ Y.T)
        assert np.linalg.norm(g1) + np.linalg.norm(g2) < 1e-10 * scale
        losses[cs] = dae_loss(W1, W2, Y, T, reg)
    best = losses.pop((1, 2))
    assert all(best < other for other in losses.values())
    W_top = critical_point(Y, T, 2, reg)
    assert dae_loss(*factorize(W_top, 2), Y, T, reg) == pytest.approx(best, rel=1e-12)


@pytest.mark.parametrize("d, n", [(30, 12), (12, 30)])
def test_wide_bottleneck_without_skip_is_the_one_layer_denoiser(small_draw, d, n):
    p = problem(d, n, k=6)
    Y, U, V, X, A = small_draw(p)
    np.testing.assert_allclose(critical_point(Y, X, 6), X @ np.linalg.pinv(Y), atol=1e-12)
    reg = 0.4
    ridge = X @ Y.T @ np.linalg.inv(Y @ Y.T + reg * np.eye(d))
    np.testing.assert_allclose(critical_point(Y, X, 6, reg), ridge, atol=1e-12)


def test_skip_minimizer_keeps_top_noise_directions_for_c_above_one(small_draw):
    p = problem(30, 12, skip=True, k=3)
    Y, U, V, X, A = small_draw(p)
    E, _, _ = np.linalg.svd(A, full_matrices=False)
    expected = -E[:, :3] @ E[:, :3].T @ A @ np.linalg.pinv(Y)
    np.testing.assert_allclose(critical_point(Y, -A, 3), expected, atol=1e-12)


@pytest.mark.parametrize("d, n", SHAPES)
@pytest.mark.parametrize("skip", [False, True])
def test_min_norm_solution_is_the_small_reg_limit(small_draw, d, n, skip):
    p = problem(d, n, skip=skip)
    Y, U, V, X, A = small_draw(p, seed=2)
    T = -A if skip else X
    W0 = critical_point(Y, T, 3)
    W_eps = critical_point(Y, T, 3, reg=1e-9)
    assert np.linalg.norm(W_eps - W0) < 1e-5 * np.linalg.norm(W0)


def test_factorize_rejects_rank_above_k():
    W = np.diag([3.0, 2.0, 1.0])
    W1, W2 = factorize(W, 3)
    np.testing.assert_allclose(W2 @ W1, W)
    with pytest.raises(ValueError, match="rank > k=2"):
        factorize(W, 2)


@pytest.mark.parametrize("kwargs, words", [
    (dict(k=0), "k must be an integer in [1, d=8]"),
    (dict(k=9), "k must be an integer in [1, d=8]"),
    (dict(k=1.5), "k must be an integer in [1, d=8]"),
    (dict(k=True), "k must be an integer in [1, d=8]"),
    (dict(reg=-0.1), "reg must be >= 0 and finite"),
    (dict(reg=float("nan")), "reg must be >= 0 and finite"),
    (dict(critical_set=[1, 1]), "critical_set must not repeat an index"),
    (dict(critical_set=[]), "critical_set must not be empty"),
    (dict(critical_set={1, 2}), "critical_set must be a list or tuple"),
    (dict(critical_set=[1.5]), "critical_set entries must be integers >= 1"),
])
@pytest.mark.parametrize("which", ["dense", "factored"])
def test_critical_point_arguments_are_validated(small_draw, kwargs, words, which):
    p = problem(8, 5, k=2)
    Y, U, V, X, A = small_draw(p, 0)
    kw = {"k": 2, "reg": 0.0, "critical_set": None, **kwargs}
    with pytest.raises(ValueError) as err:
        if which == "dense":
            critical_point(Y, X, **kw)
        else:
            risk_statistics(Y, U, p.sv_array, V, skip=False, **kw)
    assert words in str(err.value)
