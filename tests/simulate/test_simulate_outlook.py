"""Outlook (simulate/outlook.py): known answers on synthetic daily histories, the fit, the ramp, seeded bands."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

import simulate
from simulate import outlook
from simulate_data import ten_requests

DAYS = outlook.DAYS_PER_MONTH


def daily(days: int = 120, per_day: float = 10.0, ratio: float = 0.4, growth: float = 0.0,
          start: dt.date = dt.date(2025, 1, 1)) -> pl.DataFrame:
    """`per_day` baseline spend a day, growing `growth` per month (continuously), scenario = ratio × baseline."""
    day = [start + dt.timedelta(days=i) for i in range(days)]
    base = [per_day * (1 + growth) ** (i / DAYS) for i in range(days)]
    return pl.DataFrame({"day": day, "baseline_usd": base, "scenario_usd": [ratio * b for b in base]})


def pinned(**kw) -> outlook.Assumptions:
    return outlook.Assumptions(**{"growth": (0.0, 0.0), "decline": (1.0, 1.0, 1.0), "adoption_months": (0, 0),
                                  "draws": 50, **kw})


def test_zero_growth_zero_decline_full_adoption_is_flat_at_baseline_and_scenario():
    o = outlook.project(daily(), pinned())
    base = o.frame.filter(pl.col("series") == "baseline")
    scen = o.frame.filter(pl.col("series") == "scenario")
    assert base.height == 18
    assert np.allclose(base.select("p10", "p50", "p90").to_numpy(), 10 * DAYS)
    assert np.allclose(scen.select("p10", "p50", "p90").to_numpy(), 4 * DAYS)
    assert o.totals["savings"]["p50"] == pytest.approx(18 * 6 * DAYS)
    assert base["month"][0] == dt.date(2025, 5, 1)        # the month after the history's last (Apr 30)


def test_price_decline_per_year_and_growth_per_month_compound():
    o = outlook.project(daily(), pinned(decline=(10.0, 10.0, 10.0), months=12))
    base = o.frame.filter(pl.col("series") == "baseline")["p50"].to_list()
    assert base[-1] == pytest.approx(10 * DAYS / 10)        # ten times cheaper after 12 months
    assert base[5] == pytest.approx(10 * DAYS * 10 ** (-6 / 12))
    o = outlook.project(daily(), pinned(growth=(0.05, 0.05), months=6))
    assert o.frame.filter(pl.col("series") == "baseline")["p50"].to_list() == pytest.approx(
        [10 * DAYS * 1.05 ** t for t in range(1, 7)])


def test_adoption_ramps_linearly_to_the_scenario_mix():
    o = outlook.project(daily(), pinned(adoption_months=(4, 4), months=6))
    scen = o.frame.filter(pl.col("series") == "scenario")["p50"].to_list()
    # a(t) = t/4: spend = baseline × (1 − a × 0.6)
    assert scen == pytest.approx([10 * DAYS * (1 - min(1, t / 4) * 0.6) for t in range(1, 7)])


def test_growth_is_fitted_log_linear_from_the_history():
    fit = outlook.fit_growth(outlook.monthly_history(daily(days=365, growth=0.04)))
    assert fit.fitted and fit.months_used == 12
    assert fit.monthly_growth == pytest.approx(0.04, abs=0.002)
    short = outlook.fit_growth(outlook.monthly_history(daily(days=40)))
    assert not short.fitted and short.monthly_growth == 0


def test_seeded_bands_are_reproducible_and_ordered():
    a = outlook.Assumptions(growth=(0.0, 0.06), decline=(1.0, 3.0, 10.0), adoption_months=(3, 9), draws=500, seed=7)
    one, two = outlook.project(daily(), a), outlook.project(daily(), a)
    assert one.frame.equals(two.frame)
    other = outlook.project(daily(), a.model_copy(update={"seed": 8}))
    assert not one.frame.equals(other.frame)
    f = one.frame
    assert (f["p10"] <= f["p50"]).all() and (f["p50"] <= f["p90"]).all()
    assert (f.filter(pl.col("series") == "baseline")["p90"] > f.filter(pl.col("series") == "baseline")["p10"]).all()


def test_bad_ranges_are_refused():
    with pytest.raises(ValueError, match="decline"):
        outlook.Assumptions(decline=(0.5, 1, 2))
    with pytest.raises(ValueError, match="adoption_months"):
        outlook.Assumptions(adoption_months=(6, 3))


def test_outlook_replays_the_ledger_once(wh, tmp_path):
    ten_requests(wh, tmp_path)
    sc = simulate.parse_scenario({"name": "t", "policies": [
        {"kind": "shift", "share": 1.0, "to": {"price_ratio": 0.25}}]})
    o = outlook.outlook(wh, sc, pinned(months=3))
    # one day of history: $0.055; level = 0.055 / 28 × 30.44 per month; scenario = a quarter of it
    assert o.level_usd == pytest.approx(0.055 / 28 * DAYS)
    assert o.ratio == pytest.approx(0.25)
    assert o.frame.filter(pl.col("series") == "scenario")["p50"].to_list() == pytest.approx([0.25 * o.level_usd] * 3)
    assert math.isclose(o.totals["savings"]["p50"], 3 * 0.75 * o.level_usd)
    assert any(r["assumption"] == "Traffic growth" for r in outlook.assumption_table(o))
