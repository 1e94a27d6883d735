"""Outlook services: the replayed daily history of a scenario (one replay, cached by the page on the ledger's
data_version) and the projection over it (simulate.outlook, milliseconds). No streamlit here."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

import polars as pl

import simulate
from dashboard.services import QueryRunner, preset_title
from simulate import outlook as sim_outlook
from simulate.scenario import Scenario

if TYPE_CHECKING:
    from warehouse.db import Warehouse

Assumptions = sim_outlook.Assumptions
DECLINE_SOURCES = sim_outlook.DECLINE_SOURCES


def scenario_choices(run: QueryRunner) -> dict[str, str]:
    """label -> scenario JSON: the presets (but the baseline), then the scenarios saved on the What-if page."""
    out = {f"Preset: {preset_title(n)}": simulate.load_scenario(n).model_dump_json(exclude_none=True)
           for n in simulate.presets() if n != "baseline"}
    saved = run("saved_scenarios")
    for name, body in zip(saved["name"].to_list(), saved["body"].to_list(), strict=True):
        out[f"Saved: {name}"] = body
    return out


def parse(body: str) -> Scenario:
    return simulate.parse_scenario(json.loads(body), "scenario")


def daily_history(wh: Warehouse, body: str) -> pl.DataFrame:
    """day, baseline_usd, scenario_usd of the scenario replayed over its period (the whole ledger when open)."""
    return sim_outlook.daily_from_result(simulate.run(wh, parse(body)))


def complete_history(daily: pl.DataFrame, through: dt.date | None) -> pl.DataFrame:
    """The replayed days up to `through` (the last day every current source covers): the days after it miss a
    source's usage, and a projection from them would start from a level that is only the gap."""
    return daily if through is None else daily.filter(pl.col("day") <= through)


def project(daily: pl.DataFrame, assumptions: Assumptions) -> sim_outlook.Outlook:
    return sim_outlook.project(daily, assumptions)


def assumption_table(o: sim_outlook.Outlook) -> pl.DataFrame:
    """The projection's assumptions in the page's words: the page offers a "set of random draws" (set n is seed
    n - 1), not a seed, and its headers are capitalised like every other table."""
    a = o.assumptions or sim_outlook.Assumptions()
    rows = [{"Assumption": "Random draws", "Value": f"{a.draws:,} (set {a.seed + 1})"}
            if r["assumption"] == "Monte Carlo" else {"Assumption": r["assumption"], "Value": r["value"]}
            for r in sim_outlook.assumption_table(o)]
    return pl.DataFrame(rows)
