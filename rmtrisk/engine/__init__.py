"""Compiled grid solvers and their high-precision references: arrays in, arrays out.

One module per regime, each with a numba grid function ``<regime>_grid`` (inputs broadcast
together, a status code and an error estimate per cell, ``throw=`` to raise afterwards) and an
mpmath reference ``<regime>_reference`` for one cell at ``dps`` digits, plus the
Marchenko–Pastur law they are built on:

========================  ==================  ==========================================
module                    regime              reference numerics
========================  ==================  ==========================================
:mod:`.marchenko_pastur`  (the noise law)     same loop body in mpmath
:mod:`.skip`              ``skip``            same cell body in mpmath
:mod:`.skip_under`        ``skip-under``      same kernels, mpmath loop
:mod:`.ridge`             ``ridge``           same kernels, mpmath loop
:mod:`.skip_ridge`        ``skip-ridge``      partial fractions + tanh-sinh (independent)
:mod:`.gradient_flow`     (risk over time)    tanh-sinh on the same integrands
========================  ==================  ==========================================

Units: every grid function takes ``(c, [kappa,] [reg,] eta2_train, eta2_test, sv,
test_energy, d)`` in the problem's own units (absolute ``reg``); the helpers that work in noise
units say so by name (``lam = reg / eta2_train``, ``t = sv**2 / eta2_train``).
"""

from __future__ import annotations

from .gradient_flow import (
    GradientFlowGridResult,
    GradientFlowReferenceResult,
    gradient_flow_direction,
    gradient_flow_grid,
    gradient_flow_reference,
)
from .marchenko_pastur import (
    StieltjesResult,
    ThresholdReferenceResult,
    ThresholdResult,
    density,
    stieltjes,
    stieltjes_reference,
    tail_mass,
    threshold,
    threshold_reference,
    truncated_moment,
    truncated_moment_reference,
)
from .ridge import (
    RidgeGridResult,
    RidgeReferenceResult,
    ridge_factors,
    ridge_grid,
    ridge_moments,
    ridge_reference,
)
from .skip import SkipGridResult, SkipReferenceResult, skip_grid, skip_reference
from .skip_ridge import (
    SkipRidgeGridResult,
    SkipRidgeReferenceResult,
    skip_ridge_grid,
    skip_ridge_reference,
)
from .skip_under import (
    SkipUnderGridResult,
    SkipUnderReferenceResult,
    skip_under_grid,
    skip_under_kept_overlaps,
    skip_under_reference,
)

__all__ = [
    "GradientFlowGridResult",
    "GradientFlowReferenceResult",
    "RidgeGridResult",
    "RidgeReferenceResult",
    "SkipGridResult",
    "SkipReferenceResult",
    "SkipRidgeGridResult",
    "SkipRidgeReferenceResult",
    "SkipUnderGridResult",
    "SkipUnderReferenceResult",
    "StieltjesResult",
    "ThresholdReferenceResult",
    "ThresholdResult",
    "density",
    "gradient_flow_direction",
    "gradient_flow_grid",
    "gradient_flow_reference",
    "ridge_factors",
    "ridge_grid",
    "ridge_moments",
    "ridge_reference",
    "skip_grid",
    "skip_reference",
    "skip_ridge_grid",
    "skip_ridge_reference",
    "skip_under_grid",
    "skip_under_kept_overlaps",
    "skip_under_reference",
    "stieltjes",
    "stieltjes_reference",
    "tail_mass",
    "threshold",
    "threshold_reference",
    "truncated_moment",
    "truncated_moment_reference",
]
