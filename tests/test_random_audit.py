"""Fast checks of the random-audit generator and its JSON-lines store (no Monte Carlo)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from rmtrisk import Problem

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "random_audit.py"
_spec = importlib.util.spec_from_file_location("random_audit", _PATH)
audit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(audit)


def test_cells_reproducible_and_independent_of_count():
    a = [audit.draw_cell(7, i) for i in range(30)]
    b = [audit.draw_cell(7, i) for i in range(30)]
    assert a == b
    assert audit.draw_cell(7, 29) == a[29]  # drawing one cell alone gives the same cell
    assert audit.draw_cell(8, 3) != a[3]
    assert len({json.dumps(c, sort_keys=True) for c in a}) == 30


def test_cells_cover_regimes_and_respect_ranges():
    cells = [audit.draw_cell(2026, i) for i in range(400)]
    skips = sum(c["skip"] for c in cells)
    assert 150 < skips < 250
    for cell in cells:
        assert 0.2 <= cell["c"] <= 5.0 and abs(cell["c"] - 1.0) >= 0.1
        assert 0.1 <= cell["eta2_train"] <= 3.0 and 0.1 <= cell["eta2_test"] <= 3.0
        assert cell["reg"] == 0.0 or 1e-4 <= cell["reg"] <= 3.0
        spec = cell.get("sv", cell.get("energy"))
        assert 1 <= len(spec) <= 16
        if "kappa" in cell:
            assert cell["skip"] and 0.05 <= cell["kappa"] <= 0.5
        else:
            assert 1 <= cell["k"] <= len(spec) + 2
        if "critical_set" in cell:
            assert not cell["skip"] and cell["reg"] == 0.0
            assert cell["critical_set"] != list(range(1, len(cell["critical_set"]) + 1))
        p = audit.make_problem(cell, 1000)
        assert Problem.from_dict(p.to_dict()) == p
    tags = [c["tags"] for c in cells]
    for key in ("near_tie", "strong", "non_top"):
        assert any(t[key] for t in tags)
    assert {t["shape"] for t in tags} == {"flat", "geometric", "spiked"}
    assert {t["scaling"] for t in tags} == {"sv", "energy"}
    assert any("kappa" in c for c in cells) and any(c["reg"] == 0.0 for c in cells)


def test_invalid_seed_rejected():
    with pytest.raises(ValueError, match="root"):
        audit.draw_cell(-1, 0)


def test_store_resume_and_torn_line(tmp_path):
    path = tmp_path / "rows.jsonl"
    store = audit.JsonlStore(path)
    for i in range(3):
        store.append({"cell": i, "d": 100, "reps": 10, "seed": 0, "mc_risk": 0.1 * i})
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"cell": 3, "d": 100, "re')  # torn write
    again = audit.JsonlStore(path)
    assert len(again.rows) == 3
    assert (2, 100, 10, 0) in again and (3, 100, 10, 0) not in again
    assert (2, 100, 20, 0) not in again  # different reps is a different key
    assert path.read_text(encoding="utf-8").endswith("\n")
    again.append({"cell": 3, "d": 100, "reps": 10, "seed": 0, "mc_risk": 0.3})
    final = audit.JsonlStore(path)
    assert [r["cell"] for r in final.rows] == [0, 1, 2, 3]
