"""rmtrisk: exact high-dimensional test risk of linear denoising autoencoders.

The public API, re-exported explicitly: describe a problem with :class:`Problem`, get its
closed-form limit with :func:`asymptotic_risk` and check it with :func:`monte_carlo_risk`.
"""

from .dynamics import GradientFlowResult, gradient_flow
from .montecarlo import MonteCarloResult, monte_carlo_risk
from .problem import Problem
from .status import SolverError, Status
from .theory import RiskResult, asymptotic_risk, optimal_regularization, optimal_training_snr
from .theory.optimal import optimal_bottleneck, optimal_training_noise
from .training import RiskStatistics, critical_point, risk_statistics

__all__ = [
    "GradientFlowResult",
    "MonteCarloResult",
    "Problem",
    "RiskResult",
    "RiskStatistics",
    "SolverError",
    "Status",
    "asymptotic_risk",
    "critical_point",
    "gradient_flow",
    "monte_carlo_risk",
    "optimal_bottleneck",
    "optimal_regularization",
    "optimal_training_noise",
    "optimal_training_snr",
    "risk_statistics",
]
__version__ = "0.1.0"
