"""The ``rmtrisk dynamics`` command group."""

import argparse
import csv
import json

import numpy as np
import pytest

from rmtrisk import cli_dynamics
from rmtrisk.cli import build_parser, main
from rmtrisk.dynamics.modes import mode_fixed_point, mode_value


def strict_json(path):
    def refuse(token):
        raise AssertionError(f"non-standard JSON token {token} in {path}")

    return json.loads(path.read_text(), parse_constant=refuse)


def read_csv(path):
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_modes_writes_every_output_and_checks_the_closed_form(tmp_path, capsys):
    out = tmp_path / "m"
    code = main(["dynamics", "modes", "--energy", "1.5,0.3", "--n", "20", "--d", "6",
                 "--eta2-train", "0.4", "--weight-decay", "0.5", "--points", "30",
                 "--output", str(out)])
    assert code == 0
    for name in ("modes.csv", "modes.json", "modes.png", "modes.meta.json"):
        assert (out / name).stat().st_size > 0
    rows = read_csv(out / "modes.csv")
    assert len(rows) == 30 and {"t", "s", "u1", "u2", "u1_integrator"} <= rows[0].keys()
    t = np.array([float(r["t"]) for r in rows])
    u1 = np.array([float(r["u1"]) for r in rows])
    # the CSV is the closed form in t = N s with the per-sample parameters
    nu, wd, a = 20 * 0.4 / 6, 20 * 0.5, 20 * 1.5
    assert np.allclose(u1, mode_value(t / 20, a, nu, wd, 1e-6), rtol=1e-14)
    summary = strict_json(out / "modes.json")
    assert summary["fixed_point"] == pytest.approx(
        list(mode_fixed_point([a, 20 * 0.3], nu, wd)))
    assert summary["living"] == [True, False]
    assert max(summary["max_relative_deviation"]) < 1e-6
    meta = strict_json(out / "modes.meta.json")
    assert meta["command"][:3] == ["rmtrisk", "dynamics", "modes"]
    assert meta["options"]["energy"] == [1.5, 0.3]
    assert "wrote" in capsys.readouterr().err


def test_modes_random_start_and_closed_form_only(tmp_path):
    code = main(["dynamics", "modes", "--energy", "1,0.5", "--n", "10", "--d", "5",
                 "--init", "random", "--points", "20", "--time", "80",
                 "--output", str(tmp_path / "r")])
    assert code == 0
    summary = strict_json(tmp_path / "r" / "modes.json")
    assert summary["init"] == "random"
    assert all(x < 1e-6 for x in summary["final_relative_distance_to_fixed_point"])
    code = main(["dynamics", "modes", "--init", "none", "--points", "10",
                 "--output", str(tmp_path / "n")])
    assert code == 0
    assert "u1_integrator" not in read_csv(tmp_path / "n" / "modes.csv")[0]


def test_noise_vs_decay_outputs(tmp_path):
    out = tmp_path / "nd"
    code = main(["dynamics", "noise-vs-decay", "--noise", "0.5,3", "--steps", "600",
                 "--grid", "40", "--output", str(out)])
    assert code == 0
    rows = read_csv(out / "noise_vs_decay.csv")
    assert [float(r["var"]) for r in rows] == [0.5, 3.0]
    for r in rows:
        assert r["steps_dae_paper_lr"] == r["steps_wd_paper_lr"]
    summary = strict_json(out / "noise_vs_decay.json")
    assert summary["max_rescaling_mismatch"] < 1e-12
    assert (out / "noise_vs_decay.png").stat().st_size > 0
    assert strict_json(out / "noise_vs_decay.meta.json")["command"][1] == "dynamics"


@pytest.mark.parametrize("argv, words", [
    (["modes", "--energy", "1,-1"], "--energy"),
    (["modes", "--energy", "1,2,3", "--d", "2"], "--d"),
    (["modes", "--u0", "0"], "--u0"),
    (["noise-vs-decay", "--tol", "2"], "--tol"),
    (["noise-vs-decay", "--noise", "0"], "--noise"),
])
def test_bad_options_are_clear_errors(tmp_path, capsys, argv, words):
    code = main(["dynamics", *argv, "--output", str(tmp_path / "x")])
    assert code == 2 and words in capsys.readouterr().err


def test_every_subcommand_has_help_and_is_in_the_parent_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    dyn = sub.choices["dynamics"]
    inner = next(a for a in dyn._actions if isinstance(a, argparse._SubParsersAction))
    text = dyn.format_help()
    for name, command in inner.choices.items():
        assert f"rmtrisk dynamics {name}" in text
        for action in command._actions:
            assert action.help, (name, action.dest)
            for option in action.option_strings:
                assert option in text


def test_further_subcommands_register_through_the_hook(tmp_path):
    def registrar(add):
        p = add("example", "a test subcommand")
        p.add_argument("--flag", help="a flag")
        p.set_defaults(func=lambda args: 0)

    cli_dynamics.DYNAMICS_SUBCOMMANDS.append(registrar)
    try:
        parser = build_parser()
        args = parser.parse_args(["dynamics", "example", "--flag", "1"])
        assert args.flag == "1" and args.func(args) == 0
    finally:
        cli_dynamics.DYNAMICS_SUBCOMMANDS.remove(registrar)
