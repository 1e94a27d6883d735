"""Reconciliation: what providers billed beside what the price catalog says the same usage costs, by provider,
day, model and token class; the gap explained step by step (cache, negotiated discount, batch, long-context
tier) with the unexplained residual flagged over a threshold; and the models nobody can price.

Its tables are light summaries with a Download CSV (no data grid on a new tab or a menu switch, docs/benchmarks.md
"ninth session"): the flagged rows list their largest gaps there, all of them in the grid on "Sort in a table".

Thin by design: widgets -> one service call per visual -> a figure builder -> render."""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from dashboard import state
from dashboard.components import bridges
from dashboard.components import finance_charts as charts
from dashboard.components.formatting import NO_REQUEST_COUNTS, month_lines_note, requests_counted, signed_pct, usd
from dashboard.components.widgets import download_rows, grid_toggle, sql_behind, summary_table, table
from dashboard.services import ModelMixError
from dashboard.services import finance as svc
from dashboard.services import spend as spend_svc

call = state.call
money = st.column_config.NumberColumn
TAB_KEY = "reconcile_tab"       # the table's tab shown (only its content is built)
TABS = ["By provider", "By model", "By token class", "Flagged rows", "Unpriced models"]
FLAGGED_SHOWN = 50      # flagged rows the light table lists, largest gap first (the grid and the CSV: all)
WATERFALL_HELP = (
    "**Naive list price**: every prompt token at the catalog's input price, standard tier, no contract. "
    "**Cache pricing**: cache reads and writes at the catalog's cache prices (a write premium adds cost). "
    "**Negotiated discount**: your price overrides. **Batch tier**: batch requests at 50%. **Long-context "
    "tier**: tier prices for very long prompts. **Expected** is the ledger's list cost; **unexplained residual** "
    "= billed − expected, what no known price rule accounts for (credits, unrecorded discounts, billing errors).")


def thresholds() -> tuple[float, float]:
    left, right, _ = st.columns([1, 1, 2])
    pct = left.number_input("Flag residuals over (% of expected)", min_value=0.0, max_value=100.0,
                            value=2.0, step=0.5, key="reconcile_pct")
    abs_usd = right.number_input("… and at least (USD)", min_value=0.0, value=0.01, step=0.01, format="%.2f",
                                 key="reconcile_abs")
    return float(pct), float(abs_usd)


def waterfall(detail: pl.DataFrame, pct: float, abs_usd: float, start: dt.date, end: dt.date) -> dict | None:
    """The four figures and the bridge to spend, then the waterfall with its notes beside the by-provider table;
    None when nothing in the range can be reconciled."""
    s = svc.reconcile_summary(detail, pct, abs_usd)
    if not s["billed_usd"] and not s["expected_usd"]:
        st.info("No usage in this range carries both a billed cost and a catalog price, so there is nothing to "
                "reconcile. Load a provider's cost export (the OpenAI or Anthropic cost report, an AWS CUR, an "
                "Azure or GCP billing export) next to the usage to compare what was billed with list prices.")
        return None
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Billed, all sources", usd(s["billed_usd"]), border=True,
              help="Cost every source reports on usage with a list price, overlapping sources included (a gateway "
                   "log beside the provider's bill): each source is reconciled on its own. Not spend: the line "
                   "below bridges it to spend.")
    c2.metric("Expected at list", usd(s["expected_usd"]), border=True,
              help="Catalog price of the same usage, overrides and batch tier applied.")
    gap = signed_pct(100 * s["residual_usd"] / s["expected_usd"]) if s["expected_usd"] else None
    c3.metric("Unexplained residual", usd(s["residual_usd"]), border=True, delta=gap and f"{gap} of expected",
              delta_color="off", delta_arrow="off")
    c4.metric("Flagged rows", f"{s['flagged_rows']:,}", border=True,
              delta=f"{usd(s['flagged_residual_usd'])} residual", delta_color="off", delta_arrow="off",
              help="Day × provider × model × source rows whose residual exceeds the threshold.")
    b = spend_svc.all_sources_bridge(state.run_query, start, end)
    st.caption(" ".join(filter(None, (bridges.billed_all_sources(b) + ".", bridges.all_sources_why(b),
                                      bridges.SPEND_DEFINITION))))
    sql_behind(spend_svc.QUERIES["all_sources"], label="SQL behind the bridge to spend")
    # the two charts side by side (they read well at half width; the tables need the whole width)
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("**From list price to the bill**")
        st.vega_lite_chart(charts.reconcile_waterfall(svc.waterfall_steps(s)), width="stretch")
    with right:
        by_day(detail, pct, abs_usd, start, end)
    notes(s, start, end)
    return s


def notes(s: dict, start: dt.date, end: dt.date) -> None:
    st.caption(WATERFALL_HELP)
    extras = []
    if s["list_only_usd"]:
        extras.append(f"{usd(s['list_only_usd'])} of usage has a list price but no billed cost (gateway logs, "
                      "priced from the catalog) and is not compared")
    if s["unpriced_billed_usd"]:
        # models the catalog cannot price are listed below; money-only lines (credits, fees, cost-report rows
        # with no token counts) have no list price either but are no model to price: never say "(below)" then
        listed = not call(svc.unpriced, start=start, end=end).is_empty()
        extras.append(f"{usd(s['unpriced_billed_usd'])} was billed " + (
            "for models the catalog cannot price (the *Unpriced models* tab) or as money-only lines (credits, fees) with no token "
            "counts to price" if listed else
            "as money-only lines (credits, fees, cost rows with no token counts), which have no list price"))
    if extras:
        st.caption("Not in the waterfall: " + "; ".join(extras) + ".")
    sql_behind(svc.QUERIES["reconcile"])


def by_provider(detail: pl.DataFrame, pct: float, abs_usd: float) -> None:
    df = svc.reconcile_by_provider(detail, pct, abs_usd)
    summary_table(
        df.filter((pl.col("billed_usd") != 0) | (pl.col("expected_usd") != 0)), download="reconciliation-by-provider",
        column_order=["provider", "billed_usd", "expected_usd", "residual_usd", "residual_pct", "flagged_days",
                      "list_only_usd"],
        column_config={
            "provider": st.column_config.TextColumn("Provider"),
            "billed_usd": money("Billed", format="dollar"),
            "expected_usd": money("Expected", format="dollar"),
            "residual_usd": money("Residual", format="dollar"),
            "residual_pct": money("Residual %", format="%+.1f%%"),
            "flagged_days": money("Flagged rows", format="localized"),
            "list_only_usd": money("List only", format="dollar", help="Usage with no billed cost."),
        },
    )
    st.caption("Providers whose usage carries no billed cost (priced from the catalog only) have nothing to "
               "reconcile and are left out.")
    sql_behind(svc.QUERIES["reconcile"])


def by_day(detail: pl.DataFrame, pct: float, abs_usd: float, start: dt.date, end: dt.date) -> None:
    st.markdown("**Billed vs expected per day**")
    daily = svc.reconcile_daily(detail, pct, abs_usd)
    st.vega_lite_chart(charts.reconcile_daily(daily), width="stretch")
    # a cost table's monthly lines are a spike on each 1st: say so under the chart, as Overview and Explore do
    if note := month_lines_note(spend_svc.month_lines(state.run_query, start, end)):
        st.caption(note)
    sql_behind(svc.QUERIES["reconcile"])


STEPS = {"cache_saving_usd": "cache", "negotiated_saving_usd": "discount", "batch_saving_usd": "batch",
         "tier_extra_usd": "long context"}


def by_model(detail: pl.DataFrame, start: dt.date, end: dt.date, pct: float, abs_usd: float) -> None:
    df = svc.reconcile_by_model(detail, pct, abs_usd)
    idle = {c: name for c, name in STEPS.items() if c in df.columns and not df[c].abs().sum()}
    summary_table(
        df, download="reconciliation-by-model",
        column_order=["provider", "model", "billed_usd", "naive_list_usd",
                      *[c for c in STEPS if c not in idle], "expected_usd", "residual_usd", "residual_pct"],
        column_config={       # short headers so the whole table fits the page; the steps are the waterfall's
            "provider": st.column_config.TextColumn("Provider"),
            "model": st.column_config.TextColumn("Model"),
            "billed_usd": money("Billed", format="dollar"),
            "naive_list_usd": money("Naive list", format="dollar", help="Every token at the standard list price."),
            "cache_saving_usd": money("Cache", format="dollar", help="Saved by cache pricing (−) or its write "
                                                                    "premium (+)."),
            "negotiated_saving_usd": money("Discount", format="dollar", help="Saved by negotiated price overrides."),
            "batch_saving_usd": money("Batch", format="dollar", help="Saved by the batch tier."),
            "tier_extra_usd": money("Long ctx", format="dollar", help="Long-context tier prices."),
            "expected_usd": money("Expected", format="dollar"),
            "residual_usd": money("Residual", format="dollar"),
            "residual_pct": money("Resid. %", format="%+.1f%%", help="Residual as a share of expected; the rows "
                                                                    "over the threshold are under Flagged rows."),
        },
    )
    st.caption("Models with a billed cost (or an unpriced bill); usage priced from the catalog only is not compared."
               + (f" Steps that change nothing in this range are left out: {', '.join(idle.values())}." if idle else ""))
    sql_behind(svc.QUERIES["reconcile"])


def by_token_class(start: dt.date, end: dt.date) -> None:
    tc = call(svc.reconcile_token_classes, start=start, end=end)
    summary_table(
        tc, download="reconciliation-by-token-class",
        column_config={
            "provider": st.column_config.TextColumn("Provider"),
            "model": st.column_config.TextColumn("Model"),
            "token_class": st.column_config.TextColumn("Token class"),
            "tokens": money("Tokens", format="localized"),
            "list_usd": money("List cost", format="dollar"),
            "billed_usd": money("Billed (shared by list cost)", format="dollar",
                                help="Sources bill per row, not per token class: each row's bill is shared out "
                                     "in proportion to its list cost per class."),
        },
    )
    sql_behind(svc.QUERIES["token_classes"])


def flagged_rows(detail: pl.DataFrame, pct: float, abs_usd: float) -> None:
    df = svc.reconcile_flagged(detail, pct, abs_usd)
    if df.is_empty():
        st.success(f"No day × provider × model has a residual over {pct:g}% of expected (and {usd(abs_usd)}): "
                   "every billed amount is explained by known prices.", icon=":material/check_circle:")
    else:
        shown = dict(
            column_order=["day", "provider", "model", "source_format", "billed_usd", "expected_usd", "residual_usd",
                          "residual_pct"],
            column_config={
                "day": st.column_config.DateColumn("Day", format="D MMM YYYY"),
                "provider": st.column_config.TextColumn("Provider"),
                "model": st.column_config.TextColumn("Model"),
                "source_format": st.column_config.TextColumn("Source"),
                "billed_usd": money("Billed", format="dollar"),
                "expected_usd": money("Expected", format="dollar"),
                "residual_usd": money("Residual", format="dollar"),
                "residual_pct": money("Residual %", format="%+.1f%%"),
            })
        # the largest gaps in a light table; every row in the grid on request (sort and search) and in the CSV
        gridded = grid_toggle("reconcile_flagged_grid")
        short = not gridded and df.height > FLAGGED_SHOWN
        st.caption(f"{df.height:,} rows whose billed cost differs from expected by more than {pct:g}% and "
                   f"{usd(abs_usd)}, largest gap first"
                   + (f"; the first {FLAGGED_SHOWN} here, all of them in **Sort in a table** and the download"
                      if short else "")
                   + ". A steady negative residual on one provider usually means a negotiated discount missing "
                     "from the price overrides: add it on the **Prices** page.")
        if gridded:
            table(df, **shown)
        else:
            summary_table(df.head(FLAGGED_SHOWN), **shown)
            download_rows(df, "reconciliation-flagged-rows", **shown)
    sql_behind(svc.QUERIES["reconcile"])


def unpriced_models(start: dt.date, end: dt.date) -> None:
    df = call(svc.unpriced, start=start, end=end)
    if df.is_empty():
        st.success("Every model in this range has a catalog price.", icon=":material/check_circle:")
    else:
        st.caption("Models the price catalog does not know: their spend is only what the source billed, never "
                   "compared with a list price. Price them on the **Prices** page (negotiated or self-hosted "
                   "prices), or map the name to a known model with an alias.")
        summary_table(
            requests_counted(df), download="reconciliation-unpriced-models",
            column_config={
                "provider": st.column_config.TextColumn("Provider"),
                "model": st.column_config.TextColumn("Model"),
                "unpriced_rows": money("Rows", format="localized"),
                "requests": money("Requests", format="localized", help=NO_REQUEST_COUNTS),
                "billed_usd": money("Billed spend", format="dollar"),
                "first_day": st.column_config.DateColumn("First day", format="D MMM YYYY"),
                "last_day": st.column_config.DateColumn("Last day", format="D MMM YYYY"),
            },
        )
    sql_behind(svc.QUERIES["unpriced"])


def render() -> None:
    st.title("Reconciliation")
    selected = state.date_range()
    if selected is None:
        st.info("**No usage loaded yet**, so there is nothing to reconcile. Load usage and the providers' cost "
                "exports with the **Upload & data** page (an analyst can load exports there).", icon=":material/upload_file:")
        return
    start, end = selected
    st.caption(f"Billed cost vs catalog list price, {start:%d %b %Y} – {end:%d %b %Y} "
               "(the date range in the sidebar).")
    pct, abs_usd = thresholds()
    # one read of the range (cached); every visual is a pure function of it and the thresholds
    detail = call(svc.reconcile_detail, start=start, end=end)
    if waterfall(detail, pct, abs_usd, start, end) is None:
        st.subheader("Unpriced models")
        unpriced_models(start, end)
        return
    # the tables one tab at a time, built when chosen (`on_change="rerun"`): a new tab draws the figures, the two
    # charts and the by-provider table, not all five tables (docs/benchmarks.md, eleventh session)
    parts = (lambda: by_provider(detail, pct, abs_usd), lambda: by_model(detail, start, end, pct, abs_usd),
             lambda: by_token_class(start, end), lambda: flagged_rows(detail, pct, abs_usd),
             lambda: unpriced_models(start, end))
    for tab, draw in zip(st.tabs(TABS, key=TAB_KEY, on_change="rerun"), parts, strict=True):
        if tab.open:
            with tab:
                draw()


try:
    render()
except ModelMixError as e:
    st.error(f"**{e.title}** — {e.message}")
