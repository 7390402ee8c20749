"""The sweep: Monte Carlo with the theory beside it over many problems, stored as it finishes.

:func:`sweep` estimates every problem with ``reps`` replicates from the root ``seed``:
replicate ``j`` of every cell uses child ``j`` of ``SeedSequence(seed)``, so each cell equals
``monte_carlo_risk(problem, reps, seed)``. Cells are therefore not independent draws of each
other: problems that differ only in the test side use literally the same training draws and
are trained once (:func:`~rmtrisk.montecarlo.training_side`).

The work is cut into tasks of consecutive replicates of one such group; each task gets its
``SeedSequence`` children as arguments and pins BLAS to one thread, so the per-replicate numbers
are bit for bit the same whichever executor, worker, batch size or order ran them. The client
assembles the tasks of a group and its theory (:func:`~rmtrisk.theory.asymptotic_risk`, one
more task on the executor); when the group is complete it computes
``z = (MC - theory) / stderr`` and writes each cell to the store in its own transaction.
With ``resume=True`` the cells whose key (:func:`~rmtrisk.sweep.store.cell_key`: problem,
reps, seed, code version) is already stored are read back instead of computed. A stopped
client loses only the tasks in flight.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from ..montecarlo import MonteCarloResult, replicate_risks, training_side
from ..problem import Problem
from ..theory import asymptotic_risk
from .executors import DaskExecutor, ProcessExecutor, SerialExecutor, make_executor
from .store import CellRecord, SweepStore, cell_key, code_version

__all__ = ["cell_label", "replicate_batch", "sweep", "theory_batch", "theory_record"]

AnyExecutor = SerialExecutor | ProcessExecutor | DaskExecutor


def replicate_batch(problems: Sequence[Problem], seeds: Sequence[np.random.SeedSequence],
                    blas_threads: int = 1) -> tuple[np.ndarray, float]:
    """One task: replicates ``seeds`` of problems sharing their training side.

    Returns the ``(len(seeds), len(problems), 3)`` array of per-replicate ``(risk, bias,
    variance)`` and the seconds it took.
    """
    t0 = time.perf_counter()
    with threadpool_limits(limits=blas_threads, user_api="blas"):
        out = np.array([replicate_risks(problems, s) for s in seeds])
    return out.reshape(len(seeds), len(problems), 3), time.perf_counter() - t0


def cell_label(problem: Problem) -> str:
    """A readable one-line name of a problem (the default label of a sweep cell)."""
    p = problem
    arch = "skip" if p.skip else "plain"
    return (f"d={p.d} n={p.n} c={p.c:.6g} r={p.r} k={p.k} {arch} reg={p.reg:g} "
            f"eta2_train={p.eta2_train:g} eta2_test={p.eta2_test:g}")


def theory_batch(problems: Sequence[Problem]) -> list[tuple[float, float, float, str, str]]:
    """One task: the default theory ``(risk, bias, variance, status name, regime)`` of each
    problem (:func:`~rmtrisk.theory.asymptotic_risk`, ``throw=False``), with one BLAS thread
    like the replicates (the sampled corrections call LAPACK)."""
    out = []
    with threadpool_limits(limits=1, user_api="blas"):
        for p in problems:
            res = asymptotic_risk(p, throw=False)
            out.append((res.risk, res.bias, res.variance, res.status.name, str(res.regime)))
    return out


def theory_record(label: str, mc: MonteCarloResult,
                  theory: tuple[float, float, float, str, str], *, version: str,
                  extra: dict[str, Any], source: str, seconds: float) -> CellRecord:
    """The record of a computed cell: ``mc`` with its ``theory`` (a :func:`theory_batch`
    entry) and ``z = (MC - theory) / stderr`` beside it."""
    risk, bias, variance, status, regime = theory
    se = mc.stderr
    finite = np.isfinite(risk) and np.isfinite(se) and se > 0
    z = (mc.risk - risk) / se if finite else float("nan")
    return CellRecord(label=label, problem=mc.problem, reps=mc.reps, seed=mc.seed,
                      mc_risk=mc.risk, mc_stderr=se, mc_bias=mc.bias, mc_variance=mc.variance,
                      mc_status=mc.status.name, samples=mc.samples, theory_risk=risk,
                      theory_bias=bias, theory_variance=variance, theory_status=status,
                      regime=regime, z=float(z), code_version=version, extra=extra,
                      source=source, seconds=seconds,
                      key=cell_key(mc.problem, mc.reps, mc.seed, version))


def _run_task(kind: str, *args: Any) -> Any:
    """Dispatch one task in a worker: ``"theory"`` or ``"mc"``."""
    return theory_batch(*args) if kind == "theory" else replicate_batch(*args)


def _check_worker_versions(pool: Any, version: str) -> None:
    """A dask cluster's workers must run the client's Monte Carlo code (the key says so)."""
    client = getattr(pool, "client", None)
    if client is None:
        return
    found = client.run(code_version)
    other = {addr: v for addr, v in found.items() if v != version}
    if other:
        raise ValueError(f"dask workers run other rmtrisk code than this client ({version}): "
                         f"{other}; install the same rmtrisk on every worker")


def _count(name: str, value: Any, lo: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {value!r}")
    return int(value)


def sweep(problems: Sequence[Problem], reps: int = 20, seed: int = 0, *,
          executor: str | AnyExecutor | None = None, workers: int | None = None,
          store: str | os.PathLike[str] | SweepStore | None = None, resume: bool = True,
          progress: bool | Callable[[int], Any] = False, labels: Sequence[str] | None = None,
          extra: Callable[[str, MonteCarloResult], dict[str, Any]] | None = None,
          on_finished: Callable[[CellRecord], Any] | None = None, source: str = "sweep",
          batch_size: int | None = None) -> list[CellRecord]:
    """Monte Carlo and theory of every problem, stored cell by cell (module docstring).

    Parameters
    ----------
    problems : sequence of Problem
    reps : int
        Replicates per cell (>= 1).
    seed : int
        Root seed (>= 0), the same for every cell.
    executor : {"processes", "serial", "dask"} or executor object, optional
        Where the tasks run (default ``"processes"``); an executor object
        (:class:`~rmtrisk.sweep.executors.SerialExecutor`, ``ProcessExecutor``,
        ``DaskExecutor``) is used and left open, a name is created and closed here.
    workers : int, optional
        Worker processes of a named executor (default ``os.cpu_count()``).
    store : path or SweepStore, optional
        Where finished cells are written (a path is opened and closed here).
    resume : bool
        Read cells already in ``store`` with the same key instead of computing them.
    progress : bool or callable
        ``True`` shows a tqdm bar of cells on stderr; a callable gets the number of cells
        finished (computed or resumed) since its last call.
    labels : sequence of str, optional
        A name per problem (default :func:`cell_label`); not part of the key.
    extra : callable, optional
        ``extra(label, mc)`` gives further columns of a computed cell (stored as JSON).
    on_finished : callable, optional
        Called with each computed :class:`CellRecord` after it is stored.
    source : str
        Written to the store's ``source`` column.
    batch_size : int, optional
        Replicates per task (default: about four tasks per worker over the sweep).

    Returns
    -------
    list of CellRecord
        One per problem, in order (``resumed`` tells which were read from the store).
    """
    problems = list(problems)
    if not all(isinstance(p, Problem) for p in problems):
        raise ValueError("problems must be a sequence of Problem")
    reps, seed = _count("reps", reps, 1), _count("seed", seed, 0)
    if batch_size is not None:
        batch_size = _count("batch_size", batch_size, 1)
    labels = [cell_label(p) for p in problems] if labels is None else list(labels)
    if len(labels) != len(problems):
        raise ValueError(f"labels must have one entry per problem ({len(problems)}), "
                         f"got {len(labels)}")
    version = code_version()
    own_store = store is not None and not isinstance(store, SweepStore)
    db = SweepStore(store) if own_store else store
    own_exec = executor is None or isinstance(executor, str)
    bar = tqdm(total=len(problems), desc="cells", unit="cell", disable=progress is not True)
    pool: AnyExecutor | None = None

    def report(n: int) -> None:
        bar.update(n)
        if callable(progress):
            progress(n)

    records: list[CellRecord | None] = [None] * len(problems)
    try:
        todo = []
        for i, p in enumerate(problems):
            found = db.get(cell_key(p, reps, seed, version)) if db is not None and resume \
                else None
            if found is None:
                todo.append(i)
            else:
                records[i] = replace(found, label=labels[i])
        if len(todo) < len(problems):
            report(len(problems) - len(todo))
        if not todo:
            return records  # type: ignore[return-value]
        groups: dict[tuple[Any, ...], list[int]] = {}
        for i in todo:
            groups.setdefault(training_side(problems[i]), []).append(i)
        members = list(groups.values())
        pool = (make_executor(executor or "processes", workers=workers) if own_exec
                else executor)  # type: ignore[assignment]
        _check_worker_versions(pool, version)
        if batch_size is None:
            chunks = max(1, -(-4 * pool.workers // len(members)))
            batch_size = max(1, -(-reps // chunks))
        seeds = np.random.SeedSequence(seed).spawn(reps)
        tasks = []  # per group: its theory, then its replicates in batches
        for g, idx in enumerate(members):
            group = tuple(problems[i] for i in idx)
            tasks.append(((g, -1), ("theory", group)))
            tasks += [((g, start), ("mc", group, seeds[start:start + batch_size], 1))
                      for start in range(0, reps, batch_size)]
        buffers = {g: np.full((reps, len(idx), 3), np.nan) for g, idx in enumerate(members)}
        missing = {g: 1 + -(-reps // batch_size) for g in buffers}
        seconds = dict.fromkeys(buffers, 0.0)
        theories: dict[int, list[tuple[float, float, float, str, str]]] = {}
        for (g, start), result in pool.imap_unordered(_run_task, tasks):
            if start < 0:
                theories[g] = result
            else:
                block, took = result
                buffers[g][start:start + block.shape[0]] = block
                seconds[g] += took
            missing[g] -= 1
            if missing[g]:
                continue
            samples = buffers.pop(g)
            for j, i in enumerate(members[g]):
                mc = MonteCarloResult(problems[i], reps, seed,
                                      np.ascontiguousarray(samples[:, j]))
                more = extra(labels[i], mc) if extra is not None else {}
                rec = theory_record(labels[i], mc, theories[g][j], version=version,
                                    extra=more, source=source, seconds=seconds[g])
                if db is not None:
                    db.put(rec)
                records[i] = rec
                if on_finished is not None:
                    on_finished(rec)
                report(1)
    finally:
        bar.close()
        if own_exec and pool is not None:
            pool.close()
        if own_store and db is not None:
            db.close()
    return records  # type: ignore[return-value]
