"""Quality: request-weighted baseline vs scenario scores from the prior table, overrides and quality ratios."""

from __future__ import annotations

import pytest

import simulate
from simulate import quality
from simulate_data import ten_requests

CHEAP = {"model": "cheap-1", "prices": {"input": 1, "output": 2}}
Q = {"chat": {"gpt-4o": 0.9, "cheap-1": 0.6}}


def run(wh, *policies, q=Q, **assumptions):
    return simulate.run(wh, simulate.parse_scenario(
        {"name": "q", "policies": list(policies), "assumptions": {"quality": q, **assumptions}}))


def test_defaults_carry_benchmark_source_and_date_per_block():
    for workload, block in quality.defaults().items():
        assert block["benchmark"] and block["source"] and block["date"], workload
        assert all(0 <= s <= 1 for s in block["scores"].values()), workload


def test_shift_half_to_a_weaker_model(wh, tmp_path):
    ten_requests(wh, tmp_path)
    r = run(wh, {"kind": "shift", "share": 0.5, "to": CHEAP})
    assert r.baseline_quality == pytest.approx(0.9)
    assert r.scenario_quality == pytest.approx(0.75)
    assert r.quality_basis["scored_share"] == 1 and r.quality_basis["measured_requests"] == 0


def test_cascade_quality_mixes_first_and_original(wh, tmp_path):
    ten_requests(wh, tmp_path)
    r = run(wh, {"kind": "cascade", "first": CHEAP, "escalation_rate": 0.2})
    assert r.scenario_quality == pytest.approx(0.8 * 0.6 + 0.2 * 0.9)


def test_batch_and_cache_keep_quality(wh, tmp_path):
    ten_requests(wh, tmp_path)
    r = run(wh, {"kind": "batch", "share": 0.5}, {"kind": "cache", "hit_rate": 0.5})
    assert r.baseline_quality == r.scenario_quality == pytest.approx(0.9)


def test_default_table_falls_back_to_the_star_block(wh, tmp_path):
    ten_requests(wh, tmp_path)  # workload chat: not a block of its own -> '*' (MMLU): gpt-4o .86, 4o-mini .82
    r = run(wh, {"kind": "shift", "share": 1.0, "to": {"model": "gpt-4o-mini"}}, q={})
    assert (r.baseline_quality, r.scenario_quality) == (pytest.approx(0.86), pytest.approx(0.82))


def test_workload_block_wins_when_it_scores_both_models(wh, tmp_path):
    ten_requests(wh, tmp_path, workload="coding")  # HumanEval: gpt-4o .93, gpt-4o-mini .88
    r = run(wh, {"kind": "shift", "share": 1.0, "to": {"model": "gpt-4o-mini"}}, q={})
    assert (r.baseline_quality, r.scenario_quality) == (pytest.approx(0.93), pytest.approx(0.88))


def test_pairs_from_different_blocks_stay_unscored(wh, tmp_path):
    ten_requests(wh, tmp_path)
    r = run(wh, {"kind": "shift", "share": 0.5, "to": CHEAP}, q={"agentic": {"cheap-1": 0.5}})
    # moved half: gpt-4o is only in '*', cheap-1 only in 'agentic' -> unscored; the kept half is scored
    assert r.quality_basis["scored_share"] == pytest.approx(0.5)
    assert r.baseline_quality == r.scenario_quality == pytest.approx(0.86)


def test_quality_ratio_scales_the_source_score(wh, tmp_path):
    ten_requests(wh, tmp_path)
    r = run(wh, {"kind": "shift", "share": 1.0, "to": {"price_ratio": 0.01, "quality_ratio": 0.5}})
    assert (r.baseline_quality, r.scenario_quality) == (pytest.approx(0.9), pytest.approx(0.45))


def test_unscored_models_give_no_quality(wh, tmp_path):
    ten_requests(wh, tmp_path, model="my-private-model")
    r = run(wh, q={})
    assert r.baseline_quality is None and r.scenario_quality is None
    assert "unscored" in r.summary_text()


def test_database_scores_sit_between_defaults_and_overrides(wh, tmp_path):
    ten_requests(wh, tmp_path)
    wh.write(lambda cur: cur.execute(
        "insert into quality_scores values ('chat', 'gpt-4o', 0.7, 'shadow sample', date '2026-01-01'),"
        " ('chat', 'gpt-4o-mini', 0.5, 'shadow sample', date '2026-01-01')"))
    policy = {"kind": "shift", "share": 1.0, "to": {"model": "gpt-4o-mini"}}
    r = run(wh, policy, q={})
    assert (r.baseline_quality, r.scenario_quality) == (pytest.approx(0.7), pytest.approx(0.5))
    r = run(wh, policy, q={"chat": {"gpt-4o-mini": 0.65}})
    assert r.scenario_quality == pytest.approx(0.65)
    assert any(s["source"] == "table quality_scores" for s in r.quality_basis["sources"])
