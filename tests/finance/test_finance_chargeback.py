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
from finance import focus_check
from ingest import ingest_paths
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


def _check_focus(path, month_start: dt.date):
    """The file passes the FOCUS row checks (finance/focus_check.py), and its periods are the month's."""
    bad = focus_check.violations(path)
    assert bad.is_empty(), bad.head(20)
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows
    for r in rows:
        assert r["BillingPeriodStart"] == f"{month_start.isoformat()}T00:00:00Z"
        assert r["BillingCurrency"] == "USD" and r["ServiceCategory"] == "AI and Machine Learning"
    return rows


def test_focus_export_follows_the_rules_on_every_row(ledger, tmp_path):
    rows = _check_focus(cb.export_focus(ledger, "2026-10", tmp_path / "focus.csv"), dt.date(2026, 10, 1))
    assert sum(Decimal(r["BilledCost"]) for r in rows) == Decimal("140")
    alpha = [r for r in rows if json.loads(r["Tags"])["team"] == "alpha"]
    # one row per token class: 1000 input and 100 output tokens (the fixture defaults)
    assert [(r["x_TokenClass"], r["ConsumedQuantity"], r["ConsumedUnit"], r["SkuMeter"]) for r in alpha] == [
        ("input", "1000.0", "Tokens", "gpt-4o-mini/input"), ("output", "100.0", "Tokens", "gpt-4o-mini/output")]
    r = alpha[0]
    assert (r["ProviderName"], r["ServiceName"], r["PublisherName"], r["SkuId"]) == (
        "OpenAI", "OpenAI API", "OpenAI", "gpt-4o-mini")
    assert (r["ChargePeriodStart"], r["ChargePeriodEnd"]) == ("2026-10-05T00:00:00Z", "2026-10-06T00:00:00Z")
    assert r["BillingPeriodEnd"] == "2026-11-01T00:00:00Z"
    # the 1.5 draft's SKU price properties
    assert json.loads(r["SkuPriceDetails"]) == {"ModelDeveloper": "OpenAI", "ModelFamily": "GPT",
                                                "ModelId": "gpt-4o-mini", "ModelVersion": "4o",
                                                "TokenDirection": "Input", "TokenCacheAction": "Uncached"}
    assert json.loads(alpha[1]["SkuPriceDetails"])["TokenDirection"] == "Output"
    assert "TokenCacheAction" not in json.loads(alpha[1]["SkuPriceDetails"])
    # $60 billed shared by list cost: input 1000 x $0.15/M = $0.00015, output 100 x $0.60/M = $0.00006 -> 5:2
    assert [Decimal(r["BilledCost"]) for r in alpha] == [Decimal("42.857143"), Decimal("17.142857")]
    assert [r["x_Requests"] for r in alpha] == ["10", ""]     # once per group, on its largest row


def test_focus_ai_columns_cache_reasoning_and_model_identity(wh, tmp_path):
    load_daily(wh, tmp_path, [
        {"day": OCT, "cost": 10, "provider": "anthropic", "model": "claude-sonnet-4-5", "input_tokens": 1000,
         "cache_read_tokens": 8000, "output_tokens": 500},
        {"day": OCT, "cost": 3, "provider": "google-vertex", "model": "gemini-2.5-flash", "input_tokens": 100,
         "output_tokens": 0},
    ])
    path = tmp_path / "reasoning.csv"
    path.write_text("ts,granularity,provider,model,requests,input_tokens,cache_write_tokens,output_tokens,"
                    "reasoning_tokens,cost_usd\n2026-10-05T00:00:00,day,openai,o4-mini,4,100,50,900,600,1\n")
    ingest_paths(wh, [path])
    rows = _check_focus(cb.export_focus(wh, "2026-10", tmp_path / "f.csv"), dt.date(2026, 10, 1))
    got = {(r["SkuId"], r["x_TokenClass"]): r for r in rows}
    claude = json.loads(got[("claude-sonnet-4-5", "cache_read")]["SkuPriceDetails"])
    assert claude == {"ModelDeveloper": "Anthropic", "ModelFamily": "Claude Sonnet", "ModelId": "claude-sonnet-4-5",
                      "ModelVersion": "4.5", "TokenDirection": "Input", "TokenCacheAction": "Read"}
    assert got[("claude-sonnet-4-5", "cache_read")]["ConsumedQuantity"] == "8000.0"
    # reasoning is counted as output: one output row holding all 900 tokens, the 600 reasoning shown beside
    out = got[("o4-mini", "output")]
    assert (out["ConsumedQuantity"], out["x_ReasoningTokens"]) == ("900.0", "600")
    assert json.loads(out["SkuPriceDetails"])["TokenDirection"] == "Output"
    assert json.loads(got[("o4-mini", "cache_write")]["SkuPriceDetails"])["TokenCacheAction"] == "Write"
    # a family the rules do not know (o-series) is left out, never null
    assert "ModelFamily" not in json.loads(out["SkuPriceDetails"])
    gemini = json.loads(got[("gemini-2.5-flash", "input")]["SkuPriceDetails"])
    assert (gemini["ModelFamily"], gemini["ModelVersion"]) == ("Gemini Flash", "2.5")
    assert ("gemini-2.5-flash", "output") not in got          # a class without tokens has no row
    # every group's classes add up to its billed cost exactly
    assert sum(Decimal(r["BilledCost"]) for r in rows) == Decimal("14")


def test_focus_round_trip_through_the_focus_importer(ledger, tmp_path):
    """The exported file read back by the `focus` format gives the same tokens per class and the same money."""
    from warehouse import Warehouse

    out = cb.export_focus(ledger, "2026-10", tmp_path / "focus.csv")
    with Warehouse(tmp_path / "other.duckdb") as other:
        [r] = ingest_paths(other, [out])
        assert (r.format, r.status, r.rows_rejected) == ("focus", "loaded", 0)
        back = other.sql("select model, sum(input_tokens) as i, sum(output_tokens) as o, sum(cost_usd) as c "
                         "from usage_raw group by all order by all").rows()
    want = ledger.sql("select model, sum(input_tokens) as i, sum(output_tokens) as o, sum(cost_usd) as c from usage "
                      "where ts < '2026-11-01' group by all order by all").rows()
    assert back == want


@pytest.mark.parametrize("column, value, rule", [
    ("BillingCurrency", "usd", "not an ISO 4217 currency code"),
    ("ChargePeriodStart", "2026-10-05 00:00:00", "not an ISO 8601 UTC date/time (YYYY-MM-DDTHH:MM:SSZ)"),
    ("BilledCost", "1,000.50", "not a plain decimal number"),
    ("ServiceCategory", "AI/ML", "not one of"),
    ("ConsumedUnit", "tokens", "not in the Unit Format"),
    ("ConsumedUnit", None, "ConsumedUnit must be given exactly when ConsumedQuantity is"),
    ("ProviderName", None, "null in a non-nullable column"),
    ("SubAccountName", "", "an empty string, not null"),
    ("Tags", '{"team": ["a", "b"]}', "value of 'team' is not a scalar"),
    ("SkuPriceDetails", '{"TokenDirection": "Output", "TokenCacheAction": "Read"}',
     "TokenCacheAction on tokens generated in a response (TokenDirection Output)"),
    ("SkuPriceDetails", '{"TokenDirection": "In"}', "TokenDirection 'In' is not Input or Output"),
    ("SkuPriceDetails", '{"tokenCache": "Read"}', "key 'tokenCache' is neither PascalCase nor x_-prefixed"),
    ("ListCost", "99.0", "ListCost is not ListUnitPrice x PricingQuantity"),
])
def test_focus_checks_catch_each_broken_rule(ledger, tmp_path, column, value, rule):
    good = cb.export_focus(ledger, "2026-10", tmp_path / "good.csv")
    assert focus_check.violations(good).is_empty()
    frame = pl.read_csv(good, infer_schema=False)
    broken = frame.with_columns(pl.when(pl.int_range(pl.len()) == 1).then(pl.lit(value, dtype=pl.String))
                                .otherwise(pl.col(column)).alias(column))
    path = tmp_path / "broken.csv"
    broken.write_csv(path, null_value="")
    bad = focus_check.violations(path)
    assert bad.height >= 1
    assert any(r["rule"].startswith(rule) and r["row"] == 2 for r in bad.iter_rows(named=True)), bad


def test_focus_checks_whole_file_rules(ledger, tmp_path):
    frame = pl.read_csv(cb.export_focus(ledger, "2026-10", tmp_path / "good.csv"), infer_schema=False)
    path = tmp_path / "broken.csv"
    frame.drop("InvoiceIssuerName").rename({"x_Team": "Team"}).write_csv(path, null_value="")
    rules = {(r["column"], r["rule"]) for r in focus_check.violations(path).iter_rows(named=True)}
    assert ("InvoiceIssuerName", "mandatory column missing") in rules
    assert ("Team", "not a FOCUS column and not prefixed x_") in rules


@pytest.mark.slow
def test_focus_on_the_sample_ledger(sample_wh, tmp_path):
    for month in cb.months(sample_wh):
        out = cb.export_focus(sample_wh, month, tmp_path / f"{month}.csv")
        if cb.focus_rows(sample_wh, month).height:
            _check_focus(out, dt.date.fromisoformat(month + "-01"))
    s = cb.statement(sample_wh, "2026-10")
    assert "unassigned" not in s["team"].to_list()
    spent = sample_wh.sql("select sum(spend_usd) as s from usage_daily where day between '2026-10-01' and '2026-10-31'")
    # the ledger keeps money at full precision; a statement's lines are rounded to 6 places (at most 5e-7 each)
    total, exact = Decimal(str(s["total_usd"].sum())), Decimal(str(spent["s"][0]))
    assert abs(total - exact) <= Decimal("0.0000005") * s.height
    assert total.quantize(Decimal("0.01")) == exact.quantize(Decimal("0.01"))
