"""Render a list of uniform rows (dicts) as text, Markdown, CSV, LaTeX or JSON."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from typing import Any

from ..serialize import strict_json_value

__all__ = ["FORMATS", "format_table"]

FORMATS = ("text", "markdown", "csv", "latex", "json")


def _cell(value: Any, digits: int | None) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return repr(value) if digits is None else f"{value:.{digits}g}"
    return str(value)


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None,
                 fmt: str = "text", digits: int | None = 6) -> str:
    """Format ``rows`` (dicts sharing keys) as a table.

    Parameters
    ----------
    rows : sequence of dict
    columns : sequence of str, optional
        Keys to show, in order (default: the keys of the first row).
    fmt : {"text", "markdown", "csv", "latex", "json"}
    digits : int or None
        Significant digits of floats; ``None`` writes every float in full (shortest round-trip
        form). JSON always keeps full precision and is strict: non-finite numbers are ``null``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    columns = list(columns or (rows[0].keys() if rows else []))
    if fmt == "json":
        return json.dumps([{c: strict_json_value(r.get(c)) for c in columns} for r in rows],
                          indent=2, allow_nan=False)
    body = [[_cell(r.get(c), digits) for c in columns] for r in rows]
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(body)
        return buf.getvalue().rstrip("\n")
    if fmt == "latex":
        esc = [c.replace("_", r"\_").replace("%", r"\%") for c in columns]
        lines = [r"\begin{tabular}{" + "l" * len(columns) + "}", r"\hline",
                 " & ".join(esc) + r" \\", r"\hline"]
        lines += [" & ".join(x.replace("_", r"\_") for x in row) + r" \\" for row in body]
        lines += [r"\hline", r"\end{tabular}"]
        return "\n".join(lines)
    widths = [max(len(c), *(len(row[i]) for row in body)) if body else len(c)
              for i, c in enumerate(columns)]
    if fmt == "markdown":
        head = "| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=False)) + " |"
        rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        lines = [head, rule]
        lines += ["| " + " | ".join(x.rjust(w) for x, w in zip(row, widths, strict=False)) + " |"
                  for row in body]
        return "\n".join(lines)
    head = "  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=False))
    lines = [head, "  ".join("-" * w for w in widths)]
    lines += ["  ".join(x.rjust(w) for x, w in zip(row, widths, strict=False)) for row in body]
    return "\n".join(lines)
