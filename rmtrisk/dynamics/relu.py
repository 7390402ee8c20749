"""Two-layer ReLU autoencoders trained by gradient descent (arXiv:1911.11983): one import place.

Re-exports :mod:`rmtrisk.dynamics.relu_gram` (the limiting Gram matrices and the predicted
linear rate), :mod:`rmtrisk.dynamics.relu_training` (network, kernels, trainer) and
:mod:`rmtrisk.dynamics.relu_experiments` (the convergence experiments as tables).
docs/relu_autoencoders.md has the derivations and the measurements.
"""

from __future__ import annotations

from .relu_experiments import (
    THRESHOLD_WIDTHS,
    linearized_losses,
    rate_experiment,
    threshold_experiment,
    tied_experiment,
)
from .relu_gram import (
    REGIMES,
    angles,
    decoder_gram,
    encoder_gram,
    kron_identity,
    limiting_gram,
    predicted_loss_factor,
)
from .relu_training import (
    STATUSES,
    ReluAutoencoder,
    ReluTrainingResult,
    empirical_ntk,
    fit_loss_factor,
    init_autoencoder,
    jacobian,
    ntk_lambda_max,
    ntk_neuron_stderr,
    train_relu_autoencoder,
    unit_inputs,
)

__all__ = [
    "REGIMES",
    "STATUSES",
    "THRESHOLD_WIDTHS",
    "ReluAutoencoder",
    "ReluTrainingResult",
    "angles",
    "decoder_gram",
    "empirical_ntk",
    "encoder_gram",
    "fit_loss_factor",
    "init_autoencoder",
    "jacobian",
    "kron_identity",
    "limiting_gram",
    "linearized_losses",
    "ntk_lambda_max",
    "ntk_neuron_stderr",
    "predicted_loss_factor",
    "rate_experiment",
    "threshold_experiment",
    "tied_experiment",
    "train_relu_autoencoder",
    "unit_inputs",
]
