"""Chargeback / showback: a monthly statement per team, unassigned spend shared out by a rule, and the
downloads (CSV, Excel, FOCUS 1.2).

Allocation rules for the spend of team `unassigned` (no attribution rule matched):
- `proportional`: in proportion to each assigned team's direct spend that month (`basis: spend`), or its
  requests or tokens (`basis: requests | tokens`);
- `fixed`: a given split, team -> share, shares summing to 1;
- `team`: all of it to one named team;
- `none`: left as its own line (showback).
Amounts are split per line (project x provider x model) in exact decimals to the micro-dollar, with the
rounding remainder on the largest share, so the statement's total always equals the month's spend.

Exports: CSV and Excel neutralise every text cell that a spreadsheet would run as a formula (starting with
= + - @ tab or CR) by prefixing a single quote (`warehouse.spreadsheet`, the one rule every export uses). The FOCUS file is a data contract read by FinOps tools, so its
values are written as they are (it carries no allocation: costs as incurred, team in Tags).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from finance.periods import add_months, ledger_range, parse_month
from warehouse.db import Warehouse
from warehouse.errors import ConfigError
from warehouse.spreadsheet import neutralise, neutralise_frame

UNASSIGNED = "unassigned"
MICRO = Decimal("0.000001")


class Allocation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: Literal["proportional", "fixed", "team", "none"] = "proportional"
    basis: Literal["spend", "requests", "tokens"] = Field("spend", description="proportional: share by this")
    split: dict[str, float] | None = Field(None, description="fixed: team -> share (sum 1)")
    team: str | None = Field(None, description="team: the team that takes all unassigned spend")

    @model_validator(mode="after")
    def _complete(self) -> Allocation:
        if self.rule == "fixed":
            if not self.split:
                raise ValueError("rule 'fixed' needs `split` (team -> share)")
            if any(v < 0 for v in self.split.values()):
                raise ValueError("split shares must be >= 0")
            if abs(sum(self.split.values()) - 1) > 1e-9:
                raise ValueError(f"split shares sum to {sum(self.split.values()):g}, not 1")
            if UNASSIGNED in self.split:
                raise ValueError(f"split cannot give a share back to {UNASSIGNED!r}")
        if self.rule == "team" and not self.team:
            raise ValueError("rule 'team' needs `team`")
        return self


def allocation(**kwargs) -> Allocation:
    """An Allocation from keyword values, errors as ConfigError naming the field."""
    try:
        return Allocation(**kwargs)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "allocation"
        raise ConfigError(f"{where}: {err['msg']}", title="Invalid allocation rule") from e


def _split(amount: Decimal, weights: dict[str, Decimal]) -> dict[str, Decimal]:
    """`amount` shared by `weights` to the micro-dollar; the remainder goes to the largest weight."""
    total = sum(weights.values())
    if total <= 0 or not weights:
        return {}
    parts = {k: (amount * w / total).quantize(MICRO, rounding=ROUND_DOWN) for k, w in weights.items()}
    largest = max(weights, key=lambda k: (weights[k], k))
    parts[largest] += amount - sum(parts.values())
    return parts


def lines(wh: Warehouse, month: str, rule: Allocation | None = None) -> pl.DataFrame:
    """The statement's lines: direct spend per team x project x provider x model, plus the allocated parts of
    unassigned lines (`kind` = direct | allocated, `from_team` = unassigned for allocated lines)."""
    rule = rule or Allocation()
    start, end = parse_month(month)
    raw = wh.query("finance_chargeback_lines", month_start=start, month_end=end)
    direct = raw.filter(pl.col("team") != UNASSIGNED)
    unassigned = raw.filter(pl.col("team") == UNASSIGNED)
    weights = _weights(direct, rule)
    out = [{**r, "kind": "direct", "from_team": None} for r in direct.iter_rows(named=True)]
    for r in unassigned.iter_rows(named=True):
        parts = _split(r["spend_usd"], weights) if weights else {}
        if not parts:
            out.append({**r, "kind": "direct", "from_team": None})
            continue
        for team, amount in parts.items():
            share = float(weights[team] / sum(weights.values()))
            out.append({**r, "team": team, "spend_usd": amount, "requests": None, "tokens": None,
                        "kind": "allocated", "from_team": UNASSIGNED, "share": share})
    schema = {"month": pl.String, "team": pl.String, "kind": pl.String, "from_team": pl.String,
              "project": pl.String, "provider": pl.String, "model": pl.String, "spend_usd": pl.Decimal(18, 6),
              "requests": pl.Int64, "tokens": pl.Int64}
    rows = [{k: (month if k == "month" else r.get(k)) for k in schema} for r in out]
    return pl.DataFrame(rows, schema=schema).sort("team", "kind", "project", "provider", "model")


def _weights(direct: pl.DataFrame, rule: Allocation) -> dict[str, Decimal]:
    if rule.rule == "none":
        return {}
    if rule.rule == "team":
        return {rule.team: Decimal(1)}
    if rule.rule == "fixed":
        return {t: Decimal(str(s)) for t, s in rule.split.items() if s > 0}
    col = {"spend": "spend_usd", "requests": "requests", "tokens": "tokens"}[rule.basis]
    by_team = direct.group_by("team").agg(pl.col(col).sum())
    return {r["team"]: Decimal(str(r[col])) for r in by_team.iter_rows(named=True) if r[col] and r[col] > 0}


def statement(wh: Warehouse, month: str, rule: Allocation | None = None) -> pl.DataFrame:
    """The monthly statement: per team, direct spend, allocated share of unassigned spend, total and % of the
    month. One row per team (`unassigned` remains only when the rule leaves it, e.g. `none`)."""
    ln = lines(wh, month, rule)
    schema = {"month": pl.String, "team": pl.String, "direct_usd": pl.Decimal(18, 6),
              "allocated_usd": pl.Decimal(18, 6), "total_usd": pl.Decimal(18, 6), "share_pct": pl.Float64,
              "requests": pl.Int64, "tokens": pl.Int64}
    if ln.is_empty():
        return pl.DataFrame(schema=schema)
    agg = ln.group_by("team").agg(
        pl.col("spend_usd").filter(pl.col("kind") == "direct").sum().alias("direct_usd"),
        pl.col("spend_usd").filter(pl.col("kind") == "allocated").sum().alias("allocated_usd"),
        pl.col("spend_usd").sum().alias("total_usd"),
        pl.col("requests").sum(), pl.col("tokens").sum(),
    )
    grand = agg["total_usd"].sum()
    return (agg.with_columns(month=pl.lit(month),
                             share_pct=(100 * pl.col("total_usd").cast(pl.Float64) / float(grand))
                             if grand else pl.lit(None, dtype=pl.Float64))
            .select(list(schema)).cast(schema).sort("total_usd", descending=True))


# --- exports -----------------------------------------------------------------------------------------------
def export_csv(wh: Warehouse, month: str, out: str | Path, rule: Allocation | None = None) -> Path:
    """The statement's lines as CSV (text cells neutralised)."""
    out = Path(out)
    neutralise_frame(lines(wh, month, rule)).write_csv(out)
    return out


def export_xlsx(wh: Warehouse, month: str, out: str | Path, rule: Allocation | None = None) -> Path:
    """An Excel workbook: sheet Statement (per team) and sheet Lines; text cells neutralised, numbers typed."""
    import xlsxwriter

    out = Path(out)
    wb = xlsxwriter.Workbook(str(out), {"strings_to_formulas": False, "strings_to_numbers": False,
                                        "strings_to_urls": False})
    money = wb.add_format({"num_format": "#,##0.000000"})
    bold = wb.add_format({"bold": True})
    for name, frame in (("Statement", statement(wh, month, rule)), ("Lines", lines(wh, month, rule))):
        ws = wb.add_worksheet(name)
        for j, col in enumerate(frame.columns):
            ws.write_string(0, j, neutralise(col), bold)
        for i, row in enumerate(frame.iter_rows(), start=1):
            for j, v in enumerate(row):
                if v is None:
                    ws.write_blank(i, j, None)
                elif isinstance(v, (int, float, Decimal)) and not isinstance(v, bool):
                    ws.write_number(i, j, float(v), money if isinstance(v, Decimal) else None)
                else:
                    ws.write_string(i, j, neutralise(str(v)))
        ws.set_column(0, max(frame.width - 1, 0), 18)
    wb.close()
    return out


def focus_rows(wh: Warehouse, month: str) -> pl.DataFrame:
    """The month's FOCUS Cost and Usage rows, 1.2 columns with the 1.5 draft's AI properties, one per token class
    (see sql/queries/finance_focus_cost_usage.sql)."""
    start, end = parse_month(month)
    return wh.query("finance_focus_cost_usage", month_start=start, month_end=end)


def export_focus(wh: Warehouse, month: str, out: str | Path) -> Path:
    """A FOCUS 1.2 Cost and Usage CSV: nulls as empty fields, decimals in plain notation."""
    out = Path(out)
    focus_rows(wh, month).write_csv(out, null_value="")
    return out


def months(wh: Warehouse) -> list[str]:
    """Months with usage, newest first (for a month picker)."""
    first, last = ledger_range(wh)
    if first is None:
        return []
    out, m = [], last.replace(day=1)
    while m >= first.replace(day=1):
        out.append(m.strftime("%Y-%m"))
        m = add_months(m, -1)
    return out


__all__ = ["Allocation", "allocation", "lines", "statement", "export_csv", "export_xlsx", "export_focus",
           "focus_rows", "months"]
