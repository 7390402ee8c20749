"""Throughput of a Monte Carlo sweep with 1 and 2 local workers: serial, processes, dask.

One sweep (default: 8 cells at d = 300, c in {0.5, 2}, k in {1, 2}, both architectures, 24
replicates each, SQLite store in a temporary directory) is timed on

* the serial executor (in the client),
* local processes with 1 and 2 workers,
* a dask LocalCluster with 1 and 2 single-threaded worker processes,

one executor at a time, started and warmed up (one small sweep) before the clock starts, every
configuration repeated ``--repeats`` times in turn (interleaved, so that a change of the
machine's load hits all of them) and the median kept. The results of every run are checked to
be bit-identical to the serial run. Prints a Markdown report with the load average before and
after (the machine may be shared; ratios measured side by side are the honest numbers).
Target: 2 workers >= 1.6 x the throughput of 1 on an idle 2-core machine.

Run: ``python benchmarks/sweep_throughput.py [--repeats 3] [--d 300] [--reps 24]
[--out benchmarks/results/sweep_throughput.md]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from rmtrisk import Problem
from rmtrisk.report.tables import format_table
from rmtrisk.sweep.executors import DaskExecutor, ProcessExecutor, SerialExecutor
from rmtrisk.sweep.run import replicate_batch, sweep


def problems(d: int) -> list[Problem]:
    return [Problem(d=d, c=c, sv=[2.0, 1.4, 1.0, 0.7], k=k, skip=s, eta2_train=1.0,
                    eta2_test=1.0)
            for c in (0.5, 2.0) for k in (1, 2) for s in (False, True)]


def timed_batch(problem: Problem, n: int) -> tuple[float, float]:
    """Wall and CPU seconds of ``n`` replicates in this process (the machine probe)."""
    seeds = np.random.SeedSequence(7).spawn(n)
    wall, cpu = time.perf_counter(), time.process_time()
    replicate_batch((problem,), seeds)
    return time.perf_counter() - wall, time.process_time() - cpu


def probe(problem: Problem, n: int, repeats: int) -> dict[int, float]:
    """CPU seconds over wall seconds of a batch run alone and as two at once in two warm
    processes: how much of a CPU each of two simultaneous workers actually gets."""
    share: dict[int, list[float]] = {1: [], 2: []}
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(timed_batch, [problem] * 2, [2, 2]))
        for _ in range(repeats):
            for k in (1, 2):
                for wall, cpu in pool.map(timed_batch, [problem] * k, [n] * k):
                    share[k].append(cpu / wall)
    return {k: statistics.median(v) for k, v in share.items()}


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--d", type=int, default=300)
    parser.add_argument("--reps", type=int, default=24)
    parser.add_argument("--out", default="benchmarks/results/sweep_throughput.md")
    args = parser.parse_args()
    cells = problems(args.d)
    load_before = loadavg()
    makers = {
        "serial": SerialExecutor,
        "processes, 1 worker": lambda: ProcessExecutor(1),
        "processes, 2 workers": lambda: ProcessExecutor(2),
        "dask LocalCluster, 1 worker": lambda: DaskExecutor("local", workers=1),
        "dask LocalCluster, 2 workers": lambda: DaskExecutor("local", workers=2),
    }
    workers = {"serial": 1, "processes, 1 worker": 1, "processes, 2 workers": 2,
               "dask LocalCluster, 1 worker": 1, "dask LocalCluster, 2 workers": 2}
    times: dict[str, list[float]] = {name: [] for name in makers}
    busy: dict[str, list[float]] = {name: [] for name in makers}
    reference = None
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.repeats):
            for i, (name, make) in enumerate(makers.items()):
                # one executor at a time (no idle cluster beside the one measured), started
                # and warmed up (workers spawned, numba caches loaded) before the clock starts
                with make() as ex:
                    sweep(cells[:2], 2, 99, executor=ex, batch_size=1)
                    db = Path(tmp) / f"run{rep}-executor{i}.db"  # a fresh store: no resume
                    t0 = time.perf_counter()
                    out = sweep(cells, args.reps, 1, executor=ex, store=db, resume=False)
                    times[name].append(time.perf_counter() - t0)
                # each cell is its own training group here: the task seconds add up
                busy[name].append(sum(r.seconds for r in out))
                samples = [r.samples for r in out]
                if reference is None:
                    reference = samples
                assert all(np.array_equal(a, b) for a, b in zip(reference, samples,
                                                                 strict=True)), name
    share = probe(cells[0], args.reps, args.repeats)
    load_after = loadavg()
    replicates = len(cells) * args.reps
    median = {name: statistics.median(ts) for name, ts in times.items()}
    rows = [{"executor": name, "median s": median[name], "min s": min(ts), "max s": max(ts),
             "cells/s": len(cells) / median[name], "replicates/s": replicates / median[name],
             "MC task s": statistics.median(busy[name]),
             "utilisation": statistics.median(busy[name]) / (median[name] * workers[name])}
            for name, ts in times.items()]
    speedups = {
        "processes 2 vs 1 workers": median["processes, 1 worker"]
        / median["processes, 2 workers"],
        "dask 2 vs 1 workers": median["dask LocalCluster, 1 worker"]
        / median["dask LocalCluster, 2 workers"],
        "processes 1 worker vs serial": median["serial"] / median["processes, 1 worker"],
        "dask 1 worker vs serial": median["serial"] / median["dask LocalCluster, 1 worker"],
    }
    lines = [
        "# Sweep throughput: serial, local processes, dask LocalCluster",
        "",
        "Measured by `benchmarks/sweep_throughput.py` "
        f"(`--repeats {args.repeats} --d {args.d} --reps {args.reps}`).",
        "",
        f"Workload: {len(cells)} cells (d = {args.d}, c in {{0.5, 2}}, k in {{1, 2}}, with and "
        f"without skip, sv = 2, 1.4, 1, 0.7), {args.reps} replicates each ({replicates} "
        "replicates), theory beside every cell, SQLite store; one executor at a time, started "
        "and warmed up before timing; every run bit-identical to the serial run (checked).",
        "",
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average (1, 5, 15 min) {load_before} before and {load_after} after. "
        "The machine is shared with other jobs, so the absolute times and the speedups are "
        "lower bounds of what an idle machine gives; the ratios were measured side by side "
        "(interleaved repeats).",
        "",
        format_table(rows, fmt="markdown", digits=4),
        "",
        "MC task s: the seconds the replicate tasks took inside the workers (summed); "
        "utilisation: that over wall time x workers. Task seconds grow when the workers share "
        "the CPUs with other jobs; a utilisation well below 1 means idle workers (the client "
        "or the scheduler not feeding them).",
        "",
        format_table([{"ratio": k, "speedup": v} for k, v in speedups.items()],
                     fmt="markdown", digits=3),
        "",
        "Machine probe (same replicates, no sweep machinery, two warm processes): CPU seconds "
        "over wall seconds of a batch of replicates run alone "
        f"{share[1]:.2f}, and of each of two batches run at the same time {share[2]:.2f}. "
        "Near 1 both times means two free cores; near 0.5 for two at once means the two "
        "workers share about one core and no executor can give a 2-worker speedup.",
        "",
        "Target: 2 workers >= 1.6 x one worker on an idle 2-core machine.",
    ]
    text = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
