"""Plotly figure builders of the What-if and Outlook pages. Pure: frames and numbers in, a figure out."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from dashboard.components.charts import _base_layout, money_tickformat

BASE_COLOR = "#1f4e79"
SCEN_COLOR = "#10a37f"
SAVE_COLOR = "#2ca02c"
COST_UP_COLOR = "#d62728"
BAR_COLOR = "#d97757"
LEVER_LABELS = {"model_shift": "Model shift", "cascade": "Cascade", "batch": "Batch tier", "caching": "Caching"}


def savings_waterfall(baseline: float, levers: pl.DataFrame, scenario: float) -> go.Figure:
    """Baseline spend, minus each lever's savings, to the scenario's spend. Columns of `levers`: lever,
    savings_usd (a negative saving — a lever that costs more — shows as a rise)."""
    names = [LEVER_LABELS.get(x, x) for x in levers["lever"].to_list()]
    steps = [-v for v in levers["savings_usd"].to_list()]
    fig = go.Figure(go.Waterfall(
        x=["Baseline", *names, "Scenario"],
        measure=["absolute", *["relative"] * len(steps), "total"],
        y=[baseline, *steps, 0],
        text=[f"${baseline:,.0f}", *[(f"−${-s:,.0f}" if s < 0 else f"+${s:,.0f}") if abs(s) >= 0.5 else ""
                                     for s in steps], f"${scenario:,.0f}"],
        textposition="outside", cliponaxis=False,
        decreasing={"marker": {"color": SAVE_COLOR}}, increasing={"marker": {"color": COST_UP_COLOR}},
        totals={"marker": {"color": SCEN_COLOR}},
        connector={"line": {"color": "#9aa0a6", "width": 1}},
        hovertemplate="%{x}: $%{y:,.2f}<extra></extra>",
    ))
    _base_layout(fig, y_max=baseline)
    fig.update_layout(showlegend=False, hovermode="closest", margin=dict(l=8, r=8, t=28, b=8))
    fig.update_yaxes(range=[0, max(baseline, scenario) * 1.15 or 1])
    return fig


def frontier_chart(points: pl.DataFrame, param: str, current: tuple[float, float | None],
                   bar_point: tuple[float, float | None] | None, bar: float = 0.95) -> go.Figure:
    """Cost (x) against quality vs baseline in % (y) along a policy's share or escalation rate, with the
    current slider point and the cheapest point at the quality bar marked. Columns: `param`,
    scenario_cost_usd, quality_ratio."""
    df = points.filter(pl.col("quality_ratio").is_not_null())
    label = "Share moved" if param == "share" else "Escalation rate"
    fig = go.Figure()
    fig.add_scatter(
        x=df["scenario_cost_usd"].to_list(), y=[100 * q for q in df["quality_ratio"].to_list()],
        mode="lines+markers", name="Frontier", line=dict(color=BASE_COLOR), marker=dict(size=5),
        customdata=[100 * v for v in df[param].to_list()],
        hovertemplate=f"{label} %{{customdata:.0f}}%<br>Spend $%{{x:,.0f}}<br>Quality %{{y:.1f}}%<extra></extra>")
    fig.add_hline(y=100 * bar, line=dict(color=BAR_COLOR, dash="dot", width=1),
                  annotation_text=f"{100 * bar:.0f}% of baseline quality", annotation_position="bottom left")
    if bar_point is not None and bar_point[1] is not None:
        fig.add_scatter(x=[bar_point[0]], y=[100 * bar_point[1]], mode="markers", name=f"Cheapest at ≥{100 * bar:.0f}%",
                        marker=dict(symbol="diamond", size=13, color=BAR_COLOR, line=dict(color="white", width=1)),
                        hovertemplate="Cheapest at the bar: $%{x:,.0f}, %{y:.1f}%<extra></extra>")
    if current[1] is not None:
        fig.add_scatter(x=[current[0]], y=[100 * current[1]], mode="markers", name="Current sliders",
                        marker=dict(symbol="circle", size=13, color=SCEN_COLOR, line=dict(color="white", width=2)),
                        hovertemplate="Current: $%{x:,.0f}, %{y:.1f}%<extra></extra>")
    x_max = df["scenario_cost_usd"].max() if df.height else None
    fig.update_layout(template="plotly_white", height=340, margin=dict(l=8, r=8, t=36, b=8), font=dict(size=13),
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
                      hovermode="closest")
    fig.update_xaxes(title_text="Scenario spend (USD)", tickprefix="$", tickformat=money_tickformat(x_max))
    fig.update_yaxes(title_text="Quality vs baseline (%)", ticksuffix="%")
    return fig


def outlook_bands(frame: pl.DataFrame) -> go.Figure:
    """Monthly baseline vs scenario spend: P50 lines with P10–P90 bands. Columns: month, series ('baseline' |
    'scenario'), p10, p50, p90."""
    fig = go.Figure()
    colors = {"baseline": BASE_COLOR, "scenario": SCEN_COLOR}
    fills = {"baseline": "rgba(31,78,121,0.15)", "scenario": "rgba(16,163,127,0.18)"}
    names = {"baseline": "Baseline (today's mix)", "scenario": "Scenario"}
    for series in ("baseline", "scenario"):
        part = frame.filter(pl.col("series") == series).sort("month")
        x = part["month"].to_list()
        fig.add_scatter(x=x, y=part["p90"].to_list(), mode="lines", line=dict(width=0), showlegend=False,
                        hoverinfo="skip", legendgroup=series)
        fig.add_scatter(x=x, y=part["p10"].to_list(), mode="lines", line=dict(width=0), fill="tonexty",
                        fillcolor=fills[series], name=f"{names[series]} P10–P90", legendgroup=series,
                        hoverinfo="skip")
        fig.add_scatter(x=x, y=part["p50"].to_list(), mode="lines+markers", line=dict(color=colors[series], width=2),
                        marker=dict(size=4), name=f"{names[series]} P50", legendgroup=series,
                        customdata=list(zip(part["p10"].to_list(), part["p90"].to_list(), strict=True)),
                        hovertemplate=f"{names[series]}: $%{{y:,.0f}} (P10 $%{{customdata[0]:,.0f}}, "
                                      f"P90 $%{{customdata[1]:,.0f}})<extra></extra>")
    y_max = frame["p90"].max() if frame.height else None
    _base_layout(fig, y_max=y_max, y_title="Monthly spend (USD)", height=400)
    fig.update_xaxes(title_text="Month", tickformat="%b %Y")
    return fig
