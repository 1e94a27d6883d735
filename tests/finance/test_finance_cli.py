"""The job functions `finance.jobs.report` and `finance.jobs.alerts` on small known ledgers."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest

from finance import budgets as bd
from finance import jobs
from finance_data import days, load_daily
from warehouse.errors import ConfigError


def test_report_writes_each_format(sample_wh, tmp_path):
    for fmt, name in (("csv", "s.csv"), ("xlsx", "s.xlsx"), ("focus", "f.csv")):
        out = jobs.report(sample_wh, "2026-10", fmt, tmp_path / name)
        assert out == tmp_path / name and out.stat().st_size > 0
    with (tmp_path / "f.csv").open() as f:
        assert "ServiceCategory" in next(csv.reader(f))
    with pytest.raises(ConfigError, match="not one of csv, xlsx, focus"):
        jobs.report(sample_wh, "2026-10", "pdf", tmp_path / "x.pdf")
    with pytest.raises(ConfigError, match="YYYY-MM"):
        jobs.report(sample_wh, "10/2026", "csv", tmp_path / "x.csv")


def test_no_alerts_on_a_quiet_ledger(wh, tmp_path):
    assert jobs.alerts(wh) == []
    load_daily(wh, tmp_path, [{"day": d, "cost": 10.0} for d in days(dt.date(2026, 9, 1), dt.date(2026, 11, 10))])
    assert jobs.alerts(wh) == []


def test_budget_and_anomaly_alerts(wh, tmp_path):
    rows = [{"day": d, "cost": 10.0, "team": "alpha"} for d in days(dt.date(2026, 9, 1), dt.date(2026, 11, 10))]
    rows.append({"day": dt.date(2026, 11, 9), "cost": 90.0, "team": "alpha", "api_key": "agent-loop"})
    load_daily(wh, tmp_path, rows)
    bd.replace_budgets(wh, [bd.Budget(scope="team", name="alpha", start="2026-11", amount_usd=150),
                            bd.Budget(scope="team", name="t1", start="2026-11", amount_usd=10)])
    got = jobs.alerts(wh)
    json.dumps(got)  # JSON-ready
    kinds = sorted((a["kind"], a["severity"], a.get("name") or a.get("team")) for a in got)
    assert kinds == [("anomaly", "warning", "alpha"), ("budget", "critical", "alpha")]
    budget = next(a for a in got if a["kind"] == "budget")
    # $10/day + $90 on 9 Nov: $190 by 10 Nov against $150 -> crossed on 9 Nov ($170)
    assert budget["actual_usd"] == pytest.approx(190) and budget["crossing_date"] == "2026-11-09"
    anomaly = next(a for a in got if a["kind"] == "anomaly")
    assert anomaly["day"] == "2026-11-09" and anomaly["excess_usd"] == pytest.approx(90)
    assert anomaly["driver_api_key"] == "agent-loop"
    assert "agent-loop" in anomaly["message"]
