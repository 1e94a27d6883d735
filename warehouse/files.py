"""Describing a file the user hands over before a ledger reads it: DuckDB's own view of it, on a connection of its
own (in memory, no ledger), so a load needs no second reader library for what DuckDB reads anyway."""

from __future__ import annotations

from pathlib import Path

import duckdb


def parquet_columns(path: Path) -> list[str]:
    """A Parquet file's top-level column names as DuckDB, which reads the rows later, sees them (its footer only).
    Raises duckdb.Error for a file DuckDB cannot read as Parquet (a damaged or truncated footer)."""
    with duckdb.connect() as con:
        return [r[0] for r in con.execute("describe select * from read_parquet($path)", {"path": str(path)}).fetchall()]
