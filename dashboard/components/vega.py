"""What every chart shares: charts are Vega-Lite specs (plain dicts, drawn by `st.vega_lite_chart`), not Plotly
figures. Measured in headless Chromium (docs/benchmarks.md, "Dashboard in a browser"): a one-element Plotly app
took ~9.9 s more than text to show, a Vega-Lite chart ~1.7 s; the first chart of a page appeared 20-54 s after
navigation while the browser loaded Plotly's 4.7 MB bundle. The specs are written as dicts rather than through
Altair's objects: Altair built What-if's waterfall in ~230 ms and serialised it in ~50 ms (load 17), on a
slider move that has 100 ms in all; a dict costs well under a millisecond. Pure: no streamlit, no queries.

A chart's data are polars frames under spec["datasets"] (Streamlit sends them to the browser as Arrow); layers
name theirs. Dates go as UTC timestamps and every time scale is a UTC scale, so a bar of 1 Nov is drawn on
1 Nov whatever the reader's time zone; tooltips show text formatted here, never a time the browser converts."""

from __future__ import annotations

import datetime as dt

import polars as pl

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
FONT = 13
HEIGHT = 340
GRID = "#e8eaed"
MUTED = "#5f6368"
CONFIG = {
    "font": "sans-serif",
    "axis": {"labelFontSize": 12, "titleFontSize": FONT, "titleFontWeight": "normal", "domainColor": "#9aa0a6",
             "tickColor": "#9aa0a6", "gridColor": GRID, "labelColor": "#3c4043", "titleColor": "#3c4043"},
    "legend": {"labelFontSize": 12, "labelLimit": 320, "title": None, "symbolStrokeWidth": 2},
    "view": {"stroke": None},
}
UTC = {"type": "utc"}


def money_format(max_value: float | None) -> str:
    """d3 format of a USD axis: whole dollars with thousands separators, cents when the largest value is small
    ($0.50, not $1)."""
    return "$,.2f" if abs(max_value or 0) < 10 else "$,.0f"


def money_axis(title: str, max_value: float | None, **kw) -> dict:
    return {"title": title, "format": money_format(max_value), **kw}


def time_axis(title: str = "Day", fmt: str = "%-d %b", **kw) -> dict:
    return {"title": title, "format": fmt, "labelOverlap": True, **kw}


def field(name: str, kind: str = "quantitative", **kw) -> dict:
    return {"field": name, "type": kind, **kw}


def tip(name: str, title: str, fmt: str | None = None, kind: str = "quantitative") -> dict:
    """A tooltip line: `title: value` (`fmt`: d3 format of a number)."""
    out = {"field": name, "type": kind if fmt else "nominal", "title": title}
    if fmt:
        out["format"] = fmt
    return out


def colour(name: str, domain: list[str], colors: list[str], legend: dict | None | bool = True,
           channel_kw: dict | None = None) -> dict:
    """A nominal colour channel with a fixed domain -> colour map; the legend lists the domain in order (on top
    unless `legend` says otherwise; False: no legend)."""
    enc = {"field": name, "type": "nominal", "scale": {"domain": domain, "range": colors}, **(channel_kw or {})}
    if legend is False or legend is None:
        enc["legend"] = None
    else:
        enc["legend"] = {"orient": "top", "direction": "horizontal"} if legend is True else legend
    return enc


def layer(data: str, mark: str | dict, **encoding) -> dict:
    """One layer drawing dataset `data` with `mark` and the given channels (None channels are left out)."""
    return {"data": {"name": data}, "mark": mark if isinstance(mark, dict) else {"type": mark},
            "encoding": {k: v for k, v in encoding.items() if v is not None}}


def chart(layers: list[dict], datasets: dict[str, pl.DataFrame], height: int = HEIGHT, **top) -> dict:
    """The whole spec: the layers over their datasets, the house look, the given height (width: the
    container's)."""
    return {"$schema": SCHEMA, "height": height, "config": CONFIG, "datasets": datasets, "layer": layers, **top}


def as_utc(col: str) -> pl.Expr:
    """A date column as a UTC timestamp (what a Vega-Lite time scale of type utc reads)."""
    return pl.col(col).cast(pl.Datetime("ms")).dt.replace_time_zone("UTC")


def utc_frame(**cols: list) -> pl.DataFrame:
    """A small frame whose date columns become UTC timestamps."""
    df = pl.DataFrame(cols)
    return df.with_columns(as_utc(c) for c, t in df.schema.items() if t in (pl.Date, pl.Datetime))


def day_marker(name: str, day: dt.date, text: str, color: str, dash: list[int] | None = None,
               width: float = 1.5) -> tuple[list[dict], dict[str, pl.DataFrame]]:
    """A vertical rule on `day` with `text` at its top, beside it: (layers, datasets) to add to a chart."""
    x = field("day", "temporal", scale=UTC)
    return ([layer(name, {"type": "rule", "color": color, "strokeWidth": width,
                          "strokeDash": [2, 3] if dash is None else dash}, x=x),
             layer(name, {"type": "text", "align": "left", "baseline": "top", "dx": 4, "y": 4, "color": color,
                          "fontSize": 12}, x=x, text=field("text", "nominal"))],
            {name: utc_frame(day=[day], text=[text])})
