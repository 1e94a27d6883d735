"""The What-if frontier's seed band of a random pick (dashboard/services/whatif.py `frontier_curve`) is drawn at each
seed's own scenario cost, every policy of the scenario included — not at share 0's cost minus the savings, which
counted a second policy's savings twice."""

from __future__ import annotations

import polars as pl
import pytest

import routellm_gsm8k as gsm
import simulate
from dashboard.services import whatif


def scenario(share: float, seed: int = 0):
    # a random half to the weak model, then a cascade on what is left: the second policy saves too
    return simulate.parse_scenario({"name": "two", "policies": [
        {"kind": "shift", "share": share, "pick": "random", "seed": seed, "to": {"model": gsm.WEAK}},
        {"kind": "cascade", "first": {"model": gsm.WEAK}, "escalation_rate": 0.3}],
        "assumptions": {"quality": {"*": {gsm.STRONG: 0.9, gsm.WEAK: 0.7}}}})


def test_the_seed_bands_cost_is_each_seeds_replay_with_a_second_policy_saving(gsm_wh, monkeypatch):
    monkeypatch.setattr(whatif, "SEEDS", 1)                      # seed 0 alone: the band is its replay
    f = whatif.frontier_curve(gsm_wh, scenario(0.5))
    band = f.bounds.filter(pl.col("curve") == "seeds p10")
    assert band.height == len(whatif.GRID)
    cascade_saves = simulate.run(gsm_wh, scenario(0.0)).savings_by_lever()
    assert cascade_saves.get("cascade", 0) > 1                     # the second policy saves dollars
    for k in (0, 7, 10, 20):
        r = simulate.run(gsm_wh, scenario(whatif.GRID[k]))
        assert band["scenario_cost_usd"][k] == pytest.approx(r.scenario_cost_usd, abs=1e-6)
    # and with 3 seeds: the median of the three seeds' replays
    monkeypatch.setattr(whatif, "SEEDS", 3)
    f = whatif.frontier_curve(gsm_wh, scenario(0.5))
    band = f.bounds.filter(pl.col("curve") == "seeds p90")
    costs = sorted(simulate.run(gsm_wh, scenario(0.5, seed)).scenario_cost_usd for seed in range(3))
    assert band["scenario_cost_usd"][10] == pytest.approx(costs[1], abs=1e-6)
