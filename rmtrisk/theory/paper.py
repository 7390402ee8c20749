"""The published risk formulas of Ham, Fleissner & Ghoshdastidar (2025), term for term.

Transcribed from arXiv:2505.24668 as the authors' code evaluates them, for comparison only;
they hold for c > 1 and lambda = 0. Known differences from derivation and Monte Carlo are
documented in docs/paper.md.
"""

from __future__ import annotations

import numpy as np

from ..problem import Problem
from .bottleneck import kept_mask

__all__ = ["paper_bottleneck_risk", "paper_skip_risk"]


def paper_bottleneck_risk(problem: Problem) -> tuple[float, float]:
    """``(bias, variance)``: ``(1/N_t) tr(J L L^T)`` and ``(eta_tst^2/d) c/(c-1) sum_I ...``."""
    s2, e2 = problem.sv_array**2, problem.eta2_train
    kept = kept_mask(problem)
    j = np.where(kept, e2 / (s2 + e2), 1.0)
    c = problem.c
    bias = float(np.dot(j, problem.test_energy_array))
    variance = problem.eta2_test / problem.d * c / (c - 1) * float(np.sum((s2 / (s2 + e2))[kept]))
    return bias, variance


def paper_skip_risk(problem: Problem) -> tuple[float, float]:
    """``(Bias, Var)`` of the published skip-connection formula, with ``k -> min(k, r + 1)``."""
    s2, e2, et = problem.sv_array**2, problem.eta2_train, problem.eta2_test
    d, c = problem.d, problem.c
    k = min(problem.k, problem.r + 1)
    frac = s2 / (s2 + e2)
    mixed = s2 * e2 / (s2 + e2)
    variance = et * k / d * (1 + c / (c - 1) * frac.sum() / d + mixed.sum() / d)
    j_sc = (c + (c - 1) * s2) / (c * (1 + e2 * s2) ** 2)
    bias = (et * (1 - 2 * k / d) + k / d * float(np.dot(j_sc, problem.test_energy_array))
            + 2 * et * k / d**2 * mixed.sum())
    return float(bias), float(variance)
