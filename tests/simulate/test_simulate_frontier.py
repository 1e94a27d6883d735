"""The what-if slider tables and the frontier (simulate/frontier.py) against the replay itself: every figure a
lookup gives must be what `simulate.run` gives for the same scenario, to the cent."""

from __future__ import annotations

import numpy as np
import pytest

import simulate
from simulate import frontier
from simulate_data import load_rows, ten_requests

CHEAP = {"model": "cheap-1", "prices": {"input": 1, "output": 2}}


def scenario(*policies, **extra):
    return simulate.parse_scenario({"name": "t", "policies": list(policies), **extra})


def with_share(sc, i, share):
    data = sc.model_dump(mode="json", exclude_none=True)
    data["policies"][i]["share"] = share
    return simulate.parse_scenario(data)


def assert_same(outcome, result):
    assert outcome.baseline_cost_usd == pytest.approx(result.baseline_cost_usd, abs=0.005)
    assert outcome.scenario_cost_usd == pytest.approx(result.scenario_cost_usd, abs=0.005)
    assert outcome.moved_requests == pytest.approx(result.moved_requests, abs=1e-6)
    for ours, theirs in ((outcome.baseline_quality, result.baseline_quality),
                         (outcome.scenario_quality, result.scenario_quality)):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            assert ours == pytest.approx(theirs, abs=2e-6)
    replay_levers = result.savings_by_lever()
    for lever, saved in replay_levers.items():
        assert outcome.savings_by_lever[lever] == pytest.approx(saved, abs=0.005)


@pytest.mark.parametrize("preset", simulate.presets())
def test_prepared_evaluation_equals_the_replay_for_every_preset(sample_wh, preset):
    sc = simulate.load_scenario(preset)
    assert_same(frontier.prepare(sample_wh, sc).evaluate(sc), simulate.run(sample_wh, sc))


def test_sweep_agrees_with_the_replay_at_each_grid_point(sample_wh):
    sc = simulate.load_scenario("armstrong-80-99")
    grid = [0.0, 0.05, 0.29, 0.5, 0.8, 0.95, 1.0]
    swept = frontier.sweep(sample_wh, sc, 0, grid)
    assert swept["share"].to_list() == grid
    for row in swept.iter_rows(named=True):
        r = simulate.run(sample_wh, with_share(sc, 0, row["share"]))
        assert row["scenario_cost_usd"] == pytest.approx(r.scenario_cost_usd, abs=0.005)
        assert row["savings_usd"] == pytest.approx(r.savings_usd, abs=0.005)
        assert row["scenario_quality"] == pytest.approx(r.scenario_quality, abs=2e-6)
        assert row["moved_requests"] == pytest.approx(r.moved_requests, abs=1e-6)


def mixed_ledger(wh, tmp_path):
    """Request rows of two sizes on two teams, plus daily buckets (split proportionally) and a cheap model."""
    rows = [{"ts": f"2025-06-0{1 + k % 3}T{k:02d}:00:00", "input_tokens": 50 * (k + 1) % 700 + 10,
             "output_tokens": 7 * k + 1, "cost_usd": f"{0.0007 * (k % 5 + 1):.4f}",
             "team": "t1" if k % 2 else "t2"} for k in range(23)]
    rows += [{"ts": "2025-06-02T00:00:00", "granularity": "day", "requests": 40, "input_tokens": 80_000,
              "output_tokens": 9_000, "cost_usd": "0.9", "team": "t3"},
             {"ts": "2025-06-03T05:00:00", "model": "gpt-4o-mini", "input_tokens": 1000, "output_tokens": 100,
              "cost_usd": "0.0004", "workload": "extraction"}]
    load_rows(wh, tmp_path, rows)


@pytest.mark.slow
def test_lookup_matches_the_replay_with_buckets_cache_and_output_multiplier(wh, tmp_path):
    mixed_ledger(wh, tmp_path)
    base = scenario({"kind": "shift", "share": 0.5, "match": {"models": ["gpt-4o"]}, "to": CHEAP},
                    {"kind": "cache", "hit_rate": 0.3}, assumptions={"output_multiplier": 1.5})
    prep = frontier.prepare(wh, base)
    table = prep.table(0, base)
    for share, hit, mult in [(0.0, 0.0, 1.0), (0.13, 0.3, 1.5), (0.5, 0.9, 0.7), (0.87, 0.45, 2.0), (1.0, 1.0, 1.0)]:
        data = base.model_dump(mode="json", exclude_none=True)
        data["policies"][0]["share"] = share
        data["policies"][1]["hit_rate"] = hit
        data["assumptions"]["output_multiplier"] = mult
        sc = simulate.parse_scenario(data)
        assert frontier.prepare(wh, sc) is prep         # same structure: no new query
        result = simulate.run(wh, sc)
        looked = table.lookup(sc, teams=True)
        assert_same(looked, result)
        assert_same(prep.evaluate(sc), result)
        teams = {r["team"]: r for r in looked.by_team.iter_rows(named=True)}
        for r in result.by("team").iter_rows(named=True):
            assert teams[r["team"]]["scenario_cost_usd"] == pytest.approx(r["scenario_cost_usd"], abs=1e-9)


def test_a_later_ranked_policy_is_evaluated_in_full_and_still_agrees(wh, tmp_path):
    mixed_ledger(wh, tmp_path)
    sc = scenario({"kind": "shift", "share": 0.4, "to": CHEAP}, {"kind": "batch", "share": 0.5, "seed": 3})
    with pytest.raises(simulate.ScenarioError, match="later policy also picks a share"):
        frontier.prepare(wh, sc).table(0, sc)
    for row in frontier.sweep(wh, sc, 0, [0.1, 0.6]).iter_rows(named=True):
        r = simulate.run(wh, with_share(sc, 0, row["share"]))
        assert row["scenario_cost_usd"] == pytest.approx(r.scenario_cost_usd, abs=1e-9)


@pytest.mark.slow
def test_cheapest_point_at_95_percent_quality_is_the_cheapest_of_all_counts(wh, tmp_path):
    ten_requests(wh, tmp_path)
    sc = scenario({"kind": "shift", "share": 0.0, "to": {"price_ratio": 0.1, "quality_ratio": 0.8}},
                  assumptions={"quality": {"chat": {"gpt-4o": 0.9}}})
    point = frontier.cheapest_at_quality(wh, sc, 0)
    # each moved request scores 0.8 × its own: k of 10 moved keeps 1 - 0.2 k / 10 of the quality, so the bar
    # 0.95 allows k = 2 (the two smallest requests, the cheapest)
    assert point.claimed == 2 and point.quality_ratio == pytest.approx(0.96)
    r = simulate.run(wh, with_share(sc, 0, point.share))
    assert r.moved_requests == 2
    assert point.scenario_cost_usd == pytest.approx(r.scenario_cost_usd, abs=1e-9)
    brute = [simulate.run(wh, with_share(sc, 0, k / 10)) for k in range(11)]
    ok = [b.scenario_cost_usd for b in brute if b.scenario_quality / b.baseline_quality >= 0.95 - 1e-12]
    assert point.scenario_cost_usd == pytest.approx(min(ok), abs=1e-9)
    assert frontier.cheapest_at_quality(wh, sc, 0, bar=0.79) .claimed == 10


def test_break_even_escalation_rate_of_a_cascade(wh, tmp_path):
    ten_requests(wh, tmp_path)
    sc = scenario({"kind": "cascade", "first": CHEAP, "escalation_rate": 0.2})
    # first model: (100 k × $1 + 10 k × $2) / 1M summed over k = 1..10 = 0.0066; baseline 0.055
    e = frontier.break_even_escalation(wh, sc, 0)
    assert e == pytest.approx(1 - 0.0066 / 0.055)
    data = sc.model_dump(mode="json", exclude_none=True)
    data["policies"][0]["escalation_rate"] = e
    assert simulate.run(wh, simulate.parse_scenario(data)).savings_usd == pytest.approx(0, abs=1e-9)
    swept = frontier.sweep(wh, sc, 0, [0.0, 0.5, 1.0])
    assert swept["escalation_rate"].to_list() == [0.0, 0.5, 1.0]
    assert swept["scenario_cost_usd"].to_list() == pytest.approx([0.0066, 0.0066 + 0.0275, 0.0616], abs=1e-9)


def test_a_different_structure_is_refused(wh, tmp_path):
    ten_requests(wh, tmp_path)
    a = scenario({"kind": "shift", "share": 0.5, "to": CHEAP})
    b = scenario({"kind": "shift", "share": 0.5, "pick": "random", "to": CHEAP})
    with pytest.raises(simulate.ScenarioError, match="structure differs"):
        frontier.prepare(wh, a).evaluate(b)


@pytest.mark.slow
def test_curve_is_exact_at_every_count(wh, tmp_path):
    ten_requests(wh, tmp_path)
    sc = scenario({"kind": "shift", "share": 0.0, "to": CHEAP})
    table = frontier.prepare(wh, sc).table(0, sc)
    costs = table.curve(1.0, [0.0])["cost"]
    expected = [simulate.run(wh, with_share(sc, 0, k / 10)).scenario_cost_usd for k in range(11)]
    assert np.allclose(costs, expected, atol=1e-12)


def test_input_multiplier_known_answer_and_slider_lookup(wh, tmp_path):
    """Input tokens of moved parts × the target's tokenizer ratio: cheap-1 at $1 / $2 per 1M, requests k = 1..10
    with 100 k input and 10 k output tokens: (100 k × 1 × r + 10 k × 2) / 1M summed = (100 r + 20) × 55 / 1M."""
    ten_requests(wh, tmp_path)
    for assumed, own, r in ((1.0, None, 1.0), (2.0, None, 2.0), (2.0, 1.5, 1.5)):
        to = {**CHEAP, **({"input_multiplier": own} if own else {})}
        sc = scenario({"kind": "shift", "share": 1.0, "to": to}, assumptions={"input_multiplier": assumed})
        result = simulate.run(wh, sc)
        assert result.scenario_cost_usd == pytest.approx((100 * r + 20) * 55 / 1e6, abs=1e-12)
        assert_same(frontier.prepare(wh, sc).table(0, sc).lookup(sc), result)
    # a slider value, not structure: the same prepared table answers another multiplier
    a = scenario({"kind": "shift", "share": 1.0, "to": CHEAP}, assumptions={"input_multiplier": 1.0})
    b = scenario({"kind": "shift", "share": 1.0, "to": CHEAP}, assumptions={"input_multiplier": 2.6})
    assert frontier.prepare(wh, a) is frontier.prepare(wh, b)
    assert frontier.prepare(wh, b).evaluate(b).scenario_cost_usd == pytest.approx((260 + 20) * 55 / 1e6, abs=1e-12)
