import json
import math
import subprocess
import sys

import pytest

from rmtrisk import Problem, asymptotic_risk
from rmtrisk.cli import main


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_help_explains_conventions(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert "c = d / N" in out and "eta2_train / d" in out
    for sub in ("mc", "risk", "demo", "verify"):
        with pytest.raises(SystemExit):
            main([sub, "--help"])
        assert "--" in capsys.readouterr().out


def test_mc_json_has_the_documented_keys(capsys):
    code, out, _ = run(["mc", "--d", "60", "--n", "30", "--sv", "1.2,0.8", "--test-energy",
                        "0.01,0.02", "--eta2-train", "0.3", "--eta2-test", "0.3", "--k", "1",
                        "--reps", "5", "--seed", "2", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    for key in ("risk", "bias", "variance", "stderr", "problem"):
        assert key in data
    assert data["problem"]["d"] == 60 and data["problem"]["test_energy"] == [0.01, 0.02]
    assert data["risk"] == pytest.approx(data["bias"] + data["variance"])


def test_risk_json_and_text(capsys):
    code, out, _ = run(["risk", "--c", "2", "--skip", "--json"], capsys)
    data = json.loads(out)
    assert code == 0 and data["status"] == "SUCCESS"
    for key in ("risk", "bias", "variance", "status", "problem"):
        assert key in data
    code, out, _ = run(["risk", "--c", "0.5", "--skip", "--reg", "0.1"], capsys)
    assert code == 0 and "skip-ridge" in out
    code, out, _ = run(["risk", "--c", "0.5", "--variant", "paper"], capsys)
    assert code == 1 and "UNSUPPORTED" in out
    code, out, _ = run(["risk", "--variant", "paper", "--format", "markdown"], capsys)
    assert code == 0 and "| risk" in out


def test_risk_limit_and_terms(capsys):
    argv = ["risk", "--d", "400", "--c", "2", "--sv", "2,1.4,1", "--k", "2", "--json"]
    _, out, _ = run(argv, capsys)
    default = json.loads(out)
    _, out, _ = run([*argv, "--limit"], capsys)
    limit = json.loads(out)
    assert default["terms"] == "limit + interaction O(r/d)" and limit["terms"] == "limit"
    p = Problem.from_dict(limit["problem"])
    assert limit["risk"] == asymptotic_risk(p, limit=True).risk
    assert default["risk"] == asymptotic_risk(p).risk
    with pytest.raises(SystemExit, match="exclude"):
        main([*argv, "--limit", "--finite-size"])


@pytest.mark.parametrize("argv, words", [
    (["risk", "--k", "0"], "k must be an integer in [1, d=400]"),
    (["risk", "--c", "-1"], "c must be > 0"),
    (["risk", "--eta2-train", "-0.1"], "eta2_train must be > 0"),
    (["mc", "--reps", "0"], "reps must be an integer >= 1"),
])
def test_bad_input_is_a_clear_error(capsys, argv, words):
    code, _, err = run(argv, capsys)
    assert code == 2 and words in err


def test_demo_and_verify_run_small(capsys, tmp_path):
    code, out, _ = run(["demo", "--d", "100", "--reps", "4"], capsys)
    assert code == 0 and "bottleneck" in out and "skip" in out
    store = tmp_path / "v.jsonl"
    argv = ["verify", "--d", "60", "--c-values", "2", "--reps", "3", "--out", str(store)]
    code, out, err = run(argv, capsys)
    assert code == 0 and "cells within" in err  # the summary is prose: stderr
    first = store.read_text()
    code, out2, _ = run(argv, capsys)  # resumes: nothing recomputed, nothing appended
    assert store.read_text() == first and out2 == out


def test_python_dash_m_entry_point():
    res = subprocess.run([sys.executable, "-m", "rmtrisk", "risk", "--json"],
                         capture_output=True, text=True, check=True)
    assert json.loads(res.stdout)["status"] == "SUCCESS"


def test_curve_table_and_figure(capsys, tmp_path):
    out_png = tmp_path / "curve.png"
    code, out, _ = run(["curve", "--d", "200", "--sv", "2,1", "--k-values", "1,2", "--points",
                        "7", "--mc-c", "2", "--reps", "3", "--table", "--format", "csv",
                        "--out", str(out_png)], capsys)
    assert code == 0 and out_png.stat().st_size > 1000
    lines = [ln for ln in out.splitlines() if ln and ln[0].isdigit()]
    assert len(lines) == 12  # 2 widths x 7 points, less c = 1 (divergent without reg)
    k, c, risk = lines[0].split(",")
    from rmtrisk import Problem, asymptotic_risk

    # the curve holds the test energies (sv^2 / N at the template's N = 100) fixed along c
    p = Problem.default().replace(d=200, c=2.0, sv=[2.0, 1.0]).replace(c=float(c), k=int(k))
    assert float(risk) == pytest.approx(asymptotic_risk(p).risk, rel=1e-5)


def test_optimal_matches_the_api(capsys):
    argv = ["optimal", "--d", "200", "--c", "1.2", "--sv", "3,2,0.4,0.3", "--eta2-train", "1",
            "--eta2-test", "0.5", "--k", "4", "--json"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    data = json.loads(out)
    from rmtrisk import Problem, optimal_bottleneck, optimal_regularization

    p = Problem.from_dict(data["problem"])
    values = [row["value"] for row in data["optima"]]
    assert values[0] == optimal_bottleneck(p).k
    assert values[1] == pytest.approx(optimal_regularization(p).reg, rel=1e-9)


def test_curve_over_regularization(capsys, tmp_path):
    """``--reg-values``: one curve per lambda; reg > 0 is finite through c = 1."""
    out_png = tmp_path / "reg.png"
    code, out, _ = run(["curve", "--d", "200", "--sv", "2,1", "--kappa", "0.1", "--skip",
                        "--reg-values", "0,0.1", "--points", "5", "--c-min", "0.5", "--c-max",
                        "2", "--mc-c", "2", "--reps", "3", "--table", "--format", "csv",
                        "--out", str(out_png)], capsys)
    assert code == 0 and out_png.stat().st_size > 1000
    rows = [ln.split(",") for ln in out.splitlines() if ln and ln[0].isdigit()]
    assert len(rows) == 10  # c = 1 stays in the grid when some curve has reg > 0
    at_one = {float(reg): float(risk) for reg, c, risk in rows if float(c) == 1.0}
    assert math.isinf(at_one[0.0]) and math.isfinite(at_one[0.1])
    code, _, err = run(["curve", "--k-values", "1,2", "--reg-values", "0.1"], capsys)
    assert code == 2 and "not both" in err


@pytest.mark.parametrize("argv, words", [
    (["risk", "--finite-size", "--eta2-train", "1e-300"],
     "eta2_train must be in [1e-100, 1e+100]"),
    (["risk", "--finite-size", "--eta2-train", "1e300"],
     "eta2_train must be in [1e-100, 1e+100]"),
    (["risk", "--sv", "1e200"], "sv entries must be in [1e-100, 1e+100]"),
    (["risk", "--eta2-test", "1e300"], "eta2_test must be 0 or in [1e-100, 1e+100]"),
    (["risk", "--reg", "1e200"], "reg must be 0 or in [1e-100, 1e+100]"),
    (["risk", "--k", "2", "--critical-set", "1,1"], "critical_set must not repeat"),
    (["mc", "--reps", "2", "--workers", "0"], "workers must be an integer >= 1"),
    (["mc", "--reps", "2", "--seed", "-1"], "seed must be an integer >= 0"),
    (["optimal", "--reg", "-1"], "reg must be >= 0"),
    (["curve", "--k-values", "0"], "k must be an integer in [1, d=400]"),
    (["demo", "--reps", "0"], "reps must be an integer >= 1"),
])
def test_bad_input_is_a_clean_error_without_traceback(capsys, argv, words):
    code, _, err = run(argv, capsys)
    assert code == 2 and err.startswith("rmtrisk: error: ") and words in err
    assert "Traceback" not in err


def test_mc_reports_the_interpolation_threshold(capsys):
    code, out, _ = run(["mc", "--d", "40", "--c", "1", "--reps", "3"], capsys)
    assert code == 1 and "AT_INTERPOLATION_THRESHOLD" in out
    code, out, _ = run(["mc", "--d", "40", "--c", "1", "--reps", "3", "--json"], capsys)
    assert code == 1 and json.loads(out)["status"] == "AT_INTERPOLATION_THRESHOLD"
