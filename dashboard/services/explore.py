"""The Explore page's data: spend grouped by one chosen dimension, filtered, over time, with unit economics,
and the raw rows behind one group. One function per visual, each running one named query.

The dimension to group by is picked from a closed mapping (`DIMENSIONS`) and bound as a value that the SQL
matches against a fixed list of columns; no widget string ever becomes SQL text. Filters are bound the same
way: one list of allowed values per dimension (an empty list keeps every row). Money comes back as Float64.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import polars as pl

from dashboard.services import QueryRunner, money_as_float

# closed mapping: the only columns Explore may group or filter by -> the label users see
DIMENSIONS: dict[str, str] = {
    "provider": "Provider",
    "model": "Model",
    "team": "Team",
    "project": "Project",
    "api_key": "API key",
    "user_id": "User",
    "workload": "Workload",
    "operation": "Operation",
    "service_tier": "Service tier",
}
# closed mapping: time grain label -> the bucket the queries bind
GRAINS: dict[str, str] = {"Day": "day", "Week": "week", "Month": "month"}
NONE_VALUE = "(none)"          # how the queries label a missing value (no project, key, user)
TOP_GROUPS_IN_CHART = 10
TABLE_LIMIT = 500
DRILL_LIMIT = 1_000

QUERIES = {
    "options": "explore_filter_options",
    "trend": "explore_trend",
    "breakdown": "explore_breakdown",
    "rows": "explore_rows",
}


def dimension(name: str) -> str:
    """`name` if it is an allowed dimension; anything else is refused (it would never reach SQL anyway)."""
    if name not in DIMENSIONS:
        raise ValueError(f"unknown dimension {name!r}; choose one of {', '.join(DIMENSIONS)}")
    return name


def grain(label: str) -> str:
    try:
        return GRAINS[label]
    except KeyError:
        raise ValueError(f"unknown time grain {label!r}; choose one of {', '.join(GRAINS)}") from None


def filters_param(filters: Mapping[str, Iterable[str]] | None = None) -> dict[str, list[str]]:
    """The `$filters` struct the queries bind: every dimension present, each a sorted list of kept values
    (empty = no filter). Unknown dimensions are refused."""
    out: dict[str, list[str]] = {d: [] for d in DIMENSIONS}
    for name, values in (filters or {}).items():
        out[dimension(name)] = sorted({str(v) for v in values})
    return out


# the dimensions only usage_daily holds; grouped or filtered by anything else, Explore reads spend_daily
FINE_DIMENSIONS = ("api_key", "user_id")


def coarse(by: str, filters: Mapping[str, Iterable[str]] | None) -> bool:
    """Whether a grouping by `by` with `filters` can read `spend_daily` (no user or key in it): the same figures
    from a thousandth of the rows at 100 M request rows (the queries' `$coarse`, docs/benchmarks.md)."""
    bound = filters_param(filters)
    return dimension(by) not in FINE_DIMENSIONS and not any(bound[d] for d in FINE_DIMENSIONS)


# the dimensions people_monthly holds: grouped and filtered by these alone, the breakdown reads it
PEOPLE_DIMENSIONS = ("team", "user_id", "api_key")


def people(by: str, filters: Mapping[str, Iterable[str]] | None) -> bool:
    """Whether a breakdown by `by` with `filters` that cannot read `spend_daily` can read `people_monthly` (per
    month, team, user and key): grouped and filtered by team, user or key alone. At 100 M request rows that is a
    whole year of 51.8 k users from ≈ 13 times fewer rows than `usage_daily` (the query's `$people`)."""
    bound = filters_param(filters)
    return (not coarse(by, filters) and by in PEOPLE_DIMENSIONS
            and not any(v for d, v in bound.items() if d not in PEOPLE_DIMENSIONS))


def active_filters(filters: Mapping[str, Iterable[str]] | None) -> dict[str, list[str]]:
    """Only the dimensions that actually filter, for captions."""
    return {d: v for d, v in filters_param(filters).items() if v}


def filter_options(run: QueryRunner, start: dt.date, end: dt.date) -> dict[str, list[str]]:
    """For each dimension, the values it takes in the range, highest spend first."""
    df = run(QUERIES["options"], start=start, end=end)
    out: dict[str, list[str]] = {d: [] for d in DIMENSIONS}
    for d, values in df.group_by("dimension", maintain_order=True).agg(pl.col("value")).iter_rows():
        if d in out:
            out[d] = list(values)
    return out


def trend(run: QueryRunner, start: dt.date, end: dt.date, by: str, grain_label: str = "Week",
          filters: Mapping[str, Iterable[str]] | None = None, top_n: int = TOP_GROUPS_IN_CHART) -> pl.DataFrame:
    """Spend per period per group (the `top_n` groups by spend, the rest as 'other'):
    columns period, group_value, spend_rank, spend_usd, requests."""
    return money_as_float(run(QUERIES["trend"], start=start, end=end, bucket=grain(grain_label),
                              dimension=dimension(by), filters=filters_param(filters), top_n=int(top_n),
                              coarse=coarse(by, filters)))


def breakdown(run: QueryRunner, start: dt.date, end: dt.date, by: str,
              filters: Mapping[str, Iterable[str]] | None = None, limit: int = TABLE_LIMIT) -> pl.DataFrame:
    """One row per group, highest spend first: group_value, spend_usd, spend_share, requests, cost_per_request,
    prompt_tokens, output_tokens, cost_per_1m_tokens, cache_share, row_count, unpriced_rows."""
    return money_as_float(run(QUERIES["breakdown"], start=start, end=end, dimension=dimension(by),
                              filters=filters_param(filters), limit=int(limit), coarse=coarse(by, filters),
                              people=people(by, filters)))


def rows(run: QueryRunner, start: dt.date, end: dt.date, by: str, group_value: str,
         filters: Mapping[str, Iterable[str]] | None = None, limit: int = DRILL_LIMIT) -> pl.DataFrame:
    """The raw usage rows of one group (newest first, at most `limit`)."""
    return money_as_float(run(QUERIES["rows"], start=start, end=end, dimension=dimension(by),
                              group_value=str(group_value), filters=filters_param(filters), limit=int(limit)))


def table_for_export(df: pl.DataFrame, by: str) -> pl.DataFrame:
    """The breakdown with the column names a finance reader sees (for CSV and Excel downloads)."""
    return df.select(
        pl.col("group_value").alias(DIMENSIONS[dimension(by)]),
        pl.col("spend_usd").alias("Spend (USD)"),
        pl.col("spend_share").alias("Share of spend"),
        pl.col("requests").alias("Requests"),
        pl.col("cost_per_request").alias("Cost per request (USD)"),
        pl.col("prompt_tokens").alias("Input tokens (incl. cache)"),
        pl.col("output_tokens").alias("Output tokens"),
        pl.col("cost_per_1m_tokens").alias("Cost per 1M tokens (USD)"),
        pl.col("cache_share").alias("Cache share"),
        pl.col("row_count").alias("Ledger rows"),
    )
