"""Scenario impact per team: a batch policy on one team halves that team's rest-of-period forecast and leaves
the other team's alone; budget variances under both mixes are computed by hand."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import simulate
from finance import budgets as bd
from finance import scenario_impact as si
from finance_data import days, load_daily

AS_OF = dt.date(2026, 11, 10)


def test_batch_on_one_team(wh, tmp_path):
    # alpha and beta each spend a flat $10/day since 1 Oct
    load_daily(wh, tmp_path, [{"day": d, "cost": 10.0, "team": t, "project": t, "model": m}
                              for d in days(dt.date(2026, 10, 1), AS_OF)
                              for t, m in (("alpha", "gpt-4o"), ("beta", "gpt-4o-mini"))])
    bd.replace_budgets(wh, [bd.Budget(scope="team", name="alpha", start="2026-11", amount_usd=250)])
    scenario = simulate.parse_scenario({"name": "alpha to batch", "policies": [
        {"kind": "batch", "match": {"teams": ["alpha"]}, "share": 1.0, "discount": 0.5}]})
    out = si.impact(wh, scenario, as_of=AS_OF)
    m = {r["team"]: r for r in out.filter(pl.col("period") == "month").iter_rows(named=True)}
    # November: $100 spent by 10 Nov, 20 days x $10 = $200 to come; alpha's future at half price
    assert m["alpha"]["ratio"] == pytest.approx(0.5)
    assert m["alpha"]["forecast_today_usd"] == pytest.approx(300)
    assert m["alpha"]["forecast_scenario_usd"] == pytest.approx(200)
    assert m["alpha"]["savings_usd"] == pytest.approx(100)
    assert m["alpha"]["variance_today_usd"] == pytest.approx(50)
    assert m["alpha"]["variance_scenario_usd"] == pytest.approx(-50)
    assert m["beta"]["ratio"] == pytest.approx(1.0)
    assert m["beta"]["forecast_scenario_usd"] == pytest.approx(300)
    assert m["beta"]["budget_usd"] is None
    q = {r["team"]: r for r in out.filter(pl.col("period") == "quarter").iter_rows(named=True)}
    # Q4: $410 spent, 51 days to come -> 410 + 510 today, 410 + 255 under the scenario
    assert q["alpha"]["forecast_today_usd"] == pytest.approx(920)
    assert q["alpha"]["forecast_scenario_usd"] == pytest.approx(665)


def test_preset_on_sample_ledger(sample_wh):
    out = si.impact(sample_wh, "cache-prompts")
    assert out.height > 0
    assert (out["forecast_scenario_usd"] <= out["forecast_today_usd"] + 1e-9).all()
