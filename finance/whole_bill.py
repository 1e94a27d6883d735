"""The whole AI bill: seats and subscriptions beside token spend, and self-hosted inference priced from its cost.

Seats and subscriptions (migration 012), a YAML file (a list under `subscriptions:`) or a CSV with these columns:

    subscriptions:
      - {vendor: OpenAI, product: ChatGPT Enterprise, team: research, seats: 40, price_per_seat_usd: 60,
         period: month, start: 2026-01-01}
      - {vendor: GitHub, product: Copilot Business, team: platform, seats: 25, price_per_seat_usd: 228,
         period: year, start: 2026-01, end: 2026-12-31, note: annual}

`period` is what the price is per (a seat per `month` or per `year`); the cost is spread per day over the days of
each month (or year), from `start` through `end` (inclusive; open when absent). `bill(wh, start, end)` puts it
beside token spend per team and month, with active users where a usage source names users.

Self-hosted inference (migration 013), a YAML file (a list under `self_hosted:`) or a CSV:

    self_hosted:
      - {model: llama-70b-selfhosted, start: 2026-10-01, end: 2026-10-31, gpu_hours: 1488, usd_per_gpu_hour: 2.10}
      - {provider: internal, model: llama-70b-selfhosted, start: 2026-11, amount_usd: 3100, note: reserved nodes}

A line is GPU-hours x a rate, or a flat `amount_usd` (or both, added); `start`/`end` bound the period it pays for
(`YYYY-MM` alone means that whole month). At every write the ledger turns each period into an effective USD per
1M tokens from the tokens it logged for that provider and model (`self_hosted_rates`), and prices those rows with
it, so the internal provider has a list cost in every view, reconciles against its cost file (`reconcile`), and
can be a What-if target (`target`; a scenario names it `to: self-hosted:<model>`). Periods of one provider and
model must not overlap; a user price override for the same provider and model wins over the derived rate, in the
ledger and in the What-if target alike (both read `price_overrides_effective`: query `self_hosted_prices`).
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Literal

import duckdb
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from warehouse import audit, ledger
from warehouse.config import read_records, validate_records
from warehouse.db import Warehouse
from warehouse.errors import ConfigError


def _month_start(v):
    if isinstance(v, str) and len(v.strip()) == 7:  # YYYY-MM
        return v.strip() + "-01"
    return v


class Subscription(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vendor: str = Field(min_length=1)
    product: str = Field(min_length=1)
    team: str = Field(min_length=1, description="the team it is charged to, as it appears in usage")
    seats: int = Field(ge=0)
    price_per_seat_usd: Decimal = Field(ge=0, max_digits=18, decimal_places=6)
    period: Literal["month", "year"] = "month"
    start: dt.date
    end: dt.date | None = None
    note: str | None = None

    @field_validator("start", mode="before")
    @classmethod
    def _month_first(cls, v):
        return _month_start(v)

    @field_validator("end", mode="before")
    @classmethod
    def _month_end(cls, v):
        if isinstance(v, str) and len(v.strip()) == 7:
            y, m = map(int, v.strip().split("-"))
            return dt.date(y, m, calendar.monthrange(y, m)[1])
        return v

    @model_validator(mode="after")
    def _ordered(self) -> Subscription:
        if self.end is not None and self.end < self.start:
            raise ValueError("end is before start")
        return self


class SelfHostedCost(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str = Field("internal", min_length=1)
    model: str = Field(min_length=1, description="the model id as usage shows it")
    start: dt.date
    end: dt.date | None = Field(None, description="inclusive; absent with a YYYY-MM start: that month's last day")
    gpu_hours: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=4)
    usd_per_gpu_hour: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=6)
    amount_usd: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=6)
    note: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _whole_month(cls, data):
        if isinstance(data, dict) and isinstance(data.get("start"), str) and len(data["start"].strip()) == 7:
            y, m = map(int, data["start"].strip().split("-"))
            data = {**data, "start": dt.date(y, m, 1)}
            data.setdefault("end", dt.date(y, m, calendar.monthrange(y, m)[1]))
        return data

    @model_validator(mode="after")
    def _complete(self) -> SelfHostedCost:
        if self.end is None:
            raise ValueError("give `end` (or a YYYY-MM `start` for a whole month)")
        if self.end < self.start:
            raise ValueError("end is before start")
        if self.amount_usd is None and (self.gpu_hours is None or self.usd_per_gpu_hour is None):
            raise ValueError("give gpu_hours and usd_per_gpu_hour, or amount_usd")
        if (self.gpu_hours is None) != (self.usd_per_gpu_hour is None):
            raise ValueError("gpu_hours and usd_per_gpu_hour go together")
        return self


def load_subscriptions_file(path: str | Path) -> list[Subscription]:
    """Validate a seats/subscriptions file; an error names the file, the entry (1-based) and the field."""
    path = Path(path)
    return validate_records(path, read_records(path, "subscriptions"), Subscription)


def load_self_hosted_file(path: str | Path) -> list[SelfHostedCost]:
    """Validate a self-hosted cost file; overlapping periods of one provider and model are refused, naming both."""
    path = Path(path)
    entries = validate_records(path, read_records(path, "self_hosted"), SelfHostedCost)
    check_overlaps(entries, str(path))
    return entries


def check_overlaps(entries: list[SelfHostedCost], where: str) -> None:
    """Two lines of one provider and model whose periods overlap would price the same tokens twice, unless they
    cover exactly the same period (then their costs add up)."""
    by_key: dict[tuple[str, str], list[tuple[int, SelfHostedCost]]] = {}
    for i, e in enumerate(entries, start=1):
        by_key.setdefault((e.provider, e.model), []).append((i, e))
    for (provider, model), lines in by_key.items():
        lines.sort(key=lambda x: x[1].start)
        for (i, a), (j, b) in zip(lines, lines[1:]):
            if b.start <= a.end and (a.start, a.end) != (b.start, b.end):
                raise ConfigError(f"{where}: entries {i} and {j} ({provider}/{model}) cover overlapping periods "
                                  f"({a.start}..{a.end} and {b.start}..{b.end}); split the cost by period")


SUBSCRIPTION_COLUMNS = ("vendor", "product", "team", "seats", "price_per_seat_usd", "period", "start_date",
                        "end_date", "note")
SELF_HOSTED_COLUMNS = ("provider", "model", "start_date", "end_date", "gpu_hours", "usd_per_gpu_hour", "amount_usd",
                       "note")
# the statements, built once from these fixed names (no caller text reaches them)
_STATEMENTS = {
    "subscriptions": ("delete from subscriptions", "insert into subscriptions (" + ", ".join(SUBSCRIPTION_COLUMNS)
                      + ") select * from incoming", SUBSCRIPTION_COLUMNS, "subscriptions_edit"),
    "self_hosted_costs": ("delete from self_hosted_costs", "insert into self_hosted_costs ("
                          + ", ".join(SELF_HOSTED_COLUMNS) + ") select * from incoming", SELF_HOSTED_COLUMNS,
                          "self_hosted_edit"),
}


def _frame(entries: list[BaseModel], columns: tuple[str, ...]) -> pl.DataFrame:
    recs = [{**e.model_dump(), "start_date": e.start, "end_date": e.end} for e in entries]
    return pl.DataFrame(recs, infer_schema_length=None).select(columns) if recs else pl.DataFrame()


def _replace(cur: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> int:
    delete, insert, _, action = _STATEMENTS[table]
    cur.execute(delete)
    if frame.height:
        cur.register("incoming", frame.to_arrow())
        cur.execute(insert)
        cur.unregister("incoming")
    if table == "self_hosted_costs":
        ledger.refresh_derived(cur)      # the rates price every view: rebuild them and the rollup
    audit.record(cur, action, table, {"rows": frame.height})
    return frame.height


def replace_subscriptions(wh: Warehouse, entries: list[Subscription]) -> int:
    """Replace the whole subscriptions table in one write transaction; returns the rows written."""
    return wh.write(_replace, "subscriptions", _frame(entries, SUBSCRIPTION_COLUMNS))


def replace_subscription_lines(wh: Warehouse, lines: pl.DataFrame) -> int:
    """Replace the whole subscriptions table with checked lines (columns SUBSCRIPTION_COLUMNS, e.g. a vendor's
    seat export read by finance.seat_export.load) in one write transaction; returns the rows written."""
    return wh.write(_replace, "subscriptions", lines.select(SUBSCRIPTION_COLUMNS))


def replace_self_hosted(wh: Warehouse, entries: list[SelfHostedCost]) -> int:
    """Replace the self-hosted costs, derive their rates and re-price the ledger, in one write transaction."""
    check_overlaps(entries, "self-hosted costs")
    return wh.write(_replace, "self_hosted_costs", _frame(entries, SELF_HOSTED_COLUMNS))


def subscriptions(wh: Warehouse) -> pl.DataFrame:
    """The subscriptions as entered, with each line's monthly cost."""
    return wh.query("finance_subscriptions")


def self_hosted_costs(wh: Warehouse) -> pl.DataFrame:
    """The self-hosted cost lines as entered, with each line's cost."""
    return wh.query("finance_self_hosted_costs")


def subscription_daily(wh: Warehouse, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Seats and subscriptions spread per day x vendor x product x team over [start, end]."""
    return wh.query("finance_subscription_daily", start=start, end=end)


def bill(wh: Warehouse, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Per month x team: token spend, seats and subscriptions, total, seats held, active users and cost per
    active user (null where no usage source names users)."""
    return wh.query("finance_whole_bill_monthly", start=start, end=end)


def reconcile(wh: Warehouse) -> pl.DataFrame:
    """Each self-hosted cost period: cost, tokens, effective $/1M, what the ledger priced, and the residual."""
    return wh.query("finance_self_hosted_reconcile")


def targets(wh: Warehouse, on: dt.date | None = None) -> list[dict]:
    """Every self-hosted model with a priced period, as What-if targets at the price the ledger gives it: per
    provider and model, the period holding `on`, else its latest period with tokens, priced on `on` (when that
    period holds it) else on the period's last day, as query `self_hosted_prices` says: a user price override of
    the model wins over its cost file's rate, as everywhere in the ledger (one definition of a price). A model the
    ledger leaves unpriced on that day (an override that does not cover it) is not a target. Each entry: provider,
    model, start_date, end_date, usd_per_mtok (the cost file's rate, float), priced_by ('cost file' | 'price
    override'), prices (USD per 1M tokens per class) and `to` (a scenario `to:` target: the model with those
    prices, since the simulator's catalog does not know it). In provider, model order."""
    rates = reconcile(wh).filter(pl.col("usd_per_mtok").is_not_null())
    holds = (pl.col("start_date") <= on) & (pl.col("end_date") >= on) if on else pl.lit(False)
    # within a model: a period holding `on` sorts last, else the latest period does
    chosen = (rates.with_columns(holds.alias("holds")).sort("provider", "model", "holds", "start_date")
              .group_by("provider", "model", maintain_order=True).last()
              .with_columns(pl.when(pl.col("holds")).then(pl.lit(on)).otherwise(pl.col("end_date")).alias("priced_on")))
    prices = wh.query("self_hosted_prices", provider=None, model=None).with_columns(
        pl.col("valid_from").dt.date().alias("from_day"), pl.col("valid_to").dt.date().alias("to_day"))
    # the interval holding the day each model is priced on (valid_to exclusive)
    priced = (chosen.join(prices, on=["provider", "model"], how="inner")
              .filter((pl.col("from_day") <= pl.col("priced_on")) & (pl.col("priced_on") < pl.col("to_day")))
              .sort("provider", "model"))
    out = []
    for r in priced.iter_rows(named=True):
        classes = {"input": r["p_in"], "output": r["p_out"], "cache_read": r["p_cr"], "cache_write": r["p_cw"]}
        out.append({"provider": r["provider"], "model": r["model"], "start_date": r["start_date"],
                    "end_date": r["end_date"], "usd_per_mtok": float(r["usd_per_mtok"]), "priced_by": r["priced_by"],
                    "prices": classes,
                    "to": {"model": r["model"], "name": f"{r['model']} (self-hosted)", "prices": dict(classes)}})
    return out


def target(wh: Warehouse, model: str, provider: str = "internal", on: dt.date | None = None) -> dict:
    """A What-if `to:` target for one self-hosted model at its effective rate (as `targets` picks the period).
    Raises ConfigError when the model has no priced period."""
    found = [t["to"] for t in targets(wh, on) if (t["provider"], t["model"]) == (provider, model)]
    if not found:
        raise ConfigError(f"{provider}/{model} has no self-hosted cost period with logged tokens; load its cost "
                          "file (modelmix self-hosted FILE) and its usage first", title="No self-hosted rate")
    return found[0]


__all__ = ["SelfHostedCost", "Subscription", "bill", "check_overlaps", "load_self_hosted_file",
           "load_subscriptions_file", "reconcile", "replace_self_hosted", "replace_subscriptions",
           "self_hosted_costs", "subscription_daily", "subscriptions", "target", "targets"]
