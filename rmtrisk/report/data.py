"""Reading data matrices: ``.npy``, ``.npz``, ``.csv`` and CIFAR-10's python batch files, with
the sample axis stated by the caller, returned as ``d x n`` (one sample per column). The
spectrum the theory needs is computed from them by :mod:`rmtrisk.data_spectrum`.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["SAMPLE_AXES", "load_matrix"]

#: How samples sit in a file: one per row (``n x d``, the usual layout of data sets) or one per
#: column (``d x n``, the layout of the theory).
SAMPLE_AXES = ("rows", "columns")


def _cifar_batch(path: Path) -> np.ndarray:
    """The ``(10000, 3072)`` uint8 rows of a CIFAR-10 python batch (a pickled dict)."""
    with path.open("rb") as fh:
        # a CIFAR-10 batch is a pickle: only open files you trust (the docs say so)
        batch = pickle.load(fh, encoding="bytes")
    data = batch.get(b"data") if isinstance(batch, dict) else None
    if data is None:
        raise ValueError(f"{path}: not a CIFAR-10 python batch (no b'data' entry)")
    return np.asarray(data)


def load_matrix(path: str | Path, *, samples_as: str, key: str | None = None) -> np.ndarray:
    """Read a data matrix and return it as ``d x n`` floats (one sample per column).

    Parameters
    ----------
    path : str or Path
        ``.npy``; ``.npz`` (the array ``key``, or its only array); ``.csv`` / ``.txt``
        (comma-separated numbers, an optional header line of names is skipped); or a CIFAR-10
        python batch (``data_batch_1`` ... ``data_batch_5``, ``test_batch``: samples are rows,
        pixels are scaled to [0, 1]). A batch is a pickle: open only files you trust.
    samples_as : {"rows", "columns"}
        Whether the file holds one sample per row or per column.
    key : str, optional
        Array name inside an ``.npz``.

    Returns
    -------
    ndarray, shape (d, n)
    """
    if samples_as not in SAMPLE_AXES:
        raise ValueError(f"samples_as must be one of {SAMPLE_AXES}, got {samples_as!r}")
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"data file {str(path)!r} does not exist")
    name = path.name
    if name.startswith(("data_batch", "test_batch")) and path.suffix == "":
        if samples_as != "rows":
            raise ValueError("a CIFAR-10 batch holds one sample per row: use samples_as='rows'")
        raw: Any = _cifar_batch(path).astype(float) / 255.0
    elif path.suffix == ".npy":
        raw = np.load(path, allow_pickle=False)
    elif path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            names = list(archive.files)
            if key is None and len(names) != 1:
                raise ValueError(f"{name} holds the arrays {names}: choose one with key")
            if key is not None and key not in names:
                raise ValueError(f"{name} has no array {key!r} (it holds {names})")
            raw = archive[key if key is not None else names[0]]
    elif path.suffix in (".csv", ".txt"):
        with path.open(encoding="utf-8") as fh:
            first = fh.readline()
        try:
            [float(x) for x in first.strip().split(",") if x.strip()]
            skip = 0
        except ValueError:
            skip = 1
        raw = np.loadtxt(path, delimiter=",", skiprows=skip, ndmin=2)
    else:
        raise ValueError(f"data file {name!r}: unknown format (use .npy, .npz, .csv, .txt or a "
                         "CIFAR-10 python batch)")
    data = np.asarray(raw)
    if data.dtype.kind not in "biuf":
        raise ValueError(f"{name}: the data must be real numbers, got dtype {data.dtype}")
    data = data.astype(float)
    if data.ndim != 2 or min(data.shape) < 1:
        raise ValueError(f"{name}: the data must be a non-empty 2-D matrix, got shape "
                         f"{data.shape}")
    if not np.all(np.isfinite(data)):
        raise ValueError(f"{name}: the data contain NaN or infinite entries")
    return np.ascontiguousarray(data.T if samples_as == "rows" else data)
