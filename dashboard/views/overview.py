"""Overview: where the AI money goes. Month-to-date KPIs with a run-rate, billed vs list, spend over time by
provider and by model, top teams and models, and the models nobody can price.

Thin by design: widgets -> one service call per visual -> a figure builder -> render."""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from dashboard import state
from dashboard.components import bridges, charts
from dashboard.components.formatting import (NO_REQUEST_COUNTS, credits_note, day_span, month_lines_note, pct, plural,
                                             requests_counted, shaded_note, signed_pct, usd)
from dashboard.components.formatting import month as fmt_month
from dashboard.components.widgets import sql_behind, summary_table
from dashboard.services import ModelMixError
from dashboard.services import finance as finance_svc
from dashboard.services import ledger
from dashboard.services import overview as svc
from dashboard.services import spend as spend_svc
from dashboard.services.overview import QUERIES

run = state.run_query


def empty_ledger() -> None:
    st.info(
        "**No usage loaded yet.** Load a usage export on the **Upload & data** page (OpenAI, Anthropic, "
        "Google, AWS and Azure usage or cost exports, LiteLLM and other gateway logs, or a CSV in the canonical "
        "columns: the page detects the format and shows the first rows before loading). On the server, "
        "`modelmix ingest FILE` does the same, and `make demo` loads the bundled sample data.",
        icon=":material/upload_file:",
    )
    st.caption(f"Ledger file: `{state.db_path()}`")


def month_kpis(end: dt.date) -> None:
    m = svc.month_to_date(run, end).row(0, named=True)
    if m["as_of_day"] is None:
        return
    month, last_month = m["month_start"], m["last_month_start"]
    prior_month = (last_month - dt.timedelta(days=1)).replace(day=1)
    same_days_end = last_month + dt.timedelta(days=m["last_month_same_days"] - 1)
    done = ledger.completeness(svc.source_coverage(run, end))
    # a month some current source does not cover yet: marked, and its change never coloured (a drop there is the
    # missing source, not a saving)
    this_ok = done.is_period_complete(month, m["as_of_day"])
    last_ok = done.is_period_complete(last_month, month - dt.timedelta(days=1))
    mark = "" if this_ok else " · incomplete"
    short_span = day_span(month, m["as_of_day"]).removesuffix(f" {month.year}")

    st.subheader(f"This month: {fmt_month(month)}" + ("" if this_ok else " (incomplete)"))
    if not this_ok:
        incomplete_note(done, month)
    c1, c2, c3 = st.columns(3)
    c1.metric(
        f"Spend so far ({short_span}){mark}", usd(m["this_month_usd"]),
        delta=signed_pct(svc.pct_change(m["this_month_usd"], m["last_month_same_days_usd"])),
        delta_description=f"vs {day_span(last_month, same_days_end).removesuffix(f' {last_month.year}')}"
                          + ("" if this_ok else ", not comparable"),
        delta_color="inverse" if this_ok else "off", border=True,
        help=f"Spend {day_span(last_month, same_days_end)}: {usd(m['last_month_same_days_usd'])}."
             + ("" if this_ok else f" Incomplete: {done.describe()}."),
    )
    c2.metric(
        f"Last month ({fmt_month(last_month)})" + ("" if last_ok else " · incomplete"), usd(m["last_month_usd"]),
        delta=signed_pct(svc.pct_change(m["last_month_usd"], m["prior_month_usd"])),
        delta_description=f"vs {fmt_month(prior_month)}" + ("" if last_ok else ", not comparable"),
        delta_color="inverse" if last_ok else "off", border=True,
        help=f"Spend in {fmt_month(prior_month)}: {usd(m['prior_month_usd'])}.",
    )
    c3.metric(
        f"Run-rate ({fmt_month(month)}){mark}", usd(m["run_rate_usd"]),
        delta=signed_pct(svc.pct_change(m["run_rate_usd"], m["last_month_usd"])),
        delta_description=f"vs {fmt_month(last_month)} total" + ("" if this_ok else ", not comparable"),
        delta_color="inverse" if this_ok else "off", border=True,
    )
    st.caption(
        f"**This month** is the month of the latest day with usage on or before the end of the selected range "
        f"({m['as_of_day']:%d %b %Y}), not today's calendar month, so an older export still reads sensibly. "
        f"**Run-rate** = spend so far ÷ days elapsed ({m['days_elapsed']} of {m['days_in_month']}) × days in the "
        f"month: a straight-line projection that ignores weekday patterns and planned changes. "
        + bridges.SPEND_DEFINITION
    )
    sql_behind(QUERIES["month_to_date"])
    if this_ok:
        coverage_note(m["last_month_start"], end)
        month_movers(month, m["as_of_day"], last_month, same_days_end)
    else:       # against a month some source does not cover, every mover would be the missing source
        st.caption(f"**Movers** (what changed most against the same days of last month) are shown for complete "
                   f"months only; {fmt_month(month)} misses part of its sources.")


def month_movers(month: dt.date, as_of: dt.date, last_month: dt.date, same_days_end: dt.date) -> None:
    df = svc.movers(run, month, as_of, last_month, same_days_end)
    if df.is_empty():
        return
    st.markdown(f"**Movers** — spend {day_span(month, as_of)} against {day_span(last_month, same_days_end)}")
    cols = st.columns(2)
    credits = df.clear()
    for col, (dimension, label) in zip(cols, (("team", "Team"), ("model", "Model")), strict=True):
        part = df.filter(pl.col("dimension") == dimension)
        if dimension == "model":    # a credit or adjustment line moves money, not a model
            part, credits = spend_svc.split_credits(part, "value", "now_usd")
        with col:
            summary_table(
                part.select(pl.col("value").alias(label), pl.col("now_usd").alias("This month so far"),
                            pl.col("change_usd").alias("Change"), pl.col("change_pct").alias("Change %")),
                hide_index=True, width="stretch",
                column_config={
                    "This month so far": st.column_config.NumberColumn(
                        format="dollar", help="Same days last month = this month so far − change"),
                    "Change": st.column_config.NumberColumn(format="dollar"),
                    "Change %": st.column_config.NumberColumn(format="percent", help="Empty for something new"),
                },
            )
    if not credits.is_empty():
        st.caption(f"Credits & adjustments: {usd(float(credits['now_usd'].sum()))} this month so far, "
                   f"{usd(float(credits['now_usd'].sum() - credits['change_usd'].sum()))} on the same days last "
                   "month: billing lines that name no model, left out of the model movers.")
    sql_behind(QUERIES["movers"])


def incomplete_note(done: ledger.Completeness, month: dt.date) -> None:
    """Above this month's figures: which sources stop before its latest day, so the figures read as partial."""
    last_full = done.last_complete_month()
    st.warning(
        f"**{fmt_month(month)} is incomplete.** The latest usage is from {done.latest:%-d %b %Y}, but "
        f"{done.describe()}: the days after a source's "
        f"end miss its usage, so spend so far, the run-rate and the change against last month understate spend "
        f"and are not coloured as good or bad news. Every source is loaded through "
        f"{done.complete_through:%-d %b %Y}" + (f"; the last complete month is {fmt_month(last_full)}." if last_full
                                                 else ".")
        + " Load the newer exports (Upload & data) to complete it.",
        icon=":material/hourglass_bottom:",
    )


def coverage_note(since: dt.date, end: dt.date) -> None:
    coverage = svc.source_coverage(run, end)
    lagging = svc.lagging_sources(coverage, since)
    if lagging.is_empty():
        return
    latest = coverage["last_day"].max()
    ends = ", ".join(f"`{r['source_format']}` ends {r['last_day']:%d %b %Y}" for r in lagging.iter_rows(named=True))
    st.info(
        f"**Sources end on different days.** The latest usage is from {latest:%d %b %Y}, but {ends}. Days after a "
        "source's end miss its usage, so this month's figures and the run-rate can understate spend — load the "
        "newer exports to complete them.",
        icon=":material/info:",
    )
    sql_behind(QUERIES["source_coverage"])


def range_kpis(t: dict, start: dt.date, end: dt.date) -> None:
    st.subheader(f"Selected range: {day_span(start, end)}")
    c1, c2, c3 = st.columns(3)
    per_1k = t["cost_per_1k_requests"]
    c1.metric("Spend", usd(t["spend_usd"]), border=True,
              delta=(f"{t['requests']:,} requests" if t["requests"] else "no request counts")
              + (f" · {usd(per_1k)} per 1k" if per_1k else ""),
              delta_color="off", delta_arrow="off",
              help="The provider's bill where a billing source covers the provider and day, else the request "
                   "log's cost (billed, or the catalog list price); where sources overlap, one counts. Unpriced "
                   "usage with no billed cost adds nothing. Cost per 1k requests uses only usage that reports "
                   "request counts (cost-only billing exports have none).")
    if t["billed_compared_usd"] or t["list_compared_usd"]:
        gap = t["billed_compared_usd"] - t["list_compared_usd"]
        gap_pct = svc.pct_change(t["billed_compared_usd"], t["list_compared_usd"])
        c2.metric("Billed cost vs list price", usd(t["billed_compared_usd"]),
                  delta=None if gap_pct is None else f"{signed_pct(gap_pct)} vs list",
                  delta_color="inverse" if abs(gap) >= 0.005 else "off",
                  delta_arrow="auto" if abs(gap) >= 0.005 else "off", border=True,
                  help=f"Billed cost reported by the sources; the list price of the same usage is "
                       f"{usd(t['list_compared_usd'])} (billed − list = {usd(gap)}). Only usage with both a "
                       "billed cost and a catalog price is compared. Below list usually means negotiated discounts "
                       "or credits.")
    else:
        c2.metric("Billed cost vs list price", "—", border=True,
                  help="No source in this range reports a billed cost; spend uses list prices.")
    unpriced_share = 100 * t["unpriced_rows"] / t["row_count"] if t["row_count"] else 0.0
    c3.metric("Unpriced usage", pct(unpriced_share), border=True,
              delta=f"{t['unpriced_rows']:,} of {t['row_count']:,} rows · {plural(t['unpriced_models'], 'model')}",
              delta_color="off", delta_arrow="off",
              help="Rows whose model the price catalog does not know. They count toward spend only where the "
                   "source reported a billed cost.")


def unpriced_warning(start: dt.date, end: dt.date) -> None:
    df = svc.unpriced_models(run, start, end)
    if df.is_empty():
        return
    lines = [
        f"- `{r['provider']} / {r['model']}` — {r['unpriced_rows']:,} rows, "
        + (f"{r['requests']:,} requests, " if r["requests"] else "no request counts, ")
        + f"billed {usd(r['billed_usd'])}"
        for r in df.iter_rows(named=True)
    ]
    its, them = ("its", "it") if df.height == 1 else ("their", "them")
    st.warning(
        f"**{plural(df.height, 'model has', 'models have')} no catalog price**, so {its} usage counts toward spend "
        "only where the source reported a billed cost:\n\n" + "\n".join(lines) + f"\n\nPrice {them} on the "
        "**Prices** page (negotiated or self-hosted prices), or map the name to a known model with an alias there.",
        icon=":material/warning:",
    )
    sql_behind(QUERIES["unpriced_models"])


def data_quality_note(start: dt.date, end: dt.date) -> None:
    """What the loads behind this range flagged (kept, counted) or set aside (named, not counted)."""
    q = svc.data_quality(run, start, end)
    if not q["rows_warned"] and not q["rows_rejected"]:
        return
    parts = []
    if q["rows_warned"]:
        parts.append(f"{plural(q['rows_warned'], 'row')} loaded with a warning (an unknown tier, more reasoning than "
                     "output, …: their money counts)")
    if q["rows_rejected"]:
        parts.append(f"{plural(q['rows_rejected'], 'row')} rejected as unplaceable"
                     + (f", holding {usd(q['rejected_cost_usd'])}" if q["rejected_cost_usd"] else "")
                     + " (not counted)")
    st.caption(f":material/fact_check: **Data quality** — the {plural(q['files'], 'file', 'files')} behind this "
               f"range: {'; '.join(parts)}. Each row is named on the Upload & data page.")
    sql_behind(QUERIES["ingest_quality_in_range"])


def spend_over_time(start: dt.date, end: dt.date) -> None:
    st.subheader("Spend over time")
    done = ledger.completeness(svc.source_coverage(run, end))
    gap = done.incomplete_days(start)
    label = st.segmented_control("Group by", list(svc.BUCKETS), default="Week", required=True,
                                 key="overview_bucket")
    bucket = svc.BUCKETS[label]
    left, right = st.columns(2)
    with left:
        st.markdown("**By provider**")
        df = svc.spend_by_provider(run, start, end, label)
        st.vega_lite_chart(charts.spend_by_provider(df, bucket, incomplete=gap), width="stretch")
        sql_behind(QUERIES["spend_by_provider"])
    with right:
        df = svc.spend_by_model(run, start, end, label)
        credits = spend_svc.split_credits(df, "model")[1]
        st.markdown(f"**By model** (top {svc.TOP_MODELS_IN_CHART}, the rest as *other*"
                    + ("; credits and adjustments below zero" if credits.height else "") + ")")
        st.vega_lite_chart(charts.spend_by_model(df, bucket, incomplete=gap), width="stretch")
        sql_behind(QUERIES["spend_by_model"])
    if gap is not None:
        st.caption(shaded_note(gap, done.describe()))
    if bucket != "month" and (note := month_lines_note(spend_svc.month_lines(run, start, end))):
        st.caption(note)
    if bucket != "day":
        st.caption(f"{label}s {'start on Monday' if bucket == 'week' else 'are calendar months'}; the first and "
                   "last bar can cover only part of one when the range starts or ends inside it.")


def top_tables(start: dt.date, end: dt.date) -> None:
    money = st.column_config.NumberColumn
    share = st.column_config.ProgressColumn("Share", format="percent", min_value=0.0, max_value=1.0, width="small",
                                            help="Share of the selected range's spend.")
    per_1k = money("Cost per 1k requests", format="dollar",
                   help="Spend per 1,000 requests, over the usage that reports request counts.")
    st.subheader("Top teams")
    df = requests_counted(svc.top_teams(run, start, end))
    summary_table(
        df, hide_index=True, width="stretch",
        column_order=["team", "spend_usd", "spend_share", "requests", "cost_per_1k_requests"],
        column_config={
            "team": st.column_config.TextColumn("Team"),
            "spend_usd": money("Spend", format="dollar"),
            "spend_share": share,
            "requests": money("Requests", format="localized", help=NO_REQUEST_COUNTS),
            "cost_per_1k_requests": per_1k,
        },
    )
    st.caption("Team comes from the attribution rules; *unassigned* is usage no rule matches. "
               + no_counts_note(df))
    sql_behind(QUERIES["top_teams"])
    st.subheader("Top models")
    df, credits = spend_svc.split_credits(requests_counted(svc.top_models(run, start, end)))
    summary_table(
        df, hide_index=True, width="stretch",
        column_order=["model", "provider", "spend_usd", "spend_share", "requests", "cost_per_1k_requests",
                      "prompt_tokens", "output_tokens"],
        column_config={
            "model": st.column_config.TextColumn("Model"),
            "provider": st.column_config.TextColumn("Provider"),
            "spend_usd": money("Spend", format="dollar"),
            "spend_share": share,
            "requests": money("Requests", format="localized", help=NO_REQUEST_COUNTS),
            "cost_per_1k_requests": per_1k,
            "prompt_tokens": money("Prompt tokens", format="compact",
                                   help="Input tokens, cache reads and cache writes."),
            "output_tokens": money("Output tokens", format="compact"),
        },
    )
    st.caption(" ".join(filter(None, (
        credits_note(credits, "model"),
        "Cost per 1k requests mixes request sizes; compare models within the same workload.", no_counts_note(df)))))
    sql_behind(QUERIES["top_models"])


def no_counts_note(df: pl.DataFrame) -> str:
    """The caption's word on rows whose sources have no request counts (their Requests cell reads "—")."""
    n = df["requests"].null_count()
    if not n:
        return ""
    return (f"Requests reads — on {plural(n, 'row')}: {'its' if n == 1 else 'their'} usage comes from billing or "
            "cost exports, which report cost and tokens but no request counts.")


def billed_vs_list(start: dt.date, end: dt.date) -> None:
    st.subheader("Billed vs list price")
    df = svc.billed_vs_list_by_provider(run, start, end)
    compared = df.filter(df["list_usd"] > 0)
    if compared.is_empty():
        st.info("No source in this range reports a billed cost next to a priced model, so there is nothing to "
                "reconcile: every figure above uses catalog list prices. Load a provider cost export "
                "(e.g. the OpenAI or Anthropic cost report) to compare.")
    else:
        left, right = st.columns([2, 3])
        left.vega_lite_chart(charts.billed_vs_list(compared), width="stretch")
        money = st.column_config.NumberColumn
        has_money = df["billed_usd"] + df["list_usd"] + df["list_only_usd"] > 0
        shown = df.with_columns(gap=pl.Series([signed_pct(v) or "—" for v in df["gap_pct"]])).filter(has_money)
        with right:
            summary_table(
                shown, hide_index=True, width="stretch",
                column_order=["provider", "billed_usd", "list_usd", "gap", "list_only_usd"],
                column_config={
                    "provider": st.column_config.TextColumn("Provider"),
                    "billed_usd": money("Billed", format="dollar", help="Billed cost reported by the source."),
                    "list_usd": money("List price", format="dollar",
                                      help="Catalog price of the usage that has a billed cost."),
                    "gap": st.column_config.TextColumn("Billed vs list"),
                    "list_only_usd": money("List only", format="dollar",
                                           help="Usage with no billed cost, priced at list (counted in spend)."),
                },
            )
        right.caption("Billed below list usually means negotiated discounts or credits; above list, prices the "
                      "catalog misses. Only usage carrying both a billed cost and a catalog price is compared.")
    sql_behind(QUERIES["billed_vs_list_by_provider"])


def open_alerts() -> None:
    """The count of open alerts (what `modelmix alerts` reports as of the ledger's last day) with links to them."""
    counts = finance_svc.alert_counts(state.call(finance_svc.open_alerts))
    total = counts["budget"] + counts["anomaly"] + counts["regression"]
    # at risk (the P90 ends above the budget) is not an alert, but the Budgets page shows it: say so here too
    at_risk = (f" {plural(counts['at_risk'], 'budget')} at risk: {'its' if counts['at_risk'] == 1 else 'their'} "
               "P90 forecast ends above the budget." if counts["at_risk"] else "")
    with st.container(border=True):
        text, budgets_link, anomalies_link = st.columns([4, 2, 2], vertical_alignment="center")
        if total:
            over = f" ({counts['critical']:,} already over)" if counts["critical"] else ""
            text.markdown(f":material/notifications_active: **{plural(total, 'open alert')}**: "
                          f"{plural(counts['budget'], 'budget')} over or forecast to end over{over}; "
                          f"{plural(counts['anomaly'], 'spend anomaly', 'spend anomalies')} and "
                          f"{plural(counts['regression'], 'regression')} (cache, tokens per request, price) in the "
                          "ledger's last 7 days." + at_risk)
        else:
            text.markdown(":material/notifications: **No open alerts**: no budget is over or forecast to end over, "
                          "and no spend anomaly or regression in the ledger's last 7 days." + at_risk)
        budgets_link.page_link("views/budgets.py", label=f"Budgets & forecast ({counts['budget']:,})",
                               icon=":material/savings:")
        anomalies_link.page_link("views/anomalies.py",
                                 label=f"Anomalies ({counts['anomaly'] + counts['regression']:,})",
                                 icon=":material/troubleshoot:")


def render() -> None:
    st.title("Overview")
    selected = state.date_range()
    if selected is None:
        empty_ledger()
        return
    start, end = selected
    open_alerts()
    totals = svc.billed_vs_list_totals(run, start, end).row(0, named=True)
    if not totals["row_count"]:
        st.info(f"No usage between {start:%d %b %Y} and {end:%d %b %Y}. Widen the date range in the sidebar.")
        return
    month_kpis(end)
    range_kpis(totals, start, end)
    st.caption(bridges.spend_from_costing(spend_svc.billed_list_bridge(run, start, end)) + ". "
               + bridges.SPEND_DEFINITION)
    sql_behind(QUERIES["billed_vs_list_totals"])
    sql_behind(spend_svc.QUERIES["billed_list"], label="SQL behind the spend bridge")
    unpriced_warning(start, end)
    data_quality_note(start, end)
    spend_over_time(start, end)
    top_tables(start, end)
    billed_vs_list(start, end)


try:
    render()
except ModelMixError as e:
    st.error(f"**{e.title}** — {e.message}")
