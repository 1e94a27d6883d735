"""What every chart shares: Vega-Lite through Altair (drawn by `st.altair_chart`), not Plotly. Measured in
headless Chromium (docs/benchmarks.md, "Dashboard in a browser"): a one-element Plotly app took ~9.9 s more than
text to show, a Vega-Lite chart ~1.7 s; the first chart of a page appeared 20-54 s after navigation while the
browser loaded Plotly's 4.7 MB bundle. Pure: no streamlit, no queries.

Dates go to the browser as UTC timestamps and every time scale is a UTC scale, so a bar of 1 Nov is drawn on
1 Nov whatever the reader's time zone; tooltips show text formatted here (`when`), never a time the browser
converts."""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl

FONT = 13
HEIGHT = 340
GRID = "#e8eaed"


def money_format(max_value: float | None) -> str:
    """d3 format of a USD axis: whole dollars with thousands separators, cents when the largest value is small
    ($0.50, not $1)."""
    return "$,.2f" if abs(max_value or 0) < 10 else "$,.0f"


def money_axis(title: str, max_value: float | None, **kw) -> alt.Axis:
    return alt.Axis(title=title, format=money_format(max_value), gridColor=GRID, **kw)


def day_axis(title: str = "Day", fmt: str = "%-d %b", **kw) -> alt.Axis:
    return alt.Axis(title=title, format=fmt, formatType="time", gridColor=GRID, labelOverlap=True, **kw)


UTC = alt.Scale(type="utc")


def as_utc(col: str) -> pl.Expr:
    """A date column as a UTC timestamp (what a Vega-Lite time scale of type utc reads)."""
    return pl.col(col).cast(pl.Datetime("ms")).dt.replace_time_zone("UTC")


def day_text(col: str, fmt: str = "%-d %b %Y") -> pl.Expr:
    return pl.col(col).dt.strftime(fmt)


def scale(domain: list[str], colors: list[str]) -> alt.Scale:
    return alt.Scale(domain=domain, range=colors)


def legend(orient: str = "top", **kw) -> alt.Legend:
    """No title, labels in full (no cut at 160 px), on top unless asked otherwise."""
    return alt.Legend(title=None, orient=orient, labelLimit=320, labelFontSize=12, symbolStrokeWidth=2, **kw)


def finish(chart, height: int = HEIGHT):
    """The common look: font size, light grid, no frame; the height fixed (width: the container's)."""
    return (chart.properties(height=height)
            .configure(font="sans-serif")
            .configure_axis(labelFontSize=12, titleFontSize=FONT, titleFontWeight="normal", domainColor="#9aa0a6",
                            tickColor="#9aa0a6")
            .configure_legend(labelFontSize=12)
            .configure_view(stroke=None))


def mark_day(day: dt.date, text: str, color: str, dash: list[int] | None = None, width: float = 1.5):
    """A vertical rule on `day` with `text` at its top, left-aligned beside it."""
    row = pl.DataFrame({"day": [day], "text": [text]}).with_columns(as_utc("day"))
    base = alt.Chart(row).encode(x=alt.X("day:T", scale=UTC))
    rule = base.mark_rule(color=color, strokeWidth=width, strokeDash=dash if dash is not None else [2, 3])
    label = base.mark_text(align="left", baseline="top", dx=4, y=4, color=color, fontSize=12).encode(text="text:N")
    return rule + label


def empty_chart(message: str, height: int = 120):
    """A chart with no data: the message where the plot would be."""
    return finish(alt.Chart(pl.DataFrame({"text": [message]})).mark_text(fontSize=FONT, color="#5f6368")
                  .encode(text="text:N"), height)
