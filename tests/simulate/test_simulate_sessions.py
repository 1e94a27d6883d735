"""Whole conversations and the cache a move loses (issue 13 §3; docs/simulation.md "Conversations: unit: session
and cache lost on a switch"). Known answers computed by hand on a six-request ledger, the numpy slider engine
equal to the SQL replay to the cent at every share, `kept` reproducing the figures from before cache loss."""

from __future__ import annotations

import json

import numpy as np
import pytest

import simulate
from cli.main import main as cli_main
from simulate import frontier
from simulate_data import load_rows
from test_simulate_presets import fixed_ledger

# the target: input $1, output $2, cache read $0.10, cache write $1.25 per 1M tokens
TARGET = {"model": "cheap-1", "prices": {"input": 1, "output": 2, "cache_read": 0.1, "cache_write": 1.25}}
# (hour, cache-read tokens, session): conversation A of three requests, B of two, one request without a session
ROWS = [("01", 0, "A"), ("02", 10000, "A"), ("03", 20000, "A"), ("04", 5000, "B"), ("05", 30000, "B"),
        ("06", 40000, "")]


def six(wh, tmp_path):
    """Each request: 1,000 input, 100 output tokens, billed $0.01. Kept at the target, request r costs
    (1,000 × 1 + cache_read × 0.1 + 100 × 2) / 1M."""
    load_rows(wh, tmp_path, [{"ts": f"2025-06-01T{h}:00:00", "input_tokens": 1000, "cache_read_tokens": cr,
                              "output_tokens": 100, "cost_usd": "0.01", "session_id": s} for h, cr, s in ROWS])


def scenario(share, unit="request", cache="lost", pick="simplest", **extra):
    return simulate.parse_scenario({"name": "t", "policies": [
        {"kind": "shift", "share": share, "unit": unit, "pick": pick, "to": TARGET, **extra}],
        "assumptions": {"cache_on_switch": cache}})


# total tokens: A 1,100 / 11,100 / 21,100; B 6,100 / 31,100; the lone request 41,100
# lost extra = cache reads × (cache write − cache read) for the first moved request of a conversation,
#              cache reads × (input − cache read) for a later one unless the whole conversation moved
KNOWN = [
    # simplest half of requests: A1 (first, 0 reads), B1 (first: 5,000 × 1.15), A2 (A not whole: 10,000 × 0.9)
    ("request", 0.5, 3, 0.00575 + 0.009),
    # every request: A and B whole (only their first pays: A1 0, B1 0.00575); the lone one is first: 40,000 × 1.15
    ("request", 1.0, 6, 0.00575 + 0.046),
    # two requests: A1, B1
    ("request", 0.34, 2, 0.00575),
    # conversations by total tokens A 33,300 < B 37,200 < the lone 41,100: floor(0.5 × 3) = 1: A whole, its
    # first request has no cache reads
    ("session", 0.5, 3, 0.0),
    # A and B whole: B1 pays its write
    ("session", 0.67, 5, 0.00575),
]


@pytest.mark.parametrize("unit,share,moved,lost", KNOWN)
def test_cache_lost_known_answers(wh, tmp_path, unit, share, moved, lost):
    six(wh, tmp_path)
    r = simulate.run(wh, scenario(share, unit))
    kept = simulate.run(wh, scenario(share, unit, cache="kept"))
    assert r.moved_requests == moved == kept.moved_requests
    assert r.scenario_cost_usd == pytest.approx(kept.scenario_cost_usd + lost, abs=1e-9)
    assert r.savings_by_lever().get("cache_lost_on_switch", 0.0) == pytest.approx(-lost, abs=1e-9)
    # the lost line is its own lever; the shift's own line is what it saves with the cache kept
    assert r.savings_by_lever()["model_shift"] == pytest.approx(kept.savings_by_lever()["model_shift"], abs=1e-9)
    # the numpy engine: an array evaluation and a table lookup give the same figures to the cent
    sc = scenario(share, unit)
    prep = frontier.prepare(wh, sc)
    for out in (prep.evaluate(sc), prep.table(0, sc).lookup(sc, teams=True)):
        assert out.scenario_cost_usd == pytest.approx(r.scenario_cost_usd, abs=1e-9)
        assert out.savings_by_lever["cache_lost_on_switch"] == pytest.approx(-lost, abs=1e-9)
        assert out.savings_by_policy == pytest.approx(
            {k: v for k, v in r.to_dict()["savings_by_policy"].items()}, abs=1e-9)
        assert out.moved_requests == moved


def test_kept_moves_by_hand(wh, tmp_path):
    six(wh, tmp_path)
    # every request at the target's cache-read price: (6 × 1,200 + 105,000 × 0.1) / 1M
    r = simulate.run(wh, scenario(1.0, cache="kept"))
    assert r.scenario_cost_usd == pytest.approx(0.0177, abs=1e-12)
    assert "cache_lost_on_switch" not in r.savings_by_lever()


@pytest.mark.slow
def test_kept_reproduces_the_figures_from_before_cache_loss(wh, tmp_path):
    """The presets on the golden ledger with `cache_on_switch: kept` give exactly the figures they gave before cache
    loss existed (tests/golden/simulate_presets.json before issue 13 §3); with the default `lost` only the cascade
    (whose first model loses the coding agent's cache) changes, by its own line."""
    fixed_ledger(wh, tmp_path)
    before = {"armstrong-80-99": 4.075375, "baseline": 13.7155, "batch-offline": 13.0255,
              "cache-prompts": 9.786208, "cascade-small-first": 9.053875, "harvey-3x": 4.802639}
    for name, cost in before.items():
        data = simulate.load_scenario(name).model_dump(mode="json", exclude_none=True)
        data["assumptions"]["cache_on_switch"] = "kept"
        kept = simulate.run(wh, simulate.parse_scenario(data))
        lost = simulate.run(wh, simulate.load_scenario(name))
        assert kept.scenario_cost_usd == cost, name
        line = lost.savings_by_lever().pop("cache_lost_on_switch", 0.0)
        assert lost.scenario_cost_usd == pytest.approx(cost - line, abs=1e-6), name
        assert {k: v for k, v in lost.savings_by_lever().items() if k != "cache_lost_on_switch"} == \
            kept.savings_by_lever(), name


@pytest.mark.slow
@pytest.mark.parametrize("unit", ["request", "session"])
def test_every_share_lookup_equals_the_replay(wh, tmp_path, unit):
    six(wh, tmp_path)
    base = scenario(0.5, unit)
    table = frontier.prepare(wh, base).table(0, base)
    grid = [i / 20 for i in range(21)]
    swept = frontier.sweep(wh, base, 0, grid)
    for share, row in zip(grid, swept.iter_rows(named=True), strict=True):
        sc = scenario(share, unit)
        r = simulate.run(wh, sc)
        out = table.lookup(sc, teams=True)
        assert out.scenario_cost_usd == pytest.approx(r.scenario_cost_usd, abs=1e-9), share
        assert row["scenario_cost_usd"] == pytest.approx(r.scenario_cost_usd, abs=1e-9), share
        assert out.moved_requests == r.moved_requests
        assert out.by_team["scenario_cost_usd"].sum() == pytest.approx(r.scenario_cost_usd, abs=1e-9)


def test_session_unit_moves_whole_conversations_for_every_pick(wh, tmp_path):
    six(wh, tmp_path)
    # a random third of 3 units: exactly one whole conversation (or the lone request) moves, for any seed
    for seed in range(6):
        r = simulate.run(wh, scenario(0.34, "session", pick="random", seed=seed))
        assert r.moved_requests in (1.0, 2.0, 3.0)
        band = frontier.seed_band(wh, scenario(0.34, "session", pick="random"), 0, seeds=[seed], grid=[0.34])
        assert band["savings_usd_p50"][0] == pytest.approx(r.savings_usd, abs=1e-9)


def test_router_scores_rank_conversations_by_their_highest_score(wh, tmp_path):
    """Helicone requests (keyed by request id, sessions by Helicone-Session-Id): S1 = r1 (score 0.1, billed $0.01)
    and r2 (0.9, $0.02); S2 = r3 (0.3, $0.03) and r4 (0.4, $0.04). By request the two lowest scores move (r1, r3:
    $0.04 of baseline); by conversation the one whose highest score is lowest (S2: $0.07). Each moved request costs
    (1,000 × 1 + 100 × 2) / 1M = $0.0012 at the target (cache kept: none read)."""
    recs = [(1, "S1", 0.01), (2, "S1", 0.02), (3, "S2", 0.03), (4, "S2", 0.04)]
    path = tmp_path / "helicone.jsonl"
    path.write_text("\n".join(json.dumps({
        "request_id": f"req-{k}", "request_created_at": f"2026-08-20T10:0{k}:00.000Z", "request_model": "gpt-4o",
        "provider": "OPENAI", "response_status": 200, "request_properties": {"Helicone-Session-Id": s},
        "prompt_tokens": 1000, "prompt_cache_read_tokens": 0, "prompt_cache_write_tokens": 0,
        "completion_tokens": 100, "reasoning_tokens": 0, "cost": c}) for k, s, c in recs) + "\n")
    from ingest import ingest_paths
    assert ingest_paths(wh, [path])[0].rows_loaded == 4
    scores = {"request_id": ["req-1", "req-2", "req-3", "req-4"], "provider": [None] * 4,
              "score": [0.1, 0.9, 0.3, 0.4]}
    for unit, moved_base in (("request", 0.04), ("session", 0.07)):
        sc = simulate.parse_scenario({"name": "t", "policies": [
            {"kind": "shift", "share": 0.5, "unit": unit, "pick": "score", "to": TARGET}],
            "assumptions": {"router_scores": scores}})
        r = simulate.run(wh, sc)
        assert r.moved_requests == 2
        assert r.savings_usd == pytest.approx(moved_base - 2 * 0.0012, abs=1e-9), unit
        prep = frontier.prepare(wh, sc)
        assert prep.table(0, sc).lookup(sc).savings_usd == pytest.approx(r.savings_usd, abs=1e-9)


def test_later_losing_policy_falls_back_to_arrays_and_still_agrees(wh, tmp_path):
    six(wh, tmp_path)
    sc = simulate.parse_scenario({"name": "t", "policies": [
        {"kind": "shift", "share": 0.5, "to": TARGET},
        {"kind": "cascade", "first": TARGET, "escalation_rate": 0.1}]})
    prep = frontier.prepare(wh, sc)
    assert not prep.lookup_ok(0)
    r = simulate.run(wh, sc)
    assert prep.evaluate(sc).scenario_cost_usd == pytest.approx(r.scenario_cost_usd, abs=1e-9)
    swept = frontier.sweep(wh, sc, 0, [0.5])
    assert swept["scenario_cost_usd"][0] == pytest.approx(r.scenario_cost_usd, abs=1e-9)


def test_json_and_cli_carry_the_lost_line_and_the_unit(wh, tmp_path, capsys):
    six(wh, tmp_path)
    r = simulate.run(wh, scenario(0.5))
    data = r.to_json()
    assert data["savings_by_lever"]["cache_lost_on_switch"] == pytest.approx(-0.01475, abs=1e-9)
    assert "cache lost on switch" in r.summary_text()


@pytest.mark.slow
def test_cli_unit_and_cache_on_switch_flags(tmp_path, capsys):
    from warehouse import Warehouse

    db = tmp_path / "l.duckdb"
    with Warehouse(db) as wh:
        six(wh, tmp_path)
    path = tmp_path / "s.yaml"
    path.write_text("name: s\npolicies:\n  - kind: shift\n    share: 0.67\n    to: {model: cheap-1, "
                    "prices: {input: 1, output: 2, cache_read: 0.1, cache_write: 1.25}}\n")
    for flags, lost, moved in (([], -0.00575, 4), (["--unit", "session"], -0.00575, 5),
                               (["--unit", "session", "--cache-on-switch", "kept"], None, 5)):
        assert cli_main(["simulate", str(path), "--db", str(db), "--json", *flags]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["savings_by_lever"].get("cache_lost_on_switch") == (
            None if lost is None else pytest.approx(lost, abs=1e-9)), flags
        assert out["moved_requests"] == moved


def test_seed_band_exact_when_requests_pay_for_each_others_cache(wh, tmp_path):
    """`unit: request`, cache lost, conversations of several requests: a seed's figures are not a reordering of the
    table's per-request deltas (who pays the cache write depends on which requests of the conversation moved
    first), so each seed's cache extras are recomputed for its own order. Every seed's band equals that seed's
    replay at every share; by hand for seed 0, which takes the lone request, A2, B1, then A1: three moved lose
    40,000 × 1.15 (the lone one's write) + 10,000 × 1.15 (A2, A's first moved) + 5,000 × 1.15 (B1) = $0.06325;
    with A1 (no cache reads) A's first moved is A1, and A2 pays the input price: 10,000 × 0.9, so $0.06075."""
    six(wh, tmp_path)
    grid = [0.0, 0.34, 0.5, 0.67, 0.84, 1.0]
    for seed in range(4):
        band = frontier.seed_band(wh, scenario(0.5, pick="random"), 0, seeds=[seed], grid=grid)
        for share, saved, quality in zip(grid, band["savings_usd_p50"], band["scenario_quality_p50"], strict=True):
            r = simulate.run(wh, scenario(share, pick="random", seed=seed))
            assert saved == pytest.approx(r.savings_usd, abs=1e-12), (seed, share)
            assert (quality != quality) if r.scenario_quality is None else \
                quality == pytest.approx(r.scenario_quality, abs=1e-12), (seed, share)
    band = frontier.seed_band(wh, scenario(0.5, pick="random"), 0, seeds=[0], grid=[0.5, 0.67])
    for share, lost, saved in zip([0.5, 0.67], [0.06325, 0.06075], band["savings_usd_p50"], strict=True):
        kept = simulate.run(wh, scenario(share, pick="random", seed=0, cache="kept"))
        assert saved == pytest.approx(kept.savings_usd - lost, abs=1e-12), share


def test_oracle_over_conversations_when_requests_pay_for_each_others_cache(wh, tmp_path):
    """The oracle bound for `unit: request` with cache lost (docs/simulation.md "Limits"; simulate/hull.py): on the
    six requests, each moved one losing 0.1 of quality (priors 0.9 → 0.8), the vertices computed by hand in
    tests/simulate/test_simulate_hull.py::test_the_worked_example: A and B whole ($0.03175 saved, 5 moved), A whole
    ($0.0234, 3), A1 ($0.0088, 1), nothing. Each vertex is a real assignment: the replay of a router scoring exactly
    its requests first gives its cost. The CLI's JSON says which bound it is and gives no oracle metrics."""
    six(wh, tmp_path)
    quality = {"*": {"gpt-4o": 0.9, "cheap-1": 0.8}}

    def sc(share, **extra):
        s = scenario(share, **extra)
        return s.model_copy(update={"assumptions": s.assumptions.model_copy(update={"quality": quality})})

    rep = frontier.router_report(wh, sc(0.5, pick="random"), 0)
    assert rep.bound == "conversations"
    assert rep.oracle.cost == pytest.approx([0.06 - 0.03175, 0.06 - 0.0234, 0.06 - 0.0088, 0.06], abs=1e-12)
    assert rep.oracle.moved.tolist() == [5, 3, 1, 0]
    assert rep.oracle.quality == pytest.approx([(5.4 - 0.5) / 6, (5.4 - 0.3) / 6, (5.4 - 0.1) / 6, 0.9], abs=1e-12)
    assert rep.metrics["oracle"] == dict.fromkeys(("apgr", "cpt50", "cpt80", "moved_at_95"))
    assert rep.metrics["policy"]["apgr"] is not None
    # each vertex is a real assignment: those requests claimed, priced by the numpy engine's cache rule (equal to
    # the replay to the cent, test_cache_lost_known_answers); rows told apart by their cache reads
    s0 = sc(0.5, pick="random")
    prep = frontier.prepare(wh, s0)
    reads = np.round(prep.lk[0]["lkcwi"] * 1e6 / 1.15).astype(int)     # × the input multiplier
    for chosen, cost in (({0, 10000, 20000, 5000, 30000}, 0.06 - 0.03175), ({0, 10000, 20000}, 0.06 - 0.0234),
                         ({0}, 0.06 - 0.0088)):
        claims = np.zeros((2, prep.n_rows))
        claims[0] = np.isin(reads, list(chosen))
        claims[1] = 1 - claims[0]
        cols = prep.quantities(claims)
        total = sum(v.sum() for (name, _), v in cols.items() if name == "cost")
        assert total == pytest.approx(cost, abs=1e-12), chosen
    assert prep.table(0, s0).order_free is False


@pytest.mark.slow
def test_cli_oracle_over_conversations(tmp_path, capsys):
    """`modelmix simulate --oracle --json` with requests paying for each other's cache: the bound over
    conversations (the library's vertices), named, without oracle metrics."""
    from warehouse import Warehouse

    db = tmp_path / "l.duckdb"
    with Warehouse(db) as wh:
        six(wh, tmp_path)
    path = tmp_path / "s.yaml"
    path.write_text("name: s\npolicies:\n  - kind: shift\n    share: 0.5\n    pick: random\n    to: {model: cheap-1, "
                    "prices: {input: 1, output: 2, cache_read: 0.1, cache_write: 1.25}}\n"
                    "assumptions:\n  quality: {'*': {gpt-4o: 0.9, cheap-1: 0.8}}\n")
    assert cli_main(["simulate", str(path), "--db", str(db), "--oracle", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["oracle_bound"] == "conversations"
    assert [p["scenario_cost_usd"] for p in out["curves"]["oracle"]] == pytest.approx(
        [0.06 - 0.03175, 0.06 - 0.0234, 0.06 - 0.0088, 0.06], abs=1e-12)
    assert out["metrics"]["oracle"]["apgr"] is None and out["metrics"]["policy"]["apgr"] is not None
