"""Services: pure Python between pages and the warehouse. One function per visual; each runs one named query
(`sql/queries/<name>.sql`) through a query runner and returns a polars frame. No streamlit here.

A query runner is anything with the signature of `Warehouse.query`: `run(name, **params) -> pl.DataFrame`.
Pages pass the cached runner from `dashboard.state`; tests pass `Warehouse.query` itself.

Pages import only from here and `dashboard.components` (and the dashboard's own `state` and `auth`), never a
lower layer; `ModelMixError`, the error family pages show, is re-exported here for them. tests/test_layers.py
keeps it so.
"""

from __future__ import annotations

from typing import Any, Protocol

import polars as pl

import simulate
import sql
from warehouse.errors import ModelMixError

__all__ = ["ModelMixError", "QueryRunner", "money_as_float", "preset_title", "sql_text"]


class QueryRunner(Protocol):
    def __call__(self, name: str, /, **params: Any) -> pl.DataFrame: ...


def sql_text(name: str) -> str:
    """The text of the named query, for the "SQL behind this" expanders."""
    return sql.load(f"queries/{name}")


def money_as_float(df: pl.DataFrame) -> pl.DataFrame:
    """Decimal money columns as Float64 for charts and tables (sums stay exact in SQL)."""
    return df.with_columns(pl.col(pl.Decimal).cast(pl.Float64))


def preset_title(name: str) -> str:
    """A preset's plain-words title (its file's `title`; the source is in its description): every page names a
    preset this way, never by its file name."""
    return simulate.load_scenario(name).title or name


def plural(n: int, one: str, many: str | None = None) -> str:
    """'1 model', '3 models'; with `many`, '1 model has' / '3 models have'."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"
