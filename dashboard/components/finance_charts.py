"""Plotly figure builders for the finance pages: `f(frame, ...) -> go.Figure`, pure (no streamlit, no queries).
Money axes in USD with thousands separators; forecasts dashed with their P10-P90 band shaded; days and
thresholds that matter (a budget crossing, a flagged day) marked on the chart itself."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl

from dashboard.components.charts import BILLED_COLOR, LIST_COLOR
from dashboard.components.charts import _plotly_tickformat as money_tickformat

ACTUAL_COLOR = "#1f4e79"
FORECAST_COLOR = "#d9822b"
BAND_COLOR = "rgba(217, 130, 43, 0.18)"
BUDGET_COLOR = "#b22222"
EXPECTED_COLOR = "#6c757d"
NORMAL_BAND = "rgba(108, 117, 125, 0.15)"
FLAG_COLOR = "#d62728"
SCENARIO_COLOR = "#2a9d8f"
SAVING_COLOR = "#2a9d8f"
COST_COLOR = "#d62728"
_HEIGHT = 360


def _layout(fig: go.Figure, *, y_max: float | None, y_title: str = "Spend (USD)", height: int = _HEIGHT,
            hovermode: str = "x unified") -> go.Figure:
    fig.update_layout(
        template="plotly_white", height=height, margin=dict(l=8, r=8, t=40, b=8), hovermode=hovermode,
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, title_text=""),
        font=dict(size=13),
    )
    fig.update_yaxes(title_text=y_title, tickprefix="$", tickformat=money_tickformat(y_max), rangemode="tozero")
    return fig


def _max(*cols: pl.Series) -> float | None:
    values = [c.max() for c in cols if c.len() and c.max() is not None]
    return max(values) if values else None


def _band(fig: go.Figure, x: list, low: list, high: list, name: str, color: str = BAND_COLOR) -> None:
    """A shaded band between two lines (the high line drawn invisibly first, then filled down to the low)."""
    fig.add_scatter(x=x, y=high, mode="lines", line=dict(width=0), showlegend=False, hoverinfo="skip",
                    name=f"{name} (high)")
    fig.add_scatter(x=x, y=low, mode="lines", line=dict(width=0), fill="tonexty", fillcolor=color, name=name,
                    hoverinfo="skip")


def _mark_day(fig: go.Figure, day: dt.date, text: str, color: str) -> None:
    """A dotted vertical line on `day` with a label at the top (dates as ms since epoch for plotly's vline)."""
    x = dt.datetime.combine(day, dt.time()).timestamp() * 1000
    fig.add_vline(x=x, line_dash="dot", line_color=color, line_width=1.5)
    fig.add_annotation(x=x, y=0.98, yref="paper", text=text, showarrow=False, xanchor="left", yanchor="top",
                       xshift=4,
                       font=dict(color=color, size=12), bgcolor="rgba(255,255,255,0.85)")


def forecast_band(df: pl.DataFrame, as_of: dt.date | None = None, band: bool = True) -> go.Figure:
    """Daily spend of one key: actual bars up to the as-of day, then the forecast line in its P10-P90 band
    (`band=False`: the line alone, flagged as unreliable, for a forecast its backtest does not support).
    Columns: day, actual_usd, forecast_usd, p10_usd, p90_usd."""
    past = df.filter(pl.col("actual_usd").is_not_null())
    future = df.filter(pl.col("forecast_usd").is_not_null())
    fig = go.Figure()
    fig.add_bar(x=past["day"].to_list(), y=past["actual_usd"].to_list(), name="Actual", marker_color=ACTUAL_COLOR,
                hovertemplate="Actual: $%{y:,.2f}<extra></extra>")
    if future.height:
        x = future["day"].to_list()
        if band:
            _band(fig, x, future["p10_usd"].to_list(), future["p90_usd"].to_list(), "P10–P90 band")
        fig.add_scatter(x=x, y=future["forecast_usd"].to_list(), mode="lines+markers",
                        name="Forecast (P50)" if band else "Forecast (unreliable)",
                        line=dict(color=FORECAST_COLOR, dash="dash", width=2), marker=dict(size=4),
                        hovertemplate="Forecast: $%{y:,.2f}<extra></extra>")
    if as_of is not None and future.height:
        _mark_day(fig, as_of, f"as of {as_of:%d %b}", EXPECTED_COLOR)
    fig.update_xaxes(title_text="Day", tickformat="%-d %b")
    fig.update_layout(bargap=0.15)
    return _layout(fig, y_max=_max(df["actual_usd"], df["p90_usd"] if band else df["forecast_usd"]),
                   y_title="Daily spend (USD)")


def burndown(df: pl.DataFrame, budget: float | None, crossing_date: dt.date | None = None) -> go.Figure:
    """Cumulative spend through a budget period: actual, then the forecast with its P10-P90 band; the budget
    as a horizontal line and the day the spend reaches it marked.
    Columns: day, actual_cum_usd, forecast_cum_usd, p10_cum_usd, p90_cum_usd."""
    past = df.filter(pl.col("actual_cum_usd").is_not_null())
    future = df.filter(pl.col("forecast_cum_usd").is_not_null())
    fig = go.Figure()
    if future.height and past.height:
        # start the forecast at the last actual point so the two lines join
        last = pl.col("actual_cum_usd")
        joint = past.tail(1).with_columns(forecast_cum_usd=last, p10_cum_usd=last, p90_cum_usd=last)
        future = pl.concat([joint, future], how="vertical_relaxed")
    if future.height:
        x = future["day"].to_list()
        _band(fig, x, future["p10_cum_usd"].to_list(), future["p90_cum_usd"].to_list(), "P10–P90 band")
        fig.add_scatter(x=x, y=future["forecast_cum_usd"].to_list(), mode="lines", name="Forecast (cumulative)",
                        line=dict(color=FORECAST_COLOR, dash="dash", width=2.5),
                        hovertemplate="Forecast: $%{y:,.2f}<extra></extra>")
    fig.add_scatter(x=past["day"].to_list(), y=past["actual_cum_usd"].to_list(), mode="lines",
                    name="Actual (cumulative)", line=dict(color=ACTUAL_COLOR, width=3),
                    hovertemplate="Actual: $%{y:,.2f}<extra></extra>")
    if budget is not None:
        fig.add_scatter(x=df["day"].to_list(), y=[budget] * df.height, mode="lines", name="Budget",
                        line=dict(color=BUDGET_COLOR, width=2), hovertemplate="Budget: $%{y:,.2f}<extra></extra>")
    if crossing_date is not None:
        _mark_day(fig, crossing_date, f"reaches budget {crossing_date:%d %b}", BUDGET_COLOR)
    fig.update_xaxes(title_text="Day", tickformat="%-d %b")
    y_max = _max(df["actual_cum_usd"], df["p90_cum_usd"], pl.Series([budget or 0.0]))
    return _layout(fig, y_max=y_max, y_title="Cumulative spend (USD)")


def scenario_impact(df: pl.DataFrame) -> go.Figure:
    """Per team: forecast with today's mix beside the forecast under the scenario, the budget as a marker.
    Columns: team, forecast_today_usd, forecast_scenario_usd, budget_usd."""
    teams = df["team"].to_list()
    fig = go.Figure()
    fig.add_bar(x=teams, y=df["forecast_today_usd"].to_list(), name="Forecast, today's mix",
                marker_color=LIST_COLOR, hovertemplate="Today's mix: $%{y:,.2f}<extra></extra>")
    fig.add_bar(x=teams, y=df["forecast_scenario_usd"].to_list(), name="Forecast under the scenario",
                marker_color=SCENARIO_COLOR, hovertemplate="Scenario: $%{y:,.2f}<extra></extra>")
    budgeted = df.filter(pl.col("budget_usd").is_not_null())
    if budgeted.height:
        fig.add_scatter(x=budgeted["team"].to_list(), y=budgeted["budget_usd"].to_list(), mode="markers",
                        name="Budget", marker=dict(symbol="line-ew-open", size=44, color=BUDGET_COLOR,
                                                   line=dict(width=3)),
                        hovertemplate="Budget: $%{y:,.2f}<extra></extra>")
    fig.update_layout(barmode="group", bargap=0.3, bargroupgap=0.05)
    fig.update_xaxes(title_text="Team")
    return _layout(fig, y_max=_max(df["forecast_today_usd"], df["forecast_scenario_usd"], df["budget_usd"]),
                   y_title="Period forecast (USD)")


def anomaly_series(df: pl.DataFrame, flagged: pl.DataFrame) -> go.Figure:
    """One series' daily spend with its expected value, the normal range up to the flag threshold shaded, and
    the flagged days marked. Columns: day, spend_usd, expected_usd, threshold_usd; flagged: day, spend_usd."""
    fig = go.Figure()
    x = df["day"].to_list()
    _band(fig, x, df["expected_usd"].to_list(), df["threshold_usd"].to_list(), "Normal range (up to the flag line)",
          NORMAL_BAND)
    fig.add_scatter(x=x, y=df["expected_usd"].to_list(), mode="lines", name="Expected (same-weekday median)",
                    line=dict(color=EXPECTED_COLOR, dash="dot", width=1.5),
                    hovertemplate="Expected: $%{y:,.2f}<extra></extra>")
    fig.add_scatter(x=x, y=df["spend_usd"].to_list(), mode="lines", name="Spend",
                    line=dict(color=ACTUAL_COLOR, width=2), hovertemplate="Spend: $%{y:,.2f}<extra></extra>")
    if flagged.height:
        fig.add_scatter(x=flagged["day"].to_list(), y=flagged["spend_usd"].to_list(), mode="markers",
                        name="Flagged day", marker=dict(color=FLAG_COLOR, size=12, symbol="circle-open",
                                                        line=dict(width=3)),
                        hovertemplate="Flagged: $%{y:,.2f}<extra></extra>")
    fig.update_xaxes(title_text="Day", tickformat="%-d %b")
    return _layout(fig, y_max=_max(df["spend_usd"], df["threshold_usd"]), y_title="Daily spend (USD)")


def regression_series(df: pl.DataFrame, start: dt.date, unit: str, percent: bool) -> go.Figure:
    """One regression's series: the daily value, its rolling baseline and the flag line, with the day the
    regression started marked. Columns: day, value, baseline, threshold. `percent`: values are shares."""
    fig = go.Figure()
    x = df["day"].to_list()
    scale = 100.0 if percent else 1.0
    fmt = "%{y:.0f}%" if percent else "%{y:,.2f}"
    fig.add_scatter(x=x, y=(df["baseline"] * scale).to_list(), mode="lines", name="Baseline (28-day median)",
                    line=dict(color=EXPECTED_COLOR, dash="dot", width=1.5),
                    hovertemplate=f"Baseline: {fmt}<extra></extra>")
    fig.add_scatter(x=x, y=(df["threshold"] * scale).to_list(), mode="lines", name="Flag line",
                    line=dict(color=FLAG_COLOR, dash="dash", width=1), hovertemplate=f"Flag line: {fmt}<extra></extra>")
    fig.add_scatter(x=x, y=(df["value"] * scale).to_list(), mode="lines+markers", name=unit[:1].upper() + unit[1:],
                    line=dict(color=ACTUAL_COLOR, width=2), marker=dict(size=4),
                    hovertemplate=f"Value: {fmt}<extra></extra>")
    fig.add_vline(x=dt.datetime.combine(start, dt.time()).timestamp() * 1000, line=dict(color=FLAG_COLOR, width=2),
                  annotation_text=f"started {start:%d %b}", annotation_position="top left")
    fig.update_xaxes(title_text="Day", tickformat="%-d %b")
    fig.update_layout(template="plotly_white", height=_HEIGHT, margin=dict(l=8, r=8, t=40, b=8), hovermode="x unified",
                      legend=dict(orientation="h", y=1.12, x=0))
    fig.update_yaxes(title_text=unit, ticksuffix="%" if percent else "", rangemode="tozero")
    return fig


def reconcile_waterfall(steps: list[tuple[str, float, str]]) -> go.Figure:
    """Naive list price -> explained steps -> expected -> residual -> billed. `steps`: (label, amount, measure)
    with measure absolute | relative | total."""
    labels = [s[0] for s in steps]
    values = [s[1] if s[2] != "total" else 0.0 for s in steps]
    shown = [s[1] for s in steps]
    fig = go.Figure(go.Waterfall(
        x=labels, y=values, measure=[s[2] for s in steps],
        text=[f"${v:,.2f}" if m != "relative" else "" if abs(v) < 0.005
              else f"{'+' if v >= 0 else '−'}${abs(v):,.2f}" for (_, v, m) in steps],
        textposition="outside", cliponaxis=False,
        connector=dict(line=dict(color="#c0c0c0", width=1)),
        increasing=dict(marker_color=COST_COLOR), decreasing=dict(marker_color=SAVING_COLOR),
        totals=dict(marker_color=BILLED_COLOR),
        hovertemplate="%{x}: $%{y:,.2f}<extra></extra>",
    ))
    fig.update_layout(showlegend=False)
    fig.update_xaxes(title_text="")
    y_max = max([abs(v) for v in shown] + [0.0]) * 1.12
    _layout(fig, y_max=y_max, y_title="USD", hovermode="closest")
    fig.update_yaxes(range=[0, y_max or 1])
    return fig


def reconcile_daily(df: pl.DataFrame) -> go.Figure:
    """Billed vs expected (list) per day, summed over providers, for the usage carrying both.
    Columns: day, billed_usd, expected_usd."""
    daily = df.group_by("day").agg(pl.col("billed_usd").sum(), pl.col("expected_usd").sum()).sort("day")
    fig = go.Figure()
    fig.add_scatter(x=daily["day"].to_list(), y=daily["expected_usd"].to_list(), mode="lines",
                    name="Expected (list price)", line=dict(color=LIST_COLOR, width=3),
                    hovertemplate="Expected: $%{y:,.2f}<extra></extra>")
    fig.add_scatter(x=daily["day"].to_list(), y=daily["billed_usd"].to_list(), mode="lines", name="Billed",
                    line=dict(color=BILLED_COLOR, width=2), hovertemplate="Billed: $%{y:,.2f}<extra></extra>")
    fig.update_xaxes(title_text="Day", tickformat="%-d %b")
    return _layout(fig, y_max=_max(daily["billed_usd"], daily["expected_usd"]), y_title="Daily cost (USD)")


def chargeback(df: pl.DataFrame) -> go.Figure:
    """Horizontal stacked bars per team: direct spend and the allocated share of unassigned spend.
    Columns: team, direct_usd, allocated_usd."""
    df = df.sort("total_usd") if "total_usd" in df.columns else df
    fig = go.Figure()
    fig.add_bar(y=df["team"].to_list(), x=df["direct_usd"].to_list(), orientation="h", name="Direct",
                marker_color=BILLED_COLOR, hovertemplate="Direct: $%{x:,.2f}<extra></extra>")
    fig.add_bar(y=df["team"].to_list(), x=df["allocated_usd"].to_list(), orientation="h",
                name="Allocated from unassigned", marker_color=FORECAST_COLOR,
                hovertemplate="Allocated: $%{x:,.2f}<extra></extra>")
    totals = (df["direct_usd"] + df["allocated_usd"]) if df.height else pl.Series([0.0])
    fig.update_layout(barmode="stack", bargap=0.3, template="plotly_white", font=dict(size=13),
                      height=max(220, 48 * df.height + 90), margin=dict(l=8, r=8, t=40, b=8),
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0,
                                  traceorder="normal"),
                      hovermode="y unified")
    fig.update_xaxes(title_text="Spend (USD)", tickprefix="$", tickformat=money_tickformat(totals.max()))
    return fig
