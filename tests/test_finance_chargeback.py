"""Chargeback: statements under each allocation rule with hand-computed amounts that always add up to the
month, and the exports checked on every row: CSV/Excel formula neutralisation, FOCUS 1.2 rules."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import zipfile
from decimal import Decimal

import polars as pl
import pytest

from finance import chargeback as cb
from finance_data import load_daily
from warehouse.errors import ConfigError

OCT = dt.date(2026, 10, 5)
FORMULA = re.compile(r"^[=+\-@\t\r]")


@pytest.fixture
def ledger(wh, tmp_path):
    load_daily(wh, tmp_path, [
        {"day": OCT, "cost": 60, "team": "alpha", "project": "pa", "requests": 10},
        {"day": OCT, "cost": 20, "team": "beta", "project": "pb", "requests": 30},
        {"day": OCT, "cost": 20, "team": "+gamma", "project": "@pc", "requests": 60},
        # unassigned: $40 on two lines whose names a spreadsheet would run
        {"day": OCT, "cost": 25, "team": "unassigned", "project": "=HYPERLINK(\"http://x\")", "model": "gpt-4o"},
        {"day": OCT, "cost": 15, "team": "unassigned", "project": "-2+3", "model": "gpt-4o-mini"},
        {"day": dt.date(2026, 11, 1), "cost": 99, "team": "alpha"},  # another month: never in October's files
    ])
    return wh


def _totals(frame):
    return {r["team"]: (float(r["direct_usd"]), float(r["allocated_usd"]), float(r["total_usd"]))
            for r in frame.iter_rows(named=True)}


def test_proportional_to_spend(ledger):
    s = cb.statement(ledger, "2026-10")
    # $40 unassigned shared 60:20:20 -> 24, 8, 8
    assert _totals(s) == {"alpha": (60, 24, 84), "beta": (20, 8, 28), "+gamma": (20, 8, 28)}
    assert sum(s["total_usd"]) == Decimal("140")
    assert s["share_pct"].sum() == pytest.approx(100)


def test_proportional_to_requests_fixed_team_and_none(ledger):
    by_req = _totals(cb.statement(ledger, "2026-10", cb.allocation(rule="proportional", basis="requests")))
    assert by_req == {"alpha": (60, 4, 64), "beta": (20, 12, 32), "+gamma": (20, 24, 44)}  # 10:30:60
    fixed = _totals(cb.statement(ledger, "2026-10", cb.allocation(rule="fixed", split={"alpha": 0.25, "beta": 0.75})))
    assert fixed == {"alpha": (60, 10, 70), "beta": (20, 30, 50), "+gamma": (20, 0, 20)}
    one = _totals(cb.statement(ledger, "2026-10", cb.allocation(rule="team", team="platform")))
    assert one["platform"] == (0, 40, 40) and one["alpha"] == (60, 0, 60)
    none = _totals(cb.statement(ledger, "2026-10", cb.allocation(rule="none")))
    assert none["unassigned"] == (40, 0, 40)


def test_rule_errors_name_the_field():
    with pytest.raises(ConfigError, match="sum to 0.9"):
        cb.allocation(rule="fixed", split={"a": 0.5, "b": 0.4})
    with pytest.raises(ConfigError, match="needs `team`"):
        cb.allocation(rule="team")
    with pytest.raises(ConfigError, match="basis"):
        cb.allocation(basis="vibes")
    with pytest.raises(ConfigError, match="YYYY-MM"):
        cb.parse_month("October")


def test_split_is_exact_to_the_micro_dollar():
    parts = cb._split(Decimal("0.000007"), {"a": Decimal(1), "b": Decimal(1), "c": Decimal(1)})
    assert sum(parts.values()) == Decimal("0.000007")
    parts = cb._split(Decimal("100"), {"a": Decimal(1), "b": Decimal(1), "c": Decimal(1)})
    assert sorted(parts.values()) == [Decimal("33.333333"), Decimal("33.333333"), Decimal("33.333334")]


def _assert_safe(cell: str):
    assert not FORMULA.match(cell), f"formula-like cell {cell!r}"


def test_csv_neutralises_every_text_cell(ledger, tmp_path):
    out = cb.export_csv(ledger, "2026-10", tmp_path / "s.csv")
    with out.open(newline="") as f:
        rows = list(csv.reader(f))
    assert len(rows) > 1
    numeric = re.compile(r"^-?\d+(\.\d+)?$")
    for row in rows:
        for cell in row:
            if not numeric.match(cell):  # numbers stay numbers (a negative amount is not text)
                _assert_safe(cell)
    flat = {c for r in rows for c in r}
    assert "'=HYPERLINK(\"http://x\")" in flat and "'-2+3" in flat and "'+gamma" in flat and "'@pc" in flat
    assert "2026-11" not in json.dumps(rows)


def test_xlsx_neutralises_every_text_cell(ledger, tmp_path):
    out = cb.export_xlsx(ledger, "2026-10", tmp_path / "s.xlsx")
    with zipfile.ZipFile(out) as z:
        strings = re.findall(r"<t[^>]*>([^<]*)</t>", z.read("xl/sharedStrings.xml").decode())
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    assert len(sheets) == 2
    import html
    strings = [html.unescape(s) for s in strings]
    for s in strings:
        _assert_safe(s)
    assert "'=HYPERLINK(\"http://x\")" in strings and "'+gamma" in strings
    assert not any("<f>" in s for s in sheets), "no cell may hold a formula"


FOCUS_MANDATORY = ["BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd",
                   "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargePeriodEnd",
                   "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost",
                   "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "ServiceCategory",
                   "ServiceName"]
FOCUS_NOT_NULL = ["BilledCost", "BillingAccountId", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
                  "ChargeCategory", "ChargePeriodEnd", "ChargePeriodStart", "ContractedCost", "EffectiveCost",
                  "InvoiceIssuerName", "ListCost", "ProviderName", "PublisherName", "ServiceCategory", "ServiceName"]
FOCUS_KNOWN = set(FOCUS_MANDATORY) | {"ChargeFrequency", "ConsumedQuantity", "ConsumedUnit", "PricingCategory",
                                      "ServiceSubcategory", "SkuId", "SubAccountId", "SubAccountName", "Tags"}
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DECIMAL = re.compile(r"^-?\d+(\.\d+)?([eE]-?\d+)?$")


def _check_focus(path, month_start: dt.date):
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows
    header = list(rows[0])
    assert set(FOCUS_MANDATORY) <= set(header)
    assert all(c in FOCUS_KNOWN or c.startswith("x_") for c in header), "custom columns must start with x_"
    service_category = {}
    for i, r in enumerate(rows):
        for c in FOCUS_NOT_NULL:
            assert r[c] != "", f"row {i}: {c} is null"
        for c in ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"):
            assert ISO_Z.match(r[c]), f"row {i}: {c}={r[c]!r}"
        assert r["ChargePeriodStart"] < r["ChargePeriodEnd"]
        assert r["BillingPeriodStart"] == f"{month_start.isoformat()}T00:00:00Z"
        assert r["BillingPeriodStart"] <= r["ChargePeriodStart"] and r["ChargePeriodEnd"] <= r["BillingPeriodEnd"]
        assert re.fullmatch(r"[A-Z]{3}", r["BillingCurrency"]) and r["BillingCurrency"] == "USD"
        assert r["ServiceCategory"] == "AI and Machine Learning"
        assert r["ChargeCategory"] in {"Usage", "Purchase", "Tax", "Credit", "Adjustment"}
        assert r["ChargeClass"] in {"", "Correction"}
        assert r["ChargeFrequency"] in {"One-Time", "Recurring", "Usage-Based"}
        assert r["PricingCategory"] in {"", "Standard", "Dynamic", "Committed", "Other"}
        for c in ("BilledCost", "ContractedCost", "EffectiveCost", "ListCost", "PricingQuantity", "ConsumedQuantity"):
            assert DECIMAL.match(r[c]), f"row {i}: {c}={r[c]!r} is not a plain decimal"
        assert r["PricingUnit"] == "Tokens" and r["ConsumedUnit"] == "Tokens"
        tags = json.loads(r["Tags"])
        assert isinstance(tags, dict) and all(not isinstance(v, (dict, list)) for v in tags.values())
        service_category.setdefault(r["ServiceName"], set()).add(r["ServiceCategory"])
    assert all(len(v) == 1 for v in service_category.values())
    return rows


def test_focus_export_follows_the_rules_on_every_row(ledger, tmp_path):
    rows = _check_focus(cb.export_focus(ledger, "2026-10", tmp_path / "focus.csv"), dt.date(2026, 10, 1))
    assert sum(Decimal(r["BilledCost"]) for r in rows) == Decimal("140")
    r = next(r for r in rows if json.loads(r["Tags"])["team"] == "alpha")
    assert (r["ProviderName"], r["ServiceName"], r["PublisherName"], r["SkuId"]) == (
        "OpenAI", "OpenAI API", "OpenAI", "gpt-4o-mini")
    assert (r["ChargePeriodStart"], r["ChargePeriodEnd"]) == ("2026-10-05T00:00:00Z", "2026-10-06T00:00:00Z")
    assert r["BillingPeriodEnd"] == "2026-11-01T00:00:00Z"
    # 10 requests x (1000 in + 100 out) per the fixture defaults
    assert Decimal(r["PricingQuantity"]) == 1100


def test_focus_on_the_sample_ledger(sample_wh, tmp_path):
    for month in cb.months(sample_wh):
        out = cb.export_focus(sample_wh, month, tmp_path / f"{month}.csv")
        if cb.focus_rows(sample_wh, month).height:
            _check_focus(out, dt.date.fromisoformat(month + "-01"))
    s = cb.statement(sample_wh, "2026-10")
    assert "unassigned" not in s["team"].to_list()
    spent = sample_wh.sql("select sum(spend_usd) as s from usage_daily where day between '2026-10-01' and '2026-10-31'")
    assert s["total_usd"].sum() == spent["s"][0]
