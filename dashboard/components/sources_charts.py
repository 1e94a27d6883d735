"""Figure builders for the Sources page: pure (no streamlit, no queries)."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import polars as pl


def coverage_heatmap(grid: pl.DataFrame) -> go.Figure:
    """A day x pulled-source grid: white where the source added no rows that day, blue by how many it added
    (log-scaled so a quiet day still shows). Columns: source, day, rows (0 = none)."""
    sources = grid["source"].unique(maintain_order=True).to_list()
    days = grid["day"].unique().sort().to_list()
    wide = grid.pivot(on="day", index="source", values="rows", sort_columns=True)
    counts = [wide.filter(pl.col("source") == s).drop("source").row(0) for s in sources]
    text = [[f"{n:,} row(s)" if n else "nothing pulled" for n in row] for row in counts]
    fig = go.Figure(go.Heatmap(
        z=[[None if not v else math.log10(v + 1) for v in row] for row in counts],
        x=days, y=sources, customdata=text, colorscale=[(0, "#cfe2f3"), (1, "#1f4e79")], showscale=False,
        xgap=1, ygap=2, hoverongaps=False,
        hovertemplate="%{y}<br>%{x|%d %b %Y}: %{customdata}<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed", tickfont=dict(size=12))
    fig.update_xaxes(tickformat="%-d %b", showgrid=False)
    fig.update_layout(template="plotly_white", height=max(200, 34 * len(sources) + 90),
                      plot_bgcolor="#eef0f2", margin=dict(l=8, r=8, t=12, b=8), font=dict(size=13))
    return fig
