"""Strict JSON for results: non-finite numbers become ``null`` (and back to ``nan``)."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["from_strict_json", "strict_json_value"]


def strict_json_value(value: Any) -> Any:
    """``value`` with non-finite floats (also nested in dicts, lists, tuples) as ``None``.

    ``json.dumps(strict_json_value(x), allow_nan=False)`` then never writes the non-standard
    ``NaN`` / ``Infinity`` tokens. The status that travels with a value says why it is missing.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: strict_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json_value(v) for v in value]
    return value


def from_strict_json(value: Any) -> Any:
    """Inverse of :func:`strict_json_value` for numbers: ``None`` (also nested) as ``nan``."""
    if value is None:
        return math.nan
    if isinstance(value, list):
        return [from_strict_json(v) for v in value]
    return value
