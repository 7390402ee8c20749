"""Append-only JSON-lines results store: finished rows survive an interrupted sweep.

Each row is one JSON object with a unique ``key``. A sweep opens the store, skips keys already
present with the same replicate count and seed (:meth:`ResultStore.finished`) and appends every
finished row at once (flushed and fsynced), so it can be stopped at any time and resumed by
running the same command again. A last line torn by an interruption is cut off when the store
is opened, so the next row starts a line of its own; the latest row of a key wins.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["ResultStore"]


class ResultStore:
    """Rows keyed by ``row["key"]`` in a JSON-lines file.

    Parameters
    ----------
    path : str or Path
        The file; created on the first :meth:`append`.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._rows: dict[str, dict[str, Any]] = {}
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        good = 0  # end of the last complete, parseable line
        for line in data.splitlines(keepends=True):
            text = line.strip()
            if not line.endswith(b"\n"):
                break  # a last line cut by an interruption: dropped and repaired below
            good += len(line)
            if not text:
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError:  # a damaged complete line: skipped, kept in the file
                continue
            self._rows[row["key"]] = row
        if good < len(data):  # truncate the torn tail so that the next row starts a line
            with self.path.open("r+b") as fh:
                fh.truncate(good)
                fh.flush()
                os.fsync(fh.fileno())

    def __contains__(self, key: str) -> bool:
        return key in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._rows.values())

    def finished(self, key: str, reps: int, seed: int) -> dict[str, Any] | None:
        """The stored row with this key if it was computed with these ``reps`` and ``seed``
        (a different replicate count or seed is a different result)."""
        row = self._rows.get(key)
        if row is not None and row.get("reps") == reps and row.get("seed") == seed:
            return row
        return None

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored row with this key, if any."""
        return self._rows.get(key)

    def append(self, row: dict[str, Any]) -> None:
        """Store a finished row durably."""
        if "key" not in row:
            raise ValueError("a stored row needs a 'key'")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as fh:
            fh.write(json.dumps(row, allow_nan=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self._rows[row["key"]] = row
