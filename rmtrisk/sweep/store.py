"""SQLite results store of the sweeps: one row per finished cell, written only by the client.

A *cell* is one problem estimated with ``reps`` replicates from root ``seed`` by one version of
the Monte Carlo code. Its key (:func:`cell_key`) is the SHA-256 of the canonical JSON of
``(problem, reps, seed, code_version)``, so a different replicate count, seed or code version
is a different cell. The file is opened in WAL mode with ``synchronous=FULL`` and every cell is
written in its own transaction: a client killed at any moment (SIGINT, SIGKILL, also in the
middle of a write) leaves the file with every committed cell and no partial row; SQLite rolls
an unfinished transaction back when the file is next opened.

Non-finite numbers are stored as SQL ``NULL`` (SQLite has no NaN) and read back as ``nan``;
the status columns say why a value is missing. The schema is in docs/sweeps.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..montecarlo import MonteCarloResult
from ..problem import Problem
from ..serialize import from_strict_json, strict_json_value
from ..status import Status

__all__ = ["SCHEMA_VERSION", "CellRecord", "SweepStore", "cell_key", "code_version"]

SCHEMA_VERSION = 1

#: The Monte Carlo modules whose source defines the code version of a result.
_MC_SOURCES = ("sampling.py", "training.py", "estimate.py")

_COLUMNS = (
    ("key", "TEXT PRIMARY KEY"),
    ("label", "TEXT NOT NULL"),
    ("problem", "TEXT NOT NULL"),
    ("d", "INTEGER NOT NULL"),
    ("n", "INTEGER NOT NULL"),
    ("c", "REAL NOT NULL"),
    ("rank", "INTEGER NOT NULL"),
    ("k", "INTEGER NOT NULL"),
    ("skip", "INTEGER NOT NULL"),
    ("reg", "REAL NOT NULL"),
    ("eta2_train", "REAL NOT NULL"),
    ("eta2_test", "REAL NOT NULL"),
    ("reps", "INTEGER NOT NULL"),
    ("seed", "INTEGER NOT NULL"),
    ("code_version", "TEXT NOT NULL"),
    ("mc_risk", "REAL"),
    ("mc_stderr", "REAL"),
    ("mc_bias", "REAL"),
    ("mc_variance", "REAL"),
    ("mc_status", "TEXT NOT NULL"),
    ("samples", "TEXT"),
    ("theory_risk", "REAL"),
    ("theory_bias", "REAL"),
    ("theory_variance", "REAL"),
    ("theory_status", "TEXT NOT NULL"),
    ("regime", "TEXT NOT NULL"),
    ("z", "REAL"),
    ("extra", "TEXT NOT NULL"),
    ("source", "TEXT NOT NULL"),
    ("seconds", "REAL"),
    ("finished_at", "TEXT NOT NULL"),
)
COLUMN_NAMES = tuple(name for name, _ in _COLUMNS)


def code_version() -> str:
    """``"<rmtrisk version>+mc.<digest>"``: the package version and the first 12 hex digits of
    the SHA-256 of the Monte Carlo sources (sampling, training, estimate), so that any change
    to the code that draws and trains the replicates makes new cells."""
    digest = hashlib.sha256()
    base = resources.files("rmtrisk.montecarlo")
    for name in _MC_SOURCES:
        digest.update(name.encode())
        digest.update(base.joinpath(name).read_bytes())
    return f"{__version__}+mc.{digest.hexdigest()[:12]}"


def _canonical(obj: Any) -> str:
    return json.dumps(strict_json_value(obj), sort_keys=True, separators=(",", ":"),
                      allow_nan=False)


def cell_key(problem: Problem, reps: int, seed: int, version: str) -> str:
    """The store key of a cell: SHA-256 (hex) of the canonical JSON of the full problem
    (:meth:`Problem.to_dict`), ``reps``, ``seed`` and the code ``version``."""
    text = _canonical({"problem": problem.to_dict(), "reps": int(reps), "seed": int(seed),
                       "code_version": version})
    return hashlib.sha256(text.encode()).hexdigest()


def _real(value: Any) -> float | None:
    """A float for SQLite, ``None`` for non-finite values (SQLite stores NaN as NULL)."""
    if value is None:
        return None
    out = float(value)
    return out if np.isfinite(out) else None


def _back(value: Any) -> float:
    return float("nan") if value is None else float(value)


@dataclass(frozen=True)
class CellRecord:
    """One finished cell: the Monte Carlo estimate and the theory beside it.

    Attributes
    ----------
    label : str
        Readable name of the cell (not part of the key).
    problem : Problem
    reps, seed : int
        Replicate count and root seed of the estimate.
    mc_risk, mc_stderr, mc_bias, mc_variance : float
        The Monte Carlo means and the standard error of the risk.
    mc_status : str
        The estimate's :class:`~rmtrisk.status.Status` name.
    samples : ndarray of shape (reps, 3) or None
        Per-replicate ``(risk, bias, variance)``; ``None`` for rows imported without them.
    theory_risk, theory_bias, theory_variance : float
        The default theory (:func:`~rmtrisk.theory.asymptotic_risk`), ``nan`` when it has none.
    theory_status : str
        Its status name.
    regime : str
        The closed form used.
    z : float
        ``(mc_risk - theory_risk) / mc_stderr`` (``nan`` without a finite theory or stderr).
    code_version : str
        :func:`code_version` of the code that computed the estimate.
    extra : dict
        Further columns (e.g. the verification columns of ``rmtrisk verify``).
    source : str
        ``"sweep"``, ``"verify"`` or ``"import:<file name>"``.
    seconds : float
        Wall time spent on the cell's Monte Carlo (``nan`` when not known).
    key : str
        :func:`cell_key` of the cell.
    resumed : bool
        True when the record was read from a store instead of computed.
    """

    label: str
    problem: Problem
    reps: int
    seed: int
    mc_risk: float
    mc_stderr: float
    mc_bias: float
    mc_variance: float
    mc_status: str
    samples: np.ndarray | None
    theory_risk: float
    theory_bias: float
    theory_variance: float
    theory_status: str
    regime: str
    z: float
    code_version: str
    extra: dict[str, Any] = field(default_factory=dict)
    source: str = "sweep"
    seconds: float = float("nan")
    key: str = ""
    resumed: bool = False

    def monte_carlo(self) -> MonteCarloResult:
        """The estimate as a :class:`~rmtrisk.montecarlo.MonteCarloResult`.

        Raises
        ------
        ValueError
            For a record imported without per-replicate samples.
        """
        if self.samples is None:
            raise ValueError(f"cell {self.label!r} was imported without per-replicate samples")
        return MonteCarloResult(self.problem, self.reps, self.seed, self.samples,
                                Status[self.mc_status])

    def row(self) -> dict[str, Any]:
        """A flat dict for tables: parameters, theory, Monte Carlo, z and statuses."""
        p = self.problem
        return {"label": self.label, "d": p.d, "n": p.n, "c": p.c, "rank": p.r, "k": p.k,
                "skip": p.skip, "reg": p.reg, "eta2_train": p.eta2_train,
                "eta2_test": p.eta2_test, "reps": self.reps, "seed": self.seed,
                "theory": self.theory_risk, "mc": self.mc_risk, "se": self.mc_stderr,
                "z": self.z, "theory_status": self.theory_status, "mc_status": self.mc_status,
                "regime": self.regime, "code_version": self.code_version,
                "source": self.source, "seconds": self.seconds, "key": self.key}


class SweepStore:
    """The SQLite file of a sweep (created with its schema when missing).

    Parameters
    ----------
    path : str or Path
        The database file. Only the process that runs the sweep (the client) opens it;
        workers never write.
    timeout : float
        Seconds to wait for a lock held by another connection.

    Raises
    ------
    ValueError
        If the file exists but is not a results store of this schema.
    """

    def __init__(self, path: str | os.PathLike[str], timeout: float = 30.0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.connection = sqlite3.connect(self.path, timeout=timeout)
            self.connection.execute("PRAGMA journal_mode=WAL")
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"store {str(self.path)!r} is not an SQLite results store "
                             f"({exc})") from None
        self.connection.execute("PRAGMA synchronous=FULL")
        with self.connection:
            self.connection.execute("CREATE TABLE IF NOT EXISTS meta "
                                    "(name TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self.connection.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                                    (str(SCHEMA_VERSION),))
            columns = ", ".join(f"{name} {kind}" for name, kind in _COLUMNS)
            self.connection.execute(f"CREATE TABLE IF NOT EXISTS cells ({columns})")
        found = self.connection.execute(
            "SELECT value FROM meta WHERE name = 'schema_version'").fetchone()[0]
        have = [row[1] for row in self.connection.execute("PRAGMA table_info(cells)")]
        if found != str(SCHEMA_VERSION) or tuple(have) != COLUMN_NAMES:
            raise ValueError(f"store {str(self.path)!r} has schema version {found} with columns "
                             f"{have}; this rmtrisk writes version {SCHEMA_VERSION}")

    def close(self) -> None:
        """Close the connection (committed cells are already on disk)."""
        self.connection.close()

    def __enter__(self) -> SweepStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __len__(self) -> int:
        return int(self.connection.execute("SELECT COUNT(*) FROM cells").fetchone()[0])

    def __contains__(self, key: str) -> bool:
        return self.connection.execute("SELECT 1 FROM cells WHERE key = ?",
                                       (key,)).fetchone() is not None

    def get(self, key: str) -> CellRecord | None:
        """The finished cell with this key, if stored."""
        cur = self.connection.execute(f"SELECT {', '.join(COLUMN_NAMES)} FROM cells "
                                      "WHERE key = ?", (key,))
        row = cur.fetchone()
        return None if row is None else _record(dict(zip(COLUMN_NAMES, row, strict=True)))

    def put(self, record: CellRecord) -> None:
        """Write one finished cell in its own transaction (replacing a row with its key)."""
        p = record.problem
        samples = None if record.samples is None else _canonical(record.samples.tolist())
        values = {
            "key": record.key, "label": record.label, "problem": _canonical(p.to_dict()),
            "d": p.d, "n": p.n, "c": p.c, "rank": p.r, "k": p.k, "skip": int(p.skip),
            "reg": p.reg, "eta2_train": p.eta2_train, "eta2_test": p.eta2_test,
            "reps": record.reps, "seed": record.seed, "code_version": record.code_version,
            "mc_risk": _real(record.mc_risk), "mc_stderr": _real(record.mc_stderr),
            "mc_bias": _real(record.mc_bias), "mc_variance": _real(record.mc_variance),
            "mc_status": record.mc_status, "samples": samples,
            "theory_risk": _real(record.theory_risk), "theory_bias": _real(record.theory_bias),
            "theory_variance": _real(record.theory_variance),
            "theory_status": record.theory_status, "regime": record.regime,
            "z": _real(record.z), "extra": _canonical(record.extra), "source": record.source,
            "seconds": _real(record.seconds),
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        marks = ", ".join("?" for _ in COLUMN_NAMES)
        with self.connection:  # one transaction: committed whole or rolled back
            self.connection.execute(f"INSERT OR REPLACE INTO cells ({', '.join(COLUMN_NAMES)}) "
                                    f"VALUES ({marks})", [values[c] for c in COLUMN_NAMES])

    def records(self, where: str = "", params: Iterable[Any] = ()) -> Iterator[CellRecord]:
        """Stored cells in insertion order, optionally filtered by an SQL ``where`` clause on
        the columns (with ``?`` placeholders bound to ``params``)."""
        sql = f"SELECT {', '.join(COLUMN_NAMES)} FROM cells"
        if where:
            sql += f" WHERE {where}"
        for row in self.connection.execute(sql + " ORDER BY rowid", tuple(params)):
            yield _record(dict(zip(COLUMN_NAMES, row, strict=True)))


def _record(row: dict[str, Any]) -> CellRecord:
    samples = None
    if row["samples"] is not None:
        samples = np.asarray(from_strict_json(json.loads(row["samples"])),
                             dtype=float).reshape(-1, 3)
    return CellRecord(
        label=row["label"], problem=Problem.from_dict(json.loads(row["problem"])),
        reps=int(row["reps"]), seed=int(row["seed"]), mc_risk=_back(row["mc_risk"]),
        mc_stderr=_back(row["mc_stderr"]), mc_bias=_back(row["mc_bias"]),
        mc_variance=_back(row["mc_variance"]), mc_status=row["mc_status"], samples=samples,
        theory_risk=_back(row["theory_risk"]), theory_bias=_back(row["theory_bias"]),
        theory_variance=_back(row["theory_variance"]), theory_status=row["theory_status"],
        regime=row["regime"], z=_back(row["z"]), code_version=row["code_version"],
        extra=json.loads(row["extra"]), source=row["source"], seconds=_back(row["seconds"]),
        key=row["key"], resumed=True)
