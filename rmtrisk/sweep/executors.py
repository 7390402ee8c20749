"""Where the tasks of a sweep run: in the client (serial), local processes, or dask.distributed.

Every executor has one method, :meth:`imap_unordered`: it takes ``(tag, args)`` pairs, runs
``fn(*args)`` for each and yields ``(tag, result)`` as tasks finish, keeping at most
``window`` tasks in flight, so that a client stopped at any moment has only those tasks to
lose. The tasks carry their own random streams (``SeedSequence`` objects in ``args``), so
results do not depend on which executor, worker or order ran them.

* :class:`SerialExecutor` runs each task in the client when it is asked for the next result.
* :class:`ProcessExecutor` runs them in a ``ProcessPoolExecutor`` whose workers pin BLAS to
  ``blas_threads`` threads and exit within a second of their client's death; when a worker
  process dies (``BrokenProcessPool``) the pool is rebuilt and its unfinished tasks are
  submitted again (at most ``retries`` times each).
* :class:`DaskExecutor` submits to a ``distributed.Client`` (``pure=False``: every task is
  its own, identical arguments never collapse into one key). ``"local"`` starts a
  ``LocalCluster`` of single-threaded worker processes; ``"tcp://HOST:PORT"`` attaches to a
  running scheduler. The scheduler reruns the tasks of a lost worker; a task that still fails
  with ``KilledWorker`` is submitted again (at most ``retries`` times).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from threadpoolctl import threadpool_limits

__all__ = ["DASK_HINT", "DaskExecutor", "ProcessExecutor", "SerialExecutor", "make_executor"]

#: What to do when dask.distributed is missing.
DASK_HINT = ('the dask executor needs dask.distributed: pip install "rmtrisk[dask]" '
             '(or pip install "dask[distributed]")')

Task = tuple[Any, tuple[Any, ...]]

#: dask setting that a local cluster unsets (see :class:`DaskExecutor`)
TRIM_KEY = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"


def _count(name: str, value: Any, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {value!r}")
    return value


class SerialExecutor:
    """Run every task in the calling process, one at a time, when its result is asked for."""

    name = "serial"
    workers = 1

    def imap_unordered(self, fn: Callable[..., Any], tasks: Iterable[Task]
                       ) -> Iterator[tuple[Any, Any]]:
        """Yield ``(tag, fn(*args))`` for each task, in order."""
        for tag, args in tasks:
            yield tag, fn(*args)

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _watch_parent(parent: int) -> None:  # pragma: no cover - runs in the worker processes
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:  # the client died (e.g. SIGKILL): do not linger
            os._exit(0)


def _start_worker(threads: int, parent: int) -> None:  # pragma: no cover - in the workers
    threadpool_limits(limits=threads, user_api="blas")
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


class ProcessExecutor:
    """Local worker processes with BLAS pinned, rebuilt when a worker dies.

    Parameters
    ----------
    workers : int, optional
        Worker processes (default: ``os.cpu_count()``).
    blas_threads : int
        BLAS threads in each worker (default 1).
    window : int, optional
        Tasks in flight at most (default ``2 * workers``).
    retries : int
        How often a task is resubmitted after its worker process died (default 3).
    """

    name = "processes"

    def __init__(self, workers: int | None = None, *, blas_threads: int = 1,
                 window: int | None = None, retries: int = 3):
        self.workers = _count("workers", (os.cpu_count() or 1) if workers is None else workers, 1)
        self.blas_threads = _count("blas_threads", blas_threads, 1)
        self.window = _count("window", 2 * self.workers if window is None else window, 1)
        self.retries = _count("retries", retries, 0)
        self._pool: ProcessPoolExecutor | None = None

    def _new_pool(self) -> ProcessPoolExecutor:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = ProcessPoolExecutor(max_workers=self.workers, initializer=_start_worker,
                                         initargs=(self.blas_threads, os.getpid()))
        return self._pool

    def imap_unordered(self, fn: Callable[..., Any], tasks: Iterable[Task]
                       ) -> Iterator[tuple[Any, Any]]:
        """Yield ``(tag, fn(*args))`` as the worker processes finish them."""
        pool = self._pool or self._new_pool()
        pending = iter(tasks)
        running: dict[Future, tuple[Any, tuple[Any, ...], int]] = {}
        exhausted = False
        while True:
            while not exhausted and len(running) < self.window:
                try:
                    tag, args = next(pending)
                except StopIteration:
                    exhausted = True
                    break
                running[pool.submit(fn, *args)] = (tag, args, 0)
            if not running:
                return
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            broken: list[tuple[Any, tuple[Any, ...], int]] = []
            for fut in done:
                tag, args, tries = running.pop(fut)
                try:
                    result = fut.result()
                except BrokenProcessPool:
                    broken.append((tag, args, tries))
                    continue
                yield tag, result
            if broken:  # a worker died: every unfinished task of the pool is lost with it
                broken += list(running.values())
                running.clear()
                pool = self._new_pool()
                for tag, args, tries in broken:
                    if tries >= self.retries:
                        raise RuntimeError(f"task {tag!r} lost its worker process "
                                           f"{tries + 1} times; giving up")
                    running[pool.submit(fn, *args)] = (tag, args, tries + 1)

    def close(self) -> None:
        """Shut the worker processes down."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> ProcessExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ImportError(DASK_HINT) from None
    return distributed


class DaskExecutor:
    """Tasks on a dask.distributed cluster.

    Parameters
    ----------
    address : str or distributed.Client
        ``"local"`` starts a ``LocalCluster`` of ``workers`` single-threaded worker processes
        (closed with the executor; without the nanny's ``MALLOC_TRIM_THRESHOLD_``, which slows
        the large temporary arrays of a replicate); ``"tcp://HOST:PORT"`` (or any scheduler
        address) attaches to a running scheduler; a ``Client`` is used as is (and left open).
    workers : int, optional
        Worker processes of a local cluster (default: ``os.cpu_count()``).
    window : int, optional
        Tasks in flight at most (default: twice the cluster's threads at the start, at
        least 4).
    retries : int
        Client-side resubmissions of a task that failed with ``KilledWorker`` (default 3).

    Raises
    ------
    ImportError
        With the install hint (:data:`DASK_HINT`) when dask.distributed is missing.
    """

    name = "dask"

    def __init__(self, address: Any = "local", *, workers: int | None = None,
                 window: int | None = None, retries: int = 3):
        distributed = _import_distributed()
        self._cluster = None
        self._own_client = True
        if isinstance(address, distributed.Client):
            self.client, self._own_client = address, False
        elif address == "local":
            n = _count("workers", (os.cpu_count() or 1) if workers is None else workers, 1)
            # the nanny's default MALLOC_TRIM_THRESHOLD_=65536 made replicates 1.1-1.9x slower
            # (measured side by side, docs/sweeps.md): glibc's own adaptive default instead
            import dask

            with dask.config.set({TRIM_KEY: None}):
                self._cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1,
                                                         processes=True,
                                                         dashboard_address=":0",
                                                         silence_logs=logging.WARNING)
            self.client = distributed.Client(self._cluster)
        elif isinstance(address, str) and address:
            self.client = distributed.Client(address)
        else:
            raise ValueError(f"dask address must be 'local', a scheduler address such as "
                             f"tcp://HOST:8786 or a distributed.Client, got {address!r}")
        threads = sum(self.client.nthreads().values())
        self.workers = max(1, threads)
        self.window = _count("window", max(4, 2 * threads) if window is None else window, 1)
        self.retries = _count("retries", retries, 0)
        self._distributed = distributed

    def imap_unordered(self, fn: Callable[..., Any], tasks: Iterable[Task]
                       ) -> Iterator[tuple[Any, Any]]:
        """Yield ``(tag, fn(*args))`` as the cluster finishes them."""
        pending = iter(tasks)
        info: dict[Any, tuple[Any, tuple[Any, ...], int]] = {}
        flow = self._distributed.as_completed()

        def submit(tag: Any, args: tuple[Any, ...], tries: int) -> None:
            fut = self.client.submit(fn, *args, pure=False)
            info[fut.key] = (tag, args, tries)
            flow.add(fut)

        for tag, args in pending:
            submit(tag, args, 0)
            if len(info) >= self.window:
                break
        for fut in flow:
            tag, args, tries = info.pop(fut.key)
            try:
                result = fut.result()
            except self._distributed.KilledWorker:
                if tries >= self.retries:
                    raise
                submit(tag, args, tries + 1)
                continue
            finally:
                fut.release()
            yield tag, result
            for tag, args in pending:
                submit(tag, args, 0)
                if len(info) >= self.window:
                    break

    def close(self) -> None:
        """Close the client and the local cluster this executor started."""
        if self._own_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def make_executor(kind: str = "processes", *, workers: int | None = None,
                  dask: str | None = None, blas_threads: int = 1
                  ) -> SerialExecutor | ProcessExecutor | DaskExecutor:
    """An executor by name: ``"serial"``, ``"processes"`` or ``"dask"`` (with ``dask`` the
    address: ``"local"`` or ``"tcp://HOST:PORT"``; giving ``dask`` selects the dask executor).

    Raises
    ------
    ValueError
        For an unknown ``kind``.
    ImportError
        For the dask executor without dask.distributed installed (with the install hint).
    """
    if dask is not None:
        return DaskExecutor(dask, workers=workers)
    if kind == "serial":
        return SerialExecutor()
    if kind == "processes":
        return ProcessExecutor(workers, blas_threads=blas_threads)
    if kind == "dask":
        return DaskExecutor("local", workers=workers)
    raise ValueError(f"executor must be 'serial', 'processes' or 'dask', got {kind!r}")
