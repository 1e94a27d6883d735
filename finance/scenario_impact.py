"""Scenario impact per team: each team's month- and quarter-end forecast and budget variance under a saved
scenario, next to today's mix.

Method: replay the scenario over the forecast's fit window (the last `weeks` weeks up to the as-of day; the
scenario's own period is replaced, its scope and policies kept) and take, per team, the ratio scenario cost /
baseline cost from `Result.by("team")` (`simulate.team_costs.by_team` reads the same figures as groups, without
the replay's per-row sort, for the scenarios it can). The scenario is assumed to start the day after the as-of
day: the team's forecast of the rest of the period (point and band) is scaled by its ratio; spend already
incurred is not. A team outside the scenario's scope keeps ratio 1.

Limits: the ratio is the replay's, whose baseline reads `usage_replay` (one source per provider-day, the most
detailed), while the forecast reads counted spend (`usage_daily.spend_usd`); where those sources differ the
ratio, not the dollar saving, is carried over. Growth is assumed to keep the team's current mix.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

import simulate
from finance import budgets as bd
from finance import forecast as fc
from finance.periods import default_as_of
from simulate import team_costs
from simulate.scenario import Period
from warehouse.db import Warehouse

_SCHEMA = {
    "team": pl.String, "period": pl.String, "period_start": pl.Date, "period_end": pl.Date, "as_of": pl.Date,
    "ratio": pl.Float64, "actual_to_date_usd": pl.Float64, "forecast_today_usd": pl.Float64,
    "forecast_scenario_usd": pl.Float64, "p10_scenario_usd": pl.Float64, "p90_scenario_usd": pl.Float64,
    "savings_usd": pl.Float64, "budget_usd": pl.Float64, "variance_today_usd": pl.Float64,
    "variance_scenario_usd": pl.Float64,
}


def team_ratios(wh: Warehouse, scenario: simulate.Scenario, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Per team: baseline and scenario cost of the replay over [start, end] and their ratio. Read as groups
    (simulate/team_costs.py: the same figures, without the replay's per-row sort) when the scenario allows it,
    else from the replay itself."""
    scenario = scenario.model_copy(update={"period": Period(start=start, end=end)})
    by = team_costs.by_team(wh, scenario)
    if by is None:
        by = simulate.run(wh, scenario).by("team")
    return by.with_columns(
        ratio=pl.when(pl.col("baseline_cost_usd") > 0)
        .then(pl.col("scenario_cost_usd") / pl.col("baseline_cost_usd")).otherwise(1.0)
    ).select("team", "baseline_cost_usd", "scenario_cost_usd", "ratio")


def impact(wh: Warehouse, scenario: simulate.Scenario | str, as_of: dt.date | None = None,
           weeks: int = fc.DEFAULT_WEEKS) -> pl.DataFrame:
    """One row per team x period (month, quarter): forecast today vs under the scenario, with the team's
    budget for that period (if any) and both variances (forecast - budget)."""
    if isinstance(scenario, str):
        scenario = simulate.load_scenario(scenario)
    as_of = as_of or default_as_of(wh)
    if as_of is None:
        return pl.DataFrame(schema=_SCHEMA)
    today = fc.forecast(wh, by="team", as_of=as_of, weeks=weeks)
    if today.is_empty():
        return pl.DataFrame(schema=_SCHEMA)
    window_start = as_of - dt.timedelta(days=7 * weeks - 1)
    ratios = team_ratios(wh, scenario, window_start, as_of).select("team", "ratio")
    budgets = bd.budgets(wh).filter(pl.col("scope") == "team").select(
        pl.col("name").alias("key"), "period", "period_start", pl.col("amount_usd").cast(pl.Float64).alias("budget_usd"))
    rest = pl.col("forecast_total_usd") - pl.col("actual_to_date_usd")
    out = (today.join(ratios, left_on="key", right_on="team", how="left")
           .with_columns(pl.col("ratio").fill_null(1.0))
           .join(budgets, on=["key", "period", "period_start"], how="left")
           .with_columns(
               forecast_today_usd=pl.col("forecast_total_usd"),
               forecast_scenario_usd=pl.col("actual_to_date_usd") + rest * pl.col("ratio"),
               p10_scenario_usd=pl.col("actual_to_date_usd")
               + (pl.col("p10_total_usd") - pl.col("actual_to_date_usd")) * pl.col("ratio"),
               p90_scenario_usd=pl.col("actual_to_date_usd")
               + (pl.col("p90_total_usd") - pl.col("actual_to_date_usd")) * pl.col("ratio"),
           )
           .with_columns(
               savings_usd=pl.col("forecast_today_usd") - pl.col("forecast_scenario_usd"),
               variance_today_usd=pl.col("forecast_today_usd") - pl.col("budget_usd"),
               variance_scenario_usd=pl.col("forecast_scenario_usd") - pl.col("budget_usd"),
           )
           .rename({"key": "team"}))
    return out.select(list(_SCHEMA)).cast(_SCHEMA).sort("period", "team")
