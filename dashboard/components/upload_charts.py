"""Chart builders for the Upload & data page: Vega-Lite specs (components/vega.py), pure (no streamlit, no
queries)."""

from __future__ import annotations

import polars as pl

from dashboard.components import vega
from dashboard.components.vega import UTC, field, layer, tip

# one colour per coverage state (dashboard.services.upload.COVERAGE_STATES), in code order
COVERAGE_COLORS = ["#e06666", "#eef0f2", "#1f4e79", "#6fa8dc", "#f6b26b"]


def coverage_heatmap(grid: pl.DataFrame, states: dict[int, str]) -> dict:
    """A day x (provider · source) grid coloured by state: a gap, not from this source, counted alone,
    counted while overlapping, or superseded; the legend names the states. Columns: source, day, state,
    detail (tooltip text)."""
    sources = grid["source"].unique(maintain_order=True).to_list()
    names = [states[i] for i in range(len(COVERAGE_COLORS))]
    data = grid.select(
        pl.col("source"), pl.col("state").cast(pl.Int64).replace_strict(states, return_dtype=pl.String).alias("what"),
        pl.col("detail").fill_null(""), pl.col("day").dt.strftime("%-d %b %Y").alias("when"),
        vega.as_utc("day").alias("day"), (vega.as_utc("day") + pl.duration(hours=22)).alias("day_end"))
    cells = layer("cells", {"type": "rect", "cornerRadius": 1},
                  x=field("day", "temporal", scale=UTC, axis=vega.time_axis(None, "%-d %b", grid=False)),
                  x2=field("day_end"), y=field("source", "nominal", title=None, sort=sources, axis={"labelLimit": 260}),
                  color=vega.colour("what", names, COVERAGE_COLORS, {"orient": "right"}),
                  tooltip=[tip("source", "Source"), tip("when", "Day"), tip("what", "State"), tip("detail", "Detail")])
    return vega.chart([cells], {"cells": data}, max(140, 30 * len(sources) + 60))
