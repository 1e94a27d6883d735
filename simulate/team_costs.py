"""Per team, the replay's baseline and scenario cost, read as groups: what `simulate.run(...).by("team")` gives,
to the cent, without the replay's materialised rows, per-row sort and per-part aggregate. Budgets' scenario
impact needs only these two figures per team (finance/scenario_impact.py).

Three reads (the method: sql/simulate/team_costs.sql): the groups (`team_costs_groups_stored.sql`: the stored
buckets of total tokens, `replay_buckets`, summed again, when the scenario allows it, `stored_groups`; else
`team_costs_groups.sql`, one scan of the stored rows); of those groups, the bucket of the ranked policy's first key
holding its last row taken (`team_costs_edge.sql`); then that bucket's rows read again by a range of the key,
bound as values so the scan filters them, and the groups and those rows through the replay's own policy chain
(`team_costs.sql`).

It applies to the scenarios whose claims a group can carry: at most one ranked policy, ranking single requests by a
stored key (`pick: simplest` or `random`; not a router's scores, not whole conversations), no cache lost on a switch,
no policy re-pricing a row's own tokens (a cache: not linear in the row's cost and tokens), no token bounds in a
match. `by_team` returns None for any other; the caller then runs the replay.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import polars as pl

import sql
from simulate.memo import Memo
from simulate.plan import GradeMatch, Plan, bind
from simulate.replay import chain_ctes
from simulate.scenario import Scenario

if TYPE_CHECKING:
    from warehouse.db import Warehouse

# the columns a group keeps: always the team, granularity and whether priced; the others only where a policy's
# match or eligibility reads them (fewer keys: a cheaper hash of fewer strings per row)
_ALWAYS = ["team", "granularity", "unpriced"]
_MATCHED = ["provider", "model", "project", "workload", "service_tier"]
# the per-row values a group sums: only those the policies' claims and costs read (the cost always)
_SUMMED = ["base_cost", "list_cost", "requests", "input_tokens", "cache_read_tokens", "cache_write_tokens",
           "output_tokens"]
_GROUPS = "team_cost_groups"     # the relation the groups are registered as for the later reads

TOTALS = Memo(6)   # the last results, shared by the sessions of a process, like the replay's (simulate.memo)


def _reads(text: str, column: str) -> bool:
    return re.search(rf"\b{column}\b", text) is not None


def groupable(plan: Plan) -> bool:
    """Whether every claim of the plan is the same for all rows of a group (see the module's docstring)."""
    ranked = [s for s in plan.steps if s.order_keys is not None]
    return (len(ranked) <= 1
            and not any(s.by_session or s.policy.needs_router_scores for s in ranked)
            and not plan.lost_steps and not plan.needs_row_rates
            and not any(s.policy.match.min_tokens is not None or s.policy.match.max_tokens is not None
                        for s in plan.steps))


def stored_groups(plan: Plan) -> bool:
    """Whether the groups can be read from the stored buckets of total tokens (`replay_buckets`): the ranked policy,
    if any, ranks by total tokens first, the scope has no token bounds, and every target price interval starts at a
    midnight (a stored day is then in one interval)."""
    ranked = [s for s in plan.steps if s.order_keys is not None]
    bounds = [v for k, v in plan.params.items() if re.fullmatch(r"p\d+_to\d+", k)]
    scope = plan.scenario.scope
    return (all(s.order_keys[0] == "total_tokens" for s in ranked)
            and scope.min_tokens is None and scope.max_tokens is None
            and all(_midnight(b) for b in bounds))


def _midnight(at: Any) -> bool:
    return isinstance(at, dt.date) and (not isinstance(at, dt.datetime) or at.time() == dt.time())


class _Texts:
    """The three reads' SQL texts for a groupable plan, their slots filled."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.ranked = next((s for s in plan.steps if s.order_keys is not None), None)
        prices = [c.rsplit(" as ", 1)[1] for c in plan.price_columns]   # tp{i}_in|_out|_cr|_cw
        eligible = " ".join(s.eligible for s in plan.steps)
        chain = " ".join(f"{s.policy.claim_sql(s.p, s.index)} {s.cost}" for s in plan.steps)
        self.summed = [c for c in _SUMMED if c == "base_cost" or _reads(chain, c)]
        r = self.ranked
        self.slots = {
            "first_key": "0" if r is None else r.order_keys[0],
            "group_columns": ", ".join(_ALWAYS + [c for c in _MATCHED if _reads(eligible, c)] + prices),
            "group_sums": ",\n        ".join(f"sum({c}) as {c}" for c in self.summed),
            "summed": ", ".join(self.summed),
            "static_flags": "".join(f", {s.eligible} as m_{s.index}" for s in plan.steps),
            "flag_names": "".join(f", m_{s.index}" for s in plan.steps),
            # as the replay's `ord_i`: its eligible request rows no earlier (unranked) policy claimed
            "rank_where": "false" if r is None else " and ".join(
                ["granularity = 'request'", "not unpriced", f"coalesce(m_{r.index}, false)",
                 *[f"not coalesce(m_{s.index}, false)" for s in plan.steps if s.index < r.index]]),
            "share": "0" if r is None else f"${r.p}_share",
            "order_keys": "0" if r is None else ", ".join(r.order_keys),
            "policy_ctes": chain_ctes(plan, {} if r is None else {r.index: "coalesce(before_edge, false)"}),
            "last_step": f"step_{len(plan.steps)}",
            "sums": self._sums(),
            "scope": plan.scope,
        }

    def _sums(self) -> str:
        """Per team, the parts' baseline and scenario cost as the replay sums them (simulate/replay.py `_parts`:
        each part over the rows where it is more than 1e-12 of the row)."""
        n = len(self.plan.steps)
        rest = f"coalesce(sum(case when rem_{n} > 1e-12 then base_cost * rem_{n} end), 0)"
        base, scen = [rest], [rest]
        for s in self.plan.steps:
            i = s.index
            base.append(f"coalesce(sum(case when f_{i} > 1e-12 then base_cost * f_{i} end), 0)")
            scen.append(f"coalesce(sum(case when f_{i} > 1e-12 then f_{i} * {s.cost} end), 0)")
        return " + ".join(base) + " as baseline_cost_usd,\n        " + " + ".join(scen) + " as scenario_cost_usd"

    def text(self, name: str, **more: str) -> str:
        out = self.plan.with_rows(sql.load(name), keyed=False)
        for slot, value in {**self.slots, **more}.items():
            out = out.replace(f"/*{slot}*/", value)
        return out


def by_team(wh: Warehouse, scenario: Scenario) -> pl.DataFrame | None:
    """(team, baseline_cost_usd, scenario_cost_usd) over the scenario's period and scope, as the replay's
    `by("team")` (teams with only unpriced rows absent); None when the scenario is not groupable. Kept per
    (ledger, data_version, team scope, scenario) like the replay; callers must not mutate it."""
    return TOTALS.get(wh, scenario.model_dump_json(), lambda: _by_team(wh, scenario))


def _by_team(wh: Warehouse, scenario: Scenario) -> pl.DataFrame | None:
    plan = Plan.build(wh, scenario, GradeMatch())    # grades change quality, never cost: none matched
    if not groupable(plan):
        return None
    texts = _Texts(plan)
    if stored_groups(plan):
        # the stored sums are exact decimals (costs) and integers: as doubles, like the rows' own values
        text = texts.text("simulate/team_costs_groups_stored", group_sums=",\n        ".join(
            f"cast(sum({c}) as double) as {c}" for c in texts.summed))
    else:
        text = texts.text("simulate/team_costs_groups")
    groups = {_GROUPS: wh.sql(text, **plan.bind(text))}
    edge: dict[str, Any] = {"edge_bk": None, "edge_take": None, "edge_lo": None, "edge_hi": None}
    if texts.ranked is not None:
        text = texts.text("simulate/team_costs_edge")
        found = wh.sql(text, relations=groups, **plan.bind(text))
        if found.height:
            edge = {f"edge_{k}": v for k, v in found.row(0, named=True).items()}
    if edge["edge_bk"] is None:
        where = "false"
    elif edge["edge_lo"] is None:          # the last bucket: null keys only
        where = f"({texts.slots['first_key']}) is null"
    else:
        where = f"({texts.slots['first_key']}) between $edge_lo and $edge_hi"
    text = texts.text("simulate/team_costs", edge_filter=where)
    params = {**plan.bind(text), **bind(text, edge)}
    return wh.sql(text, relations=groups, **params).sort("team")   # as `by("team")`
