"""Budgets & forecast: month- and quarter-end forecasts with their P10-P90 band and backtest error, actual vs
budget vs forecast with a burn-down chart, the editable budgets (table or file), and each team's forecast
under a routing scenario.

Thin by design: widgets -> one service call per visual (`services/finance.py`, cached by `state.call`) ->
a figure builder (`components/finance_charts.py`) -> render."""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from dashboard import auth, state
from dashboard.components import finance_charts as charts
from dashboard.components.formatting import pct, usd
from dashboard.components.formatting import MONTH_COLUMN
from dashboard.components.formatting import month as fmt_month
from dashboard.components.widgets import preformatted, rows_or_editor, show_error, sql_behind, summary_table
from dashboard.services import ModelMixError, preset_title
from dashboard.services import finance as svc
from dashboard.services import ledger

call = state.call
money = st.column_config.NumberColumn
FLASH_KEY = "budgets_flash"
BUDGET_FILE_EXAMPLE = """budgets:
  - {scope: team, name: engineering, period: month, start: 2025-09, end: 2025-12, amount_usd: 6000}
  - {scope: provider, name: openai, period: quarter, start: 2025-07-01, amount_usd: 9000, note: contract}"""


def period_name(start: dt.date, period: str) -> str:
    return fmt_month(start) if period == "month" else f"Q{(start.month - 1) // 3 + 1} {start.year}"


def forecast_section(as_of: dt.date, since: dt.date) -> None:
    st.subheader("Forecast")
    left, right = st.columns(2)
    by_label = left.segmented_control("Forecast by", list(svc.GROUPINGS), default="Team", required=True,
                                      key="forecast_by")
    period_label = right.segmented_control("Period", list(svc.PERIODS), default="Month-end", required=True,
                                           key="forecast_period")
    by, period = svc.GROUPINGS[by_label], svc.PERIODS[period_label]
    df = call(svc.forecast, by=by, as_of=as_of, period=period)
    if df.is_empty():
        st.info("No spend up to the selected day to forecast from. Widen the date range in the sidebar.")
        return
    start, end = df["period_start"][0], df["period_end"][0]
    elapsed, days = df["days_elapsed"][0], df["days_in_period"][0]
    st.markdown(f"**{period_name(start, period)}** — {elapsed} of {days} days elapsed; totals are actual spend "
                f"to {as_of:%d %b %Y} plus the forecast of the remaining days to {end:%d %b %Y}.")
    done = ledger.source_completeness(state.run_query, as_of)
    if not done.is_complete:
        df = svc.mark_gap_forecasts(df, done.lagging["last_day"].to_list(), ledger.LAG_TOLERANCE_DAYS)
        gaps = df.filter(pl.col("gap_driven"))
        st.warning(f"**Spend after {done.complete_through:%-d %b %Y} is incomplete**: {done.describe()}. "
                   + (f"{gaps.height} of {df.height} rows stop where those sources end, so their forecast reads "
                      "the missing days as $0 a day (*· gap* in the Model column); "
                      if gaps.height else "")
                   + f"end the sidebar's date range on {done.complete_through:%-d %b %Y} to forecast from complete "
                   "data, or load the newer exports on Upload & data.",
                   icon=":material/hourglass_bottom:")
    summary_table(
        df, download=f"forecast-by-{by}-{as_of}",
        column_order=["key", "actual_to_date_usd", "forecast_total_usd", "p10_total_usd", "p90_total_usd", "method",
                      "last_spend_day"],
        column_config={
            "key": st.column_config.TextColumn(by_label),
            "actual_to_date_usd": money("Actual to date", format="dollar"),
            "forecast_total_usd": money(f"{period_label} forecast", format="dollar",
                                        help="Actual to date plus the point forecast (P50) of the remaining days."),
            "p10_total_usd": money("P10", format="dollar", help="1 in 10 chance of ending below this."),
            "p90_total_usd": money("P90", format="dollar", help="1 in 10 chance of ending above this."),
            "method": st.column_config.TextColumn("Model", help="trend+weekday with 3+ weeks of history; trend "
                                                  "with 1-3 weeks; mean with less. · gap: no spend after the last "
                                                  "day every source covers, so the forecast reads a data gap."),
            "last_spend_day": st.column_config.DateColumn("Last spend", format="D MMM YYYY",
                                                          help="The last day with spend up to the forecast day."),
        },
    )
    st.caption("Each series is fitted on its last 8 weeks of daily spend as (level + trend) × weekday factors; a "
               "trend under 2 standard errors is dropped. The P10–P90 band comes from a seeded bootstrap of the "
               "fit's residuals and parameters. A launch, a migration or a runaway agent cannot be foreseen.")
    sql_behind(svc.DAILY_SPEND_QUERY[by])

    key = st.selectbox(f"{by_label} to chart", df["key"].to_list(), key="forecast_key")
    bt = call(svc.backtest, by=by, key=key)
    level, verdict = svc.backtest_verdict(svc.backtest_summary(bt))
    daily = call(svc.forecast_daily, by=by, key=key, as_of=as_of, since=since, period=period)
    st.markdown(f"**Daily spend of {key}: actual, then forecast to {end:%d %b %Y}**")
    if level in ("unreliable", "none"):
        st.warning(f"**{verdict}** The P10–P90 band is not drawn: it would promise a precision the history "
                   "does not support. Read the forecast line as a rough direction only.",
                   icon=":material/report:")
    st.vega_lite_chart(charts.forecast_band(daily, as_of, band=level not in ("unreliable", "none")), width="stretch")
    sql_behind(svc.DAILY_SPEND_QUERY[by])
    backtest_block(key, bt, level, verdict)


def backtest_block(key: str, bt: pl.DataFrame, level: str, verdict: str) -> None:
    st.markdown(f"**How far to trust it: the forecast tested on {key}'s past months**")
    if bt.is_empty():
        st.info(f"{verdict} A month is tested when at least 3 weeks of spend come before it. Load older usage "
                "exports to see how accurate the forecast has been.")
        return
    s = svc.backtest_summary(bt)
    if level in ("reliable", "rough"):      # an unreliable verdict is already said above the chart
        (st.success if level == "reliable" else st.info)(verdict)
    flag = "" if level in ("reliable", "rough") else " · unreliable"
    c1, c2, c3 = st.columns(3)
    c1.metric(f"Typical error of a month's total{flag}", pct(s["mean_ape_pct"], 0), border=True,
              delta=f"worst month {pct(s['max_ape_pct'], 0)}", delta_color="off", delta_arrow="off",
              help="Each whole month forecast from the day before it began (the longest horizon), against what "
                   "was spent: the average of how far off it was, in % of what was spent.")
    c2.metric(f"Typical error of a day{flag}", pct(s["mean_mape_pct"], 0), border=True,
              help="How far off the daily values were on average (days with spend), in % of what was spent "
                   "(mean absolute percentage error).")
    c3.metric("Months inside the P10–P90 band", f"{s['inside']} of {s['months']}", border=True,
              help="A well-calibrated band holds about 8 in 10 months.")
    summary_table(
        bt, download=f"forecast-backtest-{key}",
        column_order=["month", "actual_usd", "forecast_usd", "p10_usd", "p90_usd", "ape_total_pct",
                      "mape_daily_pct", "inside_band"],
        column_config={
            "month": st.column_config.DateColumn("Month", format=MONTH_COLUMN),
            "actual_usd": money("Actual", format="dollar"),
            "forecast_usd": money("Forecast", format="dollar"),
            "p10_usd": money("P10", format="dollar"),
            "p90_usd": money("P90", format="dollar"),
            "ape_total_pct": money("Error of the month's total", format="%.0f%%"),
            "mape_daily_pct": money("Typical daily error", format="%.0f%%"),
            "inside_band": st.column_config.CheckboxColumn("Inside band"),
        },
    )


def status_section(as_of: dt.date) -> None:
    st.subheader("Actual vs budget vs forecast")
    past = st.toggle("Include past periods", key="budgets_past",
                     help="Off: only the budget periods that hold the selected day. On: every period started by it.")
    df = call(svc.budget_status, as_of=as_of, current_only=not past)
    if df.is_empty():
        st.info(f"No budget covers {as_of:%d %b %Y}. Add budgets for teams, projects or providers under **Edit "
                "budgets** below (switch on *Edit in a table*), or upload a budgets file (YAML or CSV).")
        return
    done = ledger.source_completeness(state.run_query, as_of)
    if not done.is_complete:        # a period's actual misses the usage of sources that end before its last day
        st.warning(f"**Actuals after {done.complete_through:%-d %b %Y} are incomplete**: {done.describe()}, so a "
                   "budget whose spend comes from those sources reads low for the days after (marked *· incomplete* "
                   "below when it reads on track). Load the newer exports on Upload & data, or read the past periods "
                   "(toggle above).",
                   icon=":material/hourglass_bottom:")
        df = svc.mark_incomplete(df, done.complete_through)
    counts = df["status_label"].value_counts()
    st.caption("; ".join(f"{r['status_label']}: {r['count']}"
                          for r in counts.sort("status_label").iter_rows(named=True)))
    summary_table(
        df.with_columns(what=pl.col("scope") + " " + pl.col("name"),
                        period_label=pl.Series([period_name(d, p) for d, p in zip(df["period_start"], df["period"])],
                                               dtype=pl.String)),
        download=f"budgets-status-{as_of}",
        column_order=["what", "period_label", "status_label", "budget_usd", "actual_usd", "forecast_usd",
                      "variance_usd", "used_pct", "forecast_pct", "crossing_date"],
        column_config={
            "what": st.column_config.TextColumn("Budget"),
            "period_label": st.column_config.TextColumn("Period"),
            "status_label": st.column_config.TextColumn(
                "Status", help="Over budget: the actual has reached it. Forecast over: the forecast ends above it. "
                               "At risk: only the P90 does. On track: none. · incomplete: the period runs past "
                               "the last day every source covers, so its actual may read low."),
            "budget_usd": money("Budget", format="dollar"),
            "actual_usd": money("Actual", format="dollar"),
            "forecast_usd": money("Forecast", format="dollar", help="Actual to date + forecast (P50) of the rest; "
                                                                    "the burn-down below shows its P10–P90 band."),
            "variance_usd": money("Variance", format="dollar", help="Forecast − budget: positive means over."),
            "used_pct": money("Used", format="%.0f%%"),
            "forecast_pct": money("Forecast / budget", format="%.0f%%"),
            "crossing_date": st.column_config.DateColumn(
                "Reaches budget", format="D MMM YYYY",
                help="The first day the cumulative actual, then forecast, spend reaches the budget."),
        },
    )
    sql_behind(svc.QUERIES["budgets"])
    burndown_block(df, as_of)


BURNDOWN_KEY = "burndown_pick"


def budget_id(r: dict) -> str:
    """A budget period's stable identity, whatever the table's order or filter: scope, name, period, start."""
    return f"{r['scope']}|{r['name']}|{r['period']}|{r['period_start']:%Y-%m-%d}"


def burndown_block(status: pl.DataFrame, as_of: dt.date) -> None:
    """The burn-down of one budget period. The choice is the budget itself (not its position in the table), and
    when the list changes (past periods shown or hidden, another day, a save) a choice no longer listed goes
    back to the first row, so the selector and the chart always name the same budget."""
    rows = {budget_id(r): r for r in status.to_dicts()}
    labels = {i: f"{r['scope']} {r['name']} — {period_name(r['period_start'], r['period'])} ({r['status_label']})"
              for i, r in rows.items()}
    if st.session_state.get(BURNDOWN_KEY) not in rows:
        st.session_state[BURNDOWN_KEY] = next(iter(rows))
    pick = st.selectbox("Burn-down of", list(rows), format_func=labels.__getitem__, key=BURNDOWN_KEY)
    r = rows[pick]
    df = call(svc.burndown, scope=r["scope"], name=r["name"], period_start=r["period_start"], period=r["period"],
              as_of=as_of)
    st.markdown(f"**Burn-down: {r['scope']} {r['name']}, {period_name(r['period_start'], r['period'])} — budget "
                f"{usd(r['budget_usd'])}, forecast {usd(r['forecast_usd'])}**")
    st.vega_lite_chart(charts.burndown(df, r["budget_usd"], r["crossing_date"]), width="stretch")
    if r["crossing_date"] is None:
        st.caption(f"The forecast stays under the budget: {usd(-r['variance_usd'])} to spare at the period's end.")
    else:
        verb = "reached" if r["crossing_date"] <= as_of else "is forecast to reach"
        st.caption(f"Spend {verb} the budget on **{r['crossing_date']:%d %b %Y}**; the forecast ends "
                   f"{usd(abs(r['variance_usd']))} {'over' if r['variance_usd'] > 0 else 'under'} it.")
    sql_behind(svc.DAILY_SPEND_QUERY[r["scope"]])


BUDGET_COLUMNS = {
    "scope": st.column_config.SelectboxColumn("Scope", options=["team", "project", "provider"], required=True),
    "name": st.column_config.TextColumn("Name", required=True),
    "period": st.column_config.SelectboxColumn("Period", options=["month", "quarter"], required=True, default="month"),
    "period_start": st.column_config.DateColumn("Starts", format="YYYY-MM-DD", required=True),
    "amount_usd": money("Amount (USD)", format="dollar", min_value=0.0, required=True),
    "note": st.column_config.TextColumn("Note"),
}


def edit_section() -> None:
    st.subheader("Edit budgets")
    if flash := st.session_state.pop(FLASH_KEY, None):
        st.success(flash)
    frame = call(svc.budget_table)
    st.caption("One row per budget period. Scope is team, project or provider; the name as it appears in the "
               "usage; the start is the first day of the month or quarter. Saving replaces all budgets.")
    may = auth.allows("analyst")
    edited = rows_or_editor(
        frame, "budgets", state.warehouse().data_version, columns=BUDGET_COLUMNS, download="budgets",
        allowed=may, why_not=auth.need_text("analyst"),
        empty="No budgets yet: switch on **Edit in a table** to add them, or upload a budgets file.",
        empty_editing="No budgets yet: add a row above (the + under the table), or upload a budgets file.")
    if edited is not None:
        if st.button("Save budgets", type="primary", key="budgets_save", disabled=not may,
                     help=None if may else auth.need_text("analyst")):
            try:
                n = svc.save_budgets(state.warehouse(), edited)
            except ModelMixError as e:
                show_error(e)
            else:
                st.session_state[FLASH_KEY] = f"Saved {n:,} budget periods."
                st.rerun()
    sql_behind(svc.QUERIES["budgets"])

    st.markdown("**Or upload a budgets file**")
    upload = st.file_uploader("Budgets file (YAML or CSV)", type=["yaml", "yml", "csv"], key="budgets_file",
                              help="Columns or keys: scope, name, period, start (first day or YYYY-MM), optional end "
                                   "(repeat every period up to it), amount_usd, note.")
    with st.expander("File format"):
        preformatted(BUDGET_FILE_EXAMPLE)
        st.caption("A CSV has the same columns: `scope,name,period,start,end,amount_usd,note`.")
    if upload is not None and st.button(f"Replace all budgets with {upload.name}", key="budgets_load",
                                        disabled=not auth.allows("analyst")):
        try:
            n = svc.load_budget_file(state.warehouse(), upload.name, upload.getvalue())
        except ModelMixError as e:
            show_error(e)
        else:
            st.session_state[FLASH_KEY] = f"Loaded {n:,} budget periods from {upload.name}."
            st.rerun()


def scenario_section(as_of: dt.date) -> None:
    st.subheader("Scenario impact per team")
    st.caption("Each team's forecast if a routing scenario started the day after the selected day: the scenario is "
               "replayed over the last 8 weeks, and each team's remaining forecast is scaled by its replayed "
               "scenario ÷ baseline cost. Spend already incurred is not changed.")
    left, mid, right = st.columns([2, 2, 2])
    source = left.segmented_control("Scenario from", ["Preset", "Scenario file"], default="Preset", required=True,
                                    key="scenario_source")
    period_label = right.segmented_control("Period", list(svc.PERIODS), default="Month-end", required=True,
                                           key="scenario_period")
    try:
        if source == "Preset":
            presets = svc.scenario_presets()
            default = presets.index(svc.DEFAULT_IMPACT_PRESET) if svc.DEFAULT_IMPACT_PRESET in presets else 0
            name = mid.selectbox("Preset", presets, index=default, key="scenario_preset",
                                 format_func=preset_title)
            text = svc.scenario_text(name)
        else:
            upload = mid.file_uploader("Saved scenario (YAML or JSON)", type=["yaml", "yml", "json"],
                                       key="scenario_file")
            if upload is None:
                st.info("Upload a scenario file saved from the What-if page or written by hand "
                        "(`docs/simulation.md` describes the format), or pick a preset.")
                return
            text = svc.scenario_text(upload.name, upload.getvalue(), upload.name)
        with st.spinner("Replaying the last 8 weeks under the scenario (once per scenario and ledger version)…"):
            df = call(svc.scenario_impact, scenario_json=text, as_of=as_of, period=svc.PERIODS[period_label])
    except ModelMixError as e:
        show_error(e)
        return
    if df.is_empty():
        st.info("No team spend up to the selected day to forecast. Widen the date range in the sidebar.")
        return
    saving = df["savings_usd"].sum()
    today_total = df["forecast_today_usd"].sum()
    c1, c2, c3 = st.columns(3)
    c1.metric(f"Forecast, today's mix ({period_name(df['period_start'][0], svc.PERIODS[period_label])})",
              usd(today_total), border=True)
    c2.metric("Forecast under the scenario", usd(df["forecast_scenario_usd"].sum()), border=True,
              delta=f"{-saving / today_total * 100:+.1f}%" if today_total else None, delta_color="inverse")
    c3.metric("Saving to the period's end", usd(saving), border=True)
    st.vega_lite_chart(charts.scenario_impact(df), width="stretch")
    summary_table(
        df, download=f"scenario-impact-{as_of}",
        column_order=["team", "ratio", "actual_to_date_usd", "forecast_today_usd", "forecast_scenario_usd",
                      "savings_usd", "budget_usd", "variance_today_usd", "variance_scenario_usd"],
        column_config={
            "team": st.column_config.TextColumn("Team"),
            "ratio": money("Scenario ÷ baseline", format="%.2f",
                           help="The replayed cost ratio applied to the team's remaining forecast."),
            "actual_to_date_usd": money("Actual to date", format="dollar"),
            "forecast_today_usd": money("Forecast, today", format="dollar"),
            "forecast_scenario_usd": money("Forecast, scenario", format="dollar"),
            "savings_usd": money("Saving", format="dollar"),
            "budget_usd": money("Budget", format="dollar"),
            "variance_today_usd": money("Variance today", format="dollar", help="Forecast − budget."),
            "variance_scenario_usd": money("Variance, scenario", format="dollar", help="Forecast − budget."),
        },
    )
    st.caption("Scenario ÷ baseline is the team's cost under the scenario over the last 8 weeks divided by its "
               "cost as it ran, the same figures a What-if replay of those weeks gives. Teams without a team budget "
               "for the period show no variance.")
    sql_behind(svc.DAILY_SPEND_QUERY["team"])


def render() -> None:
    st.title("Budgets & forecast")
    selected = state.date_range()
    if selected is None:
        st.info("**No usage loaded yet**, so there is nothing to forecast. Load a usage export with "
                "the **Upload & data** page (an analyst can load exports there), then set budgets here.",
                icon=":material/upload_file:")
        edit_section()
        return
    start, as_of = selected
    st.caption(f"Forecasts are made as of **{as_of:%d %b %Y}**, the end of the date range in the sidebar; "
               "days after it are forecast. Charts start at the range's first day.")
    status_section(as_of)           # what a finance reader opens the page for: budgets against spend, first
    forecast_section(as_of, start)
    edit_section()
    scenario_section(as_of)


try:
    render()
except ModelMixError as e:
    show_error(e)
