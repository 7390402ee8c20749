"""Per-result status codes shared by the closed forms, the grid solver and the sweeps.

A result never raises inside a sweep: it carries one of these codes instead (``throw=False``).
The integer values are stable and are what the compiled kernels write into their status arrays.

The one status policy
---------------------
The engine (array in, array out) reports what happened in each cell. A result handed to a user
(:class:`rmtrisk.theory.RiskResult` and the other result types) applies :func:`settle`:

* ``SUCCESS`` stays ``SUCCESS``.
* ``AT_EDGE`` (the kept threshold sits on a spectral edge: full width, or the ``kappa -> 0``
  edge limit) is the exact edge value, so it becomes ``SUCCESS`` with a note in the message.
* ``MAX_ITERATIONS`` whose error estimate is at most ``rtol`` times the value
  (:data:`ACCEPT_RTOL`) becomes ``SUCCESS``; otherwise it stays ``MAX_ITERATIONS``.
* A finite value that breaks a physical invariant (:func:`check_invariants`: negative risk or
  variance, negative bias without skip connection) becomes ``INVALID_VALUE``: it is never
  reported as ``SUCCESS``.
* Everything else keeps its code. With ``throw=True`` every status other than ``SUCCESS``
  raises :class:`SolverError`.
"""

from __future__ import annotations

import math
from enum import IntEnum

import numpy as np

__all__ = ["ACCEPT_RTOL", "SolverError", "Status", "accepted", "check_invariants", "settle"]


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
    INVALID_VALUE
        The value breaks a physical invariant (negative risk or variance, negative bias without
        skip connection): the formula is outside its domain of validity there.
    ILL_CONDITIONED
        The value is returned but not trusted: an expansion the value relies on does not hold
        there (the skip interaction near c = 1 with small reg; the limit is returned). Nearly
        equal singular values at the bottleneck cutoff used to be; they are now sampled
        (docs/interaction.md §7).
    """

    SUCCESS = 0
    MAX_ITERATIONS = 1
    NON_FINITE = 2
    WRONG_BRANCH = 3
    AT_EDGE = 4
    AT_INTERPOLATION_THRESHOLD = 5
    UNSUPPORTED = 6
    INVALID_VALUE = 7
    ILL_CONDITIONED = 8

    @property
    def ok(self) -> bool:
        """True for :attr:`SUCCESS`."""
        return self is Status.SUCCESS


class SolverError(RuntimeError):
    """Raised (with ``throw=True``) when a result carries a status other than SUCCESS."""

    def __init__(self, status: Status, message: str = ""):
        self.status = Status(status)
        super().__init__(f"{self.status.name}: {message}" if message else self.status.name)


#: Relative error estimate below which a ``MAX_ITERATIONS`` cell is accepted as converged.
ACCEPT_RTOL = 1e-8

#: Relative slack for the sign invariants (rounding of a difference of O(scale) terms).
_SIGN_RTOL = 1e-10


def check_invariants(risk: float, bias: float, variance: float, skip: bool,
                     scale: float) -> str:
    """Name the physical invariant a finite ``(risk, bias, variance)`` breaks, or ``""``.

    Parameters
    ----------
    risk, bias, variance : float
        ``risk = bias + variance``.
    skip : bool
        With a skip connection the bias (risk minus variance) may be negative.
    scale : float
        Size of the terms the value is a difference of (e.g. total test energy plus test noise);
        values down to ``-1e-10 * scale`` count as rounding of zero.

    Returns
    -------
    str
        Empty when every invariant holds, else what is violated.
    """
    tol = _SIGN_RTOL * abs(scale)
    if not all(math.isfinite(x) for x in (risk, bias, variance)):
        return ""
    if variance < -tol:
        return f"negative variance {variance:.6g}"
    if risk < -tol:
        return f"negative risk {risk:.6g}"
    if not skip and bias < -tol:
        return f"negative bias {bias:.6g} (no skip connection: bias is a sum of squares)"
    return ""


def accepted(status, value, error):
    """Elementwise :func:`settle` for engine arrays: True where the cell counts as SUCCESS.

    Parameters
    ----------
    status, value, error : array_like
        Engine status codes, values and error estimates (broadcast together).

    Returns
    -------
    ndarray of bool
    """
    status, value, error = np.broadcast_arrays(np.asarray(status), np.asarray(value, float),
                                               np.asarray(error, float))
    converged = (status == int(Status.MAX_ITERATIONS)) & (error <= ACCEPT_RTOL * np.abs(value))
    ok = (status == int(Status.SUCCESS)) | (status == int(Status.AT_EDGE)) | converged
    return ok & np.isfinite(value)


def settle(status: Status, value: float, error: float = 0.0) -> tuple[Status, str]:
    """Apply the status policy to an engine status: ``(status, message)``.

    Parameters
    ----------
    status : Status
        What the engine reported for the cell.
    value : float
        The cell's value (the risk).
    error : float
        The engine's error estimate of ``value`` (0 for closed forms).

    Returns
    -------
    status : Status
        ``SUCCESS`` for ``AT_EDGE`` and for ``MAX_ITERATIONS`` with ``error <= ACCEPT_RTOL *
        |value|``; the input status otherwise.
    message : str
        Why the status is what it is (empty for a plain ``SUCCESS``).
    """
    status = Status(status)
    if status is Status.AT_EDGE:
        return Status.SUCCESS, "the kept threshold sits at a spectral edge (exact edge value)"
    if status is Status.MAX_ITERATIONS:
        if math.isfinite(value) and math.isfinite(error) and error <= ACCEPT_RTOL * abs(value):
            return Status.SUCCESS, f"iteration limit reached; error estimate {error:.2g} accepted"
        return status, f"the solver did not converge (error estimate {error:.2g})"
    if status is Status.SUCCESS:
        return status, ""
    return status, f"the solver reported {status.name}"
