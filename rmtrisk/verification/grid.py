"""Theory against Monte Carlo over a documented grid of problems.

The grid (:func:`verification_grid`) crosses

* aspect ratios ``c`` in {0.5, 0.8, 1.1, 1.25, 1.5, 2, 4};
* both architectures;
* bottleneck widths ``k = 2`` (below the rank) and ``k = 8`` (above it);
* two spectra: ``spiked`` (``sv = 2, 1.4, 1, 0.7``, ``eta_trn^2 = 1``: SNRs of order one) and
  ``per-sample`` (six geometrically decaying per-sample energies summing to 0.4096,
  ``eta^2 = 0.3``, the paper's normalisation: SNRs of order N);
* test signal ``in-dist`` (``l_i = sv_i^2 / N``) and, for the spiked spectrum, ``strong``
  (``l_i = 1``, where the signal terms dominate the risk).

Proportional skip-connection cells (the engine regime) cross ``kappa = k/d`` in
{0.05, 0.2, 0.4} with ``c`` in {1.25, 2, 4} and ``kappa`` in {0.1, 0.3} with ``c`` in
{0.25, 0.5, 0.8}; product-regularized cells cross ``reg`` in {0.01, 0.05, 0.3, 1} with ``c``
in {0.25, 0.5, 0.8, 1.2, 2}, without skip at ``k = 2`` and with skip at ``kappa`` in
{0.1, 0.3}. All use the spiked spectrum with in-distribution and strong test signal, and only
the ``c`` values asked for. Every regime has its closed form; a cell whose theory is not
SUCCESS is reported with its status and a nan theory rather than dropped.

:func:`verify_cells` evaluates cells whose problems differ only in the test side (the
in-distribution and strong cells of one problem) on the same Monte Carlo draws; each row is
identical to what :func:`verify_cell` gives with the same ``reps`` and ``seed``.

A cell passes when ``|MC - theory| <= max(3 stderr, 1 % |theory|)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import numpy as np

from ..montecarlo import MonteCarloResult, monte_carlo_risks, training_side
from ..problem import Problem
from ..regimes import classify
from ..status import Status
from ..theory import asymptotic_risk

__all__ = ["C_GRID", "VerificationCell", "compare", "result_row", "verification_grid",
           "verify_cell", "verify_cells"]

C_GRID = (0.5, 0.8, 1.1, 1.25, 1.5, 2.0, 4.0)
K_GRID = (2, 8)
KAPPA_GRID = {1.25: (0.05, 0.2, 0.4), 2.0: (0.05, 0.2, 0.4), 4.0: (0.05, 0.2, 0.4),
              0.25: (0.1, 0.3), 0.5: (0.1, 0.3), 0.8: (0.1, 0.3)}
REG_GRID = (0.01, 0.05, 0.3, 1.0)
REG_C_GRID = (0.25, 0.5, 0.8, 1.2, 2.0)
SKIP_REG_KAPPA_GRID = (0.1, 0.3)
_SPIKED = (2.0, 1.4, 1.0, 0.7)
_WEIGHTS = 0.6 ** np.arange(6)
_PER_SAMPLE = tuple(0.4096 * _WEIGHTS / _WEIGHTS.sum())


class VerificationCell(NamedTuple):
    """One grid cell: a readable key, its problem and the group it is summarised in."""

    key: str
    problem: Problem
    group: str


def _spiked_tests(d: int, n: int, **kw: Any) -> Iterator[tuple[str, Problem]]:
    for test in ("in-dist", "strong"):
        ell = [1.0] * len(_SPIKED) if test == "strong" else None
        yield test, Problem(d=d, n=n, sv=_SPIKED, test_energy=ell, eta2_train=1.0,
                            eta2_test=1.0, **kw)


def verification_grid(d: int = 2000, c_values: tuple[float, ...] | None = None,
                      k_values: tuple[int, ...] = K_GRID, *, extended: bool = True
                      ) -> Iterator[VerificationCell]:
    """The cells of the verification suite at dimension ``d`` (see the module docstring).

    ``c_values`` restricts every part of the grid to those aspect ratios; ``extended=False``
    leaves out the proportional and regularized cells.
    """
    for c in C_GRID if c_values is None else c_values:
        n = max(1, round(d / c))
        for skip in (False, True):
            for k in k_values:
                for spectrum in ("spiked", "per-sample"):
                    tests = ("in-dist", "strong") if spectrum == "spiked" else ("in-dist",)
                    for test in tests:
                        if spectrum == "spiked":
                            kw: dict[str, Any] = dict(sv=_SPIKED, eta2_train=1.0, eta2_test=1.0)
                        else:
                            kw = dict(energy=_PER_SAMPLE, eta2_train=0.3, eta2_test=0.3)
                        if test == "strong":
                            kw["test_energy"] = [1.0] * len(_SPIKED)
                        problem = Problem(d=d, n=n, k=k, skip=skip, **kw)
                        if asymptotic_risk(problem, throw=False).status is Status.UNSUPPORTED:
                            continue
                        arch = "skip" if skip else "plain"
                        key = f"d={d} c={c:g} {arch} k={k} {spectrum} {test}"
                        yield VerificationCell(key, problem, f"{classify(problem)} {spectrum}")
    if not extended:
        return
    extended_c = set(KAPPA_GRID) | set(REG_C_GRID) if c_values is None else set(c_values)
    for c in sorted(extended_c):
        n = max(1, round(d / c))
        for kappa in KAPPA_GRID.get(c, ()):
            for test, problem in _spiked_tests(d, n, kappa=kappa, skip=True):
                key = f"d={d} c={c:g} skip kappa={kappa:g} spiked {test}"
                yield VerificationCell(key, problem, f"{classify(problem)} kappa={kappa:g}")
        if c in REG_C_GRID:
            for reg in REG_GRID:
                for test, problem in _spiked_tests(d, n, k=2, reg=reg):
                    key = f"d={d} c={c:g} plain k=2 reg={reg:g} spiked {test}"
                    yield VerificationCell(key, problem, f"{classify(problem)} reg={reg:g}")
            for kappa in SKIP_REG_KAPPA_GRID:
                for reg in REG_GRID:
                    for test, problem in _spiked_tests(d, n, kappa=kappa, reg=reg, skip=True):
                        key = f"d={d} c={c:g} skip kappa={kappa:g} reg={reg:g} spiked {test}"
                        group = f"{classify(problem)} kappa={kappa:g} reg={reg:g}"
                        yield VerificationCell(key, problem, group)


def compare(problem: Problem, mc_risk: float, mc_stderr: float) -> dict[str, Any]:
    """Theory columns (default, finite-size, paper) of a cell against a Monte Carlo estimate."""
    theory = asymptotic_risk(problem, throw=False)
    finite = asymptotic_risk(problem, finite_size=True, throw=False)
    paper = asymptotic_risk(problem, variant="paper", throw=False)

    def passes(value: float) -> bool | None:
        if not np.isfinite(value):
            return None
        return bool(abs(mc_risk - value) <= max(3 * mc_stderr, 0.01 * abs(value)))

    return {
        "regime": classify(problem),
        "theory": theory.risk,
        "finite_size": finite.risk,
        "paper": paper.risk,
        "rel_err": (mc_risk - theory.risk) / theory.risk,
        "z": (mc_risk - theory.risk) / mc_stderr,
        "z_finite": (mc_risk - finite.risk) / mc_stderr,
        "z_paper": (mc_risk - paper.risk) / mc_stderr if np.isfinite(paper.risk) else None,
        "ok": passes(theory.risk),
        "finite_ok": passes(finite.risk),
        "paper_ok": passes(paper.risk),
        "theory_bias": theory.bias,
        "theory_variance": theory.variance,
    }


def result_row(cell: VerificationCell, mc: MonteCarloResult) -> dict[str, Any]:
    """The flat row of a cell (as :func:`verify_cell` returns it) from its Monte Carlo
    estimate: parameters, Monte Carlo columns and the theory columns of :func:`compare`."""
    p = cell.problem
    row: dict[str, Any] = {"key": cell.key, "group": cell.group, "d": p.d, "c": p.c, "k": p.k,
                           "skip": p.skip, "mc": mc.risk, "stderr": mc.stderr,
                           "mc_bias": mc.bias, "mc_variance": mc.variance, "reps": mc.reps,
                           "seed": mc.seed}
    row.update(compare(p, mc.risk, mc.stderr))
    return row


def verify_cell(cell: VerificationCell, reps: int, seed: int = 0, **mc_options: Any
                ) -> dict[str, Any]:
    """Theory (default, finite-size, paper) and Monte Carlo of one cell, as a flat row."""
    return verify_cells([cell], reps, seed, **mc_options)[0]


def verify_cells(cells: Iterable[VerificationCell], reps: int, seed: int = 0,
                 **mc_options: Any) -> list[dict[str, Any]]:
    """:func:`verify_cell` for several cells, sharing Monte Carlo draws where possible.

    Cells whose problems differ only in ``test_energy`` / ``eta2_test`` (e.g. the in-dist and
    strong cells of one problem) are evaluated on the same replicates; every row equals the
    :func:`verify_cell` row of its cell with the same ``reps`` and ``seed``. Rows come back in
    the order of ``cells``; ``mc_options`` go to :func:`~rmtrisk.montecarlo.monte_carlo_risks`.
    """
    cells = list(cells)
    batches: dict[tuple[Any, ...], list[int]] = {}
    for i, cell in enumerate(cells):
        batches.setdefault(training_side(cell.problem), []).append(i)
    rows: list[dict[str, Any] | None] = [None] * len(cells)
    for idx in batches.values():
        results = monte_carlo_risks([cells[i].problem for i in idx], reps=reps, seed=seed,
                                    **mc_options)
        for i, mc in zip(idx, results, strict=True):
            rows[i] = result_row(cells[i], mc)
    return rows  # type: ignore[return-value]
