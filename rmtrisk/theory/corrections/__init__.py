"""Finite-``d`` corrections to the limits: the interaction of signal directions (no skip
connection, :mod:`.interaction`; skip connection, ``c > 1``, :mod:`.skip_interaction`) and the
fluctuations of the signal quadratic forms (skip connection, ``c < 1``,
:mod:`.skip_fluctuation`)."""

from __future__ import annotations

from .interaction import interaction_correction, ridge_interaction_risk
from .skip_fluctuation import skip_fluctuation_correction
from .skip_interaction import skip_interaction_correction, with_skip_interaction

__all__ = ["interaction_correction", "ridge_interaction_risk", "skip_fluctuation_correction",
           "skip_interaction_correction", "with_skip_interaction"]
