"""Reconciliation: what providers billed (`cost_usd`) beside what the catalog says the same usage costs
(`list_cost_usd`, overrides and the batch tier applied), per provider, day, model and token class.

The list price is taken apart so most of a gap between "naive list" and the bill has a name:

    naive list (every prompt token at the input price, standard tier, no contract)
      - cache saving       (cache reads / writes at the catalog's cache prices)
      - negotiated saving  (price_overrides: negotiated prices or discount_pct)
      - batch saving       (service_tier 'batch' at 50%)
      + tier extra         (long-context tier prices; any other catalog-vs-view gap without an override)
      = expected (list_cost_usd)
    billed - expected = residual: flagged when |residual| > max(`abs_usd`, `pct`% of expected).

Rows with no list price are *unpriced*: their billed cost is listed apart (with the model), never compared.
Rows with a list price but no billed cost (gateway logs priced from the catalog) are `list_only_usd`.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from finance.periods import ledger_range
from warehouse.db import Warehouse

ABS_USD = 0.01
PCT = 2.0
_MONEY = ["billed_usd", "expected_usd", "residual_usd", "naive_list_usd", "cache_saving_usd",
          "negotiated_saving_usd", "batch_saving_usd", "tier_extra_usd", "unpriced_billed_usd", "list_only_usd"]


def _range(wh: Warehouse, start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    first, last = ledger_range(wh)
    return start or first or dt.date(1970, 1, 1), end or last or dt.date(1970, 1, 1)


def _flag(frame: pl.DataFrame, abs_usd: float, pct: float) -> pl.DataFrame:
    money = frame.with_columns([pl.col(c).cast(pl.Float64) for c in _MONEY])
    return money.with_columns(
        residual_pct=pl.when(pl.col("expected_usd") > 0)
        .then(100 * pl.col("residual_usd") / pl.col("expected_usd")).otherwise(None),
        explained_usd=pl.col("naive_list_usd") - pl.col("expected_usd"),
    ).with_columns(
        flagged=(pl.col("residual_usd").abs() > pl.max_horizontal(
            pl.lit(abs_usd), pct / 100 * pl.col("expected_usd").abs())),
    )


def raw_detail(wh: Warehouse, start: dt.date | None = None, end: dt.date | None = None) -> pl.DataFrame:
    """The query's rows (day x provider x model x source) before flags: what thresholds are applied to."""
    start, end = _range(wh, start, end)
    return wh.query("finance_reconcile_detail", start=start, end=end)


def flag(raw: pl.DataFrame, abs_usd: float = ABS_USD, pct: float = PCT) -> pl.DataFrame:
    """`raw_detail` with money as floats, residual %, explained and the flag under these thresholds."""
    return _flag(raw, abs_usd, pct)


def detail(wh: Warehouse, start: dt.date | None = None, end: dt.date | None = None, abs_usd: float = ABS_USD,
           pct: float = PCT) -> pl.DataFrame:
    """One row per day x provider x model x source: billed, expected, the explained parts, residual, flag."""
    return _flag(raw_detail(wh, start, end), abs_usd, pct)


def provider_table(d: pl.DataFrame, abs_usd: float = ABS_USD, pct: float = PCT) -> pl.DataFrame:
    """`by_provider` of a flagged detail."""
    agg = d.group_by("provider").agg(*[pl.col(c).sum() for c in _MONEY],
                                     pl.col("flagged").sum().alias("flagged_days"))
    return _flag(agg, abs_usd, pct).sort("billed_usd", descending=True)


def by_provider(wh: Warehouse, start: dt.date | None = None, end: dt.date | None = None,
                abs_usd: float = ABS_USD, pct: float = PCT) -> pl.DataFrame:
    """The waterfall per provider over the range (the reconciliation table), flags re-applied to the sums."""
    return provider_table(detail(wh, start, end, abs_usd, pct), abs_usd, pct)


def summarise(d: pl.DataFrame) -> dict[str, float]:
    """`summary` of a flagged detail."""
    out = {c: float(d[c].sum()) for c in _MONEY}
    out["flagged_rows"] = int(d["flagged"].sum())
    out["flagged_residual_usd"] = float(d.filter(pl.col("flagged"))["residual_usd"].sum())
    return out


def summary(wh: Warehouse, start: dt.date | None = None, end: dt.date | None = None,
            abs_usd: float = ABS_USD, pct: float = PCT) -> dict[str, float]:
    """The whole range's waterfall as numbers (naive list -> expected -> billed), plus flagged rows."""
    return summarise(detail(wh, start, end, abs_usd, pct))


def flagged_rows(d: pl.DataFrame) -> pl.DataFrame:
    """`flagged` of a flagged detail."""
    return d.filter(pl.col("flagged")).sort(pl.col("residual_usd").abs(), descending=True)


def flagged(wh: Warehouse, start: dt.date | None = None, end: dt.date | None = None,
            abs_usd: float = ABS_USD, pct: float = PCT) -> pl.DataFrame:
    """The unexplained gaps: flagged rows, largest absolute residual first."""
    return flagged_rows(detail(wh, start, end, abs_usd, pct))


def token_classes(wh: Warehouse, start: dt.date | None = None, end: dt.date | None = None) -> pl.DataFrame:
    """Tokens, list cost and billed cost (shared out by list cost) per day x provider x model x token class."""
    start, end = _range(wh, start, end)
    return wh.query("finance_reconcile_token_classes", start=start, end=end)


def unpriced(wh: Warehouse, start: dt.date | None = None, end: dt.date | None = None) -> pl.DataFrame:
    """Models without a list price, with their rows, requests and billed spend (fix: an override or alias)."""
    start, end = _range(wh, start, end)
    return wh.query("unpriced_models", start=start, end=end)
