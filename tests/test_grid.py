"""risk_grid: broadcast grids of problems, cell by cell equal to asymptotic_risk."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from rmtrisk import Problem, RiskGrid, Status, asymptotic_risk, risk_grid

SV = [2.0, 1.4, 1.0, 0.7]
C = np.array([0.5, 1.0, 2.0])[:, None, None, None]
SKIP = np.array([False, True])[:, None, None]
K = np.array([2, 8])[:, None]
REG = np.array([0.0, 0.1])


@pytest.mark.parametrize("options", [{}, {"limit": True}, {"finite_size": True}])
def test_every_cell_equals_asymptotic_risk(options):
    """Every regime (one-layer, bottleneck, ridge, skip, skip-under, skip-ridge, c = 1)."""
    grid = risk_grid(d=200, sv=SV, c=C, k=K, skip=SKIP,
                     reg=REG, eta2_test=0.7, **options)
    assert grid.shape == (3, 2, 2, 2)
    regimes = set()
    for idx in np.ndindex(grid.shape):
        p = Problem(d=200, sv=SV, c=float(C.ravel()[idx[0]]), k=int([2, 8][idx[2]]),
                    skip=bool(SKIP.ravel()[idx[1]]), reg=float(REG[idx[3]]), eta2_test=0.7)
        res = asymptotic_risk(p, throw=False, **options)
        for name in ("risk", "bias", "variance", "error"):
            got, want = getattr(grid, name)[idx], getattr(res, name)
            assert got == want or (math.isnan(got) and math.isnan(want)), (idx, name)
        assert grid.status[idx] == int(res.status)
        assert grid.regime[idx] == res.regime and grid.terms[idx] == res.terms
        assert grid.message[idx] == res.message
        regimes.add(str(res.regime))
    assert regimes == {"one-layer", "bottleneck", "ridge", "skip", "skip-under", "skip-ridge",
                       "interpolation-threshold"}


def test_parameters_are_broadcast_and_derived():
    grid = risk_grid(d=100, energy=[0.2, 0.1], c=[0.5, 2.0], kappa=0.1, skip=True)
    assert grid.shape == (2,)
    assert list(grid.parameters) == ["c", "n", "k", "kappa", "reg", "eta2_train", "eta2_test",
                                     "skip"]
    assert grid.parameters["n"].tolist() == [200, 50]
    assert grid.parameters["k"].tolist() == [10, 10]
    assert grid.fixed["energy"] == [0.2, 0.1] and grid.fixed["d"] == 100
    rows = grid.rows()
    assert len(rows) == 2 and rows[1]["c"] == 2.0 and rows[1]["status"] == "SUCCESS"
    assert rows[0]["risk"] == grid.risk[0]
    with pytest.raises(ValueError):
        grid.risk[0] = 1.0  # read-only


def test_strict_json_round_trip():
    grid = risk_grid(d=100, sv=SV, c=[0.5, 1.0, 2.0], k=2)
    text = json.dumps(grid.to_dict(), allow_nan=False)  # strict: no NaN/Infinity tokens
    back = RiskGrid.from_dict(json.loads(text))
    assert grid.status[1] == int(Status.AT_INTERPOLATION_THRESHOLD)
    assert math.isinf(grid.risk[1]) and math.isnan(back.risk[1])  # non-finite -> null
    finite = np.isfinite(grid.risk)
    assert np.array_equal(back.risk[finite], grid.risk[finite])
    assert np.array_equal(back.status, grid.status)
    assert np.array_equal(back.parameters["n"], grid.parameters["n"])
    assert back.regime.tolist() == grid.regime.tolist() and back.fixed == grid.fixed
    with pytest.raises(ValueError, match="missing"):
        RiskGrid.from_dict({"shape": [1]})
    with pytest.raises(TypeError):
        RiskGrid.from_dict([1, 2])


def test_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="exactly one of c and n"):
        risk_grid(d=100, sv=SV, k=1)
    with pytest.raises(ValueError, match="exactly one of k and kappa"):
        risk_grid(d=100, sv=SV, c=2.0, k=1, kappa=0.1)
    with pytest.raises(ValueError, match="c must not be empty"):
        risk_grid(d=100, sv=SV, c=[], k=1)
    with pytest.raises(ValueError, match="do not broadcast"):
        risk_grid(d=100, sv=SV, c=[1.5, 2.0], k=[1, 2, 3])
    with pytest.raises(ValueError, match=r"grid cell \(1,\).*c must be > 0"):
        risk_grid(d=100, sv=SV, c=[2.0, -1.0], k=1)
    with pytest.raises(ValueError, match="reg must be numeric"):
        risk_grid(d=100, sv=SV, c=2.0, k=1, reg=["a"])
    with pytest.raises(ValueError, match="variant"):
        risk_grid(d=100, sv=SV, c=2.0, k=1, variant="nope")


def test_to_frame_or_a_clear_error():
    grid = risk_grid(d=100, sv=SV, c=[1.5, 2.0], k=1)
    try:
        frame = grid.to_frame()
    except ImportError as exc:
        assert "pip install" in str(exc)
    else:
        assert frame.shape[0] == 2 and list(frame["risk"]) == list(grid.risk)
