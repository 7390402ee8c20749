"""The sampled expectation over the fluctuations of the quadratic forms: the draws are the
fluctuation model's (entry by entry), and memory does not grow like r^4."""

from __future__ import annotations

import tracemalloc

import numpy as np

from rmtrisk import Problem
from rmtrisk.theory.corrections.interaction import fluctuation_weights
from rmtrisk.theory.corrections.sampled import TRUNCATE_AT, sampled_expectation


def _weights(r: int) -> np.ndarray:
    sv = np.linspace(2.0, 1.0, r)
    return fluctuation_weights(Problem(d=200, n=400, sv=sv.tolist(), k=1))


def test_draws_have_the_model_covariance():
    """Entry (i, j) of (Delta, Delta_N) has the block's 2 x 2 covariance, doubled on the
    diagonal, and distinct entries are uncorrelated (c < 1: the N forms fluctuate too)."""
    r, w = 2, _weights(2)
    size = 2 * r
    draws = []

    def stats(m, n2):
        draws.append(np.concatenate([(m - m0).reshape(len(m), -1),
                                     (n2 - n0).reshape(len(m), -1)], axis=1))
        return np.zeros((len(m), 1))

    m0, n0 = np.eye(size), np.eye(size)
    sampled_expectation(stats, m0, n0, w, pairs=4096, seed=3)
    x = np.concatenate(draws[::2])  # the + half of each antithetic pair
    cov = np.cov(x, rowvar=False)
    reps = x.shape[0]
    for i in range(size):
        for j in range(i, size):
            block = 0 if j < r else (1 if i < r else 2)
            want = (2.0 if i == j else 1.0) * w[block]
            a, b = i * size + j, size * size + i * size + j
            got = cov[np.ix_([a, b], [a, b])]
            # standard error of a sample covariance of Gaussians: sqrt((s_aa s_bb + s_ab^2)/n)
            se = np.sqrt((np.outer(np.diag(want), np.diag(want)) + want**2) / reps)
            assert np.all(np.abs(got - want) <= 5 * se + 1e-300), (i, j, got, want)
            if (i, j) != (0, 1):
                other = 0 * size + 1
                assert abs(cov[a, other]) <= 5 * np.sqrt(want[0, 0] * w[0][0, 0] / reps)
    # symmetric draws, bounded by the truncation
    m = x[:, : size * size].reshape(-1, size, size)
    assert np.array_equal(m, np.swapaxes(m, 1, 2))
    assert np.all(np.abs(m[:, 0, 1]) <= TRUNCATE_AT * np.sqrt(w[0][0, 0]) * 1.01)


def test_memory_grows_like_the_matrices_not_their_square():
    """r = 100 directions (2r = 200): the old dense map from normals to matrices needed
    40,200 x 40,000 floats (13 GB); the gathered draws need a few batches of (2r)^2."""
    r = 100
    w = _weights(r)
    m0 = np.eye(2 * r)
    tracemalloc.start()
    mean, err = sampled_expectation(lambda m, n2: np.trace(m, axis1=1, axis2=2)[:, None],
                                    m0, m0, w, pairs=64)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 400e6, peak
    # the antithetic pairs cancel the linear map exactly
    assert abs(mean[0] - 2 * r) < 1e-9 and err[0] < 1e-9
