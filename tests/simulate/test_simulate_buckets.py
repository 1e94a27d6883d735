"""The bucketed slider engine (simulate/buckets.py): above `slider_row_limit` rows the What-if sliders answer from
quantile buckets of the ranking key refined exactly, with no per-row arrays held. Every figure must equal the
per-row engine's (and the replay's) to the cent, across shares, units (requests, whole conversations), cache modes
(lost, kept), teams, a bucket row, a batch before the shift and a cache after it; what needs every row's order
over the period is refused with a message naming the range's rows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import simulate
from simulate import buckets, frontier
from simulate.spec import ScenarioError
from simulate_data import load_rows

TARGET = {"model": "cheap-1", "prices": {"input": 1, "output": 2, "cache_read": 0.1, "cache_write": 1.25}}
SHARES = [0.0, 0.01, 0.13, 0.29, 0.3, 0.5, 0.61, 0.77, 0.99, 1.0]


def ledger(wh, tmp_path, extra=()):
    """150 requests in 30 conversations of 1–9 requests (some without a session), cache reads on most, three
    teams, two models, and a daily bucket row split by share; plus `extra` rows."""
    rows = []
    for k in range(150):
        conv = k % 30
        rows.append({"ts": f"2025-06-{1 + k % 5:02d}T{k % 24:02d}:{k % 60:02d}:00",
                     "model": "gpt-4o" if k % 7 else "gpt-4o-mini",
                     "input_tokens": 40 * (k * 37 % 101) + 10, "output_tokens": 3 * (k * 11 % 53) + 1,
                     "cache_read_tokens": 0 if k % 4 == 0 else 500 * (k % 9),
                     "cost_usd": f"{0.0001 * (k * 13 % 17 + 1):.4f}",
                     "team": ("t1", "t2", "t3")[k % 3],
                     # equal token totals on purpose: the tie-break (ts, row hash) must agree too
                     **({"input_tokens": 1000, "output_tokens": 100} if k % 10 == 3 else {}),
                     "session_id": "" if conv >= 26 else f"c{conv}"})
    rows.append({"ts": "2025-06-02T00:00:00", "granularity": "day", "requests": 40, "input_tokens": 80_000,
                 "output_tokens": 9_000, "cost_usd": "0.9", "team": "t2"})
    load_rows(wh, tmp_path, rows + list(extra))


def scenario(share, unit="request", cache="lost", pick="simplest", batch=None, cache_after=False, **assume):
    policies = []
    if batch is not None:
        policies.append({"kind": "batch", "share": batch, "match": {"models": ["gpt-4o-mini"]}})
    policies.append({"kind": "shift", "share": share, "unit": unit, "pick": pick, "to": TARGET,
                     "match": {"models": ["gpt-4o", "gpt-4o-mini"]}})
    if cache_after:
        policies.append({"kind": "cache", "hit_rate": 0.4})
    return simulate.parse_scenario({"name": "t", "policies": policies,
                                    "assumptions": {"cache_on_switch": cache, **assume}})


@pytest.fixture
def small_buckets(monkeypatch):
    """Few buckets and small chunks, so that a bucket is refined and conversations meet chunk edges."""
    monkeypatch.setattr(buckets, "BUCKETS", 7)
    monkeypatch.setattr(buckets, "CHUNK_ROWS", 23)


def both(wh, sc, monkeypatch):
    """(per-row, bucketed) prepared states of `sc`'s structure."""
    monkeypatch.delenv("MODELMIX_SLIDER_ROW_LIMIT", raising=False)
    frontier.PREPARED.clear()
    per_row = frontier.prepare(wh, sc)
    monkeypatch.setenv("MODELMIX_SLIDER_ROW_LIMIT", "10")
    frontier.PREPARED.clear()
    bucketed = frontier.prepare(wh, sc)
    assert isinstance(per_row, frontier.Prepared) and isinstance(bucketed, buckets.Bucketed)
    return per_row, bucketed


def assert_equal(a, b):
    """Two outcomes equal to the cent (and quality and counts to 1e-9)."""
    assert b.baseline_cost_usd == pytest.approx(a.baseline_cost_usd, abs=1e-9)
    assert b.scenario_cost_usd == pytest.approx(a.scenario_cost_usd, abs=1e-9)
    assert b.moved_requests == pytest.approx(a.moved_requests, abs=1e-9)
    assert b.total_requests == a.total_requests
    for x, y in ((a.scenario_quality, b.scenario_quality), (a.baseline_quality, b.baseline_quality)):
        assert (x is None) == (y is None) and (x is None or y == pytest.approx(x, abs=1e-9))
    assert b.savings_by_policy == pytest.approx(a.savings_by_policy, abs=1e-9)
    assert b.savings_by_lever == pytest.approx(a.savings_by_lever, abs=1e-9)
    if a.by_team is not None:
        ta, tb = a.by_team.sort("team"), b.by_team.sort("team")
        assert ta["team"].to_list() == tb["team"].to_list()
        for col in ("baseline_cost_usd", "scenario_cost_usd", "savings_usd"):
            assert np.allclose(ta[col].to_numpy(), tb[col].to_numpy(), atol=1e-9, rtol=0)


def with_values(sc, i, **values):
    data = sc.model_dump(mode="json", exclude_none=True)
    data["policies"][i].update(values)
    return simulate.parse_scenario(data)


@pytest.mark.parametrize("unit,cache,pick", [("request", "lost", "simplest"), ("request", "kept", "simplest"),
                                             ("session", "lost", "simplest"), ("session", "kept", "random"),
                                             ("request", "lost", "random")])
def test_bucketed_equals_per_row_at_every_share(wh, tmp_path, monkeypatch, small_buckets, unit, cache, pick):
    ledger(wh, tmp_path)
    sc = scenario(0.3, unit, cache, pick)
    per_row, bucketed = both(wh, sc, monkeypatch)
    ta, tb = per_row.table(0, sc), bucketed.table(0, sc)
    assert tb.n == ta.n > 0
    assert tb.n_buckets > 2
    # a conversation's rows are kept as rows (segments across chunks); without conversations read none is
    assert (len(tb.segments) > 2) == bucketed.plan.sessions
    # conversations of several requests with cache reads: the in-rank-order extra is exercised
    assert bucketed.multi_sessions and bucketed.lost == [0] if cache == "lost" else bucketed.lost == []
    for share in SHARES + [k / ta.n for k in range(0, ta.n + 1, 7)]:
        s = with_values(sc, 0, share=share)
        assert_equal(ta.lookup(s, teams=True), tb.lookup(s, teams=True))
    assert bucketed.eligible_requests == pytest.approx(per_row.eligible_requests)
    assert bucketed.unpriced_requests == per_row.unpriced_requests


@pytest.mark.parametrize("unit,cache", [("request", "kept"), ("request", "lost"), ("session", "lost")])
def test_each_summed_bucket_equals_its_rows_read_again(wh, tmp_path, monkeypatch, small_buckets, unit, cache):
    """A bucket's sums come from the stream summed by first key (and its conversations' rows); a move reads its rows
    again (the stored rows of its first-key range, plus the segments). Both must agree bucket by bucket: the same
    units, the same deltas to the cent, every key inside the bucket's bounds; and every unit count of the table
    equals the per-row engine's."""
    ledger(wh, tmp_path)
    sc = scenario(0.3, unit, cache)
    per_row, bucketed = both(wh, sc, monkeypatch)
    ta, tb = per_row.table(0, sc), bucketed.table(0, sc)
    assert tb.n_buckets > 2 and tb.n == ta.n
    for b in range(tb.n_buckets):
        cum, at, _, d, cols = tb._read(b)
        assert len(at) - 1 == tb.bucket_units[b]
        assert np.allclose(cum[-1], tb.bucket_sums[b], atol=1e-9, rtol=0)
        if len(d):
            first = tb.bucket_of(cols[0])
            assert (first == b).all()
    for k in range(ta.n + 1):
        s = with_values(sc, 0, share=k / ta.n)
        assert_equal(ta.lookup(s, teams=True), tb.lookup(s, teams=True))
    # a sweep's boundary buckets refined in one read: each the same rows as its own read
    tb._refined.clear()
    tb.prefetch(SHARES)
    assert len(tb._refined) > 2
    for b, (cum, at, teams, _, _) in tb._refined.items():
        own = tb._read(b)
        assert np.allclose(cum, own[0], atol=1e-9, rtol=0) and (at == own[1]).all() and (teams == own[2]).all()
    # a bucket read with its neighbours in one read of their range (cheapest_at_quality): each the same rows as its
    # own read
    tb._refined.clear()
    tb._refine(3, around=2, want={1, 2, 4, 5, 6})        # the stored buckets: those of `want` adjacent to it
    assert list(tb._refined) == ([1, 2, 4, 5, 6, 3] if bucketed.stored else [1, 2, 4, 5, 3])
    for b, (cum, at, teams, _, _) in tb._refined.items():
        own = tb._read(b)
        assert np.allclose(cum, own[0], atol=1e-9, rtol=0) and (at == own[1]).all() and (teams == own[2]).all()
    # the buckets cheapest_at_quality read whole (its bounds leaving too many) are kept on disk: a move there reads
    # them, not the stored rows
    monkeypatch.setattr(buckets, "BOUND_READS", 0)
    fresh = {b: tb._read(b) for b in range(tb.n_buckets)}
    m, _, rates = frontier.slider_values(sc)
    tb.cheapest_at_quality(m, rates, 0.9)
    assert tb.kept and all(tb._kept_rows(b) is not None for b in range(tb.n_buckets) if tb.bucket_units[b])
    for b, (cum, at, teams, _, _) in fresh.items():
        again = tb._read(b)
        assert np.allclose(cum, again[0], atol=1e-9, rtol=0) and (at == again[1]).all() and (teams == again[2]).all()


def test_bucketed_equals_the_replay_with_batch_cache_and_multipliers(wh, tmp_path, monkeypatch, small_buckets):
    ledger(wh, tmp_path)
    sc = scenario(0.4, "session", "lost", batch=1.0, cache_after=True, output_multiplier=1.3, input_multiplier=0.8)
    per_row, bucketed = both(wh, sc, monkeypatch)
    for share in (0.0, 0.37, 0.8, 1.0):
        for hit in (0.0, 0.55):
            s = with_values(with_values(sc, 1, share=share), 2, hit_rate=hit)
            r = simulate.run(wh, s)
            out = bucketed.evaluate(s, teams=True)
            assert out.scenario_cost_usd == pytest.approx(r.scenario_cost_usd, abs=0.005)
            assert out.moved_requests == pytest.approx(r.moved_requests, abs=1e-6)
            assert_equal(per_row.evaluate(s, teams=True), out)
    # a batch share of 0 is another table (a second pass), still exact; a batch share strictly between 0 and 1
    # claims its rows up to the key of its last unit over the whole period (its own table: the cut)
    for batch in (0.0, 0.37, 0.5, 0.93):
        for share in (0.0, 0.3, 1.0):
            s = with_values(with_values(sc, 0, share=batch), 1, share=share)
            assert_equal(per_row.evaluate(s, teams=True), bucketed.evaluate(s, teams=True))
    r = simulate.run(wh, s)
    assert bucketed.evaluate(s).scenario_cost_usd == pytest.approx(r.scenario_cost_usd, abs=0.005)
    # the sweep (a lookup per point) agrees with the per-row sweep
    grid = [0.0, 0.25, 0.5, 1.0]
    monkeypatch.setenv("MODELMIX_SLIDER_ROW_LIMIT", "10")
    swept = frontier.sweep(wh, sc, 1, grid)
    monkeypatch.delenv("MODELMIX_SLIDER_ROW_LIMIT")
    frontier.PREPARED.clear()
    assert swept["scenario_cost_usd"].to_list() == pytest.approx(frontier.sweep(wh, sc, 1, grid)
                                                                 ["scenario_cost_usd"].to_list(), abs=1e-9)


def test_cascade_only_scenario_is_the_static_totals(wh, tmp_path, monkeypatch, small_buckets):
    ledger(wh, tmp_path)
    sc = simulate.parse_scenario({"name": "c", "policies": [
        {"kind": "cascade", "first": TARGET, "escalation_rate": 0.3}], "assumptions": {"cache_on_switch": "lost"}})
    per_row, bucketed = both(wh, sc, monkeypatch)
    assert_equal(per_row.evaluate(sc, teams=True), bucketed.evaluate(sc, teams=True))
    monkeypatch.setenv("MODELMIX_SLIDER_ROW_LIMIT", "10")
    b = frontier.break_even_escalation(wh, sc, 0)
    monkeypatch.delenv("MODELMIX_SLIDER_ROW_LIMIT")
    frontier.PREPARED.clear()
    assert b == pytest.approx(frontier.break_even_escalation(wh, sc, 0), abs=1e-12)


def test_bucketed_state_holds_no_per_row_array(wh, tmp_path, monkeypatch, small_buckets):
    ledger(wh, tmp_path)
    sc = scenario(0.3, "request", "lost")
    _, bucketed = both(wh, sc, monkeypatch)
    table = bucketed.table(0, sc)
    table.lookup(with_values(sc, 0, share=0.5), teams=True)
    table._refined.clear()                  # a refined bucket holds one bucket's rows, by design
    rows = bucketed.n_rows
    assert rows > 100

    def arrays(obj, depth=0):
        for v in (vars(obj).values() if hasattr(obj, "__dict__") else []):
            items = v.values() if isinstance(v, dict) else v if isinstance(v, list | tuple) else [v]
            for x in items:
                if isinstance(x, np.ndarray):
                    yield x
                elif isinstance(x, buckets.BucketTable) and depth < 2:
                    yield from arrays(x, depth + 1)
                elif isinstance(x, tuple):
                    yield from (y for y in x if isinstance(y, np.ndarray))

    assert len(table.layout) == len(table.segments) > 2
    sizes = [a.shape[0] for a in arrays(bucketed)] + [a.shape[0] for a in arrays(table)]
    # every array is per bucket, per coefficient or per team: none grows with the rows
    bound = max(table.n_buckets + 1, len(table.keys), len(bucketed.teams))
    assert sizes and max(sizes) <= bound < rows / 4


def test_what_needs_every_rows_order_is_refused_above_the_limit(wh, tmp_path, monkeypatch, small_buckets):
    ledger(wh, tmp_path)
    sc = scenario(0.3, "session", "kept", "random")
    monkeypatch.setenv("MODELMIX_SLIDER_ROW_LIMIT", "10")
    frontier.PREPARED.clear()
    for call in (lambda: frontier.router_report(wh, sc, 0), lambda: frontier.seed_band(wh, sc, 0, seeds=3)):
        with pytest.raises(ScenarioError, match=r"holds 151 rows, more than the 10 "):
            call()
    # a later policy losing the conversations' cache after a share strictly between 0 and 1: every row depends on
    # that share's picks (the per-row engine evaluates it in full; here it is refused)
    later = simulate.parse_scenario({"name": "t", "policies": [
        {"kind": "shift", "share": 0.3, "to": TARGET, "match": {"models": ["gpt-4o"]}},
        {"kind": "cascade", "first": TARGET, "escalation_rate": 0.2}], "assumptions": {"cache_on_switch": "lost"}})
    with pytest.raises(ScenarioError, match=r"policies\.0 .*0\.3.*must be 0 or 1"):
        frontier.prepare(wh, later).evaluate(later)
    # at the limit itself the per-row engine still answers them
    monkeypatch.setenv("MODELMIX_SLIDER_ROW_LIMIT", "151")
    frontier.PREPARED.clear()
    assert frontier.prepare(wh, sc).per_row
    assert frontier.router_report(wh, sc, 0).metrics


@pytest.mark.parametrize("unit,cache,scan", [("request", "lost", 1), ("session", "kept", 1), ("request", "kept", 100)])
@pytest.mark.parametrize("bar", [0.9, 0.95, 0.99, 1.0])
def test_cheapest_at_quality_reads_the_buckets_in_order_and_agrees(wh, tmp_path, monkeypatch, small_buckets, unit,
                                                                   cache, scan, bar):
    monkeypatch.setattr(buckets, "SCAN_ROWS", scan)     # one bucket per read, or several buckets per read
    ledger(wh, tmp_path)
    # scored models, so that quality falls as the share grows and each bar is crossed inside the curve
    sc = scenario(0.3, unit, cache, quality={"*": {"cheap-1": 0.6, "gpt-4o": 0.9, "gpt-4o-mini": 0.8}})
    monkeypatch.delenv("MODELMIX_SLIDER_ROW_LIMIT", raising=False)
    frontier.PREPARED.clear()
    a = frontier.cheapest_at_quality(wh, sc, 0, bar)
    assert a is not None and (a.claimed > 0 or bar == 1.0)
    monkeypatch.setenv("MODELMIX_SLIDER_ROW_LIMIT", "10")
    frontier.PREPARED.clear()
    b = frontier.cheapest_at_quality(wh, sc, 0, bar)
    assert (a is None) == (b is None)
    if a is not None:
        assert b.scenario_cost_usd == pytest.approx(a.scenario_cost_usd, abs=1e-9)
        assert b.quality_ratio == pytest.approx(a.quality_ratio, abs=1e-9)
        assert b.claimed == a.claimed and b.share == a.share


@pytest.mark.parametrize("unit,cache", [("request", "lost"), ("request", "kept"), ("session", "kept")])
def test_cheapest_at_quality_bounds_hold_at_every_count_and_prune(wh, tmp_path, monkeypatch, small_buckets, unit,
                                                                  cache):
    """cheapest_at_quality reads a bucket's rows only when its bounds let a count inside it be scored at the bar and
    cost no more than the best so far. A bucket's bounds must hold at every count inside it, else a pruned bucket
    could hold the answer: the rows' part of every figure at each of its counts (any prefix of its rows in rank
    order) within the bucket's row bounds, no count cheaper than its least cost, none scored at the bar in a bucket
    bounded below it; the answer equals the per-row engine's at every bar, and buckets are pruned. 40 requests of
    equal token totals (by 8), one team and model, no conversation: groups summed in DuckDB that the tie-break cuts,
    their rows' deltas of both signs (billed far above the target's price, the last two by time far below: a prefix
    of a group then saves more than the whole group)."""
    monkeypatch.setattr(buckets, "BUCKETS", 60)
    same = [{"ts": f"2025-06-03T{k // 60:02d}:{k % 60:02d}:30", "model": "gpt-4o", "output_tokens": 200,
             "input_tokens": 2000 if k >= 30 else 152_000, "cache_read_tokens": 150_000 if k >= 30 else 0,
             "cost_usd": "0.0001" if k >= 30 else "0.5000", "team": "t1"} for k in range(40)]
    ledger(wh, tmp_path, same)
    sc = scenario(0.3, unit, cache, quality={"*": {"cheap-1": 0.6, "gpt-4o": 0.9, "gpt-4o-mini": 0.8}})
    per_row, bucketed = both(wh, sc, monkeypatch)
    ta, tb = per_row.table(0, sc), bucketed.table(0, sc)
    assert tb.n == ta.n and tb.n_buckets > 20
    for b in range(tb.n_buckets):
        cum, at, _, _, _ = tb._read(b)
        part = cum[at][:, tb.bound_keys]            # the rows' part at each count of the bucket
        assert (part >= tb.bucket_low[b] - 1e-12).all() and (part <= tb.bucket_high[b] + 1e-12).all()
    m, _, rates = frontier.slider_values(sc)
    curve = ta.curve(m, rates)
    w = np.asarray(curve["w"], dtype=float)
    ratio = (curve["qs"] / w) / (curve["qb"] / w)
    k = np.arange(ta.n + 1)
    inside = np.searchsorted(tb.cum_units, k, side="right") - 1      # the bucket each count lies in
    edge = tb.cum_units[inside] == k
    pruned = 0
    for bar in np.linspace(0.8, 1.0, 41):
        low, ok = tb.bucket_bounds(buckets._Search(tb, m, rates, bar).mvec, bar)
        scored = (w > 0) & (ratio >= bar - 1e-12)
        assert (curve["cost"][~edge] >= low[inside[~edge]] - 1e-9).all()
        assert ok[inside[~edge & scored]].all()
        best = tb.cheapest_at_quality(m, rates, bar)
        assert best == (int(np.argmin(np.where(scored, curve["cost"], np.inf))) if scored.any() else None)
        pruned += int((tb.bucket_units > 1).sum()) - tb.bucket_reads
    assert pruned > 0


@pytest.mark.parametrize("unit,cache", [("request", "lost"), ("session", "kept")])
def test_a_grid_moved_to_bucket_edges_reads_nothing_and_agrees(wh, tmp_path, monkeypatch, small_buckets, unit, cache):
    """The browser preview's grid on the bucketed engine: each share whose count lies inside a bucket moved to the
    nearest bucket edge (the others kept), so that the sweep reads no bucket; its figures equal the per-row
    engine's at those shares."""
    ledger(wh, tmp_path)
    sc = scenario(0.3, unit, cache)
    per_row, bucketed = both(wh, sc, monkeypatch)
    ta, tb = per_row.table(0, sc), bucketed.table(0, sc)
    grid = [s / 100 for s in range(101)]
    moved = tb.edge_shares(grid)
    edges = tb.cum_units.tolist()
    counts = [frontier.claimed_count(x, tb.n) for x in moved]
    assert set(counts) <= set(edges) and moved[0] == 0.0 and moved[-1] == 1.0 and moved != grid
    for x, y, k in zip(grid, moved, counts, strict=True):
        want = frontier.claimed_count(x, tb.n)
        assert abs(k - want) == min(abs(e - want) for e in edges)          # the nearest edge
        assert y == x or y == frontier.share_for_count(k, tb.n)
    tb._refined.clear()
    swept = frontier.sweep(wh, sc, 0, moved)
    assert not tb._refined                                                 # no bucket read
    for x, cost in zip(moved, swept["scenario_cost_usd"].to_list(), strict=True):
        assert cost == pytest.approx(ta.lookup(with_values(sc, 0, share=x)).scenario_cost_usd, abs=1e-9)


def test_the_setting_and_the_simulators_default_agree(monkeypatch):
    from modelmix.settings import Settings

    monkeypatch.delenv("MODELMIX_SLIDER_ROW_LIMIT", raising=False)
    assert Settings().slider_row_limit == frontier.ROW_LIMIT == frontier.row_limit()
    monkeypatch.setenv("MODELMIX_SLIDER_ROW_LIMIT", "123")
    assert Settings().slider_row_limit == 123 == frontier.row_limit()


def streamed_rows(monkeypatch) -> list[int]:
    """The heights of the frames the bucketed engine streams from DuckDB (appended as they come)."""
    seen: list[int] = []
    chunks = buckets.Bucketed._chunks

    def counted(self, folded=frozenset()):
        for frame in chunks(self, folded):
            seen.append(frame.height)
            yield frame

    monkeypatch.setattr(buckets.Bucketed, "_chunks", counted)
    return seen


@pytest.mark.parametrize("cache", ["kept", "lost"])
@pytest.mark.parametrize("ranked", [True, False])
def test_rows_no_ranked_policy_orders_are_summed_in_duckdb_and_agree(wh, tmp_path, monkeypatch, small_buckets, ranked,
                                                                      cache):
    """The rows no ranked policy may pick (here the cascade's model, the daily bucket row, everything when nothing is
    ranked; with the cache lost on a switch, only those without a session id) reach Python summed by their shared
    values (sql/simulate/frontier_grouped.sql); every figure still equals the per-row engine's and the replay's, at
    every share, per team."""
    # conversations of several gpt-4o-mini requests with cache reads, alone and beside gpt-4o ones: the cascade's
    # move pays one cache write per conversation, and the input price unless the whole conversation moved
    extra = [{"ts": f"2025-06-03T0{k}:00:00", "model": "gpt-4o-mini" if k != 4 else "gpt-4o", "input_tokens": 300,
              "output_tokens": 20 + k, "cache_read_tokens": 900 + 100 * k, "cost_usd": "0.0004", "team": "t1",
              "session_id": "m1" if k < 3 else "m2"} for k in range(6)]
    ledger(wh, tmp_path, extra)
    policies = [{"kind": "cascade", "first": TARGET, "escalation_rate": 0.25, "match": {"models": ["gpt-4o-mini"]}}]
    if ranked:
        policies.append({"kind": "shift", "share": 0.3, "to": TARGET, "match": {"models": ["gpt-4o"]}})
    policies.append({"kind": "cache", "hit_rate": 0.4, "match": {"teams": ["t1", "t2"]}})
    sc = simulate.parse_scenario({"name": "g", "policies": policies, "assumptions": {
        "cache_on_switch": cache, "quality": {"*": {"cheap-1": 0.6, "gpt-4o": 0.9, "gpt-4o-mini": 0.8}}}})
    seen = streamed_rows(monkeypatch)
    per_row, bucketed = both(wh, sc, monkeypatch)
    assert bucketed.plan.sessions == bool(bucketed.lost) == (cache == "lost")
    assert bucketed.n_rows == per_row.n_rows == 157
    assert sum(seen) < per_row.n_rows           # the shift's candidates without a conversation came summed too
    shares = SHARES if ranked else [None]
    for share in shares:
        s = with_values(sc, 1, share=share) if ranked else sc
        for hit in (0.0, 0.7):
            s = with_values(s, len(policies) - 1, hit_rate=hit)
            assert_equal(per_row.evaluate(s, teams=True), bucketed.evaluate(s, teams=True))
    r = simulate.run(wh, s)
    assert bucketed.evaluate(s).scenario_cost_usd == pytest.approx(r.scenario_cost_usd, abs=0.005)
    assert bucketed.eligible_requests == pytest.approx(per_row.eligible_requests)


def test_the_period_rows_of_a_scenario_without_scope_come_from_the_rollup(wh, csv_file):
    """The engine is picked by the period's replayed rows: without a scope from `key_daily` (no pass over the rows),
    the same count as the rows themselves — here where a billing export and a gateway log cover the same day (the
    replay reads the gateway's two requests, not the billing line) and on a day only the gateway covers."""
    from ingest import ingest_paths
    from simulate.plan import Plan

    ingest_paths(wh, [csv_file("request_id,startTime,model,custom_llm_provider,prompt_tokens,completion_tokens,spend",
                               "r1,2026-10-01 10:00:00,gpt-4o-mini,openai,1000,100,0.01",
                               "r2,2026-10-01 11:00:00,gpt-4o-mini,openai,1000,100,0.01",
                               "r3,2026-10-02 11:00:00,gpt-4o-mini,openai,1000,100,0.01")])
    day = int(dt.datetime(2026, 10, 1, tzinfo=dt.UTC).timestamp())
    ingest_paths(wh, [csv_file("start_time,end_time,project_id,model,num_model_requests,input_tokens,"
                               "input_cached_tokens,output_tokens", f"{day},{day + 86400},proj,gpt-4o-mini,3,3000,0,300")])
    for period, expected in (({}, 3), ({"start": "2026-10-01", "end": "2026-10-01"}, 2),
                             ({"start": "2026-10-02", "end": "2026-10-02"}, 1),
                             ({"start": "2026-10-03", "end": "2026-12-31"}, 0)):
        sc = simulate.parse_scenario({"name": "p", "period": period, "policies": [
            {"kind": "shift", "share": 0.5, "to": TARGET}]})
        plan = Plan.build(wh, sc)
        counted = frontier.period_rows(_LakeLike(wh), plan)
        assert frontier.period_rows(wh, plan) == counted == expected


class _LakeLike:
    """The ledger seen without its writer (as an engine over a lake is): `period_rows` counts the rows themselves."""

    def __init__(self, wh):
        self.sql = wh.sql


def stored_ledger(wh, tmp_path, extra=()):
    """The ledger above plus 240 requests over six days whose token totals spread over ~100 stored buckets (key_bucket:
    16 a doubling), several to a bucket, of three teams and two models, billed at varied prices (deltas of both signs
    inside a bucket)."""
    more = [{"ts": f"2025-06-{1 + k % 6:02d}T{k % 24:02d}:{(7 * k) % 60:02d}:00",
             "model": "gpt-4o" if k % 5 else "gpt-4o-mini",
             "input_tokens": int(12 * 1.045 ** k), "output_tokens": 1 + k % 7,
             "cost_usd": f"{0.00001 * (1.04 ** k) * (1 + (k * 7) % 5):.6f}",
             "team": ("t1", "t2", "t3")[k % 3]} for k in range(240)]
    ledger(wh, tmp_path, more + list(extra))


def test_simplest_reads_the_stored_buckets_and_agrees(wh, tmp_path, monkeypatch):
    """`pick: simplest` over requests whose claims a group can carry: the pass reads `replay_buckets`
    (sql/simulate/replay_bucket_rows.sql), the slider's buckets are the stored ones (macro key_bucket), and only the
    boundary bucket is read again as rows. Every count equals the per-row engine's (per team too) and the replay's;
    the cheapest count at a quality bar too; dropping the boundary bucket's rows (its prefix and share term alone)
    gives other figures."""
    stored_ledger(wh, tmp_path)
    sc = scenario(0.3, "request", "kept", quality={"*": {"cheap-1": 0.6, "gpt-4o": 0.9, "gpt-4o-mini": 0.8}})
    seen = streamed_rows(monkeypatch)
    per_row, bucketed = both(wh, sc, monkeypatch)
    assert bucketed.stored and not per_row.plan.stored_buckets
    stored = wh.sql("select count(*) as n from replay_buckets")["n"][0]
    assert sum(seen) <= stored < bucketed.n_rows              # the stored buckets streamed, not the rows
    assert "from replay_buckets" in bucketed._stream_sql(bucketed._folded())
    ta, tb = per_row.table(0, sc), bucketed.table(0, sc)
    assert tb.n == ta.n > 300
    # one bucketing: each of the table's buckets is one stored bucket, from its least total (of any row of the period)
    key_bucket = lambda k: np.floor(np.log2(k + 1.0) * 16)           # noqa: E731 (migration 032)
    assert tb.n_buckets > 50 and (tb.bucket_units > 1).sum() > 20
    for b in range(tb.n_buckets):
        cum, at, _, _, cols = tb._read(b)
        assert len(at) - 1 == tb.bucket_units[b] and np.allclose(cum[-1], tb.bucket_sums[b], atol=1e-12, rtol=0)
        assert len(set(key_bucket(cols[0].astype(float)))) == 1
        assert (b == 0 or cols[0].min() >= tb.bounds[b - 1]) and (b == len(tb.bounds) or cols[0].max() < tb.bounds[b])
    for k in range(ta.n + 1):
        s = with_values(sc, 0, share=frontier.share_for_count(k, ta.n))
        assert_equal(ta.lookup(s, teams=True), tb.lookup(s, teams=True))
    for share in (0.13, 0.5, 0.77):
        s = with_values(sc, 0, share=share)
        assert tb.lookup(s).scenario_cost_usd == pytest.approx(simulate.run(wh, s).scenario_cost_usd, abs=0.005)
    m, _, rates = frontier.slider_values(sc)
    curve = ta.curve(m, rates)
    w = np.asarray(curve["w"], dtype=float)
    ratio = (curve["qs"] / w) / (curve["qb"] / w)
    for bar in (0.85, 0.9, 0.95, 0.99):
        scored = (w > 0) & (ratio >= bar - 1e-12)
        assert tb.cheapest_at_quality(m, rates, bar) == int(np.argmin(np.where(scored, curve["cost"], np.inf)))
    # without the boundary bucket's rows the counts inside a bucket are wrong: the refinement is what makes it exact
    tb._refined.clear()
    monkeypatch.setattr(buckets.BucketTable, "_refine", lambda self, b, around=0: (
        np.zeros((len(self.keys) + 1, len(self.keys))), np.zeros(self.n + 1, dtype=np.int64), np.zeros(0, np.int64),
        np.zeros((0, len(self.keys))), []))
    off = [k for k in range(ta.n + 1) if abs(tb.lookup(with_values(sc, 0, share=frontier.share_for_count(k, ta.n)))
                                             .scenario_cost_usd - ta.lookup(with_values(
                                                 sc, 0, share=frontier.share_for_count(k, ta.n))).scenario_cost_usd)
           > 1e-6]
    assert len(off) > ta.n / 4          # every count inside a bucket of several rows


@pytest.mark.parametrize("what", ["negative", "random", "session", "cache"])
def test_the_stored_buckets_are_not_read_where_a_group_cannot_carry_the_claims(wh, tmp_path, monkeypatch, what):
    """A request row with a negative amount (a bucket's bounds need every row's part of the sign of its group's), a
    random pick (a hash is not stored by bucket), whole conversations, a cache lost on a switch: the rows are read and
    bucketed by quantiles, and still agree with the per-row engine."""
    bad = [{"ts": "2025-06-04T05:00:00", "model": "gpt-4o", "input_tokens": 500, "output_tokens": 5,
            "cost_usd": "-0.0300", "team": "t2"}] if what == "negative" else []
    stored_ledger(wh, tmp_path, bad)
    sc = scenario(0.3, "session" if what == "session" else "request", "lost" if what == "cache" else "kept",
                  "random" if what == "random" else "simplest")
    per_row, bucketed = both(wh, sc, monkeypatch)
    assert not bucketed.stored
    ta, tb = per_row.table(0, sc), bucketed.table(0, sc)
    for share in SHARES:
        s = with_values(sc, 0, share=share)
        assert_equal(ta.lookup(s, teams=True), tb.lookup(s, teams=True))


@pytest.mark.parametrize("stored", [True, False])
def test_kept_in_the_background_a_move_reads_no_stored_row(wh, tmp_path, monkeypatch, small_buckets, stored):
    """After a first render the slider's table keeps every bucket's rows on disk in a background thread
    (`keep_in_background`, once per table); then a move into any bucket reads its slice there, not the stored rows,
    and gives the per-row engine's figures at every count."""
    monkeypatch.setattr(buckets, "SCAN_ROWS", 40)           # several spans of buckets
    stored_ledger(wh, tmp_path)
    sc = scenario(0.3, "request", "kept", "simplest" if stored else "random")
    per_row, bucketed = both(wh, sc, monkeypatch)
    assert bucketed.stored == stored
    ta, tb = per_row.table(0, sc), bucketed.table(0, sc)
    fresh = {b: tb._read(b) for b in range(tb.n_buckets)}
    keeper = bucketed.keep_in_background(sc)
    assert keeper is not None and bucketed.keep_in_background(sc) is None     # once per table
    keeper.join(60)
    assert not keeper.is_alive() and len(tb.kept) > 2
    tb._refined.clear()

    def no_read(*a, **k):
        raise AssertionError("a stored row read after keeping")

    monkeypatch.setattr(buckets.BucketTable, "_alone_rows", no_read)
    for b, (cum, at, teams, _, _) in fresh.items():
        again = tb._read(b)
        assert np.allclose(cum, again[0], atol=1e-12, rtol=0) and (at == again[1]).all() and (teams == again[2]).all()
    for k in range(ta.n + 1):
        s = with_values(sc, 0, share=frontier.share_for_count(k, ta.n))
        assert_equal(ta.lookup(s, teams=True), tb.lookup(s, teams=True))
