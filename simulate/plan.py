"""The plan of a scenario over a ledger: what the SQL replay (simulate/replay.py) and the numpy slider engine
(simulate/frontier.py) both read, built once.

    plan = Plan.build(wh, scenario)
    plan.steps[i]            # policy i: its bind prefix, match, eligibility, order keys, cost, rate, target id
    plan.rows_sql()          # the rows both read (sql/simulate/replay_rows.sql, slots filled)
    plan.bind(text)          # the bound values a text names

The plan resolves the scenario's model names as ingest resolves a logged name (the ledger's `model_aliases`,
then the genai-prices catalog: `gpt-4-1106-preview` → `gpt-4-turbo`), so a target, a `match.models` entry and a
quality or shadow-grade row name the ids the ledger's `usage.model` holds. Each policy contributes only what its
class says (simulate/policies.py); nothing here asks which kind a policy is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

import polars as pl

import sql
from simulate import grade_keys, quality
from simulate.policies import Policy
from simulate.scenario import Scenario
from simulate.spec import ScenarioError, Target, glob_to_regex
from warehouse.prices import resolve

if TYPE_CHECKING:
    from warehouse.db import Warehouse

FAR_PAST = dt.datetime(1900, 1, 1)
FAR_FUTURE = dt.datetime(9999, 12, 31)
EPS = 1e-12          # the replay's "still unclaimed" threshold


class Savings:
    """Savings from a baseline and a scenario cost, the same for the replay's `Result` and the sliders' `Outcome`
    (both dataclasses with these two fields)."""

    baseline_cost_usd: float
    scenario_cost_usd: float

    @property
    def savings_usd(self) -> float:
        return round(self.baseline_cost_usd - self.scenario_cost_usd, 6)

    @property
    def savings_pct(self) -> float | None:
        if not self.baseline_cost_usd:
            return None
        return round(100 * self.savings_usd / self.baseline_cost_usd, 4)


# --- shares -----------------------------------------------------------------------------------------------------
def decimal_share(share: float) -> Decimal:
    """The replay casts the share to decimal(18, 9) before multiplying (so 0.29 × 100 = 29, not 28)."""
    return Decimal(repr(float(share))).quantize(Decimal("1e-9"), rounding=ROUND_HALF_UP)


def claimed_count(share: float, n: int) -> int:
    return int(math.floor(decimal_share(share) * n))


def share_for_count(k: int, n: int) -> float:
    """The smallest share (9 decimals) that claims k of n rows: the representative share of that point."""
    if n == 0 or k == 0:
        return 0.0
    return math.ceil(Decimal(k) * Decimal(10**9) / Decimal(n)) / 1e9


def period(scenario: Scenario) -> dict[str, dt.datetime]:
    start, end = scenario.period.start, scenario.period.end
    return {
        "start": dt.datetime(start.year, start.month, start.day) if start else FAR_PAST,
        "end_excl": dt.datetime(end.year, end.month, end.day) + dt.timedelta(days=1) if end else FAR_FUTURE,
    }


def bind(text: str, params: dict[str, Any]) -> dict[str, Any]:
    """The values `text` names (DuckDB refuses values the text does not name; header comments don't count)."""
    used = set(re.findall(r"\$(\w+)", re.sub(r"--[^\n]*", "", text)))
    return {k: v for k, v in params.items() if k in used}


# --- model names ------------------------------------------------------------------------------------------------
class Names:
    """Model names resolved as ingest resolves a logged name: the ledger's aliases, then the catalog."""

    def __init__(self, aliases: dict[str, str]):
        self.aliases = aliases
        self._seen: dict[tuple[str, str], str] = {}

    @classmethod
    def of(cls, wh: Warehouse) -> Names:
        return cls({a: m for a, m in wh.sql("select lower(alias) as a, model from model_aliases").iter_rows()})

    def id(self, name: str, provider: str | None = None) -> str:
        """The ledger's lower-case model id for `name` (the name itself, lower-cased, when nothing resolves it)."""
        key = (provider or "", name)
        if key not in self._seen:
            found = resolve(provider or "", name, self.aliases)[1]
            self._seen[key] = (found or self.aliases.get(name.lower(), name)).strip().lower()
        return self._seen[key]

    def target_id(self, target: Target) -> str:
        if target.model is None:
            return target.label.lower()          # a price ratio: no model (scored only through quality_ratio)
        if target.catalog is not None:
            return target.catalog[1].lower()
        return self.id(target.model, target.provider)

    def patterns(self, models: list[str]) -> list[str]:
        """`match.models` plus the resolved id of every entry that is a plain name (globs stay as given)."""
        out = list(models)
        for m in models:
            if not any(c in m for c in "*?"):
                rid = self.id(m)
                if rid != m.lower() and rid not in out:
                    out.append(rid)
        return out

    def scores(self, table: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        """A workload → model → score table with its model names resolved (a name already an id stays)."""
        return {w: {self.id(m): s for m, s in ms.items()} for w, ms in table.items()}


# --- per-request grades -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GradeMatch:
    """A shadow evaluation's per-request grades matched to the replayed request rows (sql/simulate/
    graded_rows.sql): the frame the replay joins (`wide`), and what was used and what not (and why)."""

    graded_requests: int = 0                           # distinct (provider, request id) in the file
    matched_requests: int = 0                          # replayed request rows with at least one grade used
    graded_pairs: int = 0                              # (request, model) rows of the file
    used_pairs: int = 0                                # of those, grades the replay can use
    unused: dict[str, int] = field(default_factory=dict)   # reason -> (request, model) pairs not used
    # the used grades one row per request row (its natural key, the 128-bit key as two 64-bit halves), one column
    # per model the replay reads: `g_src` (the row's own model) and `columns[target id]` (relation `sim_grades`;
    # pivoted in the matching query itself: a map per row built from 2 M grades in the replay's SQL cost ~3 cpu-s
    # at 1 M rows, a pivot in polars ~1)
    wide: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(
        schema={"key_hi": pl.UInt64, "key_lo": pl.UInt64, "g_src": pl.Float64}))
    columns: dict[str, str] = field(default_factory=dict)
    # folded into the rows' query (`match_request_grades(fold=True)`, the slider tables' prepare): no match query;
    # `wide` is then the keyed grades themselves (one row per key, the file's model names' n{k}, s{k}), the rows
    # join them and pick each row's grades with `fold` (column expressions, values bound by `params`), and the
    # counts above are known once the rows are read (`counted`)
    fold: dict[str, str] | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def any_used(self) -> bool:
        return self.used_pairs > 0 or self.fold is not None

    def relations(self) -> dict[str, pl.DataFrame]:
        return {"sim_grades": self.wide} if self.any_used else {}

    def counted(self, rows: pl.DataFrame) -> GradeMatch:
        """A folded match's figures from the rows that read it (their columns g_used, g_no_source, g_other: per
        replayed request row, as graded_rows.sql counts them; null on the rows no grade names)."""
        sums = rows.select(pl.col("g_used", "g_no_source", "g_other").sum(),
                           (pl.col("g_used") > 0).sum().alias("matched"))
        used, no_source, other, matched = (int(sums[c][0] or 0) for c in sums.columns)
        return _counted(self, used, no_source, other, matched)

    def basis(self) -> dict[str, Any]:
        return {"graded_requests": self.graded_requests, "matched_requests": self.matched_requests,
                "graded_pairs": self.graded_pairs, "used_pairs": self.used_pairs, "unused_pairs": dict(self.unused)}


KEY = ["key_hi", "key_lo"]          # a row's natural key (UHUGEINT) as two UInt64 halves (graded_rows.sql)
NOT_REPLAYED = "request not among the replayed request rows (id, provider, period or scope)"
OTHER_MODEL = "model is neither the request's logged model nor a policy's target"
NO_SOURCE = "target graded but the request's logged model is not"


def match_request_grades(wh: Warehouse, scenario: Scenario, names: Names | None = None,
                         target_ids: list[str] | None = None, fold: bool = False) -> GradeMatch:
    """The scenario's `assumptions.request_grades` matched to the request rows its replay reads (one query over
    `usage_replay` in the period and scope, sql/simulate/graded_rows.sql; none without per-request grades), pivoted
    there to one row per graded request row, with the counts `quality_basis` reports. Model names are resolved as
    ingest resolves them. A grade is used when it is of the row's own model, or of a target model of a request
    whose own model is graded too (a moved part needs both); every other pair is reported by reason."""
    grades = scenario.assumptions.request_grades
    if grades is None:
        return GradeMatch()
    names = names or Names.of(wh)
    targets = sorted(set(target_ids or []))
    columns = {m: f"g_m{k}" for k, m in enumerate(targets)}
    scope, params = scenario.scope.sql("scope")
    # keyed once per set of grades (md5 of the ids, grouped by key, pivoted by the file's model names)
    kg = grade_keys.keyed(wh, grades)
    params.update(kg.params())
    # the file's model names resolved once each; names resolving to one id share its columns
    resolved = [names.id(m) for m in kg.models]
    if fold and not kg.open.height:
        # the rows' own query joins the keyed grades (ids without a provider need the match's candidates: not
        # folded): one join of the keys instead of two and no 1 M-row hand-over (~-0.25 cpu-s at 1 M graded rows)
        return _fold(kg, resolved, targets, columns)
    text = (sql.load("simulate/graded_rows").replace("/*scope*/", scope)
            .replace("/*open_model_columns*/", kg.model_columns("g.")))
    slots = _grade_pivot(resolved, targets, columns, params, kg.open.height > 0)
    for slot in ("per_key", "own_columns", "target_columns"):
        text = text.replace(f"/*{slot}*/", slots[slot])
    params.update(period(scenario))
    frame = wh.sql(text, relations={"sim_grades_keyed": kg.given, "sim_grades_open": kg.open},
                   **bind(text, params))
    sums = frame.select(pl.col("used_pairs", "no_source_pairs", "other_pairs").sum(),
                        (pl.col("used_pairs") > 0).sum().alias("matched"))
    used, no_source, other, matched = (int(sums[c][0] or 0) for c in sums.columns)
    wide = frame.filter(pl.col("used_pairs") > 0).select(*KEY, "g_src", *columns.values())
    return _counted(GradeMatch(wide=wide, columns=columns, graded_requests=kg.graded_requests, graded_pairs=kg.pairs),
                    used, no_source, other, matched)


def _counted(match: GradeMatch, used: int, no_source: int, other: int, matched: int) -> GradeMatch:
    """`match` with its counts: each row of the file keyed to a replayed request row is counted there once (used,
    no source, other model); the rest are not replayed."""
    not_replayed = match.graded_pairs - used - no_source - other
    unused = {r: n for r, n in ((NOT_REPLAYED, not_replayed), (NO_SOURCE, no_source), (OTHER_MODEL, other)) if n}
    return dataclasses.replace(match, matched_requests=matched, used_pairs=used, unused=dict(sorted(unused.items())))


def _fold(kg: grade_keys.KeyedGrades, resolved: list[str], targets: list[str], columns: dict[str, str]
          ) -> GradeMatch:
    """The keyed grades folded into the rows' query (no match query): per row (`u`, joined to its key's grades `g`
    when it is a request row with a model), the columns graded_rows.sql computes — `g_src`, per target the column
    `columns[target]`, and the counts `g_used`, `g_no_source`, `g_other` — from the same CASEs on the row's model
    over the resolved ids (`_grade_pivot`)."""
    params: dict[str, Any] = dict(kg.params())
    slots = _grade_pivot(resolved, targets, columns, params, False, row_model="lower(u.model)", alias="g.")
    own, target = f"coalesce({slots['own_count']}, 0)", f"coalesce({slots['target_count']}, 0)"
    fold = {"g_src": slots["g_src"],
            **{c: f"case when {own} > 0 then {expr} end" for c, expr in slots["targets"].items()},
            "g_used": f"{own} + (case when {own} > 0 then {target} else 0 end)",
            "g_no_source": f"case when {own} = 0 then {target} else 0 end",
            "g_other": f"g.pairs - {own} - {target}"}
    return GradeMatch(wide=kg.given, columns=columns, graded_requests=kg.graded_requests, graded_pairs=kg.pairs,
                      fold=fold, params=params)


def _grade_pivot(resolved: list[str], targets: list[str], columns: dict[str, str], params: dict[str, Any],
                 any_open: bool, row_model: str = "u.row_model", alias: str = "p.") -> dict[str, str]:
    """The slots of sql/simulate/graded_rows.sql for the file's model names resolved (`resolved[k]`: the id of
    name k, whose columns are n{k} and s{k}): the keyed grades per key (`per_key`; regrouped with the ids without a
    provider when the file has any), the row's own-model count and grade (a CASE on its model over the ids, each
    the sum / greatest of its names' columns), the count of its target grades (targets other than its own model)
    and, per target, its grade column (`columns`: target id -> g_mK; null when the file has no grade of that
    model). Names are generated, values bound ($grade_m{j}: the ids)."""
    ids = sorted(set(resolved))
    params.update({f"grade_m{j}": m for j, m in enumerate(ids)})
    at = {m: j for j, m in enumerate(ids)}
    of = {m: [k for k, r in enumerate(resolved) if r == m] for m in ids}

    def count(m: str, alias: str = "") -> str:
        return f"({' + '.join(f'{alias}n{k}' for k in of[m])})" if len(of[m]) > 1 else f"{alias}n{of[m][0]}"

    def score(m: str, alias: str = "") -> str:
        return f"greatest({', '.join(f'{alias}s{k}' for k in of[m])})" if len(of[m]) > 1 else f"{alias}s{of[m][0]}"

    def whens(expr) -> str:
        return " ".join(f"when $grade_m{at[m]} then {expr(m, alias)}" for m in ids)

    if any_open:
        ks = range(len(resolved))
        per_key = ("select row_key, sum(pairs) as pairs"
                   + "".join(f", sum(n{k}) as n{k}, max(s{k}) as s{k}" for k in ks)
                   + "\n    from (select * from keyed union all by name select * from open_keyed)\n    group by row_key")
    else:
        per_key = "select * from keyed"
    own_count = f"case {row_model} {whens(count)} else 0 end"
    g_src = f"case {row_model} {whens(score)} end"
    held = [t for t in targets if t in at]
    target_count = " + ".join(f"(case when {row_model} <> $grade_m{at[t]} then {count(t, alias)} else 0 end)"
                              for t in held) or "0"
    own = f",\n        {own_count} as own_pairs,\n        {g_src} as g_src,\n        {target_count} as target_pairs"
    cols = "".join(f",\n        case when own_pairs > 0 then {score(t)} end as {c}" if t in at
                   else f",\n        cast(null as double) as {c}" for t, c in columns.items())
    return {"per_key": per_key, "own_columns": own, "target_columns": cols, "own_count": own_count, "g_src": g_src,
            "target_count": target_count,
            "targets": {c: score(t, alias) if t in at else "cast(null as double)" for t, c in columns.items()}}


@dataclass(frozen=True)
class ScoreMatch:
    """A router's scores matched to the replayed request rows (the same matching as per-request grades)."""

    # the matched rows' natural keys (two 64-bit halves) and the router's scores: relation `sim_router`
    frame: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(
        schema={"key_hi": pl.UInt64, "key_lo": pl.UInt64, "score": pl.Float64}))
    scored_requests: int = 0          # distinct (provider, request id) in the file
    matched_requests: int = 0         # replayed request rows that got a score

    def relations(self) -> dict[str, pl.DataFrame]:
        return {"sim_router": self.frame} if self.frame.height else {}


def match_router_scores(wh: Warehouse, scenario: Scenario) -> ScoreMatch:
    """`assumptions.router_scores` matched to the request rows the replay reads (sql/simulate/request_grades.sql
    with the router in place of a model: one query; none without scores)."""
    rs = scenario.assumptions.router_scores
    if rs is None:
        return ScoreMatch()
    scope, params = scenario.scope.sql("scope")
    text = sql.load("simulate/request_grades").replace("/*scope*/", scope)
    params.update(period(scenario))
    scored = pl.DataFrame({"request_id": rs.request_id, "provider": rs.provider, "model": "router",
                           "score": rs.score},
                          schema={"request_id": pl.Utf8, "provider": pl.Utf8, "model": pl.Utf8, "score": pl.Float64})
    frame = wh.sql(text, relations={"sim_grades_in": scored}, **bind(text, params))
    return ScoreMatch(frame=frame.select(*KEY, "score"),
                      scored_requests=scored.select("provider", "request_id").n_unique(),
                      matched_requests=frame.select(KEY).n_unique())


# --- target and row prices --------------------------------------------------------------------------------------
def matched_models(wh: Warehouse, pattern: str) -> list[str] | None:
    """The models of the ledger's replayed rows that a `match.models` pattern (spec.py: the globs as one
    case-insensitive alternation) matches, matched once each (sql/simulate/matched_models.sql): a policy's
    eligibility then tests each row's model against this list instead of the pattern (100 M: armstrong's 19 globs
    were ~27 % of the slider pass's DuckDB time). None on an engine over a lake (its rows are not in this ledger):
    the pattern per row there."""
    if not hasattr(wh, "write"):
        return None
    text = sql.load("simulate/matched_models")
    return list(wh.sql(text, pattern=pattern)["models"][0])


def target_prices(wh: Warehouse, scenario: Scenario) -> tuple[list[str], dict[str, Any]]:
    """Per priced target, columns `tp{i}_in|_out|_cr|_cw`: bound prices, a CASE over the catalog's validity
    intervals when prices changed (first interval open to the past, last to the future). A CASE on a few bound
    values is far cheaper than a range join per row."""
    columns, params = [], {}
    for i, pol in enumerate(scenario.policies):
        target = pol.priced_target()
        if target is None:
            continue
        if target.prices is not None:
            pr = target.prices
            rows = [{"valid_to": FAR_FUTURE, "p_in": pr.input, "p_out": pr.output,
                     "p_cr": pr.input if pr.cache_read is None else pr.cache_read,
                     "p_cw": pr.input if pr.cache_write is None else pr.cache_write}]
        elif target.self_hosted:
            rows = self_hosted_prices(wh, target, i)
        else:
            cprov, cmodel = target.catalog
            frame = wh.sql(sql.load("simulate/target_prices"), catalog_provider=cprov, model=cmodel)
            if frame.is_empty() or frame["p_in"].null_count() or frame["p_out"].null_count():
                raise ScenarioError(f"policies.{i}: the catalog has no input/output price for {target.model!r} "
                                    f"({cprov}/{cmodel}); give `prices` explicitly")
            rows = frame.to_dicts()
        for col in ("in", "out", "cr", "cw"):
            whens = []
            for j, r in enumerate(rows):
                params[f"p{i}_{col}{j}"] = float(r[f"p_{col}"])
                if j < len(rows) - 1:
                    params[f"p{i}_to{j}"] = r["valid_to"]
                    whens.append(f"when ts < $p{i}_to{j} then $p{i}_{col}{j}")
            last = f"$p{i}_{col}{len(rows) - 1}"
            expr = f"case {' '.join(whens)} else {last} end" if whens else last
            columns.append(f"cast({expr} as double) as tp{i}_{col}")
    return columns, params


def self_hosted_prices(wh: Warehouse, target: Target, i: int) -> list[dict]:
    """A self-hosted target's price intervals as the ledger prices the model (query `self_hosted_prices`: its cost
    file's effective rate per period, or a user price override where one wins; one definition of the price, read
    from the warehouse, never from finance/). A moved request is priced by the interval holding its day; before
    the first one by the first, after the last by the last, in a gap by the next."""
    where = f"policies.{i}.to: self-hosted:{target.model}"
    if not hasattr(wh, "write"):
        raise ScenarioError(f"{where}: a self-hosted target is priced from the ledger's cost files, which an engine "
                            "over a lake does not read; give the model with `prices` (modelmix self-hosted prints them)")
    text = sql.load("queries/self_hosted_prices")
    frame = wh.sql(text, provider=target.provider, model=target.model)
    providers = sorted(set(frame["provider"]))
    if not providers:
        raise ScenarioError(f"{where}: the ledger prices no self-hosted model of that name; load its cost file "
                            "(modelmix self-hosted FILE) and its usage, or give `prices`")
    if len(providers) > 1:
        raise ScenarioError(f"{where}: self-hosted under several providers ({', '.join(providers)}); name one: "
                            f"{{model: {target.model}, provider: {providers[0]}, self_hosted: true}}")
    return frame.select("valid_to", "p_in", "p_out", "p_cr", "p_cw").to_dicts()


def row_map(wh: Warehouse, scenario: Scenario, names: Names) -> dict[str, list]:
    """Each replayed (provider, model) → its catalog id, for policies that need the row's own prices."""
    out: dict[str, list] = {"rr_provider": [], "rr_model": [], "rr_cprovider": [], "rr_cmodel": []}
    if not any(p.needs_row_rates for p in scenario.policies):
        return out
    # the ledger: its rollup's pairs (no pass over the rows); an engine over a lake: the rows it reads
    text = (sql.load("simulate/replayed_models") if hasattr(wh, "write")
            else "select distinct provider, model from usage_replay")
    for provider, model in wh.sql(text).iter_rows():
        cprov, cmodel = resolve(provider, model, names.aliases)
        if cprov is None:
            continue
        for k, v in zip(out, (provider, model, cprov, cmodel), strict=True):
            out[k].append(v)
    return out


# --- the plan ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """Policy i of the plan: everything the replay and the slider engine need of it."""

    index: int
    policy: Policy
    p: str                    # bind prefix `p{i}`
    label: str                # its label in results
    match: str                # its `match` as a boolean fragment
    eligible: str             # match and the kind's own eligibility
    order_keys: list[str] | None    # ranked kinds: the picking order, most significant first
    cost: str                 # cost of the whole row under the policy
    rate_param: str | None    # the bound rate its cost is linear in
    target_id: str | None     # the target's resolved model id (None: the part stays on its model)
    qratio: float | None
    models: list[str] | None = None   # its `match.models`, resolved (the names as given plus their ids)
    switch: tuple[str, str] | None = None   # cache lost on a switch: (extra at input, extra at cache write) per row
    by_session: bool = False          # a ranked policy moving whole conversations (`unit: session`)


@dataclass
class Plan:
    scenario: Scenario
    steps: list[Step]
    params: dict[str, Any]            # every bound value of the replay and the prepare
    scope: str
    grades: GradeMatch
    router: ScoreMatch
    price_columns: list[str]
    needs_row_rates: bool
    quality_overrides: dict[str, dict[str, float]]
    measured: dict[str, dict[str, float]]
    ctx: dict[str, Any]
    # the rows read as the stored buckets of total tokens (sql/simulate/replay_bucket_rows.sql: one row per
    # `replay_buckets` row, its sums in the row's columns, its ledger rows in `n`): simulate/buckets.py's pass of a
    # scenario whose claims such a group can carry (`Bucketed.stored`); never the replay's own read
    stored_buckets: bool = False

    @classmethod
    def build(cls, wh: Warehouse, scenario: Scenario, grades: GradeMatch | None = None,
              fold_grades: bool = False) -> Plan:
        """`fold_grades`: per-request grades joined by the rows' own query (`match_request_grades(fold=True)`; the
        slider tables' prepare, which counts them from its rows: `GradeMatch.counted`)."""
        names = Names.of(wh)
        ctx = {"escalation_rate": scenario.assumptions.escalation_rate}
        scope, params = scenario.scope.sql("scope")
        steps = []
        for i, pol in enumerate(scenario.policies):
            p = f"p{i}"
            match = pol.match
            models_in = None
            if match.models:
                match = match.model_copy(update={"models": names.patterns(match.models)})
                models_in = matched_models(wh, match.sql(p)[1][f"{p}_models"])
            match_sql, match_params = match.sql(p, models_in)
            params.update(match_params)
            params.update(pol.params(p, ctx))
            label = scenario.policy_label(i)
            params[f"{p}_label"] = label
            params[f"{p}_lever"] = pol.lever
            target = pol.target()
            tlabel = pol.target_label()
            target_id = None
            if tlabel is not None:
                target_id = names.target_id(target) if target is not None else tlabel.lower()
                params[f"{p}_target"] = tlabel
                params[f"{p}_target_id"] = target_id
            qr = pol.quality_ratio()
            if qr is not None:
                params[f"{p}_qratio"] = qr
            steps.append(Step(
                index=i, policy=pol, p=p, label=label, match=match_sql,
                eligible=f"({match_sql}) and ({pol.eligible_sql()})",
                order_keys=pol.order_keys(p) if pol.ranked else None,
                cost=pol.cost_sql(p, i), rate_param=pol.rate_param(p), target_id=target_id, qratio=qr,
                models=match.models,
                switch=pol.switch_sql(p, i) if scenario.assumptions.cache_on_switch == "lost" else None,
                by_session=pol.by_session))
        if any(s.switch is not None for s in steps) and hasattr(wh, "write"):
            # no row of the period read from a cache: no move can lose any (exact; saves the accounting's pass).
            # The ledger itself only: an engine over a lake (no usage_raw) always does the accounting
            text = sql.load("simulate/cache_reads")
            if not wh.sql(text, **bind(text, period(scenario)))["any_cache_reads"][0]:
                steps = [dataclasses.replace(s, switch=None) for s in steps]
        if grades is None:
            grades = match_request_grades(wh, scenario, names,
                                          [s.target_id for s in steps if s.target_id and s.qratio is None],
                                          fold=fold_grades)
        params.update(grades.params)
        columns, tp_params = target_prices(wh, scenario)
        params.update(period(scenario))
        params["output_multiplier"] = scenario.assumptions.output_multiplier
        params["input_multiplier"] = scenario.assumptions.input_multiplier
        params.update(tp_params)
        params.update(row_map(wh, scenario, names))
        overrides = names.scores(scenario.assumptions.quality)
        measured = names.scores(scenario.assumptions.measured)
        params.update(quality.bind_lists(overrides, quality.stored_scores(wh), measured))
        router = match_router_scores(wh, scenario)
        return cls(scenario=scenario, steps=steps, params=params, scope=scope, grades=grades, router=router,
                   price_columns=columns, needs_row_rates=any(p.needs_row_rates for p in scenario.policies),
                   quality_overrides=overrides, measured=measured, ctx=ctx)

    @property
    def graded(self) -> bool:
        return self.grades.any_used

    def relations(self) -> dict[str, pl.DataFrame]:
        """The frames the rows read by name (matched grades, a router's scores): `Warehouse.sql(relations=…)`."""
        return {**self.grades.relations(), **self.router.relations()}

    @property
    def lost_steps(self) -> list[Step]:
        """The policies whose moved requests lose their conversation's cache (cache_on_switch: lost)."""
        return [s for s in self.steps if s.switch is not None]

    @property
    def sessions(self) -> bool:
        """Whether the rows carry their conversation (`session_id`, `unit_key`): a session unit or a cache loss."""
        return bool(self.lost_steps) or any(s.by_session for s in self.steps)

    def grade_columns(self) -> list[str]:
        """Per row, the grade of its own model (`g_src`) and of each model target (`g_t{i}`; a quality_ratio
        target is scored from the source), looked up in the row's grades (null: not graded)."""
        fold = self.grades.fold
        cols = [f"{fold['g_src']} as g_src" if fold else "g.g_src as g_src"]
        # a generated column name per target model (GradeMatch.columns), or none: no grade of that model was used
        cols += [(f"{fold[self.grades.columns[s.target_id]]} as g_t{s.index}" if fold else
                  f"g.{self.grades.columns[s.target_id]} as g_t{s.index}") if s.target_id in self.grades.columns
                 else f"cast(null as double) as g_t{s.index}"
                 for s in self.steps if s.target_id is not None and s.qratio is None]
        if fold:
            cols += [f"{fold[c]} as {c}" for c in ("g_used", "g_no_source", "g_other")]
        return cols

    def rows_sql(self, keyed: bool = True) -> str:
        """The rows the replay reads (sql/simulate/replay_rows.sql), its slots filled. `keyed=False`: without the
        grades', the router's and the conversations' joins and columns (the same rows: left joins on unique keys;
        for counting them)."""
        if not keyed:
            return dataclasses.replace(self, grades=GradeMatch(), router=ScoreMatch(), steps=[]).rows_sql()
        if self.stored_buckets:
            return sql.load("simulate/replay_bucket_rows").replace("/*scope*/", self.scope)
        return (sql.load("simulate/replay_rows")
                # the grades are joined only when some matched: without them the rows read no key
                # folded: every key of the file, so a request row with a model only (graded_rows.sql's rows)
                .replace("/*grade_join*/", ("left join grades as g on g.row_key = u.row_key"
                                            + (" and u.granularity = 'request' and u.model is not null"
                                               if self.grades.fold else "")) if self.graded else "")
                .replace("/*grade_columns*/", "".join(", " + c for c in self.grade_columns()) if self.graded else "")
                # a router's scores: joined when some matched; the column exists whenever a policy picks by them
                .replace("/*router_join*/", "left join router as rs on rs.row_key = u.row_key" if self.router.frame.height
                         else "")
                .replace("/*router_columns*/", (", rs.r_score" if self.router.frame.height else
                                                ", cast(null as double) as r_score")
                         if any(s.policy.needs_router_scores for s in self.steps) else "")
                # the conversation (cache loss groups by it); a session unit's key: hash(session_id), else the row's
                # own hash (on Spark: the lake's session_hash, DuckDB's hash exported; warehouse/spark.py)
                .replace("/*session_columns*/", (", session_id" if self.sessions else "")
                         + (", case when session_id is null then row_hash else hash(session_id) end as unit_key"
                            if any(s.by_session for s in self.steps) else ""))
                .replace("/*scope*/", self.scope))

    def with_rows(self, text: str, keyed: bool = True) -> str:
        """A template's `replay_rows`, `row_rates`, `rate_columns` and `joins` slots filled (`keyed`: rows_sql's)."""
        columns = list(self.price_columns)
        joins = ""
        if self.needs_row_rates:
            columns += ["rr.r_in", "rr.r_cr"]
            joins = ("asof left join row_rates as rr\n"
                     "        on rr.provider = s.provider and rr.model = s.model and s.ts >= rr.valid_from")
        return (text.replace("/*replay_rows*/", self.rows_sql(keyed).strip().replace("\n", "\n    "))
                .replace("/*row_rates*/", sql.load("simulate/row_rates").strip().replace("\n", "\n    "))
                .replace("/*rate_columns*/", "".join(", " + c for c in columns))
                .replace("/*joins*/", joins))

    def bind(self, text: str) -> dict[str, Any]:
        return bind(text, self.params)

    def warnings(self, models: set[str] | list[str]) -> list[str]:
        """What the replay should say about the scenario given the models its rows hold: a policy whose
        `match.models` names no model of any row moves nothing, silently otherwise."""
        present = sorted({m.lower() for m in models if m})
        out = []
        for s in self.steps:
            if not s.models:
                continue
            pattern = re.compile("|".join(f"(?:{glob_to_regex(m)})" for m in s.models))
            if not any(pattern.fullmatch(m) for m in present):
                given = ", ".join(s.policy.match.models or [])
                shown = ", ".join(present[:8]) + (f" and {len(present) - 8} more" if len(present) > 8 else "")
                out.append(f"policies.{s.index}.match.models: no row in the period and scope is on {given} (after "
                           f"resolving names as ingest does), so it moves nothing; the models there: "
                           f"{shown or 'none'}")
        return out


__all__ = ["EPS", "GradeMatch", "Names", "Plan", "ScoreMatch", "match_router_scores", "Step", "bind", "claimed_count", "decimal_share",
           "match_request_grades", "period", "share_for_count", "target_prices"]
