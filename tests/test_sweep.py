"""Sweeps: identical results on every executor, the SQLite store, crash-safe resume, import."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rmtrisk import Problem, asymptotic_risk, monte_carlo_risk
from rmtrisk.cli import main
from rmtrisk.sweep.executors import DASK_HINT, DaskExecutor, ProcessExecutor, SerialExecutor
from rmtrisk.sweep.jsonl import IMPORTED_VERSION
from rmtrisk.sweep.run import sweep
from rmtrisk.sweep.store import SweepStore, cell_key, code_version
from rmtrisk.verification import ResultStore, verification_grid, verify_cell, verify_cells

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}

PROBLEMS_CODE = """[Problem(d=50, c=c, sv=[2.0, 1.0], k=k, skip=s, eta2_train=1.0, eta2_test=1.0)
 for c in (0.5, 0.8, 1.5, 2.0) for k in (1, 2) for s in (False, True)]"""


def _problems() -> list[Problem]:
    return eval(PROBLEMS_CODE, {"Problem": Problem})


def _same(a, b) -> None:
    """Two lists of records hold the same cells with bit-identical numbers."""
    assert [r.key for r in a] == [r.key for r in b]
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.samples, y.samples), x.label
        assert x.mc_risk == y.mc_risk and x.mc_stderr == y.mc_stderr
        assert x.theory_status == y.theory_status and x.mc_status == y.mc_status
        assert np.array_equal([x.theory_risk, x.z], [y.theory_risk, y.z], equal_nan=True)


def _strict(text: str):
    def bad(token):
        raise AssertionError(f"non-standard JSON token {token}")
    return json.loads(text, parse_constant=bad)


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_serial_and_processes_are_bit_identical_and_equal_monte_carlo_risk():
    problems = _problems()[:8]
    serial = sweep(problems, 5, 3, executor="serial")
    small = sweep(problems, 5, 3, executor=SerialExecutor(), batch_size=2)
    with ProcessExecutor(2) as pool:
        parallel = sweep(problems, 5, 3, executor=pool, batch_size=1)
    _same(serial, small)
    _same(serial, parallel)
    alone = monte_carlo_risk(problems[3], reps=5, seed=3)
    assert np.array_equal(alone.samples, serial[3].samples)
    theory = asymptotic_risk(problems[3], throw=False)
    assert serial[3].theory_risk == theory.risk
    assert serial[3].z == pytest.approx((alone.risk - theory.risk) / alone.stderr, rel=1e-12)


def test_theory_and_monte_carlo_agree_within_standard_errors():
    records = sweep(_problems(), 30, 5, executor="serial")
    for r in records:  # d = 50: default theory within 4 standard errors (or 3 % of the risk)
        if r.theory_status == "SUCCESS":
            assert abs(r.mc_risk - r.theory_risk) <= max(4 * r.mc_stderr,
                                                         0.03 * r.theory_risk), r.label


def test_resume_skips_exactly_the_finished_cells_with_the_same_key(tmp_path):
    db = tmp_path / "r.db"
    problems = _problems()
    first = sweep(problems[:5], 4, 1, executor="serial", store=db)
    assert not any(r.resumed for r in first)
    both = sweep(problems, 4, 1, executor="serial", store=db)
    assert [r.resumed for r in both] == [True] * 5 + [False] * (len(problems) - 5)
    _same(first, both[:5])
    _same(both, sweep(problems, 4, 1, executor="serial"))  # same numbers as a fresh run
    again = sweep(problems, 4, 1, executor="serial", store=db, resume=False)
    assert not any(r.resumed for r in again)
    with SweepStore(db) as store:
        assert len(store) == len(problems)  # recomputed cells replace their own rows
    for reps, seed in ((5, 1), (4, 2)):  # a different reps or seed is a different cell
        other = sweep(problems[:2], reps, seed, executor="serial", store=db)
        assert not any(r.resumed for r in other)
    with SweepStore(db) as store:
        assert len(store) == len(problems) + 4


def test_key_is_the_full_problem_reps_seed_and_code_version():
    p = _problems()[0]
    version = code_version()
    keys = {cell_key(p, 4, 1, version), cell_key(p, 5, 1, version), cell_key(p, 4, 2, version),
            cell_key(p, 4, 1, version + "x"), cell_key(p.replace(eta2_test=0.9), 4, 1, version),
            cell_key(p.replace(test_energy=[1.0, 1.0]), 4, 1, version)}
    assert len(keys) == 6 and cell_key(p, 4, 1, version) == cell_key(p, 4, 1, version)


def test_store_round_trip_nulls_and_schema_check(tmp_path):
    db = tmp_path / "r.db"
    p = Problem(d=40, n=40, sv=[2.0, 1.0], k=1, eta2_train=1.0, eta2_test=1.0)  # c = 1
    (rec,) = sweep([p], 3, 0, executor="serial", store=db)
    assert rec.theory_status == "AT_INTERPOLATION_THRESHOLD" and np.isinf(rec.theory_risk)
    assert rec.mc_status == "AT_INTERPOLATION_THRESHOLD" and np.isnan(rec.z)
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("SELECT theory_risk, z FROM cells").fetchone() == (None, None)
    with SweepStore(db) as store:
        back = store.get(rec.key)
    assert np.isnan(back.theory_risk) and back.resumed and np.array_equal(back.samples,
                                                                          rec.samples)
    bad = tmp_path / "other.db"
    with sqlite3.connect(bad) as con:
        con.execute("CREATE TABLE cells (x)")
    with pytest.raises(ValueError, match="schema"):
        SweepStore(bad)
    text = tmp_path / "text.db"
    text.write_text("not a database at all " * 50)
    with pytest.raises(ValueError, match="not an SQLite results store"):
        SweepStore(text)


def test_sweep_and_show_commands_are_strict_json(tmp_path, capsys):
    db = tmp_path / "r.db"
    argv = ["sweep", "--c", "1,2", "--sv", "2,1", "--k", "1", "--d", "40", "--reps", "3",
            "--seed", "1", "--store", str(db), "--executor", "serial", "--format", "json"]
    code, out, err = run(argv, capsys)
    rows = _strict(out)
    assert code == 0 and [r["c"] for r in rows] == [1.0, 2.0]
    assert rows[0]["theory"] is None and rows[0]["z"] is None  # c = 1: infinite theory
    assert rows[0]["theory_status"] == "AT_INTERPOLATION_THRESHOLD"
    assert "1 without a finite theory" in err
    code, out, err = run([*argv, "--resume", "--strict"], capsys)
    assert code == 1 and all(r["resumed"] for r in _strict(out))
    code, out, _ = run(["show", str(db), "--c", "2", "--format", "json", "--samples"], capsys)
    (row,) = _strict(out)
    p = Problem(d=40, c=2.0, sv=[2.0, 1.0], k=1, eta2_train=0.3, eta2_test=0.3)
    mc = monte_carlo_risk(p, reps=3, seed=1)
    assert row["mc"] == mc.risk and row["samples"] == mc.samples.tolist()
    code, out, _ = run(["show", str(db), "--format", "csv", "--columns", "c,mc,theory_status"],
                       capsys)
    assert code == 0 and out.splitlines()[0] == "c,mc,theory_status" and len(out.split()) == 3
    code, _, err = run(["show", str(db), "--columns", "nope"], capsys)
    assert code == 2 and "unknown column" in err
    code, _, err = run(["show", str(tmp_path / "missing.db")], capsys)
    assert code == 2 and "does not exist" in err
    code, _, err = run(["sweep", "--reps", "0", "--d", "20", "--executor", "serial"], capsys)
    assert code == 2 and "reps must be an integer >= 1" in err


def test_verify_is_a_sweep_with_an_sqlite_store(tmp_path, capsys):
    db = tmp_path / "v.db"
    argv = ["verify", "--d", "40", "--c-values", "2", "--reps", "3", "--out", str(db)]
    code, out, err = run(argv, capsys)
    assert code == 0 and "cells within" in err
    code2, out2, _ = run(argv, capsys)
    assert code2 == 0 and out2 == out  # resumed from the store: the same table
    cells = list(verification_grid(40, (2.0,)))
    with SweepStore(db) as store:
        records = {r.key: r for r in store.records()}
    # one row per distinct problem (at d = 40, kappa = 0.05 is k = 2: two labels, one cell)
    keys = [cell_key(cell.problem, 3, 0, code_version()) for cell in cells]
    assert set(records) == set(keys) and {r.source for r in records.values()} == {"verify"}
    row = verify_cell(cells[0], reps=3, seed=0)
    stored = records[keys[0]]
    assert stored.mc_risk == row["mc"] and stored.extra["theory"] == row["theory"]


def test_jsonl_import(tmp_path, capsys):
    jsonl, db = tmp_path / "v.jsonl", tmp_path / "r.db"
    grid = list(verification_grid(40, (2.0,)))
    old = ResultStore(jsonl)  # rows as rmtrisk verify --out v.jsonl writes them
    for row in verify_cells([grid[0], grid[1], grid[-1]], reps=3, seed=0):
        old.append(row)
    rows = list(ResultStore(jsonl))
    with open(jsonl, "a", encoding="utf-8") as fh:
        fh.write('{"key": "not a cell", "reps": 3, "seed": 0, "mc": 1.0, "stderr": 0.1}\n')
        fh.write('{"key": "d=40 c=2 plain k=2 spi')  # torn by a crash
    code, out, err = run(["show", str(db), "--import", str(jsonl), "--format", "json",
                          "--columns", "key,mc,se,theory,n,code_version,source"], capsys)
    assert code == 0 and f"imported {len(rows)} rows" in err and "skipped 1" in err
    shown = {r["key"]: r for r in _strict(out)}
    cells = {cell.key: cell for cell in verification_grid(40, (2.0,))}
    for row in rows:  # cells with the same problem share a row (and have the same numbers)
        got = shown[cell_key(cells[row["key"]].problem, 3, 0, IMPORTED_VERSION)]
        assert got["mc"] == row["mc"] and got["se"] == row["stderr"]
        assert got["code_version"] == IMPORTED_VERSION and got["source"] == "import:v.jsonl"
        assert got["n"] == cells[row["key"]].problem.n
        assert got["theory"] == pytest.approx(row["theory"], rel=1e-12)
    # imported rows have an unknown code version: a sweep of the same cells recomputes them
    problem = cells[rows[0]["key"]].problem
    (rec,) = sweep([problem], 3, 0, executor="serial", store=db)
    assert not rec.resumed and rec.mc_risk == rows[0]["mc"]


def test_a_dead_worker_process_is_replaced_and_its_tasks_resubmitted(tmp_path):
    marker = tmp_path / "died"
    tasks = [(i, (i, str(marker))) for i in range(6)]
    with ProcessExecutor(2, window=6) as pool:
        out = dict(pool.imap_unordered(_die_once, tasks))
    assert out == {i: i * i for i in range(6)} and marker.exists()


def _die_once(i: int, marker: str) -> int:  # runs in a worker process
    if i == 2 and not os.path.exists(marker):
        Path(marker).touch()
        os._exit(1)  # the worker process dies without a word
    time.sleep(0.05)
    return i * i


ORPHAN = """
import os, sys, time
from rmtrisk.sweep.executors import ProcessExecutor
def hold(i, folder):
    open(os.path.join(folder, str(os.getpid())), "w").close()
    time.sleep(60)
with ProcessExecutor(2) as pool:
    list(pool.imap_unordered(hold, [(i, (i, sys.argv[1])) for i in range(2)]))
"""


def test_worker_processes_exit_when_their_client_is_killed(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", ORPHAN, str(tmp_path)], env=ENV,
                             start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = [int(p.name) for p in tmp_path.iterdir()]
        assert len(workers) == 2
        os.kill(child.pid, signal.SIGKILL)  # the client only, not its process group
        child.wait()
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in workers)
    finally:
        try:
            os.killpg(child.pid, signal.SIGKILL)  # whatever is left of the group we started
        except ProcessLookupError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_missing_dask_says_how_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError, match=r'pip install "rmtrisk\[dask\]"'):
        DaskExecutor("local")
    code, _, err = run(["sweep", "--d", "20", "--reps", "2", "--dask", "local"], capsys)
    assert code == 2 and DASK_HINT in err


CHILD = """
import sys, time
from rmtrisk import Problem
from rmtrisk.sweep.run import sweep
from rmtrisk.sweep.store import SweepStore
path, mode, nth = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = SweepStore(path)
seen = [0]
def trace(sql):  # hold the process inside a write so that the parent kills it there
    word = "INSERT" if mode == "insert" else "COMMIT"
    if sql.lstrip().upper().startswith(word):
        seen[0] += 1
        if seen[0] == nth:
            print("WRITING", flush=True)
            time.sleep(60)
if mode in ("insert", "commit"):
    store.connection.set_trace_callback(trace)
problems = PROBLEMS
sweep(problems, 6, 4, executor="serial", store=store,
      on_finished=lambda rec: print("DONE", flush=True))
print("FINISHED", flush=True)
"""


def _child(db: Path, mode: str, nth: int) -> subprocess.Popen:
    code = CHILD.replace("PROBLEMS", PROBLEMS_CODE)
    return subprocess.Popen([sys.executable, "-c", code, str(db), mode, str(nth)], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            start_new_session=True)


def _stored(db: Path) -> int:
    with SweepStore(db) as store:
        return len(store)


def _kill_and_resume(db: Path, modes: tuple[str, ...], seed: int) -> None:
    problems = _problems()
    rng = random.Random(seed)
    counts = []
    for mode in modes:
        before = _stored(db) if db.exists() else 0
        left = len(problems) - before
        nth = rng.randint(1, max(1, min(3, left - 2)))
        child = _child(db, mode, nth)
        try:
            line = child.stdout.readline()  # DONE, or WRITING in the nth write
            if mode in ("time", "sigint"):  # a random moment after the nth finished cell
                for _ in range(nth - 1):
                    line = child.stdout.readline()
                time.sleep(rng.uniform(0.0, 0.02))
            os.killpg(child.pid, signal.SIGINT if mode == "sigint" else signal.SIGKILL)
            child.wait(timeout=60)
        finally:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        assert line.strip() in ("DONE", "WRITING"), line
        with sqlite3.connect(db) as con:  # never corrupt, never a partial row
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        counts.append(_stored(db))
    assert counts == sorted(counts) and counts[-1] < len(problems)  # killed before the end
    if len(modes) > 1:  # resume in a process of its own, as a user would
        child = _child(db, "none", 0)
        out, _ = child.communicate(timeout=300)
        assert child.returncode == 0 and "FINISHED" in out
    resumed = sweep(problems, 6, 4, executor="serial", store=db)
    # exactly the committed cells are skipped (all of them after the resumed child)
    assert sum(r.resumed for r in resumed) == (len(problems) if len(modes) > 1 else counts[-1])
    _same(resumed, sweep(problems, 6, 4, executor="serial"))  # an uninterrupted run
    with SweepStore(db) as store:
        assert len(store) == len(problems)


def test_sigkill_inside_a_commit_then_resume(tmp_path):
    _kill_and_resume(tmp_path / "r.db", ("commit",), 7)


@pytest.mark.slow
def test_sigkill_at_random_moments_and_during_writes_then_resume(tmp_path):
    _kill_and_resume(tmp_path / "r.db", ("time", "insert", "commit", "time", "sigint"),
                     20261203)


@pytest.mark.slow
def test_dask_local_cluster_with_two_workers_equals_serial():
    problems = _problems()
    serial = sweep(problems, 4, 2, executor="serial")
    with DaskExecutor("local", workers=2) as cluster:
        assert len(cluster.client.nthreads()) == 2
        on_dask = sweep(problems, 4, 2, executor=cluster, batch_size=1)
    _same(serial, on_dask)


@pytest.mark.slow
def test_a_killed_dask_worker_is_replaced_and_the_sweep_completes():
    problems = _problems()
    serial = sweep(problems, 8, 6, executor="serial")
    with DaskExecutor("local", workers=2) as cluster:
        pids = list(cluster.client.run(os.getpid).values())
        killed = []

        def kill_one(n: int) -> None:
            if not killed:  # after the first finished cell, SIGKILL one worker process
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])

        on_dask = sweep(problems, 8, 6, executor=cluster, batch_size=1, progress=kill_one)
        alive = list(cluster.client.run(os.getpid).values())
    assert killed and pids[0] not in alive
    _same(serial, on_dask)
