"""The risk over a grid of problems that share one spectrum: :func:`risk_grid`.

Any of ``c`` (or ``n``), ``k`` (or ``kappa``), ``reg``, ``eta2_train``, ``eta2_test`` and
``skip`` may be an array; they broadcast together (numpy rules) and every cell of the broadcast
shape is one :class:`~rmtrisk.Problem` with the grid's spectrum (``sv`` or ``energy``, and
``test_energy``). Each cell gets exactly the value :func:`~rmtrisk.theory.asymptotic_risk`
gives for that problem, with its status: nothing raises inside the grid (bad *input* raises
before any cell is computed, naming the parameter).

The result :class:`RiskGrid` carries arrays of the broadcast shape (risk, bias, variance,
status, error, regime, terms), the broadcast parameters, and is self-describing:
:meth:`RiskGrid.to_dict` is strict JSON (``null`` for non-finite values) and
:meth:`RiskGrid.from_dict` reloads it; :meth:`RiskGrid.rows` gives one dict per cell for the
table writers; :meth:`RiskGrid.to_frame` a pandas DataFrame (optional extra ``frame``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..problem import Problem
from ..serialize import from_strict_json, strict_json_value
from ..status import Status
from .risk import VARIANTS, asymptotic_risk

__all__ = ["GRID_PARAMETERS", "RiskGrid", "risk_grid"]

#: The parameters that may vary over a grid, in the order of :meth:`RiskGrid.rows`.
GRID_PARAMETERS = ("c", "n", "k", "kappa", "reg", "eta2_train", "eta2_test", "skip")
_OUTPUTS = ("risk", "bias", "variance", "error")


@dataclass(frozen=True)
class RiskGrid:
    """Risk of every cell of a broadcast grid of problems (read-only arrays).

    Attributes
    ----------
    risk, bias, variance, error : ndarray
        As in :class:`~rmtrisk.theory.RiskResult`, one entry per cell.
    status : ndarray of int8
        :class:`~rmtrisk.status.Status` codes after the status policy.
    regime, terms, message : ndarray of str
        Which closed form, which terms, and the result's message, per cell.
    parameters : dict of str to ndarray
        The broadcast grid parameters (``GRID_PARAMETERS`` that were given, plus the derived
        ``n``, ``k`` and ``c``), each of the grid's shape.
    fixed : dict
        What every cell shares: ``d``, the spectrum, ``variant``, ``finite_size``, ``limit``,
        ``critical_set``.
    """

    risk: np.ndarray
    bias: np.ndarray
    variance: np.ndarray
    error: np.ndarray
    status: np.ndarray
    regime: np.ndarray
    terms: np.ndarray
    message: np.ndarray
    parameters: dict[str, np.ndarray] = field(default_factory=dict)
    fixed: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, ...]:
        """The broadcast shape of the grid."""
        return self.risk.shape

    def success(self) -> np.ndarray:
        """Boolean array: cells whose status is SUCCESS."""
        return self.status == int(Status.SUCCESS)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per cell (C order): the parameters, then risk, bias, variance, status."""
        out = []
        for idx in np.ndindex(self.shape):
            row = {name: _scalar(values[idx]) for name, values in self.parameters.items()}
            row.update({name: float(getattr(self, name)[idx]) for name in _OUTPUTS})
            row["status"] = Status(int(self.status[idx])).name
            row["regime"] = str(self.regime[idx])
            row["terms"] = str(self.terms[idx])
            out.append(row)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Strict-JSON dictionary (non-finite numbers as ``None``); :meth:`from_dict` inverts it."""
        return {
            "shape": list(self.shape),
            "fixed": {key: strict_json_value(value) for key, value in self.fixed.items()},
            "parameters": {key: strict_json_value(value.tolist())
                           for key, value in self.parameters.items()},
            **{name: strict_json_value(getattr(self, name).tolist()) for name in _OUTPUTS},
            "status": [Status(int(s)).name for s in self.status.ravel()],
            "regime": [str(s) for s in self.regime.ravel()],
            "terms": [str(s) for s in self.terms.ravel()],
            "message": [str(s) for s in self.message.ravel()],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RiskGrid:
        """Rebuild a grid from :meth:`to_dict` output."""
        if not isinstance(data, dict):
            raise TypeError(f"data must be a dict, got {type(data).__name__}")
        missing = {"shape", "fixed", "parameters", "status", *_OUTPUTS} - set(data)
        if missing:
            raise ValueError(f"not a RiskGrid dictionary: missing {sorted(missing)}")
        shape = tuple(int(s) for s in data["shape"])

        def floats(values: Any) -> np.ndarray:
            return _frozen(np.array(from_strict_json(values), dtype=float).reshape(shape))

        def strings(key: str) -> np.ndarray:
            return _frozen(np.array(data.get(key, [""] * int(np.prod(shape))),
                                    dtype=str).reshape(shape))

        status = np.array([int(Status[name]) for name in data["status"]], dtype=np.int8)
        params = {key: _frozen(np.array(from_strict_json(value)).reshape(shape))
                  for key, value in data["parameters"].items()}
        return cls(**{name: floats(data[name]) for name in _OUTPUTS},
                   status=_frozen(status.reshape(shape)), regime=strings("regime"),
                   terms=strings("terms"), message=strings("message"), parameters=params,
                   fixed=dict(data["fixed"]))

    def to_frame(self):
        """The :meth:`rows` as a pandas DataFrame (needs the optional extra ``frame``)."""
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError("RiskGrid.to_frame needs pandas: pip install 'rmtrisk[frame]' "
                              "(or pip install pandas)") from None
        return pd.DataFrame(self.rows())


def risk_grid(*, d: int, sv: Any = None, energy: Any = None, test_energy: Any = None,
              c: Any = None, n: Any = None, k: Any = None, kappa: Any = None, reg: Any = 0.0,
              eta2_train: Any = 1.0, eta2_test: Any = 1.0, skip: Any = False,
              critical_set: Any = None, variant: str = "default", finite_size: bool = False,
              limit: bool = False, progress: Callable[[int], Any] | None = None) -> RiskGrid:
    """Risk of every problem of a broadcast grid (module docstring).

    Parameters
    ----------
    d : int
        Ambient dimension (shared).
    sv, energy, test_energy : sequence of float
        The spectrum, shared by every cell (exactly one of ``sv`` and ``energy``), as in
        :class:`~rmtrisk.Problem`.
    c, n : array_like
        Aspect ratio or number of samples (exactly one).
    k, kappa : array_like
        Bottleneck width or ratio (exactly one).
    reg, eta2_train, eta2_test : array_like
        Regularization and noise levels.
    skip : array_like of bool
        Skip connection or not.
    critical_set : sequence of int, optional
        Shared by every cell (``None``: global minimizer).
    variant, finite_size, limit
        As in :func:`~rmtrisk.theory.asymptotic_risk` (shared).
    progress : callable, optional
        Called with the number of cells finished since the last call (e.g. a progress bar's
        ``update``); the computation itself prints nothing.

    Returns
    -------
    RiskGrid

    Raises
    ------
    ValueError
        For invalid input (naming the parameter and the cell), before any cell is computed.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    if (c is None) == (n is None):
        raise ValueError("give exactly one of c and n")
    if (k is None) == (kappa is None):
        raise ValueError("give exactly one of k and kappa")
    given = {"c": c, "n": n, "k": k, "kappa": kappa, "reg": reg, "eta2_train": eta2_train,
             "eta2_test": eta2_test, "skip": skip}
    given = {key: value for key, value in given.items() if value is not None}
    arrays = {}
    for key, value in given.items():
        arr = np.asarray(value)
        if arr.size == 0:
            raise ValueError(f"{key} must not be empty")
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                       or arr.dtype == bool):
            raise ValueError(f"{key} must be numeric, got {arr.dtype}")
        arrays[key] = arr
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError:
        raise ValueError("the grid parameters do not broadcast: shapes "
                         + ", ".join(f"{key}={a.shape}" for key, a in arrays.items())) from None
    cells = {key: np.broadcast_to(a, shape) for key, a in arrays.items()}
    spectrum = {"sv": sv, "energy": energy, "test_energy": test_energy}
    spectrum = {key: list(np.atleast_1d(np.asarray(value, dtype=float)))
                for key, value in spectrum.items() if value is not None}
    problems = []
    for idx in np.ndindex(shape):
        kw = {key: _scalar(values[idx]) for key, values in cells.items()}
        kw["skip"] = bool(kw.get("skip", False))
        try:
            problems.append(Problem(d=d, critical_set=critical_set, **spectrum, **kw))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"grid cell {idx} ({kw}): {exc}") from None
    results = []
    for p in problems:
        results.append(asymptotic_risk(p, variant, finite_size=finite_size, limit=limit,
                                       throw=False))
        if progress is not None:
            progress(1)

    def collect(fn, dtype) -> np.ndarray:
        return _frozen(np.array([fn(res) for res in results], dtype=dtype).reshape(shape))

    params = {key: _frozen(np.broadcast_to(a, shape).copy()) for key, a in cells.items()}
    derived = {"c": lambda p: p.c, "n": lambda p: p.n, "k": lambda p: p.k}
    for key, fn in derived.items():
        if key not in params:
            params[key] = _frozen(np.array([fn(p) for p in problems]).reshape(shape))
    order = [key for key in GRID_PARAMETERS if key in params]
    fixed = {"d": int(d), **spectrum, "critical_set": None if critical_set is None
             else [int(i) for i in critical_set], "variant": variant,
             "finite_size": bool(finite_size), "limit": bool(limit)}
    return RiskGrid(
        **{name: collect(lambda res, name=name: getattr(res, name), float)
           for name in _OUTPUTS},
        status=collect(lambda res: int(res.status), np.int8),
        regime=collect(lambda res: str(res.regime), str),
        terms=collect(lambda res: res.terms, str),
        message=collect(lambda res: res.message, str),
        parameters={key: params[key] for key in order}, fixed=fixed)


def _scalar(value: Any) -> Any:
    """A numpy scalar as the matching Python scalar."""
    return value.item() if hasattr(value, "item") else value


def _frozen(arr: np.ndarray) -> np.ndarray:
    arr = np.array(arr)
    arr.setflags(write=False)
    return arr
