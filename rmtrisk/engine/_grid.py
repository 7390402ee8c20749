"""Array plumbing shared by the grid solvers: validation, broadcasting, results, ``throw``.

Every public grid function validates its inputs here *before* any compiled code runs (a
``ValueError`` naming the parameter and its valid range), broadcasts the cell parameters
together, runs its compiled loop over the flattened cells, and returns read-only arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..status import SolverError, Status

__all__ = ["broadcast", "check_maxiter", "float_array", "frozen", "law_inputs",
           "raise_if_bad", "require", "signal_inputs", "spectrum", "success_mask"]

_SUCCESS = int(Status.SUCCESS)


def frozen(a: np.ndarray) -> np.ndarray:
    """``a`` as a read-only array (results are immutable)."""
    a = np.asarray(a)
    a.flags.writeable = False
    return a


def float_array(name: str, value: Any) -> np.ndarray:
    """``value`` as a float array; ``ValueError`` naming ``name`` if not real and finite."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number or array of them, got {value!r}") from None
    bad = ~np.isfinite(arr)
    if np.any(bad):
        raise ValueError(f"{name} must be finite (no NaN or inf), got {arr[bad].flat[0]!r}")
    return arr


def require(name: str, arr: np.ndarray, ok: np.ndarray, valid: str) -> None:
    """``ValueError`` naming ``name``, its valid range and the first bad value unless ``ok``."""
    if not np.all(ok):
        raise ValueError(f"{name} must be {valid}, got {np.asarray(arr)[~ok].flat[0]!r}")


def law_inputs(gamma: Any, scale: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validated ``(gamma, scale)`` of a Marchenko–Pastur law (both ``> 0``)."""
    g = float_array("gamma", gamma)
    require("gamma", g, g > 0, "> 0 (ratio p/n)")
    s = float_array("scale", scale)
    require("scale", s, s > 0, "> 0")
    return g, s


def spectrum(name: str, value: Any, positive: bool) -> np.ndarray:
    """A non-empty 1-d spectrum (``> 0`` if ``positive``, else ``>= 0``), contiguous."""
    arr = float_array(name, value)
    arr = np.atleast_1d(arr)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty one-dimensional array, got shape "
                         f"{arr.shape}")
    if positive:
        require(name, arr, arr > 0, "> 0 (drop zero directions)")
    else:
        require(name, arr, arr >= 0, ">= 0")
    return np.ascontiguousarray(arr)


def raise_if_bad(status: np.ndarray, what: str) -> None:
    """``SolverError`` with the first non-SUCCESS code (the ``throw=True`` path)."""
    bad = status != _SUCCESS
    if np.any(bad):
        idx = np.unravel_index(int(np.argmax(bad)), status.shape) if status.ndim else ()
        code = Status(int(status[idx]))
        raise SolverError(code, f"{int(bad.sum())} of {status.size} {what} cells not SUCCESS "
                                f"(first at index {tuple(int(i) for i in idx)})")


# ============================================================================================


def broadcast(*arrays: np.ndarray) -> tuple[tuple[int, ...], list[np.ndarray]]:
    """The broadcast shape and the flattened float copies of ``arrays``."""
    b = np.broadcast_arrays(*arrays)
    shape = b[0].shape
    return shape, [np.array(x, dtype=float).ravel() for x in b]


def check_maxiter(maxiter: Any) -> int:
    """Validate an iteration limit (an integer ``>= 1``)."""
    if isinstance(maxiter, bool) or not isinstance(maxiter, (int, np.integer)) or maxiter < 1:
        raise ValueError(f"maxiter must be an integer >= 1, got {maxiter!r}")
    return int(maxiter)


def signal_inputs(eta2_train: Any, eta2_test: Any, sv: Any, test_energy: Any, d: Any):
    """Validated noise levels, signal spectrum, test energies and dimension ``d >= r``."""
    e2tr = float_array("eta2_train", eta2_train)
    require("eta2_train", e2tr, e2tr > 0, "> 0 (training-noise level)")
    e2te = float_array("eta2_test", eta2_test)
    require("eta2_test", e2te, e2te >= 0, ">= 0 (test-noise level)")
    svs = spectrum("sv", sv, positive=True)
    ell = spectrum("test_energy", test_energy, positive=False)
    if ell.size != svs.size:
        raise ValueError(f"test_energy must have one entry per direction (r={svs.size}), "
                         f"got {ell.size}")
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
        raise ValueError(f"d must be an integer, got {d!r}")
    if d < svs.size:
        raise ValueError(f"d must be an integer >= r = len(sv) = {svs.size}, got {d}")
    return e2tr, e2te, svs, ell, int(d)


def _success(result: Any) -> np.ndarray:
    """Boolean mask of SUCCESS cells."""
    return result.status == _SUCCESS


#: ``result.success`` of every grid result type: the boolean mask of SUCCESS cells.
success_mask = property(_success)
