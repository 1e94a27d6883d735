"""Known-answer and property tests of the replay (simulate.run) on tiny hand-made ledgers."""

from __future__ import annotations

import pytest

import simulate
from simulate_data import load_rows, ten_requests

CHEAP = {"model": "cheap-1", "prices": {"input": 1, "output": 2}}  # USD per 1M tokens


def scenario(*policies, **extra):
    return simulate.parse_scenario({"name": "t", "policies": list(policies), **extra})


def shift(share, to=CHEAP, **kw):
    return {"kind": "shift", "share": share, "to": to, **kw}


def test_empty_policy_list_is_the_baseline(wh, tmp_path):
    ten_requests(wh, tmp_path)
    r = simulate.run(wh, scenario())
    assert r.baseline_cost_usd == pytest.approx(0.055)
    assert r.scenario_cost_usd == r.baseline_cost_usd
    assert r.savings_usd == 0 and r.savings_pct == 0 and r.moved_requests == 0


def test_shift_simplest_half_to_explicit_prices(wh, tmp_path):
    ten_requests(wh, tmp_path)
    r = simulate.run(wh, scenario(shift(0.5)))
    # requests 1..5 move: sum(100k × $1 + 10k × $2) / 1M = 120 × 15 / 1M; requests 6..10 keep $0.001 × k
    assert r.moved_requests == 5
    assert r.scenario_cost_usd == pytest.approx(0.040 + 0.0018, abs=1e-9)
    assert r.savings_usd == pytest.approx(0.055 - 0.0418, abs=1e-9)
    moved = r.breakdown.filter(r.breakdown["lever"] == "model_shift")
    assert moved["target_model"].to_list() == ["cheap-1"]
    assert moved["baseline_cost_usd"].sum() == pytest.approx(0.015)


def test_share_floor_of_eligible_requests(wh, tmp_path):
    ten_requests(wh, tmp_path)
    assert simulate.run(wh, scenario(shift(0.29))).moved_requests == 2  # floor(0.29 × 10), not 2.8999…


def test_shift_to_catalog_model_uses_its_list_prices(wh, tmp_path):
    ten_requests(wh, tmp_path)
    r = simulate.run(wh, scenario(shift(1.0, {"model": "gpt-4o-mini"})))
    # gpt-4o-mini list: $0.15 input, $0.60 output per 1M (genai-prices) -> (15 + 6) × 55 / 1M
    assert r.scenario_cost_usd == pytest.approx(21 * 55 / 1e6, abs=1e-9)


def test_output_multiplier_scales_output_tokens_of_moved_parts(wh, tmp_path):
    ten_requests(wh, tmp_path)
    r = simulate.run(wh, scenario(shift(1.0), assumptions={"output_multiplier": 3}))
    assert r.scenario_cost_usd == pytest.approx((100 + 10 * 3 * 2) * 55 / 1e6, abs=1e-9)


def test_random_pick_is_seeded_and_moves_exactly_floor_share_n(wh, tmp_path):
    ten_requests(wh, tmp_path)
    runs = [simulate.run(wh, scenario(shift(0.5, pick="random", seed=s))) for s in (1, 1, 2, 3, 4)]
    assert all(r.moved_requests == 5 for r in runs)
    assert runs[0].scenario_cost_usd == runs[1].scenario_cost_usd
    assert len({r.scenario_cost_usd for r in runs}) > 1


def test_daily_rows_price_ratio_saves_exactly_79_2_pct(wh, tmp_path):
    load_rows(wh, tmp_path, [
        {"ts": f"2025-06-{d:02d}", "granularity": "day", "requests": 1000, "input_tokens": 10**6,
         "output_tokens": 10**5, "cost_usd": f"{d}.5"} for d in range(1, 8)
    ])
    r = simulate.run(wh, scenario(shift(0.8, {"price_ratio": 0.01})))
    assert r.savings_pct == pytest.approx(79.2, abs=1e-9)
    assert r.moved_requests == pytest.approx(5600)


def test_request_and_daily_data_of_uniform_traffic_agree(wh, tmp_path):
    load_rows(wh, tmp_path, [{"ts": f"2025-06-01T{h:02d}:00:00", "input_tokens": 1000, "output_tokens": 100,
                              "cost_usd": "0.010"} for h in range(10)], "req.csv")
    load_rows(wh, tmp_path, [{"ts": "2025-06-02", "granularity": "day", "requests": 10, "input_tokens": 10000,
                              "output_tokens": 1000, "cost_usd": "0.100"}], "day.csv")
    day1 = {"period": {"start": "2025-06-01", "end": "2025-06-01"}}
    day2 = {"period": {"start": "2025-06-02", "end": "2025-06-02"}}
    a = simulate.run(wh, scenario(shift(0.6), **day1))
    b = simulate.run(wh, scenario(shift(0.6), **day2))
    assert a.baseline_cost_usd == pytest.approx(b.baseline_cost_usd)
    assert a.scenario_cost_usd == pytest.approx(b.scenario_cost_usd)
    assert a.moved_requests == pytest.approx(b.moved_requests) == 6


@pytest.mark.parametrize("policy", [shift(0.0), shift(1.0, {"price_ratio": 1})])
def test_policies_that_change_nothing_save_nothing(wh, tmp_path, policy):
    ten_requests(wh, tmp_path)
    r = simulate.run(wh, scenario(policy))
    assert r.savings_usd == pytest.approx(0, abs=1e-12)


@pytest.mark.slow
def test_savings_grow_with_share_toward_a_cheaper_target(wh, tmp_path):
    ten_requests(wh, tmp_path)
    savings = [simulate.run(wh, scenario(shift(s / 10))).savings_usd for s in range(11)]
    assert savings == sorted(savings) and savings[-1] > savings[0]


def test_cascade_is_costed_in_expectation(wh, tmp_path):
    ten_requests(wh, tmp_path)
    r = simulate.run(wh, scenario({"kind": "cascade", "first": CHEAP, "escalation_rate": 0.2}))
    # every request pays the first model (120 × 55 / 1M) plus 20% of its own cost (0.2 × 0.055)
    assert r.scenario_cost_usd == pytest.approx(0.0066 + 0.011, abs=1e-9)
    assert r.savings_by_lever() == {"cascade": pytest.approx(0.055 - 0.0176, abs=1e-9)}


def test_cascade_escalation_rate_from_assumptions(wh, tmp_path):
    ten_requests(wh, tmp_path)
    r = simulate.run(wh, scenario({"kind": "cascade", "first": CHEAP}, assumptions={"escalation_rate": 0.5}))
    assert r.scenario_cost_usd == pytest.approx(0.0066 + 0.0275, abs=1e-9)


def test_batch_half_of_daily_traffic_saves_a_quarter(wh, tmp_path):
    load_rows(wh, tmp_path, [{"ts": "2025-06-01", "granularity": "day", "requests": 100, "input_tokens": 5000,
                              "output_tokens": 500, "cost_usd": "4.000"}])
    r = simulate.run(wh, scenario({"kind": "batch", "share": 0.5}))
    assert r.scenario_cost_usd == pytest.approx(3.0)
    assert r.savings_by_lever() == {"batch": pytest.approx(1.0)}


def test_batch_skips_rows_already_on_the_batch_tier(wh, tmp_path):
    ten_requests(wh, tmp_path)
    r = simulate.run(wh, scenario({"kind": "batch", "share": 1.0, "match": {"max_tokens": 330}}))
    assert r.moved_requests == 3  # requests 1..3 have 110k ≤ 330 total tokens
    assert r.savings_usd == pytest.approx(0.5 * 0.006)


def test_cache_hit_rate_bills_input_at_cache_read_price(wh, tmp_path):
    # claude-sonnet-4-5: $3 input, $0.30 cache read per 1M; a day row (no per-request long-context tier)
    load_rows(wh, tmp_path, [{"ts": "2025-06-01", "granularity": "day", "provider": "anthropic",
                              "model": "claude-sonnet-4-5", "requests": 10, "input_tokens": 10**6,
                              "output_tokens": 0}])
    r = simulate.run(wh, scenario({"kind": "cache", "hit_rate": 0.5}))
    assert r.baseline_cost_usd == pytest.approx(3.0)
    assert r.scenario_cost_usd == pytest.approx(3.0 - 0.5 * (3.0 - 0.3))
    assert r.savings_by_lever() == {"caching": pytest.approx(1.35)}


def test_policies_compose_in_order_on_unclaimed_parts(wh, tmp_path):
    load_rows(wh, tmp_path, [{"ts": "2025-06-01", "granularity": "day", "requests": 100, "input_tokens": 10**6,
                              "output_tokens": 0, "cost_usd": "10.000"}])
    r = simulate.run(wh, scenario(shift(0.5, {"price_ratio": 0.1}), {"kind": "batch", "share": 0.5},
                                  {"kind": "batch", "share": 1.0, "discount": 0.2}))
    # shift claims 50% (cost 0.5 × 10 × 0.1), batch 50% of the other half (0.25 × 10 × 0.5), the last batch
    # the remaining 25% (0.25 × 10 × 0.8)
    assert r.scenario_cost_usd == pytest.approx(0.5 + 1.25 + 2.0)
    assert r.moved_requests == pytest.approx(100)
    assert r.savings_by_lever() == {"model_shift": pytest.approx(4.5), "batch": pytest.approx(1.25 + 0.5)}


def test_match_scope_and_period_filter_rows(wh, tmp_path):
    ten_requests(wh, tmp_path)
    load_rows(wh, tmp_path, [{"ts": "2025-06-03T00:00:00", "model": "gpt-4o-mini", "team": "t2",
                              "input_tokens": 100, "output_tokens": 10, "cost_usd": "1.000"}], "more.csv")
    assert simulate.run(wh, scenario()).baseline_cost_usd == pytest.approx(1.055)
    r = simulate.run(wh, scenario(period={"end": "2025-06-01"}))
    assert r.baseline_cost_usd == pytest.approx(0.055)
    r = simulate.run(wh, scenario(scope={"teams": ["t2"]}))
    assert r.baseline_cost_usd == pytest.approx(1.0)
    r = simulate.run(wh, scenario(shift(1.0, {"price_ratio": 0.5}, match={"models": ["GPT-4O-*"]})))
    assert r.savings_usd == pytest.approx(0.5) and r.moved_requests == 1


def test_breakdown_by_dimensions_and_json_keys(wh, tmp_path):
    ten_requests(wh, tmp_path)
    r = simulate.run(wh, scenario(shift(0.5)))
    d = r.to_dict()
    # every figure of the result (issue 13: the JSON used to leave out quality_basis and unpriced_requests)
    assert list(d) == ["scenario", "baseline_cost_usd", "scenario_cost_usd", "savings_usd", "savings_pct",
                       "baseline_quality", "scenario_quality", "moved_requests", "savings_by_lever",
                       "savings_by_policy", "quality_basis", "unpriced_requests", "warnings", "spend_bridge", "breakdown"]
    assert {row["lever"] for row in d["breakdown"]} == {"none", "model_shift"}
    assert r.by("target_model")["target_model"].to_list() == ["cheap-1", "gpt-4o"]
    with pytest.raises(ValueError, match="unknown breakdown"):
        r.by("colour")
    assert "savings" in r.summary_text()


def test_catalog_target_is_priced_at_each_rows_date(wh, tmp_path):
    # claude-opus-4-6 has two price intervals in the catalog, changing on 2026-03-13
    load_rows(wh, tmp_path, [{"ts": ts, "input_tokens": 10**6, "output_tokens": 10**5, "cost_usd": "100.000"}
                             for ts in ("2026-03-01T00:00:00", "2026-04-01T00:00:00")])
    prices = wh.sql("select valid_from, input_mtok, output_mtok from catalog_prices "
                    "where catalog_provider = 'anthropic' and model = 'claude-opus-4-6' order by valid_from")
    assert prices.height == 2
    expected = sum(float(r["input_mtok"]) + 0.1 * float(r["output_mtok"]) for r in prices.iter_rows(named=True))
    r = simulate.run(wh, scenario(shift(1.0, {"model": "claude-opus-4-6", "provider": "anthropic"})))
    assert r.scenario_cost_usd == pytest.approx(expected, abs=1e-6)


def test_unpriced_rows_are_counted_not_costed(wh, tmp_path):
    ten_requests(wh, tmp_path)
    load_rows(wh, tmp_path, [{"ts": "2025-06-01T00:00:00", "model": "my-private-model", "requests": 3,
                              "granularity": "hour", "input_tokens": 100, "output_tokens": 10}], "more.csv")
    r = simulate.run(wh, scenario(shift(1.0, {"price_ratio": 0.5})))
    assert r.unpriced_requests == 3
    assert r.baseline_cost_usd == pytest.approx(0.055) and r.moved_requests == 10
    assert "3 unpriced requests" in r.summary_text()
