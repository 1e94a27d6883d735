"""The replay: one SQL query over `usage` (sql/simulate/replay.sql) assembled from the scenario's policies.

Composition: policies apply in file order; each claims a fraction of what earlier policies left unclaimed
(`rem_i`), so a row part is priced by exactly one policy, or keeps its baseline cost. Request rows are claimed
whole (0 or 1); aggregated rows fractionally (`share × rem_i`). See docs/simulation.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

import sql
from simulate import quality
from simulate.bridge import SpendBridge, spend_bridge
from simulate.memo import Memo
from simulate.plan import GradeMatch, Plan, Savings
from simulate.scenario import Scenario

if TYPE_CHECKING:
    from warehouse.db import Warehouse

# savings-by-lever names shown in words where the id is not plain enough (the JSON keeps the id)
LEVER_WORDS = {"cache_lost_on_switch": "cache lost on switch"}
BREAKDOWN_DIMS = ("day", "team", "project", "provider", "workload", "source_model", "target_model", "lever",
                  "policy")


def _lex_le(keys: list[str], bounds: list[str]) -> str:
    """`(keys) <= (bounds)` in lexicographic order, as plain comparisons."""
    out = f"{keys[-1]} <= {bounds[-1]}"
    for key, bound in zip(reversed(keys[:-1]), reversed(bounds[:-1]), strict=True):
        out = f"({key} < {bound} or ({key} = {bound} and {out}))"
    return out


def _policy_ctes(plan: Plan) -> tuple[str, str, str, str]:
    """(static flag columns, rank CTEs, threshold joins, policy chain CTEs).

    A ranked policy's picking runs on narrow rows: `ord_i` numbers its eligible, still unclaimed request rows by
    (order key, row id) — only those columns go through the sort (sorting the wide rows carried every column,
    ~2 s per 1 M rows) — and `thr_i` is the key of row floor(share × N). A request row is then taken iff its key
    is ≤ that threshold: a streaming comparison, no join back. For a request row "still unclaimed" needs no
    remainder: its `rem` is exactly 1 or 0, so it is unclaimed unless an earlier ranked policy took it or an
    earlier unranked one (which claims every eligible part) matched it."""
    ranks, thresholds = [], []
    took: dict[int, str] = {}           # ranked policies: their key at most the threshold's
    unclaimed: list[str] = []          # request rows no earlier policy claimed (predicates on `scoped` + thresholds)
    flags: list[str] = []              # per policy, match and eligibility: evaluated once, in `scoped`
    for step in plan.steps:
        i, p, pol = step.index, step.p, step.policy
        flags.append(f"{step.eligible} as m_{i}")
        flags += pol.unit_sql(i, step.eligible)
        if step.order_keys is not None:
            # by request the row id breaks ties; by conversation the keys end with the unit key already
            keys = list(step.order_keys) if step.by_session else [*step.order_keys, "rid"]
            names = [f"k{j}" for j in range(len(keys))]
            bounds = [f"t{i}_{j}" for j in range(len(keys))]
            where = " and ".join(["granularity = 'request'", "not unpriced", f"coalesce(m_{i}, false)", *unclaimed])
            picked = ", ".join(f"{k} as {n}" for k, n in zip(keys, names, strict=True))
            joined = f"scoped{''.join(f' cross join {t}' for t in thresholds)}"
            if step.by_session:
                # whole conversations: the narrow sort numbers the distinct units, and a row is taken when its
                # unit's keys are at most the last taken unit's
                ranks.append(f"ord_{i} as (\n    select *, row_number() over (order by {', '.join(names)}) as rk\n"
                             f"    from (\n        select distinct {picked}\n        from {joined}"
                             f"\n        where {where}\n    )\n)")
            else:
                ranks.append(f"ord_{i} as (\n    select {picked},\n"
                             f"        row_number() over (order by {', '.join(names)}) as rk\n"
                             f"    from {joined}\n    where {where}\n)")
            # one row (nulls when nothing is taken: every comparison is then null, so nothing is claimed)
            lows = ", ".join(f"min({n}) as {b}" for n, b in zip(names, bounds, strict=True))
            ranks.append(f"thr_{i} as (\n    select {lows}\n"
                         f"    from ord_{i}\n"
                         f"    where rk = (select floor(cast(${p}_share as decimal(18, 9)) * count(*))"
                         f" from ord_{i})\n)")
            thresholds.append(f"thr_{i}")
            le = _lex_le(keys, bounds)
            unclaimed.append(f"not coalesce(m_{i} and {le}, false)")
            took[i] = le
        else:
            unclaimed.append(f"not coalesce(m_{i}, false)")
    return ("".join(", " + f for f in flags), ",\n\n".join(ranks) + ("," if ranks else ""),
            "".join(f"\n    cross join {t}" for t in thresholds), chain_ctes(plan, took))


def chain_ctes(plan: Plan, took: dict[int, str]) -> str:
    """The policies' composition, one CTE each step, from `step_0` (rows with `rem_0`) to `step_{n}`: `e_i`
    (eligible, still unclaimed, priced), a ranked policy's `took_i` (`took[i]`: its own rule for "this request row
    is among the first floor(share × N)"), the claimed fraction `f_i` and what is left, `rem_{i+1}`. The replay and
    the grouped read of the team totals (simulate/team_costs.py) both compose through it."""
    ctes = []
    for step in plan.steps:
        i, p, pol = step.index, step.p, step.policy
        ctes.append(f"flag_{i} as (\n    select *, m_{i} and rem_{i} > 1e-12 and not unpriced as e_{i}"
                    f"\n    from step_{i}\n)")
        src = f"flag_{i}"
        if i in took:
            ctes.append(f"pick_{i} as (\n    select *, e_{i} and granularity = 'request' and {took[i]} as took_{i}"
                        f"\n    from flag_{i}\n)")
            src = f"pick_{i}"
        ctes.append(f"claim_{i} as (\n    select *, {pol.claim_sql(p, i)} as f_{i} from {src}\n)")
        ctes.append(f"step_{i + 1} as (\n    select *, rem_{i} - f_{i} as rem_{i + 1} from claim_{i}\n)")
    return ",\n\n".join(ctes) + ("," if ctes else "")


_NO_GRADES = "'gr': cast(0 as double), 'gb': cast(0 as double), 'gq': cast(0 as double)"


def _graded_sums(k: str, live: str, frac: str, covered: str, scen: str) -> tuple[list[str], str]:
    """Part k's per-request-graded sums: requests covered (`gr_k`), their baseline (`gb_k`) and scenario (`gq_k`)
    quality, request-weighted; and the part's struct fields."""
    when = f"case when {live} and {covered} then requests * {frac}"
    return ([f"sum({when} end) as gr_{k}", f"sum({when} * g_src end) as gb_{k}",
             f"sum({when} * ({scen}) end) as gq_{k}"],
            f"'gr': gr_{k}, 'gb': gb_{k}, 'gq': gq_{k}")


def _switch_ctes(plan: Plan) -> str:
    """Cache lost on a switch (docs/simulation.md): per conversation (request rows with a session id) how many
    rows it has, how many each losing policy claimed and the first of those (ts, then row hash); then per row the
    extra its cache-read tokens cost (`lost_{i}`): the first moved request of a conversation pays the target's
    cache write, a later one its input price unless the whole conversation moved (then nothing more); a row without
    a session id is its own conversation (first and whole); a bucket's claimed part pays the input price."""
    steps = plan.lost_steps
    if not steps:
        return ""
    counts = [f"sum(case when f_{s.index} > 1e-12 then 1 else 0 end) as n_{s.index}" for s in steps]
    firsts = [f"min(case when f_{s.index} > 1e-12 then {{'t': ts, 'h': row_hash}} end) as first_{s.index}"
              for s in steps]
    extras = []
    for s in steps:
        i = s.index
        lk_in, lk_cw = s.switch
        extras.append(f"case when f_{i} <= 1e-12 then 0.0\n"
                      f"             when granularity <> 'request' then f_{i} * ({lk_in})\n"
                      f"             when c.session_id is null or c.first_{i} = {{'t': p.ts, 'h': p.row_hash}} "
                      f"then {lk_cw}\n"
                      f"             when c.n_{i} = c.n_rows then 0.0\n"
                      f"             else {lk_in} end as lost_{i}")
    return (f"conv as (\n    select session_id, count(*) as n_rows, {', '.join(counts + firsts)}\n"
            "    from priced\n    where session_id is not null and granularity = 'request' and not unpriced\n"
            "    group by session_id\n),\n\n"
            f"switched as (\n    select p.*,\n        {(',' + chr(10) + '        ').join(extras)}\n"
            "    from priced as p\n    left join conv as c on c.session_id = p.session_id\n),\n")


def _parts(plan: Plan) -> tuple[str, str]:
    """(sums, parts): per (day, team, project, provider, workload, model) group, each part's requests, baseline
    and scenario cost summed over the rows where the part is more than 1e-12 of the row, and whether there is
    such a row (`x_…`); then one struct per part, unnested over the groups. With per-request grades, also each
    part's graded sums (`_graded_sums`; a part is covered when the grades its figures use exist for the row);
    without, those fields are 0."""
    n = len(plan.steps)
    graded = plan.graded
    live = f"rem_{n} > 1e-12"
    sums = [f"bool_or({live}) as x_n",
            f"sum(case when {live} then requests * rem_{n} end) as r_n",
            f"sum(case when {live} then base_cost * rem_{n} end) as b_n"]
    fields = _NO_GRADES
    if graded:
        more, fields = _graded_sums("n", live, f"rem_{n}", "g_src is not null", "g_src")
        sums += more
    parts = ["{'lever': case when unpriced then 'unpriced' else 'none' end, 'policy': cast(null as varchar), "
             "'target_model': source_model, 'target_id': lower(source_model), 'live': x_n, 'requests': r_n, "
             f"'baseline': b_n, 'cost': b_n, 'esc': 0.0, 'qratio': cast(null as double), {fields}}}"]
    for step in plan.steps:
        i, p, pol = step.index, step.p, step.policy
        qr = step.qratio
        live = f"f_{i} > 1e-12"
        sums += [f"bool_or({live}) as x_{i}",
                 f"sum(case when {live} then requests * f_{i} end) as r_{i}",
                 f"sum(case when {live} then base_cost * f_{i} end) as b_{i}",
                 f"sum(case when {live} then f_{i} * {step.cost} end) as c_{i}"]
        fields = _NO_GRADES
        esc = f"cast({pol.escalation_sql(p)} as double)"
        if graded:
            if step.target_id is None:           # stays on its model (batch, cache)
                covered, scen = "g_src is not null", "g_src"
            elif qr is not None:                 # scored from the source's grade, and stays assumed
                covered, scen = "g_src is not null", f"((1 - {esc}) * ${p}_qratio + {esc}) * g_src"
            else:
                covered, scen = f"g_src is not null and g_t{i} is not null", f"(1 - {esc}) * g_t{i} + {esc} * g_src"
            more, fields = _graded_sums(str(i), live, f"f_{i}", covered, scen)
            sums += more
        if step.switch is not None:
            # the cache its moved requests lose: its own part and lever, no requests (they are counted above)
            sums += [f"bool_or({live} and lost_{i} <> 0) as xl_{i}",
                     f"sum(case when {live} then lost_{i} end) as l_{i}"]
            lost_part = (f"{{'lever': 'cache_lost_on_switch', 'policy': ${p}_label, "
                         f"'target_model': ${p}_target, 'target_id': ${p}_target_id, 'live': xl_{i}, "
                         f"'requests': cast(0 as double), 'baseline': cast(0 as double), 'cost': l_{i}, "
                         f"'esc': cast(0 as double), 'qratio': cast(null as double), {_NO_GRADES}}}")
        moved = step.target_id is not None
        parts.append(
            f"{{'lever': ${p}_lever, 'policy': ${p}_label, "
            f"'target_model': {'$' + p + '_target' if moved else 'source_model'}, "
            f"'target_id': {'$' + p + '_target_id' if moved else 'lower(source_model)'}, "
            f"'live': x_{i}, 'requests': r_{i}, 'baseline': b_{i}, 'cost': c_{i}, 'esc': {esc}, "
            f"'qratio': {'cast($' + p + '_qratio as double)' if qr is not None else 'cast(null as double)'}, "
            f"{fields}}}")
        if step.switch is not None:
            parts.append(lost_part)
    return ",\n        ".join(sums), ",\n            ".join(parts)


def build_sql(wh: Warehouse, scenario: Scenario, grades: GradeMatch | None = None,
              plan: Plan | None = None) -> tuple[str, dict[str, Any]]:
    """The replay's SQL text and its bound values (shown to users who want to audit a figure). `grades`: the
    per-request grades matched by `plan.match_request_grades` (matched here when not given)."""
    plan = plan or Plan.build(wh, scenario, grades)
    flags, rank_ctes, thresholds, ctes = _policy_ctes(plan)
    ranked = bool(rank_ctes)
    sums, parts = _parts(plan)
    text = (plan.with_rows(sql.load("simulate/replay"))
            # ranked picking reads `scoped` twice and breaks ties by its row id: computed once (the ids must agree)
            .replace("/*materialized*/", "materialized" if ranked else "")
            .replace("/*row_id*/", ", row_number() over () as rid" if ranked else "")
            .replace("/*static_flags*/", flags)
            .replace("/*rank_ctes*/", rank_ctes)
            .replace("/*thresholds*/", thresholds)
            .replace("/*policy_ctes*/", ctes)
            .replace("/*last_step*/", f"step_{len(plan.steps)}")
            .replace("/*switch_ctes*/", _switch_ctes(plan))
            .replace("/*sums_from*/", "switched" if plan.lost_steps else "priced")
            .replace("/*sums*/", sums)
            .replace("/*parts*/", parts))
    return text, plan.bind(text)


def _num(x: float | None, digits: int = 6) -> float | None:
    return None if x is None else round(float(x), digits)


@dataclass
class Result(Savings):
    """Totals and the part-level breakdown of one replay. `to_dict()`/`to_json()` are the `--json` contract."""

    scenario: str
    baseline_cost_usd: float
    scenario_cost_usd: float
    baseline_quality: float | None
    scenario_quality: float | None
    moved_requests: float
    breakdown: pl.DataFrame
    quality_basis: dict[str, Any] = field(default_factory=dict)
    unpriced_requests: int = 0
    seconds: float = 0.0
    sql: str = ""
    warnings: list[str] = field(default_factory=list)
    exact: dict[str, float | None] = field(default_factory=dict)   # the headline figures before rounding
    spend_bridge: SpendBridge | None = None     # spend over the period and its bridge to the baseline

    def by(self, *dims: str) -> pl.DataFrame:
        """Costs, savings and requests grouped by any of BREAKDOWN_DIMS (e.g. `by("lever")`, `by("day")`)."""
        bad = [d for d in dims if d not in BREAKDOWN_DIMS]
        if bad:
            raise ValueError(f"unknown breakdown dimension(s) {bad}; known: {', '.join(BREAKDOWN_DIMS)}")
        return (self.breakdown.group_by(list(dims))
                .agg(pl.col("requests").sum(), pl.col("baseline_cost_usd").sum(), pl.col("scenario_cost_usd").sum())
                .with_columns((pl.col("baseline_cost_usd") - pl.col("scenario_cost_usd")).alias("savings_usd"))
                .sort(list(dims)))

    def savings_by_lever(self) -> dict[str, float]:
        frame = self.by("lever").filter(pl.col("lever") != "none")
        return {r["lever"]: round(r["savings_usd"], 6) for r in frame.iter_rows(named=True)}

    def to_dict(self) -> dict[str, Any]:
        """Every figure of the result, with what the quality figures rest on (`quality_basis`), the requests left
        out unpriced and the warnings. Money at the ledger's own precision (6 decimals, as `decimal(18, 6)`; more
        digits would be noise of the replay's double arithmetic); every other figure (savings %, quality, requests,
        shares) unrounded."""
        rows = []
        for r in self.breakdown.iter_rows(named=True):
            rows.append({
                "day": r["day"].isoformat(), "team": r["team"], "project": r["project"], "provider": r["provider"],
                "workload": r["workload"], "source_model": r["source_model"], "target_model": r["target_model"],
                "lever": r["lever"], "policy": r["policy"], "requests": r["requests"],
                "baseline_cost_usd": _num(r["baseline_cost_usd"]), "scenario_cost_usd": _num(r["scenario_cost_usd"]),
                "savings_usd": _num(r["baseline_cost_usd"] - r["scenario_cost_usd"]),
                "baseline_quality": r["baseline_quality"], "scenario_quality": r["scenario_quality"],
                "scored_requests": r["scored_requests"], "measured_requests": r["measured_requests"],
            })
        ex = self.exact or {}
        by_lever = self.by("lever").filter(pl.col("lever") != "none")
        by_policy = self.by("policy").filter(pl.col("policy").is_not_null())
        return {
            "scenario": self.scenario,
            "baseline_cost_usd": self.baseline_cost_usd,
            "scenario_cost_usd": self.scenario_cost_usd,
            "savings_usd": self.savings_usd,
            "savings_pct": ex.get("savings_pct", self.savings_pct),
            "baseline_quality": ex.get("baseline_quality", self.baseline_quality),
            "scenario_quality": ex.get("scenario_quality", self.scenario_quality),
            "moved_requests": ex.get("moved_requests", self.moved_requests),
            "savings_by_lever": {k: _num(v) for k, v in zip(by_lever["lever"], by_lever["savings_usd"], strict=True)},
            "savings_by_policy": {k: _num(v) for k, v in zip(by_policy["policy"], by_policy["savings_usd"],
                                                             strict=True)},
            "quality_basis": self.quality_basis,
            "unpriced_requests": self.unpriced_requests,
            "warnings": list(self.warnings),
            "spend_bridge": self.spend_bridge.to_dict() if self.spend_bridge else None,
            "breakdown": rows,
        }

    def to_json(self) -> dict[str, Any]:
        """The `simulate --json` object as a JSON-ready dict (like ingest's `FileResult.to_json()`)."""
        return self.to_dict()

    def summary_text(self) -> str:
        def money(x: float) -> str:
            return f"${x:,.2f}"

        lines = [f"Scenario: {self.scenario}",
                 f"  baseline cost   {money(self.baseline_cost_usd)}  (the replay's baseline; its bridge to spend "
                 "is below)",
                 f"  scenario cost   {money(self.scenario_cost_usd)}",
                 f"  savings         {money(self.savings_usd)}"
                 + (f" ({self.savings_pct:.2f}%)" if self.savings_pct is not None else ""),
                 f"  moved requests  {self.moved_requests:,.0f}"]
        for lever, saved in self.savings_by_lever().items():
            lines.append(f"    by {LEVER_WORDS.get(lever, lever):<12} {money(saved)}")
        if self.baseline_quality is not None:
            qb = self.quality_basis
            measured = qb.get("measured_requests") or 0
            basis = (f"measured on {measured:,.0f} requests by shadow evaluation, assumed from priors for "
                     f"{qb.get('assumed_requests') or 0:,.0f}" if measured else "assumed from priors")
            lines.append(f"  quality         {self.baseline_quality:.3f} -> {self.scenario_quality:.3f} "
                         f"({basis}; scored {qb.get('scored_share', 0):.0%} of requests)")
        else:
            lines.append("  quality         unscored (no prior covers these models; see assumptions.quality)")
        unscored = self.quality_basis.get("unscored_requests") or 0
        if unscored and self.baseline_quality is not None:
            lines.append(f"  unscored        {unscored:,.0f} requests: no score covers their models (the quality "
                         "figures leave them out)")
        if "graded_requests" in self.quality_basis:
            qb = self.quality_basis
            lines.append(f"  shadow file     {qb['matched_requests']:,} of {qb['graded_requests']:,} graded requests "
                         "matched a replayed request row (by request id) and had a grade used")
            for why, n in (qb.get("unused_pairs") or {}).items():
                lines.append(f"    not used      {n:,} graded (request, model) pairs: {why}")
        if "router_scores" in self.quality_basis:
            rs = self.quality_basis["router_scores"]
            lines.append(f"  router scores   {rs['matched_requests']:,} of {rs['scored_requests']:,} scored requests "
                         "matched a replayed request row (pick: score moves the lowest first)")
        if self.unpriced_requests:
            lines.append(f"  left out        {self.unpriced_requests:,} unpriced requests (no billed or list cost)")
        for w in self.warnings:
            lines.append(f"  warning         {w}")
        if self.spend_bridge is not None:
            lines.append("From spend to the replay's baseline:")
            lines += self.spend_bridge.lines()
        return "\n".join(lines)


RUNS = Memo(6)   # the last replays, shared by the sessions of a process (simulate.memo)


def run(wh: Warehouse, scenario: Scenario) -> Result:
    """Replay the ledger's `usage` under `scenario` (one SQL query); pure and seeded, calls no provider. The
    result is kept per (ledger, data_version, team scope, scenario): the same replay asked again, by any session,
    is not run again until the ledger changes. Callers must not mutate it. Raises ScenarioError (a scenario the
    ledger can't replay, e.g. a target with no price) or DatabaseError (naming the replay's .sql file)."""
    return RUNS.get(wh, scenario.model_dump_json(), lambda: _replay(wh, scenario))


def run_on(engine: Any, scenario: Scenario) -> Result:
    """The same replay on another engine that has `Warehouse.sql`'s signature and the ledger's relations (the
    Spark lake, warehouse/spark.py: it transpiles this very SQL); not cached."""
    return _replay(engine, scenario)


def _replay(wh: Warehouse, scenario: Scenario) -> Result:
    started = time.perf_counter()
    plan = Plan.build(wh, scenario)
    grades = plan.grades
    text, params = build_sql(wh, scenario, plan=plan)
    # matched grades and router scores are relations registered for the query (an engine without them: none)
    relations = plan.relations()
    frame = wh.sql(text, relations=relations, **params) if relations else wh.sql(text, **params)
    warnings = plan.warnings(frame["source_model"].unique().drop_nulls().to_list())
    unpriced = frame.filter(pl.col("lever") == "unpriced")["requests"].sum() or 0
    frame = frame.filter(pl.col("lever") != "unpriced").sort(list(BREAKDOWN_DIMS), nulls_last=True)
    base = float(frame["baseline_cost_usd"].sum() or 0)
    scen = float(frame["scenario_cost_usd"].sum() or 0)
    moved = float(frame.filter(pl.col("lever") != "none")["requests"].sum() or 0)
    total_req = float(frame["requests"].sum() or 0)
    # each row's quality figures are means over its `scored_requests` (graded per request, or by the priors)
    scored = frame.filter(pl.col("baseline_quality").is_not_null() & pl.col("scenario_quality").is_not_null())
    w = float(scored["scored_requests"].sum() or 0)
    bq = sq = None
    if w > 0:
        bq = float((scored["scored_requests"] * scored["baseline_quality"]).sum() / w)
        sq = float((scored["scored_requests"] * scored["scenario_quality"]).sum() / w)
    exact = {"baseline_cost_usd": base, "scenario_cost_usd": scen, "savings_usd": base - scen,
             "savings_pct": 100 * (base - scen) / base if base else None, "baseline_quality": bq,
             "scenario_quality": sq, "moved_requests": moved}
    measured = float(scored["measured_requests"].sum() or 0)
    basis = {
        "scored_requests": _num(w),
        "measured_requests": _num(measured),
        "assumed_requests": _num(w - measured),
        "unscored_requests": _num(total_req - w),
        "scored_share": (w / total_req) if total_req else 0.0,
        "sources": quality.sources(plan.quality_overrides, quality.stored_scores(wh))
        + [{"workload": w, "benchmark": "shadow evaluation", "source": "assumptions.measured", "date": ""}
           for w in scenario.assumptions.measured],
    }
    if scenario.assumptions.router_scores is not None:
        rs = plan.router
        basis["router_scores"] = {"router": scenario.assumptions.router_scores.router,
                                  "scored_requests": rs.scored_requests, "matched_requests": rs.matched_requests}
    rg = scenario.assumptions.request_grades
    if rg is not None:
        basis.update(grades.basis())
        basis["sources"].append({"workload": "(per request)", "benchmark": "shadow evaluation",
                                 "source": rg.source or "assumptions.request_grades", "date": ""})
    return Result(
        scenario=scenario.name,
        baseline_cost_usd=_num(base), scenario_cost_usd=_num(scen),
        baseline_quality=_num(bq), scenario_quality=_num(sq),
        moved_requests=_num(moved),
        breakdown=frame, quality_basis=basis,
        unpriced_requests=int(unpriced),
        seconds=time.perf_counter() - started, sql=text, warnings=warnings, exact=exact,
        spend_bridge=spend_bridge(wh, scenario),
    )
