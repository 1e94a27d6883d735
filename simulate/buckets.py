"""What-if sliders over any number of rows, exact, without per-row arrays in memory (docs/simulation.md "Slider
tables at scale: quantile buckets"; docs/scale-out.md "What-if at 100 M rows").

The per-row engine (`frontier.Prepared`) holds ~0.45 GB per 1 M rows of the period. Above the setting
`slider_row_limit`, `frontier.prepare` builds a `Bucketed` state instead:

- **One streamed pass.** The rows of `sql/simulate/frontier_grouped.sql` come from DuckDB in chunks of CHUNK_ROWS
  (ordered by conversation when the scenario reads conversations, so none is split between chunks). Each chunk
  is a `frontier.Prepared` of those rows only: the same claims, coefficient columns, quality, cache-loss extras
  and in-rank-order extras as the per-row engine, per row; the chunk is then dropped.
- **Candidates summed by their first key.** The slid policy i's candidates without a conversation reach Python
  summed in DuckDB by their first order key (`total_tokens`, a pick's hash, a router's score) and every per-row
  value the figures read: at share 0 and 1 a candidate's claims depend only on those values, so a group's deltas
  are its rows' sums (and its ledger rows its units). A conversation's rows stay rows (their cache loss depends on
  the order of the conversation's other rows) and are written, in rank order, to a temporary file (`numpy.save`
  segments, one per chunk). State while building: one (first key, team) row per distinct pair.
- **The stored buckets, where they serve** (`stored_pass`): for `pick: simplest` by request, when a group's rows
  share every claim (Budgets' conditions, simulate/team_costs.py), the pass reads `replay_buckets` (replay_stored
  summed per day, dimensions and bucket of total tokens, macro key_bucket: sql/simulate/replay_bucket_rows.sql)
  instead of the rows: the default 90 days at 100 M are ~0.3 M stored rows instead of 24.77 M. The slider's buckets
  are then those stored buckets (~4 % of the key each), each from its least total in the period.
- **Quantile buckets of the first key, elsewhere.** After the pass, BUCKETS − 1 bounds at equally spaced unit
  counts of the distinct first keys (every unit of one first key in one bucket). They stay where no stored bucket
  can serve: a random pick's hash of (row, seed), a router's score or a conversation's key is not stored by
  bucket, per-request grades and a cache's per-row rates need the rows, and a negative request row leaves a
  group's bounds unknown. Either way, per bucket the sums of every coefficient delta (cost, savings, quality,
  moved, cache lost; per team for the cost) and its number of units (requests, or whole conversations). State in
  memory: buckets × (coefficients + teams) numbers, whatever the rows.
- **A move = bucket prefix + one exact refinement.** k = floor(decimal(share) × N) units, as the replay. The
  buckets wholly below unit k are a prefix sum; the bucket holding it is read again: its candidates without a
  conversation from the stored rows of its first-key range (`sql/simulate/frontier_bucket_rows.sql`, per row, the
  same `Prepared` claims and deltas), its conversations' rows from the segments, sorted by the full key tuple
  exactly as the per-row engine sorts, and its first units summed. The refined buckets are cached (LRU of
  CACHED_BUCKETS): dragging across a bucket costs one read per bucket entered.
- **Exact.** The same rows, claims, tie-break and per-row figures as `Prepared`; only the order of floating-point
  additions differs. Tested equal to the per-row engine and to `simulate.run` to the cent, and each bucket's sums
  equal to its rows read again.

The cheapest count at a quality bar (`BucketTable.cheapest_at_quality`, exact at every count) is a branch and
bound: every bucket edge is a prefix sum; per bucket, summed in the same pass, each candidate's least and greatest
part of cost, weight and quality over any subset of its rows (`_row_bounds`) bound every count inside it, and only
buckets whose bound can be scored at the bar and beat the best so far are read as rows (a few of 4,096). What it does not do (refused with a message naming the
range's rows and the setting, `frontier.per_row`): the oracle bound (`router_report`) and a seed band
(`seed_band`). A ranked policy before the slid one with a share strictly between 0 and 1 gets its own table first:
the key tuple of its last claimed unit over the whole period is the cut its rows are claimed by in the chunks.
"""

from __future__ import annotations

import atexit
import dataclasses
import itertools
import tempfile
import threading
import weakref
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

import sql
from simulate import frontier
from simulate.frontier import Figures, Outcome, Prepared, slider_values
from simulate.plan import EPS, Plan, claimed_count, share_for_count
from simulate.scenario import Scenario
from simulate.spec import ScenarioError
from simulate.team_costs import groupable, stored_groups

if TYPE_CHECKING:
    from warehouse.db import Warehouse

BUCKETS = 4096           # quantile buckets of a ranking key's first column: ~1.6 k candidates each at 100 M
CHUNK_ROWS = 500_000     # rows per streamed chunk (its per-row arrays: ~0.25 GB while it is processed)
CACHED_BUCKETS = 64      # refined buckets kept per table
NEIGHBOURS = 8           # cheapest_at_quality reads a bucket with this many each side, in one read of their range
                         # (the buckets its bounds leave are mostly adjacent: 10 M, 0.89 -> 0.39 CPU s)
BOUND_NAMES = ("cost", "w", "qb", "qs")   # the figures cheapest_at_quality reads, bounded per bucket
BOUND_READS = 32         # cheapest_at_quality reads at most this many buckets one by one, else all in rank order
SCAN_ROWS = 1_000_000    # about this many rows per read when every bucket is read (cheapest_at_quality: one
                         # query of the stored rows each, ≈ 0.45 GB of per-row arrays while it is summed)


def _numeric(col: np.ndarray) -> np.ndarray:
    """A key column as a plain numpy number (a DuckDB hugeint/decimal sum arrives as objects)."""
    if col.dtype == object:
        return col.astype(np.float64)
    return col


class Bucketed(Figures):
    """The slider state of one scenario structure as quantile buckets (see the module docstring)."""

    per_row = False

    def __init__(self, wh: Warehouse, scenario: Scenario, plan: Plan, rows: int):
        self.scenario = scenario
        self.plan = plan
        self.grades = plan.grades
        self.sql = Prepared._build_sql(plan)
        self.period_rows = rows
        self._wh = wh
        self._scores = Prepared.scores_of(wh, plan)
        self.levers = [p.lever for p in scenario.policies]
        self.labels = [scenario.policy_label(i) for i in range(len(scenario.policies))]
        self.ranked = [p.ranked for p in scenario.policies]
        self.lost = [s.index for s in plan.lost_steps]
        self.teams: list[str] = []
        self._team_index: dict[str, int] = {}
        self._tables: dict[int, tuple[tuple, BucketTable]] = {}
        self._cut_tables: dict[int, tuple[tuple, BucketTable]] = {}   # an earlier fractional share's own table
        self._static: dict[tuple, StaticTotals] = {}
        # the first pass: the table of the last ranked policy (the page's slider), else the totals at the shares
        _, shares, _ = slider_values(scenario)
        ranked = [i for i, r in enumerate(self.ranked) if r]
        self.multi_sessions = False
        self.stored = stored_pass(wh, plan)
        if ranked and not self._later_lost(ranked[-1]):
            self.table(ranked[-1], scenario)
        elif not self._fractional(shares, None):
            self._static_totals(shares)
        else:
            self._common_pass()

    # --- the pass over the rows -----------------------------------------------------------------------------
    def _folded(self, cuts: dict[int, tuple | None] | None = None) -> frozenset[int]:
        """The ranked policies whose candidates without a conversation are streamed summed by their first key: all
        but those an earlier share cuts by key tuple (their rows are claimed row by row in the chunks)."""
        return frozenset(j for j, r in enumerate(self.ranked) if r and j not in (cuts or {}))

    def _stream_sql(self, folded: frozenset[int] = frozenset()) -> str:
        # conversations whole in a chunk: the unit key of `unit: session` (a row without a session its own unit)
        if self.stored:
            plan = dataclasses.replace(self.plan, stored_buckets=True)
            return grouped_sql(plan, Prepared._build_sql(plan), folded)
        return grouped_sql(self.plan, self.sql, folded)

    def _chunks(self, folded: frozenset[int] = frozenset()):
        """The rows in frames of about CHUNK_ROWS, a conversation never split between two."""
        text = self._stream_sql(folded)
        plan = self.plan
        pending: pl.DataFrame | None = None
        for batch in self._wh.batches(text, rows=CHUNK_ROWS, relations=plan.relations(), **plan.bind(text)):
            frame = batch if pending is None else pl.concat([pending, batch], how="vertical_relaxed")
            pending = None
            if frame.height < CHUNK_ROWS:        # an ordered stream hands back smaller batches: gather them
                pending = frame
                continue
            if plan.sessions and frame.height:
                last = frame["session_id"][-1]
                if last is not None:
                    sid = frame["session_id"]
                    tail = int((sid == last).fill_null(False).sum())
                    pending = frame[frame.height - tail:]
                    frame = frame[:frame.height - tail]
            if frame.height:
                yield frame
        if pending is not None and pending.height:
            yield pending

    def _codes(self, teams: list[str]) -> np.ndarray:
        """The global team index of each of a chunk's teams (its `team_codes` index into `teams`)."""
        out = np.empty(len(teams), dtype=np.int64)
        for k, t in enumerate(teams):
            if t not in self._team_index:
                self._team_index[t] = len(self.teams)
                self.teams.append(t)
            out[k] = self._team_index[t]
        return out

    def _blocks(self, folded: frozenset[int] = frozenset()):
        """Each chunk as a `Prepared` of its rows (and the chunk itself), with the figures every pass gathers: the
        baseline, requests, eligible requests per policy, the models (for the plan's warnings), the
        conversations."""
        n_pol = len(self.levers)
        self.baseline_cost = 0.0
        self.total_requests = 0.0
        self.unpriced_requests = 0
        self.eligible_requests = [0.0] * n_pol
        self.multi_sessions = False
        self.n_rows = 0
        models: set[str] = set()
        team_base = np.zeros(0)
        for frame in self._chunks(folded):
            models.update(m for m in frame["model"].unique().to_list() if m)
            blk = Prepared(None, self.scenario, plan=self.plan, frame=frame, scores=self._scores)
            gcode = self._codes(blk.teams)[blk.team_codes]
            team_base = _grow(team_base, len(self.teams))
            team_base += np.bincount(gcode, weights=blk.base, minlength=len(self.teams))
            self.baseline_cost += blk.baseline_cost
            self.total_requests += blk.total_requests
            self.unpriced_requests += blk.unpriced_requests
            self.eligible_requests = [a + b for a, b in zip(self.eligible_requests, blk.eligible_requests,
                                                             strict=True)]
            self.multi_sessions |= blk.multi_sessions
            # a grouped frame (frontier_grouped.sql) counts its ledger rows per group
            self.n_rows += int(frame["ledger_rows"].sum()) if "ledger_rows" in frame.columns else blk.n_rows
            yield blk, gcode, frame
        self._team_base = _grow(team_base, len(self.teams))
        self.warnings = self.plan.warnings(sorted(models))

    def _common_pass(self) -> None:
        for _ in self._blocks(self._folded()):
            pass

    def _later_lost(self, i: int) -> bool:
        return any(j in self.lost for j in range(i + 1, len(self.levers)))

    def _fractional(self, shares: list[float | None], i: int | None) -> list[int]:
        """The ranked policies other than i whose share is neither 0 nor 1 (their claims need the whole order)."""
        return [j for j, s in enumerate(shares) if s is not None and j != i and 0.0 < float(s) < 1.0]

    def _refuse_fractional(self, shares: list[float | None], i: int | None) -> None:
        bad = self._fractional(shares, i)
        if bad:
            names = ", ".join(f"policies.{j} ({self.labels[j]}: {float(shares[j]):g})" for j in bad)
            raise ScenarioError(
                f"{names}: over this range ({self.period_rows:,} rows, more than the {frontier.row_limit():,} the "
                "per-row engine keeps in memory) a later policy moves these requests' conversations off their "
                "cache too, so a share must be 0 or 1 here. Narrow the dates or teams, or set that share to 0 or 1.",
                title="Range too large for this combination")

    # --- the interface of frontier.Prepared ----------------------------------------------------------------
    def _static_totals(self, shares: list[float | None]) -> StaticTotals:
        key = tuple(shares)
        if key not in self._static:
            self._refuse_fractional(shares, None)
            self._static = {key: StaticTotals(self, shares)}     # one at a time: a batch move replaces it
        return self._static[key]

    def totals(self, scenario: Scenario) -> dict[tuple[str, str], float]:
        self._check(scenario)
        _, shares, _ = slider_values(scenario)
        i = self._slid(shares)
        if i is not None:
            return self.table(i, scenario)._totals(float(shares[i]))[0]
        return self._static_totals(shares).totals

    def evaluate(self, scenario: Scenario, teams: bool = False) -> Outcome:
        """Every slider value of `scenario`: a lookup in the table of its one share strictly between 0 and 1, or
        the static totals when there is none (refused when several shares are strictly between 0 and 1)."""
        self._check(scenario)
        m, shares, rates = slider_values(scenario)
        i = self._slid(shares)
        if i is not None:
            return self.table(i, scenario).lookup(scenario, teams=teams)
        st = self._static_totals(shares)
        by_team = None
        if teams:
            mult = self._multipliers(m, rates)
            by_team = self._team_frame_totals(sum(st.team[k] * mult[k[1]] for k in st.team))
        return self._outcome(st.totals, m, rates, by_team)

    def _slid(self, shares: list[float | None]) -> int | None:
        """The last ranked policy, when some share is strictly between 0 and 1 and its table answers (None: the
        static totals answer, every share being 0 or 1)."""
        if not self._fractional(shares, None):
            return None
        ranked = [j for j, r in enumerate(self.ranked) if r]
        return ranked[-1] if self.lookup_ok(ranked[-1]) else None

    def table(self, i: int, scenario: Scenario | None = None) -> BucketTable:
        scenario = scenario or self.scenario
        self._check(scenario)
        if not self.ranked[i]:
            raise ScenarioError(f"policies.{i} ({self.levers[i]}) has no share to slide")
        if any(self.ranked[j] for j in range(i + 1, len(self.levers))):
            raise ScenarioError(f"policies.{i}: a later policy also picks a share, so this share is not a lookup "
                                "(its N would change)")
        _, shares, _ = slider_values(scenario)
        key = tuple(s for j, s in enumerate(shares) if j != i)
        held = self._tables.get(i)
        if held is None or held[0] != key:
            if self.multi_sessions and self._later_lost(i):
                raise ScenarioError(f"policies.{i}: a later policy also moves requests off their conversations' "
                                    "cache, so this share is not a lookup")
            self._tables[i] = (key, BucketTable(self, i, shares, self._cuts(shares, i)))
        return self._tables[i][1]

    def keep_in_background(self, scenario: Scenario) -> threading.Thread | None:
        """Start, once per table, a daemon thread that keeps every bucket of the slider's table on disk
        (`BucketTable.keep_all`): called after a first render, so that a later move into a bucket not read yet
        reads a file slice instead of querying the stored rows (100 M: ~0.2-0.3 CPU s a bucket). None when the
        scenario has no slider table here or its keeping already started."""
        i = self._slid(slider_values(scenario)[1])
        if i is None:
            return None
        table = self.table(i, scenario)
        with table._lock:
            if table.keeper is not None:
                return None
            table.keeper = threading.Thread(target=table.keep_all, args=(table.stop,), name="modelmix-slider-keep",
                                            daemon=True)
        _KEEPERS.add(table)
        table.keeper.start()
        return table.keeper

    def _cuts(self, shares: list[float | None], i: int) -> dict[int, tuple | None]:
        """For each ranked policy before i whose share is strictly between 0 and 1: the key tuple of the last unit
        it claims over the whole period, from its own bucket table (one pass each, kept while the shares before
        it stay): the chunks then claim its rows by key, exactly as its share over the whole order."""
        cuts: dict[int, tuple | None] = {}
        for j in self._fractional(shares, i):
            if j > i:
                continue
            key = tuple(shares[:j])
            held = self._cut_tables.get(j)
            if held is None or held[0] != key:
                self._cut_tables[j] = (key, BucketTable(self, j, shares, dict(cuts)))
            table = self._cut_tables[j][1]
            cuts[j] = table.unit_key(claimed_count(float(shares[j]), table.n))
        return cuts


_KEEPERS: weakref.WeakSet[BucketTable] = weakref.WeakSet()    # tables whose keep_all runs or ran


@atexit.register
def _stop_keepers() -> None:
    """At exit, each background keep_all stopped and waited for (its current read, ~1 s): a thread left inside a
    DuckDB query while the interpreter shuts down aborts the process."""
    tables = list(_KEEPERS)
    for t in tables:
        t.stop.set()
    for t in tables:
        if t.keeper is not None:
            t.keeper.join(timeout=30)


UNIT_ORDER = "order by case when session_id is null then row_hash else hash(session_id) end"


def stored_pass(wh: Warehouse, plan: Plan) -> bool:
    """Whether the pass reads the stored buckets of total tokens (`replay_buckets`, sql/simulate/replay_bucket_rows
    .sql) instead of the rows: the claims of every policy are the same for all rows of such a group (Budgets'
    conditions, simulate/team_costs.py `groupable` and `stored_groups`: at most one ranked policy, `pick: simplest`
    by request, no conversation, cache or router, no token bounds, target prices changing at midnight), no
    per-request grade is matched, the ledger has the table, and no row of the period holds a negative count or
    amount (the bounds of a bucket need every row's part of a group's sums to be of the group's sign:
    sql/simulate/period_negatives.sql, read through the scan's statistics). The slider's buckets are then the
    stored ones (macro key_bucket, ~4 % of the key each); the equal-count quantile buckets stay for every other
    scenario: a random pick's hash, a router's score or a conversation's key is not stored by bucket."""
    if not (hasattr(wh, "write") and groupable(plan) and stored_groups(plan) and not plan.graded
            and not plan.sessions and any(s.order_keys is not None for s in plan.steps)):
        return False
    if not wh.sql("select count(*) as n from duckdb_tables() where table_name = 'replay_buckets'")["n"][0]:
        return False
    text = sql.load("simulate/period_negatives")
    return not wh.sql(text, **plan.bind(text))["any_negative"][0]


def grouped_sql(plan: Plan, rows_sql: str, folded: frozenset[int] = frozenset()) -> str:
    """`rows_sql` (simulate/frontier_rows.sql, filled) as sql/simulate/frontier_grouped.sql streams it: the rows no
    ranked policy orders summed by their shared per-row values. With conversations read (a session unit, cache lost
    on a switch) a row with a session id stays a row too (its conversation's cache loss counts its requests), the
    others carry their summed cache-loss extras, and the rows come ordered by conversation (UNIT_ORDER), so that
    none is split between two chunks."""
    summed = ["requests", "base_cost"] + [f"{c}_{s.index}" for s in plan.steps for c in ("c0", "cm", "ci", "cx")]
    summed += [f"{k}_{s.index}" for s in plan.lost_steps for k in ("lkin0", "lkini", "lkcw0", "lkcwi")]
    kept = [f"o{s.index}_0 is not null" for s in plan.steps if s.order_keys is not None and s.index not in folded]
    # the stored buckets' rows (Plan.stored_buckets) are groups already: their ledger rows (`n`) summed
    stored = ["n"] if plan.stored_buckets else []
    # a row of its own keeps its ts and row hash (a conversation's order); a group, its first ones (no order read)
    firsts = ["ts", "row_hash"] if plan.sessions else []
    # a folded policy's candidates without a conversation are summed by their first key (BucketTable): its further
    # keys (tie-breaks) are read again per row only for the bucket a move refines
    firsts += [f"o{s.index}_{k}" for s in plan.steps if s.index in folded and s.order_keys is not None
               for k in range(1, len(s.order_keys))]
    if plan.sessions:
        kept.append("session_id is not null")
    rows = (rows_sql.replace("/*identity_columns*/", ", u.row_key as row_id")
            .replace("/*identity*/", ", n, cast(null as uhugeint) as row_id" if stored else ", row_id")
            .replace("/*order*/", ""))     # the outer query orders
    return (sql.load("simulate/frontier_grouped")
            .replace("/*frontier_rows*/", rows.strip().replace("\n", "\n    "))
            .replace("/*summed*/", ", ".join(summed + firsts + stored))
            .replace("/*row_count*/1", "n" if stored else "1")
            .replace("/*sums*/", "".join(f",\n        sum({c}) as {c}" for c in summed)
                     + "".join(f",\n        min({c}) as {c}" for c in firsts)
                     + f",\n        min(least({', '.join(summed)})) as summed_floor")
            .replace("/*ranked*/", " or ".join(kept) or "false")
            .replace("/*order*/", UNIT_ORDER if plan.sessions else ""))


def _sum_by_key(parts: list[tuple]) -> tuple:
    """(first key, team, then summed arrays: deltas, units, bounds) parts as one, summed per (first key, team): a
    table's state while it is built is its distinct first keys × teams, whatever the rows."""
    v, t, *sums = (np.concatenate([p[c] for p in parts]) for c in range(len(parts[0])))
    if not len(v):
        return (v, t, *sums)
    srt = np.lexsort((t, v))
    v, t = v[srt], t[srt]
    new = np.ones(len(v), dtype=bool)
    new[1:] = (v[1:] != v[:-1]) | (t[1:] != t[:-1])
    at = np.flatnonzero(new)
    return (v[at], t[at], *(np.add.reduceat(x[srt], at, axis=0) for x in sums))


def _grow(a: np.ndarray, n: int) -> np.ndarray:
    """`a` (1-D, or 2-D by columns) padded with zeros to n entries (columns): teams appear chunk by chunk."""
    if a.shape[-1] >= n:
        return a
    pad = [(0, 0)] * (a.ndim - 1) + [(0, n - a.shape[-1])]
    return np.pad(a, pad)


class StaticTotals:
    """Every coefficient's total (and per team for the cost) when no share needs an order: one pass."""

    def __init__(self, owner: Bucketed, shares: list[float | None]):
        self.totals: dict[tuple[str, str], float] = {}
        team: dict[tuple[str, str], np.ndarray] = {}
        for blk, gcode, _ in owner._blocks(owner._folded()):
            cols = blk.quantities(blk.claims(shares))
            for k, v in cols.items():
                self.totals[k] = self.totals.get(k, 0.0) + float(v.sum())
                if k[0] == "cost":
                    t = _grow(team.get(k, np.zeros(0)), len(owner.teams))
                    team[k] = t + np.bincount(gcode, weights=v, minlength=len(owner.teams))
        self.team = {k: _grow(v, len(owner.teams)) for k, v in team.items()}


class BucketTable:
    """Ranked policy i's slider over quantile buckets of its first key (see the module docstring): `lookup` and
    `_totals` as `frontier.CumTable`'s."""

    order_free = False    # the oracle and seed band reorder every row: not on this engine (frontier.per_row)

    def __init__(self, owner: Bucketed, i: int, shares: list[float | None], cuts: dict[int, tuple | None] | None = None):
        self.prep, self.i = owner, i
        self.cuts = cuts or {}
        self.by_session = bool(owner.scenario.policies[i].by_session)
        lo, hi = list(shares), list(shares)
        lo[i], hi[i] = 0.0, 1.0
        self._shares = (lo, hi)
        self._dir = tempfile.TemporaryDirectory(prefix="modelmix-slider-")   # removed with the table
        self.segments: list[Path] = []                   # the conversations' rows, in rank order per chunk
        self.layout: list[tuple[np.dtype, int]] = []     # per segment: its record type, where its rows start
        self.offsets: list[np.ndarray] = []
        # ranges of buckets read whole (cheapest_at_quality): (file, layout, first bucket, end, each bucket's end row)
        self.kept: list[tuple[Path, tuple[np.dtype, int], int, int, np.ndarray]] = []
        self._kept_names = itertools.count()         # one file each, whichever thread writes it
        self.keys: list[tuple[str, str]] | None = None
        summed: list[tuple] = []                          # (first key, team, deltas, units), summed as they come
        n_summed = 0
        for blk, gcode, frame in owner._blocks(owner._folded(self.cuts)):
            got = self._chunk(blk, gcode, frame, lo, hi)
            summed.append(got)
            n_summed += len(got[0])
            if n_summed > CHUNK_ROWS:
                summed = [_sum_by_key(summed)]
                n_summed = len(summed[0][0])
        if self.keys is None:      # no row at all
            self.keys, self.cost_keys, self.team_base, self.team_buckets = [], [], {}, {}
            self.bound_keys = []
            self.base_totals, self.bucket_delta = np.zeros(0), np.zeros(0)
        # the parts as they are: the buckets' sums need no sort by key (_sum_by_key only bounds the state's size)
        self._set_buckets(tuple(np.concatenate([p[c] for p in summed]) for c in range(len(summed[0])))
                          if summed else None)
        n_t = len(owner.teams)
        self.team_base = {k: _grow(v, n_t) for k, v in self.team_base.items()}
        self.team_buckets = {k: _grow(v, n_t) for k, v in self.team_buckets.items()}
        self.prefix = np.zeros((self.n_buckets + 1, len(self.keys)))
        np.cumsum(self.bucket_sums, axis=0, out=self.prefix[1:])
        self.cum_units = np.concatenate([[0], np.cumsum(self.bucket_units)]).astype(np.int64)
        self.n = int(self.cum_units[-1])
        self._refined: OrderedDict[int, tuple] = OrderedDict()
        self._lock = threading.Lock()
        self.keeper: threading.Thread | None = None      # the background keep_all (Bucketed.keep_in_background)
        self.stop = threading.Event()                     # set: the keeper stops between two reads

    # --- building -----------------------------------------------------------------------------------------
    def _deltas(self, blk: Prepared, gcode: np.ndarray, lo: list, hi: list) -> tuple:
        """As frontier.CumTable computes them over the whole period: the claims at share 0 and 1, the quantities
        at share 0, every changed row's delta, and per claimed request row of policy i (in rank order) its keys,
        team and deltas (with the cache loss it adds in rank order); then, per such row, its quantities at share 1
        and that cache loss by key (its bounds, `_row_bounds`)."""
        i = self.i
        fa, fb = blk.claims(lo, self.cuts), blk.claims(hi, self.cuts)
        in_order = (i,) if i in blk.lost else ()      # for a conversation of one request the same as at share 1
        qa = blk.quantities(fa, in_order=in_order)
        if self.keys is None:
            self.keys = sorted(qa)
            n_k = len(self.keys)
            self.base_totals = np.zeros(n_k)
            self.bucket_delta = np.zeros(n_k)
            self.cost_keys = [k for k in self.keys if k[0] == "cost"]
            self.bound_keys = [j for j, k in enumerate(self.keys) if k[0] in BOUND_NAMES]
            self.team_base = {k: np.zeros(0) for k in self.cost_keys}
            self.team_buckets = {k: np.zeros(0) for k in self.cost_keys}
        keys = self.keys
        changed = np.flatnonzero((fa != fb).any(axis=0))
        qb = blk.quantities(fb[:, changed], changed, in_order=in_order)
        delta = np.vstack([qb[k] - qa[k][changed] for k in keys]) if keys else np.zeros((0, len(changed)))
        claimed = fb[i] > EPS
        order = blk.order[i]
        take = claimed[order] & blk.is_req[order]
        rows = order[take]
        cols = [_numeric(c[take]) for c in blk.order_cols[i]]
        at = frontier.positions(changed, blk.n_rows)
        d_rows = delta[:, at[rows]]
        extra: dict[tuple[str, str], np.ndarray] = {}     # the cache loss added in rank order, per candidate
        if in_order:
            e0, ei = frontier._in_order(blk, i, rows)
            extra = {("cost", "1"): e0, ("cost", "i"): ei, (f"lost{i}", "1"): -e0, (f"lost{i}", "i"): -ei}
            for key, add in extra.items():
                d_rows[keys.index(key)] += add
        return (qa, delta, at, claimed, rows, cols, gcode[rows], np.ascontiguousarray(d_rows.T),
                {k: v[at[rows]] for k, v in qb.items() if k[0] in BOUND_NAMES}, extra)

    def _chunk(self, blk: Prepared, gcode: np.ndarray, frame: pl.DataFrame, lo: list, hi: list) -> tuple:
        """One chunk: the base totals at share 0 and the bucket rows' delta summed; its conversations' candidate
        rows written as a segment (rank order); every candidate's (first key, team, deltas, units) handed back, a
        summed row (frontier_grouped.sql) counting its ledger rows as units."""
        qa, delta, at, claimed, rows, cols, teams, d, qb, extra = self._deltas(blk, gcode, lo, hi)
        keys = self.keys
        self.base_totals += np.array([qa[k].sum() for k in keys])
        buckets = np.flatnonzero(claimed & ~blk.is_req)
        at_b = at[buckets]
        self.bucket_delta += delta[:, at_b].sum(axis=1)
        n_t = len(self.prep.teams)
        for k in self.cost_keys:
            self.team_base[k] = _grow(self.team_base[k], n_t) + np.bincount(gcode, weights=qa[k], minlength=n_t)
            self.team_buckets[k] = (_grow(self.team_buckets[k], n_t)
                                    + np.bincount(gcode[buckets], weights=delta[keys.index(k)][at_b], minlength=n_t))
        units = frame["ledger_rows"].to_numpy()[rows].astype(np.int64)
        if "session_id" in frame.columns:
            talk = frame["session_id"].is_not_null().to_numpy()[rows]
            if talk.any():
                units[talk] = self._unit_starts([c[talk] for c in cols])
                self._write([c[talk] for c in cols], teams[talk], d[talk])
        low, high = self._row_bounds(blk, frame, rows, qa, qb, extra, d)
        return (cols[0] if cols else np.zeros(0)), teams, d, units, low, high

    def _row_bounds(self, blk: Prepared, frame: pl.DataFrame, rows: np.ndarray, qa: dict, qb: dict, extra: dict,
                    d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per candidate (a ledger row, or a group of rows summed by frontier_grouped.sql) and per BOUND_NAMES key,
        the least and the greatest delta any subset of its rows can add, whatever the tie-break order takes of
        it (cheapest_at_quality's bounds of a bucket are their sums): a row's own delta, 0 or it; a group's, when
        its rows' summed columns are all ≥ 0 and its quality scores too, from 0 to what its rows count at share 1
        less from 0 to what they count at share 0 (each row's part of such a key is a non-negative column times a
        value the group shares: of the group's sign), plus the cache loss added in rank order (a cache write, a
        column too); else unbounded (−inf, inf)."""
        n, bk = len(rows), self.bound_keys
        low, high = np.zeros((n, len(bk))), np.zeros((n, len(bk)))
        if not n:
            return low, high
        one = frame["ledger_rows"].to_numpy()[rows] == 1
        floor = (frame["summed_floor"].cast(pl.Float64).fill_null(0.0).to_numpy()[rows]
                 if "summed_floor" in frame.columns else np.full(n, -1.0))
        scores = [blk.q_own] + list(blk.qb) + list(blk.qt)
        signed = np.logical_or.reduce([np.nan_to_num(q[rows], nan=0.0) < 0 for q in scores])
        free = ~one & ((floor < 0) | signed)
        for c, j in enumerate(bk):
            key = self.keys[j]
            a, b, x = qa[key][rows], qb[key], extra.get(key, 0.0)
            # weight and quality (w, qb, qs) are a row's requests times scores its group shares (its grades are
            # group columns): every row's delta has the group's sign, so a group is bounded as one row is
            alone = one | (key[0] != "cost")
            low[:, c] = np.where(alone, np.minimum(d[:, j], 0.0),
                                 np.minimum(b, 0.0) - np.maximum(a, 0.0) + np.minimum(x, 0.0))
            high[:, c] = np.where(alone, np.maximum(d[:, j], 0.0),
                                  np.maximum(b, 0.0) - np.minimum(a, 0.0) + np.maximum(x, 0.0))
        low[free], high[free] = -np.inf, np.inf
        return low, high

    def _set_buckets(self, summed: tuple | None) -> None:
        """Bounds of the first key at equally spaced unit counts (distinct values: every unit of one first key in
        one bucket), then every bucket's sums, units and per-team cost, and each segment's bucket offsets."""
        n_k = len(self.keys)
        if summed is None or not len(summed[0]):
            self.bounds = np.zeros(0)
        else:
            v, _, _, u, _, _ = summed
            values, inv = np.unique(v, return_inverse=True)
            cum = np.cumsum(np.bincount(inv, weights=u, minlength=len(values)))
            if self.prep.stored:
                # the stored buckets (replay_bucket_rows.sql): every first key is a bucket's least total
                self.bounds = values[1:]
            else:
                want = cum[-1] * np.arange(1, BUCKETS) / BUCKETS
                at = np.searchsorted(cum, want, side="right")
                self.bounds = np.unique(values[at[(at > 0) & (at < len(values))]])
        self.n_buckets = len(self.bounds) + 1
        n_b, n_t = self.n_buckets, len(self.prep.teams)
        self.bucket_sums = np.zeros((n_b, n_k))
        self.bucket_units = np.zeros(n_b, dtype=np.int64)
        self.bucket_team = {k: np.zeros((n_b, n_t)) for k in self.cost_keys} if n_k else {}
        n_bk = len(self.bound_keys)
        self.bucket_low, self.bucket_high = np.zeros((n_b, n_bk)), np.zeros((n_b, n_bk))
        if summed is not None and len(summed[0]):
            v, t, d, u, low, high = summed
            b = self.bucket_of(v)
            for k in range(n_k):
                self.bucket_sums[:, k] = np.bincount(b, weights=d[:, k], minlength=n_b)
            for c in range(n_bk):
                self.bucket_low[:, c] = np.bincount(b, weights=low[:, c], minlength=n_b)
                self.bucket_high[:, c] = np.bincount(b, weights=high[:, c], minlength=n_b)
            self.bucket_units = np.bincount(b, weights=u, minlength=n_b).astype(np.int64)
            for k in self.cost_keys:
                self.bucket_team[k] = np.bincount(b * n_t + t, weights=d[:, self.keys.index(k)],
                                                  minlength=n_b * n_t).reshape(n_b, n_t)
        for path in self.segments:
            first = np.load(path, mmap_mode="r")["k0"]
            self.offsets.append(np.concatenate([[0], np.searchsorted(first, self.bounds, side="left"),
                                                [len(first)]]).astype(np.int64))
            del first

    def bucket_of(self, first: np.ndarray) -> np.ndarray:
        """Each first key's bucket: how many bounds are ≤ it."""
        return np.searchsorted(self.bounds, first, side="right").astype(np.int64)

    def _unit_starts(self, cols: list[np.ndarray]) -> np.ndarray:
        """Which rows (in key order) start a unit: every row, or the first row of each conversation (its rows
        share the whole key tuple, which ends with the unit)."""
        n = len(cols[0]) if cols else 0
        start = np.ones(n, dtype=bool)
        if self.by_session and n > 1:
            same = np.ones(n - 1, dtype=bool)
            for c in cols:
                same &= c[1:] == c[:-1]
            start[1:] = ~same
        return start

    def _write(self, cols: list[np.ndarray], teams: np.ndarray, d: np.ndarray, into: list | None = None) -> None:
        """One chunk's conversation rows (rank order) as a segment, its bucket offsets coming with the bounds (or,
        `into`, a kept range's rows: (path, layout) appended there)."""
        if not len(teams):
            return
        dtype = [(f"k{c}", col.dtype) for c, col in enumerate(cols)] + [("team", np.int64),
                                                                          ("d", np.float64, (d.shape[1],))]
        rec = np.empty(len(teams), dtype=dtype)
        for c, col in enumerate(cols):
            rec[f"k{c}"] = col
        rec["team"] = teams
        rec["d"] = d
        name = f"seg{len(self.segments)}.npy" if into is None else f"kept{next(self._kept_names)}.npy"
        path = Path(self._dir.name) / name
        np.save(path, rec)                       # rows in key order, so bucket by bucket
        m = np.load(path, mmap_mode="r")
        layout = (m.dtype, m.offset)              # read by slices with plain reads, never mapped: the pages read
        del m                                     # would count in the process's RSS (a whole scan: the whole file)
        if into is None:
            self.segments.append(path)
            self.layout.append(layout)
        else:
            into.append((path, layout))

    # --- a move ----------------------------------------------------------------------------------------------
    def _refine(self, b: int, around: int = 0, want: set[int] | None = None) -> tuple:
        """Bucket b's rows in exact rank order (`_read`), cached (LRU of CACHED_BUCKETS), read with `around` buckets
        each side in one query of their first-key range. A move reads b alone: at 10 M a read of 17 buckets costs
        ≈ 2.5× one (0.26-0.32 against 0.10-0.13 CPU s, load 25-33), so a drag of 0.1 % steps costs the same on
        average and more at each read."""
        with self._lock:                     # the table is shared by every session of the process
            if b in self._refined:
                self._refined.move_to_end(b)
                return self._refined[b]
        if self._kept_rows(b) is not None:   # a range read whole by cheapest_at_quality, on disk
            got = self._read(b)
            self._cache({b: got})
            return got
        lo, end = self._around(b, around, want)
        cols, teams, d = self._alone_rows([(lo, end)])
        where = self.bucket_of(cols[0]) if len(teams) else np.zeros(0, dtype=np.int64)
        got = {x: self._read(x, alone=([c[where == x] for c in cols], teams[where == x], d[where == x]))
               for x in [*range(lo, b), *range(b + 1, end), b]}          # b last: the most recently used
        self._cache(got)
        return got[b]

    def _around(self, b: int, around: int, want: set[int] | None = None) -> tuple[int, int]:
        """Buckets lo..end − 1 read with bucket b: `around` each side; the stored buckets (unequal: the densest
        holds ~2 % of the units, a read costs mostly its scan) every adjacent bucket of `want` (those
        cheapest_at_quality's bounds leave: a run of neighbours, 10 at 10 M) up to SCAN_ROWS units, nearest
        first (a bucket at least alone)."""
        if not self.prep.stored:
            return max(0, b - around), min(self.n_buckets, b + around + 1)
        lo, end, units = b, b + 1, int(self.bucket_units[b])
        grew = bool(want)
        while grew:
            grew = False
            for side in (lo - 1, end):
                if side in want and units + int(self.bucket_units[side]) <= SCAN_ROWS:
                    units += int(self.bucket_units[side])
                    lo, end, grew = min(lo, side), max(end, side + 1), True
        return lo, end

    def _cache(self, got: dict[int, tuple]) -> None:
        with self._lock:
            for x, rows in got.items():
                self._refined[x] = rows
                self._refined.move_to_end(x)
            while len(self._refined) > CACHED_BUCKETS:
                self._refined.popitem(last=False)

    def _alone_rows(self, ranges: list[tuple[int, int]]) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        """The candidates without a conversation whose first key falls in buckets b..end − 1 of any of `ranges`,
        read again as rows in one query (sql/simulate/frontier_bucket_rows.sql: their first key's ranges of the
        stored rows) with their keys, teams and deltas in rank order, exactly as a chunk computes them."""
        owner = self.prep
        first = f"o{self.i}_0"
        params = {}
        for n, (b, end) in enumerate(ranges):
            if b > 0:
                params[f"bucket_lo_{n}"] = self.bounds[b - 1].item()
            if end - 1 < len(self.bounds):
                params[f"bucket_hi_{n}"] = self.bounds[end - 1].item()

        def within(key: str) -> str:
            ors = [" and ".join(([f"{key} >= $bucket_lo_{n}"] if f"bucket_lo_{n}" in params else [])
                                + ([f"{key} < $bucket_hi_{n}"] if f"bucket_hi_{n}" in params else [])) or "true"
                   for n in range(len(ranges))]
            return "(" + " or ".join(f"({c})" for c in ors) + ")"

        cond = within(first)
        if owner.plan.sessions:
            cond += " and session_id is null"
        rows = owner.sql
        key = self._stored_key()
        if key is not None:
            # the same range on the stored column the first key is made of, in the scope of the rows read: the scan
            # of `replay_stored` keeps only the range's rows before any per-row work (the outer filter stays exact)
            plan = dataclasses.replace(owner.plan, scope=f"({owner.plan.scope}) and {within(key)}")
            rows = Prepared._build_sql(plan)
        text = (sql.load("simulate/frontier_bucket_rows")
                .replace("/*frontier_rows*/", rows.strip().replace("\n", "\n    "))
                .replace("/*first_key*/", first)
                .replace("/*range*/", cond))
        frame = owner._wh.sql(text, relations=owner.plan.relations(), **owner.plan.bind(text), **params)
        if not frame.height:
            return [], np.zeros(0, dtype=np.int64), np.zeros((0, len(self.keys)))
        blk = Prepared(None, owner.scenario, plan=owner.plan, frame=frame, scores=owner._scores)
        gcode = owner._codes(blk.teams)[blk.team_codes]
        lo, hi = self._shares
        _, _, _, _, _, cols, teams, d, _, _ = self._deltas(blk, gcode, lo, hi)
        return cols, teams, d

    def _stored_key(self) -> str | None:
        """The slid policy's first order key when it is a stored column of the rows read (or a function of one):
        its range can then be applied where the rows are scanned. None for a conversation's key (a window) or a
        router's score (a join)."""
        key = self.prep.plan.steps[self.i].order_keys[0]
        return key if key == "total_tokens" or key.startswith("hash(xor(row_hash,") else None

    def prefetch(self, shares: list[float] | np.ndarray) -> None:
        """Refine, in one read of the stored rows, every bucket a boundary of `shares` falls in (a sweep's grid:
        one query instead of one per point)."""
        with self._lock:
            need = sorted({b for b, r in (self._locate(float(x))[1:] for x in shares) if r} - set(self._refined))
        if len(need) < 2:
            return
        cols, teams, d = self._alone_rows([(b, b + 1) for b in need])
        where = self.bucket_of(cols[0]) if len(teams) else np.zeros(0, dtype=np.int64)
        self._cache({b: self._read(b, alone=([c[where == b] for c in cols], teams[where == b], d[where == b]))
                     for b in need})

    def edge_shares(self, shares: list[float] | np.ndarray) -> list[float]:
        """Each of `shares` whose claimed count lies inside a bucket moved to the nearest share whose count is a
        bucket edge (the least share that claims it); the others kept: every figure is then a prefix sum, exact with
        no read (the browser preview's grid; ≤ half a bucket, 1/(2 × BUCKETS) of the units, away)."""
        edges = np.unique(self.cum_units)
        out = []
        for x in shares:
            k = claimed_count(float(x), self.n)
            at = int(np.searchsorted(edges, k))
            if at < len(edges) and edges[at] == k:
                out.append(float(x))
                continue
            near = min(edges[max(at - 1, 0):at + 1], key=lambda e: (abs(int(e) - k), int(e)))
            out.append(share_for_count(int(near), self.n))
        return out

    def _keep(self, b: int, end: int, cols: list[np.ndarray], teams: np.ndarray, d: np.ndarray) -> None:
        """Buckets b..end − 1's rows, read whole and in rank order (cheapest_at_quality reads every bucket), written
        to a file: a later move into one of them reads its slice there instead of querying the stored rows."""
        if not len(teams):
            return
        written: list = []
        self._write(cols, teams, d, into=written)
        ends = np.concatenate([np.searchsorted(cols[0], self.bounds[b:end - 1], side="left"), [len(teams)]])
        self.kept.append((*written[0], b, end, ends.astype(np.int64)))     # one append: a reader sees it whole

    def _kept_rows(self, b: int) -> tuple | None:
        """Bucket b's rows from a kept range (`_keep`), or None."""
        for path, (dtype, start), lo, end, off in list(self.kept):
            if lo <= b < end:
                first = 0 if b == lo else int(off[b - lo - 1])
                rec = np.fromfile(path, dtype=dtype, count=int(off[b - lo]) - first,
                                  offset=start + first * dtype.itemsize)
                n_cols = len([f for f in rec.dtype.names if f.startswith("k")])
                return ([np.asarray(rec[f"k{c}"]) for c in range(n_cols)], np.asarray(rec["team"]),
                        np.asarray(rec["d"]).reshape(len(rec), len(self.keys)))
        return None

    def _read(self, b: int, end: int | None = None, alone: tuple | None = None) -> tuple:
        """The rows of bucket b (of buckets b..end − 1: a first-key range too) in exact rank order: (running sums
        of the deltas, rows × keys with a leading zero row; the row count at each unit count; the rows' teams; their
        deltas; their key columns): the conversations' rows from the segments, the others read again (or `alone`,
        already read)."""
        if end is None and alone is None:
            alone = self._kept_rows(b)
            if alone is not None:        # every row of the bucket, conversations included, in rank order
                return self._ranked(*alone, in_order=True)
        end = b + 1 if end is None else end
        parts = []
        for path, (dtype, start), off in zip(self.segments, self.layout, self.offsets, strict=True):
            if off[end] > off[b]:
                parts.append(np.fromfile(path, dtype=dtype, count=int(off[end] - off[b]),
                                         offset=start + int(off[b]) * dtype.itemsize))
        cols, teams, d = alone if alone is not None else self._alone_rows([(b, end)])
        if parts:
            rec = np.concatenate(parts)
            n_cols = len([f for f in rec.dtype.names if f.startswith("k")])
            seg_cols = [np.asarray(rec[f"k{c}"]) for c in range(n_cols)]
            cols = seg_cols if not len(teams) else [np.concatenate([a, c]) for a, c in zip(seg_cols, cols,
                                                                                            strict=True)]
            teams = np.concatenate([np.asarray(rec["team"]), teams])
            d = np.concatenate([np.asarray(rec["d"]).reshape(len(rec), len(self.keys)), d])
        return self._ranked(cols, teams, d)

    def _ranked(self, cols: list[np.ndarray], teams: np.ndarray, d: np.ndarray, in_order: bool = False) -> tuple:
        """Rows sorted by the full key tuple, with their running sums and unit starts (`_read`'s answer).
        `in_order`: the rows are in that order already (a kept range, written from this answer): no second sort
        (100 M, a move into a kept bucket of 120 k rows)."""
        if not len(teams):
            return np.zeros((1, len(self.keys))), np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64), \
                np.zeros((0, len(self.keys))), []
        if not in_order:
            srt = np.lexsort(cols[::-1])
            cols = [c[srt] for c in cols]
            teams, d = teams[srt], d[srt]
        cum = np.zeros((len(d) + 1, len(self.keys)))
        np.cumsum(d, axis=0, out=cum[1:])
        at = np.append(np.flatnonzero(self._unit_starts(cols)), len(d))
        return cum, at, teams, d, cols

    def cheapest_at_quality(self, m: float | tuple[float, float], rates: list[float], bar: float) -> int | None:
        """The claimed count k (0..N) of least scenario cost whose quality is ≥ `bar` × baseline quality, exact at
        every count as `frontier.CumTable.curve` (the first k of least cost wins; None when no count is scored), by
        branch and bound: every bucket edge is a prefix sum (no read); a bucket's other counts are read as rows
        only when its bounds (`bucket_bounds`) let one of them be scored at the bar and cost no more than the best
        so far, least bound first. When the bounds leave more than BOUND_READS buckets, every bucket is read in
        rank order instead (`_every_count`)."""
        search = _Search(self, m, rates, bar)
        search.consider(self.cum_units, self.base_totals + self.prefix)
        low, ok = self.bucket_bounds(search.mvec, bar)
        inside = ok & (self.bucket_units > 1)        # a bucket of one unit holds its edge only
        if search.best is not None:
            inside &= low <= search.best[0] + _slack(search.best[0])
        todo = np.flatnonzero(inside)
        if len(todo) > BOUND_READS:
            return self._every_count(search)
        self.bucket_reads = 0
        want = {int(x) for x in todo}
        for b in todo[np.argsort(low[todo], kind="stable")]:
            if search.best is not None and low[b] > search.best[0] + _slack(search.best[0]):
                break                                # every bucket left is bounded above the best
            cum, at, _, _, _ = self._refine(int(b), around=NEIGHBOURS, want=want)
            self.bucket_reads += 1
            units = int(self.bucket_units[b])
            search.consider(self.cum_units[b] + np.arange(1, units), self.base_totals + self.prefix[b] + cum[at[1:units]])
        return None if search.best is None else search.best[1]

    def bucket_bounds(self, mvec: np.ndarray, bar: float) -> tuple[np.ndarray, np.ndarray]:
        """Per bucket, over the counts inside it: a lower bound of the scenario cost, and whether the quality can
        reach `bar` (False only when it cannot: no weight, or the greatest quality share below the bar at the least
        baseline quality). From the bucket's start (a prefix sum), the share's term at its two ends and its rows'
        bounds (`_row_bounds`, summed when the table was built), each key times its multiplier."""
        n_b = self.n_buckets
        names = [self.keys[j][0] for j in self.bound_keys]
        c = mvec[self.bound_keys]
        start = (self.base_totals + self.prefix[:n_b])[:, self.bound_keys] * c
        n = max(self.n, 1)
        shares = np.ceil(self.cum_units * 1e9 / n) / 1e9                     # as share_for_count
        lin = shares[:, None] * (self.bucket_delta[self.bound_keys] * c)[None, :]
        with np.errstate(invalid="ignore"):
            rows_lo = np.minimum(self.bucket_low * c, self.bucket_high * c)
            rows_hi = np.maximum(self.bucket_low * c, self.bucket_high * c)
        rows_lo = np.where(c == 0, 0.0, np.nan_to_num(rows_lo, nan=-np.inf))     # 0 × inf: that key does not count
        rows_hi = np.where(c == 0, 0.0, np.nan_to_num(rows_hi, nan=np.inf))
        lo = start + np.minimum(lin[:-1], lin[1:]) + rows_lo
        hi = start + np.maximum(lin[:-1], lin[1:]) + rows_hi

        def total(bound: np.ndarray, name: str) -> np.ndarray:
            at = [k for k, x in enumerate(names) if x == name]
            return bound[:, at].sum(axis=1) if at else np.zeros(n_b)

        qs_hi, qb_lo, w_hi = total(hi, "qs"), total(lo, "qb"), total(hi, "w")
        floor = bar - 1e-12
        with np.errstate(invalid="ignore"):
            below = (qb_lo > 0) & (floor > 0) & (qs_hi < floor * qb_lo - _slack(floor * qb_lo) - _slack(qs_hi))
        return total(lo, "cost"), (w_hi > 0) & ~below

    def _every_count(self, search: _Search) -> int | None:
        """cheapest_at_quality over every count: the buckets read in rank order, SCAN_ROWS at a time (consecutive
        buckets are one key range: one read of the stored rows, one per segment), kept on disk for later moves."""
        self.bucket_reads = 0
        for b, end in self._spans():
            units = int(self.cum_units[end] - self.cum_units[b])
            cum, at, teams, d, keys = self._read(b, end)
            self.bucket_reads += end - b
            self._keep(b, end, keys, teams, d)
            search.consider(self.cum_units[b] + np.arange(units), self.base_totals + self.prefix[b] + cum[at[:units]])
        return None if search.best is None else search.best[1]

    def _spans(self):
        """Consecutive buckets b..end − 1 of about SCAN_ROWS units each (at least one bucket; none empty), in rank
        order: one read of the stored rows each."""
        b = 0
        while b < self.n_buckets:
            end = int(np.searchsorted(self.cum_units, self.cum_units[b] + SCAN_ROWS, side="right")) - 1
            end = min(max(end, b + 1), self.n_buckets)
            if self.cum_units[end] > self.cum_units[b]:
                yield b, end
            b = end

    def keep_all(self, stop: threading.Event | None = None) -> None:
        """Every bucket's rows read in rank order, SCAN_ROWS at a time, and kept on disk (`_keep`), the spans not
        kept yet: a later move into any bucket then reads its slice there (a plain file read) instead of the
        stored rows. The background pass after a first render (`Bucketed.keep_in_background`); `stop` ends it
        between two reads."""
        for b, end in self._spans():
            if stop is not None and stop.is_set():
                return
            if all(self._kept_rows(x) is not None for x in (b, end - 1)):
                continue
            _, _, teams, d, keys = self._read(b, end)
            self._keep(b, end, keys, teams, d)

    def unit_key(self, k: int) -> tuple | None:
        """The key tuple of the k-th unit in rank order (1-based; None for k = 0): what a share claiming k units
        claims up to, as a cut for the chunks of a later policy's table (`Prepared.claims(cuts=…)`)."""
        if k <= 0:
            return None
        b = int(np.searchsorted(self.cum_units, k - 1, side="right")) - 1
        _, at, _, _, cols = self._refine(b)
        row = int(at[k - 1 - int(self.cum_units[b])])
        return tuple(c[row] for c in cols)

    def _locate(self, share: float) -> tuple[int, int, int]:
        """(k, bucket holding unit k's boundary, units of it taken)."""
        k = claimed_count(share, self.n)
        b = int(np.searchsorted(self.cum_units, k, side="right")) - 1
        return k, b, k - int(self.cum_units[b])

    def _totals(self, share: float) -> tuple[dict[tuple[str, str], float], int]:
        k, b, r = self._locate(share)
        vec = self.base_totals + self.prefix[b] + float(share) * self.bucket_delta
        if r:
            cum, at, _, _, _ = self._refine(b)
            vec = vec + cum[at[r]]
        return dict(zip(self.keys, vec.tolist(), strict=True)), k

    def lookup(self, scenario: Scenario, teams: bool = False) -> Outcome:
        """The outcome at `scenario`'s values: a prefix, plus one bucket read when the boundary is new."""
        m, shares, rates = slider_values(scenario)
        share = float(shares[self.i])
        totals, _ = self._totals(share)
        by_team = None
        if teams:
            _, b, r = self._locate(share)
            mult = self.prep._multipliers(m, rates)
            n_t = len(self.prep.teams)
            cost = np.zeros(n_t)
            for key in self.cost_keys:
                x = mult[key[1]]
                part = self.team_base[key] + share * self.team_buckets[key] + self.bucket_team[key][:b].sum(axis=0)
                cost = cost + part * x
            if r:
                _, at, tm, d, _ = self._refine(b)
                rows = int(at[r])
                w = sum(d[:rows, self.keys.index(key)] * mult[key[1]] for key in self.cost_keys)
                cost = cost + np.bincount(tm[:rows], weights=w, minlength=n_t)
            by_team = self.prep._team_frame_totals(cost)
        return self.prep._outcome(totals, m, rates, by_team)


def _slack(x: float | np.ndarray) -> float | np.ndarray:
    """What floating-point sums of the same figure in another order can differ by (a bound is kept that far off)."""
    return 1e-9 * np.maximum(1.0, np.abs(x))


class _Search:
    """The best (cost, count) so far of cheapest_at_quality: least cost, then least count (as a scan in rank order
    that keeps the first of least cost)."""

    def __init__(self, table: BucketTable, m: float | tuple[float, float], rates: list[float], bar: float):
        mult = table.prep._multipliers(m, rates)
        self.table, self.bar = table, bar
        self.mvec = np.array([mult[k[1]] for k in table.keys])
        names = [k[0] for k in table.keys]
        self.cols = {n: [j for j, x in enumerate(names) if x == n] for n in set(names)}
        self.best: tuple[float, int] | None = None

    def consider(self, ks: np.ndarray, vecs: np.ndarray) -> None:
        """Counts `ks` (ascending) with their totals before the share's term (rows × keys)."""
        if not len(ks):
            return
        t = self.table
        shares = np.ceil(ks * 1e9 / max(t.n, 1)) / 1e9                 # as share_for_count
        tot = (vecs + shares[:, None] * t.bucket_delta[None, :]) * self.mvec[None, :]

        def agg(name: str) -> np.ndarray:
            return tot[:, self.cols[name]].sum(axis=1) if self.cols.get(name) else np.zeros(len(ks))

        w = agg("w")
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = (agg("qs") / w) / (agg("qb") / w)
        ok = (w > 0) & (ratio >= self.bar - 1e-12)
        if ok.any():
            cost = np.where(ok, agg("cost"), np.inf)
            j = int(np.argmin(cost))
            if self.best is None or (cost[j], int(ks[j])) < self.best:
                self.best = (float(cost[j]), int(ks[j]))


__all__ = ["BUCKETS", "CHUNK_ROWS", "BucketTable", "Bucketed", "StaticTotals"]
