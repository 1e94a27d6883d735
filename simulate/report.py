"""A scenario's result as a Markdown report and its file as YAML: one writer for the What-if page's download
and `modelmix simulate --report`. Takes plain figures so it serves a full replay (`Result`) and a slider
lookup (`frontier.Outcome`) alike."""

from __future__ import annotations

import io
from typing import Any

import polars as pl
import yaml

from simulate.scenario import Scenario


def scenario_yaml(scenario: Scenario) -> str:
    """The scenario file (v1) as YAML: loads again with `modelmix simulate FILE`."""
    return yaml.safe_dump(scenario.model_dump(mode="json", exclude_none=True, exclude_defaults=False),
                          sort_keys=False, allow_unicode=True)


def _usd(x: float | None) -> str:
    return "—" if x is None else f"${x:,.2f}"


def markdown(scenario: Scenario, figures: dict[str, Any], by_lever: dict[str, float], teams: pl.DataFrame,
             quality_note: str | None = None, bridge: Any = None) -> str:
    """`figures`: baseline_cost_usd, scenario_cost_usd, savings_usd, savings_pct, moved_requests.
    `teams`: team, baseline_cost_usd, scenario_cost_usd, savings_usd. `bridge`: the period's spend and its
    bridge to the replay baseline (a simulate.SpendBridge), written under the figures."""
    buf = io.StringIO()
    period = scenario.period
    buf.write(f"# What-if: {scenario.name}\n\n")
    buf.write(f"Period: {period.start or 'first day'} to {period.end or 'last day'} (UTC, inclusive)\n\n")
    buf.write("| figure | value |\n|---|---|\n")
    buf.write(f"| Replay baseline | {_usd(figures['baseline_cost_usd'])} |\n"
              f"| Replay under the scenario | {_usd(figures['scenario_cost_usd'])} |\n")
    pct = "—" if figures.get("savings_pct") is None else f"{figures['savings_pct']:.1f}%"
    buf.write(f"| Savings | {_usd(figures['savings_usd'])} ({pct}) |\n")
    if quality_note:
        buf.write(f"| Quality vs baseline | {quality_note} |\n")
    buf.write(f"| Moved requests | {figures['moved_requests']:,.0f} |\n\n")
    if bridge is not None:
        buf.write("## From spend to the replay baseline\n\n```\n" + "\n".join(bridge.lines()) + "\n```\n\n")
    buf.write("## Savings by lever\n\n"
              "| lever | savings |\n|---|---|\n")
    for lever, v in by_lever.items():
        buf.write(f"| {lever} | {_usd(v)} |\n")
    if not teams.is_empty():
        buf.write("\n## By team\n\n| team | baseline | scenario | savings |\n|---|---|---|---|\n")
        for r in teams.iter_rows(named=True):
            buf.write(f"| {r['team']} | {_usd(r['baseline_cost_usd'])} | {_usd(r['scenario_cost_usd'])} | "
                      f"{_usd(r['savings_usd'])} |\n")
    buf.write("\n## Scenario file\n\n```yaml\n" + scenario_yaml(scenario) + "```\n")
    return buf.getvalue()


def result_markdown(scenario: Scenario, result: Any) -> str:
    """The report of a full replay (`simulate.Result`)."""
    qb = result.quality_basis or {}
    note = None
    if result.baseline_quality:
        measured = qb.get("measured_requests") or 0
        note = (f"{100 * result.scenario_quality / result.baseline_quality:.1f}% (measured by shadow evaluation "
                f"for {measured:,.0f} requests, assumed from public benchmarks for "
                f"{qb.get('assumed_requests') or 0:,.0f})")
    figures = {"baseline_cost_usd": result.baseline_cost_usd, "scenario_cost_usd": result.scenario_cost_usd,
               "savings_usd": result.savings_usd, "savings_pct": result.savings_pct,
               "moved_requests": result.moved_requests}
    return markdown(scenario, figures, result.savings_by_lever(), result.by("team"), note, result.spend_bridge)
