"""Chart builders of the Overview and Explore pages: `f(frame) -> dict`, a Vega-Lite spec (components/vega.py;
drawn by `st.vega_lite_chart`), pure (no streamlit, no queries). Money axes in USD with thousands separators; one
colour per provider and per model (components/colors.py) on every chart; models show short names in legends
and their full id in the tooltip."""

from __future__ import annotations

import datetime as dt

import polars as pl

from dashboard.components import colors, vega
from dashboard.components.colors import OTHER_COLOR, PROVIDER_COLORS  # noqa: F401  (one map: colors.py)
from dashboard.components.formatting import MONTH_AXIS
from dashboard.components.vega import HEIGHT as _HEIGHT
from dashboard.components.vega import UTC, field, layer, money_format, tip

BILLED_COLOR = "#1f4e79"
LIST_COLOR = "#9ecae1"
INCOMPLETE_COLOR = "#9aa0a6"

# how much of its period a bar spans (the rest is the gap to the next bar)
_SPAN = {"day": pl.duration(hours=19), "week": pl.duration(days=5, hours=12)}
_PERIOD = {"day": "Day", "week": "Week starting", "month": "Month"}
_TICKS = {"day": "%-d %b", "week": "%-d %b", "month": MONTH_AXIS}
MAX_TICKS = 5       # period labels on a time axis; more crowd a half-width chart


def period_ticks(periods: pl.Series, bucket: str) -> list[dict]:
    """The x axis's tick values: period starts (weeks start on Monday; days are labelled on Mondays), every n-th
    so at most MAX_TICKS show, as Vega-Lite DateTime objects in UTC (it ignores plain epoch numbers on a time
    axis). Set explicitly, so two charts of the same periods label the same days whatever their widths and
    legends: Vega's own ticks fall on Sundays or on month starts depending on the room it has, and Overview's
    two weekly charts labelled different days side by side."""
    shown = periods.drop_nulls().cast(pl.Date)
    if shown.is_empty():
        return []
    # every period from the first to the last, those without spend too (ticks evenly spaced in time)
    every = {"day": "1d", "week": "1w", "month": "1mo"}.get(bucket, "1d")
    starts = pl.date_range(shown.min(), shown.max(), every, eager=True)
    if bucket == "day":
        mondays = starts.filter(starts.dt.weekday() == 1)
        starts = mondays if len(mondays) >= 2 else starts
    step = max(1, -(-len(starts) // MAX_TICKS))
    return [{"year": d.year, "month": d.month, "date": d.day, "utc": True} for d in starts.gather_every(step)]


def money_tickformat(max_value: float | None) -> str:
    """Whole dollars with thousands separators, cents when the largest value is small ($0.50, not $1)."""
    return money_format(max_value)


def _period_end(bucket: str) -> pl.Expr:
    start = vega.as_utc("period")
    if bucket == "month":
        return start.dt.offset_by("1mo") - pl.duration(days=5)
    return start + _SPAN.get(bucket, _SPAN["day"])


def _stacked_spend(df: pl.DataFrame, by: str, order: list[str], dimension: str,
                   bucket: str, incomplete: tuple[dt.date, dt.date] | None = None) -> dict:
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
    # stacked here (positive amounts up from zero in `order`, negative ones down from it): each bar is a rect
    # from y0 to y1 over its period
    up = pl.col("spend_usd").clip(lower_bound=0).cum_sum().over("period")
    down = pl.col("spend_usd").clip(upper_bound=0).cum_sum().over("period")
    positive = pl.col("spend_usd") >= 0
    data = (df.filter(pl.col(by).is_in(order))
            .select(
                pl.col("period"), _period_end(bucket).alias("period_end"),
                pl.col(by).replace_strict(labels, return_dtype=pl.String).alias("series"),
                pl.col(by).cast(pl.String).alias("full_name"),
                pl.col(by).replace_strict(rank, return_dtype=pl.Int32).alias("stack"),
                pl.col("spend_usd").cast(pl.Float64),
                pl.col("period").dt.strftime("%-d %b %Y" if bucket != "month" else "%b %Y").alias("when"))
            .sort(["period", "stack"])
            .with_columns(pl.when(positive).then(up - pl.col("spend_usd")).otherwise(down).alias("y0"),
                          pl.when(positive).then(up).otherwise(down - pl.col("spend_usd")).alias("y1"),
                          vega.as_utc("period").alias("period")))
    y_max = data["y1"].max() if data.height else None
    top_down = list(reversed(order))                    # legend top-down = the stack top-down
    name_title = {"model": "Model", "provider": "Provider"}.get(dimension, dimension.replace("_", " ").capitalize())
    bars = layer("bars", "rect",
                 x=field("period", "temporal", scale=UTC,
                         axis=vega.time_axis(_PERIOD.get(bucket, "Period"), _TICKS.get(bucket, "%-d %b"),
                                             values=period_ticks(df["period"], bucket))),
                 x2=field("period_end"),
                 y=field("y0", scale={"zero": True, "nice": True}, axis=vega.money_axis("Spend (USD)", y_max)),
                 y2=field("y1"),
                 color=vega.colour("series", [labels[n] for n in top_down],
                                   [colors.color_of(dimension, n) for n in top_down], legend={"orient": "right"}),
                 tooltip=[tip("full_name", name_title), tip("when", _PERIOD.get(bucket, "Period")),
                          tip("spend_usd", "Spend", "$,.2f")])
    layers, datasets = [bars], {"bars": data}
    if incomplete is not None:
        band_layers, band_data = incomplete_band(*incomplete, bucket)
        layers, datasets = band_layers + layers, {**band_data, **datasets}
    return vega.chart(layers, datasets, _HEIGHT)


def incomplete_band(first: dt.date, last: dt.date, bucket: str = "day") -> tuple[list[dict], dict]:
    """A grey band over the periods holding the days [first, last], labelled "incomplete" (bars there miss a
    source's usage): (layers, datasets). A bar is drawn from its period's start, so the band starts at the
    period holding `first` and ends with the period holding `last`."""
    if bucket == "week":
        first = first - dt.timedelta(days=first.weekday())
        last = last - dt.timedelta(days=last.weekday()) + dt.timedelta(days=7)
    elif bucket == "month":
        first = first.replace(day=1)
        last = (last.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    else:
        last = last + dt.timedelta(days=1)
    x = field("band_start", "temporal", scale=UTC)
    return ([layer("incomplete", {"type": "rect", "color": INCOMPLETE_COLOR, "opacity": 0.18}, x=x,
                   x2=field("band_end")),
             layer("incomplete", {"type": "text", "align": "left", "baseline": "top", "dx": 3, "y": 3,
                                  "color": vega.MUTED, "fontSize": 11}, x=x, text=field("text", "nominal"))],
            {"incomplete": vega.utc_frame(band_start=[first], band_end=[last], text=["incomplete"])})


def spend_by_provider(df: pl.DataFrame, bucket: str = "week",
                      incomplete: tuple[dt.date, dt.date] | None = None) -> dict:
    """Stacked bars of spend per provider per period. Columns: period, provider, spend_usd."""
    totals = df.group_by("provider").agg(pl.col("spend_usd").sum()).sort(["spend_usd", "provider"],
                                                                          descending=[True, False])
    return _stacked_spend(df, "provider", totals["provider"].to_list(), "provider", bucket, incomplete)


def spend_by_model(df: pl.DataFrame, bucket: str = "week",
                   incomplete: tuple[dt.date, dt.date] | None = None) -> dict:
    """Stacked bars of spend per model per period, largest model at the bottom, 'other' on top, credit lines
    their own series. Columns: period, model, spend_rank, spend_usd."""
    order = (df.group_by("model").agg(pl.col("spend_rank").min()).sort(["spend_rank", "model"])["model"].to_list())
    return _stacked_spend(df, "model", order, "model", bucket, incomplete)


def billed_vs_list(df: pl.DataFrame) -> dict:
    """Grouped bars per provider: billed cost beside the list cost of the same usage, with the gap in % (billed
    vs list) above the billed bar. Columns: provider, billed_usd, list_usd, gap_pct. Providers with nothing to
    compare are left out."""
    df = df.filter(pl.col("list_usd") > 0)
    names = {"list_usd": "List price (catalog)", "billed_usd": "Billed (reported)"}
    sign = pl.when(pl.col("gap_pct") >= 0).then(pl.lit("+")).otherwise(pl.lit("−"))
    long = (df.select("provider", pl.col("list_usd").cast(pl.Float64), pl.col("billed_usd").cast(pl.Float64),
                      pl.col("gap_pct").cast(pl.Float64))
            .unpivot(["list_usd", "billed_usd"], index=["provider", "gap_pct"], variable_name="kind",
                     value_name="amount_usd")
            .with_columns(pl.col("kind").replace_strict(names, return_dtype=pl.String).alias("series"),
                          pl.when(pl.col("kind") == "billed_usd")
                          .then(pl.format("{}{}%", sign, pl.col("gap_pct").abs().round(1)))
                          .otherwise(pl.lit("")).fill_null("").alias("gap")))
    y_max = max(df["list_usd"].max() or 0, df["billed_usd"].max() or 0) if df.height else None
    domain = list(names.values())
    x = field("provider", "nominal", title="Provider", sort=df["provider"].to_list(),
              axis={"labelAngle": -30, "labelOverlap": False, "labelLimit": 140})
    offset = field("series", "nominal", sort=domain)
    y = field("amount_usd", scale={"nice": True}, axis=vega.money_axis("Spend (USD)", y_max))
    bars = layer("amounts", "bar", x=x, xOffset=offset, y=y,
                 color=vega.colour("series", domain, [LIST_COLOR, BILLED_COLOR]),
                 tooltip=[tip("provider", "Provider"), tip("series", "What"), tip("amount_usd", "Amount", "$,.2f"),
                          tip("gap_pct", "Billed vs list (%)", "+.1f")])
    # the gap above the billed bar (the tooltip and the table beside the chart say "vs list")
    text = layer("amounts", {"type": "text", "baseline": "bottom", "dy": -3, "fontSize": 11, "color": "#3c4043"},
                 x=x, xOffset=offset, y=y, text=field("gap", "nominal"))
    return vega.chart([bars, text], {"amounts": long}, _HEIGHT)
