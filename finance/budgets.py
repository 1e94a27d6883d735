"""Budgets: monthly or quarterly budgets per team, project or provider, from a YAML/CSV file or the editable
table; actual vs budget vs forecast, the burn-down series and the day the forecast crosses the budget.

File (YAML, a list under `budgets:`; or CSV with these columns):

    budgets:
      - {scope: team, name: finance-ops, period: month, start: 2026-11, amount_usd: 1200}
      - {scope: provider, name: openai, period: quarter, start: 2026-10-01, end: 2027-06-30, amount_usd: 9000}

`start` is the first period (a date on its first day, or `YYYY-MM`); `end` (optional, inclusive) repeats the
same amount for every period up to it. Replacing the budgets rewrites the `budgets` table in one transaction.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Literal

import duckdb
import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from finance import forecast as fc
from finance.periods import add_months, default_as_of, period_bounds
from warehouse import audit
from warehouse.config import read_records, validate_records
from warehouse.db import Warehouse
from warehouse.errors import ConfigError

Scope = Literal["team", "project", "provider"]


class Budget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scope: Scope
    name: str = Field(min_length=1, description="the team / project / provider id as it appears in usage")
    period: Literal["month", "quarter"] = "month"
    start: dt.date = Field(description="first day of the first period (or YYYY-MM)")
    end: dt.date | None = Field(None, description="repeat every period up to this day, inclusive")
    amount_usd: Decimal = Field(ge=0, max_digits=18, decimal_places=6)
    note: str | None = None

    @field_validator("start", "end", mode="before")
    @classmethod
    def _month_text(cls, v):
        if isinstance(v, str) and len(v.strip()) == 7:  # YYYY-MM
            return v.strip() + "-01"
        return v

    @model_validator(mode="after")
    def _aligned(self) -> Budget:
        if period_bounds(self.start, self.period)[0] != self.start:
            raise ValueError(f"start {self.start} is not the first day of a {self.period}")
        if self.end is not None and self.end < self.start:
            raise ValueError("end is before start")
        return self

    def periods(self) -> list[dt.date]:
        step = 1 if self.period == "month" else 3
        out, p = [self.start], self.start
        while self.end is not None and (p := add_months(p, step)) <= self.end:
            out.append(p)
        return out


def load_budgets_file(path: str | Path) -> list[Budget]:
    """Validate a budgets file; an error names the file, the entry (1-based) and the field."""
    path = Path(path)
    return validate_records(path, read_records(path, "budgets"), Budget)


COLUMNS = ("scope", "name", "period", "period_start", "amount_usd", "note")
_DELETE = "delete from budgets"
_INSERT = "insert into budgets (" + ", ".join(COLUMNS) + ") select * from incoming"


def rows(budgets: list[Budget]) -> pl.DataFrame:
    """One row per budget period; two entries for the same scope, name and period are an error naming both."""
    out, seen = [], {}
    for i, b in enumerate(budgets, start=1):
        for start in b.periods():
            k = (b.scope, b.name, b.period, start)
            if k in seen:
                raise ConfigError(f"entries {seen[k]} and {i} both budget {b.scope} {b.name!r} for the "
                                  f"{b.period} starting {start}")
            seen[k] = i
            out.append({"scope": b.scope, "name": b.name, "period": b.period, "period_start": start,
                        "amount_usd": b.amount_usd, "note": b.note})
    schema = {"scope": pl.String, "name": pl.String, "period": pl.String, "period_start": pl.Date,
              "amount_usd": pl.Decimal(18, 6), "note": pl.String}
    return pl.DataFrame(out, schema=schema)


def _replace(cur: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> int:
    cur.execute(_DELETE)
    if frame.height:
        cur.register("incoming", frame.select(COLUMNS).to_arrow())
        cur.execute(_INSERT)
        cur.unregister("incoming")
    audit.record(cur, "budgets_edit", "budgets", {"rows": frame.height})
    return frame.height


def replace_budgets(wh: Warehouse, budgets: list[Budget]) -> int:
    """Replace the whole budgets table (the file or the edited table is the source of truth); returns rows."""
    return wh.write(_replace, rows(budgets))


def load_budgets(wh: Warehouse, path: str | Path) -> int:
    return replace_budgets(wh, load_budgets_file(path))


def budgets(wh: Warehouse) -> pl.DataFrame:
    """The budgets table, one row per period, with its last day."""
    return wh.query("finance_budgets")


def as_entries(frame: pl.DataFrame) -> list[Budget]:
    """The editable table's rows (as `budgets()` returns them, edited) back into validated entries."""
    recs = frame.select("scope", "name", "period", pl.col("period_start").alias("start"), "amount_usd",
                        "note").to_dicts()
    return validate_records(Path("budget table"), recs, Budget)


# --- actual vs budget vs forecast --------------------------------------------------------------------------
_STATUS_SCHEMA = {
    "scope": pl.String, "name": pl.String, "period": pl.String, "period_start": pl.Date, "period_end": pl.Date,
    "as_of": pl.Date, "budget_usd": pl.Float64, "actual_usd": pl.Float64, "forecast_usd": pl.Float64,
    "p10_usd": pl.Float64, "p90_usd": pl.Float64, "variance_usd": pl.Float64, "used_pct": pl.Float64,
    "forecast_pct": pl.Float64, "crossing_date": pl.Date, "status": pl.String,
}


def _status(budget: float, actual: float, point: float, p90: float) -> str:
    if budget <= actual and actual > 0:
        return "over"
    if point > budget:
        return "forecast_over"
    if p90 > budget:
        return "at_risk"
    return "ok"


def _crossing(start: dt.date, daily: np.ndarray, budget: float) -> dt.date | None:
    """The first day whose cumulative spend (actual, then forecast) reaches the budget."""
    cum = np.cumsum(daily)
    # a $0 budget is crossed by the first dollar
    hit = np.nonzero(cum >= budget - 1e-9)[0] if budget > 0 else np.nonzero(cum > 0)[0]
    return start + dt.timedelta(days=int(hit[0])) if hit.size else None


def status(wh: Warehouse, as_of: dt.date | None = None, current_only: bool = True,
           weeks: int = fc.DEFAULT_WEEKS, seed: int = fc.SEED) -> pl.DataFrame:
    """Actual vs budget vs forecast for each budget period that has started by `as_of` (default: the ledger's
    last day); `current_only` keeps the periods holding `as_of`. Past periods have forecast = actual.

    status: `over` (actual reached the budget), `forecast_over` (the forecast ends above it), `at_risk` (the P90
    does), else `ok`. `crossing_date`: the first day the cumulative actual-then-forecast reaches the budget."""
    as_of = as_of or default_as_of(wh)
    table = budgets(wh)
    if as_of is None or table.is_empty():
        return pl.DataFrame(schema=_STATUS_SCHEMA)
    table = table.filter(pl.col("period_start") <= as_of)
    if current_only:
        table = table.filter(pl.col("period_end") >= as_of)
    out = []
    for scope in sorted(table["scope"].unique().to_list()):
        out.extend(_scope_status(wh, scope, table.filter(pl.col("scope") == scope), as_of, weeks, seed))
    return pl.DataFrame(out, schema=_STATUS_SCHEMA).sort("period_start", "scope", "name")


def _scope_series(wh: Warehouse, scope: str, part: pl.DataFrame, as_of: dt.date, weeks: int, seed: int):
    start = min(part["period_start"].min(), as_of - dt.timedelta(days=7 * weeks - 1))
    until = max(part["period_end"].max(), as_of)
    hist = fc.history(wh, scope, start=start, end=as_of)
    proj = fc.project(hist, as_of, until, weeks, seed) if hist.keys else None
    return hist, proj


def _budget_daily(hist, proj, name: str, start: dt.date, end: dt.date, as_of: dt.date):
    """Daily actual (to as_of) + point forecast after it over [start, end]; also the bootstrap paths."""
    n = (end - start).days + 1
    j = hist.keys.index(name) if name in hist.keys else None
    days_actual = max(min((as_of - start).days + 1, n), 0)
    actual = np.zeros(days_actual)
    if j is not None and days_actual:
        i0 = hist.index(start)
        actual = hist.values[i0: i0 + days_actual, j]
    h = n - days_actual
    if j is not None and proj is not None and h:
        offset = (start + dt.timedelta(days=days_actual) - as_of).days - 1
        point = proj.point[offset: offset + h, j]
        paths = proj.paths[:, offset: offset + h, j]
    else:
        point, paths = np.zeros(h), np.zeros((1, h))
    return actual, point, paths


def _scope_status(wh, scope, part, as_of, weeks, seed) -> list[dict]:
    hist, proj = _scope_series(wh, scope, part, as_of, weeks, seed)
    out = []
    for b in part.iter_rows(named=True):
        actual, point, paths = _budget_daily(hist, proj, b["name"], b["period_start"], b["period_end"], as_of)
        a = float(actual.sum())
        rest = paths.sum(axis=1)
        p10, p90 = (np.quantile(rest, [0.1, 0.9]) if rest.size else (0.0, 0.0))
        f = a + float(point.sum())
        budget = float(b["amount_usd"])
        out.append({
            "scope": scope, "name": b["name"], "period": b["period"], "period_start": b["period_start"],
            "period_end": b["period_end"], "as_of": as_of, "budget_usd": budget, "actual_usd": a,
            "forecast_usd": f, "p10_usd": a + float(p10), "p90_usd": a + float(p90),
            "variance_usd": f - budget,
            "used_pct": 100 * a / budget if budget else None,
            "forecast_pct": 100 * f / budget if budget else None,
            "crossing_date": _crossing(b["period_start"], np.concatenate([actual, point]), budget),
            "status": _status(budget, a, f, a + float(p90)),
        })
    return out


def burndown(wh: Warehouse, scope: Scope, name: str, period_start: dt.date, period: str = "month",
             as_of: dt.date | None = None, weeks: int = fc.DEFAULT_WEEKS, seed: int = fc.SEED) -> pl.DataFrame:
    """The burn-down chart of one budget period: per day, cumulative actual (to as_of), cumulative forecast
    with its P10/P90 after it, the budget and what remains of it. One row per day of the period."""
    as_of = as_of or default_as_of(wh)
    start, end = period_bounds(period_start, period)
    table = budgets(wh).filter((pl.col("scope") == scope) & (pl.col("name") == name)
                               & (pl.col("period") == period) & (pl.col("period_start") == start))
    budget = float(table["amount_usd"][0]) if table.height else None
    as_of = min(as_of or start, end)
    part = pl.DataFrame({"period_start": [start], "period_end": [end]})
    hist, proj = _scope_series(wh, scope, part, as_of, weeks, seed)
    actual, point, paths = _budget_daily(hist, proj, name, start, end, as_of)
    base = float(actual.sum())
    cum_actual = np.cumsum(actual)
    cum_paths = base + np.cumsum(paths, axis=1)
    p10, p90 = (np.quantile(cum_paths, [0.1, 0.9], axis=0) if point.size else (np.zeros(0), np.zeros(0)))
    n_a = actual.size
    cum = np.concatenate([cum_actual, base + np.cumsum(point)])
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    return pl.DataFrame({
        "day": days,
        "actual_cum_usd": list(cum_actual) + [None] * point.size,
        "forecast_cum_usd": [None] * n_a + list(cum[n_a:]),
        "p10_cum_usd": [None] * n_a + list(p10),
        "p90_cum_usd": [None] * n_a + list(p90),
        "budget_usd": [budget] * len(days),
        "remaining_usd": [None if budget is None else budget - c for c in cum],
    }, schema={"day": pl.Date, "actual_cum_usd": pl.Float64, "forecast_cum_usd": pl.Float64,
               "p10_cum_usd": pl.Float64, "p90_cum_usd": pl.Float64, "budget_usd": pl.Float64,
               "remaining_usd": pl.Float64})
