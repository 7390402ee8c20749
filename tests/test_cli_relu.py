"""The ``rmtrisk relu-ae`` command: tables, files, metadata, errors."""

from __future__ import annotations

import csv
import json

import pytest

from rmtrisk.cli import main

SMALL = ["relu-ae", "--d", "4", "--n", "3", "--widths", "60", "--threshold-widths", "2,40",
         "--tied-n", "3", "--tied-widths", "50", "--reps", "2", "--max-iter", "1000",
         "--no-progress"]


def test_relu_ae_writes_tables_figure_and_metadata(tmp_path, capsys):
    out = tmp_path / "relu"
    code = main([*SMALL, "--output", str(out)])
    text, err = capsys.readouterr()
    assert code == 0
    assert "observed against predicted" in text and "smallest width" in text
    assert "wrote 8 files" in err
    for name in ("rates", "widths", "tied"):
        rows = json.loads((out / f"{name}.json").read_text())
        with open(out / f"{name}.csv", newline="") as fh:
            assert len(list(csv.DictReader(fh))) == len(rows) > 0
    rates = json.loads((out / "rates.json").read_text())
    assert {r["regime"] for r in rates} == {"weak", "joint"} and len(rates) == 4  # 2 x 2 seeds
    assert all(0 < r["rho_observed"] < 1 for r in rates if r["rho_observed"] is not None)
    widths = {r["regime"]: r for r in json.loads((out / "widths.json").read_text())}
    assert widths["joint"]["seeds"] == 2
    tied = json.loads((out / "tied.json").read_text())
    assert any(r["regime"] == "tied" and r["scale"] == "mean-field" for r in tied)
    assert (out / "loss_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["command"][:2] == ["rmtrisk", "relu-ae"] and meta["seed"] == 0
    assert meta["d"] == 4 and meta["n"] == [3] and meta["seeds"] == [0, 1]
    assert sorted(meta["files"]) == sorted(p.name for p in out.iterdir()
                                           if p.name != "metadata.json")


def test_relu_ae_one_experiment_as_json(capsys):
    code = main([*SMALL, "--experiment", "rates", "--format", "json", "--seed", "3"])
    text, _ = capsys.readouterr()
    assert code == 0
    data = json.loads(text)
    assert list(data) == ["rates"]
    assert [r["seed"] for r in data["rates"]] == [3, 4, 3, 4]


def test_relu_ae_progress_bar_goes_to_stderr(capsys):
    code = main([a for a in SMALL if a != "--no-progress"] + ["--experiment", "tied"])
    text, err = capsys.readouterr()
    assert code == 0 and "relu-ae runs" in err and "relu-ae runs" not in text


@pytest.mark.parametrize("extra, words", [
    (["--reps", "0"], "reps must be an integer >= 1"),
    (["--d", "0"], "d must be an integer >= 1"),
    (["--widths", "0,5"], "--widths must be integers >= 1"),
    (["--max-iter", "0"], "max-iter must be an integer >= 1"),
])
def test_relu_ae_bad_input(capsys, extra, words):
    code = main([*SMALL, *extra])
    _, err = capsys.readouterr()
    assert code == 2 and words in err


def test_relu_ae_help(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["relu-ae", "--help"])
    assert stop.value.code == 0
    assert "--output" in capsys.readouterr().out
