import numpy as np
import pytest

from rmtrisk import Problem
from rmtrisk.montecarlo.dynamics import gradient_flow
from rmtrisk.montecarlo.training import critical_point, dae_loss, factorize


def setup(draw, d, n, skip, reg, seed=0):
    p = Problem(d=d, n=n, sv=[2.0, 1.2, 0.7], eta2_train=0.5, eta2_test=1.0, k=2, skip=skip,
                reg=reg)
    Y, U, V, X, A = draw(p, seed)
    return Y, (-A if skip else X)


@pytest.mark.parametrize("d, n", [(8, 5), (6, 11)])
@pytest.mark.parametrize("skip", [False, True])
@pytest.mark.parametrize("reg", [0.0, 0.2])
def test_gradient_flow_from_small_init_finds_the_closed_form_minimizer(small_draw, d, n, skip,
                                                                       reg):
    Y, T = setup(small_draw, d, n, skip, reg)
    init = 1e-6
    run = gradient_flow(Y, T, 2, reg, init_scale=init)
    W = critical_point(Y, T, 2, reg)
    assert run.converged
    # what initialization leaves behind (directions the flow never moves) is O(init * ||W2||)
    assert np.linalg.norm(run.W - W) <= 1e-4 * np.linalg.norm(W)
    # gradient flow decreases the loss monotonically (up to integrator round-off)
    assert np.all(np.diff(run.losses) <= 1e-10 * run.losses[0])
    assert run.losses[-1] == pytest.approx(dae_loss(*factorize(W, 2), Y, T, reg), rel=1e-6)


@pytest.mark.parametrize("skip", [False, True])
def test_other_critical_points_are_saddles(small_draw, skip):
    Y, T = setup(small_draw, 8, 5, skip, 0.1, seed=3)
    W_saddle = critical_point(Y, T, 2, 0.1, critical_set=(1, 3))
    W1, W2 = factorize(W_saddle, 2)
    rng = np.random.default_rng(7)
    run = gradient_flow(Y, T, 2, 0.1, W1=W1 + 1e-5 * rng.standard_normal(W1.shape),
                        W2=W2 + 1e-5 * rng.standard_normal(W2.shape))
    W_min = critical_point(Y, T, 2, 0.1)
    saddle_loss = dae_loss(W1, W2, Y, T, 0.1)
    assert run.losses[-1] < saddle_loss - 1e-3 * abs(saddle_loss)
    assert np.linalg.norm(run.W - W_min) <= 1e-5 * np.linalg.norm(W_min)


def test_gradient_flow_validates_input():
    Y = np.ones((3, 2))
    with pytest.raises(ValueError, match="T must have the shape of Y"):
        gradient_flow(Y, np.ones((2, 2)), 1)
    with pytest.raises(ValueError, match="reg must be >= 0"):
        gradient_flow(Y, Y, 1, reg=-1.0)


@pytest.mark.parametrize("kwargs, words", [
    (dict(k=0), "k must be an integer in [1, d=3]"),
    (dict(k=4), "k must be an integer in [1, d=3]"),
    (dict(k=1, reg=float("inf")), "reg must be >= 0 and finite"),
    (dict(k=1, t_max=0.0), "t_max must be a finite number > 0"),
    (dict(k=1, gtol=-1.0), "gtol must be a finite number > 0"),
    (dict(k=1, n_records=0), "n_records must be an integer >= 1"),
])
def test_gradient_flow_rejects_bad_arguments(kwargs, words):
    Y = np.arange(6.0).reshape(3, 2)
    with pytest.raises(ValueError) as err:
        gradient_flow(Y, Y, **kwargs)
    assert words in str(err.value)


def test_gradient_flow_status(small_draw):
    Y, T = setup(small_draw, 6, 11, False, 0.2)
    ok = gradient_flow(Y, T, 2, 0.2)
    assert ok.converged and ok.status.name == "SUCCESS" and ok.message == ""
    short = gradient_flow(Y, T, 2, 0.2, t_max=1e-2, n_records=5)
    assert not short.converged and short.status.name == "MAX_ITERATIONS"
    assert "t_max" in short.message
    with np.errstate(all="ignore"):
        blown = gradient_flow(Y, T, 2, 0.2, init_scale=1e120, t_max=1.0, n_records=5)
    assert not blown.converged and blown.status.name == "NON_FINITE"
