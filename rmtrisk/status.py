"""Per-result status codes shared by the closed forms, the grid solver and the sweeps.

A result never raises inside a sweep: it carries one of these codes instead (``throw=False``).
The integer values are stable and are what the compiled kernels write into their status arrays.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["Status", "SolverError"]


class Status(IntEnum):
    """Outcome of one evaluation cell.

    Attributes
    ----------
    SUCCESS
        The value is finite and, for iterative solves, converged to tolerance.
    MAX_ITERATIONS
        An iterative solve stopped at its iteration limit before reaching tolerance.
    NON_FINITE
        A non-finite value (nan or inf) appeared where a finite one was expected.
    WRONG_BRANCH
        A Stieltjes-transform root left the physical (Herglotz) branch.
    AT_EDGE
        The cell sits on a spectral edge, where the root-find is ill conditioned.
    AT_INTERPOLATION_THRESHOLD
        The aspect ratio is c = 1, where the minimum-norm risk diverges (risk is inf).
    UNSUPPORTED
        No theory for this regime is implemented (yet); the value is nan.
    """

    SUCCESS = 0
    MAX_ITERATIONS = 1
    NON_FINITE = 2
    WRONG_BRANCH = 3
    AT_EDGE = 4
    AT_INTERPOLATION_THRESHOLD = 5
    UNSUPPORTED = 6

    @property
    def ok(self) -> bool:
        """True for :attr:`SUCCESS`."""
        return self is Status.SUCCESS


class SolverError(RuntimeError):
    """Raised (with ``throw=True``) when a result carries a status other than SUCCESS."""

    def __init__(self, status: Status, message: str = ""):
        self.status = Status(status)
        super().__init__(f"{self.status.name}: {message}" if message else self.status.name)
