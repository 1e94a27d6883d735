"""Chart builders of the What-if and Outlook pages: Vega-Lite specs as dicts (components/vega.py). Pure: frames
and numbers in, a spec out. The waterfall and the frontier are redrawn on every slider move (100 ms in all), so
each is a few small frames and a dict: no query, no figure library on the way."""

from __future__ import annotations

import polars as pl

from dashboard.components import vega
from dashboard.components.formatting import MONTH_AXIS
from dashboard.components.vega import HEIGHT as _HEIGHT
from dashboard.components.vega import UTC, field, layer, tip

BASE_COLOR = "#1f4e79"
SCEN_COLOR = "#10a37f"
SAVE_COLOR = "#2ca02c"
COST_UP_COLOR = "#d62728"
BAR_COLOR = "#d97757"
BOUND_COLOR = "#999999"
LEVER_LABELS = {"model_shift": "Model shift", "cascade": "Cascade", "batch": "Batch tier", "caching": "Caching",
                "cache_lost_on_switch": "Cache lost on switch"}


def savings_waterfall(baseline: float, levers: pl.DataFrame, scenario: float) -> dict:
    """The replay baseline, minus each lever's savings, to the replay under the scenario: floating bars (a
    saving steps down in green, a lever that costs more steps up in red). Columns of `levers`: lever,
    savings_usd."""
    names = [LEVER_LABELS.get(x, x) for x in levers["lever"].to_list()]
    steps, level = [("Replay baseline", 0.0, baseline, BASE_COLOR, f"${baseline:,.0f}")], baseline
    for name, saved in zip(names, levers["savings_usd"].to_list(), strict=True):
        new = level - saved
        text = "" if abs(saved) < 0.5 else (f"−${saved:,.0f}" if saved >= 0 else f"+${-saved:,.0f}")
        steps.append((name, min(level, new), max(level, new), SAVE_COLOR if saved >= 0 else COST_UP_COLOR, text))
        level = new
    steps.append(("Scenario", 0.0, scenario, SCEN_COLOR, f"${scenario:,.0f}"))
    data = pl.DataFrame(steps, schema=["step", "low", "high", "color", "text"], orient="row")
    x = field("step", "nominal", sort=data["step"].to_list(), title=None,
              axis={"labelAngle": 0, "labelLimit": 120, "labelOverlap": False})
    bars = layer("steps", {"type": "bar", "size": 46}, x=x,
                 y=field("low", axis=vega.money_axis("Replayed cost (USD)", baseline),
                         scale={"domain": [0, max(baseline, scenario, 1e-9) * 1.15], "nice": False}),
                 y2=field("high"), color={"field": "color", "type": "nominal", "scale": None, "legend": None},
                 tooltip=[tip("step", "Step"), tip("text", "Amount")])
    labels = layer("steps", {"type": "text", "baseline": "bottom", "dy": -3, "fontSize": 12, "color": "#3c4043"},
                   x=x, y=field("high"), text=field("text", "nominal"))
    return vega.chart([bars, labels], {"steps": data}, _HEIGHT)


_CURVES = (("oracle", "Oracle bound (any router)", BAR_COLOR, [6, 4]), ("random", "Random pick", BOUND_COLOR, [2, 3]),
           ("seeds p10", "Random pick, low (P10 of 10 draws)", BOUND_COLOR, [6, 3, 2, 3]),
           ("seeds p90", "Random pick, high (P90 of 10 draws)", BOUND_COLOR, [6, 3, 2, 3]))


def frontier_chart(points: pl.DataFrame, param: str, current: tuple[float, float | None],
                   bar_point: tuple[float, float | None] | None, bar: float = 0.95,
                   bounds: pl.DataFrame | None = None) -> dict:
    """Cost (x) against quality vs baseline in % (y) along a policy's share or escalation rate, with the
    current slider point and the cheapest point at the quality bar marked; the oracle bound, the random line
    and the random seeds' p10/p90 when `bounds` has them. Columns: `param`, scenario_cost_usd, quality_ratio
    (bounds: curve, scenario_cost_usd, quality_ratio)."""
    df = points.filter(pl.col("quality_ratio").is_not_null())
    label = {"share": "Share moved", "escalation_rate": "Escalation rate", "hit_rate": "Cache hit rate"}.get(param, param)
    line = df.select(pl.lit("Frontier").alias("series"), pl.col("scenario_cost_usd").cast(pl.Float64),
                     (100 * pl.col("quality_ratio")).cast(pl.Float64).alias("quality_pct"),
                     (100 * pl.col(param)).round(2).cast(pl.Float64).alias("at_pct"))
    series, colors, dashes, curves = ["Frontier"], [BASE_COLOR], [[1, 0]], [line]
    for name, text, color, dash in _CURVES:
        if bounds is None:
            continue
        b = bounds.filter((pl.col("curve") == name) & pl.col("quality_ratio").is_not_null())
        if b.height:
            curves.append(b.select(pl.lit(text).alias("series"), pl.col("scenario_cost_usd").cast(pl.Float64),
                                   (100 * pl.col("quality_ratio")).cast(pl.Float64).alias("quality_pct"),
                                   pl.lit(None, dtype=pl.Float64).alias("at_pct")))
            series.append(text)
            colors.append(color)
            dashes.append(dash)
    x_max = df["scenario_cost_usd"].max() if df.height else None
    x = field("scenario_cost_usd", axis=vega.money_axis("Scenario spend (USD)", x_max), scale={"zero": False})
    y = field("quality_pct", axis={"title": "Quality vs baseline (%)", "format": ".0f"}, scale={"zero": False})
    tips = [tip("at_pct", f"{label} (%)", ".2~f"), tip("scenario_cost_usd", "Spend", "$,.0f"),
            tip("quality_pct", "Quality (%)", ".1f")]
    layers = [layer("lines", {"type": "line", "strokeWidth": 1.5}, x=x, y=y, detail=field("series", "nominal"),
                    color=vega.colour("series", series, colors, {"orient": "top", "columns": 3}),
                    strokeDash={"field": "series", "type": "nominal", "scale": {"domain": series, "range": dashes},
                                "legend": None},
                    tooltip=[tip("series", "Line"), *tips]),
              layer("frontier", {"type": "point", "filled": True, "size": 25, "color": BASE_COLOR}, x=x, y=y,
                    tooltip=tips)]
    datasets = {"lines": pl.concat(curves, how="vertical_relaxed"), "frontier": line}
    marks = []
    if bar_point is not None and bar_point[1] is not None:
        marks.append((f"Cheapest at ≥{100 * bar:.0f}%", bar_point[0], 100 * bar_point[1], "diamond", BAR_COLOR))
    if current[1] is not None:
        marks.append(("Current sliders", current[0], 100 * current[1], "circle", SCEN_COLOR))
    if marks:
        datasets["marks"] = pl.DataFrame(marks, schema=["marker", "scenario_cost_usd", "quality_pct", "shape", "color"],
                                         orient="row")
        fixed = {"type": "nominal", "scale": None, "legend": None}
        layers.append(layer("marks", {"type": "point", "filled": True, "size": 190, "stroke": "white",
                                      "strokeWidth": 1.5, "opacity": 1}, x=x, y=y,
                            shape={"field": "shape", **fixed}, color={"field": "color", **fixed},
                            tooltip=[tip("marker", "Point"), tip("scenario_cost_usd", "Spend", "$,.0f"),
                                     tip("quality_pct", "Quality (%)", ".1f")]))
        layers.append(layer("marks", {"type": "text", "align": "left", "baseline": "top", "dx": 8, "dy": 6,
                                      "fontSize": 11}, x=x, y=y,
                            text=field("marker", "nominal"), color={"field": "color", **fixed}))
    # the quality bar: a dotted line across the plot, its label above it at the right (the frontier starts left)
    datasets["bar"] = pl.DataFrame({"quality_pct": [100 * bar], "text": [f"{100 * bar:.0f}% of baseline quality"]})
    layers.append(layer("bar", {"type": "rule", "color": BAR_COLOR, "strokeDash": [2, 3], "strokeWidth": 1}, y=y))
    layers.append(layer("bar", {"type": "text", "align": "right", "baseline": "bottom", "x": "width", "dx": -4,
                                "dy": -3, "fontSize": 11,
                                "color": vega.MUTED}, y=y, text=field("text", "nominal")))
    return vega.chart(layers, datasets, 340)


def outlook_bands(frame: pl.DataFrame) -> dict:
    """Monthly baseline vs scenario spend: P50 lines with P10–P90 bands. Columns: month, series ('baseline' |
    'scenario'), p10, p50, p90."""
    names = {"baseline": "Baseline (today's mix)", "scenario": "Scenario"}
    data = frame.filter(pl.col("series").is_in(list(names))).sort("series", "month").with_columns(
        pl.col("month").dt.strftime("%b %Y").alias("when"),
        pl.col("series").replace_strict(names, return_dtype=pl.String).alias("name"),
        *(pl.col(c).cast(pl.Float64) for c in ("p10", "p50", "p90"))).with_columns(
        vega.as_utc("month").alias("month"), pl.format("{} P10–P90", pl.col("name")).alias("band"),
        pl.format("{} P50", pl.col("name")).alias("line"))
    y_max = frame["p90"].max() if frame.height else None
    x = field("month", "temporal", scale=UTC, axis=vega.time_axis("Month", MONTH_AXIS))
    domain = [f"{n} P10–P90" for n in names.values()] + [f"{n} P50" for n in names.values()]
    color = vega.colour("band", domain, ["#c5d3e0", "#b7e3d8", BASE_COLOR, SCEN_COLOR])
    area = layer("outlook", {"type": "area", "opacity": 0.7}, x=x,
                 y=field("p10", axis=vega.money_axis("Monthly spend (USD)", y_max)), y2=field("p90"), color=color)
    p50 = layer("outlook", {"type": "line", "strokeWidth": 2, "point": {"size": 18}}, x=x, y=field("p50"),
                color={**color, "field": "line"},
                tooltip=[tip("name", "Series"), tip("when", "Month"), tip("p50", "P50", "$,.0f"),
                         tip("p10", "P10", "$,.0f"), tip("p90", "P90", "$,.0f")])
    return vega.chart([area, p50], {"outlook": data}, 400)


PREVIEW_PARAM = "preview"       # the range input's parameter: the previewed value in % (0–100)
# Vega-Embed's stylesheet fixes a bound range input at ~170 px: too short to aim a 0.1 % step with a mouse.
# Widened by a style-only `st.html` (it takes no space on the page); `!important` because that stylesheet wins
# over a selector of the same weight.
PREVIEW_INPUT_CSS = ('<style>[data-testid="stVegaLiteChart"] .vega-bind input[type=range] '
                     "{width: min(640px, 60vw) !important;}</style>")


def _js(text: str) -> str:
    """A Vega expression string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def preview_chart(points: pl.DataFrame, name: str, current_pct: float, step_pct: float) -> dict:
    """Savings (left axis) and quality vs baseline (right axis, dashed) at every step of the page's main slider,
    with a range input under the chart (a Vega-Lite parameter bound to it) that moves a marker and the figures
    above the plot in the browser, with no server round trip. Columns of `points`: value_pct, savings_usd,
    quality_pct, and the texts value_text, savings_text, pct_text, quality_text, cost_text, moved_text
    (`dashboard.services.whatif_preview`). `current_pct`: the page's slider value, where the preview starts."""
    at = {"filter": f"abs(datum.value_pct - {PREVIEW_PARAM}) < {step_pct / 2}"}
    x = field("value_pct", axis={"title": f"{name} (%)", "format": ".0f"}, scale={"domain": [0, 100], "nice": False})
    # every scale's domain fixed here, from the whole curve: a domain Vega derives from the data includes the
    # marker layers' filtered rows, so each move of the range input recomputed it and re-encoded the 1,001-point
    # lines and axes (in the page: ~60-170 ms per move at load 20-25, ~3-10 ms with fixed domains at load 32-42)
    lo, hi = float(points["savings_usd"].min() or 0), float(points["savings_usd"].max() or 0)
    s_dom = [min(lo, 0.0), max(hi, 0.0)] if lo != hi or lo != 0 else [0.0, 1.0]
    y_s = field("savings_usd", axis=vega.money_axis("Savings (USD)", max(abs(lo), abs(hi)), titleColor=BASE_COLOR),
                scale={"domain": s_dom, "nice": True})
    scored = points["quality_pct"].null_count() < points.height
    layers = [layer("curve", {"type": "line", "strokeWidth": 2, "color": BASE_COLOR}, x=x, y=y_s)]
    if scored:
        q_lo, q_hi = float(points["quality_pct"].min()), float(points["quality_pct"].max())
        q_dom = [q_lo, q_hi] if q_hi - q_lo > 1e-9 else [q_lo - 1, q_hi + 1]
        y_q = field("quality_pct", axis={"title": "Quality vs baseline (%)", "format": ".0f", "orient": "right",
                                         "titleColor": BAR_COLOR, "grid": False},
                    scale={"domain": q_dom, "nice": True, "zero": False})
        layers.append(layer("curve", {"type": "line", "strokeWidth": 1.5, "strokeDash": [5, 3], "color": BAR_COLOR},
                            x=x, y=y_q))
    marker = [layer("curve", {"type": "rule", "color": vega.MUTED, "strokeDash": [2, 2]}, x=x),
              layer("curve", {"type": "point", "filled": True, "size": 70, "color": BASE_COLOR}, x=x, y=y_s)]
    if scored:
        marker.append(layer("curve", {"type": "point", "filled": True, "size": 60, "color": BAR_COLOR}, x=x, y=y_q))
    for m in marker:
        m["transform"] = [at]
    savings = {"layer": [layers[0], marker[1], marker[0]]}
    # the figures at the previewed value, above the plot (negative y: outside it; the view's bounds make room),
    # joined in the browser from texts formatted in Python as the page prints them (the rows carry short texts, not
    # whole sentences: ~4× less to send on each rerun of the page's fragment)
    text = {"type": "text", "align": "left", "baseline": "top", "x": 0}
    lines = [{"calculate": f"{_js(name + ' ')} + datum.value_text + ': savings ' + datum.savings_text + "
                           "(datum.pct_text ? ' (' + datum.pct_text + ' of the replay baseline)' : '')", "as": "line1"},
             {"calculate": "'Spend under the scenario ' + datum.cost_text + ' · quality ' + (isValid(datum.quality_pct) "
                           "? datum.quality_text + ' of baseline' : 'not scored') + ' · ' + datum.moved_text + "
                           "' requests moved'", "as": "line2"}]
    head = [{"data": {"name": "curve"}, "transform": [at, *lines],
             "mark": {**text, "y": -54, "fontSize": 16, "fontWeight": "bold", "color": "#202124"},
             "encoding": {"text": field("line1", "nominal")}},
            {"data": {"name": "curve"}, "transform": [at, *lines],
             "mark": {**text, "y": -30, "fontSize": 13, "color": "#3c4043"},
             "encoding": {"text": field("line2", "nominal")}}]
    savings["layer"] += head
    plot = ({"layer": [savings, {"layer": [layers[1], marker[2]]}], "resolve": {"scale": {"y": "independent"}}}
            if scored else savings)
    data = points.select("value_pct", "savings_usd", "quality_pct", "value_text", "savings_text", "pct_text",
                         "quality_text", "cost_text", "moved_text")
    return {"$schema": vega.SCHEMA, "config": vega.CONFIG, "datasets": {"curve": data},
            "params": [{"name": PREVIEW_PARAM, "value": round(round(current_pct / step_pct) * step_pct, 1),
                        "bind": {"input": "range", "min": 0, "max": 100, "step": step_pct,
                                 "name": f"Preview: {name.lower()} (%) "}}],
            "usermeta": {"embedOptions": {"renderer": "svg"}},
            "height": 300, **plot}
