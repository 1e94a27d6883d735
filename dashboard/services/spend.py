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


# --- credits, refunds and adjustments: money lines, never a model --------------------------------------------
# A billing export's line with no model of its own (a FOCUS Credit, Adjustment, Tax or Purchase row) is loaded
# under its charge category as the model name (sql/adapters/focus.sql); in a by-model view it is no model: it
# has no share of spend and never moves like one.
NOT_MODELS = ("credit", "adjustment", "refund", "tax", "purchase")
CREDITS_LABEL = "Credits & adjustments"


def split_credits(df, column: str = "model", spend: str = "spend_usd"):
    """(models, credits): the rows of `df` whose `column` names a model, with `spend_share` (when present)
    recomputed over them, and the rows that are credit/refund/adjustment lines. The shares then add up to the
    models' spend; the credits are shown as their own line, outside the shares."""
    import polars as pl

    is_line = pl.col(column).str.to_lowercase().is_in(NOT_MODELS)
    models, credits = df.filter(~is_line), df.filter(is_line)
    if "spend_share" in df.columns and models.height:
        total = models[spend].sum()
        models = models.with_columns(
            (pl.col(spend) / total if total else pl.lit(None, dtype=pl.Float64)).alias("spend_share"))
    return models, credits


def month_lines(run: QueryRunner, start: dt.date, end: dt.date):
    """Counted spend on month-grain lines in [start, end] per source format (source_format, lines, spend_usd): a
    cost table or monthly CUR/FOCUS line sits on its month's first day, which daily charts and anomaly detection
    must say (query finance_month_lines)."""
    return run("finance_month_lines", start=start, end=end)
