"""Forecast known answers: a linear daily series forecasts onto its line, a weekday pattern is kept, the
bootstrap band collapses on exact data and widens with noise, and the backtest reports per-month errors."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from finance import forecast as fc
from finance_data import days, load_daily

START = dt.date(2026, 1, 1)


def _line(d: dt.date) -> float:
    return 10.0 + 0.5 * (d - START).days


def test_linear_series_forecasts_onto_its_line(wh, tmp_path):
    load_daily(wh, tmp_path, [{"day": d, "cost": _line(d), "team": "alpha"} for d in days(START, dt.date(2026, 2, 10))])
    out = fc.forecast(wh, by="team", as_of=dt.date(2026, 2, 10))
    month = out.filter(pl.col("period") == "month").row(0, named=True)
    quarter = out.filter(pl.col("period") == "quarter").row(0, named=True)
    feb = sum(_line(d) for d in days(dt.date(2026, 2, 1), dt.date(2026, 2, 28)))
    q1 = sum(_line(d) for d in days(START, dt.date(2026, 3, 31)))
    assert month["key"] == "alpha" and month["method"] == "trend+weekday"
    assert month["actual_to_date_usd"] == pytest.approx(sum(_line(d) for d in days(dt.date(2026, 2, 1), dt.date(2026, 2, 10))))
    assert month["forecast_total_usd"] == pytest.approx(feb, abs=1e-6)
    assert quarter["forecast_total_usd"] == pytest.approx(q1, abs=1e-6)
    # exact data: no residuals, so the band collapses onto the point
    assert month["p10_total_usd"] == pytest.approx(feb, abs=1e-6)
    assert month["p90_total_usd"] == pytest.approx(feb, abs=1e-6)


def test_weekday_pattern_is_kept(wh, tmp_path):
    pattern = [100, 110, 120, 115, 90, 20, 10]  # Mon..Sun
    load_daily(wh, tmp_path, [{"day": d, "cost": pattern[d.weekday()]} for d in days(START, dt.date(2026, 3, 13))])
    out = fc.daily(wh, by="team", as_of=dt.date(2026, 3, 13), until=dt.date(2026, 3, 31))
    future = out.filter(pl.col("forecast_usd").is_not_null())
    assert future.height == 18
    for r in future.iter_rows(named=True):
        assert r["forecast_usd"] == pytest.approx(pattern[r["day"].weekday()], abs=1e-6), r["day"]
    month = fc.forecast(wh, by="total", as_of=dt.date(2026, 3, 13)).filter(pl.col("period") == "month").row(0, named=True)
    assert month["forecast_total_usd"] == pytest.approx(sum(pattern[d.weekday()] for d in days(dt.date(2026, 3, 1), dt.date(2026, 3, 31))))


def test_trend_plus_weekday_with_noise_brackets_the_truth(wh, tmp_path):
    rng = np.random.default_rng(11)
    pattern = [1.0, 1.1, 1.2, 1.1, 0.9, 0.3, 0.2]
    rows = []
    truth = {}
    for d in days(START, dt.date(2026, 3, 31)):
        level = (200 + 2 * (d - START).days) * pattern[d.weekday()]
        truth[d] = level
        rows.append({"day": d, "cost": max(level + rng.normal(0, 15), 0)})
    load_daily(wh, tmp_path, [r for r in rows if r["day"] <= dt.date(2026, 3, 10)])
    month = fc.forecast(wh, by="total", as_of=dt.date(2026, 3, 10)).filter(pl.col("period") == "month").row(0, named=True)
    expected = sum(r["cost"] for r in rows if r["day"] <= dt.date(2026, 3, 10) and r["day"].month == 3) + sum(
        truth[d] for d in days(dt.date(2026, 3, 11), dt.date(2026, 3, 31)))
    print(f"\nforecast {month['forecast_total_usd']:.1f} band [{month['p10_total_usd']:.1f}, "
          f"{month['p90_total_usd']:.1f}] expected {expected:.1f}")
    assert month["p10_total_usd"] < month["forecast_total_usd"] < month["p90_total_usd"]
    assert abs(month["forecast_total_usd"] - expected) / expected < 0.03
    assert month["p10_total_usd"] <= expected <= month["p90_total_usd"]


def test_backtest_reports_mape_per_month(wh, tmp_path):
    rng = np.random.default_rng(5)
    pattern = [1.0, 1.1, 1.2, 1.1, 0.9, 0.3, 0.2]
    rows = [{"day": d, "cost": (100 + (d - START).days) * pattern[d.weekday()] * rng.lognormal(0, 0.05)}
            for d in days(START, dt.date(2026, 6, 30))]
    load_daily(wh, tmp_path, rows)
    bt = fc.backtest(wh, by="total")
    print("\n" + str(bt.select("month", "actual_usd", "forecast_usd", "ape_total_pct", "mape_daily_pct", "inside_band")))
    # January has no history before it; February has 31 days of it; then one row per month
    assert bt["month"].to_list() == [dt.date(2026, m, 1) for m in range(2, 7)]
    assert bt["ape_total_pct"].max() < 5
    assert bt["mape_daily_pct"].max() < 10
    assert bt["inside_band"].sum() >= 3


def test_backtest_of_a_line_is_exact(wh, tmp_path):
    load_daily(wh, tmp_path, [{"day": d, "cost": _line(d)} for d in days(START, dt.date(2026, 4, 30))])
    bt = fc.backtest(wh, by="team")
    assert bt.height == 3 and bt["ape_total_pct"].max() < 1e-6


def test_runs_on_the_sample_ledger(sample_wh):
    for by in ("team", "project", "provider", "total"):
        out = fc.forecast(sample_wh, by=by)
        assert out.height > 0
        assert (out["p10_total_usd"] <= out["forecast_total_usd"] + 1e-9).all()
        assert (out["forecast_total_usd"] <= out["p90_total_usd"] + 1e-9).all()
        assert (out["forecast_total_usd"] >= out["actual_to_date_usd"] - 1e-9).all()
    assert fc.daily(sample_wh, by="provider").height > 0
    fc.backtest(sample_wh)


def test_empty_ledger(wh):
    assert fc.forecast(wh).is_empty()
    assert fc.daily(wh).is_empty()
    assert fc.backtest(wh).is_empty()


def test_unknown_grouping_is_refused(wh):
    with pytest.raises(ValueError, match="known: team"):
        fc.history(wh, by="model; drop table usage")


def test_a_monthly_line_is_projected_per_month_not_fitted_as_a_day():
    """$10 a day plus a $300 month-grain line on each month's 1st (a cost table): the month-end forecast is the
    actual to date (line included once) plus $10 a day; the quarter adds $300 again on each next month's 1st.
    Fitted as days, the 1sts raised the daily level and the rest of the month counted the line a second time."""
    start, as_of = dt.date(2026, 8, 1), dt.date(2026, 11, 15)
    n = (as_of - start).days + 1
    dates = [start + dt.timedelta(days=i) for i in range(n)]
    monthly = np.array([[300.0 if d.day == 1 else 0.0] for d in dates])
    hist = fc.History(start, ["gcp"], 10.0 + monthly, monthly=monthly)
    out = fc.forecast_history(hist, as_of)
    month = out.filter(pl.col("period") == "month").row(0, named=True)
    quarter = out.filter(pl.col("period") == "quarter").row(0, named=True)
    assert month["actual_to_date_usd"] == pytest.approx(15 * 10 + 300)
    assert month["forecast_total_usd"] == pytest.approx(30 * 10 + 300, abs=1e-6)
    assert quarter["forecast_total_usd"] == pytest.approx(92 * 10 + 3 * 300, abs=1e-6)    # Oct, Nov, Dec 1sts
    # the same history without the split: the lines leak into the daily level
    blind = fc.forecast_history(fc.History(start, ["gcp"], 10.0 + monthly), as_of)
    assert blind.filter(pl.col("period") == "month")["forecast_total_usd"][0] > 30 * 10 + 300 + 50


def test_history_splits_monthly_lines(sample_wh):
    """The sample's September Google Cloud cost table is month-grain: history carries it in `monthly`."""
    hist = fc.history(sample_wh, "provider", start=dt.date(2026, 9, 1), end=dt.date(2026, 9, 30))
    j = hist.keys.index("google-vertex")
    assert hist.monthly[:, j].sum() == pytest.approx(1715.78)
    assert hist.monthly[0, j] == pytest.approx(hist.values[0, j])
