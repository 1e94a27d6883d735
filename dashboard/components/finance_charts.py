"""Chart builders of the finance pages: `f(frame, ...) -> dict`, a Vega-Lite spec (components/vega.py), pure (no
streamlit, no queries). Money axes in USD with thousands separators; forecasts dashed with their P10-P90 band
shaded; days and thresholds that matter (a budget crossing, a flagged day) marked on the chart itself. Every
chart with several lines draws them from one long frame with a `series` column: the legend's names."""

from __future__ import annotations

import datetime as dt

import polars as pl

from dashboard.components import vega
from dashboard.components.charts import BILLED_COLOR, LIST_COLOR
from dashboard.components.vega import UTC, field, layer, tip

ACTUAL_COLOR = "#1f4e79"
FORECAST_COLOR = "#d9822b"
BAND_COLOR = "#f4d9bf"
BUDGET_COLOR = "#b22222"
EXPECTED_COLOR = "#6c757d"
NORMAL_BAND = "#e3e5e8"
FLAG_COLOR = "#d62728"
SCENARIO_COLOR = "#2a9d8f"
SAVING_COLOR = "#2a9d8f"
COST_COLOR = "#d62728"
_HEIGHT = 360
SOLID, DASHED, DOTTED = [1, 0], [6, 4], [2, 3]


def _max(*cols: pl.Series) -> float | None:
    values = [c.max() for c in cols if c.len() and c.max() is not None]
    return max(values) if values else None


def _day_x(title: str = "Day") -> dict:
    return field("day", "temporal", scale=UTC, axis=vega.time_axis(title))


def _long(df: pl.DataFrame, columns: dict[str, str], scale: float = 1.0) -> pl.DataFrame:
    """One row per day per series (`columns`: column -> series name), nulls left out: day (UTC), when (text),
    series, value."""
    parts = [df.select(pl.col("day"), pl.lit(name).alias("series"), (pl.col(col).cast(pl.Float64) * scale).alias("value"))
             for col, name in columns.items() if col in df.columns]
    out = pl.concat(parts) if parts else pl.DataFrame(schema={"day": pl.Date, "series": pl.String, "value": pl.Float64})
    return out.filter(pl.col("value").is_not_null()).with_columns(
        pl.col("day").dt.strftime("%a %-d %b %Y").alias("when"), vega.as_utc("day").alias("day"))


def _lines(name: str, series: list[str], colors: list[str], dashes: list[list[int]], widths: list[float],
           value_format: str, y_axis: dict, points: bool = False, scale: dict | None = None) -> dict:
    """The line layer of a long frame: one line per series with its colour, dash and width, in the legend."""
    return layer(name, {"type": "line", "point": {"size": 16} if points else False, "interpolate": "linear"},
                 x=_day_x(), y=field("value", axis=y_axis, scale=scale or {"zero": True}),
                 color=vega.colour("series", series, colors),
                 strokeDash={"field": "series", "type": "nominal", "scale": {"domain": series, "range": dashes},
                             "legend": None},
                 strokeWidth={"field": "series", "type": "nominal", "scale": {"domain": series, "range": widths},
                              "legend": None},
                 tooltip=[tip("series", "Series"), tip("when", "Day"), tip("value", "Value", value_format)])


def _band(name: str, frame: pl.DataFrame, low: str, high: str, label: str, color: str, y_axis: dict | None = None):
    """(layer, data): a shaded band between two columns, in the legend as `label`."""
    data = frame.filter(pl.col(low).is_not_null() & pl.col(high).is_not_null()).select(
        vega.as_utc("day").alias("day"), pl.col(low).cast(pl.Float64).alias("low"),
        pl.col(high).cast(pl.Float64).alias("high"), pl.lit(label).alias("band"))
    y = field("low", axis=y_axis) if y_axis is not None else field("low")
    return (layer(name, {"type": "area", "opacity": 0.9}, x=_day_x(), y=y, y2=field("high"),
                  fill=vega.colour("band", [label], [color])), data)


def forecast_band(df: pl.DataFrame, as_of: dt.date | None = None, band: bool = True) -> dict:
    """Daily spend of one key: actual bars up to the as-of day, then the forecast line in its P10-P90 band
    (`band=False`: the line alone, named unreliable, for a forecast its backtest does not support).
    Columns: day, actual_usd, forecast_usd, p10_usd, p90_usd."""
    past = df.filter(pl.col("actual_usd").is_not_null())
    future = df.filter(pl.col("forecast_usd").is_not_null())
    y_max = _max(df["actual_usd"], df["p90_usd"] if band else df["forecast_usd"])
    y_axis = vega.money_axis("Daily spend (USD)", y_max)
    forecast = "Forecast (P50)" if band else "Forecast (unreliable)"
    actual = _long(past, {"actual_usd": "Actual"})
    layers = [layer("actual", {"type": "bar", "color": ACTUAL_COLOR}, x=_day_x(), y=field("value", axis=y_axis),
                    color=vega.colour("series", ["Actual"], [ACTUAL_COLOR]),
                    tooltip=[tip("when", "Day"), tip("value", "Actual", "$,.2f")])]
    datasets = {"actual": actual}
    if future.height:
        if band:
            band_layer, datasets["band"] = _band("band", future, "p10_usd", "p90_usd", "P10–P90 band", BAND_COLOR)
            layers.insert(0, band_layer)
        datasets["forecast"] = _long(future, {"forecast_usd": forecast})
        layers.append(layer("forecast", {"type": "line", "strokeDash": DASHED, "strokeWidth": 2, "point": {"size": 14},
                                         "color": FORECAST_COLOR},
                            x=_day_x(), y=field("value"), stroke=vega.colour("series", [forecast], [FORECAST_COLOR]),
                            tooltip=[tip("when", "Day"), tip("value", forecast, "$,.2f")]))
        if as_of is not None:
            marks, data = vega.day_marker("as_of", as_of, f"as of {as_of:%d %b}", EXPECTED_COLOR)
            layers += marks
            datasets.update(data)
    return vega.chart(layers, datasets, _HEIGHT, resolve={"scale": {"color": "independent", "fill": "independent",
                                                                     "stroke": "independent"}})


def burndown(df: pl.DataFrame, budget: float | None, crossing_date: dt.date | None = None) -> dict:
    """Cumulative spend through a budget period: actual, then the forecast with its P10-P90 band; the budget
    as a horizontal line and the day the spend reaches it marked.
    Columns: day, actual_cum_usd, forecast_cum_usd, p10_cum_usd, p90_cum_usd."""
    past = df.filter(pl.col("actual_cum_usd").is_not_null())
    future = df.filter(pl.col("forecast_cum_usd").is_not_null())
    if future.height and past.height:
        # start the forecast at the last actual point so the two lines join
        last = pl.col("actual_cum_usd")
        joint = past.tail(1).with_columns(forecast_cum_usd=last, p10_cum_usd=last, p90_cum_usd=last)
        future = pl.concat([joint, future], how="vertical_relaxed")
    y_max = _max(df["actual_cum_usd"], df["p90_cum_usd"], pl.Series([budget or 0.0]))
    y_axis = vega.money_axis("Cumulative spend (USD)", y_max)
    budget_line = df.select("day").with_columns(pl.lit(budget, dtype=pl.Float64).alias("budget_usd")) \
        if budget is not None else df.select("day").head(0).with_columns(pl.lit(None, dtype=pl.Float64).alias("budget_usd"))
    lines = pl.concat([_long(future, {"forecast_cum_usd": "Forecast (cumulative)"}),
                       _long(past, {"actual_cum_usd": "Actual (cumulative)"}),
                       _long(budget_line, {"budget_usd": "Budget"})])
    series = ["Actual (cumulative)", "Forecast (cumulative)", "Budget"]
    layers = [_lines("lines", series, [ACTUAL_COLOR, FORECAST_COLOR, BUDGET_COLOR], [SOLID, DASHED, SOLID],
                     [3, 2.5, 2], "$,.2f", y_axis)]
    datasets = {"lines": lines}
    if future.height:
        band_layer, datasets["band"] = _band("band", future, "p10_cum_usd", "p90_cum_usd", "P10–P90 band", BAND_COLOR)
        layers.insert(0, band_layer)
    if crossing_date is not None:
        marks, data = vega.day_marker("crossing", crossing_date, f"reaches budget {crossing_date:%d %b}", BUDGET_COLOR)
        layers += marks
        datasets.update(data)
    return vega.chart(layers, datasets, _HEIGHT, resolve={"scale": {"color": "independent", "fill": "independent"}})


def scenario_impact(df: pl.DataFrame) -> dict:
    """Per team: forecast with today's mix beside the forecast under the scenario, the budget as a marker.
    Columns: team, forecast_today_usd, forecast_scenario_usd, budget_usd."""
    names = {"forecast_today_usd": "Forecast, today's mix", "forecast_scenario_usd": "Forecast under the scenario"}
    long = (df.select("team", *(pl.col(c).cast(pl.Float64) for c in names))
            .unpivot(list(names), index="team", variable_name="kind", value_name="amount_usd")
            .with_columns(pl.col("kind").replace_strict(names, return_dtype=pl.String).alias("series")))
    budgets = df.filter(pl.col("budget_usd").is_not_null()).select(
        "team", pl.col("budget_usd").cast(pl.Float64), pl.lit("Budget").alias("series"))
    y_max = _max(df["forecast_today_usd"], df["forecast_scenario_usd"], df["budget_usd"])
    x = field("team", "nominal", title="Team", sort=df["team"].to_list(), axis={"labelAngle": -30, "labelLimit": 160})
    domain = list(names.values())
    layers = [layer("forecasts", "bar", x=x, xOffset=field("series", "nominal", sort=domain),
                    y=field("amount_usd", axis=vega.money_axis("Period forecast (USD)", y_max)),
                    color=vega.colour("series", domain, [LIST_COLOR, SCENARIO_COLOR]),
                    tooltip=[tip("team", "Team"), tip("series", "What"), tip("amount_usd", "Amount", "$,.2f")])]
    datasets = {"forecasts": long}
    if budgets.height:
        datasets["budgets"] = budgets
        layers.append(layer("budgets", {"type": "tick", "thickness": 3, "bandSize": 40, "color": BUDGET_COLOR},
                            x=x, y=field("budget_usd"), stroke=vega.colour("series", ["Budget"], [BUDGET_COLOR]),
                            tooltip=[tip("team", "Team"), tip("budget_usd", "Budget", "$,.2f")]))
    return vega.chart(layers, datasets, _HEIGHT, resolve={"scale": {"color": "independent", "stroke": "independent"}})


def anomaly_series(df: pl.DataFrame, flagged: pl.DataFrame) -> dict:
    """One series' daily spend with its expected value, the normal range up to the flag threshold shaded, and
    the flagged days marked. Columns: day, spend_usd, expected_usd, threshold_usd; flagged: day, spend_usd."""
    y_axis = vega.money_axis("Daily spend (USD)", _max(df["spend_usd"], df["threshold_usd"]))
    band_layer, band = _band("band", df, "expected_usd", "threshold_usd", "Normal range (up to the flag line)",
                             NORMAL_BAND, y_axis)
    series = ["Spend", "Expected (same-weekday median)"]
    lines = _long(df, {"expected_usd": series[1], "spend_usd": series[0]})
    layers = [band_layer, _lines("lines", series, [ACTUAL_COLOR, EXPECTED_COLOR], [SOLID, DOTTED], [2, 1.5], "$,.2f",
                                 y_axis)]
    datasets = {"band": band, "lines": lines}
    if flagged.height:
        datasets["flagged"] = _long(flagged, {"spend_usd": "Flagged day"})
        layers.append(layer("flagged", {"type": "point", "shape": "circle", "size": 160, "strokeWidth": 3,
                                        "filled": False, "color": FLAG_COLOR},
                            x=_day_x(), y=field("value"), stroke=vega.colour("series", ["Flagged day"], [FLAG_COLOR]),
                            tooltip=[tip("when", "Flagged day"), tip("value", "Spend", "$,.2f")]))
    return vega.chart(layers, datasets, _HEIGHT,
                      resolve={"scale": {"color": "independent", "fill": "independent", "stroke": "independent"}})


def regression_series(df: pl.DataFrame, start: dt.date, unit: str, percent: bool) -> dict:
    """One regression's series: the daily value, its rolling baseline and the flag line, with the day the
    regression started marked. Columns: day, value, baseline, threshold. `percent`: values are shares."""
    name = unit[:1].upper() + unit[1:]
    series = [name, "Baseline (28-day median)", "Flag line"]
    lines = _long(df, {"baseline": series[1], "threshold": series[2], "value": series[0]},
                  scale=100.0 if percent else 1.0)
    y_axis = {"title": unit, "format": ".0f" if percent else ",.2f"}
    if percent:
        y_axis["labelExpr"] = "datum.label + '%'"
    layers = [_lines("lines", series, [ACTUAL_COLOR, EXPECTED_COLOR, FLAG_COLOR], [SOLID, DOTTED, DASHED], [2, 1.5, 1],
                     ".0f" if percent else ",.2f", y_axis, points=True)]
    marks, data = vega.day_marker("started", start, f"started {start:%d %b}", FLAG_COLOR, dash=SOLID, width=2)
    return vega.chart(layers + marks, {"lines": lines, **data}, _HEIGHT)


def reconcile_waterfall(steps: list[tuple[str, float, str]]) -> dict:
    """Naive list price -> explained steps -> expected -> residual -> billed: floating bars. `steps`: (label,
    amount, measure) with measure absolute | relative | total (a total bar stands on zero at the running
    level; a relative one moves the level: up in red, down in green)."""
    rows, level = [], 0.0
    for label, amount, measure in steps:
        if measure == "relative":
            low, high, kind = min(level, level + amount), max(level, level + amount), \
                ("Increase" if amount >= 0 else "Decrease")
            text = "" if abs(amount) < 0.005 else f"{'+' if amount >= 0 else '−'}${abs(amount):,.2f}"
            level += amount
        else:
            level = amount if measure == "absolute" else level
            low, high, kind, text = 0.0, level, "Total", f"${level:,.2f}"
        rows.append((label, low, high, kind, text, measure))
    y_max = max([abs(s[1]) for s in steps] + [0.0]) * 1.12
    data = pl.DataFrame(rows, schema=["step", "low", "high", "kind", "text", "measure"], orient="row")
    data = data.with_columns(tier=pl.Series(_label_tiers(data, y_max), dtype=pl.Int8))
    x = field("step", "nominal", sort=data["step"].to_list(), title=None,
              axis={"labelAngle": -30, "labelLimit": 160, "labelOverlap": False})
    bars = layer("steps", {"type": "bar", "width": {"band": 0.6}}, x=x,
                 y=field("low", axis=vega.money_axis("USD", y_max), scale={"domain": [0, y_max or 1], "nice": False}),
                 y2=field("high"),
                 color=vega.colour("kind", ["Total", "Increase", "Decrease"], [BILLED_COLOR, COST_COLOR, SAVING_COLOR],
                                   False),
                 tooltip=[tip("step", "Step"), tip("text", "Amount")])
    # a decrease's label goes under its bar: above it, it would sit at the level of the bar before and collide
    # with that bar's label (list price $4,312.06 then cache pricing -$786.58 printed over each other); a label
    # at the height of its neighbour's (expected, residual, billed: three amounts at one level) moves one line
    # further out, "far", so neighbours never print over each other
    text = {"type": "text", "fontSize": 11, "color": "#3c4043"}
    labels, datasets = [], {"steps": data}
    for name, y, baseline, dy, side in (("above", "high", "bottom", -3, pl.col("kind") != "Decrease"),
                                        ("below", "low", "top", 3, pl.col("kind") == "Decrease")):
        for tier, far in ((0, ""), (1, "_far")):
            labels.append(layer(name + far, {**text, "baseline": baseline, "dy": dy * (1 + 5 * tier)}, x=x,
                                y=field(y), text=field("text", "nominal")))
            datasets[name + far] = data.filter(side & (pl.col("tier") == tier) & (pl.col("text") != ""))
    return vega.chart([bars, *labels], datasets, _HEIGHT)


LABEL_CLASH = 0.09      # labels of neighbouring bars closer than this share of the y axis print over each other


def _label_tiers(data: pl.DataFrame, y_max: float) -> list[int]:
    """Per step, 0 (its label beside its bar) or 1 (one line further out): a label whose left neighbour's sits at
    about the same height, on the near line, goes out (a handful of steps: a plain loop)."""
    tiers, before = [], None    # before: the left neighbour's label (under its bar?, height, tier), None if none
    for r in data.iter_rows(named=True):
        under = r["kind"] == "Decrease"      # hangs under its bar: it only meets a neighbour's that hangs too
        at = r["low"] if under else r["high"]
        clash = (r["text"] and before is not None and before[0] == under and before[2] == 0
                 and abs(at - before[1]) < LABEL_CLASH * (y_max or 1))
        tiers.append(1 if clash else 0)
        before = (under, at, tiers[-1]) if r["text"] else None
    return tiers


def reconcile_daily(df: pl.DataFrame) -> dict:
    """Billed vs expected (list) per day, summed over providers, for the usage carrying both.
    Columns: day, billed_usd, expected_usd."""
    daily = df.group_by("day").agg(pl.col("billed_usd").sum(), pl.col("expected_usd").sum()).sort("day")
    series = ["Expected (list price)", "Billed"]
    y_axis = vega.money_axis("Daily cost (USD)", _max(daily["billed_usd"], daily["expected_usd"]))
    lines = _long(daily, {"expected_usd": series[0], "billed_usd": series[1]})
    return vega.chart([_lines("lines", series, [LIST_COLOR, BILLED_COLOR], [SOLID, SOLID], [3, 2], "$,.2f", y_axis)],
                      {"lines": lines}, _HEIGHT)


def chargeback(df: pl.DataFrame) -> dict:
    """Horizontal stacked bars per team: direct spend and the allocated share of unassigned spend, the largest
    team on top. Columns: team, direct_usd, allocated_usd (total_usd orders them when present)."""
    df = df.sort("total_usd", descending=True) if "total_usd" in df.columns else df
    names = {"direct_usd": "Direct", "allocated_usd": "Allocated from unassigned"}
    long = (df.select("team", *(pl.col(c).cast(pl.Float64) for c in names))
            .unpivot(list(names), index="team", variable_name="kind", value_name="amount_usd")
            .with_columns(pl.col("kind").replace_strict(names, return_dtype=pl.String).alias("series"),
                          pl.col("kind").replace_strict({"direct_usd": 0, "allocated_usd": 1},
                                                        return_dtype=pl.Int32).alias("stack")))
    totals = (df["direct_usd"] + df["allocated_usd"]) if df.height else pl.Series([0.0])
    domain = list(names.values())
    bars = layer("teams", "bar", y=field("team", "nominal", title=None, sort=df["team"].to_list()),
                 x=field("amount_usd", stack="zero", axis=vega.money_axis("Spend (USD)", totals.max())),
                 color=vega.colour("series", domain, [BILLED_COLOR, FORECAST_COLOR]),
                 order=field("stack"),
                 tooltip=[tip("team", "Team"), tip("series", "What"), tip("amount_usd", "Amount", "$,.2f")])
    return vega.chart([bars], {"teams": long}, max(220, 40 * df.height + 60))
