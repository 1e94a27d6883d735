"""Chart builders for the Sources page: Vega-Lite specs (components/vega.py), pure (no streamlit, no queries)."""

from __future__ import annotations

import polars as pl

from dashboard.components import vega
from dashboard.components.vega import UTC, field, layer, tip

EMPTY_COLOR = "#eef0f2"


def coverage_heatmap(grid: pl.DataFrame) -> dict:
    """A day x pulled-source grid: grey where the source added no rows that day, blue by how many it added
    (log-scaled so a quiet day still shows). Columns: source, day, rows (0 = none)."""
    sources = grid["source"].unique(maintain_order=True).to_list()
    data = grid.select(
        pl.col("source"), pl.col("rows").cast(pl.Int64),
        pl.when(pl.col("rows") > 0).then((pl.col("rows").cast(pl.Float64) + 1).log10()).alias("level"),
        pl.when(pl.col("rows") == 1).then(pl.lit("1 row"))
        .when(pl.col("rows") > 0).then(pl.format("{} rows", pl.col("rows"))).otherwise(pl.lit("nothing pulled"))
        .alias("what"),
        pl.col("day").dt.strftime("%-d %b %Y").alias("when"),
        vega.as_utc("day").alias("day"), (vega.as_utc("day") + pl.duration(hours=22)).alias("day_end"))
    y = field("source", "nominal", title=None, sort=sources, axis={"labelLimit": 260})
    x = field("day", "temporal", scale=UTC, axis=vega.time_axis(None, "%-d %b", grid=False))
    cells = layer("cells", {"type": "rect", "cornerRadius": 1}, x=x, x2=field("day_end"), y=y,
                  color={"condition": {"test": "datum.level === null", "value": EMPTY_COLOR},
                         "field": "level", "type": "quantitative", "scale": {"range": ["#cfe2f3", "#1f4e79"]},
                         "legend": None},
                  tooltip=[tip("source", "Source"), tip("when", "Day"), tip("what", "Pulled")])
    return vega.chart([cells], {"cells": data}, max(120, 30 * len(sources) + 50))
