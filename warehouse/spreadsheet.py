"""The one rule for text that leaves the ledger for a spreadsheet (CSV and Excel downloads, chargeback statements,
`modelmix audit --csv`): a text cell starting with = + - @ tab or CR gets a leading single quote, so a
spreadsheet shows it instead of running it as a formula (OWASP CSV injection, CWE-1236). Numbers stay numbers,
so a negative amount is never touched. Every export in the code base uses these two functions."""

from __future__ import annotations

import polars as pl

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A text cell a spreadsheet would evaluate gets a leading single quote; anything else is returned as is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def neutralise_frame(df: pl.DataFrame) -> pl.DataFrame:
    """Every text column with formula-like cells prefixed by a single quote (vectorised); other columns as they
    are."""
    text = [c for c, t in df.schema.items() if t == pl.String]
    return df.with_columns([
        pl.when(pl.any_horizontal([pl.col(c).str.starts_with(t) for t in FORMULA_START]))
        .then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in text
    ])
