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
    """Baseline spend, minus each lever's savings, to the scenario's spend: floating bars (a saving steps down in
    green, a lever that costs more steps up in red). Columns of `levers`: lever, savings_usd."""
    names = [LEVER_LABELS.get(x, x) for x in levers["lever"].to_list()]
    x, bases, heights, colors, texts = ["Baseline"], [0.0], [baseline], [BASE_COLOR], [f"${baseline:,.0f}"]
    level = baseline
    for name, saved in zip(names, levers["savings_usd"].to_list(), strict=True):
        new = level - saved
        x.append(name)
        bases.append(min(level, new))
        heights.append(abs(saved))
        colors.append(SAVE_COLOR if saved >= 0 else COST_UP_COLOR)
        texts.append("" if abs(saved) < 0.5 else (f"−${saved:,.0f}" if saved >= 0 else f"+${-saved:,.0f}"))
        level = new
    x.append("Scenario")
    bases.append(0.0)
    heights.append(scenario)
    colors.append(SCEN_COLOR)
    texts.append(f"${scenario:,.0f}")
    fig = go.Figure(go.Bar(x=x, y=heights, base=bases, marker_color=colors, text=texts, textposition="outside",
                           cliponaxis=False, customdata=[b + h for b, h in zip(bases, heights, strict=True)],
                           hovertemplate="%{x}: %{text}<extra></extra>"))
    _base_layout(fig, y_max=baseline)
    fig.update_layout(showlegend=False, hovermode="closest", margin=dict(l=8, r=8, t=28, b=8), bargap=0.35)
    fig.update_yaxes(range=[0, max(baseline, scenario, 1e-9) * 1.15])
    return fig


def frontier_chart(points: pl.DataFrame, param: str, current: tuple[float, float | None],
                   bar_point: tuple[float, float | None] | None, bar: float = 0.95) -> go.Figure:
    """Cost (x) against quality vs baseline in % (y) along a policy's share or escalation rate, with the
    current slider point and the cheapest point at the quality bar marked. Columns: `param`,
    scenario_cost_usd, quality_ratio."""
    df = points.filter(pl.col("quality_ratio").is_not_null())
    label = {"share": "Share moved", "escalation_rate": "Escalation rate", "hit_rate": "Cache hit rate"}.get(param, param)
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
