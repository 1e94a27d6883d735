"""Plotly figure builders: `f(frame) -> go.Figure`, pure (no streamlit, no queries). Money axes in USD with
thousands separators; one colour per provider and per model (components/colors.py) on every chart."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl

from dashboard.components import colors
from dashboard.components.colors import OTHER_COLOR, PROVIDER_COLORS  # noqa: F401  (one map: colors.py)
from dashboard.components.formatting import MONTH_AXIS

BILLED_COLOR = "#1f4e79"
LIST_COLOR = "#9ecae1"

_HEIGHT = 340


def money_tickformat(max_value: float | None) -> str:
    """Whole dollars with thousands separators, cents when the largest value is small ($0.50, not $1)."""
    return ",.2f" if (max_value or 0) < 10 else ",.0f"


def _base_layout(fig: go.Figure, *, y_max: float | None, y_title: str = "Spend (USD)",
                 height: int = _HEIGHT) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        height=height,
        margin=dict(l=8, r=8, t=36, b=8),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, title_text="",
                    traceorder="normal"),
        hovermode="x unified",
        font=dict(size=13),
    )
    fig.update_yaxes(title_text=y_title, tickprefix="$", tickformat=money_tickformat(y_max), rangemode="tozero")
    return fig


def _stacked_spend(df: pl.DataFrame, by: str, order: list[str], dimension: str,
                   bucket: str, incomplete: tuple[dt.date, dt.date] | None = None) -> go.Figure:
    """One bar trace per series, first in `order` at the bottom; series with no spend are left out. The legend
    sits on the right and lists the series top-down as they are stacked. Colours come from `colors` by the
    series' `dimension` (a provider or model looks the same on every chart); models show short names in the
    legend and their full id in the hover. Credits and adjustments (negative money lines, not models) are one
    series of their own below zero. `incomplete` (first, last day) is shaded and labelled: days some source does
    not cover yet, so their bars are partial."""
    spent = set(df.group_by(by).agg(pl.col("spend_usd").sum()).filter(pl.col("spend_usd") != 0)[by].to_list())
    order = [name for name in order if name in spent]
    labels = colors.short_labels(order) if dimension == "model" else {n: n for n in order}
    fig = go.Figure()
    for name in order:
        part = df.filter(pl.col(by) == name).sort("period")
        fig.add_bar(
            x=part["period"].to_list(), y=part["spend_usd"].to_list(), name=labels[name],
            marker_color=colors.color_of(dimension, name),
            hovertemplate=f"{name}: $%{{y:,.2f}}<extra></extra>",
        )
    period = {"day": "Day", "week": "Week starting", "month": "Month"}.get(bucket, "Period")
    fig.update_xaxes(title_text=period, tickformat=MONTH_AXIS if bucket == "month" else "%-d %b")
    y_max = df.group_by("period").agg(pl.col("spend_usd").sum())["spend_usd"].max() if df.height else None
    _base_layout(fig, y_max=y_max)
    fig.update_layout(barmode="relative", bargap=0.15,
                      legend=dict(orientation="v", yanchor="top", y=1, xanchor="left", x=1.02,
                                  traceorder="reversed", font=dict(size=12)),
                      margin=dict(l=8, r=8, t=12, b=8))
    if incomplete is not None:
        shade_incomplete(fig, *incomplete, bucket)
    return fig


def shade_incomplete(fig: go.Figure, first: dt.date, last: dt.date, bucket: str = "day") -> go.Figure:
    """A grey band over the days [first, last] labelled "incomplete" (bars there miss a source's usage). A bar is
    drawn at its period's start, so the band starts at the period holding `first`."""
    if bucket == "week":
        first = first - dt.timedelta(days=first.weekday())
    elif bucket == "month":
        first = first.replace(day=1)
    half = {"day": 0.5, "week": 3.5, "month": 15}.get(bucket, 0.5)
    x0 = dt.datetime.combine(first, dt.time()) - dt.timedelta(days=half)
    x1 = dt.datetime.combine(last, dt.time()) + dt.timedelta(days=half)
    fig.add_vrect(x0=x0.isoformat(), x1=x1.isoformat(),
                  fillcolor="#9aa0a6", opacity=0.18, line_width=0, layer="below",
                  annotation_text="incomplete", annotation_position="top left",
                  annotation_font=dict(size=11, color="#5f6368"))
    return fig


def spend_by_provider(df: pl.DataFrame, bucket: str = "week",
                      incomplete: tuple[dt.date, dt.date] | None = None) -> go.Figure:
    """Stacked bars of spend per provider per period. Columns: period, provider, spend_usd."""
    totals = df.group_by("provider").agg(pl.col("spend_usd").sum()).sort(["spend_usd", "provider"],
                                                                          descending=[True, False])
    return _stacked_spend(df, "provider", totals["provider"].to_list(), "provider", bucket, incomplete)


def spend_by_model(df: pl.DataFrame, bucket: str = "week",
                   incomplete: tuple[dt.date, dt.date] | None = None) -> go.Figure:
    """Stacked bars of spend per model per period, largest model at the bottom, 'other' on top.
    Columns: period, model, spend_rank, spend_usd."""
    order = (df.group_by("model").agg(pl.col("spend_rank").min()).sort(["spend_rank", "model"])["model"].to_list())
    return _stacked_spend(df, "model", order, "model", bucket, incomplete)


def billed_vs_list(df: pl.DataFrame) -> go.Figure:
    """Grouped bars per provider: billed cost beside the list cost of the same usage, with the gap in %.
    Columns: provider, billed_usd, list_usd, gap_pct. Providers with nothing to compare are left out."""
    df = df.filter(pl.col("list_usd") > 0)
    providers = df["provider"].to_list()
    gaps = [("" if g is None else f"{g:+.1f}% vs list") for g in df["gap_pct"].to_list()]
    fig = go.Figure()
    fig.add_bar(x=providers, y=df["list_usd"].to_list(), name="List price (catalog)", marker_color=LIST_COLOR,
                hovertemplate="List: $%{y:,.2f}<extra></extra>")
    fig.add_bar(x=providers, y=df["billed_usd"].to_list(), name="Billed (reported)", marker_color=BILLED_COLOR,
                text=gaps, textposition="outside", cliponaxis=False,
                hovertemplate="Billed: $%{y:,.2f}<extra></extra>")
    # few providers: narrower bars instead of two slabs across the whole chart
    fig.update_layout(barmode="group", bargap={1: 0.7, 2: 0.5}.get(len(providers), 0.35), bargroupgap=0.05)
    fig.update_xaxes(title_text="Provider")
    y_max = max(df["list_usd"].max() or 0, df["billed_usd"].max() or 0) if df.height else None
    return _base_layout(fig, y_max=y_max)
