"""rmtrisk: exact high-dimensional test risk of linear denoising autoencoders.

Describe a problem with :class:`Problem`, get its risk with :func:`asymptotic_risk` and check
it with :func:`monte_carlo_risk`; the compiled grid solvers (``*_grid``) evaluate whole grids
of one regime at once. The pipeline: :mod:`rmtrisk.symbolic` (sympy derivations) generates
:mod:`rmtrisk._kernels`, which :mod:`rmtrisk.engine` runs over grids (numba, with mpmath
references); :mod:`rmtrisk.theory` maps a problem to its regime (:mod:`rmtrisk.regimes`) and
risk; :mod:`rmtrisk.montecarlo` verifies it by simulation; :mod:`rmtrisk.report` and
:mod:`rmtrisk.cli` are the outputs.

The names below are loaded on first use (PEP 562), so ``import rmtrisk`` does not compile or
import the numerical stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> the module that defines it
_EXPORTS = {
    "Problem": "rmtrisk.problem",
    "SolverError": "rmtrisk.status",
    "Status": "rmtrisk.status",
    "Regime": "rmtrisk.regimes",
    "classify": "rmtrisk.regimes",
    "RiskGrid": "rmtrisk.theory",
    "RiskResult": "rmtrisk.theory",
    "risk_grid": "rmtrisk.theory",
    "asymptotic_risk": "rmtrisk.theory",
    "optimal_bottleneck": "rmtrisk.theory",
    "optimal_regularization": "rmtrisk.theory",
    "optimal_training_noise": "rmtrisk.theory",
    "optimal_training_snr": "rmtrisk.theory",
    "GradientFlowResult": "rmtrisk.montecarlo",
    "MonteCarloResult": "rmtrisk.montecarlo",
    "RiskStatistics": "rmtrisk.montecarlo",
    "critical_point": "rmtrisk.montecarlo",
    "gradient_flow": "rmtrisk.montecarlo",
    "monte_carlo_risk": "rmtrisk.montecarlo",
    "risk_statistics": "rmtrisk.montecarlo",
    "RidgeGridResult": "rmtrisk.engine",
    "SkipGridResult": "rmtrisk.engine",
    "SkipRidgeGridResult": "rmtrisk.engine",
    "SkipUnderGridResult": "rmtrisk.engine",
    "ridge_grid": "rmtrisk.engine",
    "skip_grid": "rmtrisk.engine",
    "skip_ridge_grid": "rmtrisk.engine",
    "skip_under_grid": "rmtrisk.engine",
    "ReluAutoencoder": "rmtrisk.dynamics",
    "ReluTrainingResult": "rmtrisk.dynamics",
    "train_relu_autoencoder": "rmtrisk.dynamics",
    "DataSpectrum": "rmtrisk.data_spectrum",
    "data_spectrum": "rmtrisk.data_spectrum",
    "load_matrix": "rmtrisk.report.data",
    "real_data_monte_carlo": "rmtrisk.montecarlo.real_data",
    "risk_over_time": "rmtrisk.dynamics",
    "early_stopping": "rmtrisk.dynamics",
    "risk_over_time_mc": "rmtrisk.dynamics",
    "mode_value": "rmtrisk.dynamics",
    "hyperbolic_mode_value": "rmtrisk.dynamics",
    "mode_fixed_point": "rmtrisk.dynamics",
    "published_mode_value": "rmtrisk.dynamics",
    "paper_to_rmtrisk": "rmtrisk.dynamics",
    "noise_averaged_flow": "rmtrisk.dynamics",
    "equivalent_weight_decay": "rmtrisk.dynamics",
    "decay_time_rescaling": "rmtrisk.dynamics",
    "SweepStore": "rmtrisk.sweep",
    "CellRecord": "rmtrisk.sweep",
}

__all__ = [
    "CellRecord",
    "DataSpectrum",
    "GradientFlowResult",
    "MonteCarloResult",
    "Problem",
    "Regime",
    "ReluAutoencoder",
    "ReluTrainingResult",
    "RidgeGridResult",
    "RiskGrid",
    "RiskResult",
    "RiskStatistics",
    "SkipGridResult",
    "SkipRidgeGridResult",
    "SkipUnderGridResult",
    "SolverError",
    "Status",
    "SweepStore",
    "asymptotic_risk",
    "classify",
    "critical_point",
    "data_spectrum",
    "decay_time_rescaling",
    "early_stopping",
    "equivalent_weight_decay",
    "gradient_flow",
    "hyperbolic_mode_value",
    "load_matrix",
    "mode_fixed_point",
    "mode_value",
    "monte_carlo_risk",
    "noise_averaged_flow",
    "optimal_bottleneck",
    "optimal_regularization",
    "optimal_training_noise",
    "optimal_training_snr",
    "paper_to_rmtrisk",
    "published_mode_value",
    "real_data_monte_carlo",
    "ridge_grid",
    "risk_grid",
    "risk_over_time",
    "risk_over_time_mc",
    "risk_statistics",
    "skip_grid",
    "skip_ridge_grid",
    "skip_under_grid",
    "train_relu_autoencoder",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rmtrisk' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # static analysers see the eager imports
    from .data_spectrum import (
        DataSpectrum,
        data_spectrum,
    )
    from .dynamics import (
        ReluAutoencoder,
        ReluTrainingResult,
        decay_time_rescaling,
        early_stopping,
        equivalent_weight_decay,
        hyperbolic_mode_value,
        mode_fixed_point,
        mode_value,
        noise_averaged_flow,
        paper_to_rmtrisk,
        published_mode_value,
        risk_over_time,
        risk_over_time_mc,
        train_relu_autoencoder,
    )
    from .engine import (
        RidgeGridResult,
        SkipGridResult,
        SkipRidgeGridResult,
        SkipUnderGridResult,
        ridge_grid,
        skip_grid,
        skip_ridge_grid,
        skip_under_grid,
    )
    from .montecarlo import (
        GradientFlowResult,
        MonteCarloResult,
        RiskStatistics,
        critical_point,
        gradient_flow,
        monte_carlo_risk,
        risk_statistics,
    )
    from .montecarlo.real_data import (
        real_data_monte_carlo,
    )
    from .problem import Problem
    from .regimes import Regime, classify
    from .report.data import (
        load_matrix,
    )
    from .status import SolverError, Status
    from .sweep import (
        CellRecord,
        SweepStore,
    )
    from .theory import (
        RiskGrid,
        RiskResult,
        asymptotic_risk,
        optimal_bottleneck,
        optimal_regularization,
        optimal_training_noise,
        optimal_training_snr,
        risk_grid,
    )
