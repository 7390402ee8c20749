"""Shared fixtures."""

import numpy as np
import pytest

from rmtrisk.montecarlo.sampling import training_sample
from rmtrisk.problem import Problem


@pytest.fixture
def small_draw():
    """Factory: one small training draw (Y, U, V, X, A) of a problem."""

    def draw(problem: Problem, seed: int = 0):
        Y, U, V = training_sample(problem, np.random.default_rng(seed))
        X = (U * problem.sv_array) @ V.T
        return Y, U, V, X, Y - X

    return draw
