"""Explore: spend grouped by any allowed dimension, filtered, over time; a table with unit economics; the raw
rows behind one group; CSV and Excel downloads with formula cells neutralised.

Thin by design: widgets -> one service call per visual -> a figure builder -> render."""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from dashboard import state
from dashboard.components import explore_charts, exports
from dashboard.components.formatting import (NO_REQUEST_COUNTS, credits_note, day_span, month_lines_note,
                                             plural, requests_counted, shaded_note, usd)
from dashboard.components.widgets import grid_toggle, sql_behind, summary_table, table
from dashboard.services import ModelMixError
from dashboard.services import explore as svc
from dashboard.services import ledger
from dashboard.services import spend as spend_svc
from dashboard.services.explore import DIMENSIONS, QUERIES

run = state.run_query
BY_KEY = "explore_by"
GRAIN_KEY = "explore_grain"
DRILL_KEY = "explore_drill"
ROW_LABELS = {**DIMENSIONS, "model_raw": "Model (as in the file)", "granularity": "Granularity",
              "source_format": "Source format"}


def filter_key(dim: str) -> str:
    return f"explore_filter_{dim}"


def controls(start: dt.date, end: dt.date) -> tuple[str, str, dict[str, list[str]]]:
    left, right, _ = st.columns([2, 2, 3], vertical_alignment="bottom")
    with left:
        by = st.selectbox("Group by", list(DIMENSIONS), format_func=DIMENSIONS.get, key=BY_KEY,
                          help="The dimension each bar segment and table row stands for.",
                          on_change=lambda: st.session_state.pop(DRILL_KEY, None))
    with right:
        grain = st.segmented_control("Time grain", list(svc.GRAINS), default="Week", required=True, key=GRAIN_KEY)
    options = svc.filter_options(run, start, end)
    active = sum(bool(st.session_state.get(filter_key(d))) for d in DIMENSIONS)
    with st.expander(f"Filters ({active} active)" if active else "Filters", expanded=bool(active)):
        st.caption("Keep only usage with these values; an empty picker keeps everything. Values are listed "
                   f"highest spend first; `{svc.NONE_VALUE}` is usage without that field.")
        cols = st.columns(3)
        picked: dict[str, list[str]] = {}
        for i, dim in enumerate(DIMENSIONS):
            # a value picked earlier stays selectable even when the date range no longer has it
            kept = [v for v in st.session_state.get(filter_key(dim), []) if v not in options[dim]]
            picked[dim] = cols[i % 3].multiselect(DIMENSIONS[dim], options[dim] + kept, key=filter_key(dim),
                                                  placeholder="All")
    return by, grain, svc.active_filters(picked)


def describe(filters: dict[str, list[str]]) -> str:
    if not filters:
        return "all usage"
    return "; ".join(f"{DIMENSIONS[d]} in {', '.join(v)}" for d, v in filters.items())


def trend_chart(start: dt.date, end: dt.date, by: str, grain: str, filters: dict[str, list[str]]) -> None:
    st.subheader(f"Spend by {DIMENSIONS[by].lower()} over time")
    df = svc.trend(run, start, end, by, grain, filters)
    if df.is_empty() or not df["spend_usd"].sum():
        st.info("No spend matches these filters in the selected range. Clear a filter or widen the date range.")
    else:
        done = ledger.source_completeness(run, end)
        gap = done.incomplete_days(start)
        st.vega_lite_chart(explore_charts.trend(df, by, svc.GRAINS[grain], incomplete=gap), width="stretch")
        st.caption((shaded_note(gap, done.describe()) + " " if gap else "")
                   + f"The {svc.TOP_GROUPS_IN_CHART} largest groups by spend keep their name; the rest are summed as "
                   "*other*" + (" (credits and adjustments are their own series, below zero)" if by == "model" else "")
                   + ". Weeks start on Monday; the first and last bar can cover part of a period.")
        if svc.GRAINS[grain] != "month" and (note := month_lines_note(spend_svc.month_lines(run, start, end))):
            st.caption(note)
    sql_behind(QUERIES["trend"])


def breakdown_table(df: pl.DataFrame, by: str, start: dt.date, end: dt.date) -> None:
    money = st.column_config.NumberColumn
    # by model, a credit or adjustment line is no model: its own line, outside the shares
    shown, credits = spend_svc.split_credits(df, "group_value") if by == "model" else (df, df.clear())
    # a light table on a new tab or a menu switch (the grid's 1.3 MB of JavaScript waits); the grid, to sort and
    # search, one toggle away (a breakdown past summary.MAX_ROWS groups is drawn in the grid either way)
    draw = table if grid_toggle("explore_grid") else summary_table
    draw(
        requests_counted(shown),
        column_order=["group_value", "spend_usd", "spend_share", "requests", "cost_per_request",
                      "prompt_tokens", "output_tokens", "cost_per_1m_tokens", "cache_share"],
        column_config={
            "group_value": st.column_config.TextColumn(DIMENSIONS[by]),
            "spend_usd": money("Spend", format="dollar"),
            "spend_share": st.column_config.ProgressColumn("Share", format="percent", min_value=0.0,
                                                           max_value=1.0, width="small",
                                                           help="Share of the filtered spend."),
            "requests": money("Requests", format="localized",
                              help="Requests of the usage that counts toward spend. " + NO_REQUEST_COUNTS),
            "cost_per_request": money("Cost / request", format="$%.4f",
                                      help="Spend ÷ requests, over usage that reports request counts."),
            "prompt_tokens": money("Input tokens", format="compact",
                                   help="Prompt tokens billed at the input rate plus cache reads and writes."),
            "output_tokens": money("Output tokens", format="compact"),
            "cost_per_1m_tokens": money("Cost / 1M tokens", format="$%.2f",
                                        help="Spend ÷ (input + output tokens) × 1,000,000, over usage that "
                                             "reports tokens: a blended rate, not a list price."),
            "cache_share": st.column_config.NumberColumn("Cache share", format="percent",
                                                         help="Cache-read tokens ÷ all input tokens."),
        },
    )
    total = df["spend_usd"].sum()
    if not credits.is_empty():
        st.caption(credits_note(credits, "group_value"))
    noun = DIMENSIONS[by] if DIMENSIONS[by][:2].isupper() else DIMENSIONS[by].lower()     # "API key" keeps its case
    st.caption(f"{plural(df.height, noun)}, {usd(total)} in total"
               + (f" (the table lists the top {svc.TABLE_LIMIT})" if df.height >= svc.TABLE_LIMIT else "")
               + ". Cost-only billing lines carry no requests or tokens; they count in Spend but not in the "
                 "per-request and per-token rates.")
    export = svc.table_for_export(pl.concat([shown, credits.with_columns(spend_share=None)], how="vertical_relaxed"),
                                  by)
    name = f"modelmix-spend-by-{by}-{start:%Y%m%d}-{end:%Y%m%d}"
    c1, c2, _ = st.columns([1, 1, 4])
    c1.download_button("Download CSV", exports.to_csv(export), file_name=f"{name}.csv", mime="text/csv",
                       icon=":material/download:", key="explore_csv")
    c2.download_button(
        "Download Excel",
        exports.to_xlsx(export, sheet=f"Spend by {DIMENSIONS[by]}",
                        money_columns=("Spend (USD)", "Cost per request (USD)", "Cost per 1M tokens (USD)"),
                        percent_columns=("Share of spend", "Cache share")),
        file_name=f"{name}.xlsx", mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/download:", key="explore_xlsx")


def drill_down(df: pl.DataFrame, start: dt.date, end: dt.date, by: str, filters: dict[str, list[str]]) -> None:
    st.subheader("Rows behind a group")
    groups = df["group_value"].to_list()
    counts = dict(zip(groups, df["row_count"].to_list()))
    group = st.selectbox(f"{DIMENSIONS[by]} to drill into", groups, index=None, key=DRILL_KEY,
                         placeholder=f"Pick a {DIMENSIONS[by].lower()} to see its ledger rows")
    if group is None:
        st.caption(f"Shows the newest {svc.DRILL_LIMIT:,} raw ledger rows of one group, from every source.")
        return
    rows = svc.rows(run, start, end, by, group, filters)
    total = counts.get(group, rows.height)
    st.caption(f"{rows.height:,} of {total:,} ledger rows of {DIMENSIONS[by].lower()} *{group}*, newest first. "
               "Rows of a source that another source of the same provider and day supersedes are listed too; "
               "they don't count toward spend (see Upload & data → coverage).")
    money = st.column_config.NumberColumn
    tokens = {c: money(label, format="localized") for c, label in (
        ("requests", "Requests"), ("input_tokens", "Input tokens"), ("cache_read_tokens", "Cache read"),
        ("cache_write_tokens", "Cache write"), ("output_tokens", "Output tokens"), ("reasoning_tokens", "Reasoning"))}
    table(rows, hide_index=True, width="stretch", height=320, column_config={
        "ts": st.column_config.DatetimeColumn("Time (UTC)", format="YYYY-MM-DD HH:mm"),
        **{c: st.column_config.TextColumn(label) for c, label in ROW_LABELS.items()},
        **tokens,
        "cost_usd": money("Billed", format="$%.6f"),
        "list_cost_usd": money("List price", format="$%.6f"),
        "ingest_id": money("Upload #", format="plain"),
    })
    st.download_button("Download these rows (CSV)", exports.to_csv(rows),
                       file_name=f"modelmix-rows-{by}-{start:%Y%m%d}-{end:%Y%m%d}.csv", mime="text/csv",
                       icon=":material/download:", key="explore_rows_csv")
    sql_behind(QUERIES["rows"])


def render() -> None:
    st.title("Explore")
    selected = state.date_range()
    if selected is None:
        st.info("**No usage loaded yet.** Load usage exports on **Upload & data**, "
                "then come back to slice the spend.", icon=":material/upload_file:")
        return
    start, end = selected
    st.caption(f"Spend from {day_span(start, end)} (change the range in the sidebar). Spend is the billed cost "
               "where the source reports it, else the catalog list price; where sources overlap, one counts.")
    by, grain, filters = controls(start, end)
    trend_chart(start, end, by, grain, filters)
    st.subheader(f"Unit economics by {DIMENSIONS[by].lower()}")
    st.caption(f"Filtered to {describe(filters)}.")
    df = svc.breakdown(run, start, end, by, filters)
    if df.is_empty():
        st.info("Nothing to list: no usage matches these filters in the selected range.")
        sql_behind(QUERIES["breakdown"])
        return
    breakdown_table(df, by, start, end)
    sql_behind(QUERIES["breakdown"])
    drill_down(df, start, end, by, filters)


try:
    render()
except ModelMixError as e:
    st.error(f"**{e.title}** — {e.message}")
