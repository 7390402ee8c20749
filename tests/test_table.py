"""``rmtrisk table``: grids in one syntax, machine formats that reload, cell by cell equal to
asymptotic_risk."""

from __future__ import annotations

import csv
import io
import json
import math

import pytest

from rmtrisk import Problem, asymptotic_risk
from rmtrisk.cli import main


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _strict(text):
    def bad(token):
        raise AssertionError(f"non-standard JSON token {token}")
    return json.loads(text, parse_constant=bad)


def test_csv_rows_equal_asymptotic_risk(capsys):
    argv = ["table", "--d", "200", "--sv", "2,1.4,1", "--c", "0.5:2:3", "--k", "1,2",
            "--skip", "false,true", "--reg", "0,0.1", "--format", "csv"]
    code, out, err = run(argv, capsys)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 3 * 2 * 2 * 2
    for row in rows:
        p = Problem(d=200, sv=[2, 1.4, 1], c=float(row["c"]), k=int(row["k"]),
                    skip=row["skip"] == "True", reg=float(row["reg"]),
                    eta2_train=float(row["eta2_train"]), eta2_test=float(row["eta2_test"]))
        res = asymptotic_risk(p, throw=False)
        assert float(row["risk"]) == res.risk  # full precision
        assert row["status"] == res.status.name and row["regime"] == res.regime
        assert int(row["n"]) == p.n
    assert err == ""  # every cell SUCCESS: no note (prose would go to stderr, never stdout)


def test_json_is_strict_and_output_has_a_sidecar(capsys, tmp_path):
    target = tmp_path / "t.json"
    code, out, err = run(["table", "--c", "0.5,1,2", "--kappa", "0.1", "--skip", "true",
                          "--format", "json", "--output", str(target)], capsys)
    assert code == 0 and out == "" and "wrote" in err
    rows = _strict(target.read_text())
    assert [r["c"] for r in rows] == [0.5, 1.0, 2.0]
    assert rows[1]["risk"] is None and rows[1]["status"] == "AT_INTERPOLATION_THRESHOLD"
    meta = _strict((tmp_path / "t.json.meta.json").read_text())
    assert meta["command"][:2] == ["rmtrisk", "table"] and meta["version"]
    assert meta["grid"]["kappa"] == [0.1] and meta["rows"] == 3
    base = Problem.default()
    assert meta["energy"] == pytest.approx(base.energy.tolist())  # the default spectrum
    p = Problem(d=base.d, c=2.0, energy=meta["energy"], kappa=0.1, skip=True,
                eta2_train=base.eta2_train, eta2_test=base.eta2_test)
    assert rows[2]["risk"] == asymptotic_risk(p).risk
    assert math.isclose(sum(meta["energy"]), 0.4096)


@pytest.mark.parametrize("argv, words", [
    (["table", "--c", "1:2"], "--c: expected a list a,b,c or a range start:stop:count"),
    (["table", "--c", "1:2:0"], "--c: expected a list"),
    (["table", "--k", "1.5"], "--k: expected integers"),
    (["table", "--skip", "maybe"], "--skip: expected a list of true/false"),
    (["table", "--c", "-1"], "c must be > 0"),
])
def test_bad_grid_input(argv, words, capsys):
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse type errors
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2 and words in err


def test_text_and_latex(capsys):
    code, out, _ = run(["table", "--c", "2", "--k", "1,2", "--format", "latex", "--digits", "4"],
                       capsys)
    assert code == 0 and out.startswith(r"\begin{tabular}") and out.count(r"\\") == 3


def test_phase_skip_advantage_writes_figure_data_and_command(capsys, tmp_path):
    import numpy as np

    prefix = tmp_path / "sub" / "adv"
    code, out, err = run(["phase", "skip-advantage", "--d", "100", "--sv", "2,1", "--c",
                          "0.5,1,2", "--kappa", "0.05,0.2", "--test-energy", "1,1",
                          "--out", str(prefix)], capsys)
    assert code == 0 and out == "" and "wrote" in err
    for ext in (".png", ".svg", ".npz", ".csv", ".meta.json"):
        assert (tmp_path / "sub" / f"adv{ext}").stat().st_size > 100
    data = np.load(tmp_path / "sub" / "adv.npz")
    assert data["difference"].shape == (2, 3)
    for j, kappa in enumerate([0.05, 0.2]):
        for i, c in enumerate([0.5, 1.0, 2.0]):
            p = Problem(d=100, sv=[2, 1], test_energy=[1, 1], c=c, kappa=kappa,
                        eta2_train=Problem.default().eta2_train,
                        eta2_test=Problem.default().eta2_test)
            plain = asymptotic_risk(p, throw=False)
            skip = asymptotic_risk(p.replace(skip=True), throw=False)
            if c == 1.0:
                assert np.isnan(data["difference"][j, i])  # both diverge: no value
            else:
                assert data["difference"][j, i] == plain.risk - skip.risk
    meta = _strict((tmp_path / "sub" / "adv.meta.json").read_text())
    assert meta["command"][:3] == ["rmtrisk", "phase", "skip-advantage"]
    assert meta["cells_without_value"] == 2


def test_cli_polish(capsys, tmp_path):
    """curve without --out prints its table; a missing output directory is a clear error;
    changing c on the default example keeps its per-sample energies (sum 0.4096)."""
    from rmtrisk.cli import build_parser, problem_from_args

    code, out, _ = run(["curve", "--points", "3"], capsys)
    # c = 0.2, 1, 5: c = 1 is dropped at reg = 0 (the minimum-norm risk diverges)
    assert code == 0 and len([ln for ln in out.splitlines() if ln.strip()]) == 2 + 2
    code, _, err = run(["curve", "--points", "3", "--out", str(tmp_path / "no" / "x.png")],
                       capsys)
    assert code == 2 and "No such file or directory" in err and "Traceback" not in err
    p = problem_from_args(build_parser().parse_args(["risk", "--c", "0.5"]))
    assert p.n == 800 and math.isclose(float(p.energy.sum()), 0.4096)
    assert math.isclose(float(p.test_energy_array.sum()), 0.4096)


def test_phase_regularization_lambda_star_is_the_grid_minimum(capsys, tmp_path):
    import numpy as np

    prefix = tmp_path / "reg"
    code, _, err = run(["phase", "regularization", "--d", "100", "--sv", "2,1", "--c",
                        "0.5,2", "--reg-values", "0.01,0.1,1", "--k", "1", "--out",
                        str(prefix)], capsys)
    assert code == 0 and "wrote" in err
    data = np.load(tmp_path / "reg.npz")
    assert data["risk_skip"].shape == (3, 2)
    for name in ("no_skip", "skip"):
        risk = data[f"risk_{name}"]
        assert np.array_equal(data[f"lambda_star_{name}"],
                              data["reg"][np.argmin(risk, axis=0)])
    p = Problem(d=100, sv=[2, 1], c=2.0, k=1, reg=0.1, eta2_train=Problem.default().eta2_train,
                eta2_test=Problem.default().eta2_test)
    assert data["risk_no_skip"][1, 1] == asymptotic_risk(p).risk
    assert (tmp_path / "reg.png").stat().st_size > 1000


def test_curve_parts_figure(capsys, tmp_path):
    out_png = tmp_path / "parts.png"
    code, _, err = run(["curve", "--k-values", "1,3", "--points", "5", "--parts", "--out",
                        str(out_png)], capsys)
    assert code == 0 and out_png.stat().st_size > 1000 and "wrote" in err
    code, _, err = run(["curve", "--reg-values", "0,0.1", "--points", "5", "--parts", "--out",
                        str(out_png)], capsys)
    assert code == 2 and "--parts" in err


def test_phase_bottleneck_k_star_is_the_grid_minimum(capsys, tmp_path):
    import numpy as np

    prefix = tmp_path / "kstar"
    code, _, err = run(["phase", "bottleneck", "--d", "60", "--sv", "2,1", "--c", "0.5,2",
                        "--strength", "0.5,2", "--test-energy", "1,1", "--out", str(prefix)],
                       capsys)
    assert code == 0 and "wrote" in err
    data = np.load(tmp_path / "kstar.npz")
    assert data["kappa_star_skip"].shape == (2, 2)
    base = Problem.default()
    for j, s in enumerate([0.5, 2.0]):
        for i, c in enumerate([0.5, 2.0]):
            risks = {k: asymptotic_risk(Problem(d=60, sv=[2 * s**0.5, s**0.5], c=c, k=k,
                                                test_energy=[1, 1], eta2_train=base.eta2_train,
                                                eta2_test=base.eta2_test), throw=False).risk
                     for k in (1, 2, 3)}
            best = min(risks, key=lambda k: (risks[k], k))
            assert data["kappa_star_no_skip"][j, i] == best / 60
            assert data["risk_star_no_skip"][j, i] == risks[best]


def test_phase_training_noise_is_the_grid_minimum(capsys, tmp_path):
    import numpy as np

    prefix = tmp_path / "noise"
    code, _, err = run(["phase", "training-noise", "--d", "60", "--energy", "0.2,0.1",
                        "--c", "0.5,2", "--strength", "1", "--k", "1", "--out", str(prefix)],
                       capsys)
    assert code == 0 and "wrote" in err
    data = np.load(tmp_path / "noise.npz")
    meta = _strict((tmp_path / "noise.meta.json").read_text())
    levels = meta["eta2_train_levels"]
    for i, c in enumerate([0.5, 2.0]):
        risks = [asymptotic_risk(Problem(d=60, energy=[0.2, 0.1], c=c, k=1, eta2_train=e,
                                         eta2_test=Problem.default().eta2_test),
                                 throw=False).risk for e in levels]
        assert data["eta2_train_star_no_skip"][0, i] == levels[int(np.nanargmin(risks))]
    code, _, err = run(["phase", "training-noise", "--sv", "2,1", "--c", "2", "--strength",
                        "1", "--out", str(prefix)], capsys)
    assert code == 2 and "needs --test-energy" in err


def test_cli_reference_is_current():
    """docs/cli.md lists every command and every option of the parsers (the exact text is
    argparse's and may differ between Python versions, so only the content is compared)."""
    import argparse
    from pathlib import Path

    from rmtrisk.cli import build_parser

    text = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text()
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in sub.choices.items():
        assert f"## `rmtrisk {name}`" in text, name
        for action in command._actions:
            for option in action.option_strings:
                assert option in text, (name, option)
            if action.help and action.help != argparse.SUPPRESS:
                assert action.help.split()[0] in text, (name, action.help)


def test_phase_skip_advantage_monte_carlo_is_paired(capsys, tmp_path):
    import numpy as np

    from rmtrisk import monte_carlo_risk

    prefix = tmp_path / "mc"
    code, _, _ = run(["phase", "skip-advantage", "--d", "60", "--sv", "2,1", "--c", "0.5,2",
                      "--kappa", "0.05", "--mc-reps", "4", "--seed", "3", "--out",
                      str(prefix)], capsys)
    assert code == 0
    data = np.load(tmp_path / "mc.npz")
    base = Problem.default()
    p = Problem(d=60, sv=[2, 1], c=2.0, kappa=0.05, eta2_train=base.eta2_train,
                eta2_test=base.eta2_test)
    plain = monte_carlo_risk(p, reps=4, seed=3)
    skip = monte_carlo_risk(p.replace(skip=True), reps=4, seed=3)
    assert data["difference_mc"][0, 1] == np.mean(plain.samples[:, 0] - skip.samples[:, 0])
    assert data["difference_mc_stderr"][0, 1] > 0


def test_json_outputs_are_strict_and_reload(capsys):
    """risk --json at c = 1 (infinite risk) is strict JSON; mc --json reloads with
    MonteCarloResult.from_dict; verify counts cells without a finite theory as not passing."""
    from rmtrisk import MonteCarloResult

    code, out, _ = run(["risk", "--c", "1", "--json"], capsys)
    data = _strict(out)
    assert code == 1 and data["risk"] is None and data["status"] == "AT_INTERPOLATION_THRESHOLD"
    code, out, _ = run(["mc", "--d", "60", "--c", "2", "--k", "1", "--reps", "3", "--json"],
                       capsys)
    back = MonteCarloResult.from_dict(_strict(out))
    assert back.reps == 3 and back.risk == _strict(out)["risk"]
    code, _, err = run(["verify", "--c-values", "1", "--d", "50", "--reps", "2", "--strict"],
                       capsys)
    assert code == 1 and "0/12 cells within" in err and "12 without a finite theory" in err
