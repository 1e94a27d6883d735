"""Spend and its bridges (docs/finance.md "One spend"). Spend is one figure everywhere: `usage_daily.spend_usd`,
per provider and day the source that bills (a billing source before a gateway log), its billed cost where it
reports one, else the list price. Any other total a page shows has its own name and a bridge to spend, each from
one named query (sql/queries/bridge_spend_*.sql), rounded to the cent so the displayed terms add up exactly.
No streamlit here.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import simulate
from dashboard.services import QueryRunner

if TYPE_CHECKING:
    from warehouse.db import Warehouse

# the named query behind each bridge, for the "SQL behind this" expanders
QUERIES = {
    "billed_list": "bridge_spend_billed_list",
    "all_sources": "bridge_spend_all_sources",
    "replay": "bridge_spend_replay",
}


def _row(run: QueryRunner, name: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    row = run(QUERIES[name], start=start, end=end).row(0, named=True)
    return {k: float(v) if k.endswith("_usd") else v for k, v in row.items()}


def billed_list_bridge(run: QueryRunner, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Spend taken apart by how it was costed: billed (priced usage, with its list price), billed for unpriced
    models, and usage with no bill at list price."""
    return _row(run, "billed_list", start, end)


def all_sources_bridge(run: QueryRunner, start: dt.date, end: dt.date) -> dict[str, Any]:
    """The Reconciliation's billed cost across all sources, from spend: + what superseded overlapping sources
    billed, − spend with no bill (list price), − spend billed for unpriced models."""
    return _row(run, "all_sources", start, end)


def scope_body(scenario: simulate.Scenario) -> str:
    """What a replay's bridge depends on (its period and scope) as JSON: the cache key of `replay_bridge`, the
    same for every slider value of a scenario."""
    return json.dumps({"name": "bridge", "period": scenario.period.model_dump(mode="json"),
                       "scope": scenario.scope.model_dump(mode="json", exclude_none=True)}, sort_keys=True)


def replay_bridge(wh: Warehouse, body: str) -> simulate.SpendBridge:
    """Spend over a replay's period and its bridge to the replay's baseline (simulate.spend_bridge); `body` is
    `scope_body(scenario)`."""
    return simulate.spend_bridge(wh, simulate.parse_scenario(json.loads(body), "bridge"))
