"""Theory against Monte Carlo: the verification grid (:mod:`.grid`) and its resumable
JSON-lines result store (:mod:`.store`)."""

from __future__ import annotations

from .grid import (
    C_GRID,
    VerificationCell,
    compare,
    result_row,
    verification_grid,
    verify_cell,
    verify_cells,
)
from .store import ResultStore

__all__ = ["C_GRID", "ResultStore", "VerificationCell", "compare", "result_row",
           "verification_grid", "verify_cell", "verify_cells"]
