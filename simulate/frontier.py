"""What-if slider tables and the cost–quality frontier (docs/simulation.md "Slider tables and the frontier";
docs/design.md "Storage and concurrency").

One SQL pass (sql/simulate/frontier_rows.sql, built from the same policy fragments as the replay) fetches, per
replayed row, each policy's static eligibility, rank key and cost coefficients. `Prepared` then makes the
replay's claims in numpy (policies in order, each on what earlier ones left; floor(share × N) ranked request
rows; buckets split by share), so ANY slider values of the same scenario structure are evaluated without SQL:

- `Prepared.evaluate(scenario)`: all slider values at once, O(rows) numpy (no query).
- `Prepared.table(i, scenario)`: for a ranked policy i (shift), the cumulative table over its eligible request
  rows in rank order (running sums of cost, quality-weighted requests, moved requests, savings per policy —
  each split into coefficients of 1, output_multiplier and each policy's rate). A share is then an index
  lookup: k = floor(share × N), totals = base + cum[k] + share × (bucket part). Exact, sub-millisecond.

Slider values (not structure): every ranked policy's `share`, a cascade's `escalation_rate`, a cache's
`hit_rate`, and `assumptions.output_multiplier`. Costs are linear in the last three (each part's cost is
c0 + m·cm + x·cx), so they stay lookups too. The structure (period, scope, matches, targets, pick, seed,
discount, quality table) keys the cache: one `Prepared` per (structure, ledger, data_version).

The cumulative table of policy i is exact when no ranked policy follows i (a later ranked policy's N would
depend on i's share); `sweep` then falls back to `evaluate` per grid point (still no SQL, O(rows) each).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

import sql
from simulate import quality
from simulate.keysort import lex_order
from simulate.memo import Memo
from simulate.plan import EPS as _EPS
from simulate.plan import Plan, Savings, claimed_count, share_for_count
from simulate.scenario import Scenario
from simulate.spec import ScenarioError

if TYPE_CHECKING:
    from warehouse.db import Warehouse

LOST_LEVER = "cache_lost_on_switch"   # replay.sql's lever of the cache a move loses
QUALITY_BAR = 0.95   # RouteLLM's operating point: "95% of GPT-4 performance" (docs/research.md "RouteLLM")


def structure_key(scenario: Scenario) -> str:
    """The scenario without its slider values: what a prepared table depends on."""
    # per-request grades count by their digest (a JSON dump of them through json.dumps: ~1 ms per 1,000 rows)
    data = scenario.model_dump(mode="json", exclude={"assumptions": {"request_grades", "router_scores"}})
    for name in ("request_grades", "router_scores"):
        value = getattr(scenario.assumptions, name)
        if value is not None:
            data["assumptions"][name] = value.digest()
    data.pop("name", None)
    data.pop("title", None)
    data.pop("description", None)
    data["assumptions"].pop("output_multiplier", None)
    data["assumptions"].pop("input_multiplier", None)
    data["assumptions"].pop("escalation_rate", None)
    for p in data["policies"]:
        p.pop("name", None)
        for k in ("share", "escalation_rate", "hit_rate"):
            p.pop(k, None)
    return json.dumps(data, sort_keys=True)


def slider_values(scenario: Scenario) -> tuple[tuple[float, float], list[float | None], list[float]]:
    """((output_multiplier, input_multiplier), share per policy (None: not ranked), rate per policy (escalation /
    hit rate, else 0))."""
    ctx = {"escalation_rate": scenario.assumptions.escalation_rate}
    shares = [p.share if p.ranked else None for p in scenario.policies]
    rates = [p.rate(ctx) for p in scenario.policies]
    a = scenario.assumptions
    return (a.output_multiplier, a.input_multiplier), shares, rates


@dataclass
class Outcome(Savings):
    """Totals of one evaluation (the headline figures of a `Result`), plus per-team and per-policy savings."""

    baseline_cost_usd: float
    scenario_cost_usd: float
    baseline_quality: float | None
    scenario_quality: float | None
    scored_requests: float
    total_requests: float
    measured_requests: float
    moved_requests: float
    savings_by_policy: dict[str, float] = field(default_factory=dict)
    savings_by_lever: dict[str, float] = field(default_factory=dict)
    by_team: pl.DataFrame | None = None

    @property
    def quality_ratio(self) -> float | None:
        if not self.baseline_quality or self.scenario_quality is None:
            return None
        return self.scenario_quality / self.baseline_quality


def _q(workload: str, model: str, scores: dict[str, dict[str, float]]) -> tuple[float | None, float | None]:
    w = scores.get(workload, {}).get(model)
    d = scores.get("*", {}).get(model)
    return w, d


def _part_quality(workload: str, source: str, target: str | None, qratio: float | None,
                  scores: dict[str, dict[str, float]],
                  measured: dict[str, dict[str, float]] | None = None) -> tuple[float, float, float, bool]:
    """(baseline, target-at-esc-0, source-at-esc-1, measured) of a part, as replay.sql's `scored`/`final`;
    NaN = unknown. `target` None = the part stays on its model. Measured: every score used is a shadow score."""
    measured = measured or {}

    def m(block: str, model: str) -> bool:
        return model in measured.get(block, {})

    ws, ds = _q(workload, source, scores)
    own = ws if ws is not None else ds
    nan = float("nan")
    if target is None or qratio is not None:
        if own is None:
            return nan, nan, nan, False
        own_m = target is None and (m(workload, source) if ws is not None else m("*", source))
        return own, (own if target is None else qratio * own), own, own_m
    wt, dt = _q(workload, target, scores)
    if ws is not None and wt is not None:
        return ws, wt, ws, m(workload, source) and m(workload, target)
    if ds is not None and dt is not None:
        return ds, dt, ds, m("*", source) and m("*", target)
    return nan, nan, nan, False


class Figures:
    """What both slider engines share: the per-row `Prepared` (a period of at most `row_limit()` rows) and the
    bucketed `simulate.buckets.Bucketed` (any size): turning coefficient totals into an `Outcome`."""

    scenario: Scenario
    levers: list[str]
    labels: list[str]
    lost: list[int]
    baseline_cost: float
    total_requests: float
    teams: list[str]
    _team_base: np.ndarray
    ranked: list[bool]
    multi_sessions: bool

    def lookup_ok(self, i: int) -> bool:
        """Whether policy i's share is a lookup in a cumulative table: a ranked policy with no ranked policy after
        it, and (with conversations of several requests) no later policy losing their cache."""
        n = len(self.levers)
        return (self.ranked[i] and not any(self.ranked[j] for j in range(i + 1, n))
                and not (self.multi_sessions and any(j in self.lost for j in range(i + 1, n))))

    @staticmethod
    def _multipliers(m: float | tuple[float, float], rates: list[float]) -> dict[str, float]:
        """Each coefficient's multiplier: '1', the output ('m') and input ('i') token multipliers (`m`: the
        output multiplier, or (output, input)), each policy's rate ('x{j}')."""
        out_m, in_m = m if isinstance(m, tuple) else (m, 1.0)
        return {"1": 1.0, "m": out_m, "i": in_m, **{f"x{j}": r for j, r in enumerate(rates)}}

    def _outcome(self, totals: dict[tuple[str, str], float], m: float, rates: list[float],
                 by_team: pl.DataFrame | None = None) -> Outcome:
        mult = self._multipliers(m, rates)
        agg: dict[str, float] = {}
        for (name, key), value in totals.items():
            agg[name] = agg.get(name, 0.0) + float(value) * mult[key]
        w = agg.get("w", 0.0)
        bq = sq = None
        if w > 0:
            bq, sq = round(agg["qb"] / w, 6), round(agg["qs"] / w, 6)
        by_policy: dict[str, float] = {}
        by_lever: dict[str, float] = {}
        for j, lever in enumerate(self.levers):
            saved = agg.get(f"save{j}", 0.0)
            by_lever[lever] = round(by_lever.get(lever, 0.0) + saved, 6)
            if j in self.lost:
                # the cache its moved requests lose: its own lever (replay.sql's part), in the policy's savings
                lost = agg.get(f"lost{j}", 0.0)
                by_lever[LOST_LEVER] = round(by_lever.get(LOST_LEVER, 0.0) + lost, 6)
                saved += lost
            by_policy[self.labels[j]] = round(by_policy.get(self.labels[j], 0.0) + saved, 6)
        return Outcome(
            baseline_cost_usd=round(self.baseline_cost, 6), scenario_cost_usd=round(agg["cost"], 6),
            baseline_quality=bq, scenario_quality=sq, scored_requests=round(w, 6),
            total_requests=self.total_requests, measured_requests=round(agg.get("meas", 0.0), 6),
            moved_requests=round(agg["moved"], 6),
            savings_by_policy=by_policy, savings_by_lever=by_lever, by_team=by_team)

    def _team_frame_totals(self, scen: np.ndarray) -> pl.DataFrame:
        base = self._team_base
        return (pl.DataFrame({"team": self.teams, "baseline_cost_usd": base, "scenario_cost_usd": scen})
                .with_columns((pl.col("baseline_cost_usd") - pl.col("scenario_cost_usd")).alias("savings_usd"))
                .sort("baseline_cost_usd", descending=True))

    def _check(self, scenario: Scenario) -> None:
        if structure_key(scenario) != structure_key(self.scenario):
            raise ScenarioError("the scenario's structure differs from the prepared table's; prepare it again")


class Prepared(Figures):
    """Per-row arrays of one scenario structure over the ledger (see the module docstring). With `frame` (and
    `plan`, `scores`): the arrays of those rows only — a chunk of the bucketed engine (simulate/buckets.py)."""

    per_row = True

    def __init__(self, wh: Warehouse | None, scenario: Scenario, *, plan: Plan | None = None,
                 frame: pl.DataFrame | None = None, scores: dict[str, dict[str, float]] | None = None):
        self.scenario = scenario
        self.plan = plan = plan or Plan.build(wh, scenario)
        self.grades = plan.grades
        self.sql = self._build_sql(plan)
        if frame is None:
            frame = wh.sql(self.sql, relations=plan.relations(), **plan.bind(self.sql))
        if plan.grades.fold is not None:
            # the grades were joined by this query (Plan.build(fold_grades=True)): their figures from its rows
            self.grades = plan.grades.counted(frame)
        unpriced = frame["unpriced"]
        self.unpriced_requests = int(frame["requests"].filter(unpriced).sum() or 0)
        if unpriced.any():
            frame = frame.filter(~unpriced)          # a copy of every column: only when some row is unpriced
        self.n_rows = frame.height
        self.is_req = frame["is_request"].to_numpy().astype(bool)
        # numeric columns read in place where polars' buffer already has the type (read-only arrays, never written:
        # a copy of each cost ~10 ms per million rows, ~0.1 cpu-s a prepare)
        self.requests = frame["requests"].to_numpy().astype(np.float64, copy=False)
        self.base = frame["base_cost"].to_numpy().astype(np.float64, copy=False)
        teams = frame["team"].fill_null("(none)")
        self.teams = teams.unique().sort().to_list()
        # each row's index in the sorted team names: an Enum of them, its physical codes
        self.team_codes = teams.cast(pl.Enum(self.teams)).to_physical().to_numpy().astype(np.int64, copy=False)
        self.levers = [p.lever for p in scenario.policies]
        self.labels = [scenario.policy_label(i) for i in range(len(scenario.policies))]
        self.ranked = [p.ranked for p in scenario.policies]
        self.elig, self.order, self.c0, self.cm, self.ci, self.cx = [], [], [], [], [], []
        self.order_cols: list[list[np.ndarray] | None] = []
        self.row_hash: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for step in plan.steps:
            j = step.index
            self.elig.append(frame[f"e{j}"].fill_null(False).to_numpy().astype(bool))
            if step.order_keys is not None:
                # the policy's order keys of its eligible request rows (null elsewhere), sorted here: a window
                # in SQL would sort the wide rows (measured: most of the prepare's time)
                keys = [frame[f"o{j}_{k}"] for k in range(len(step.order_keys))]
                ranked = keys[0].is_not_null()
                rows = np.flatnonzero(ranked.to_numpy())
                # the eligible rows' keys taken in polars, then to numpy in their own type: a column with nulls
                # comes out of polars as float64 (a 64-bit row hash rounded: a seed band's hashes then differed from
                # the replay's; integer keys also sort ~1/3 faster than the same as doubles)
                cols = [(c.cast(pl.Int64) if c.dtype == pl.Datetime or c.dtype == pl.Date else c).filter(ranked)
                        .to_numpy() for c in keys]
                perm = lex_order(cols)                               # np.lexsort's order, ~half the time
                self.order.append(rows[perm])
                self.order_cols.append([c[perm] for c in cols])      # the keys, aligned with `order`
                # a random pick's order keys are (hash(row_hash xor seed mix), row_hash): keep the row hashes so
                # any other seed's order is a numpy sort (seed_band), the same permutation the SQL would give
                if getattr(step.policy, "pick", None) == "random":
                    self.row_hash[j] = (rows, cols[1].astype(np.uint64))
            else:
                self.order.append(None)
                self.order_cols.append(None)
            for name, out in (("c0", self.c0), ("cm", self.cm), ("ci", self.ci), ("cx", self.cx)):
                out.append(frame[f"{name}_{j}"].fill_null(0.0).to_numpy().astype(np.float64, copy=False))
        self._sessions(frame)
        self._quality(self.scores_of(wh, plan) if scores is None else scores, frame)
        self.baseline_cost = float(self.base.sum())
        self.total_requests = float(self.requests.sum())
        self._team_base = np.bincount(self.team_codes, weights=self.base, minlength=len(self.teams))
        # what the page says when a scenario moves nothing: each policy's eligible requests, and the plan's
        # warnings (a match.models naming no model with rows)
        self.eligible_requests = [float(self.requests[e].sum()) for e in self.elig]
        self.warnings = plan.warnings(frame["model"].unique().drop_nulls().to_list())
        self._tables: dict[int, tuple[tuple, CumTable]] = {}
        self._folded: dict[int, tuple[tuple, CumTable]] = {}      # router_report's folded tables

    def _sessions(self, frame: pl.DataFrame) -> None:
        """The conversations the replay's cache-loss accounting and session units read (docs/simulation.md "Cache
        lost on a switch"): per row its unit code (`unit_code`: every row, a row without a session its own), its
        conversation code (`sess_code`: request rows with a session id, else -1), the conversation's request rows
        (`sess_n`), its rank in (conversation, ts, row hash) order (`sess_pos`, `row_at_pos` back); per losing policy
        the extra of its cache-read tokens at the target's input and cache-write prices (`lk[j]`: constant and
        × input multiplier)."""
        self.lost = [s.index for s in self.plan.lost_steps]
        self.lk: dict[int, dict[str, np.ndarray]] = {}
        for j in self.lost:
            self.lk[j] = {k: frame[f"{k}_{j}"].fill_null(0.0).to_numpy().astype(np.float64, copy=False)
                          for k in ("lkin0", "lkini", "lkcw0", "lkcwi")}
        self.unit_code = self.sess_code = None
        self.sess_n = np.zeros(0, dtype=np.int64)
        self.multi_sessions = False
        if not self.plan.sessions:
            return
        sid = frame["session_id"]
        known = sid.is_not_null().to_numpy()
        code = sid.cast(pl.Categorical).to_physical().fill_null(0).to_numpy().astype(np.int64, copy=False)
        # a unit: its conversation, else the row itself (codes after every conversation's)
        self.unit_code = np.where(known, code, int(code.max(initial=0)) + 1 + np.arange(self.n_rows))
        has = known & self.is_req
        self.sess_code = np.full(self.n_rows, -1, dtype=np.int64)
        if has.any():
            _, codes = np.unique(code[has], return_inverse=True)
            self.sess_code[has] = codes
            self.sess_n = np.bincount(codes)
        self.multi_sessions = bool((self.sess_n > 1).any())
        ts = frame["ts"].cast(pl.Int64).to_numpy()
        rh = frame["row_hash"].to_numpy().astype(np.uint64, copy=False)
        self.row_at_pos = np.lexsort((rh, ts, self.sess_code))
        self.sess_pos = np.empty(self.n_rows, dtype=np.int64)
        self.sess_pos[self.row_at_pos] = np.arange(self.n_rows)

    def _lost_extra(self, j: int, f: np.ndarray, idx: np.ndarray | None, requests: bool = True
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Policy j's cache-loss extra per row given its claims `f` (constant, × input multiplier), as replay.sql's
        `switched`: a request row claimed pays the cache write when it is the first claimed of its conversation
        (by ts, then row hash; a row without a session id always), nothing more when its whole conversation is
        claimed, else the input price; a bucket's claimed fraction the input price. `idx`: only those rows (their
        conversations must lie within them). `requests=False`: request rows left out (a table adds them in rank
        order itself)."""
        lk = self.lk[j]
        g = (lambda a: a) if idx is None else (lambda a: a[idx])
        in0, ini, cw0, cwi = g(lk["lkin0"]), g(lk["lkini"]), g(lk["lkcw0"]), g(lk["lkcwi"])
        req = g(self.is_req)
        bucket = ~req & (f > _EPS)
        e0 = np.where(bucket, f * in0, 0.0)
        ei = np.where(bucket, f * ini, 0.0)
        if not requests:
            return e0, ei
        took = req & (f > _EPS)
        first = took.copy()
        whole = took.copy()
        if self.sess_code is not None:
            sess = g(self.sess_code)
            s = took & (sess >= 0)
            if s.any():
                codes = sess[s]
                pos = g(self.sess_pos)[s]
                n_s = self.sess_n.shape[0]
                whole[s] = np.bincount(codes, minlength=n_s)[codes] == self.sess_n[codes]
                low = np.full(n_s, np.iinfo(np.int64).max)
                np.minimum.at(low, codes, pos)
                first[s] = pos == low[codes]
        e0 = e0 + np.where(took, np.where(first, cw0, np.where(whole, 0.0, in0)), 0.0)
        ei = ei + np.where(took, np.where(first, cwi, np.where(whole, 0.0, ini)), 0.0)
        return e0, ei

    # --- building ------------------------------------------------------------------------------------------
    @staticmethod
    def _build_sql(plan: Plan) -> str:
        cols = []
        units = []
        if plan.sessions:
            cols += ["session_id", "ts", "row_hash"]
        for step in plan.steps:
            j = step.index
            elig = f"({step.eligible} and not unpriced)"
            cols.append(f"{elig} as e{j}")
            if step.order_keys is not None:
                req = f"({elig} and granularity = 'request')"
                cols += [f"case when {req} then {key} end as o{j}_{k}" for k, key in enumerate(step.order_keys)]

            def at(m: str, x: str, i: str = "0.0", cost: str = step.cost, rate: str | None = step.rate_param) -> str:
                text = cost.replace("$output_multiplier", m).replace("$input_multiplier", i)
                return text.replace(rate, x) if rate else text

            units += step.policy.unit_sql(j, step.eligible)
            if step.switch is not None:
                for name, expr in zip(("lkin", "lkcw"), step.switch, strict=True):
                    cols.append(f"cast({at('0.0', '0.0', cost=expr, rate=None)} as double) as {name}0_{j}")
                    cols.append(f"cast(({at('0.0', '0.0', '1.0', cost=expr, rate=None)}) - "
                                f"({at('0.0', '0.0', cost=expr, rate=None)}) as double) as {name}i_{j}")
            cols.append(f"cast({at('0.0', '0.0')} as double) as c0_{j}")
            cols.append(f"cast(({at('1.0', '0.0')}) - ({at('0.0', '0.0')}) as double) as cm_{j}")
            cols.append(f"cast(({at('0.0', '0.0', '1.0')}) - ({at('0.0', '0.0')}) as double) as ci_{j}")
            cols.append(f"cast(({at('0.0', '1.0')}) - ({at('0.0', '0.0')}) as double) as cx_{j}")
        if plan.graded:
            # the per-request grades of each row's own model and of each model target (replay.sql's g_src, g_t{i})
            cols += ["g_src"] + [f"g_t{s.index}" for s in plan.steps if s.target_id is not None and s.qratio is None]
            if plan.grades.fold is not None:
                cols += ["g_used", "g_no_source", "g_other"]      # counted here (GradeMatch.counted)
        return (plan.with_rows(sql.load("simulate/frontier_rows"))
                .replace("/*unit_columns*/", "".join(", " + u for u in units))
                .replace("/*columns*/", "".join(",\n        " + c for c in cols)))

    @staticmethod
    def scores_of(wh: Warehouse, plan: Plan) -> dict[str, dict[str, float]]:
        """The quality table the parts are scored from (the scenario's overrides over the stored scores)."""
        return quality.table(plan.quality_overrides, quality.stored_scores(wh), plan.measured)

    def _quality(self, scores: dict[str, dict[str, float]], frame: pl.DataFrame) -> None:
        measured = self.plan.measured
        # per distinct (workload, model) pair, not per row: a code per row (polars' hash grouping, no join or
        # sort of the rows), the pair's scores computed once, then gathered by code; the model lower-cased per
        # pair, not per row (two spellings of one model are two pairs with the same scores)
        keys = frame.select(pl.col("workload").fill_null(""), pl.col("model").fill_null(""))
        w, m = (keys[c].cast(pl.Categorical).to_physical().to_numpy().astype(np.int64, copy=False)
                for c in ("workload", "model"))
        pair = w * (int(m.max(initial=0)) + 1) + m
        space = int(pair.max(initial=-1)) + 1
        if space <= 4 * len(pair) + 4096:
            # the pairs through a table indexed by code (no sort of the rows); categorical codes are small
            # unless the process has seen many strings, then np.unique
            seen = np.zeros(space, dtype=bool)
            seen[pair] = True
            uniq = np.flatnonzero(seen)
            slot = np.full(space, -1, dtype=np.int64)
            slot[uniq] = np.arange(len(uniq))
            codes = slot[pair]
            some_row = np.zeros(space, dtype=np.int64)
            some_row[pair] = np.arange(len(pair))              # a row of each pair (which one does not matter)
            first = some_row[uniq]
        else:
            uniq, first = np.unique(pair, return_index=True)
            codes = np.searchsorted(uniq, pair)
        combos = keys[first].with_columns(pl.col("model").str.to_lowercase())
        steps = self.plan.steps
        n_c = combos.height
        own, mown = np.full(n_c, np.nan), np.zeros(n_c, dtype=bool)
        per = {(k, j): (np.zeros(n_c, dtype=bool) if k == "m" else np.full(n_c, np.nan))
               for j in range(len(steps)) for k in "btsm"}
        for c, (w, m) in enumerate(combos.select("workload", "model").iter_rows()):
            o = _part_quality(w, m, None, None, scores, measured)
            own[c], mown[c] = o[0], o[3]
            for s in steps:
                qb, qt, qs, meas = _part_quality(w, m, s.target_id, s.qratio, scores, measured)
                for k, v in zip("btsm", (qb, qt, qs, meas), strict=True):
                    per[(k, s.index)][c] = v
        self.q_own = own[codes]
        self.m_own = mown[codes]
        self.qb = [per[("b", j)][codes] for j in range(len(steps))]
        self.qt = [per[("t", j)][codes] for j in range(len(steps))]
        self.qs = [per[("s", j)][codes] for j in range(len(steps))]
        self.qm = [per[("m", j)][codes] for j in range(len(steps))]
        if "g_src" in frame.columns:
            self._request_grades(frame)

    def _request_grades(self, frame: pl.DataFrame) -> None:
        """Rows a shadow evaluation graded per request: their grades replace the table's scores, part by part as
        replay.sql's `_graded_sums` (a moved part needs the source's and the target's grade of that request; a
        quality_ratio target scales the source's grade and stays assumed; a part that stays uses its own)."""
        g_src = frame["g_src"].fill_null(float("nan")).to_numpy()
        has = ~np.isnan(g_src)
        self.q_own = np.where(has, g_src, self.q_own)
        self.m_own = self.m_own | has
        for step in self.plan.steps:
            j, qr = step.index, step.qratio
            if step.target_id is None:
                cov, qt, meas = has, g_src, True
            elif qr is not None:
                cov, qt, meas = has, qr * g_src, False
            else:
                g_t = frame[f"g_t{j}"].fill_null(float("nan")).to_numpy()
                cov, qt, meas = has & ~np.isnan(g_t), g_t, True
            self.qb[j] = np.where(cov, g_src, self.qb[j])
            self.qt[j] = np.where(cov, qt, self.qt[j])
            self.qs[j] = np.where(cov, g_src, self.qs[j])
            self.qm[j] = np.where(cov, meas, self.qm[j])

    # --- claims and quantities -----------------------------------------------------------------------------
    def claims(self, shares: list[float | None], cuts: dict[int, tuple | None] | None = None) -> np.ndarray:
        """(P + 1, rows): the fraction of each row claimed by policy j; the last row is what no policy claims.
        `cuts` (the bucketed engine's chunks): for ranked policy j, the key tuple of the last unit its share claims
        over the whole period (None: none), so that its request rows are claimed by key, not by a count of these
        rows only."""
        n_pol = len(self.levers)
        out = np.zeros((n_pol + 1, self.n_rows))
        rem = np.ones(self.n_rows)
        for j, pol in enumerate(self.scenario.policies):
            elig = self.elig[j] & (rem > _EPS)
            if cuts and j in cuts:
                f = np.zeros(self.n_rows)
                order = self.order[j]
                live = elig[order]
                took = order[live & _at_most(self.order_cols[j], cuts[j])]
                f[took] = rem[took]
                buckets = elig & ~self.is_req
                f[buckets] = float(shares[j]) * rem[buckets]
            elif pol.by_session:
                f = pol.claim_rows(elig, rem, self.is_req, self.order[j], shares[j], units=self.unit_code)
            else:
                f = pol.claim_rows(elig, rem, self.is_req, self.order[j], shares[j])
            out[j] = f
            rem = rem - f
        out[n_pol] = rem
        return out

    def quantities(self, claims: np.ndarray, idx: np.ndarray | None = None, in_order: tuple[int, ...] = (),
                   names: tuple[str, ...] | None = None) -> dict[tuple[str, str], np.ndarray]:
        """Per-row coefficient columns: (quantity, multiplier) -> vector, where multiplier is '1', 'm' (the
        output multiplier), 'i' (the input multiplier) or 'x{j}' (policy j's rate). Every figure is linear in these
        multipliers. `idx`: only those rows (`claims` then holds their columns only). A losing policy's cache
        extra is in `cost` and, negated, in `lost{j}`; for the policies in `in_order` its request rows are left out
        (a cumulative table adds them in rank order). `names`: only those quantities (the savings by lever, lost
        cache, moved and measured requests cost a third of the work and a folded table reads none of them)."""
        every = names is None

        def g(a: np.ndarray) -> np.ndarray:
            return a if idx is None else a[idx]

        n_pol = len(self.levers)
        n = self.n_rows if idx is None else len(idx)
        req = g(self.requests)
        base = g(self.base)
        none = claims[n_pol]
        cols: dict[tuple[str, str], np.ndarray] = {}
        cost = none * base
        cost_m = np.zeros(n)
        cost_i = np.zeros(n)
        q_own = g(self.q_own)
        scored = ~np.isnan(q_own)
        w_none = np.where(scored, req * none, 0.0)
        own = np.nan_to_num(q_own)
        w, qb, qs = w_none.copy(), w_none * own, w_none * own
        meas = np.where(g(self.m_own), w_none, 0.0) if every else None
        moved = np.zeros(n)
        for j in range(n_pol):
            f = claims[j]
            c0, cm, ci, cx = g(self.c0[j]), g(self.cm[j]), g(self.ci[j]), g(self.cx[j])
            pqb, pqt, pqs = g(self.qb[j]), g(self.qt[j]), g(self.qs[j])
            cost = cost + f * c0
            cost_m = cost_m + f * cm
            cost_i = cost_i + f * ci
            cols[("cost", f"x{j}")] = f * cx
            if every:
                cols[(f"save{j}", "i")] = -f * ci
                cols[(f"save{j}", "1")] = f * (base - c0)
                cols[(f"save{j}", "m")] = -f * cm
                cols[(f"save{j}", f"x{j}")] = -f * cx
            ok = ~(np.isnan(pqb) | np.isnan(pqt) | np.isnan(pqs))
            wj = np.where(ok, req * f, 0.0)
            w = w + wj
            if every:
                meas = meas + np.where(g(self.qm[j]), wj, 0.0)
                moved = moved + req * f
            qb = qb + wj * np.nan_to_num(pqb)
            qs = qs + wj * np.nan_to_num(pqt)
            if self.scenario.policies[j].escalates:
                cols[("qs", f"x{j}")] = wj * np.nan_to_num(pqs - pqt)
        for j in self.lost:
            e0, ei = self._lost_extra(j, claims[j], idx, requests=j not in in_order)
            cost = cost + e0
            cost_i = cost_i + ei
            if every:
                cols[(f"lost{j}", "1")] = -e0
                cols[(f"lost{j}", "i")] = -ei
        cols[("cost", "1")] = cost
        cols[("cost", "m")] = cost_m
        cols[("cost", "i")] = cost_i
        cols[("w", "1")] = w
        cols[("qb", "1")] = qb
        cols[("qs", "1")] = qs
        if every:
            cols[("moved", "1")] = moved
            cols[("meas", "1")] = meas
        return cols if every else {k: v for k, v in cols.items() if k[0] in names}

    def _team_frame(self, cost: np.ndarray) -> pl.DataFrame:
        """Per-team frame from a per-row scenario cost vector."""
        return self._team_frame_totals(np.bincount(self.team_codes, weights=cost, minlength=len(self.teams)))

    # --- evaluation ----------------------------------------------------------------------------------------
    def evaluate(self, scenario: Scenario, teams: bool = False) -> Outcome:
        """Every slider value of `scenario` at once, from the arrays (no SQL): O(rows)."""
        self._check(scenario)
        m, shares, rates = slider_values(scenario)
        cols = self.quantities(self.claims(shares))
        totals = {k: float(v.sum()) for k, v in cols.items()}
        by_team = None
        if teams:
            mult = self._multipliers(m, rates)
            cost = sum(v * mult[k] for (name, k), v in cols.items() if name == "cost")
            by_team = self._team_frame(cost)
        return self._outcome(totals, m, rates, by_team)

    def totals(self, scenario: Scenario) -> dict[tuple[str, str], float]:
        """Every coefficient's total at `scenario`'s shares (figures are linear in the other values)."""
        self._check(scenario)
        _, shares, _ = slider_values(scenario)
        return {k: float(v.sum()) for k, v in self.quantities(self.claims(shares)).items()}

    def table_checks(self, i: int, scenario: Scenario) -> None:
        """Refuse a cumulative table of policy i that would not be exact (see `table`)."""
        self._check(scenario)
        if not self.ranked[i]:
            raise ScenarioError(f"policies.{i} ({self.levers[i]}) has no share to slide")
        if any(self.ranked[j] for j in range(i + 1, len(self.levers))):
            raise ScenarioError(f"policies.{i}: a later policy also picks a share, so this share is not a lookup "
                                "(its N would change); use Prepared.evaluate")

    def table(self, i: int, scenario: Scenario | None = None) -> CumTable:
        """The cumulative table of ranked policy i with the other policies' shares of `scenario` (cached)."""
        scenario = scenario or self.scenario
        self.table_checks(i, scenario)
        _, shares, _ = slider_values(scenario)
        key = tuple(s for j, s in enumerate(shares) if j != i)
        held = self._tables.get(i)
        if held is None or held[0] != key:
            # one table per policy: the other shares moving (a batch slider) replaces it, never piles them up
            self._tables[i] = (key, CumTable(self, i, shares))
        return self._tables[i][1]


class CumTable:
    """Running sums over policy i's eligible request rows in rank order (see the module docstring)."""

    def __init__(self, prep: Prepared, i: int, shares: list[float | None],
                 fold: tuple[tuple[str, ...], dict[str, float]] | None = None):
        """`fold` = (names, multipliers): a table of those quantities only, each already summed over its coefficients
        at those multipliers (keys (name, '1')), without the per-team figures — what `router_report` reads,
        a third of the work of the full table at 1 M rows (not cached: the page's slider builds the full one)."""
        self.prep, self.i = prep, i
        lo, hi = list(shares), list(shares)
        lo[i], hi[i] = 0.0, 1.0
        fa, fb = prep.claims(lo), prep.claims(hi)
        # cache lost on a switch in conversations of several requests: what policy i's moved request pays depends
        # on which other requests of its conversation moved, so its extra is added in rank order (`_in_order`:
        # exact at every count); a later losing policy would make every row depend on i's picks: not a lookup
        seq = i in prep.lost and prep.multi_sessions
        if prep.multi_sessions and any(j in prep.lost for j in range(i + 1, len(prep.levers))):
            raise ScenarioError(f"policies.{i}: a later policy also moves requests off their conversations' cache, "
                                "so this share is not a lookup; use Prepared.evaluate")
        in_order = (i,) if seq else ()
        names = None if fold is None else fold[0]
        qa = prep.quantities(fa, in_order=in_order, names=names)
        # a row's figures depend on its own claims only: the deltas live on the rows whose claims differ (the
        # policy's eligible rows, and what later policies then claim differently), computed there only
        changed = np.flatnonzero((fa != fb).any(axis=0))
        qb = prep.quantities(fb[:, changed], changed, in_order=in_order, names=names)
        keys = sorted(qa)                                          # the same columns for any claims
        if fold is None:
            self.keys = keys
            weights = {k: [(j, 1.0)] for j, k in enumerate(keys)}  # key -> (table row, weight)
        else:
            names, mult = fold
            self.keys = [(n, "1") for n in names]
            weights = {k: [(names.index(k[0]), mult[k[1]])] for k in keys if k[0] in names}
        delta = np.zeros((len(self.keys), len(changed)))
        self.base_totals = np.zeros(len(self.keys))
        for k, to in weights.items():
            d, total = qb[k] - qa[k][changed], qa[k].sum()
            for j, w in to:
                delta[j] += d if w == 1.0 else w * d
                self.base_totals[j] += w * total
        claimed = fb[i] > _EPS
        order = prep.order[i]
        self.rows = order[claimed[order] & prep.is_req[order]]      # the dynamically eligible request rows
        at = positions(changed, prep.n_rows)
        at_rows = at[self.rows]                                   # each of them changed (claimed at 1, not at 0)
        d_rows = np.take(delta, at_rows, axis=1)                  # ~half the time of delta[:, at_rows]
        if seq:
            e0, ei = _in_order(prep, i, self.rows)
            for key, add in ((("cost", "1"), e0), (("cost", "i"), ei), ((f"lost{i}", "1"), -e0),
                             ((f"lost{i}", "i"), -ei)):
                for j, w in weights.get(key, []):
                    d_rows[j] += w * add
        # the units a share counts: requests, or whole conversations (a session-unit policy: its rows are
        # contiguous in rank order); `at[k]` = the rows of the first k units
        if scenario_unit_session(prep, i):
            uc = prep.unit_code[self.rows]
            start = np.ones(len(self.rows), dtype=bool)
            start[1:] = uc[1:] != uc[:-1]
            self.at = np.append(np.flatnonzero(start), len(self.rows))
        else:
            self.at = np.arange(len(self.rows) + 1)
        self.n = len(self.at) - 1
        # per-unit figures do not depend on the order units are taken in (a seed band, the oracle), unless requests
        # of one conversation move one by one and pay for each other's cache
        self.order_free = not (seq and not scenario_unit_session(prep, i))
        self.cum = np.zeros((len(self.keys), len(self.rows) + 1))
        np.cumsum(d_rows, axis=1, out=self.cum[:, 1:])
        self.buckets = np.flatnonzero(claimed & ~prep.is_req)    # their part moves with the share itself
        at_buckets = at[self.buckets]
        self.bucket_delta = delta[:, at_buckets].sum(axis=1)
        if fold is not None:
            self.team_base, self.team_sorted, self.delta_sorted, self.team_buckets = {}, prep.team_codes[:0], {}, {}
            return
        # per-team figures: team totals of the unclaimed state per cost coefficient, and the cost deltas in rank
        # order (contiguous), so a move adds one bincount over the first k rows
        cost_keys = [k for k in self.keys if k[0] == "cost"]
        n_teams = len(prep.teams)
        self.team_base = {k: np.bincount(prep.team_codes, weights=qa[k], minlength=n_teams)
                          for k in cost_keys}
        self.team_sorted = prep.team_codes[self.rows]
        self.delta_sorted = {k: np.ascontiguousarray(d_rows[self.keys.index(k)]) for k in cost_keys}
        self.team_buckets = {k: np.bincount(prep.team_codes[self.buckets], weights=delta[self.keys.index(k)][at_buckets],
                                            minlength=n_teams) for k in cost_keys}

    @property
    def ucum(self) -> np.ndarray:
        """The running sums at every unit count k = 0..N (keys × (N + 1))."""
        return self.cum[:, self.at]

    @property
    def unit_of_row(self) -> np.ndarray:
        """Each table row's unit index (0..N−1) in rank order."""
        return np.repeat(np.arange(self.n), np.diff(self.at))

    def _totals(self, share: float) -> tuple[dict[tuple[str, str], float], int]:
        k = int(self.at[claimed_count(share, self.n)])          # the rows of the first floor(share × N) units
        vec = self.base_totals + self.cum[:, k] + float(share) * self.bucket_delta
        return dict(zip(self.keys, vec.tolist(), strict=True)), k

    def lookup(self, scenario: Scenario, teams: bool = False) -> Outcome:
        """The outcome at `scenario`'s values: an index lookup (plus O(k) when `teams`)."""
        m, shares, rates = slider_values(scenario)
        totals, k = self._totals(shares[self.i])
        by_team = None
        if teams:
            mult = self.prep._multipliers(m, rates)
            n_teams = len(self.prep.teams)
            cost = sum(self.team_base[key] * mult[key[1]] for key in self.team_base)
            cost = cost + float(shares[self.i]) * sum(self.team_buckets[key] * mult[key[1]] for key in self.team_buckets)
            if k:
                d = sum(self.delta_sorted[key][:k] * mult[key[1]] for key in self.delta_sorted)
                cost = cost + np.bincount(self.team_sorted[:k], weights=d, minlength=n_teams)
            by_team = self.prep._team_frame_totals(cost)
        return self.prep._outcome(totals, m, rates, by_team)

    def curve(self, m: float, rates: list[float]) -> dict[str, np.ndarray]:
        """Cost and quality at every k = 0..N (share = k/N, the bucket part at that share): the whole frontier."""
        mult = self.prep._multipliers(m, rates)
        shares = np.ceil(np.arange(self.n + 1) * 1e9 / max(self.n, 1)) / 1e9   # as share_for_count
        agg: dict[str, np.ndarray] = {}
        ucum = self.ucum
        for j, key in enumerate(self.keys):
            col = (self.base_totals[j] + ucum[j] + shares * self.bucket_delta[j]) * mult[key[1]]
            agg[key[0]] = agg.get(key[0], 0.0) + col
        return agg


def positions(subset: np.ndarray, n: int) -> np.ndarray:
    """Each row's index in `subset` (sorted row indices out of n; -1 for rows not in it): a gather instead of a binary
    search per row (750,000 rows looked up in rank order: 0.12 → 0.003 cpu-s)."""
    at = np.full(n, -1, dtype=np.int64)
    at[subset] = np.arange(len(subset))
    return at


def _at_most(cols: list[np.ndarray], cut: tuple | None) -> np.ndarray:
    """Which key tuples (columns, most significant first) are ≤ `cut` in lexicographic order (None: none)."""
    n = len(cols[0]) if cols else 0
    if cut is None:
        return np.zeros(n, dtype=bool)
    out = np.zeros(n, dtype=bool)
    equal = np.ones(n, dtype=bool)
    for c, v in zip(cols, cut, strict=True):
        out |= equal & (c < v)
        equal &= c == v
    return out | equal


def scenario_unit_session(prep: Prepared, i: int) -> bool:
    return bool(prep.scenario.policies[i].by_session)


def _in_order(prep: Prepared, i: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Policy i's cache-loss extra added by each of `rows` (its request rows in rank order) when taken after the
    ones before it (constant, × input multiplier): per conversation, the extra of its taken rows is the first
    taken one's (by ts, then row hash) cache write plus, until the whole conversation is taken, the others' input
    price; a row's delta is that figure after it minus before it. A row without a session pays its cache write."""
    lk = prep.lk[i]
    n = len(rows)
    d0, di = np.zeros(n), np.zeros(n)
    sess = prep.sess_code[rows]
    alone = sess < 0
    d0[alone] = lk["lkcw0"][rows[alone]]
    di[alone] = lk["lkcwi"][rows[alone]]
    g = np.flatnonzero(~alone)
    if not g.size:
        return d0, di
    g = g[np.lexsort((g, sess[g]))]                  # by conversation, then rank
    sg = sess[g]
    start = np.ones(g.size, dtype=bool)
    start[1:] = sg[1:] != sg[:-1]
    grp = np.cumsum(start) - 1
    first_at = np.flatnonzero(start)
    pos = prep.sess_pos[rows[g]]
    big = np.int64(prep.n_rows + 1)
    # the running minimum of the position within each conversation (earlier conversations' values are smaller)
    low = big - 1 - (np.maximum.accumulate(grp * big + (big - 1 - pos)) - grp * big)
    first_row = prep.row_at_pos[low]
    taken = np.arange(g.size) - first_at[grp] + 1
    whole = taken == prep.sess_n[sg]
    for c_in, c_cw, out in ((lk["lkin0"], lk["lkcw0"], d0), (lk["lkini"], lk["lkcwi"], di)):
        vin = c_in[rows[g]]
        cs = np.cumsum(vin)
        cum_in = cs - (cs - vin)[first_at][grp]
        extra = c_cw[first_row] + np.where(whole, 0.0, cum_in - c_in[first_row])
        before = np.concatenate([[0.0], extra[:-1]])
        before[start] = 0.0
        out[g] = extra - before
    return d0, di


# --- the cache: one Prepared per (ledger, data_version, team scope, structure) ---------------------------------
CACHE_SIZE = 2   # ≈ 180 MB of arrays per structure at 1 M rows (with its cumulative table), measured
PREPARED = Memo(CACHE_SIZE)


ROW_LIMIT = 2_000_000   # the default of the setting `slider_row_limit` (modelmix/settings.py; a test pins both)


def row_limit() -> int:
    """The most rows of a period the per-row engine holds in memory (setting `slider_row_limit`, environment
    MODELMIX_SLIDER_ROW_LIMIT: this layer reads no settings module); above it the bucketed engine
    (simulate/buckets.py) answers."""
    value = os.environ.get("MODELMIX_SLIDER_ROW_LIMIT", "").strip()
    return int(value) if value else ROW_LIMIT


def period_rows(wh: Warehouse, plan: Plan) -> int:
    """How many rows the replay of `plan` reads (the period and scope): picks the engine. Without a scope, on the
    ledger, from its rollup (no pass over the rows); else by counting them."""
    if hasattr(wh, "write") and plan.scope == "true":
        text = sql.load("simulate/frontier_count_daily")
    else:
        text = plan.with_rows(sql.load("simulate/frontier_count"), keyed=False)
    return int(wh.sql(text, relations=plan.relations(), **plan.bind(text))["rows"][0])


def _build(wh: Warehouse, scenario: Scenario) -> Figures:
    # the ledger's own row count bounds the period's (no pass over usage_replay when it is within the limit)
    if hasattr(wh, "write") and int(wh.sql(sql.load("simulate/ledger_rows"))["rows"][0]) <= row_limit():
        # per-request grades joined by the prepare's own query, not matched first (one join of their keys)
        return Prepared(wh, scenario, plan=Plan.build(wh, scenario, fold_grades=True))
    plan = Plan.build(wh, scenario)
    rows = period_rows(wh, plan)
    if rows > row_limit():
        from simulate.buckets import Bucketed

        return Bucketed(wh, scenario, plan, rows)
    return Prepared(wh, scenario, plan=plan)


def prepare(wh: Warehouse, scenario: Scenario) -> Prepared:
    """The prepared state of `scenario`'s structure, built once per (ledger file, data_version, team scope,
    structure); the last CACHE_SIZE are kept (simulate.memo: the scope is part of the key, so a team-restricted
    person never gets arrays prepared from everyone's rows). Per-row arrays (`Prepared`) for a period of at most
    `row_limit()` rows, else the bucketed state (`simulate.buckets.Bucketed`: the same figures to the cent, a few
    MB whatever the rows; analyses that need every row's order are refused there, `per_row`)."""
    return PREPARED.get(wh, structure_key(scenario), lambda: _build(wh, scenario))


def per_row(prep: Figures, what: str) -> None:
    """Refuse `what` (an analysis reading every row's order over the period) on the bucketed engine."""
    if not getattr(prep, "per_row", False):
        raise ScenarioError(
            f"{what} needs every request's order over the whole period, and this range holds {prep.period_rows:,} "
            f"rows, more than the {row_limit():,} the per-row engine keeps in memory (setting "
            "MODELMIX_SLIDER_ROW_LIMIT). The slider figures stay exact; narrow the dates or teams to see it.",
            title="Range too large for this analysis")


def _with(scenario: Scenario, i: int, **values: float) -> Scenario:
    data = scenario.model_dump(mode="json", exclude_none=True)
    data["policies"][i].update(values)
    return Scenario.model_validate(data)


def sweep(wh: Warehouse, scenario: Scenario, policy_index: int, grid: list[float] | np.ndarray) -> pl.DataFrame:
    """Cost, savings and quality per grid point of policy `policy_index`'s share (shift, batch) or escalation
    rate (cascade), other values as in `scenario`. One pass over the prepared table; agrees with
    `simulate.run` at each point to the cent."""
    prep = prepare(wh, scenario)
    pol = scenario.policies[policy_index]
    m, shares, rates = slider_values(scenario)
    rows = []
    if prep.lookup_ok(policy_index):
        table = prep.table(policy_index, scenario)
        if hasattr(table, "prefetch"):      # the bucketed engine: the grid's boundary buckets in one read
            table.prefetch(grid)
        for value in grid:
            totals, _ = table._totals(float(value))
            rows.append((float(value), prep._outcome(totals, m, rates)))
    elif pol.rate_field is not None:
        totals = prep.totals(scenario)
        for value in grid:
            r = list(rates)
            r[policy_index] = float(value)
            rows.append((float(value), prep._outcome(totals, m, r)))
    elif pol.ranked:
        per_row(prep, "a sweep of a share with a later ranked policy")
        for value in grid:
            rows.append((float(value), prep.evaluate(_with(scenario, policy_index, share=float(value)))))
    else:
        raise ScenarioError(f"policies.{policy_index} ({pol.kind}) has nothing to sweep")
    return _frame(rows, pol.sweep_field)


def _frame(rows: list[tuple[float, Outcome]], param: str) -> pl.DataFrame:
    return pl.DataFrame({
        param: [v for v, _ in rows],
        "scenario_cost_usd": [o.scenario_cost_usd for _, o in rows],
        "savings_usd": [o.savings_usd for _, o in rows],
        "savings_pct": [o.savings_pct for _, o in rows],
        "baseline_quality": [o.baseline_quality for _, o in rows],
        "scenario_quality": [o.scenario_quality for _, o in rows],
        "quality_ratio": [o.quality_ratio for _, o in rows],
        "moved_requests": [o.moved_requests for _, o in rows],
    }, schema_overrides={"savings_pct": pl.Float64, "baseline_quality": pl.Float64,
                         "scenario_quality": pl.Float64, "quality_ratio": pl.Float64})


@dataclass
class QualityPoint:
    share: float
    claimed: int
    scenario_cost_usd: float
    savings_usd: float
    quality_ratio: float | None
    bar: float


def cheapest_at_quality(wh: Warehouse, scenario: Scenario, policy_index: int,
                        bar: float = QUALITY_BAR) -> QualityPoint | None:
    """The cheapest share of ranked policy `policy_index` whose scenario quality is ≥ `bar` × baseline quality,
    over every possible claimed count k = 0..N (exact, not a grid). None when no point is scored."""
    prep = prepare(wh, scenario)
    table = prep.table(policy_index, scenario)
    m, _, rates = slider_values(scenario)
    if not getattr(prep, "per_row", False):
        # the bucketed engine: its buckets read in rank order, one at a time (simulate/buckets.py)
        k = table.cheapest_at_quality(m, rates, bar)
        if k is None:
            return None
    else:
        agg = table.curve(m, rates)
        w = np.asarray(agg["w"], dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = (agg["qs"] / w) / (agg["qb"] / w)
        ok = (w > 0) & (ratio >= bar - 1e-12)
        if not ok.any():
            return None
        cost = np.where(ok, agg["cost"], np.inf)
        k = int(np.argmin(cost))
    share = share_for_count(k, table.n)
    out = table.lookup(_with(scenario, policy_index, share=share))
    return QualityPoint(share=share, claimed=k, scenario_cost_usd=out.scenario_cost_usd,
                        savings_usd=out.savings_usd, quality_ratio=out.quality_ratio, bar=bar)


def break_even_escalation(wh: Warehouse, scenario: Scenario, policy_index: int) -> float | None:
    """The escalation rate of cascade `policy_index` at which the scenario costs exactly the baseline.

    In expectation every claimed part costs first + e × baseline_part, so scenario cost is linear in e:
    C(e) = C(0) + e × B_c, with B_c the baseline cost of the parts the cascade claims. C(e*) = baseline gives
    e* = (baseline − C(0)) / B_c. For a scenario holding only this cascade that is 1 − first / B_c (the
    cascade pays while the first model costs less than (1 − e) × the original). It may lie outside [0, 1]:
    above 1 the cascade always saves, below 0 it never does. None when the cascade claims nothing."""
    prep = prepare(wh, scenario)
    pol = scenario.policies[policy_index]
    if not pol.escalates:
        raise ScenarioError(f"policies.{policy_index} is a {pol.kind}, not a cascade")
    m, shares, rates = slider_values(scenario)
    totals = prep.totals(scenario)
    mult = prep._multipliers(m, rates)
    mult[f"x{policy_index}"] = 0.0
    c0 = sum(v * mult[k] for (name, k), v in totals.items() if name == "cost")
    slope = totals[("cost", f"x{policy_index}")]
    if slope <= 0:
        return None
    return (prep.baseline_cost - c0) / slope



# --- the noise of a random pick ------------------------------------------------------------------------------
_MURMUR = np.uint64(0xD6E8FEB86659FD93)


def _duckdb_hash(x: np.ndarray) -> np.ndarray:
    """DuckDB's hash() of a UBIGINT (MurmurHash64's finaliser), vectorised: the same value as `hash(x)` in SQL."""
    x = x.astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        x ^= x >> np.uint64(32)
        x *= _MURMUR
        x ^= x >> np.uint64(32)
        x *= _MURMUR
        x ^= x >> np.uint64(32)
    return x


def seed_order(prep: Prepared, i: int, seed: int) -> np.ndarray:
    """Policy i's (`pick: random`) eligible request rows in the order seed `seed` gives — the replay's order key
    hash(xor(row_hash, seed_mix(seed))), then row_hash — computed in numpy, no query."""
    from simulate.policies import seed_mix

    rows, rh = prep.row_hash[i]
    h = _duckdb_hash(rh ^ np.uint64(seed_mix(seed)))
    return rows[lex_order([h, rh])]


def seed_band(wh: Warehouse, scenario: Scenario, policy_index: int, seeds: int | list[int] = 20,
              grid: list[float] | np.ndarray | None = None) -> pl.DataFrame:
    """The cost, savings and quality band of a random pick over `seeds` (a count: seeds 0…N−1, or a list), per grid
    share: min, p10, p50, p90, max of scenario_cost_usd, savings_usd and scenario_quality across seeds (every
    policy of the scenario included: a seed's cost and savings are its replay's). One prepared table: each
    seed is a numpy sort of the eligible rows' hashes and a running sum of the table's per-row deltas in that
    order (no query, no new claims: which rows are eligible does not depend on the seed)."""
    pol = scenario.policies[policy_index]
    if getattr(pol, "pick", None) != "random":
        raise ScenarioError(f"policies.{policy_index}: a seed band needs `pick: random`")
    prep = prepare(wh, scenario)
    per_row(prep, "A random pick's seed band")
    table = prep.table(policy_index, scenario)
    grid = np.asarray([i / 20 for i in range(21)] if grid is None else grid, dtype=float)
    m, _, rates = slider_values(scenario)
    mult_of = prep._multipliers(m, rates)
    mult = np.array([mult_of[k[1]] for k in table.keys])
    names = [k[0] for k in table.keys]
    diffs = np.diff(table.ucum, axis=1)                   # per unit, in the table's own order
    lost_rows = None
    if not table.order_free:
        # requests of one conversation move one by one and pay for each other's lost cache: the table's deltas
        # hold each request's cache extra as taken in rank order (_in_order); take those out, and add each seed's
        # own, recomputed for the order that seed takes the requests in (exact: the replay's rule per order)
        lost_rows = [table.keys.index(k) for k in (("cost", "1"), ("cost", "i"), (f"lost{policy_index}", "1"),
                                                    (f"lost{policy_index}", "i"))]
        diffs = diffs.copy()
        for key, sign, extra in zip(lost_rows, (-1, -1, 1, 1), _in_order(prep, policy_index, table.rows) * 2,
                                    strict=True):
            diffs[key] += sign * extra
    unit_of = np.full(prep.n_rows, -1, dtype=np.int64)
    unit_of[table.rows] = table.unit_of_row
    ks = np.array([claimed_count(float(s), table.n) for s in grid])
    seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    sav, qual = np.zeros((len(seeds), len(grid))), np.full((len(seeds), len(grid)), np.nan)
    cost = np.zeros((len(seeds), len(grid)))
    for r, seed in enumerate(seeds):
        order = seed_order(prep, policy_index, seed)
        units = unit_of[order]
        units = units[units >= 0]                                       # the table's eligible rows, by unit
        first = np.ones(units.shape[0], dtype=bool)
        first[1:] = units[1:] != units[:-1]                             # a unit's rows are contiguous in any seed
        taken = diffs[:, units[first]]
        if lost_rows is not None:
            # a request unit per table row: the seed's rows in its order, their cache extras as taken in it
            for key, sign, extra in zip(lost_rows, (1, 1, -1, -1),
                                        _in_order(prep, policy_index, table.rows[units[first]]) * 2, strict=True):
                taken[key] += sign * extra
        cum = np.concatenate([np.zeros((diffs.shape[0], 1)), np.cumsum(taken, axis=1)], axis=1)
        tot = (table.base_totals[:, None] + cum[:, ks] + grid[None, :] * table.bucket_delta[:, None]) * mult[:, None]
        by = {n: tot[[j for j, x in enumerate(names) if x == n]].sum(axis=0) for n in set(names)}
        cost[r] = by["cost"]
        sav[r] = prep.baseline_cost - by["cost"]
        w = by.get("w", np.zeros(len(grid)))
        with np.errstate(invalid="ignore", divide="ignore"):
            qual[r] = np.where(w > 0, by.get("qs", 0) / np.where(w > 0, w, 1), np.nan)
    out = {"share": grid}
    for name, arr in (("scenario_cost_usd", cost), ("savings_usd", sav), ("scenario_quality", qual)):
        for label, q in (("min", 0), ("p10", 10), ("p50", 50), ("p90", 90), ("max", 100)):
            out[f"{name}_{label}"] = np.percentile(arr, q, axis=0) if not np.isnan(arr).all() else np.full(len(grid),
                                                                                                             np.nan)
    return pl.DataFrame(out).with_columns(pl.lit(len(seeds)).alias("seeds"))


# --- the oracle bound and a router's metrics (RouteLLM: APGR, CPT) ---------------------------------------------
@dataclass
class Curve:
    """Cost and quality of one way to pick policy i's eligible requests, at every moved count k = 0..N."""

    name: str
    moved: np.ndarray               # k
    strong_share: np.ndarray        # share of the N eligible requests kept on their own (source) model: 1 − k/N
    cost: np.ndarray                # scenario cost at k
    quality: np.ndarray             # scenario quality at k (NaN: nothing scored)
    baseline: np.ndarray | None = None   # baseline quality over the same scored requests at k

    def metrics(self, strong: float, weak: float) -> dict[str, float | None]:
        """RouteLLM's metrics against the source ("strong") and target ("weak") qualities: APGR = ∫ PGR d(strong
        share) over [0, 1] (trapezoids over every count), PGR = (q − weak) / (strong − weak); CPT(x) = the
        smallest strong share whose PGR ≥ x (exact at every count, no interpolation); and the largest share moved
        keeping ≥ 95% of the strong quality."""
        gap = strong - weak
        n = len(self.moved) - 1
        out: dict[str, float | None] = {"apgr": None, "cpt50": None, "cpt80": None, "moved_at_95": None}
        q = self.quality
        if n <= 0 or np.isnan(q).any():
            return out
        ok95 = q >= QUALITY_BAR * strong - 1e-12
        out["moved_at_95"] = float(self.moved[ok95].max() / n) if ok95.any() else 0.0
        if abs(gap) < 1e-15:
            return out
        pgr = (q - weak) / gap
        c = self.strong_share
        # a curve's strong share falls with every count: read backwards (a stable sort otherwise)
        order = np.arange(len(c))[::-1] if (c[1:] < c[:-1]).all() else np.argsort(c, kind="stable")
        out["apgr"] = float(np.trapezoid(pgr[order], c[order]))
        for name, x in (("cpt50", 0.5), ("cpt80", 0.8)):
            reached = pgr >= x - 1e-12
            out[name] = float(c[reached].min()) if reached.any() else None
        return out

    def frame(self, points: int = 201) -> pl.DataFrame:
        """At most `points` evenly spaced counts (for a chart), the last count included."""
        idx = np.unique(np.linspace(0, len(self.moved) - 1, min(points, len(self.moved))).round().astype(int))
        return pl.DataFrame({"curve": self.name, "moved": self.moved[idx], "strong_share": self.strong_share[idx],
                             "scenario_cost_usd": self.cost[idx], "quality": self.quality[idx]})


@dataclass
class RouterReport:
    """Policy i's curve, the oracle bound and the random line, with RouteLLM's metrics for each."""

    policy: Curve
    oracle: Curve
    random: Curve
    strong_quality: float
    weak_quality: float
    baseline_quality: float | None
    metrics: dict[str, dict[str, float | None]]
    # how the oracle is built: "ranking" (requests by quality lost per dollar saved: the fractional-knapsack hull,
    # at every moved count) or "conversations" (requests pay for each other's lost cache: the exact bound over each
    # conversation's subsets, simulate/hull.py; its points are its vertices, its RouteLLM metrics not given)
    bound: str = "ranking"

    def to_json(self) -> dict[str, Any]:
        return {"strong_quality": self.strong_quality, "weak_quality": self.weak_quality,
                "baseline_quality": self.baseline_quality, "oracle_bound": self.bound, "metrics": self.metrics,
                "curves": {c.name: c.frame().to_dicts() for c in (self.policy, self.oracle, self.random)}}


_CURVE_SUMS = ("cost", "w", "qs", "qb")     # what a curve needs of a table's keys: cost, scored requests, quality


def _curve(name: str, n: int, base: np.ndarray, bucket: np.ndarray, cum: np.ndarray) -> Curve:
    """A curve from its running sums at every count k = 0..N (`cum`: _CURVE_SUMS × (N + 1), at the scenario's
    multipliers), the unclaimed totals `base` and the bucket deltas `bucket` (taken at share k/N)."""
    share = np.ceil(np.arange(n + 1) * 1e9 / max(n, 1)) / 1e9
    cost, w, qs, qb = (base[:, None] + cum + share[None, :] * bucket[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        quality = np.where(w > 0, qs / np.where(w > 0, w, 1), np.nan)
        baseline = np.where(w > 0, qb / np.where(w > 0, w, 1), np.nan)
    k = np.arange(n + 1)
    return Curve(name, k, 1 - k / max(n, 1), cost, quality, baseline)


def router_report(wh: Warehouse, scenario: Scenario, policy_index: int) -> RouterReport:
    """The oracle bound, the random line and policy `policy_index`'s own curve (a ranked policy with nothing
    ranked after it), each at every moved count, with APGR, CPT(50%), CPT(80%) and the share moved at 95% of
    the source's quality.

    The oracle is the cheapest assignment any router could reach at each quality level, from the per-row figures
    the slider tables already hold (per-request grades where a shadow evaluation gives them, else the priors):
    requests that lose no quality and save money move first (biggest quality gain first), then in order of
    quality lost per dollar saved, then the rest. Taking rows by that ratio traces the upper hull of every
    assignment in cost × quality (the fractional-knapsack bound; exact at every count where the ratio order is
    an integral solution), so every router's curve lies on or under it. The random line joins the policy's two
    end points (a random pick's expectation).

    The table's running sums (one per key and coefficient) are first folded into the four a curve reads — cost,
    scored requests, scenario and baseline quality — at the scenario's multipliers (one matrix product), so the
    per-unit deltas, the oracle's order and its running sums are 4 × N arrays (1 M graded requests: ~0.5 cpu-s,
    was 2.5 over every key)."""
    prep = prepare(wh, scenario)
    per_row(prep, "The oracle bound")
    m, shares, rates = slider_values(scenario)
    mult_of = prep._multipliers(m, rates)
    others = tuple(s for j, s in enumerate(shares) if j != policy_index)
    held = prep._tables.get(policy_index)
    if held is not None and held[0] == others:
        table = prep.table(policy_index, scenario)         # the slider's full table, already built: reuse it
    else:
        # only the four sums a curve reads, folded at the scenario's multipliers while the table is built (kept:
        # one per policy, like the full tables)
        prep.table_checks(policy_index, scenario)
        key = (others, tuple(sorted(mult_of.items())))
        folded = prep._folded.get(policy_index)
        if folded is None or folded[0] != key:
            prep._folded[policy_index] = (key, CumTable(prep, policy_index, shares, fold=(_CURVE_SUMS, mult_of)))
        table = prep._folded[policy_index][1]
    fold = np.zeros((len(_CURVE_SUMS), len(table.keys)))
    for j, (name, coef) in enumerate(table.keys):
        if name in _CURVE_SUMS:
            fold[_CURVE_SUMS.index(name), j] = mult_of[coef]
    # the running sums at every unit count, folded: rows of the table → units (a session unit's rows are contiguous)
    cum = fold @ table.cum
    if len(table.at) != table.cum.shape[1]:
        cum = cum[:, table.at]
    base, bucket = fold @ table.base_totals, fold @ table.bucket_delta
    n = table.n
    policy = _curve("policy", n, base, bucket, cum)
    k = policy.moved
    d = max(n, 1)
    rand_q = policy.quality[0] + (policy.quality[-1] - policy.quality[0]) * k / d
    rand_c = policy.cost[0] + (policy.cost[-1] - policy.cost[0]) * k / d
    random = Curve("random", k, policy.strong_share, rand_c, rand_q)
    strong, weak = float(policy.quality[0]), float(policy.quality[-1])
    here = claimed_count(float(scenario.policies[policy_index].share), n)
    base_q = policy.baseline[here]
    base_q = None if np.isnan(base_q) else round(float(base_q), 6)
    if not table.order_free:
        # requests of one conversation pay for each other's lost cache: no ranking of requests is the cheapest
        # assignment; the exact bound over each conversation's subsets (simulate/hull.py), exact at its vertices
        oracle = _conversation_oracle(prep, table, policy_index, cum, base, bucket, mult_of["i"])
        metrics = {c.name: c.metrics(strong, weak) for c in (policy, random)}
        metrics["oracle"] = dict.fromkeys(("apgr", "cpt50", "cpt80", "moved_at_95"))
        return RouterReport(policy, oracle, random, strong, weak, base_q, metrics, bound="conversations")
    # per-unit scenario-quality and cost deltas at the scenario's multipliers (the oracle's ranking)
    diffs = np.diff(cum, axis=1)
    loss, saving = -diffs[_CURVE_SUMS.index("qs")], -diffs[_CURVE_SUMS.index("cost")]
    free = (loss <= 0) & (saving >= 0)
    worth = ~free & (saving > 0)
    group = np.where(free, 0, np.where(worth, 1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(worth, loss / np.where(saving > 0, saving, 1), 0.0)
    second = np.where(free, loss, np.where(worth, ratio, loss))
    third = np.where(free, -saving, 0.0)
    order = np.lexsort((third, second, group))
    ocum = np.zeros_like(cum)
    np.cumsum(np.take(diffs, order, axis=1), axis=1, out=ocum[:, 1:])   # take: ~1/3 the time of diffs[:, order]
    oracle = _curve("oracle", n, base, bucket, ocum)
    return RouterReport(policy, oracle, random, strong, weak, base_q,
                        {c.name: c.metrics(strong, weak) for c in (policy, oracle, random)})


def _conversation_oracle(prep: Prepared, table: CumTable, i: int, cum: np.ndarray, base: np.ndarray,
                         bucket: np.ndarray, in_mult: float) -> Curve:
    """The oracle bound of policy i (unit: request) where requests of one conversation pay for each other's lost
    cache: `simulate.hull.cache_bound` over its eligible request rows, from the folded running sums `cum`
    (_CURVE_SUMS × rows, the cache extras added in rank order: taken out here) and each row's extras at the input
    multiplier. The curve's points are the bound's vertices, cheapest first (a bucket's part at moved / N)."""
    from simulate.hull import cache_bound

    rows = table.rows
    diffs = np.diff(cum, axis=1)
    e0, ei = _in_order(prep, i, rows)
    own_cost = diffs[0] - (e0 + in_mult * ei)                  # each row's move with its cache kept
    lk = prep.lk[i]
    cw = lk["lkcw0"][rows] + in_mult * lk["lkcwi"][rows]
    inp = lk["lkin0"][rows] + in_mult * lk["lkini"][rows]
    if (cw < -1e-15).any() or (inp < -1e-15).any():
        raise ScenarioError(f"policies.{i}: the target's cache-read price is above its input or cache-write price, "
                            "so the oracle bound over conversations does not hold; check the target's prices")
    sess = prep.sess_code[rows]
    n_s = len(prep.sess_n)
    conv = np.where(sess >= 0, sess, n_s + np.arange(len(rows)))
    mine = np.bincount(sess[sess >= 0], minlength=n_s)
    safe = np.maximum(sess, 0)
    whole_ok = np.where(sess >= 0, mine[safe] == prep.sess_n[safe] if n_s else True, True)
    b = cache_bound(conv, prep.sess_pos[rows], own_cost, diffs[2], np.maximum(cw, 0), np.maximum(inp, 0),
                    whole_ok, extra=np.vstack([diffs[1], diffs[3]]))
    n = table.n
    share = b.moved / max(n, 1)
    cost = base[0] + b.cost + share * bucket[0]
    w = base[1] + b.extra[0] + share * bucket[1]
    qs = base[2] + b.gain + share * bucket[2]
    qb = base[3] + b.extra[1] + share * bucket[3]
    with np.errstate(invalid="ignore", divide="ignore"):
        quality = np.where(w > 0, qs / np.where(w > 0, w, 1), np.nan)
        baseline = np.where(w > 0, qb / np.where(w > 0, w, 1), np.nan)
    return Curve("oracle", b.moved, 1 - b.moved / max(n, 1), cost, quality, baseline)


__all__ = ["QUALITY_BAR", "CumTable", "Curve", "Outcome", "Prepared", "QualityPoint", "RouterReport",
           "break_even_escalation", "cheapest_at_quality", "claimed_count", "prepare", "router_report",
           "seed_band", "seed_order", "share_for_count", "structure_key", "sweep"]
