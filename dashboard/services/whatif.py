"""What-if services: build a scenario from the page's choices, evaluate slider moves on the simulator's prepared
tables (simulate.frontier: no SQL per move), the frontier, the full replay, saved scenarios, exports. No
streamlit here.

Structure vs values: the page's toggles and pickers decide a scenario's *structure* (which policies, what they
match, where they send traffic); its sliders only set *values* (shares, escalation and hit rates, the output
multiplier). A structure is prepared once per ledger version (one SQL pass); every slider move after that is a
lookup in its cumulative table, or an O(rows) numpy evaluation when a later policy also picks a share.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

import simulate
import sql
from dashboard.services import QueryRunner, money_as_float
from finance import whole_bill
from simulate import frontier, report, router, shadow
from simulate.memo import Kept
from simulate.scenario import RouterScores, Scenario
from simulate.spec import ScenarioError
from warehouse import audit
from warehouse.db import execute

if TYPE_CHECKING:
    from warehouse.db import Warehouse

# the frontier-model list of the armstrong-80-99 preset: "the frontier tier" in the builder
FRONTIER_TIER = simulate.load_scenario("armstrong-80-99").policies[0].match.models
load_scenario = simulate.load_scenario      # a shipped preset or a scenario file, by name
OFFLINE_WORKLOADS = ["batch", "offline", "evaluation", "eval", "enrichment", "backfill"]
CHEAP_TARGETS = ["gpt-4.1-nano", "gpt-4o-mini", "gpt-4.1-mini", "claude-haiku-4-5", "gemini-2.0-flash",
                 "glm-5.1", "deepseek-chat"]
GRID = [i / 20 for i in range(21)]
SEEDS = 10          # seeds of a random pick's band on the frontier


def mix(run: QueryRunner, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Spend and requests per model and workload (query `whatif_mix`)."""
    return money_as_float(run("whatif_mix", start=start, end=end))


def self_hosted_targets(wh: Warehouse, on: dt.date | None = None) -> list[dict]:
    """The ledger's self-hosted models as What-if targets at the price the ledger gives them (the cost period
    holding `on`, else the latest; a user price override wins over the cost file): `finance.whole_bill.targets`."""
    return whole_bill.targets(wh, on)


def self_hosted_label(t: dict) -> str:
    """A self-hosted target as the picker shows it: model, provider and the price it is replayed at (its cost
    file's rate, or the user's price override where one wins)."""
    p = t["prices"]
    price = (f"${p['input']:,.4g} per 1M tokens" if p["input"] == p["output"]
             else f"${p['input']:,.4g} in / ${p['output']:,.4g} out per 1M tokens")
    return f"{t['model']} ({t['provider']}) · {price}" + (" (price override)" if t["priced_by"] == "price override"
                                                          else "")


def build_scenario(*, name: str, start: dt.date | None, end: dt.date | None, models: list[str], tier: bool,
                   route: str, target_model: str | None, price_ratio: float | None, quality_ratio: float | None,
                   pick: str, batch: bool, batch_workloads: list[str], cache: bool,
                   router_scores: RouterScores | dict | None = None, self_hosted: dict | None = None) -> Scenario:
    """A scenario from the builder's choices: [batch?] → route (shift or cascade) → [cache?]. Batch comes first so
    the route's share stays a lookup (a ranked policy after it would change its N). Sliders start at 0.5 share,
    0.2 escalation, 0.5 batch share, 0.45 hit rate (docs/research.md "Savings levers and their defaults": chat with a
    fixed system prompt 30–60%). The target is `self_hosted` (a `to:` of `self_hosted_targets`) when given, else
    the catalog `target_model`, else the `price_ratio`."""
    patterns = list(FRONTIER_TIER or []) if tier else []
    patterns += [m for m in models if m not in patterns]
    if not patterns:
        raise ScenarioError("pick at least one source model, or the frontier tier", title="Nothing to move")
    target: dict[str, Any] = (dict(self_hosted) if self_hosted is not None
                              else {"price_ratio": price_ratio} if target_model is None else {"model": target_model})
    if quality_ratio is not None:
        target["quality_ratio"] = quality_ratio
    policies: list[dict[str, Any]] = []
    if batch:
        policies.append({"kind": "batch", "name": "offline work to the batch tier", "share": 0.5,
                         "match": {"workloads": batch_workloads or OFFLINE_WORKLOADS}})
    if route == "cascade":
        policies.append({"kind": "cascade", "name": "cascade via the cheaper model", "first": target,
                         "escalation_rate": 0.2, "match": {"models": patterns}})
    else:
        policies.append({"kind": "shift", "name": "move to the cheaper model", "share": 0.5, "pick": pick,
                         "to": target, "match": {"models": patterns}})
    if cache:
        policies.append({"kind": "cache", "name": "prompt caching", "hit_rate": 0.45})
    assumptions = {"router_scores": router_scores} if router_scores is not None else {}
    return simulate.parse_scenario({"name": name, "period": {"start": start, "end": end}, "policies": policies,
                                    "assumptions": assumptions}, "builder")


# uploads parsed once per (kind, file name, content): the page reruns on every widget change and a 2 M-grade file
# took ~1.6 cpu-s to read again each time; the same parsed object also keeps the grades' fingerprint, keys and
# prepared tables (kept by identity, simulate.scenario / simulate.grade_keys) from being rebuilt
_UPLOADS = Kept(4)


def _parsed_upload(kind: str, filename: str, data: bytes, parse: Callable[[str, str], Any]) -> Any:
    """`parse(text, filename)` of an upload, kept per content (a file that fails is read again: its error shown)."""
    key = (kind, filename, hashlib.blake2b(data, digest_size=16).digest())
    return _UPLOADS.get(key, lambda: parse(data.decode("utf-8", errors="replace"), filename))


def router_scores(filename: str, data: bytes) -> RouterScores:
    """A router-score file (request_id, score[, router, provider]) as `assumptions.router_scores`, read and validated
    once per content."""
    return _parsed_upload("router", filename, data,
                          lambda text, name: RouterScores.model_validate(router.scores_data(router.parse(text, name))))


def grade_coverage(wh: Warehouse, scenario: Scenario) -> tuple[int, int] | None:
    """(graded requests matched to a replayed request row, graded requests in the file) for a scenario with
    per-request grades, else None. From the prepared tables, which the page's sliders use next."""
    if scenario.assumptions.request_grades is None:
        return None
    grades = frontier.prepare(wh, scenario).grades
    return grades.matched_requests, grades.graded_requests


def with_shadow(scenario: Scenario, filename: str, data: bytes) -> Scenario:
    """The scenario with a shadow-evaluation file's grades: per request (request_id, model, score[, provider]) or
    per workload × model (workload, model, score); simulate.shadow tells them apart by their columns."""
    return shadow.with_shadow(scenario, _parsed_upload("shadow", filename, data, shadow.parse))


def preset_names() -> list[str]:
    """The presets the page offers, the default first (the baseline preset moves nothing: not offered)."""
    return [n for n in simulate.presets() if n != "baseline"]


def with_period(scenario: Scenario, start: dt.date | None, end: dt.date | None) -> Scenario:
    data = scenario.model_dump(mode="json", exclude_none=True)
    data["period"] = {"start": start, "end": end}
    return simulate.parse_scenario(data, scenario.name)


@dataclass(frozen=True)
class Slider:
    """One value the page offers as a slider: policy index (None = assumptions), field, a label carrying the
    value, and value/bounds/step in the units shown (percent for shares and rates: 0–100)."""

    index: int | None
    field: str
    label: str
    value: float
    lo: float = 0.0
    hi: float = 100.0
    step: float = 0.1
    percent: bool = True

    @property
    def format(self) -> str:
        return "%.1f%%" if self.percent else "%.2f×"

    def actual(self, shown: float) -> float:
        """The scenario value of a shown value (a percentage back to 0–1)."""
        return round(float(shown) / 100, 9) if self.percent else float(shown)


def _sentence(text: str) -> str:
    """A label starts with a capital, like every other on the page (a preset's policy name is lower case)."""
    return text[:1].upper() + text[1:]


def sliders(scenario: Scenario) -> list[Slider]:
    """One slider per value of each policy (the policy's own knobs) and the output multiplier; labels are
    built from the scenario's values, so a page that builds them from the current values has labels that follow
    the sliders."""
    out = []
    ctx = {"escalation_rate": scenario.assumptions.escalation_rate}
    m = scenario.assumptions.output_multiplier
    for i, pol in enumerate(scenario.policies):
        label = scenario.policy_label(i)
        for k in pol.knobs(ctx):
            scale = 100.0 if k.percent else 1.0
            out.append(Slider(i, k.field, _sentence(f"{label}: {k.label}"), round(float(k.value) * scale, 6),
                              k.lo * scale, k.hi * scale, 0.1 if k.percent else k.step, k.percent))
    out.append(Slider(None, "output_multiplier", f"Output length × {m:.2f} (verbosity of the target)", float(m),
                      0.25, 3.0, 0.05, percent=False))
    i = scenario.assumptions.input_multiplier
    out.append(Slider(None, "input_multiplier", f"Input tokens × {i:.2f} (tokenizer of the target)", float(i),
                      0.5, 3.0, 0.05, percent=False))
    return out


def shown_values(specs: list[Slider], shown: dict[tuple[int | None, str], float]) -> dict[tuple[int | None, str], float]:
    """Scenario values from the sliders' shown values (percentages to shares)."""
    by_key = {(s.index, s.field): s for s in specs}
    return {k: by_key[k].actual(v) for k, v in shown.items()}


def why_nothing_moves(wh: Warehouse, scenario: Scenario) -> str | None:
    """Why the scenario saves nothing when none of the range's traffic is eligible for any of its policies (a
    preset for workloads or models the ledger does not have): None when some traffic is eligible."""
    if not scenario.policies:
        return None
    prep = frontier.prepare(wh, scenario)
    if any(n > 0 for n in prep.eligible_requests):
        return None
    ctx = {"escalation_rate": scenario.assumptions.escalation_rate}
    what = "; ".join(p.describe(ctx) for p in scenario.policies)
    extra = (" " + " ".join(prep.warnings)) if prep.warnings else ""
    return (f"None of the requests in this range is eligible for this scenario ({what}), so it saves $0: the "
            f"ledger has no traffic on the models or workloads it names.{extra}")


def with_values(scenario: Scenario, values: dict[tuple[int | None, str], float]) -> Scenario:
    """The same structure with the sliders' values."""
    data = scenario.model_dump(mode="json", exclude_none=True)
    for (i, field), v in values.items():
        if i is None:
            data["assumptions"][field] = v
        else:
            data["policies"][i][field] = v
    return simulate.parse_scenario(data, scenario.name)


def slider_policy(scenario: Scenario) -> int | None:
    """The policy the frontier is drawn for (and whose share is a lookup): the last ranked policy (shift or
    batch: nothing ranked follows it), else the first cascade (swept over its escalation rate), else the first
    cache (over its hit rate)."""
    pols = scenario.policies
    ranked = [i for i, p in enumerate(pols) if p.ranked]
    if ranked:
        return ranked[-1]
    swept = [i for i, p in enumerate(pols) if p.rate_field is not None]
    return min(swept, key=lambda i: (pols[i].sweep_rank, i)) if swept else None


def outcome(wh: Warehouse, scenario: Scenario) -> tuple[frontier.Outcome, str]:
    """The slider figures of `scenario` from its prepared table, and how they were computed ('lookup' or
    'arrays'). The first call for a structure prepares it (one SQL pass); later calls run no SQL."""
    prep = frontier.prepare(wh, scenario)
    i = slider_policy(scenario)
    if i is not None and prep.lookup_ok(i):
        return prep.table(i, scenario).lookup(scenario, teams=True), "lookup"
    return prep.evaluate(scenario, teams=True), "arrays"


def keep_slider_rows(wh: Warehouse, scenario: Scenario) -> None:
    """After a render on the bucketed engine (a period above `slider_row_limit` rows): the slider's table keeps
    every bucket's rows on disk in a background thread, once per table (`Bucketed.keep_in_background`), so that a
    later move into a bucket no move has read yet is a file read, not a query of the stored rows. Nothing on the
    per-row engine (its table is in memory)."""
    prep = frontier.prepare(wh, scenario)
    if hasattr(prep, "keep_in_background"):
        prep.keep_in_background(scenario)


@dataclass
class Frontier:
    points: pl.DataFrame          # param, scenario_cost_usd, savings_usd, quality_ratio, …
    param: str                    # share | escalation_rate
    policy: str
    at_bar: frontier.QualityPoint | None
    break_even: float | None
    bounds: pl.DataFrame | None = None   # curve (oracle | random), scenario_cost_usd, quality_ratio: ranked only
    metrics: dict | None = None          # RouteLLM's APGR, CPT(50%), CPT(80%), moved at 95% per curve
    note: str | None = None              # why the oracle bound and seed band are not drawn, when they are not


def frontier_curve(wh: Warehouse, scenario: Scenario, bar: float = frontier.QUALITY_BAR) -> Frontier | None:
    i = slider_policy(scenario)
    if i is None:
        return None
    pol = scenario.policies[i]
    prep = frontier.prepare(wh, scenario)
    lookup = prep.lookup_ok(i)
    grid = GRID
    if pol.ranked and lookup and hasattr(table := prep.table(i, scenario), "edge_shares"):
        grid = table.edge_shares(GRID)      # the bucketed engine: each point at its nearest bucket edge, no read
    points = frontier.sweep(wh, scenario, i, grid)
    bounds = metrics = note = None
    whole = getattr(prep, "per_row", True)   # the bucketed engine (above slider_row_limit): no oracle, no seed band
    if pol.ranked and lookup and not whole:
        note = (f"Oracle bound and the random pick's band not drawn: this range holds {prep.period_rows:,} rows, more than the "
                f"{frontier.row_limit():,} whose every request's order is kept in memory. The sliders, this "
                "frontier's points and the cheapest share at the quality bar stay exact; narrow the dates or teams "
                "to see them.")
    elif pol.ranked and lookup:
        rep = frontier.router_report(wh, scenario, i)
        base = rep.baseline_quality
        if base:
            frames = [c.frame().select("curve", "scenario_cost_usd", "quality") for c in (rep.oracle, rep.random)]
            if getattr(pol, "pick", None) == "random":
                # the band of a random pick over 10 seeds (numpy reorders of the same table, no query)
                band = frontier.seed_band(wh, scenario, i, seeds=SEEDS, grid=GRID)
                # the seeds' median scenario cost (every policy included); share 0's cost minus the savings counted
                # the other policies' savings twice
                cost = band["scenario_cost_usd_p50"]
                frames += [pl.DataFrame({"curve": f"seeds {p}", "scenario_cost_usd": cost,
                                         "quality": band[f"scenario_quality_{p}"]}) for p in ("p10", "p90")]
            bounds = pl.concat(frames).with_columns((pl.col("quality") / base).alias("quality_ratio"))
            metrics = rep.metrics
        if rep.bound == "conversations":
            # requests of one conversation move one by one and pay for each other's lost cache: the bound is the
            # cheapest choice of requests per conversation (simulate/hull.py), exact at its corners
            note = ("Oracle bound here: requests of one conversation pay for each other's lost prompt cache, so it "
                    "is the cheapest choice of requests within each conversation — exact at its corners, an upper "
                    "bound between them; RouteLLM's metrics are not given for it.")
    return Frontier(points, pol.sweep_field, scenario.policy_label(i),
                    frontier.cheapest_at_quality(wh, scenario, i, bar) if pol.ranked and lookup else None,
                    frontier.break_even_escalation(wh, scenario, i) if pol.escalates else None, bounds, metrics, note)


def metrics_text(metrics: dict) -> str:
    """RouteLLM's router metrics in words, for the policy, the oracle bound and the random line."""

    def pct(x: float | None) -> str:
        return "—" if x is None else f"{100 * x:.0f}%"

    def num(x: float | None) -> str:
        return "—" if x is None else f"{x:.2f}"

    p, o = metrics["policy"], metrics["oracle"]
    return (f"Against the oracle bound (dashed: the cheapest any router could reach at each quality, from the same "
            f"grades or priors) and a random pick (dotted): APGR {num(p['apgr'])} for this pick, {num(o['apgr'])} "
            f"for the oracle, 0.50 random; calls kept on the source model to recover 50% / 80% of the quality "
            f"gap: {pct(p['cpt50'])} / {pct(p['cpt80'])} (oracle {pct(o['cpt50'])} / {pct(o['cpt80'])}); share "
            f"moved keeping 95% of the source's quality: {pct(p['moved_at_95'])} (oracle {pct(o['moved_at_95'])}). "
            "RouteLLM's metrics (APGR: area under the gap-recovered curve).")


def swept_key(scenario: Scenario) -> str:
    """The scenario as JSON with the frontier policy's own value set to 0: what the frontier depends on (the
    curve covers every value of that slider), so the page caches it across moves of that slider."""
    i = slider_policy(scenario)
    data = scenario.model_dump(mode="json", exclude_none=True)
    if i is not None:
        data["policies"][i][scenario.policies[i].sweep_field] = 0.0
    return json.dumps(data, sort_keys=True)


def frontier_of(wh: Warehouse, body: str) -> Frontier | None:
    """`frontier_curve` of a scenario given as JSON (for the page's cache)."""
    return frontier_curve(wh, load_saved(body))


def replay_sql_of(wh: Warehouse, body: str) -> str:
    return replay_sql(wh, load_saved(body))


def compare_of(wh: Warehouse, bodies: tuple[str, ...]) -> pl.DataFrame:
    return compare(wh, [load_saved(b) for b in bodies])


def full_replay(wh: Warehouse, scenario: Scenario) -> simulate.Result:
    return simulate.run(wh, scenario)


def replay_sql(wh: Warehouse, scenario: Scenario) -> str:
    """The replay's SQL for this scenario (what "Run full replay" executes), values bound separately."""
    return simulate.build_sql(wh, scenario)[0]


def prepared_sql(wh: Warehouse, scenario: Scenario) -> str:
    return frontier.prepare(wh, scenario).sql


def sessions(run: QueryRunner, start: dt.date, end: dt.date) -> dict[str, int]:
    """Requests logged one by one in the range, those carrying a conversation id, how many conversations, and the
    requests held in hourly or daily totals (query `whatif_sessions`): whether "what moves together" can offer
    whole conversations."""
    row = run("whatif_sessions", start=start, end=end).row(0, named=True)
    return {k: int(row[k] or 0) for k in ("requests", "with_session", "sessions", "in_totals")}


def with_conversations(scenario: Scenario, unit: str | None, cache_on_switch: str) -> Scenario:
    """Every shift and batch pick moving `unit` (request | session; None: as the scenario says) and the cache a
    moved request loses (`cache_on_switch`: lost | kept)."""
    return scenario.with_conversations(unit=unit, cache_on_switch=cache_on_switch)


def lever_frame(out: frontier.Outcome) -> pl.DataFrame:
    # the cache-loss line only when some moved request lost cache (it is 0 for every move that reads none)
    rows = [{"lever": k, "savings_usd": v} for k, v in out.savings_by_lever.items()
            if k != frontier.LOST_LEVER or v != 0]
    return pl.DataFrame(rows, schema={"lever": pl.Utf8, "savings_usd": pl.Float64})


def team_frame(out: frontier.Outcome) -> pl.DataFrame:
    df = out.by_team if out.by_team is not None else pl.DataFrame()
    if df.is_empty():
        return df
    return df.with_columns(
        (100 * pl.col("savings_usd") / pl.when(pl.col("baseline_cost_usd") != 0)
         .then(pl.col("baseline_cost_usd"))).alias("savings_pct"))


# --- saved scenarios ----------------------------------------------------------------------------------------
def save(wh: Warehouse, scenario: Scenario, name: str) -> Scenario:
    """Store the scenario under `name` (replacing one of that name)."""
    name = name.strip()
    if not name:
        raise ScenarioError("give the scenario a name", title="Cannot save")
    data = scenario.model_dump(mode="json", exclude_none=True)
    data["name"] = name
    named = simulate.parse_scenario(data, name)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    def _save(cur: Any) -> None:
        execute(cur, sql.load("writes/save_scenario"),
                {"name": name, "body": named.model_dump_json(exclude_none=True), "saved_at": now})
        audit.record(cur, "scenario_save", name, {"policies": len(named.policies)})

    wh.write(_save)
    return named


def saved(run: QueryRunner) -> pl.DataFrame:
    return run("saved_scenarios")


def load_saved(body: str) -> Scenario:
    return simulate.parse_scenario(json.loads(body), "saved scenario")


def compare(wh: Warehouse, scenarios: list[Scenario]) -> pl.DataFrame:
    """Side by side: one column per scenario, one row per figure (from the prepared tables)."""
    cols: dict[str, list[Any]] = {"figure": ["Replay baseline", "Replay under the scenario", "Savings", "Savings %",
                                             "Quality vs baseline", "Moved requests"]}
    for sc in scenarios:
        out = frontier.prepare(wh, sc).evaluate(sc)
        cols[sc.name] = [out.baseline_cost_usd, out.scenario_cost_usd, out.savings_usd, out.savings_pct,
                         None if out.quality_ratio is None else 100 * out.quality_ratio, out.moved_requests]
    return pl.DataFrame(cols, strict=False)


# --- exports ------------------------------------------------------------------------------------------------
scenario_yaml = report.scenario_yaml


def report_markdown(scenario: Scenario, out: frontier.Outcome, teams: pl.DataFrame,
                    bridge: simulate.SpendBridge | None = None) -> str:
    note = None
    if out.quality_ratio is not None:
        note = (f"{100 * out.quality_ratio:.1f}% (measured by shadow evaluation for {out.measured_requests:,.0f} "
                f"requests, assumed from public benchmarks for {out.scored_requests - out.measured_requests:,.0f}, "
                f"of {out.total_requests:,.0f})")
    figures = {k: getattr(out, k) for k in ("baseline_cost_usd", "scenario_cost_usd", "savings_usd", "savings_pct",
                                            "moved_requests")}
    return report.markdown(scenario, figures, out.savings_by_lever, teams, note, bridge)
