"""Theory: a :class:`~rmtrisk.problem.Problem` in, its high-dimensional test risk out.

:func:`asymptotic_risk` (:mod:`.risk`) classifies the problem into its regime
(:mod:`rmtrisk.regimes`), calls the regime's evaluator, and applies the status policy: a
:class:`RiskResult` carries a :class:`~rmtrisk.status.Status`, the engine's error estimate and
which terms the value contains. One module per regime (:mod:`.one_layer`, :mod:`.bottleneck`
and :mod:`.ridge` share the evaluator :mod:`.no_skip`; :mod:`.skip`, :mod:`.skip_under`,
:mod:`.skip_ridge`), the finite-``d`` corrections in :mod:`.corrections`, the published
formulas in :mod:`.paper`, the optima in :mod:`.optimal` and grids of problems in :mod:`.grid`.
"""

from __future__ import annotations

from .evaluation import TERMS_FINITE_SIZE, TERMS_INTERACTION, TERMS_LIMIT, Evaluation
from .grid import GRID_PARAMETERS, RiskGrid, risk_grid
from .no_skip import NEAR_TIE_RTOL, SMALL_REG, TIE_RTOL, cutoff_gap, tie_averaged
from .one_layer import direction_factors
from .optimal import (
    OptimalBottleneck,
    OptimalNoise,
    OptimalRegularization,
    optimal_bottleneck,
    optimal_regularization,
    optimal_training_noise,
    optimal_training_snr,
)
from .risk import VARIANTS, RiskResult, asymptotic_risk

__all__ = [
    "GRID_PARAMETERS",
    "NEAR_TIE_RTOL",
    "SMALL_REG",
    "TERMS_FINITE_SIZE",
    "TERMS_INTERACTION",
    "TERMS_LIMIT",
    "TIE_RTOL",
    "VARIANTS",
    "Evaluation",
    "OptimalBottleneck",
    "OptimalNoise",
    "OptimalRegularization",
    "RiskGrid",
    "RiskResult",
    "asymptotic_risk",
    "cutoff_gap",
    "direction_factors",
    "optimal_bottleneck",
    "optimal_regularization",
    "optimal_training_noise",
    "optimal_training_snr",
    "risk_grid",
    "tie_averaged",
]
