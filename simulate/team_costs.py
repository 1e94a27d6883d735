"""Per team, the replay's baseline and scenario cost, read as groups (sql/simulate/team_costs.sql): what
`simulate.run(...).by("team")` gives, to the cent, without the replay's per-row sort and per-part aggregate. Budgets'
scenario impact needs only these two figures per team (finance/scenario_impact.py).

It applies to the scenarios whose claims a group can carry: at most one ranked policy, ranking single requests by a
stored key (`pick: simplest` or `random`; not a router's scores, not whole conversations), no cache lost on a switch,
no policy re-pricing a row's own tokens (a cache: not linear in the row's cost and tokens), no token bounds in a
match. `by_team` returns None for any other; the caller then runs the replay.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import polars as pl

import sql
from simulate.memo import Memo
from simulate.plan import GradeMatch, Plan
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


def build_sql(plan: Plan) -> str:
    """The grouped read's SQL text for a groupable plan (values bound by `plan.bind`)."""
    ranked = next((s for s in plan.steps if s.order_keys is not None), None)
    prices = [c.rsplit(" as ", 1)[1] for c in plan.price_columns]   # tp{i}_in|_out|_cr|_cw
    eligible = " ".join(s.eligible for s in plan.steps)
    group_columns = ", ".join(_ALWAYS + [c for c in _MATCHED if _reads(eligible, c)] + prices)
    chain_text = " ".join(f"{s.policy.claim_sql(s.p, s.index)} {s.cost}" for s in plan.steps)
    summed = [c for c in _SUMMED if c == "base_cost" or _reads(chain_text, c)]
    flags = "".join(f", {s.eligible} as m_{s.index}" for s in plan.steps)
    if ranked is None:
        first_key, rank_where, share, order_keys, took = "0", "false", "0", "0", {}
    else:
        # as the replay's `ord_i`: its eligible request rows no earlier (unranked) policy claimed
        earlier = [f"not coalesce(m_{s.index}, false)" for s in plan.steps if s.index < ranked.index]
        rank_where = " and ".join(["granularity = 'request'", "not unpriced", f"coalesce(m_{ranked.index}, false)",
                                   *earlier])
        first_key, share = ranked.order_keys[0], f"${ranked.p}_share"
        order_keys = ", ".join(ranked.order_keys)
        took = {ranked.index: "coalesce(before_edge, false)"}
    sums_base = ["coalesce(sum(case when rem_{n} > 1e-12 then base_cost * rem_{n} end), 0)".format(n=len(plan.steps))]
    sums_scen = list(sums_base)
    for s in plan.steps:
        i = s.index
        sums_base.append(f"coalesce(sum(case when f_{i} > 1e-12 then base_cost * f_{i} end), 0)")
        sums_scen.append(f"coalesce(sum(case when f_{i} > 1e-12 then f_{i} * {s.cost} end), 0)")
    sums = (" + ".join(sums_base) + " as baseline_cost_usd,\n        "
            + " + ".join(sums_scen) + " as scenario_cost_usd")
    return (plan.with_rows(sql.load("simulate/team_costs"), keyed=False)
            .replace("/*first_key*/", first_key)
            .replace("/*group_columns*/", group_columns)
            .replace("/*group_sums*/", ",\n        ".join(f"sum({c}) as {c}" for c in summed))
            .replace("/*summed*/", ", ".join(summed))
            .replace("/*static_flags*/", flags)
            .replace("/*flag_names*/", "".join(f", m_{s.index}" for s in plan.steps))
            .replace("/*rank_where*/", rank_where)
            .replace("/*share*/", share)
            .replace("/*order_keys*/", order_keys)
            .replace("/*policy_ctes*/", chain_ctes(plan, took))
            .replace("/*last_step*/", f"step_{len(plan.steps)}")
            .replace("/*sums*/", sums))


TOTALS = Memo(6)   # the last results, shared by the sessions of a process, like the replay's (simulate.memo)


def by_team(wh: Warehouse, scenario: Scenario) -> pl.DataFrame | None:
    """(team, baseline_cost_usd, scenario_cost_usd) over the scenario's period and scope, as the replay's
    `by("team")` (teams with only unpriced rows absent); None when the scenario is not groupable. Kept per
    (ledger, data_version, team scope, scenario) like the replay; callers must not mutate it."""
    return TOTALS.get(wh, scenario.model_dump_json(), lambda: _by_team(wh, scenario))


def _by_team(wh: Warehouse, scenario: Scenario) -> pl.DataFrame | None:
    plan = Plan.build(wh, scenario, GradeMatch())    # grades change quality, never cost: none matched
    if not groupable(plan):
        return None
    text = build_sql(plan)
    return wh.sql(text, **plan.bind(text)).sort("team", nulls_last=True)
