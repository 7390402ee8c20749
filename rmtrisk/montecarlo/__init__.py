"""The Monte Carlo verifier: sample the model, train its closed-form minimizers, measure the risk.

Beside the theory, independent of it: :mod:`.sampling` draws training sets
``Y = U diag(sv) V^T + A``, :mod:`.training` computes the critical points of the DAE loss in
closed form and their exact test-risk statistics, :mod:`.dynamics` integrates the gradient flow
of the loss, and :mod:`.estimate` averages independent replicates into risk estimates with
standard errors and confidence intervals (in parallel processes, BLAS threads pinned).
"""

from __future__ import annotations

from .dynamics import GradientFlowResult, gradient_flow
from .estimate import (
    MonteCarloResult,
    monte_carlo_risk,
    monte_carlo_risks,
    replicate_risk,
    replicate_risks,
    split_risk,
    training_side,
)
from .sampling import TrainingSample, gaussian_noise, haar_frame, training_sample
from .training import (
    RiskStatistics,
    critical_point,
    dae_gradient,
    dae_loss,
    factorize,
    risk_statistics,
    statistics_from_weight,
)

__all__ = [
    "GradientFlowResult",
    "MonteCarloResult",
    "RiskStatistics",
    "TrainingSample",
    "critical_point",
    "dae_gradient",
    "dae_loss",
    "factorize",
    "gaussian_noise",
    "gradient_flow",
    "haar_frame",
    "monte_carlo_risk",
    "monte_carlo_risks",
    "replicate_risk",
    "replicate_risks",
    "risk_statistics",
    "split_risk",
    "statistics_from_weight",
    "training_sample",
    "training_side",
]
