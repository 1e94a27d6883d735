"""Anomalies: days whose spend per team × model (optionally × api key) jumped above its robust weekday
baseline, with the excess in $ and % and what drove it; and a chart of one series with its expected band and
the flagged days marked.

Thin by design: widgets -> one service call per visual -> a figure builder -> render."""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from dashboard import state
from dashboard.components import finance_charts as charts
from dashboard.components.formatting import day_span, month_lines_text, usd
from dashboard.components.widgets import sql_behind, summary_table
from dashboard.services import ModelMixError
from dashboard.services import finance as svc
from dashboard.services import spend as spend_svc

call = state.call
money = st.column_config.NumberColumn
TAB_KEY = "anomalies_tab"        # the tab shown (only its content is built)
TABS = ["Flagged days", "Regressions"]
TOKEN_CLASS = {"input_tokens": "input", "cache_read_tokens": "cache read", "cache_write_tokens": "cache write",
               "output_tokens": "output"}


def flagged_table(start: dt.date, end: dt.date) -> pl.DataFrame | None:
    label = st.segmented_control("Series", list(svc.ANOMALY_GROUPINGS), default="Team × model", required=True,
                                 key="anomaly_by")
    by = svc.ANOMALY_GROUPINGS[label]
    df = call(svc.anomalies, by=by, start=start, end=end)
    if df.is_empty():
        st.success(f"No anomalies between {start:%d %b %Y} and {end:%d %b %Y}: no {label.lower()} series rose "
                   "above its usual level by the flagging rule. Widen the date range in the sidebar to look further "
                   "back.", icon=":material/check_circle:")
        month_lines_note(start, end)
        sql_behind(svc.QUERIES["anomalies"])
        return None
    c1, c2, c3 = st.columns(3)
    c1.metric("Flagged days", f"{df.height:,}", border=True,
              delta=f"{df.select('team', 'model').unique().height:,} team × model series", delta_color="off",
              delta_arrow="off")
    c2.metric("Excess spend", usd(df["excess_usd"].sum()), border=True,
              help="Spend above the expected value, summed over the flagged days.")
    top = df.row(0, named=True)
    c3.metric("Largest", usd(top["excess_usd"]), border=True,
              delta=f"{top['team']} · {top['model']} · {top['day']:%d %b}", delta_color="off", delta_arrow="off")
    shown = df.with_columns(
        token_class=pl.col("driver_token_class").replace_strict(TOKEN_CLASS, default=pl.col("driver_token_class")),
        excess_share=pl.col("excess_pct") / 100,
    )
    order = ["day", "team", "model", *(["api_key"] if "api_key" in df.columns else []), "spend_usd", "expected_usd",
             "excess_usd", "excess_pct", "driver_api_key", "driver_api_key_excess_usd", "driver_project",
             "token_class"]
    # a light table while the flags are a list a person reads (past summary.MAX_ROWS: the grid, to sort and search)
    summary_table(
        shown, download=f"anomalies-{by}-{start}-{end}", column_order=order,
        column_config={
            "day": st.column_config.DateColumn("Day", format="ddd D MMM YYYY"),
            "team": st.column_config.TextColumn("Team"),
            "model": st.column_config.TextColumn("Model"),
            "api_key": st.column_config.TextColumn("API key"),
            "spend_usd": money("Spend", format="dollar"),
            "expected_usd": money("Expected", format="dollar", help="Median of the same weekday over the 4 weeks "
                                                                    "before."),
            "excess_usd": money("Excess", format="dollar"),
            "excess_pct": money("Excess %", format="%+.0f%%", help="Empty for new spend: the series' first day after 4 weeks of none."),
            "driver_api_key": st.column_config.TextColumn("Driver: key"),
            "driver_api_key_excess_usd": money("Key rise", format="dollar"),
            "driver_project": st.column_config.TextColumn("Driver: project"),
            "token_class": st.column_config.TextColumn(
                "Driver: token class", help="The class whose tokens rose most, weighted by typical price (output 4, "
                                            "cache write 1.25, input 1, cache read 0.1): an approximation."),
        },
    )
    st.caption(f"A day is flagged when its spend exceeds the median of the same weekday over the "
               f"{svc.ANOMALY_WINDOW} days "
               "before by more than 4 robust standard deviations (1.4826 × MAD), and by at least 60% of the usual "
               "level and $1. A series' first day of spend after 4 weeks of none is flagged once as new spend; its next "
               "days are judged on the days since it started. Drivers are the key, project and token class that "
               "rose most above their own usual level that day.")
    month_lines_note(start, end)
    sql_behind(svc.QUERIES["anomalies"])
    return df


def month_lines_note(start: dt.date, end: dt.date) -> None:
    """Say what detection leaves out: lines of a month's grain, which sit on the month's first day."""
    lines = spend_svc.month_lines(state.run_query, start, end)
    if lines.is_empty():
        return
    st.caption(f"Not judged by day: {month_lines_text(lines)}. A monthly line sits on its month's first day, where "
               "a whole month would look like one day's spike; it counts in spend everywhere else.")


def series_chart(flags: pl.DataFrame, start: dt.date, end: dt.date) -> None:
    st.subheader("A flagged series")
    series = flags.select("team", "model").unique(maintain_order=True).to_dicts()
    pick = st.selectbox("Team × model", range(len(series)), key="anomaly_series",
                        format_func=lambda i: f"{series[i]['team']} · {series[i]['model']}")
    team, model = series[pick]["team"], series[pick]["model"]
    df = call(svc.anomaly_series, team=team, model=model, start=start, end=end)
    marked = (flags.filter((pl.col("team") == team) & (pl.col("model") == model))
              .group_by("day").agg(pl.col("spend_usd").sum()))
    # with api keys as series a day's marker sits on the team x model total
    marked = df.join(marked.select("day"), on="day").select("day", "spend_usd")
    if df.is_empty():
        st.info(f"The range {day_span(start, end)} has no day with the {svc.ANOMALY_WINDOW} days of history the "
                "baseline needs. "
                "Widen the date range in the sidebar.")
        return
    st.markdown(f"**Daily spend of {team} on {model}, {day_span(df['day'].min(), df['day'].max())}**")
    st.vega_lite_chart(charts.anomaly_series(df, marked), width="stretch")
    st.caption("The shaded band runs from the expected value up to the flag line; days above it that also clear "
               "the 60% and $1 minimums are flagged (circled).")
    sql_behind(svc.QUERIES["anomalies"])


CAUSE = {"cache": "Cache efficiency", "prompt_tokens": "Token inflation: prompt",
         "output_tokens": "Token inflation: output", "price": "Price change"}
UNIT = {"cache": "cache-read share of prompt tokens", "prompt_tokens": "prompt tokens per request",
        "output_tokens": "output tokens per request", "price": "billed ÷ list price"}


def regressions_section(start: dt.date, end: dt.date) -> None:
    """Lasting shifts with a cause (cache hit rate, tokens per request, price paid) and their dollars since."""
    df = call(svc.regressions, start=start, end=end)
    if df.is_empty():
        st.success(f"No regression active between {start:%d %b %Y} and {end:%d %b %Y}: no series' cache hit rate, "
                   "tokens per request or billed price moved away from its own recent baseline and stayed there.",
                   icon=":material/check_circle:")
        sql_behind(svc.QUERIES["regressions"])
        return
    cost = df.filter(pl.col("excess_usd") > 0)
    c1, c2, c3 = st.columns(3)
    c1.metric("Regressions", f"{df.height:,}", border=True,
              delta=f"{df.filter(pl.col('ongoing')).height:,} still ongoing", delta_color="off", delta_arrow="off")
    c2.metric("Cost since they started", usd(cost["excess_usd"].sum() or 0.0), border=True,
              help="Dollars the regressions that raise cost added since each started (price falls not netted).")
    top = df.row(0, named=True)
    c3.metric("Largest", usd(top["excess_usd"] or 0.0), border=True,
              delta=f"{CAUSE[top['kind']]} · {top['model']}", delta_color="off", delta_arrow="off")
    shown = df.with_columns(cause=pl.col("kind").replace_strict(CAUSE, default=pl.col("kind")))
    summary_table(
        shown, download=f"regressions-{start}-{end}",
        column_order=["cause", "message", "start", "ongoing", "excess_usd", "team", "model", "api_key"],
        column_config={
            "cause": st.column_config.TextColumn("Cause"),
            "message": st.column_config.TextColumn("What happened", width="large"),
            "start": st.column_config.DateColumn("Started", format="ddd D MMM YYYY"),
            "ongoing": st.column_config.CheckboxColumn("Ongoing"),
            "excess_usd": money("Dollars since", format="dollar",
                                help="What the change cost since it started (negative: a saving)."),
            "team": st.column_config.TextColumn("Team"),
            "model": st.column_config.TextColumn("Model"),
            "api_key": st.column_config.TextColumn("API key"),
        },
    )
    st.caption("A regression starts on the first of two days whose value moved past max(4 robust standard "
               "deviations, a floor) from the median of the 28 days before (cache hit rate: −10 points and −25%; "
               "tokens per request: +25%; billed price against the price in force: ±5%); its baseline is then frozen "
               "until two days are back within half that distance. Dollars: lost cache hits at the input−cache price "
               "gap, extra tokens at their list price, the price gap on the expected cost.")
    pick = st.selectbox("Regression", range(df.height), key="regression_pick",
                        format_func=lambda i: f"{CAUSE[df['kind'][i]]} · {df['model'][i]} · {df['start'][i]:%d %b}")
    r = df.row(pick, named=True)
    series = call(svc.regression_series, kind=r["kind"], team=r["team"], workload=r["workload"],
                  provider=r["provider"], model=r["model"], api_key=r["api_key"],
                  start=min(start, r["start"] - dt.timedelta(days=svc.ANOMALY_WINDOW)), end=end)
    if series.is_empty():
        st.info("No daily values for this series in the range.")
    else:
        st.markdown(f"**{r['message']}**")
        st.vega_lite_chart(charts.regression_series(series, r["start"], UNIT[r["kind"]], r["kind"] == "cache"),
                        width="stretch")
    sql_behind(svc.QUERIES["regressions"])


def render() -> None:
    st.title("Anomalies")
    selected = state.date_range()
    if selected is None:
        st.info("**No usage loaded yet**, so there is nothing to watch. Load a usage export with "
                "the **Upload & data** page (an analyst can load exports there).", icon=":material/upload_file:")
        return
    start, end = selected
    st.caption(f"Flagged days between {start:%d %b %Y} and {end:%d %b %Y} (the date range in the sidebar), largest "
               "excess first; lasting shifts with a cause under *Regressions*. The Overview's alert box counts those "
               "of the ledger's last 7 days.")
    # one tab built at a time (`on_change="rerun"`): a new tab draws the flagged days and their series, not the
    # regressions' figures, table and chart below them as well (docs/benchmarks.md, eleventh session)
    days, shifts = st.tabs(TABS, key=TAB_KEY, on_change="rerun")
    if days.open:
        with days:
            flags = flagged_table(start, end)
            if flags is not None:
                series_chart(flags, start, end)
    if shifts.open:
        with shifts:
            regressions_section(start, end)


try:
    render()
except ModelMixError as e:
    st.error(f"**{e.title}** — {e.message}")
