"""Import the JSON-lines files of ``rmtrisk verify --out FILE.jsonl`` into a :class:`SweepStore`.

A JSON-lines row names its cell by the verification key (``"d=60 c=2 plain k=2 spiked
in-dist"``) and carries the Monte Carlo summary (``mc``, ``stderr``, ``mc_bias``,
``mc_variance``, ``reps``, ``seed``) but neither the full problem nor the per-replicate
samples nor the code version. The problem is rebuilt from the verification grid at the row's
``d`` and ``c``; the row is stored with ``code_version`` :data:`IMPORTED_VERSION` (so a sweep
never resumes from it: the code that made it is unknown), ``samples`` NULL, the theory of the
current code beside it, and the whole original row under ``extra``. Rows whose key is not a
cell of the verification grid are skipped and counted.
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from ..montecarlo import MonteCarloResult
from ..problem import Problem
from ..theory import asymptotic_risk
from ..verification import ResultStore, verification_grid
from .store import CellRecord, SweepStore, cell_key

__all__ = ["IMPORTED_VERSION", "import_jsonl"]

#: ``code_version`` of imported rows.
IMPORTED_VERSION = "unknown (imported from JSON lines)"

_KEY = re.compile(r"^d=(\d+) c=(\S+) ")


def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)


def import_jsonl(path: str | os.PathLike[str], store: SweepStore) -> tuple[int, list[str]]:
    """Copy every row of a verify JSON-lines file into ``store``.

    Parameters
    ----------
    path : str or Path
        The JSON-lines file (a torn last line is repaired by
        :class:`~rmtrisk.verification.ResultStore` on opening).
    store : SweepStore

    Returns
    -------
    (int, list of str)
        The number of rows imported and the keys of the rows skipped (not a verification
        cell, or without ``reps``/``seed``/``mc``).

    Raises
    ------
    ValueError
        If ``path`` does not exist.
    """
    if not os.path.exists(path):
        raise ValueError(f"JSON-lines file {str(path)!r} does not exist")
    rows = ResultStore(path)
    grids: dict[tuple[int, str], dict[str, Problem]] = {}
    imported, skipped = 0, []
    for row in rows:
        label = str(row.get("key", ""))
        match = _KEY.match(label)
        if match is None or not all(k in row for k in ("reps", "seed", "mc", "stderr")):
            skipped.append(label)
            continue
        d, c = int(match.group(1)), match.group(2)
        if (d, c) not in grids:
            try:
                grids[d, c] = {cell.key: cell.problem
                               for cell in verification_grid(d, (float(c),))}
            except ValueError:
                grids[d, c] = {}
        problem = grids[d, c].get(label)
        if problem is None:
            skipped.append(label)
            continue
        reps, seed = int(row["reps"]), int(row["seed"])
        means = [_number(row["mc"]), _number(row.get("mc_bias")),
                 _number(row.get("mc_variance"))]
        # the status an estimate with these means has (non-finite, or c = 1 without reg)
        status = MonteCarloResult(problem, 1, seed, np.array([means])).status
        theory = asymptotic_risk(problem, throw=False)
        se = _number(row["stderr"])
        ok = np.isfinite(theory.risk) and np.isfinite(se) and se > 0
        store.put(CellRecord(
            label=label, problem=problem, reps=reps, seed=seed, mc_risk=means[0],
            mc_stderr=se, mc_bias=means[1], mc_variance=means[2], mc_status=status.name,
            samples=None, theory_risk=theory.risk, theory_bias=theory.bias,
            theory_variance=theory.variance, theory_status=theory.status.name,
            regime=str(theory.regime),
            z=float((means[0] - theory.risk) / se) if ok else float("nan"),
            code_version=IMPORTED_VERSION, extra=dict(row),
            source=f"import:{os.path.basename(path)}",
            key=cell_key(problem, reps, seed, IMPORTED_VERSION)))
        imported += 1
    return imported, skipped
