"""Chargeback: the monthly statement per team, with unassigned spend shared out by a chosen rule, and its
downloads (CSV and Excel with formula characters neutralised, and a FOCUS 1.2 cost-and-usage file).

Thin by design: widgets -> one service call per visual -> a figure builder -> render."""

from __future__ import annotations

import functools

import polars as pl
import streamlit as st

from dashboard import auth, state
from dashboard.components import finance_charts as charts
from dashboard.components.formatting import NO_REQUEST_COUNTS, plural, requests_counted, usd
from dashboard.components.formatting import month as fmt_month
from dashboard.components.widgets import editor, flash, preformatted, save_button, sql_behind, summary_table
from dashboard.services import ModelMixError
from dashboard.services import finance as svc
from dashboard.services import ledger

call = state.call
BILL_FLASH_KEY = "chargeback_bill_flash"
money = st.column_config.NumberColumn
RULE_HELP = {
    "proportional": "Unassigned spend is shared in proportion to each team's direct spend, requests or tokens.",
    "fixed": "Unassigned spend is shared by the shares you set (they must add up to 1).",
    "team": "All unassigned spend goes to one team.",
    "none": "Showback: unassigned spend stays on its own line.",
}


def rule_inputs(month: str) -> dict:
    """The allocation rule as plain values for the services: rule, basis, split, team."""
    label = st.segmented_control("Allocate unassigned spend", list(svc.RULES), default="Proportional",
                                 required=True, key="chargeback_rule")
    rule = svc.RULES[label]
    st.caption(RULE_HELP[rule])
    out: dict = {"rule": rule}
    teams = call(svc.chargeback_teams, month=month)
    if rule == "proportional":
        basis = st.radio("In proportion to", list(svc.BASES), horizontal=True, key="chargeback_basis")
        out["basis"] = svc.BASES[basis]
    elif rule == "fixed":
        if not teams:
            st.info("No team has direct spend this month to share unassigned spend with.")
            return {"rule": "none"}
        start = pl.DataFrame({"team": teams, "share": [1 / len(teams)] * len(teams)})  # equal: sums to 1 in floats
        edited = editor(
            start, hide_index=True, key=f"chargeback_split_{month}", disabled=["team"],
            column_config={"team": st.column_config.TextColumn("Team"),
                           "share": money("Share", min_value=0.0, max_value=1.0, step=0.01, format="%.4f")},
        )
        split = edited if isinstance(edited, pl.DataFrame) else pl.from_pandas(edited)
        out["split"] = tuple((r["team"], float(r["share"] or 0)) for r in split.iter_rows(named=True))
        st.caption(f"Shares add up to {sum(s for _, s in out['split']):.4f}.")
    elif rule == "team":
        if not teams:
            st.info("No team has direct spend this month to take the unassigned spend.")
            return {"rule": "none"}
        out["team"] = st.selectbox("Team that takes it", teams, key="chargeback_team")
    return out


def statement_block(month: str, rule: dict) -> None:
    df = call(svc.statement, month=month, **rule)
    if df.is_empty():
        st.info(f"No spend in {fmt_month(month)}. Pick another month, or load that month's usage exports on "
                "the **Upload & data** page.")
        return
    total = df["total_usd"].sum()
    allocated = df["allocated_usd"].sum()
    c1, c2, c3 = st.columns(3)
    c1.metric(f"Total spend, {fmt_month(month)}", usd(total), border=True)
    c2.metric("Allocated from unassigned", usd(allocated), border=True,
              help="Spend no attribution rule gave to a team, shared out by the rule above.")
    c3.metric("Teams", f"{df.filter(pl.col('team') != svc.UNASSIGNED).height:,}", border=True)
    left, right = st.columns([2, 3])
    left.vega_lite_chart(charts.chargeback(df), width="stretch")
    with right:
        summary_table(
            requests_counted(df), download=f"chargeback-statement-{month}",
            column_order=["team", "direct_usd", "allocated_usd", "total_usd", "share_pct", "requests", "tokens"],
            column_config={
                "team": st.column_config.TextColumn("Team"),
                "direct_usd": money("Direct", format="dollar"),
                "allocated_usd": money("Allocated", format="dollar"),
                "total_usd": money("Total", format="dollar"),
                "share_pct": money("Share", format="%.1f%%"),
                "requests": money("Requests", format="localized", help=NO_REQUEST_COUNTS),
                "tokens": money("Tokens", format="compact"),
            },
        )
    st.caption("Amounts are split per line (project × provider × model) to the micro-dollar, the remainder on the "
               "largest share, so the statement always adds up to the month's spend.")
    sql_behind(svc.QUERIES["chargeback"])


def downloads(month: str, rule: dict) -> None:
    st.subheader("Downloads")
    c1, c2, c3 = st.columns(3)
    c1.download_button("Statement lines (CSV)", call(svc.chargeback_export, month=month, fmt="csv", **rule),
                       file_name=f"ai-chargeback-{month}.csv", mime="text/csv", key="download_csv",
                       icon=":material/download:", width="stretch")
    c2.download_button("Statement and lines (Excel)", call(svc.chargeback_export, month=month, fmt="xlsx", **rule),
                       file_name=f"ai-chargeback-{month}.xlsx", key="download_xlsx", icon=":material/download:",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", width="stretch")
    # built on click: the check below already builds the month's FOCUS file once per render (0.4 CPU s a month at
    # 100 M request rows a year), so the download does not build it a second time
    c3.download_button("FOCUS cost and usage (CSV)",
                       functools.partial(call, svc.chargeback_export, month=month, fmt="focus"),
                       file_name=f"ai-focus-1.2-{month}.csv", mime="text/csv", key="download_focus",
                       icon=":material/download:", width="stretch")
    st.caption("CSV and Excel carry the allocation above; text cells a spreadsheet would run as a formula get a "
               "leading `'`. The FOCUS file (FinOps Open Cost and Usage Specification 1.2, with the 1.5 draft's AI "
               "columns) holds costs as incurred, one row per day × provider × account × project × team × workload × "
               "model × tier × token class: tokens in ConsumedQuantity, model identity, TokenDirection and "
               "TokenCacheAction in SkuPriceDetails, team in Tags.")
    bad = call(svc.focus_violations, month=month)
    if bad.is_empty():
        st.caption(":material/verified: The FOCUS file passes the specification's row checks.")
    else:
        st.warning(f"The FOCUS file breaks {bad.height:,} of the specification's row checks; first: row "
                   f"{bad['row'][0]}, column {bad['column'][0]}: {bad['rule'][0]}.")
    sql_behind(svc.QUERIES["focus"])


def whole_bill_block(month: str) -> None:
    """Token spend beside seats and subscriptions per team, and self-hosted inference against its cost file."""
    st.subheader(f"The whole AI bill, {fmt_month(month)}")
    bill = call(svc.whole_bill, month=month)
    if bill.is_empty() or not bill["seat_usd"].sum():
        st.info("No seats or subscriptions for this month. Load a file of them below (vendor, product, team, seats, "
                "price per seat, period) to see them beside token spend.",
                icon=":material/badge:")
    if not bill.is_empty():
        c1, c2, c3 = st.columns(3)
        c1.metric("Token spend", usd(bill["token_usd"].sum()), border=True)
        c2.metric("Seats and subscriptions", usd(bill["seat_usd"].sum()), border=True)
        c3.metric("Whole bill", usd(bill["total_usd"].sum()), border=True)
        summary_table(bill, download=f"whole-ai-bill-{month}",
                     column_order=["team", "token_usd", "seat_usd", "total_usd", "seats", "active_users",
                                   "cost_per_active_user_usd"],
                     column_config={
                         "team": st.column_config.TextColumn("Team"),
                         "token_usd": money("Token spend", format="dollar"),
                         "seat_usd": money("Seats & subscriptions", format="dollar",
                                           help="Each line's seats × price per seat, spread over the days of its "
                                                "month (or year)."),
                         "total_usd": money("Total", format="dollar"),
                         "seats": st.column_config.NumberColumn("Seats", help="Most seats held on a day."),
                         "active_users": st.column_config.NumberColumn(
                             "Active users", help="Distinct users the usage names; empty when no source names them."),
                         "cost_per_active_user_usd": money("Per active user", format="dollar"),
                     })
        # the bridge to the statement above: the same month's spend, before its allocation of unassigned
        unassigned = bill.filter(pl.col("team") == svc.UNASSIGNED)["token_usd"].sum()
        st.caption(f"Token spend is each team's own usage, before the statement above shares out unassigned spend"
                   + (f" (**{usd(unassigned)}** stays on its own line here)" if unassigned else "")
                   + f": both add up to the month's {usd(bill['token_usd'].sum())}.")
        sql_behind(svc.QUERIES["whole_bill"])
    hosted = call(svc.self_hosted)
    if not hosted.is_empty():
        st.markdown("**Self-hosted inference**: each cost period over the tokens logged for its model is an "
                    "effective price, which prices those rows in every view.")
        summary_table(hosted, download="self-hosted-inference",
                     column_config={
                         "start_date": st.column_config.DateColumn("From"),
                         "end_date": st.column_config.DateColumn("To"),
                         "cost_usd": money("Cost (file)", format="dollar"),
                         "tokens": st.column_config.NumberColumn("Tokens logged", format="localized"),
                         "usd_per_mtok": money("$ per 1M tokens", format="$%.4f"),
                         "priced_usd": money("Priced in the ledger", format="dollar"),
                         "residual_usd": money("Residual", format="dollar"),
                         "overridden": st.column_config.CheckboxColumn("Override wins"),
                     })
        sql_behind(svc.QUERIES["self_hosted"])
    whole_bill_files()


# the two files of the whole bill: (label, key, service, what it holds, example); docs/finance.md "The whole AI bill"
BILL_FILES = (
    ("Seats and subscriptions", "subscriptions", svc.load_subscriptions_file,
     "vendor, product, team, seats, price_per_seat_usd, period (month | year), start, optional end and note",
     "subscriptions:\n  - {vendor: OpenAI, product: ChatGPT Enterprise, team: research, seats: 40,\n"
     "     price_per_seat_usd: 60, period: month, start: 2026-01-01}"),
    ("Self-hosted inference costs", "self_hosted", svc.load_self_hosted_file,
     "provider (default internal), model, start, end (or a YYYY-MM start), gpu_hours × usd_per_gpu_hour and/or "
     "amount_usd, note; each period becomes an effective $ per 1M tokens that prices the model",
     "self_hosted:\n  - {model: llama-70b-selfhosted, start: 2026-10-01, end: 2026-10-31,\n"
     "     gpu_hours: 1488, usd_per_gpu_hour: 2.10}"),
)


def whole_bill_files() -> None:
    """Replace the seats and subscriptions, or the self-hosted costs, from a YAML or CSV file (an analyst's
    write, as `modelmix subscriptions FILE` / `modelmix self-hosted FILE`)."""
    with st.expander("Load seats and subscriptions, or self-hosted inference costs"):
        for label, key, load, holds, example in BILL_FILES:
            flash(BILL_FLASH_KEY, key)
            upload = st.file_uploader(f"{label} file (YAML or CSV)", type=["yaml", "yml", "csv"],
                                      key=f"bill_file_{key}", help=f"Columns or keys: {holds}.")
            preformatted(example)
            if upload is not None:
                save_button(f"Replace all {label.lower()} with {upload.name}", f"bill_load_{key}",
                            functools.partial(load, state.warehouse(), upload.name, upload.getvalue()),
                            functools.partial(_loaded, label, upload.name), flash_key=BILL_FLASH_KEY, section=key,
                            disabled=not auth.allows("analyst"),
                            help=None if auth.allows("analyst") else auth.need_text("analyst"))
        seat_export_upload()


def seat_export_upload() -> None:
    """A vendor's seat or licence export (CSV, its own column names) with its seat mapping (YAML), as
    `modelmix subscriptions FILE --mapping MAP`; docs/finance.md "Seat exports"."""
    flash(BILL_FLASH_KEY, "seat_export")
    st.markdown("**Or a vendor's seat export** (a seat list or licence report as CSV) with its column mapping")
    c1, c2 = st.columns(2)
    export = c1.file_uploader("Seat export (CSV)", type=["csv"], key="bill_seat_export")
    mapping = c2.file_uploader("Its seat mapping (YAML)", type=["yaml", "yml"], key="bill_seat_mapping",
                               help="seat_mapping: columns (export column: field), constants, values, "
                                    "end_is_exclusive, date_format; without a seats column each row is one seat.")
    if export is not None and mapping is not None:
        save_button(f"Replace all seats and subscriptions with {export.name}", "bill_load_seat_export",
                    functools.partial(svc.load_seat_export, state.warehouse(), export.name, export.getvalue(),
                                      mapping.name, mapping.getvalue()),
                    functools.partial(_loaded, "Seats and subscriptions", export.name),
                    flash_key=BILL_FLASH_KEY, section="seat_export", disabled=not auth.allows("analyst"),
                    help=None if auth.allows("analyst") else auth.need_text("analyst"))


def _loaded(label: str, filename: str, n: int) -> str:
    return f"Loaded {plural(n, 'line')} of {label.lower()} from {filename}."


def month_complete(done: ledger.Completeness, month: str) -> bool:
    """Whether the month ('2026-10') is over in the ledger and holds every current source's usage."""
    full = done.last_complete_month()
    return full is not None and month <= f"{full:%Y-%m}"


def render() -> None:
    st.title("Chargeback")
    selected = state.date_range()
    if selected is None:
        st.info("**No usage loaded yet**, so there is no month to charge back. Load usage exports with "
                "the **Upload & data** page (an analyst can load exports there).", icon=":material/upload_file:")
        return
    months = call(svc.chargeback_months)
    done = ledger.source_completeness(state.run_query, selected[1])
    incomplete = {m: f"{fmt_month(m)} · incomplete" for m in months if not month_complete(done, m)}
    full = done.last_complete_month()
    default = f"{full:%Y-%m}" if full is not None and f"{full:%Y-%m}" in months else f"{selected[1]:%Y-%m}"
    month = st.columns([1, 3])[0].selectbox(
        "Month", months, index=months.index(default) if default in months else 0, key="chargeback_month",
        format_func=lambda m: incomplete.get(m, fmt_month(m)),
        help="Months with usage, newest first. The default is the last complete month up to the date range's "
             "end: a month is incomplete while it is still running or some source's usage stops before its end.")
    if month in incomplete:
        st.warning(f"**{fmt_month(month)} is incomplete**: "
                   + (f"{done.describe()}, so its statement misses their later usage"
                      if not done.is_complete and month >= f"{done.complete_through:%Y-%m}"
                      else "the month is not over in the ledger yet")
                   + ". Charge back a complete month, or load the newer exports first.",
                   icon=":material/hourglass_bottom:")
    try:
        rule = rule_inputs(month)
        st.subheader(f"Statement, {fmt_month(month)}")
        statement_block(month, rule)
        downloads(month, rule)
        whole_bill_block(month)
    except ModelMixError as e:
        st.error(f"**{e.title}** — {e.message}")


try:
    render()
except ModelMixError as e:
    st.error(f"**{e.title}** — {e.message}")
