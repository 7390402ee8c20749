"""Monte Carlo verifier: sample, train the closed-form critical point, measure the test risk.

Each replicate draws ``U, V`` (Haar) and the training noise ``A``, trains the critical point of
the problem (the global minimizer by default) and returns its test risk *exactly in
expectation over the test noise* (docs/conventions.md §6):

* no skip: ``R = sum_i l_i ||(I - W) u_i||^2 + (eta_tst^2 / d) ||W||_F^2``
* skip:    ``R = sum_i l_i ||W u_i||^2 + (eta_tst^2 / d) ||I + W||_F^2``

with the paper's split ``variance = (eta_tst^2 / d) ||W||_F^2`` and ``bias = R - variance``.

Seeds: one root ``seed``; replicate ``j`` uses the ``j``-th child of ``SeedSequence(seed)``,
so results do not depend on how replicates are spread over workers.

Sampling (``method``): ``"gram"`` (default) draws each replicate in the singular frame of the
noise and never forms the ``d x N`` training set (:mod:`.gram`, docs/gram_sampling.md);
``"dense"`` draws ``Y = U diag(sv) V^T + A`` in full (:mod:`.sampling`), the reference. The two
are equal in distribution; the same seed gives different draws.

Problems that differ only in the test side (``test_energy``, ``eta2_test``) share their training
draws: :func:`monte_carlo_risks` trains each replicate once and evaluates every such problem on
it, with results identical to separate :func:`monte_carlo_risk` calls with the same seed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from ..problem import Problem
from ..serialize import from_strict_json
from ..status import Status
from .gram import gram_risk_statistics, gram_sample
from .sampling import training_sample
from .training import RiskStatistics, risk_statistics

__all__ = [
    "MonteCarloResult",
    "monte_carlo_risk",
    "monte_carlo_risks",
    "replicate_risk",
    "replicate_risks",
    "METHODS",
    "split_risk",
    "training_side",
]

_Z95 = 1.959963984540054

#: how a replicate is drawn: ``"gram"`` in the singular frame of the noise (no ``d x N`` matrix,
#: :mod:`.gram`), ``"dense"`` the reference (``Y`` drawn and trained in full, :mod:`.sampling`)
METHODS = ("gram", "dense")


def split_risk(stats: RiskStatistics, problem: Problem) -> tuple[float, float, float]:
    """``(risk, bias, variance)`` of a trained weight from its :class:`RiskStatistics`."""
    signal = float(np.dot(problem.test_energy_array, np.diag(stats.test_gram)))
    variance = problem.eta2_test * stats.frob2 / problem.d
    if problem.skip:
        identity = problem.eta2_test * (problem.d + 2.0 * stats.trace) / problem.d
        risk = signal + identity + variance
    else:
        risk = signal + variance
    return risk, risk - variance, variance


def _check_method(method: Any) -> str:
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    return method


def replicate_risk(problem: Problem, seed: np.random.SeedSequence | int, *,
                   method: str = "gram") -> np.ndarray:
    """Risk, bias and variance of one replicate, as a length-3 array.

    Parameters
    ----------
    problem : Problem
    seed : SeedSequence or int
        The replicate's own seed.
    method : {"gram", "dense"}
        ``"gram"`` draws in the singular frame of the noise (:mod:`.gram`), ``"dense"`` draws
        the ``d x N`` training set (the reference). Equal in distribution, not draw by draw.
    """
    return replicate_risks((problem,), seed, method=method)[0]


def replicate_risks(problems: Sequence[Problem], seed: np.random.SeedSequence | int, *,
                    method: str = "gram") -> np.ndarray:
    """Risk, bias and variance of one training draw for each problem, shape ``(len, 3)``.

    The problems must share the training side (:func:`training_side`); the draw and the
    trained weight are those of the first one, each problem's risk uses its own test side.
    ``method`` as in :func:`replicate_risk`.
    """
    _check_method(method)
    first = problems[0]
    rng = np.random.default_rng(seed)
    if method == "gram":
        stats = gram_risk_statistics(gram_sample(first, rng), first.sv_array, k=first.k,
                                     skip=first.skip, reg=first.reg,
                                     critical_set=first.critical_set)
    else:
        Y, U, V = training_sample(first, rng)
        stats = risk_statistics(Y, U, first.sv_array, V, k=first.k, skip=first.skip,
                                reg=first.reg, critical_set=first.critical_set)
    return np.array([split_risk(stats, p) for p in problems])


_TEST_SIDE = ("test_energy", "eta2_test")


def training_side(problem: Problem) -> tuple[Any, ...]:
    """Hashable description of what a replicate's training draw and weight depend on.

    Two problems with the same training side differ only in ``test_energy`` / ``eta2_test``
    and can be evaluated on the same replicates.
    """
    data = problem.to_dict()
    return tuple((name, tuple(v) if isinstance(v, list) else v)
                 for name, v in data.items() if name not in _TEST_SIDE)


def _run_batch(problems: Sequence[Problem], seeds: Sequence[np.random.SeedSequence],
               blas_threads: int | None, method: str = "gram") -> np.ndarray:
    if blas_threads is None:
        return np.array([replicate_risks(problems, s, method=method) for s in seeds])
    with threadpool_limits(limits=blas_threads, user_api="blas"):
        return np.array([replicate_risks(problems, s, method=method) for s in seeds])


@dataclass(frozen=True)
class MonteCarloResult:
    """Monte Carlo estimate of the test risk of one problem.

    Attributes
    ----------
    problem : Problem
    reps : int
        Number of replicates.
    seed : int
        Root seed.
    samples : ndarray, shape (reps, 3)
        Per-replicate ``(risk, bias, variance)`` (reloadable: everything else derives from it).
    status : Status
        ``SUCCESS``; ``NON_FINITE`` when some replicate is nan or inf; or
        ``AT_INTERPOLATION_THRESHOLD`` when ``reg = 0`` and ``|d - N| <= 1`` (c = 1), where the
        mean risk is infinite and the sample mean does not converge (finite numbers, but no
        estimate of anything). Derived from ``problem`` and ``samples`` when not given.
    message : str
        Explanation of a status other than ``SUCCESS``.
    """

    problem: Problem
    reps: int
    seed: int
    samples: np.ndarray
    status: Status | None = None
    message: str = ""

    def __post_init__(self) -> None:
        if self.status is None:
            status, message = _status_of(self.problem, self.samples)
            object.__setattr__(self, "status", status)
            object.__setattr__(self, "message", message)
        else:
            object.__setattr__(self, "status", Status(self.status))

    def _mean(self, col: int) -> float:
        return float(np.mean(self.samples[:, col]))

    def _sem(self, col: int) -> float:
        if self.reps < 2:
            return float("nan")
        return float(np.std(self.samples[:, col], ddof=1) / np.sqrt(self.reps))

    @property
    def risk(self) -> float:
        """Mean test risk over replicates."""
        return self._mean(0)

    @property
    def bias(self) -> float:
        """Mean bias (risk minus variance)."""
        return self._mean(1)

    @property
    def variance(self) -> float:
        """Mean variance ``(eta_tst^2 / d) ||W||_F^2``."""
        return self._mean(2)

    @property
    def stderr(self) -> float:
        """Standard error of :attr:`risk` (nan for a single replicate)."""
        return self._sem(0)

    @property
    def bias_stderr(self) -> float:
        """Standard error of :attr:`bias`."""
        return self._sem(1)

    @property
    def variance_stderr(self) -> float:
        """Standard error of :attr:`variance`."""
        return self._sem(2)

    @property
    def ci(self) -> tuple[float, float]:
        """Normal-approximation 95 % confidence interval of the risk."""
        return (self.risk - _Z95 * self.stderr, self.risk + _Z95 * self.stderr)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary plus the per-replicate samples (reload with :meth:`from_dict`)."""
        return {
            "risk": self.risk,
            "bias": self.bias,
            "variance": self.variance,
            "stderr": self.stderr,
            "bias_stderr": self.bias_stderr,
            "variance_stderr": self.variance_stderr,
            "ci95": list(self.ci),
            "reps": self.reps,
            "seed": self.seed,
            "problem": self.problem.to_dict(),
            "samples": self.samples.tolist(),
            "status": self.status.name,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MonteCarloResult:
        """Rebuild a result saved with :meth:`to_dict`.

        Dicts written before results had a status (no ``status`` key) still load; their status
        is derived from the problem and the samples.

        Raises
        ------
        ValueError
            If ``data`` is not a dict or lacks ``problem``, ``reps``, ``seed`` or ``samples``.
        """
        if not isinstance(data, dict):
            raise ValueError(f"MonteCarloResult.from_dict needs a dict, got {type(data).__name__}")
        missing = [key for key in ("problem", "reps", "seed", "samples") if key not in data]
        if missing:
            raise ValueError(f"MonteCarloResult.from_dict: missing key(s) {missing}; expected "
                             "the output of MonteCarloResult.to_dict()")
        try:
            samples = np.asarray(from_strict_json(data["samples"]), dtype=float).reshape(-1, 3)
        except (TypeError, ValueError):
            raise ValueError("MonteCarloResult.from_dict: samples must be a list of "
                             "(risk, bias, variance) rows") from None
        reps, seed = data["reps"], data["seed"]
        if isinstance(reps, bool) or not isinstance(reps, int) or reps != samples.shape[0]:
            raise ValueError(f"MonteCarloResult.from_dict: reps must be the integer number of "
                             f"sample rows ({samples.shape[0]}), got {reps!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"MonteCarloResult.from_dict: seed must be an integer >= 0, "
                             f"got {seed!r}")
        status = None
        if "status" in data:
            try:
                status = Status[data["status"]]
            except (KeyError, TypeError):
                raise ValueError("MonteCarloResult.from_dict: status must be one of "
                                 f"{[s.name for s in Status]}, got {data['status']!r}") from None
        return cls(Problem.from_dict(data["problem"]), reps, seed, samples, status,
                   str(data.get("message", "")))


def _status_of(problem: Problem, samples: np.ndarray) -> tuple[Status, str]:
    """Status of a Monte Carlo estimate from its problem and per-replicate samples."""
    bad = ~np.all(np.isfinite(samples), axis=1)
    if np.any(bad):
        return Status.NON_FINITE, (f"{int(bad.sum())} of {samples.shape[0]} replicates are not "
                                   "finite (overflow or a degenerate draw)")
    if problem.reg == 0 and abs(problem.d - problem.n) <= 1:
        return Status.AT_INTERPOLATION_THRESHOLD, (
            f"|d - N| = {abs(problem.d - problem.n)} <= 1 with reg = 0: the mean test risk is "
            "infinite (smallest singular value of Y near 0), the sample mean and stderr "
            "estimate nothing")
    return Status.SUCCESS, ""


def _count(name: str, value: Any, lo: int, extra: str = "") -> int:
    """``value`` as an int ``>= lo``, else a ValueError naming ``name`` and the range."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < lo:
        tail = f" ({extra})" if extra else ""
        raise ValueError(f"{name} must be an integer >= {lo}{tail}, got {value!r}")
    return int(value)


def _limit_blas_in_worker(threads: int) -> None:  # pragma: no cover - runs in workers
    threadpool_limits(limits=threads, user_api="blas")


def monte_carlo_risks(
    problems: Sequence[Problem],
    reps: int = 100,
    seed: int = 0,
    *,
    workers: int = 1,
    executor: Executor | None = None,
    blas_threads: int | None = None,
    batch_size: int | None = None,
    progress: bool | Callable[[int], None] = False,
    method: str = "gram",
) -> list[MonteCarloResult]:
    """Monte Carlo estimates of several problems that share their training draws.

    Every problem must have the same :func:`training_side` (they may differ only in
    ``test_energy`` and ``eta2_test``). Each replicate is drawn and trained once and evaluated
    for every problem, so result ``i`` equals ``monte_carlo_risk(problems[i], reps, seed)``
    (same seeds, same draws) at the cost of a single run.

    Parameters
    ----------
    problems : sequence of Problem
        At least one.
    reps : int
        Number of independent replicates (>= 1).
    seed : int
        Root seed (>= 0); replicate ``j`` uses child ``j`` of ``SeedSequence(seed)``.
    workers : int
        Number of local worker processes when no ``executor`` is given (1 = serial).
    executor : concurrent.futures.Executor, optional
        Any executor (e.g. a dask ``distributed.Client.get_executor()``); replicates are sent in
        batches. Overrides ``workers``.
    blas_threads : int, optional
        BLAS threads per worker. Default: 1 with several workers or an executor, unchanged
        when serial.
    batch_size : int, optional
        Replicates per task; default spreads the work in about four tasks per worker.
    progress : bool or callable
        ``True`` shows a tqdm progress bar; a callable is called with the number of
        replicates finished after each batch.
    method : {"gram", "dense"}
        How replicates are drawn (:func:`replicate_risk`); the default ``"gram"`` never forms
        the ``d x N`` training set, ``"dense"`` is the reference.

    Returns
    -------
    list of MonteCarloResult
        One per problem, in order.
    """
    problems = tuple(problems)
    if not problems or not all(isinstance(p, Problem) for p in problems):
        raise ValueError("problems must be a non-empty sequence of Problem")
    side = training_side(problems[0])
    for p in problems[1:]:
        if training_side(p) != side:
            raise ValueError("problems evaluated on shared draws may differ only in "
                             f"{' and '.join(_TEST_SIDE)}; got {problems[0]!r} and {p!r}")
    method = _check_method(method)
    reps = _count("reps", reps, 1)
    seed = _count("seed", seed, 0)
    workers = _count("workers", workers, 1)
    if batch_size is not None:
        batch_size = _count("batch_size", batch_size, 1, "or None for the default")
    if blas_threads is not None:
        blas_threads = _count("blas_threads", blas_threads, 1, "or None to leave BLAS alone")
    seeds = np.random.SeedSequence(int(seed)).spawn(int(reps))
    parallel = executor is not None or workers > 1
    if blas_threads is None and parallel:
        blas_threads = 1
    n_tasks = 4 * (workers if executor is None else max(workers, os.cpu_count() or 1))
    size = batch_size if batch_size is not None else max(1, -(-reps // n_tasks))
    batches = [(i, seeds[i:i + size]) for i in range(0, reps, size)]

    bar = None
    if progress is True:
        bar = tqdm(total=reps, desc="replicates", unit="rep")

    def report(n: int) -> None:
        if bar is not None:
            bar.update(n)
        elif callable(progress):
            progress(n)

    samples = np.full((reps, len(problems), 3), np.nan)
    own_pool = None
    try:
        if not parallel:
            for start, chunk in batches:
                samples[start:start + len(chunk)] = _run_batch(problems, chunk, blas_threads,
                                                               method)
                report(len(chunk))
        else:
            if executor is None:
                own_pool = ProcessPoolExecutor(max_workers=workers,
                                               initializer=_limit_blas_in_worker,
                                               initargs=(blas_threads,))
                executor = own_pool
            futures = {executor.submit(_run_batch, problems, chunk, blas_threads, method):
                       (start, chunk)
                       for start, chunk in batches}

            for fut in as_completed(futures):
                start, chunk = futures[fut]
                samples[start:start + len(chunk)] = fut.result()
                report(len(chunk))
    finally:
        if own_pool is not None:
            own_pool.shutdown()
        if bar is not None:
            bar.close()
    return [MonteCarloResult(p, int(reps), int(seed), np.ascontiguousarray(samples[:, j]))
            for j, p in enumerate(problems)]


def monte_carlo_risk(
    problem: Problem,
    reps: int = 100,
    seed: int = 0,
    *,
    workers: int = 1,
    executor: Executor | None = None,
    blas_threads: int | None = None,
    batch_size: int | None = None,
    progress: bool | Callable[[int], None] = False,
    method: str = "gram",
) -> MonteCarloResult:
    """Monte Carlo estimate of the test risk of ``problem``.

    Parameters
    ----------
    problem : Problem
    reps : int
        Number of independent replicates (>= 1).
    seed : int
        Root seed (>= 0); replicate ``j`` uses child ``j`` of ``SeedSequence(seed)``.
    workers : int
        Number of local worker processes when no ``executor`` is given (1 = serial).
    executor : concurrent.futures.Executor, optional
        Any executor (e.g. a dask ``distributed.Client.get_executor()``); replicates are sent in
        batches. Overrides ``workers``.
    blas_threads : int, optional
        BLAS threads per worker. Default: 1 with several workers or an executor, unchanged
        when serial.
    batch_size : int, optional
        Replicates per task; default spreads the work in about four tasks per worker.
    progress : bool or callable
        ``True`` shows a tqdm progress bar; a callable is called with the number of
        replicates finished after each batch.
    method : {"gram", "dense"}
        How replicates are drawn (:func:`replicate_risk`); the default ``"gram"`` never forms
        the ``d x N`` training set, ``"dense"`` is the reference.

    Returns
    -------
    MonteCarloResult
    """
    return monte_carlo_risks((problem,), reps, seed, workers=workers, executor=executor,
                             blas_threads=blas_threads, batch_size=batch_size,
                             progress=progress, method=method)[0]
