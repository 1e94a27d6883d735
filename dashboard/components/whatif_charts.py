"""Plotly figure builders of the What-if and Outlook pages. Pure: frames and numbers in, a figure out."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl

from dashboard.components.charts import _HEIGHT, _base_layout
from dashboard.components.charts import _plotly_tickformat as money_tickformat
from dashboard.components.formatting import MONTH_AXIS

BASE_COLOR = "#1f4e79"
SCEN_COLOR = "#10a37f"
SAVE_COLOR = "#2ca02c"
COST_UP_COLOR = "#d62728"
BAR_COLOR = "#d97757"
LEVER_LABELS = {"model_shift": "Model shift", "cascade": "Cascade", "batch": "Batch tier", "caching": "Caching",
                "cache_lost_on_switch": "Cache lost on switch"}


def savings_waterfall(baseline: float, levers: pl.DataFrame, scenario: float) -> go.Figure:
    """The replay baseline, minus each lever's savings, to the replay under the scenario: floating bars (a saving steps down in
    green, a lever that costs more steps up in red). Columns of `levers`: lever, savings_usd.

    Built in one `go.Figure(data, layout)` call (each `update_*` call validates again): this figure is redrawn on
    every slider move, which has 100 ms in all."""
    names = [LEVER_LABELS.get(x, x) for x in levers["lever"].to_list()]
    x, bases, heights, colors, texts = ["Replay baseline"], [0.0], [baseline], [BASE_COLOR], [f"${baseline:,.0f}"]
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
    bar = dict(type="bar", x=x, y=heights, base=bases, marker=dict(color=colors), text=texts, textposition="outside",
               cliponaxis=False, customdata=[b + h for b, h in zip(bases, heights, strict=True)],
               hovertemplate="%{x}: %{text}<extra></extra>")
    layout = _layout(height=_HEIGHT, margin=dict(l=8, r=8, t=28, b=8), hovermode="closest", showlegend=False,
                     bargap=0.35, legend=dict(title=dict(text=""), traceorder="normal"),
                     yaxis=dict(title=dict(text="Replayed cost (USD)"), tickprefix="$", tickformat=money_tickformat(baseline),
                                rangemode="tozero", range=[0, max(baseline, scenario, 1e-9) * 1.15]))
    return go.Figure(data=[bar], layout=layout)


def frontier_chart(points: pl.DataFrame, param: str, current: tuple[float, float | None],
                   bar_point: tuple[float, float | None] | None, bar: float = 0.95,
                   bounds: pl.DataFrame | None = None) -> go.Figure:
    """Cost (x) against quality vs baseline in % (y) along a policy's share or escalation rate, with the
    current slider point and the cheapest point at the quality bar marked. Columns: `param`,
    scenario_cost_usd, quality_ratio. One `go.Figure(data, layout)` call, as `savings_waterfall`."""
    df = points.filter(pl.col("quality_ratio").is_not_null())
    label = {"share": "Share moved", "escalation_rate": "Escalation rate", "hit_rate": "Cache hit rate"}.get(param, param)
    traces = [dict(
        type="scatter", x=df["scenario_cost_usd"].to_list(), y=[100 * q for q in df["quality_ratio"].to_list()],
        mode="lines+markers", name="Frontier", line=dict(color=BASE_COLOR), marker=dict(size=5),
        customdata=[100 * v for v in df[param].to_list()],
        hovertemplate=f"{label} %{{customdata:.0f}}%<br>Spend $%{{x:,.0f}}<br>Quality %{{y:.1f}}%<extra></extra>")]
    # the oracle bound (the best any router could do) and the random line under it, when given
    for name, text, dash in (("oracle", "Oracle bound (any router)", "dash"), ("random", "Random pick", "dot"),
                             ("seeds p10", "Random seeds, p10", "dashdot"), ("seeds p90", "Random seeds, p90", "dashdot")):
        if bounds is None:
            continue
        b = bounds.filter((pl.col("curve") == name) & pl.col("quality_ratio").is_not_null())
        if b.height:
            traces.append(dict(type="scatter", x=b["scenario_cost_usd"].to_list(),
                               y=[100 * q for q in b["quality_ratio"].to_list()], mode="lines", name=text,
                               line=dict(color=BAR_COLOR if name == "oracle" else "#999999", dash=dash, width=1),
                               hovertemplate=f"{text}: $%{{x:,.0f}}, %{{y:.1f}}%<extra></extra>"))
    if bar_point is not None and bar_point[1] is not None:
        traces.append(dict(type="scatter", x=[bar_point[0]], y=[100 * bar_point[1]], mode="markers",
                           name=f"Cheapest at ≥{100 * bar:.0f}%",
                           marker=dict(symbol="diamond", size=13, color=BAR_COLOR, line=dict(color="white", width=1)),
                           hovertemplate="Cheapest at the bar: $%{x:,.0f}, %{y:.1f}%<extra></extra>"))
    if current[1] is not None:
        traces.append(dict(type="scatter", x=[current[0]], y=[100 * current[1]], mode="markers",
                           name="Current sliders",
                           marker=dict(symbol="circle", size=13, color=SCEN_COLOR, line=dict(color="white", width=2)),
                           hovertemplate="Current: $%{x:,.0f}, %{y:.1f}%<extra></extra>"))
    x_max = df["scenario_cost_usd"].max() if df.height else None
    layout = _layout(
        height=340, margin=dict(l=8, r=8, t=36, b=8), hovermode="closest",
        xaxis=dict(title=dict(text="Scenario spend (USD)"), tickprefix="$", tickformat=money_tickformat(x_max)),
        yaxis=dict(title=dict(text="Quality vs baseline (%)"), ticksuffix="%"),
        # the quality bar: a dotted line across the plot with its label under it, left (what add_hline draws)
        shapes=[dict(type="line", xref="x domain", x0=0, x1=1, yref="y", y0=100 * bar, y1=100 * bar,
                     line=dict(color=BAR_COLOR, dash="dot", width=1))],
        annotations=[dict(text=f"{100 * bar:.0f}% of baseline quality", showarrow=False, xref="x domain", x=0,
                          xanchor="left", yref="y", y=100 * bar, yanchor="top")])
    return go.Figure(data=traces, layout=layout)


def _white_template(*trace_types: str) -> go.layout.Template:
    """plotly_white with the trace defaults of `trace_types` only: the same look for figures drawing only those
    types, and a third of the cost to set on a figure (plotly copies a template into each figure; the full one
    carries defaults for some 50 trace types)."""
    white = pio.templates["plotly_white"]
    return go.layout.Template(layout=white.layout,
                              data=go.layout.template.Data(**{t: white.data[t] for t in trace_types}))


_WHITE = _white_template("bar", "scatter")


def _layout(**parts) -> dict:
    """The layout `charts._base_layout` gives (white template, font, legend on top), as one dict to build a
    figure with; `parts` override or extend it (a `legend` dict is merged)."""
    legend = dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, **parts.pop("legend", {}))
    return dict(template=_WHITE, font=dict(size=13), legend=legend, **parts)


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
    fig.update_xaxes(title_text="Month", tickformat=MONTH_AXIS)
    return fig
