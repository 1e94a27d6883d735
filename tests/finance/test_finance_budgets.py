"""Budgets: file validation naming entry and field, the table replaced whole, actual vs budget vs forecast,
the burn-down and the crossing day computed by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from finance import budgets as bd
from finance_data import days, load_daily
from warehouse.errors import ConfigError


def _write(tmp_path, text, name="budgets.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_file_errors_name_entry_and_field(tmp_path):
    bad = _write(tmp_path, "budgets:\n  - {scope: team, name: a, start: 2026-11, amount_usd: 10}\n"
                           "  - {scope: team, name: b, start: 2026-11, amount_usd: -5}\n")
    with pytest.raises(ConfigError, match=r"entry 2, field amount_usd"):
        bd.load_budgets_file(bad)
    with pytest.raises(ConfigError, match=r"entry 1, field scope"):
        bd.load_budgets_file(_write(tmp_path, "budgets:\n  - {scope: model, name: a, start: 2026-11, amount_usd: 1}\n"))
    with pytest.raises(ConfigError, match=r"entry 1, field entry: .*not the first day of a quarter"):
        bd.load_budgets_file(_write(tmp_path, "budgets:\n  - {scope: team, name: a, period: quarter, "
                                               "start: 2026-11-01, amount_usd: 1}\n"))
    with pytest.raises(ConfigError, match=r"entry 1, field colour"):
        bd.load_budgets_file(_write(tmp_path, "budgets:\n  - {scope: team, name: a, start: 2026-11, amount_usd: 1, "
                                               "colour: red}\n"))


def test_duplicate_periods_name_both_entries(tmp_path):
    p = _write(tmp_path, "budgets:\n  - {scope: team, name: a, start: 2026-10, end: 2026-12-31, amount_usd: 10}\n"
                         "  - {scope: team, name: a, start: 2026-11, amount_usd: 20}\n")
    with pytest.raises(ConfigError, match="entries 1 and 2"):
        bd.rows(bd.load_budgets_file(p))


def test_csv_and_yaml_replace_the_table(wh, tmp_path):
    y = _write(tmp_path, "budgets:\n  - {scope: provider, name: openai, period: quarter, start: 2026-10-01, "
                         "end: 2027-06-30, amount_usd: 9000.5, note: Q plan}\n")
    assert bd.load_budgets(wh, y) == 3
    t = bd.budgets(wh)
    assert t["period_start"].to_list() == [dt.date(2026, 10, 1), dt.date(2027, 1, 1), dt.date(2027, 4, 1)]
    assert t["period_end"].to_list() == [dt.date(2026, 12, 31), dt.date(2027, 3, 31), dt.date(2027, 6, 30)]
    assert t["amount_usd"].to_list() == [Decimal("9000.500000")] * 3
    c = _write(tmp_path, "scope,name,period,start,amount_usd\nteam,alpha,month,2026-11,155\n", name="b.csv")
    assert bd.load_budgets(wh, c) == 1
    t = bd.budgets(wh)
    assert t.select("scope", "name", "period_start").rows() == [("team", "alpha", dt.date(2026, 11, 1))]
    # the edited table goes back through the same validation
    assert bd.replace_budgets(wh, bd.as_entries(t.with_columns(amount_usd=pl.lit(200.0)))) == 1
    assert float(bd.budgets(wh)["amount_usd"][0]) == 200.0


def test_crossing_date_by_hand(wh, tmp_path):
    # $10 a day from 1 Nov; as of 10 Nov the team has spent $100; a flat forecast adds $10 a day.
    # Budget $155: cumulative is $150 on 15 Nov and $160 on 16 Nov -> crosses on 16 Nov.
    load_daily(wh, tmp_path, [{"day": d, "cost": 10.0, "team": "alpha"}
                              for d in days(dt.date(2026, 10, 1), dt.date(2026, 11, 10))])
    bd.replace_budgets(wh, [bd.Budget(scope="team", name="alpha", start=dt.date(2026, 11, 1), amount_usd=155),
                            bd.Budget(scope="team", name="alpha", period="quarter", start=dt.date(2026, 10, 1),
                                      amount_usd=2000)])
    s = bd.status(wh, as_of=dt.date(2026, 11, 10))
    month = s.filter(pl.col("period") == "month").row(0, named=True)
    assert month["actual_usd"] == pytest.approx(100)
    assert month["forecast_usd"] == pytest.approx(300)
    assert month["variance_usd"] == pytest.approx(145)
    assert month["crossing_date"] == dt.date(2026, 11, 16)
    assert month["status"] == "forecast_over"
    q = s.filter(pl.col("period") == "quarter").row(0, named=True)
    # Q4: 31 + 30 + 31 = 92 days at $10 -> $920 of $2000: never crossed
    assert q["actual_usd"] == pytest.approx(410) and q["forecast_usd"] == pytest.approx(920)
    assert q["crossing_date"] is None and q["status"] == "ok"
    b = bd.burndown(wh, "team", "alpha", dt.date(2026, 11, 1), as_of=dt.date(2026, 11, 10))
    assert b.height == 30
    assert b.filter(pl.col("day") == dt.date(2026, 11, 10))["actual_cum_usd"][0] == pytest.approx(100)
    assert b.filter(pl.col("day") == dt.date(2026, 11, 16))["forecast_cum_usd"][0] == pytest.approx(160)
    assert b.filter(pl.col("day") == dt.date(2026, 11, 30))["remaining_usd"][0] == pytest.approx(-145)


def test_actual_crossing_and_over(wh, tmp_path):
    # $10/day in October; budget $95 -> actual crosses on 10 Oct (cumulative $100); status over
    load_daily(wh, tmp_path, [{"day": d, "cost": 10.0, "project": "px"}
                              for d in days(dt.date(2026, 9, 1), dt.date(2026, 10, 20))])
    bd.replace_budgets(wh, [bd.Budget(scope="project", name="px", start="2026-10", amount_usd=95),
                            bd.Budget(scope="project", name="px", start="2026-09", amount_usd=1000),
                            bd.Budget(scope="project", name="nobody", start="2026-10", amount_usd=50)])
    s = bd.status(wh, as_of=dt.date(2026, 10, 20), current_only=False)
    px = {r["period_start"]: r for r in s.filter(pl.col("name") == "px").iter_rows(named=True)}
    assert px[dt.date(2026, 10, 1)]["crossing_date"] == dt.date(2026, 10, 10)
    assert px[dt.date(2026, 10, 1)]["status"] == "over"
    # September is over: forecast = actual = $300 of $1000
    assert px[dt.date(2026, 9, 1)]["forecast_usd"] == pytest.approx(300)
    assert px[dt.date(2026, 9, 1)]["status"] == "ok"
    nobody = s.filter(pl.col("name") == "nobody").row(0, named=True)
    assert nobody["actual_usd"] == 0 and nobody["forecast_usd"] == 0 and nobody["status"] == "ok"


def test_empty(wh, sample_wh):
    assert bd.status(wh).is_empty()
    assert bd.status(sample_wh).is_empty()
