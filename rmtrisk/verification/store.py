"""Append-only JSON-lines results store: finished rows survive an interrupted sweep.

Each row is one JSON object with a unique ``key``. A sweep opens the store, skips keys already
present and appends every finished row at once (flushed and fsynced), so it can be stopped at
any time and resumed by running the same command again.
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
        if self.path.exists():
            with self.path.open() as fh:
                for line in fh:
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError:  # a line cut by an interruption
                        continue
                    self._rows[row["key"]] = row

    def __contains__(self, key: str) -> bool:
        return key in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._rows.values())

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
