"""Figure builders for the Upload & data page: pure (no streamlit, no queries)."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

# one colour per coverage state (dashboard.services.upload.COVERAGE_STATES), in code order
COVERAGE_COLORS = ["#e06666", "#eef0f2", "#1f4e79", "#6fa8dc", "#f6b26b"]


def coverage_heatmap(grid: pl.DataFrame, states: dict[int, str]) -> go.Figure:
    """A day x (provider · source) grid coloured by state: a gap, not from this source, counted alone,
    counted while overlapping, or superseded. Columns: source, day, state, detail (hover text)."""
    sources = grid["source"].unique(maintain_order=True).to_list()
    days = grid["day"].unique().sort().to_list()
    wide = grid.pivot(on="day", index="source", values="state", sort_columns=True)
    text = grid.pivot(on="day", index="source", values="detail", sort_columns=True)
    z = [wide.filter(pl.col("source") == s).drop("source").row(0) for s in sources]
    hover = [[(states[int(v)] + (f"<br>{t}" if t else "")) for v, t in
              zip(wide.filter(pl.col("source") == s).drop("source").row(0),
                  text.filter(pl.col("source") == s).drop("source").row(0))] for s in sources]
    n = len(COVERAGE_COLORS)
    scale = []
    for i, color in enumerate(COVERAGE_COLORS):
        scale += [(i / n, color), ((i + 1) / n, color)]
    fig = go.Figure(go.Heatmap(
        z=z, x=days, y=sources, zmin=-0.5, zmax=n - 0.5, colorscale=scale, xgap=1, ygap=2,
        customdata=hover, hovertemplate="%{y}<br>%{x|%d %b %Y}: %{customdata}<extra></extra>",
        colorbar=dict(tickvals=list(range(n)), ticktext=[states[i] for i in range(n)], thickness=12, len=1,
                      outlinewidth=0),
    ))
    fig.update_yaxes(autorange="reversed", tickfont=dict(size=12))
    fig.update_xaxes(tickformat="%-d %b", showgrid=False)
    fig.update_layout(template="plotly_white", height=max(220, 34 * len(sources) + 90),
                      margin=dict(l=8, r=8, t=12, b=8), font=dict(size=13))
    return fig
