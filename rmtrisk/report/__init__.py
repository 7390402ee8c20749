"""Output formats: tables (text, Markdown, CSV, LaTeX, JSON) and figures."""

from .tables import FORMATS, format_table

__all__ = ["FORMATS", "format_table"]
