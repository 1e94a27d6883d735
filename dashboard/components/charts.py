"""Chart builders of the Overview and Explore pages: `f(frame) -> alt.Chart` (Vega-Lite, drawn by
`st.altair_chart`), pure (no streamlit, no queries). Money axes in USD with thousands separators; one colour per
provider and per model (components/colors.py) on every chart; models show short names in legends and their full
id in the tooltip."""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl

from dashboard.components import colors, vega
from dashboard.components.colors import OTHER_COLOR, PROVIDER_COLORS  # noqa: F401  (one map: colors.py)
from dashboard.components.vega import HEIGHT as _HEIGHT, UTC, money_format  # noqa: F401

BILLED_COLOR = "#1f4e79"
LIST_COLOR = "#9ecae1"
INCOMPLETE_COLOR = "#9aa0a6"

# how much of its period a bar spans (the rest is the gap to the next bar), and the period's length
_SPAN = {"day": pl.duration(hours=19), "week": pl.duration(days=5, hours=12)}
_PERIOD = {"day": "Day", "week": "Week starting", "month": "Month"}
_TICKS = {"day": "%-d %b", "week": "%-d %b", "month": "%b %Y"}


def money_tickformat(max_value: float | None) -> str:
    """Whole dollars with thousands separators, cents when the largest value is small ($0.50, not $1)."""
    return vega.money_format(max_value)


def _period_end(bucket: str) -> pl.Expr:
    start = vega.as_utc("period")
    if bucket == "month":
        return start.dt.offset_by("1mo") - pl.duration(days=5)
    return start + _SPAN.get(bucket, _SPAN["day"])


def _stacked_spend(df: pl.DataFrame, by: str, order: list[str], dimension: str,
                   bucket: str, incomplete: tuple[dt.date, dt.date] | None = None):
    """One bar series per group, first in `order` at the bottom; groups with no spend are left out. The legend
    sits on the right and lists the series top-down as they are stacked. Colours come from `colors` by the
    series' `dimension` (a provider or model looks the same on every chart); models show short names in the
    legend and their full id in the tooltip. Credits and adjustments (negative money lines, not models) are a
    series of their own below zero, never part of 'other'. `incomplete` (first, last day) is shaded and
    labelled: days some source does not cover yet, so their bars are partial."""
    spent = set(df.group_by(by).agg(pl.col("spend_usd").sum()).filter(pl.col("spend_usd") != 0)[by].to_list())
    order = [name for name in order if name in spent]
    labels = colors.short_labels(order) if dimension == "model" else {n: n for n in order}
    rank = {name: i for i, name in enumerate(order)}
    data = (df.filter(pl.col(by).is_in(order))
            .select(
                vega.as_utc("period").alias("period"), _period_end(bucket).alias("period_end"),
                pl.col(by).replace_strict(labels, return_dtype=pl.String).alias("series"),
                pl.col(by).cast(pl.String).alias("full_name"),
                pl.col(by).replace_strict(rank, return_dtype=pl.Int32).alias("stack"),
                pl.col("spend_usd").cast(pl.Float64),
                pl.col("period").dt.strftime("%-d %b %Y" if bucket != "month" else "%b %Y").alias("when"))
            .sort(["period", "stack"]))
    # stacked here (positive amounts up from zero in `order`, negative ones down from it): each bar is a rect
    # from y0 to y1 over its period, the same on every renderer
    up = pl.col("spend_usd").clip(lower_bound=0).cum_sum().over("period")
    down = pl.col("spend_usd").clip(upper_bound=0).cum_sum().over("period")
    positive = pl.col("spend_usd") >= 0
    data = data.with_columns(
        pl.when(positive).then(up - pl.col("spend_usd")).otherwise(down).alias("y0"),
        pl.when(positive).then(up).otherwise(down - pl.col("spend_usd")).alias("y1"))
    totals = df.group_by("period").agg(pl.col("spend_usd").sum())["spend_usd"] if df.height else None
    y_max = totals.max() if totals is not None else None
    domain = [labels[n] for n in reversed(order)]          # legend top-down = the stack top-down
    name_title = {"model": "Model", "provider": "Provider"}.get(dimension, dimension.replace("_", " ").capitalize())
    bars = alt.Chart(data).mark_rect().encode(
        x=alt.X("period:T", scale=UTC, axis=vega.day_axis(_PERIOD.get(bucket, "Period"), _TICKS.get(bucket, "%-d %b"))),
        x2="period_end:T",
        y=alt.Y("y0:Q", scale=alt.Scale(zero=True, nice=True), axis=vega.money_axis("Spend (USD)", y_max)),
        y2="y1:Q",
        color=alt.Color("series:N", scale=vega.scale(domain, [colors.color_of(dimension, n) for n in reversed(order)]),
                        legend=vega.legend("right")),
        tooltip=[alt.Tooltip("full_name:N", title=name_title), alt.Tooltip("when:N", title=_PERIOD.get(bucket, "Period")),
                 alt.Tooltip("spend_usd:Q", title="Spend", format="$,.2f")],
    )
    layers = [bars]
    if incomplete is not None:
        layers.insert(0, incomplete_band(*incomplete, bucket))
    return vega.finish(alt.layer(*layers), _HEIGHT)


def incomplete_band(first: dt.date, last: dt.date, bucket: str = "day"):
    """A grey band over the periods holding the days [first, last], labelled "incomplete" (bars there miss a
    source's usage). A bar is drawn from its period's start, so the band starts at the period holding `first`
    and ends with the period holding `last`."""
    if bucket == "week":
        first = first - dt.timedelta(days=first.weekday())
        last = last - dt.timedelta(days=last.weekday()) + dt.timedelta(days=7)
    elif bucket == "month":
        first = first.replace(day=1)
        last = (last.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    else:
        last = last + dt.timedelta(days=1)
    row = pl.DataFrame({"band_start": [first], "band_end": [last], "text": ["incomplete"]}).with_columns(
        vega.as_utc("band_start"), vega.as_utc("band_end"))
    base = alt.Chart(row).encode(x=alt.X("band_start:T", scale=UTC))
    band = base.mark_rect(color=INCOMPLETE_COLOR, opacity=0.18).encode(x2="band_end:T")
    label = base.mark_text(align="left", baseline="top", dx=3, y=3, color="#5f6368", fontSize=11).encode(text="text:N")
    return band + label


def spend_by_provider(df: pl.DataFrame, bucket: str = "week",
                      incomplete: tuple[dt.date, dt.date] | None = None):
    """Stacked bars of spend per provider per period. Columns: period, provider, spend_usd."""
    totals = df.group_by("provider").agg(pl.col("spend_usd").sum()).sort(["spend_usd", "provider"],
                                                                          descending=[True, False])
    return _stacked_spend(df, "provider", totals["provider"].to_list(), "provider", bucket, incomplete)


def spend_by_model(df: pl.DataFrame, bucket: str = "week",
                   incomplete: tuple[dt.date, dt.date] | None = None):
    """Stacked bars of spend per model per period, largest model at the bottom, 'other' on top, credit lines
    their own series. Columns: period, model, spend_rank, spend_usd."""
    order = (df.group_by("model").agg(pl.col("spend_rank").min()).sort(["spend_rank", "model"])["model"].to_list())
    return _stacked_spend(df, "model", order, "model", bucket, incomplete)


def billed_vs_list(df: pl.DataFrame):
    """Grouped bars per provider: billed cost beside the list cost of the same usage, with the gap in % (billed
    vs list) above the billed bar. Columns: provider, billed_usd, list_usd, gap_pct. Providers with nothing to compare are
    left out."""
    df = df.filter(pl.col("list_usd") > 0)
    names = {"list_usd": "List price (catalog)", "billed_usd": "Billed (reported)"}
    long = (df.select("provider", "list_usd", "billed_usd", "gap_pct")
            .unpivot(["list_usd", "billed_usd"], index=["provider", "gap_pct"], variable_name="kind",
                     value_name="amount_usd")
            .with_columns(pl.col("kind").replace_strict(names, return_dtype=pl.String).alias("series"),
                          pl.when(pl.col("kind") == "billed_usd").then(
                              pl.format("{}%", pl.when(pl.col("gap_pct") >= 0).then(pl.lit("+")).otherwise(pl.lit("−"))
                                        + pl.col("gap_pct").abs().round(1).cast(pl.String)))
                          .otherwise(pl.lit("")).fill_null("").alias("gap")))
    y_max = max(df["list_usd"].max() or 0, df["billed_usd"].max() or 0) if df.height else None
    domain = list(names.values())
    base = alt.Chart(long).encode(
        x=alt.X("provider:N", title="Provider", axis=alt.Axis(labelAngle=-30, labelOverlap=False, labelLimit=140),
                sort=df["provider"].to_list()),
        xOffset=alt.XOffset("series:N", sort=domain),
        y=alt.Y("amount_usd:Q", axis=vega.money_axis("Spend (USD)", y_max), scale=alt.Scale(nice=True)),
    )
    bars = base.mark_bar().encode(
        color=alt.Color("series:N", scale=vega.scale(domain, [LIST_COLOR, BILLED_COLOR]), legend=vega.legend("top")),
        tooltip=[alt.Tooltip("provider:N", title="Provider"), alt.Tooltip("series:N", title="What"),
                 alt.Tooltip("amount_usd:Q", title="Amount", format="$,.2f"),
                 alt.Tooltip("gap_pct:Q", title="Billed vs list (%)", format="+.1f")])
    # the gap above the billed bar (the tooltip and the table beside the chart say "vs list")
    text = base.mark_text(baseline="bottom", dy=-3, fontSize=11, color="#3c4043").encode(text="gap:N")
    return vega.finish(alt.layer(bars, text), _HEIGHT)


def _base_layout(fig, *, y_max: float | None, y_title: str = "Spend (USD)", height: int = _HEIGHT):
    """Plotly layout of the figures not yet moved to Vega-Lite (What-if, finance pages)."""
    fig.update_layout(template="plotly_white", height=height, margin=dict(l=8, r=8, t=36, b=8),
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, title_text="",
                                  traceorder="normal"),
                      hovermode="x unified", font=dict(size=13))
    fig.update_yaxes(title_text=y_title, tickprefix="$", tickformat=_plotly_tickformat(y_max), rangemode="tozero")
    return fig


def _plotly_tickformat(max_value: float | None) -> str:
    return ",.2f" if (max_value or 0) < 10 else ",.0f"
