"""The oracle bound and RouteLLM's router metrics (simulate/frontier.py: router_report) against known answers on
a ledger shaped like RouteLLM's public GSM8K outcomes (1,307 prompts; GPT-4 right and Mixtral wrong on 382)."""

from __future__ import annotations

import numpy as np
import pytest

import routellm_gsm8k as gsm
import simulate
from simulate import frontier, router, shadow

N = gsm.N


def scenario(pick: str = "simplest", seed: int = 0, scores: str | None = None):
    data = {"name": "g", "policies": [{"kind": "shift", "share": 0.5, "pick": pick, "seed": seed,
                                        "to": {"model": gsm.WEAK}}]}
    if scores is not None:
        data["assumptions"] = {"router_scores": router.scores_data(router.parse(scores))}
    return shadow.with_shadow(simulate.parse_scenario(data), shadow.parse(gsm.grades_csv(), "g.csv"))


def test_oracle_keeps_full_quality_with_exactly_the_strong_only_share_on_gpt4(gsm_wh):
    rep = frontier.router_report(gsm_wh, scenario(), 0)
    q = rep.oracle.quality * N                     # correct answers at each count moved
    # share 0 and 1: each model's accuracy exactly
    assert (rep.strong_quality, rep.weak_quality) == (pytest.approx(gsm.STRONG_ACC, abs=1e-12),
                                                      pytest.approx(gsm.WEAK_ACC, abs=1e-12))
    assert q[0] == pytest.approx(1121) and q[-1] == pytest.approx(833)
    # first the 94 Mixtral gets right and GPT-4 not (a gain), then the 831 where both agree, then the 382
    assert np.allclose(q[:95], 1121 + np.arange(95))
    assert np.allclose(q[94:926], gsm.N - gsm.NEITHER)            # 1,215: the oracle's accuracy
    assert q.max() == pytest.approx(1215) and q[926] == pytest.approx(1214)
    assert rep.oracle.strong_share[925] == pytest.approx(382 / N)    # 29.2% of calls on GPT-4
    assert np.allclose(q[925:], 1215 - np.arange(383))
    # APGR of that curve, by hand: mean correct answers over the counts (trapezoids) = 1,510,625 / 1,307
    assert rep.metrics["oracle"]["apgr"] == pytest.approx((1510625 / N - 833) / 288, abs=1e-9)
    # PGR 0.5 needs 833 + 144 = 977 right: from 1,215 the oracle falls one per count after 925 moved, so
    # 1,163 moved, i.e. 144 / 1,307 of calls on GPT-4; PGR 0.8 (1,063.4 right): 1,076 moved
    assert rep.metrics["oracle"]["cpt50"] == pytest.approx(144 / N, abs=1e-12)
    assert rep.metrics["oracle"]["cpt80"] == pytest.approx((N - 1076) / N, abs=1e-12)
    # the oracle lies on or over the policy's curve in cost × quality (every router's)
    for k in range(0, N + 1, 7):
        cheaper = rep.oracle.cost <= rep.policy.cost[k] + 1e-12
        assert rep.oracle.quality[cheaper].max() >= rep.policy.quality[k] - 1e-12


@pytest.mark.slow
def test_random_pick_is_the_straight_line_in_expectation(gsm_wh):
    apgr, mid = [], []
    for seed in range(12):
        rep = frontier.router_report(gsm_wh, scenario("random", seed), 0)
        apgr.append(rep.metrics["policy"]["apgr"])
        mid.append(rep.policy.quality[N // 2])
        assert rep.metrics["random"]["apgr"] == pytest.approx(0.5, abs=1e-9)
        assert rep.metrics["random"]["cpt50"] == pytest.approx(0.5, abs=1e-3)
    assert np.mean(apgr) == pytest.approx(0.5, abs=0.03)
    assert np.mean(mid) == pytest.approx((gsm.STRONG_ACC + gsm.WEAK_ACC) / 2, abs=0.01)


def test_a_perfect_router_reaches_the_oracle_and_metrics_reach_the_json(gsm_wh):
    rep = frontier.router_report(gsm_wh, scenario("score", scores=gsm.perfect_router_csv()), 0)
    # it moves the 925 zeros first (in row order), so at 925 moved it is exactly at the oracle's accuracy
    assert rep.policy.quality[925] * N == pytest.approx(1215)
    assert rep.metrics["policy"]["moved_at_95"] >= 925 / N
    assert rep.metrics["policy"]["apgr"] > rep.metrics["random"]["apgr"]
    out = rep.to_json()
    assert set(out["metrics"]) == {"policy", "oracle", "random"}
    assert len(out["curves"]["oracle"]) <= 201 and out["curves"]["oracle"][-1]["moved"] == N


@pytest.mark.slow
def test_cli_oracle(tmp_path):
    import json
    import subprocess
    import sys

    from warehouse import Warehouse

    with Warehouse(tmp_path / "l.duckdb") as wh:
        gsm.load(wh, tmp_path)
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\npolicies:\n  - {{kind: shift, share: 0.5, to: {{model: {gsm.WEAK}}}}}\n")
    grades = tmp_path / "g.csv"
    grades.write_text(gsm.grades_csv())
    p = subprocess.run([sys.executable, "-m", "modelmix", "simulate", str(path), "--db", str(tmp_path / "l.duckdb"),
                        "--shadow", str(grades), "--oracle", "--json"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["metrics"]["oracle"]["apgr"] == pytest.approx((1510625 / N - 833) / 288, abs=1e-9)


@pytest.mark.slow
def test_seed_band_is_the_replays_of_each_seed(gsm_wh):
    """The band of a random pick: per seed, the numpy reorder gives exactly what the replay with that seed gives
    (the order is DuckDB's hash, recomputed); p10–p90 across 8 seeds brackets the median."""
    grid = [0.25, 0.5]
    band = frontier.seed_band(gsm_wh, scenario("random", 0), 0, seeds=[0, 3], grid=grid)
    for seed in (0, 3):
        for share in grid:
            data = scenario("random", seed).model_dump(mode="json", exclude_none=True)
            data["policies"][0]["share"] = share
            r = simulate.run(gsm_wh, simulate.parse_scenario(data))
            row = band.filter(band["share"] == share).row(0, named=True)
            assert row["savings_usd_min"] - 1e-6 <= r.savings_usd <= row["savings_usd_max"] + 1e-6   # money at 6 decimals
            assert row["scenario_quality_min"] - 1e-9 <= r.exact["scenario_quality"] <= row["scenario_quality_max"] + 1e-9
    one = frontier.seed_band(gsm_wh, scenario("random", 0), 0, seeds=[3], grid=[0.5]).row(0, named=True)
    data = scenario("random", 3).model_dump(mode="json", exclude_none=True)
    r = simulate.run(gsm_wh, simulate.parse_scenario(data))
    assert one["scenario_quality_p50"] == pytest.approx(r.exact["scenario_quality"], abs=1e-12)
    assert one["savings_usd_p50"] == pytest.approx(r.savings_usd, abs=1e-6)
    wide = frontier.seed_band(gsm_wh, scenario("random", 0), 0, seeds=8, grid=[0.5]).row(0, named=True)
    assert wide["scenario_quality_p10"] < wide["scenario_quality_p50"] < wide["scenario_quality_p90"]


@pytest.mark.slow
def test_cli_sweep_with_a_seed_band(tmp_path):
    import json
    import subprocess
    import sys

    from warehouse import Warehouse

    with Warehouse(tmp_path / "l.duckdb") as wh:
        gsm.load(wh, tmp_path)
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\npolicies:\n  - {{kind: shift, share: 0.5, pick: random, to: {{model: {gsm.WEAK}}}}}\n")
    p = subprocess.run([sys.executable, "-m", "modelmix", "simulate", str(path), "--db", str(tmp_path / "l.duckdb"),
                        "--sweep", "share=0:1:0.5", "--seeds", "5", "--json"], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    points = json.loads(p.stdout)["points"]
    assert [pt["share"] for pt in points] == [0.0, 0.5, 1.0] and all(pt["seeds"] == 5 for pt in points)
    assert points[1]["savings_usd_p10"] <= points[1]["savings_usd_p90"]


def test_the_reports_folded_table_gives_the_full_tables_curves(gsm_wh):
    """router_report builds a table of the four sums a curve reads, folded at the scenario's multipliers, when the
    slider's full table is not built yet; with the full one built it reads that: the same curves and metrics."""
    sc = scenario()
    sc = sc.model_copy(update={"assumptions": sc.assumptions.model_copy(
        update={"output_multiplier": 1.7, "input_multiplier": 1.3})})
    frontier.PREPARED.clear()
    folded = frontier.router_report(gsm_wh, sc, 0)
    prep = frontier.prepare(gsm_wh, sc)
    assert 0 not in prep._tables and 0 in prep._folded          # the folded table only
    prep.table(0, sc)                                             # what the page's slider builds first
    full = frontier.router_report(gsm_wh, sc, 0)
    for a, b in ((folded.policy, full.policy), (folded.oracle, full.oracle), (folded.random, full.random)):
        assert np.allclose(a.cost, b.cost, rtol=0, atol=1e-9) and np.allclose(a.quality, b.quality, atol=1e-12)
    for curve, metrics in full.metrics.items():
        assert folded.metrics[curve] == pytest.approx(metrics, abs=1e-12)
    # the multipliers reach the folded costs: everything moved costs more than at 1.0
    plain = frontier.router_report(gsm_wh, scenario(), 0)
    assert folded.policy.cost[-1] > plain.policy.cost[-1]


def test_seed_band_is_the_replays_of_each_seed_when_some_rows_are_not_eligible(wh, tmp_path):
    """Rows the policy cannot pick (another model) leave nulls in its order keys; the row hashes a seed's order
    is recomputed from stay exact 64-bit integers (read as doubles they were rounded, and the band's seeds were
    other orders than the replay's)."""
    from simulate_data import load_rows

    load_rows(wh, tmp_path, [
        {"ts": f"2025-06-01T{k:02d}:00:00", "input_tokens": 100 * k, "output_tokens": 10 * k,
         "cost_usd": f"{0.001 * k:.3f}", "model": "gpt-4o" if k % 3 else "gpt-4o-mini"} for k in range(1, 21)])

    def shift(seed: int, share: float = 0.5):
        return simulate.parse_scenario({"name": "r", "policies": [
            {"kind": "shift", "share": share, "pick": "random", "seed": seed, "match": {"models": ["gpt-4o"]},
             "to": {"model": "gpt-4.1-nano"}}]})

    seeds = list(range(6))
    band = frontier.seed_band(wh, shift(0), 0, seeds=seeds, grid=[0.5])
    savings = sorted(simulate.run(wh, shift(seed)).savings_usd for seed in seeds)
    assert len(set(savings)) > 1                         # the seeds pick different requests
    row = band.row(0, named=True)
    assert (row["savings_usd_min"], row["savings_usd_max"]) == (pytest.approx(savings[0], abs=1e-9),
                                                                pytest.approx(savings[-1], abs=1e-9))
    for seed in seeds:
        one = frontier.seed_band(wh, shift(0), 0, seeds=[seed], grid=[0.5]).row(0, named=True)
        assert one["savings_usd_p50"] == pytest.approx(simulate.run(wh, shift(seed)).savings_usd, abs=1e-9)
