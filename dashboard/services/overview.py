"""The Overview page's data: one function per visual, each running one named query.

Spend everywhere is the docs/design.md baseline: the billed cost where the source reports it, else the list cost
from the price catalog. Money comes back as Float64 (exact decimal sums are done in SQL).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from dashboard.services import QueryRunner, money_as_float

# closed mapping: the only time buckets the spend-over-time queries accept (bound as a value, never spliced)
BUCKETS: dict[str, str] = {"Day": "day", "Week": "week", "Month": "month"}
TOP_MODELS_IN_CHART = 8

# the named query behind each visual, for the "SQL behind this" expanders
QUERIES = {
    "month_to_date": "spend_month_to_date",
    "movers": "movers_month_to_date",
    "billed_vs_list_totals": "billed_vs_list_totals",
    "spend_by_provider": "spend_by_provider_over_time",
    "spend_by_model": "spend_by_model_over_time",
    "top_teams": "top_teams",
    "top_models": "top_models",
    "billed_vs_list_by_provider": "billed_vs_list_by_provider",
    "unpriced_models": "unpriced_models",
    "source_coverage": "source_coverage",
    "ingest_quality_in_range": "ingest_quality_in_range",
}


def _bucket(label: str) -> str:
    try:
        return BUCKETS[label]
    except KeyError:
        raise ValueError(f"unknown time bucket {label!r}; choose one of {', '.join(BUCKETS)}") from None


def month_to_date(run: QueryRunner, end: dt.date) -> pl.DataFrame:
    """One row: this month's spend so far, last month's, the month before, and the month-end run-rate.
    "This month" is the month of the latest day with usage on or before `end`."""
    return money_as_float(run(QUERIES["month_to_date"], end=end))


def movers(run: QueryRunner, month_start: dt.date, end: dt.date, prev_start: dt.date, prev_end: dt.date,
           top: int = 5) -> pl.DataFrame:
    """The `top` teams and models whose spend changed most, this month so far vs the same days of last month;
    `change_pct` is null for something new this month."""
    df = money_as_float(run(QUERIES["movers"], month_start=month_start, end=end, prev_start=prev_start,
                            prev_end=prev_end))
    return (df.with_columns(pl.when(pl.col("before_usd") > 0)
                            .then(pl.col("change_usd") / pl.col("before_usd")).otherwise(None).alias("change_pct"))
            .group_by("dimension", maintain_order=True).head(top))


def billed_vs_list_totals(run: QueryRunner, start: dt.date, end: dt.date) -> pl.DataFrame:
    """One row: spend, billed and list cost (also on the usage carrying both), requests, unpriced rows."""
    return money_as_float(run(QUERIES["billed_vs_list_totals"], start=start, end=end))


def spend_by_provider(run: QueryRunner, start: dt.date, end: dt.date, bucket: str = "Week") -> pl.DataFrame:
    """Spend per provider per day/week/month: columns period, provider, spend_usd, requests."""
    return money_as_float(run(QUERIES["spend_by_provider"], start=start, end=end, bucket=_bucket(bucket)))


def spend_by_model(run: QueryRunner, start: dt.date, end: dt.date, bucket: str = "Week",
                   top_n: int = TOP_MODELS_IN_CHART) -> pl.DataFrame:
    """Spend per model per bucket; the `top_n` models by spend in the range, the rest summed as 'other'."""
    return money_as_float(run(QUERIES["spend_by_model"], start=start, end=end, bucket=_bucket(bucket),
                              top_n=int(top_n)))


def top_teams(run: QueryRunner, start: dt.date, end: dt.date, limit: int = 10) -> pl.DataFrame:
    """Teams by spend: team, spend_usd, requests, cost_per_1k_requests, spend_share, models."""
    return money_as_float(run(QUERIES["top_teams"], start=start, end=end, limit=int(limit)))


def top_models(run: QueryRunner, start: dt.date, end: dt.date, limit: int = 10) -> pl.DataFrame:
    """Models by spend: provider, model, spend_usd, requests, cost_per_1k_requests, spend_share, tokens."""
    return money_as_float(run(QUERIES["top_models"], start=start, end=end, limit=int(limit)))


def billed_vs_list_by_provider(run: QueryRunner, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Per provider: billed_usd and list_usd over the same usage, list_only_usd (no bill), spend_usd;
    plus gap_pct = 100 x (billed - list) / list where both exist (negative: billed below list)."""
    df = money_as_float(run(QUERIES["billed_vs_list_by_provider"], start=start, end=end))
    return df.with_columns(
        pl.when(pl.col("list_usd") > 0)
        .then((pl.col("billed_usd") - pl.col("list_usd")) / pl.col("list_usd") * 100)
        .otherwise(None)
        .alias("gap_pct")
    )


def unpriced_models(run: QueryRunner, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Models without a catalog price: provider, model, unpriced_rows, requests, billed_usd, first/last day."""
    return money_as_float(run(QUERIES["unpriced_models"], start=start, end=end))


def data_quality(run: QueryRunner, start: dt.date, end: dt.date) -> dict:
    """Rows flagged or set aside by the loads behind the range: files, rows_warned, rows_rejected,
    rejected_cost_usd (ingest_quality_in_range)."""
    return money_as_float(run(QUERIES["ingest_quality_in_range"], start=start, end=end)).row(0, named=True)


def source_coverage(run: QueryRunner, end: dt.date) -> pl.DataFrame:
    """Per source format: first_day, last_day, row_count of its usage up to `end`, latest last day first."""
    return run(QUERIES["source_coverage"], end=end)


def lagging_sources(coverage: pl.DataFrame, since: dt.date, min_gap_days: int = 2) -> pl.DataFrame:
    """The sources whose data ends inside the window [`since`, latest day - `min_gap_days`]: their usage is
    missing from the latest days, so recent and month-to-date figures understate spend. Sources that ended
    before `since` (an old one-off export) are not reported."""
    if coverage.is_empty():
        return coverage
    latest = coverage["last_day"].max()
    return coverage.filter(pl.col("last_day").is_between(since, latest - dt.timedelta(days=min_gap_days)))


def pct_change(new: float | None, old: float | None) -> float | None:
    """100 x (new - old) / old, or None when there is nothing to compare against."""
    if new is None or not old:
        return None
    return (new - old) / old * 100
