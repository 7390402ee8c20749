"""Outlier emergence: the BBP threshold and location of a signal singular value of Y (Monte
Carlo within 4 SE), and the outlier map's counts."""

from __future__ import annotations

import numpy as np
import pytest

from rmtrisk.engine import skip_ridge_grid
from rmtrisk.theory.outliers import outlier_map, signal_outlier_count, signal_outlier_value


@pytest.mark.parametrize("d, n, t", [(400, 200, 3.0), (300, 600, 2.0), (400, 200, 0.4)])
def test_top_singular_value_of_y_is_the_predicted_outlier(d, n, t):
    rng = np.random.default_rng(d + n)
    eta2, c = 0.3, d / n
    tops = []
    for _ in range(12):
        u = rng.standard_normal(d)
        v = rng.standard_normal(n)
        Y = np.sqrt(t * eta2) * np.outer(u / np.linalg.norm(u), v / np.linalg.norm(v))
        Y += rng.standard_normal((d, n)) * np.sqrt(eta2 / d)
        tops.append(np.linalg.svd(Y, compute_uv=False)[0])
    mean, se = np.mean(tops), np.std(tops, ddof=1) / np.sqrt(len(tops))
    want = signal_outlier_value(c, t, eta2)
    if t * np.sqrt(c) > 1:
        assert abs(mean - want) < 4 * se + 2e-3, (mean, se, want)
    else:  # below the threshold the top singular value sticks to the edge (d^-2/3 scale)
        assert abs(mean - want) < 0.03 * want, (mean, want)


def test_counts():
    assert signal_outlier_count(np.array([4.0]), np.array([[0.6, 0.4, 0.55]]))[0] == 2
    assert signal_outlier_count(np.array([0.25]), np.array([[2.5, 1.9]]))[0] == 1
    c, reg = np.array([0.5, 2.0]), np.array([0.01, 1.0])
    sv = [3.0, 1.0, 0.2]
    m = outlier_map(c, reg, d=300, kappa=0.01, eta2_train=0.5, eta2_test=0.5, sv=sv)
    for i, ci in enumerate(c):
        res = skip_ridge_grid(ci, 0.01, reg, 0.5, 0.5, sv, np.square(sv) / round(300 / ci), 300)
        assert np.array_equal(m["kept_skip"][:, i], np.where(res.success, res.outliers, -1))
    t = np.square(sv) / 0.5
    assert list(m["signal_no_skip"]) == [int(np.sum(t > 1 / np.sqrt(ci))) for ci in c]
    with pytest.raises(ValueError, match="sv or energy"):
        outlier_map(c, reg, d=300, kappa=0.01, eta2_train=0.5, eta2_test=0.5)
