"""Figure builders for the Explore page: `f(frame) -> go.Figure`, pure (no streamlit, no queries). The stacked
trend looks like the Overview's charts (same stacking, legend, USD axis); providers keep their colours."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from dashboard.components import charts


def trend(df: pl.DataFrame, by: str, bucket: str = "week") -> go.Figure:
    """Stacked bars of spend per group per period, the largest group at the bottom, 'other' on top.
    Columns: period, group_value, spend_rank, spend_usd. `by` is the dimension (providers get their colours)."""
    order = (df.group_by("group_value").agg(pl.col("spend_rank").min())
             .sort(["spend_rank", "group_value"])["group_value"].to_list())
    return charts._stacked_spend(df, "group_value", order, by, bucket)
