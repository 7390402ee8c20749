"""The verification grid's skip + ridge cells and Monte Carlo draws shared across test energies."""

import math

import numpy as np
import pytest

from rmtrisk import Problem
from rmtrisk.montecarlo import monte_carlo_risk, monte_carlo_risks, training_side
from rmtrisk.verification.grid import (
    REG_C_GRID,
    REG_GRID,
    verification_grid,
    verify_cell,
    verify_cells,
)


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def test_grid_lists_skip_ridge_cells_for_every_c_kappa_reg_and_test():
    cells = [c for c in verification_grid(250) if " skip kappa=" in c.key and " reg=" in c.key]
    assert len(cells) == len(REG_C_GRID) * 2 * len(REG_GRID) * 2
    keys = {c.key for c in cells}
    for c in REG_C_GRID:
        for kappa in (0.1, 0.3):
            for reg in REG_GRID:
                for test in ("in-dist", "strong"):
                    assert f"d=250 c={c:g} skip kappa={kappa:g} reg={reg:g} spiked {test}" in keys
    for cell in cells:
        p = cell.problem
        assert p.skip and p.reg in REG_GRID and p.k == round(float(cell.key.split("kappa=")[1]
                                                                    .split()[0]) * 250)
        assert cell.group.startswith("skip-ridge kappa=")
        strong = cell.key.endswith("strong")
        assert np.allclose(p.test_energy, 1.0) == strong
    # the earlier cells are unchanged: the grid only grew
    assert sum(1 for _ in verification_grid(250)) == 154 + len(cells)


def test_grid_respects_c_values_for_the_new_cells():
    cells = list(verification_grid(100, c_values=(2.0,)))
    new = [c for c in cells if " skip kappa=" in c.key and " reg=" in c.key]
    assert len(new) == 2 * len(REG_GRID) * 2
    assert not [c for c in verification_grid(100, c_values=(4.0,)) if " reg=" in c.key]
    assert not [c for c in verification_grid(100, extended=False) if " reg=" in c.key]


def test_compare_handles_missing_theory(monkeypatch):
    import rmtrisk.verification.grid as verification
    from rmtrisk.status import Status
    from rmtrisk.theory import RiskResult

    p = Problem(d=40, n=80, sv=(2.0, 1.0), kappa=0.1, skip=True, reg=0.05)
    nan = float("nan")
    monkeypatch.setattr(verification, "asymptotic_risk", lambda *a, **kw: RiskResult(
        nan, nan, nan, Status.UNSUPPORTED, kw.get("variant", "default"), "unsupported"))
    out = verification.compare(p, 1.0, 0.1)
    assert out["ok"] is None and out["finite_ok"] is None and out["paper_ok"] is None
    assert math.isnan(out["theory"]) and math.isnan(out["rel_err"]) and math.isnan(out["z"])
    # the grid still lists cells without theory (their Monte Carlo is stored ahead of it)
    cells = [c for c in verification.verification_grid(40, c_values=(2.0,)) if " reg=" in c.key]
    assert any(c.problem.skip for c in cells)


def test_monte_carlo_risks_equal_separate_runs():
    base = Problem(d=30, n=50, sv=(2.0, 1.0), kappa=0.2, skip=True, reg=0.05)
    strong = base.replace(test_energy=[1.0, 1.0])
    quiet = base.replace(eta2_test=0.3)
    joint = monte_carlo_risks([base, strong, quiet], reps=6, seed=5)
    for p, res in zip([base, strong, quiet], joint, strict=True):
        alone = monte_carlo_risk(p, reps=6, seed=5)
        assert res.problem == p and res.reps == 6 and res.seed == 5
        np.testing.assert_array_equal(res.samples, alone.samples)
    # batches and workers do not change the draws
    batched = monte_carlo_risks([base, strong], reps=6, seed=5, batch_size=4)
    np.testing.assert_array_equal(batched[1].samples, joint[1].samples)


def test_monte_carlo_risks_rejects_different_training():
    a = Problem(d=30, n=50, sv=(2.0, 1.0), k=3, skip=True, reg=0.05)
    assert training_side(a) == training_side(a.replace(test_energy=[1.0, 0.0]))
    for b in (a.replace(reg=0.3), a.replace(k=4), a.replace(n=60), a.replace(eta2_train=0.5)):
        assert training_side(a) != training_side(b)
        with pytest.raises(ValueError, match="differ only in"):
            monte_carlo_risks([a, b], reps=2)
    with pytest.raises(ValueError):
        monte_carlo_risks([], reps=2)


def test_verify_cells_rows_equal_verify_cell_rows():
    cells = [c for c in verification_grid(40, c_values=(0.5,)) if "kappa=0.1 reg=0.3" in c.key
             or c.key.endswith("plain k=2 reg=1 spiked strong")]
    assert len(cells) == 3
    rows = verify_cells(cells, reps=4, seed=2)
    for cell, row in zip(cells, rows, strict=True):
        alone = verify_cell(cell, reps=4, seed=2)
        assert row["key"] == cell.key and row["reps"] == 4 and row["seed"] == 2
        assert row.keys() == alone.keys()
        assert all(_same(row[k], alone[k]) for k in row), cell.key
