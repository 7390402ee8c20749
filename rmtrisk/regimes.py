"""The regimes: which closed form applies to a problem, and the registry of their evaluators.

A regime is one closed form of the risk. It has one name, used in every layer: the symbolic
module ``rmtrisk/symbolic/<name>.py`` that derives its equations, the engine module
``rmtrisk/engine/<name>.py`` that evaluates them over grids, the theory module
``rmtrisk/theory/<name>.py`` that maps a :class:`~rmtrisk.problem.Problem` to its risk, and
the label :attr:`RiskResult.regime <rmtrisk.theory.RiskResult>`.

========================  ================================================================
regime                    problem
========================  ================================================================
``one-layer``             no skip, ``reg = 0``, the bottleneck keeps every signal direction
``bottleneck``            no skip, ``reg = 0``, the bottleneck drops signal directions
``ridge``                 no skip, ``reg > 0`` (any bottleneck, both sides of ``c = 1``)
``skip``                  skip connection, ``reg = 0``, ``c > 1``
``skip-under``            skip connection, ``reg = 0``, ``c < 1``
``skip-ridge``            skip connection, ``reg > 0`` (both sides of ``c = 1``)
``interpolation-threshold``  ``reg = 0``, ``c = 1``: the minimum-norm risk diverges
========================  ================================================================

Adding a regime is a symbolic module, an engine module, a theory module with an
``evaluate(problem, finite_size, limit)`` function, tests, and one line in :data:`EVALUATORS`
(plus its condition in :func:`classify`); docs/architecture.md walks through it.
"""

from __future__ import annotations

import enum
import functools
import importlib
from collections.abc import Callable
from typing import Any

from .problem import Problem

__all__ = ["EVALUATORS", "Regime", "classify", "evaluator"]


class Regime(enum.StrEnum):
    """The closed forms of the risk (the value is the label used everywhere)."""

    ONE_LAYER = "one-layer"
    BOTTLENECK = "bottleneck"
    RIDGE = "ridge"
    SKIP = "skip"
    SKIP_UNDER = "skip-under"
    SKIP_RIDGE = "skip-ridge"
    INTERPOLATION_THRESHOLD = "interpolation-threshold"


def classify(problem: Problem) -> Regime:
    """The regime whose closed form applies to ``problem``."""
    if problem.reg > 0:
        return Regime.SKIP_RIDGE if problem.skip else Regime.RIDGE
    if problem.c == 1:
        return Regime.INTERPOLATION_THRESHOLD
    if not problem.skip:
        return Regime.ONE_LAYER if len(problem.kept) >= problem.r else Regime.BOTTLENECK
    return Regime.SKIP if problem.c > 1 else Regime.SKIP_UNDER


#: Regime -> its evaluator ``"module:function"``, ``function(problem, finite_size, limit)``
#: returning a :class:`rmtrisk.theory.evaluation.Evaluation`. The three regimes without skip
#: connection share one evaluator: the same corrections (interaction of signal directions,
#: ties at the cutoff) apply to all three. Imported on first use, so that ``import rmtrisk``
#: does not compile or load the engine.
EVALUATORS: dict[Regime, str] = {
    Regime.ONE_LAYER: "rmtrisk.theory.no_skip:evaluate",
    Regime.BOTTLENECK: "rmtrisk.theory.no_skip:evaluate",
    Regime.RIDGE: "rmtrisk.theory.no_skip:evaluate",
    Regime.SKIP: "rmtrisk.theory.skip:evaluate",
    Regime.SKIP_UNDER: "rmtrisk.theory.skip_under:evaluate",
    Regime.SKIP_RIDGE: "rmtrisk.theory.skip_ridge:evaluate",
}


@functools.cache
def evaluator(regime: Regime) -> Callable[..., Any]:
    """The evaluator registered for ``regime`` (``KeyError`` if it has none)."""
    module, _, name = EVALUATORS[Regime(regime)].partition(":")
    return getattr(importlib.import_module(module), name)
