"""Quoting for the few values (file paths) that DuckDB cannot take as bound parameters."""

from pathlib import Path


def literal(value: str | Path) -> str:
    """`value` as a single-quoted SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"
