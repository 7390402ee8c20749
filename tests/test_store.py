"""The JSON-lines results store of ``rmtrisk verify``: torn lines, resume by reps and seed."""

from __future__ import annotations

import json

from rmtrisk.cli import main
from rmtrisk.verification import ResultStore


def test_torn_last_line_is_cut_and_the_next_row_starts_a_line(tmp_path):
    path = tmp_path / "v.jsonl"
    store = ResultStore(path)
    store.append({"key": "a", "reps": 2, "seed": 0, "mc": 1.0})
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"key": "b", "reps": 2, "se')  # a crash mid-write
    again = ResultStore(path)
    assert len(again) == 1 and "b" not in again
    assert path.read_text(encoding="utf-8").endswith("\n")
    again.append({"key": "b", "reps": 2, "seed": 0, "mc": 2.0})
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["key"] for x in lines] == ["a", "b"]  # every line parses


def test_resume_only_with_the_same_reps_and_seed(tmp_path, capsys):
    path = tmp_path / "v.jsonl"
    store = ResultStore(path)
    store.append({"key": "a", "reps": 10, "seed": 3, "mc": 1.0})
    assert store.finished("a", 10, 3)["mc"] == 1.0
    assert store.finished("a", 50, 3) is None and store.finished("a", 10, 7) is None
    argv = ["verify", "--d", "40", "--c-values", "2", "--reps", "2", "--out", str(path)]
    assert main(argv) == 0
    first = path.read_text(encoding="utf-8")
    assert main(argv) == 0 and path.read_text(encoding="utf-8") == first  # resumed
    assert main([*argv[:-2], "--seed", "1", "--out", str(path)]) == 0
    rows = ResultStore(path)
    assert all(row["seed"] == 1 for row in rows if row["key"] != "a")  # recomputed, latest wins
    capsys.readouterr()
