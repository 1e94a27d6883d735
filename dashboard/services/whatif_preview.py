"""What-if's preview in the browser: the exact figures of the page's main slider (the frontier policy's share, or
its escalation or hit rate) at every step of that slider, computed once per (scenario structure, other slider
values, ledger version), so a Vega-Lite chart with a range input answers a drag in the browser with no server
round trip (docs/simulation.md "The preview in the browser"; docs/benchmarks.md "Dashboard in a browser").

Each point is `frontier.sweep` at that value: the same prepared-table lookup the page's headline figures use, so
the preview's figure at a share is the page's figure at that share (and the full replay's) to the cent. Steps:
0.1 % (1,001 points: every value the page's slider can take) on the per-row engine; 1 % (101 points) above
`slider_row_limit`, each point moved to the nearest edge of the bucketed engine's buckets (within 1/8,192 of the
units of the step: the share where a bucket of the ranked rows ends), so that its figures are a prefix sum, exact with
no read of the ledger (a point inside a bucket reads that bucket's rows again: 0.1-0.4 CPU s each at 100 M). No
streamlit here."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from dashboard.components.formatting import usd
from dashboard.services.whatif import load_saved, slider_policy
from simulate import frontier
from simulate.scenario import Scenario

if TYPE_CHECKING:
    from warehouse.db import Warehouse

STEP_PCT = 0.1            # the per-row engine: every 0.1 % (the page's sliders move in 0.1 % steps)
BUCKETED_STEP_PCT = 1.0   # the bucketed engine (above slider_row_limit): every 1 %, each point one bucket read
NAMES = {"share": "Share moved", "escalation_rate": "Escalation rate", "hit_rate": "Cache hit rate"}


@dataclass(frozen=True)
class Preview:
    """The curve the browser draws, one row per step of the slid value, with the figures as the page prints them.

    points: step (0, 1, … as an integer), value_pct, scenario_cost_usd, savings_usd, savings_pct, quality_pct
    (null: nothing scored), moved_requests, and the texts value_text, savings_text, pct_text, quality_text,
    cost_text, moved_text."""

    points: pl.DataFrame
    field: str           # share | escalation_rate | hit_rate
    name: str            # what the value is, in words ("Share moved")
    policy: str          # the policy's label
    step_pct: float      # 0.1 or 1.0
    seconds: float       # what computing the points took (once per structure and other values)

    @property
    def steps(self) -> int:
        return self.points.height - 1

    @property
    def moves(self) -> bool:
        """Whether any figure changes along the curve (a slider over traffic none of the range has is flat: the
        page says why it saves nothing instead of drawing a flat line)."""
        p = self.points
        return any(p[c].n_unique() > 1 for c in ("scenario_cost_usd", "quality_pct", "moved_requests"))


def preview(wh: Warehouse, scenario: Scenario) -> Preview | None:
    """The preview of `scenario`'s main slider (`whatif.slider_policy`): None when it has none, or when that
    policy's share is not a lookup (a later policy's cache loss depends on it: each point would be a pass over the
    rows)."""
    i = slider_policy(scenario)
    if i is None:
        return None
    pol = scenario.policies[i]
    prep = frontier.prepare(wh, scenario)
    if pol.ranked and not prep.lookup_ok(i):
        return None
    step = STEP_PCT if getattr(prep, "per_row", True) else BUCKETED_STEP_PCT
    n = round(100 / step)
    t = time.perf_counter()
    grid = [round(s * step / 100, 9) for s in range(n + 1)]
    table = prep.table(i, scenario) if pol.ranked else None
    if hasattr(table, "edge_shares"):       # the bucketed engine: each point at its nearest bucket edge, no read
        grid = table.edge_shares(grid)
    points = frontier.sweep(wh, scenario, i, grid)
    seconds = time.perf_counter() - t
    return Preview(_texts(points, pol.sweep_field, step, n), pol.sweep_field, NAMES.get(pol.sweep_field, pol.sweep_field),
                   scenario.policy_label(i), step, seconds)


def _texts(points: pl.DataFrame, param: str, step: float, n: int) -> pl.DataFrame:
    """The sweep's figures with the texts the page prints for them (`usd`, one decimal of a percentage): 1,001
    strings per column at most, the chart's labels (the browser does no formatting of its own)."""
    # the values the points were computed at (on the bucketed engine a bucket edge near each step: two decimals)
    value = [round(100 * v, 7) for v in points[param].to_list()]
    savings = points["savings_usd"].to_list()
    pct = points["savings_pct"].to_list()
    quality = points["quality_ratio"].to_list()
    cost = points["scenario_cost_usd"].to_list()
    moved = points["moved_requests"].to_list()
    return pl.DataFrame({
        "step": list(range(n + 1)),
        "value_pct": value,
        "scenario_cost_usd": cost,
        "savings_usd": savings,
        "savings_pct": pct,
        "quality_pct": [None if q is None else 100 * q for q in quality],
        "moved_requests": moved,
        "value_text": [f"{v:.1f}%" if step < 1 else f"{v:.2f}%" for v in value],
        "savings_text": [usd(s) for s in savings],
        "pct_text": ["" if p is None else f"{p:.1f}%" for p in pct],
        "quality_text": ["not scored" if q is None else f"{100 * q:.1f}%" for q in quality],
        "cost_text": [usd(c) for c in cost],
        "moved_text": [f"{m:,.0f}" for m in moved],
    }, schema_overrides={"savings_pct": pl.Float64, "quality_pct": pl.Float64})


def preview_of(wh: Warehouse, body: str) -> Preview | None:
    """`preview` of a scenario given as JSON (`whatif.swept_key`: the main slider's value set to 0, since the preview
    covers every value of it, so the page's cache holds one preview across that slider's moves)."""
    return preview(wh, load_saved(body))
