"""The finance pages' data (Budgets & forecast, Anomalies, Reconciliation, Chargeback, the Overview's alerts):
thin wrappers over `finance/`, one function per visual, each taking the `Warehouse` first and plain values
after it (so `dashboard.state.call` can cache the result on the ledger's `data_version`). The reconciliation
visuals are the exception: one cached `reconcile_detail` per range, and pure functions of it and the thresholds
(a threshold change then runs no query). No streamlit here.

Money comes back as Float64 for charts and tables; exact decimal sums stay in SQL and in `finance/`.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Any

import polars as pl

import simulate
from dashboard.services import money_as_float
from dashboard.services.editing import load_upload
from finance import anomalies as an
from finance import budgets as bd
from finance import chargeback as cb
from finance import jobs
from finance import focus_check
from finance import forecast as fc
from finance import reconcile as rc
from finance import regressions as rg
from finance import seat_export
from finance import whole_bill as wb
from finance import scenario_impact as si
from finance.periods import period_bounds
from warehouse.db import Warehouse
from warehouse.errors import ConfigError, parse_problem

CONFIG_SUFFIXES = (".yaml", ".yml", ".csv")   # the config files a page may upload

# closed mappings from what a widget shows to what finance/ accepts (never spliced into SQL)
GROUPINGS: dict[str, str] = {"Team": "team", "Project": "project", "Provider": "provider", "Total": "total"}
PERIODS: dict[str, str] = {"Month-end": "month", "Quarter-end": "quarter"}
ANOMALY_GROUPINGS: dict[str, str] = {"Team × model": "team_model", "Team × model × key": "team_model_key"}
RULES: dict[str, str] = {"Proportional": "proportional", "Fixed split": "fixed", "Named team": "team",
                         "None (showback)": "none"}
BASES: dict[str, str] = {"Spend": "spend", "Requests": "requests", "Tokens": "tokens"}
STATUS_LABELS: dict[str, str] = {"over": "Over budget", "forecast_over": "Forecast over", "at_risk": "At risk (P90)",
                                 "ok": "On track"}
BUDGET_COLUMNS = ("scope", "name", "period", "period_start", "amount_usd", "note")
UNASSIGNED = cb.UNASSIGNED
ANOMALY_WINDOW = an.WINDOW      # days of same-weekday history an anomaly baseline uses

# the named query behind each visual, for the "SQL behind this" expanders (finance/ runs them)
DAILY_SPEND_QUERY = {"team": "finance_daily_spend_by_team", "project": "finance_daily_spend_by_project",
                     "provider": "finance_daily_spend_by_provider", "total": "finance_daily_spend_by_provider"}
QUERIES = {
    "budgets": "finance_budgets",
    "anomalies": "finance_daily_spend_detail",
    "regressions": "finance_regression_daily",
    "whole_bill": "finance_whole_bill_monthly",
    "self_hosted": "finance_self_hosted_reconcile",
    "reconcile": "finance_reconcile_detail",
    "token_classes": "finance_reconcile_token_classes",
    "unpriced": "unpriced_models",
    "chargeback": "finance_chargeback_lines",
    "focus": "finance_focus_cost_usage",
}


def _choice(mapping: dict[str, str], value: str, what: str) -> str:
    if value in mapping.values():
        return value
    raise ValueError(f"unknown {what} {value!r}; choose one of {', '.join(mapping.values())}")


# --- forecast --------------------------------------------------------------------------------------------
def forecast(wh: Warehouse, by: str, as_of: dt.date, period: str = "month") -> pl.DataFrame:
    """Month- or quarter-end forecast per key (largest first): actual to date, forecast, P10, P90, method."""
    by, period = _choice(GROUPINGS, by, "grouping"), _choice(PERIODS, period, "period")
    df = fc.forecast(wh, by=by, as_of=as_of, periods=(period,))
    return df.sort("forecast_total_usd", descending=True)


def forecast_daily(wh: Warehouse, by: str, key: str, as_of: dt.date, since: dt.date,
                   period: str = "month") -> pl.DataFrame:
    """The band chart of one key: daily actual from `since` to `as_of`, then the forecast with its daily P10/P90
    to the end of the month or quarter holding `as_of`."""
    by, period = _choice(GROUPINGS, by, "grouping"), _choice(PERIODS, period, "period")
    until = period_bounds(as_of, period)[1]
    df = fc.daily(wh, by=by, as_of=as_of, until=until)
    return df.filter((pl.col("key") == key) & (pl.col("day") >= since))


def backtest(wh: Warehouse, by: str, key: str) -> pl.DataFrame:
    """Per whole month of one key: the forecast made the day before the month vs the actual, its errors."""
    df = fc.backtest(wh, by=_choice(GROUPINGS, by, "grouping"))
    return df.filter(pl.col("key") == key).sort("month")


def backtest_summary(bt: pl.DataFrame) -> dict[str, Any]:
    """Months tested, mean and worst month-total error, mean daily MAPE, months inside the P10-P90 band."""
    if bt.is_empty():
        return {"months": 0, "mean_ape_pct": None, "max_ape_pct": None, "mean_mape_pct": None, "inside": 0}
    return {"months": bt.height, "mean_ape_pct": bt["ape_total_pct"].mean(), "max_ape_pct": bt["ape_total_pct"].max(),
            "mean_mape_pct": bt["mape_daily_pct"].mean(), "inside": int(bt["inside_band"].sum())}


# --- budgets ---------------------------------------------------------------------------------------------
# the backtest's verdict: a forecast is "reliable" when at least this many whole months were tested, their
# month totals were off by at most RELIABLE_ERROR_PCT on average and most landed inside the band; a mean error
# above UNRELIABLE_ERROR_PCT (or too few months) is "not reliable", and its band is not drawn
MIN_BACKTEST_MONTHS = 3
RELIABLE_ERROR_PCT = 20.0
UNRELIABLE_ERROR_PCT = 50.0


def backtest_verdict(s: dict[str, Any]) -> tuple[str, str]:
    """(level, sentence) for a backtest summary: level 'reliable' | 'rough' | 'unreliable' | 'none', the sentence
    in plain words for a finance reader."""
    months, err = s["months"], s["mean_ape_pct"]
    if not months:
        return "none", ("Not enough history for a reliable forecast: no whole month has 3 weeks of spend before "
                        "it to test the forecast on.")
    tested = f"{months} month{'s' if months != 1 else ''}"
    if months < MIN_BACKTEST_MONTHS:
        return "unreliable", (f"Not enough history for a reliable forecast: only {tested} could be tested "
                              f"(at least {MIN_BACKTEST_MONTHS} are needed to judge it).")
    if err > UNRELIABLE_ERROR_PCT or 2 * s["inside"] < months:
        return "unreliable", (f"Not a reliable forecast: tested on {tested}, a month's total was off by "
                              f"{err:,.0f}% on average and {s['inside']} of {months} landed inside the band. "
                              "Spend here moves more than its history explains (launches, migrations, new sources).")
    if err > RELIABLE_ERROR_PCT:
        return "rough", (f"A rough guide: tested on {tested}, a month's total was off by {err:,.0f}% on average "
                         f"({s['inside']} of {months} inside the band).")
    return "reliable", (f"A reliable forecast: tested on {tested}, a month's total was off by {err:,.0f}% on "
                        f"average ({s['inside']} of {months} inside the band).")


def budget_table(wh: Warehouse) -> pl.DataFrame:
    """The budgets as the editable table: one row per period, amount as a float."""
    return bd.budgets(wh).select(BUDGET_COLUMNS).with_columns(pl.col("amount_usd").cast(pl.Float64),
                                                              pl.col("note").fill_null(""))


def budget_entries(frame: Any) -> list[bd.Budget]:
    """The edited table (polars or pandas, as `st.data_editor` returns it) validated into budget entries.
    Raises ConfigError naming the row ("entry N") and the field."""
    df = frame if isinstance(frame, pl.DataFrame) else pl.from_pandas(frame)
    missing = [c for c in BUDGET_COLUMNS if c not in df.columns]
    if missing:
        raise ConfigError(f"the budget table lacks the columns {', '.join(missing)}", title="Invalid budgets")
    # rows left completely empty (an added row never filled in) are not entries
    df = df.filter(~pl.all_horizontal([pl.col(c).is_null() for c in BUDGET_COLUMNS if c != "note"]))
    df = df.with_columns(pl.col("amount_usd").cast(pl.Float64).round(6),
                         pl.when(pl.col("note").cast(pl.String).str.strip_chars() != "").then(pl.col("note"))
                         .otherwise(None).alias("note"),
                         pl.col("period_start").cast(pl.Date, strict=False))
    try:
        entries = bd.as_entries(df)
        bd.rows(entries)  # two rows for the same period are an error naming both
    except ConfigError as e:
        raise ConfigError(e.message, title="Invalid budgets") from e
    return entries


def save_budgets(wh: Warehouse, frame: Any) -> int:
    """Replace the budgets with the edited table (validated first; nothing is written on an error)."""
    return bd.replace_budgets(wh, budget_entries(frame))


def load_budget_file(wh: Warehouse, filename: str, data: bytes) -> int:
    """Replace the budgets with an uploaded YAML or CSV file; errors name the file, the entry and the field."""
    entries = load_upload(filename, data, bd.load_budgets_file, "Invalid budgets file", CONFIG_SUFFIXES)
    return bd.replace_budgets(wh, entries)


INCOMPLETE_MARK = " · incomplete"


GAP_MARK = " · gap"


def mark_gap_forecasts(df: pl.DataFrame, source_ends: list[dt.date], slack_days: int = 2) -> pl.DataFrame:
    """`gap_driven` (and "· gap" on `method`) for forecast rows whose spend stops where a lagging source ends (its
    last day, or up to `slack_days` before it): the days after read as $0 and the forecast reads the data gap,
    not the spend. A key that stopped long before (a team that ended) is not marked."""
    gap = pl.lit(False)
    for end in source_ends:
        gap = gap | pl.col("last_spend_day").is_between(end - dt.timedelta(days=slack_days), end)
    gap = gap.fill_null(False)
    return df.with_columns(gap_driven=gap,
                           method=pl.when(gap).then(pl.col("method") + GAP_MARK).otherwise(pl.col("method")))


def mark_incomplete(status: pl.DataFrame, complete_through: dt.date | None) -> pl.DataFrame:
    """`status_label` "On track · incomplete" for an on-track budget period that runs past the last day every
    current source covers: its actual misses those sources' later usage, so "on track" may be the gap talking.
    Over budget, forecast over and at risk stay as they are (missing usage only lowers them)."""
    if complete_through is None or status.is_empty():
        return status
    partial = (pl.col("status") == "ok") & (pl.col("period_end") > complete_through)
    return status.with_columns(status_label=pl.when(partial).then(pl.col("status_label") + INCOMPLETE_MARK)
                               .otherwise(pl.col("status_label")))


def budget_status(wh: Warehouse, as_of: dt.date, current_only: bool = True) -> pl.DataFrame:
    """Actual vs budget vs forecast per budget period holding `as_of` (or every started one), worst first,
    with `status_label` for people."""
    df = bd.status(wh, as_of=as_of, current_only=current_only)
    order = {k: i for i, k in enumerate(STATUS_LABELS)}
    return (df.with_columns(status_label=pl.col("status").replace_strict(STATUS_LABELS, default=pl.col("status")),
                            _rank=pl.col("status").replace_strict(order, default=len(order)))
            .sort("_rank", pl.col("forecast_pct").fill_null(0), descending=[False, True]).drop("_rank"))


def burndown(wh: Warehouse, scope: str, name: str, period_start: dt.date, period: str,
             as_of: dt.date) -> pl.DataFrame:
    """One budget period's burn-down: cumulative actual, forecast with P10/P90, the budget line."""
    return bd.burndown(wh, scope, name, period_start, period, as_of=as_of)


# --- scenario impact ---------------------------------------------------------------------------------------
DEFAULT_IMPACT_PRESET = "armstrong-80-99"   # the scenario the Budgets page's impact section opens with


def scenario_presets() -> list[str]:
    return simulate.presets()


def scenario_text(source: str, data: bytes | None = None, filename: str = "scenario") -> str:
    """A scenario as canonical JSON text (a plain, cacheable value): a preset's name, or an uploaded
    YAML/JSON scenario file's bytes. Raises ScenarioError (a ConfigError) when the file is not a scenario."""
    if data is None:
        scenario = simulate.load_scenario(source)
    else:
        import yaml

        try:
            raw = json.loads(data) if filename.lower().endswith(".json") else yaml.safe_load(data)
        except (ValueError, yaml.YAMLError) as e:
            raise simulate.ScenarioError(f"{filename}: cannot read: {parse_problem(e)}") from e
        scenario = simulate.parse_scenario(raw, filename)
    return scenario.model_dump_json()


def scenario_impact(wh: Warehouse, scenario_json: str, as_of: dt.date, period: str = "month") -> pl.DataFrame:
    """Per team: forecast today vs under the scenario for the month or quarter, budget and both variances."""
    scenario = simulate.parse_scenario(json.loads(scenario_json))
    df = si.impact(wh, scenario, as_of=as_of)
    return (df.filter(pl.col("period") == _choice(PERIODS, period, "period"))
            .sort("forecast_today_usd", descending=True))


# --- anomalies ---------------------------------------------------------------------------------------------
def anomalies(wh: Warehouse, by: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Flagged days in [start, end], largest excess first, with their drivers."""
    return an.detect(wh, by=_choice(ANOMALY_GROUPINGS, by, "grouping"), start=start, end=end)


def anomaly_series(wh: Warehouse, team: str, model: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    """The chart of one team x model: daily spend, expected value and flag threshold in [start, end]."""
    return an.daily_series(wh, team, model, start=start, end=end)


def regressions(wh: Warehouse, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Regressions (cache efficiency, token inflation, price change) active in [start, end], largest dollars
    first, with the cause, when it started, before/after and the dollars since."""
    return rg.detect(wh, start=start, end=end)


def regression_series(wh: Warehouse, kind: str, team: str | None, workload: str | None, provider: str | None,
                      model: str | None, api_key: str | None, start: dt.date, end: dt.date) -> pl.DataFrame:
    """The chart of one regression's series: daily value, rolling baseline and flag line in [start, end]."""
    kind = _choice({k: k for k in rg.KINDS}, kind, "regression kind")
    series = {"team": team, "workload": workload, "provider": provider, "model": model, "api_key": api_key}
    return rg.daily_values(wh, kind, series, start=start, end=end)


# --- reconciliation ----------------------------------------------------------------------------------------
def reconcile_detail(wh: Warehouse, start: dt.date, end: dt.date) -> pl.DataFrame:
    """The range's reconciliation rows (day x provider x model x source) before thresholds: the page reads it
    once (cached) and every visual below is a pure function of it and the thresholds."""
    return rc.raw_detail(wh, start, end)


def reconcile_summary(detail: pl.DataFrame, pct: float, abs_usd: float) -> dict[str, float]:
    """The range's waterfall as numbers: naive list, the explained parts, expected, residual, billed."""
    return rc.summarise(rc.flag(detail, abs_usd=abs_usd, pct=pct))


def waterfall_steps(s: dict[str, float]) -> list[tuple[str, float, str]]:
    """The waterfall from the naive list price of the billed usage down to the bill: (label, amount, measure)
    with measure `absolute` for the ends and totals, `relative` for a step."""
    return [
        ("Naive list price", s["naive_list_usd"], "absolute"),
        ("Cache pricing", -s["cache_saving_usd"], "relative"),
        ("Negotiated discount", -s["negotiated_saving_usd"], "relative"),
        ("Batch tier", -s["batch_saving_usd"], "relative"),
        ("Long-context tier", s["tier_extra_usd"], "relative"),
        ("Expected (list)", s["expected_usd"], "total"),
        ("Unexplained residual", s["residual_usd"], "relative"),
        ("Billed, all sources", s["billed_usd"], "total"),
    ]


def reconcile_by_provider(detail: pl.DataFrame, pct: float, abs_usd: float) -> pl.DataFrame:
    return rc.provider_table(rc.flag(detail, abs_usd=abs_usd, pct=pct), abs_usd=abs_usd, pct=pct)


def reconcile_daily(detail: pl.DataFrame, pct: float, abs_usd: float) -> pl.DataFrame:
    """Per day and provider: billed vs expected over the usage carrying both, and the flagged rows."""
    d = rc.flag(detail, abs_usd=abs_usd, pct=pct)
    return (d.group_by("day", "provider")
            .agg(pl.col("billed_usd").sum(), pl.col("expected_usd").sum(), pl.col("residual_usd").sum(),
                 pl.col("flagged").sum().alias("flagged_rows"))
            .sort("day", "provider"))


def reconcile_by_model(detail: pl.DataFrame, pct: float, abs_usd: float) -> pl.DataFrame:
    """Per provider x model over the range: billed, naive list, explained parts, expected, residual, flags."""
    d = rc.flag(detail, abs_usd=abs_usd, pct=pct).filter(
        (pl.col("billed_usd") != 0) | (pl.col("expected_usd") != 0) | (pl.col("unpriced_billed_usd") != 0))
    money = ["billed_usd", "naive_list_usd", "cache_saving_usd", "negotiated_saving_usd", "batch_saving_usd",
             "tier_extra_usd", "expected_usd", "residual_usd", "list_only_usd", "unpriced_billed_usd"]
    return (d.group_by("provider", "model")
            .agg(*[pl.col(c).sum() for c in money], pl.col("flagged").sum().alias("flagged_days"))
            .with_columns(residual_pct=pl.when(pl.col("expected_usd") > 0)
                          .then(100 * pl.col("residual_usd") / pl.col("expected_usd")).otherwise(None))
            .sort("billed_usd", "list_only_usd", descending=True))


def reconcile_token_classes(wh: Warehouse, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Per provider x model x token class over the range: tokens, list cost, billed cost shared by list cost."""
    d = money_as_float(rc.token_classes(wh, start, end))
    return (d.group_by("provider", "model", "token_class")
            .agg(pl.col("tokens").sum(), pl.col("list_usd").sum(), pl.col("billed_usd").sum())
            .sort("provider", "model", "token_class"))


def reconcile_flagged(detail: pl.DataFrame, pct: float, abs_usd: float) -> pl.DataFrame:
    return rc.flagged_rows(rc.flag(detail, abs_usd=abs_usd, pct=pct))


def unpriced(wh: Warehouse, start: dt.date, end: dt.date) -> pl.DataFrame:
    return money_as_float(rc.unpriced(wh, start, end))


# --- chargeback --------------------------------------------------------------------------------------------
def chargeback_months(wh: Warehouse) -> list[str]:
    return cb.months(wh)


def chargeback_teams(wh: Warehouse, month: str) -> list[str]:
    """Teams with direct spend in the month (who can take a share of unassigned spend)."""
    ln = cb.lines(wh, month, cb.allocation(rule="none"))
    return sorted(t for t in ln["team"].unique().to_list() if t != UNASSIGNED)


def allocation(rule: str, basis: str = "spend", split: tuple[tuple[str, float], ...] = (),
               team: str | None = None) -> cb.Allocation:
    """An allocation rule from plain widget values; errors are ConfigError naming the field."""
    kwargs: dict[str, Any] = {"rule": _choice(RULES, rule, "allocation rule")}
    if rule == "proportional":
        kwargs["basis"] = _choice(BASES, basis, "basis")
    elif rule == "fixed":
        kwargs["split"] = {t: float(s) for t, s in split if s}
    elif rule == "team":
        kwargs["team"] = team
    return cb.allocation(**kwargs)


def statement(wh: Warehouse, month: str, rule: str, basis: str = "spend",
              split: tuple[tuple[str, float], ...] = (), team: str | None = None) -> pl.DataFrame:
    """The month's statement per team under the rule (money as Float64)."""
    return money_as_float(cb.statement(wh, month, allocation(rule, basis, split, team)))


def chargeback_export(wh: Warehouse, month: str, fmt: str, rule: str = "proportional", basis: str = "spend",
                      split: tuple[tuple[str, float], ...] = (), team: str | None = None) -> bytes:
    """The download's bytes: `csv` (statement lines), `xlsx` (statement + lines) or `focus` (FOCUS 1.2 with the
    1.5 draft's AI columns)."""
    exports = {"csv": cb.export_csv, "xlsx": cb.export_xlsx}
    if fmt not in (*exports, "focus"):
        raise ValueError(f"unknown export {fmt!r}; known: csv, xlsx, focus")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"export.{fmt}"
        if fmt == "focus":
            cb.export_focus(wh, month, out)
        else:
            exports[fmt](wh, month, out, allocation(rule, basis, split, team))
        return out.read_bytes()


def whole_bill(wh: Warehouse, month: str) -> pl.DataFrame:
    """The month's whole AI bill per team: token spend, seats and subscriptions, total, seats, active users and
    cost per active user, largest total first (money as Float64)."""
    start, end = period_bounds(dt.date.fromisoformat(month + "-01"), "month")
    return money_as_float(wb.bill(wh, start, end))


def load_subscriptions_file(wh: Warehouse, filename: str, data: bytes) -> int:
    """Replace the seats and subscriptions with an uploaded YAML or CSV file (what `modelmix subscriptions FILE`
    does); errors name the file, the entry and the field. Returns the lines written."""
    entries = load_upload(filename, data, wb.load_subscriptions_file, "Invalid subscriptions file", CONFIG_SUFFIXES)
    return wb.replace_subscriptions(wh, entries)


def load_seat_export(wh: Warehouse, export_name: str, export: bytes, mapping_name: str, mapping: bytes) -> int:
    """Replace the seats and subscriptions with a vendor's seat export (CSV) read through its seat mapping (YAML),
    as `modelmix subscriptions FILE --mapping MAP` does; errors name the uploads, the row and the export's column,
    and nothing is written. Returns the lines written."""
    for name, suffixes in ((export_name, (".csv",)), (mapping_name, (".yaml", ".yml"))):
        if Path(name).suffix.lower() not in suffixes:
            raise ConfigError(f"{name}: expected a {' or '.join(s.lstrip('.') for s in suffixes)} file",
                              title=seat_export.TITLE)
    with tempfile.TemporaryDirectory() as tmp:
        csv_path, map_path = Path(tmp) / "export" / Path(export_name).name, Path(tmp) / Path(mapping_name).name
        csv_path.parent.mkdir()
        csv_path.write_bytes(export)
        map_path.write_bytes(mapping)
        try:
            lines = seat_export.load(csv_path, map_path)
        except ConfigError as e:
            text = e.message.replace(str(csv_path), export_name).replace(str(map_path), mapping_name)
            raise ConfigError(text, title=seat_export.TITLE) from e
    return wb.replace_subscription_lines(wh, lines)


def load_self_hosted_file(wh: Warehouse, filename: str, data: bytes) -> int:
    """Replace the self-hosted inference costs with an uploaded YAML or CSV file and re-price the ledger (what
    `modelmix self-hosted FILE` does); errors name the file, the entry and the field. Returns the lines written."""
    entries = load_upload(filename, data, wb.load_self_hosted_file, "Invalid self-hosted cost file", CONFIG_SUFFIXES)
    return wb.replace_self_hosted(wh, entries)


def self_hosted(wh: Warehouse) -> pl.DataFrame:
    """Each self-hosted cost period against what the ledger priced for it (money as Float64)."""
    return money_as_float(wb.reconcile(wh))


def focus_violations(wh: Warehouse, month: str) -> pl.DataFrame:
    """The month's FOCUS file checked against the spec's row rules (finance/focus_check.py): empty when it
    passes, else row, column, value and rule per violation."""
    with tempfile.TemporaryDirectory() as tmp:
        return focus_check.violations(cb.export_focus(wh, month, Path(tmp) / "focus.csv"))


# --- alerts ------------------------------------------------------------------------------------------------
def open_alerts(wh: Warehouse) -> list[dict]:
    """Budget, anomaly and regression alerts as of the ledger's last day (what `modelmix alerts` prints), then one
    entry of kind `budget_at_risk` per budget whose P90 forecast ends above it: not an alert (the CLI does not
    report it), but the Budgets page shows it, so the Overview names it beside the alerts."""
    status = bd.status(wh)
    at_risk = [{"kind": "budget_at_risk", "severity": "info", "scope": b["scope"], "name": b["name"],
                "period": b["period"]} for b in status.filter(pl.col("status") == "at_risk").iter_rows(named=True)]
    return jobs.alerts(wh, budget_status=status) + at_risk


def alert_counts(alerts: list[dict]) -> dict[str, int]:
    """How many alerts of each kind: budget, anomaly, regression, and critical (budgets already over); and the
    budgets at risk (not alerts)."""
    return {"budget": sum(a["kind"] == "budget" for a in alerts),
            "anomaly": sum(a["kind"] == "anomaly" for a in alerts),
            "regression": sum(a["kind"] == "regression" for a in alerts),
            "critical": sum(a["severity"] == "critical" for a in alerts),
            "at_risk": sum(a["kind"] == "budget_at_risk" for a in alerts)}
