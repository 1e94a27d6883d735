"""Chart builders for the Explore page: `f(frame) -> Vega-Lite spec`, pure (no streamlit, no queries). The stacked
trend looks like the Overview's charts (same stacking, legend, USD axis); providers and models keep their
colours."""

from __future__ import annotations

import datetime as dt

import polars as pl

from dashboard.components import charts


def trend(df: pl.DataFrame, by: str, bucket: str = "week", incomplete: tuple[dt.date, dt.date] | None = None):
    """Stacked bars of spend per group per period, the largest group at the bottom, 'other' on top, credit lines
    their own series. Columns: period, group_value, spend_rank, spend_usd. `by` is the dimension (providers
    and models get their colours). `incomplete` (first, last day): the band Overview's charts shade over days
    some source does not cover yet."""
    order = (df.group_by("group_value").agg(pl.col("spend_rank").min())
             .sort(["spend_rank", "group_value"])["group_value"].to_list())
    return charts._stacked_spend(df, "group_value", order, by, bucket, incomplete)
