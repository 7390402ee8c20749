"""Training dynamics: how linear denoising autoencoders and over-parameterized ReLU
autoencoders train, not only where they end.

Submodules: ``modes`` (the mode dynamics of two-layer linear DAEs, noise versus weight decay),
``risk_over_time`` (the high-dimensional test risk of a one-layer linear DAE trained by gradient
flow for time t), ``relu`` (gradient descent on two-layer ReLU autoencoders and the limiting Gram
matrices that govern its linear rate).
"""

from .relu import (
    ReluAutoencoder,
    ReluTrainingResult,
    decoder_gram,
    empirical_ntk,
    encoder_gram,
    fit_loss_factor,
    init_autoencoder,
    kron_identity,
    limiting_gram,
    predicted_loss_factor,
    rate_experiment,
    threshold_experiment,
    tied_experiment,
    train_relu_autoencoder,
    unit_inputs,
)
from .risk_over_time import (
    EarlyStopping,
    RiskOverTime,
    best_filter_risk,
    check_one_layer,
    early_stopping,
    risk_over_time,
)
from .risk_over_time_mc import (
    RiskOverTimeMC,
    filter_statistics,
    gradient_flow_statistics,
    gradient_flow_weight,
    risk_over_time_mc,
    spectral_filter_mc,
)

__all__ = [
    "EarlyStopping",
    "RiskOverTime",
    "RiskOverTimeMC",
    "best_filter_risk",
    "check_one_layer",
    "early_stopping",
    "filter_statistics",
    "gradient_flow_statistics",
    "gradient_flow_weight",
    "risk_over_time",
    "risk_over_time_mc",
    "spectral_filter_mc",
    "ReluAutoencoder",
    "ReluTrainingResult",
    "decoder_gram",
    "empirical_ntk",
    "encoder_gram",
    "fit_loss_factor",
    "init_autoencoder",
    "kron_identity",
    "limiting_gram",
    "predicted_loss_factor",
    "rate_experiment",
    "threshold_experiment",
    "tied_experiment",
    "train_relu_autoencoder",
    "unit_inputs",
]
