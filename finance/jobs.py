"""The scheduled jobs' functions, for `modelmix report` and `modelmix alerts` (wired in cli/main.py):

    report(wh, month="2026-10", fmt="xlsx", out=Path("ai-spend-2026-10.xlsx")) -> Path
    alerts(wh) -> list[dict]        # budget, anomaly and regression alerts; the command exits 1 when the list is not empty
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import polars as pl

from finance import anomalies, budgets, chargeback, regressions
from finance.periods import default_as_of, parse_month
from warehouse.db import Warehouse
from warehouse.errors import ConfigError

Format = Literal["csv", "xlsx", "focus"]
_EXPORTS = {"csv": chargeback.export_csv, "xlsx": chargeback.export_xlsx}
ANOMALY_DAYS = 7  # anomalies on the last week of the ledger are alerts; older ones are history
REGRESSION_MIN_USD = 1.0  # a regression is an alert once it has cost this much since it started
CAUSES = {"cache": "Cache efficiency", "prompt_tokens": "Token inflation (prompt)",
          "output_tokens": "Token inflation (output)", "price": "Price change"}


def report(wh: Warehouse, month: str, fmt: Format, out: Path,
           rule: chargeback.Allocation | None = None) -> Path:
    """Write the month's chargeback statement (csv | xlsx, unassigned spend allocated by `rule`, default
    proportional to spend) or its FOCUS 1.2 cost-and-usage file (focus) to `out`; return the path."""
    parse_month(month)  # a bad month is a ConfigError before anything is written
    out = Path(out)
    if fmt == "focus":
        return chargeback.export_focus(wh, month, out)
    if fmt not in _EXPORTS:
        raise ConfigError(f"format {fmt!r} is not one of csv, xlsx, focus", title="Invalid report format")
    out.parent.mkdir(parents=True, exist_ok=True)
    return _EXPORTS[fmt](wh, month, out, rule)


def _money(x: float | None) -> str:
    return "n/a" if x is None else f"${x:,.2f}"


def alerts(wh: Warehouse, as_of: dt.date | None = None, days: int = ANOMALY_DAYS,
           budget_status: pl.DataFrame | None = None) -> list[dict]:
    """Open alerts as of the ledger's last day (or `as_of`): budgets already over (`critical`) or forecast to
    end over (`warning`), and spend anomalies per team x model in the last `days` days (`warning`).
    and regressions (cache efficiency, token inflation, price change) still open in those days that have cost
    at least REGRESSION_MIN_USD since they started (`warning`; a price fall is a saving, not an alert).
    Every dict has kind, severity, title, message and the figures behind it (JSON-ready: dates as ISO text).
    `budget_status`: `budgets.status(wh, as_of=as_of)` when the caller has it already (it runs the forecasts)."""
    as_of = as_of or default_as_of(wh)
    if as_of is None:
        return []
    out: list[dict] = []
    status = budgets.status(wh, as_of=as_of) if budget_status is None else budget_status
    for b in status.iter_rows(named=True):
        if b["status"] not in ("over", "forecast_over"):
            continue
        over = b["status"] == "over"
        what = f"{b['scope']} {b['name']} {b['period']} of {b['period_start'].isoformat()}"
        message = (f"spent {_money(b['actual_usd'])} of {_money(b['budget_usd'])}" if over else
                   f"forecast {_money(b['forecast_usd'])} (P10-P90 {_money(b['p10_usd'])}-{_money(b['p90_usd'])}) "
                   f"against {_money(b['budget_usd'])}")
        if b["crossing_date"]:
            message += f"; {'crossed' if over else 'crosses'} on {b['crossing_date'].isoformat()}"
        out.append({
            "kind": "budget", "severity": "critical" if over else "warning",
            "title": f"Budget {'exceeded' if over else 'forecast to be exceeded'}: {what}",
            "message": message, "scope": b["scope"], "name": b["name"], "period": b["period"],
            "period_start": b["period_start"].isoformat(), "budget_usd": b["budget_usd"],
            "actual_usd": b["actual_usd"], "forecast_usd": b["forecast_usd"],
            "crossing_date": b["crossing_date"].isoformat() if b["crossing_date"] else None,
        })
    start = as_of - dt.timedelta(days=days - 1)
    for a in anomalies.detect(wh, start=start, end=as_of).iter_rows(named=True):
        pct = f" (+{a['excess_pct']:.0f}%)" if a["excess_pct"] is not None else " (new spend)"
        drivers = ", ".join(f"{k} {a[f'driver_{k}']}" for k in ("api_key", "project", "token_class")
                            if a.get(f"driver_{k}"))
        out.append({
            "kind": "anomaly", "severity": "warning",
            "title": f"Spend anomaly: {a['team']} on {a['model']}, {a['day'].isoformat()}",
            "message": f"{_money(a['spend_usd'])} against {_money(a['expected_usd'])} expected: "
                       f"{_money(a['excess_usd'])} over{pct}" + (f"; drivers: {drivers}" if drivers else ""),
            "day": a["day"].isoformat(), "team": a["team"], "model": a["model"], "spend_usd": a["spend_usd"],
            "expected_usd": a["expected_usd"], "excess_usd": a["excess_usd"], "excess_pct": a["excess_pct"],
            "driver_api_key": a.get("driver_api_key"), "driver_project": a.get("driver_project"),
            "driver_token_class": a.get("driver_token_class"),
        })
    for r in regressions.detect(wh, start=start, end=as_of).iter_rows(named=True):
        if r["excess_usd"] is None or r["excess_usd"] < REGRESSION_MIN_USD:
            continue
        out.append({
            "kind": "regression", "severity": "warning", "cause": r["kind"],
            "title": f"{CAUSES[r['kind']]}: {r['model']}" + (f", team {r['team']}" if r["team"] else "")
                     + f", since {r['start'].isoformat()}",
            "message": r["message"], "start": r["start"].isoformat(),
            "end": r["end"].isoformat() if r["end"] else None, "ongoing": r["ongoing"],
            "team": r["team"], "workload": r["workload"], "provider": r["provider"], "model": r["model"],
            "api_key": r["api_key"], "before": r["before"], "after": r["after"], "change_pct": r["change_pct"],
            "excess_usd": r["excess_usd"], "detail": r["detail"],
        })
    return out
