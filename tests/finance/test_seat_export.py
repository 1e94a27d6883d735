"""A vendor's seat or licence export through a column mapping (finance/seat_export.py) into the seats and
subscriptions table: a Copilot seat list (one row per seat, counted per team, plan and dates; a plan column filling
product and price; an exclusive cancellation date), a procurement licence report (its own column names, US dates,
`$1,170.00`, Annual), the CLI, and bad files named by file, row and column with nothing written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from finance import seat_export as se
from finance import whole_bill as wb
from warehouse.errors import ConfigError

DATA = Path(__file__).resolve().parents[1] / "data" / "seats"
COPILOT, COPILOT_MAP = DATA / "copilot_seats_2026-11.csv", DATA / "copilot_seats.mapping.yaml"
LICENCES, LICENCES_MAP = DATA / "licences_2026.csv", DATA / "licences.mapping.yaml"
NOV = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))


def test_copilot_seat_list_counts_seats_per_team_plan_and_dates(wh):
    lines = se.load(COPILOT, COPILOT_MAP)
    assert set(lines.rows()) == {
        ("GitHub", "Copilot Business", "customer-support", 1, Decimal("19"), "month", dt.date(2026, 9, 1), None, None),
        # octo-ana and octo-ben: one line of 2 seats; octo-cai cancelled from 1 Dec: paid through 30 Nov
        ("GitHub", "Copilot Business", "platform", 2, Decimal("19"), "month", dt.date(2026, 3, 2), None, None),
        ("GitHub", "Copilot Business", "platform", 1, Decimal("19"), "month", dt.date(2026, 3, 2),
         dt.date(2026, 11, 30), None),
        # a plan column fills product and price: enterprise seats at $39
        ("GitHub", "Copilot Enterprise", "research", 2, Decimal("39"), "month", dt.date(2026, 6, 16), None, None),
    }
    assert wb.replace_subscription_lines(wh, lines) == 4
    daily = wb.subscription_daily(wh, *NOV)
    # November: platform 3 x $19, research 2 x $39, support 1 x $19 (whole months)
    per_team = {r["team"]: r["cost_usd"] for r in daily.group_by("team").agg(pl.col("cost_usd").sum()).iter_rows(named=True)}
    # (spread per day at 6 decimals: $19 / 30 days x 30 = $18.99999)
    assert {k: float(v) for k, v in per_team.items()} == pytest.approx(
        {"platform": 57, "research": 78, "customer-support": 19}, abs=1e-4)


def test_licence_report_with_its_own_names_and_formats(wh):
    lines = se.load(LICENCES, LICENCES_MAP)
    got = {r["product"]: r for r in lines.iter_rows(named=True)}
    assert got["Copilot Enterprise"] == {
        "vendor": "GitHub", "product": "Copilot Enterprise", "team": "platform", "seats": 5,
        "price_per_seat_usd": Decimal("1170"), "period": "year", "start_date": dt.date(2026, 1, 1),
        "end_date": dt.date(2026, 12, 31), "note": "annual contract"}
    assert (got["Claude Team"]["start_date"], got["Claude Team"]["end_date"], got["Claude Team"]["note"]) == (
        dt.date(2026, 3, 15), None, None)
    wb.replace_subscription_lines(wh, lines)
    # the same lines as the small file would give: 40 x $60 a month for ChatGPT Enterprise
    chatgpt = wb.subscription_daily(wh, *NOV).filter(pl.col("product") == "ChatGPT Enterprise")
    assert chatgpt["cost_usd"].sum() == Decimal("2400")


def _bad(tmp_path, text: str, mapping: Path = LICENCES_MAP) -> str:
    path = tmp_path / "export.csv"
    path.write_text(text)
    with pytest.raises(ConfigError) as e:
        se.load(path, mapping)
    return str(e.value)


HEAD = "Cost Center,Vendor,Product Name,Licenses,Unit Price (USD),Billing Frequency,Term Start,Term End,Comment\n"
GOOD = "research,Anthropic,Claude Team,12,$30.00,Monthly,03/15/2026,,\n"


@pytest.mark.parametrize(("row", "says"), [
    ("research,Anthropic,Claude Team,twelve,$30.00,Monthly,03/15/2026,,", "row 3, column 'Licenses': 'twelve' is not a whole number"),
    ("research,Anthropic,Claude Team,12,30 EUR,Monthly,03/15/2026,,", "row 3, column 'Unit Price (USD)': '30 EUR' is not an amount"),
    ("research,Anthropic,Claude Team,12,$30.00,Weekly,03/15/2026,,", "row 3, column 'Billing Frequency': 'Weekly' is not month or year"),
    ("research,Anthropic,Claude Team,12,$30.00,Monthly,2026-03-15,,", "row 3, column 'Term Start': '2026-03-15' is not a date (%m/%d/%Y)"),
    ("research,Anthropic,Claude Team,12,$30.00,Monthly,03/15/2026,03/01/2026,", "row 3, column 'Term End': '03/01/2026' is before the start"),
    (",Anthropic,Claude Team,12,$30.00,Monthly,03/15/2026,,", "row 3, column 'Cost Center': missing"),
    ("research,Anthropic,Claude Team,-2,$30.00,Monthly,03/15/2026,,", "row 3, column 'Licenses': '-2' is negative"),
])
def test_a_bad_row_is_named_and_nothing_is_written(wh, tmp_path, row, says):
    msg = _bad(tmp_path, HEAD + GOOD + row + "\n" + GOOD)
    assert "export.csv: " + says in msg and msg.endswith("Nothing was changed"), msg
    assert wh.sql("select count(*) from subscriptions").item() == 0


def test_every_bad_row_is_counted_and_the_first_named(tmp_path):
    rows = "research,Anthropic,Claude Team,x,$30.00,Monthly,03/15/2026,,\n" * 3
    msg = _bad(tmp_path, HEAD + GOOD + rows)
    assert "row 3, column 'Licenses': 'x' is not a whole number (2 more row(s) have problems)" in msg


def test_a_file_that_is_not_the_export_is_refused_without_quoting_it(tmp_path):
    msg = _bad(tmp_path, "root:x:0:0,secret\n1,2\n")
    assert "has no column 'Cost Center', 'Vendor'" in msg and "root:x" not in msg and "secret" not in msg


def test_bad_mappings_are_named(tmp_path):
    cases = {
        "seat_mapping:\n  columns: {Team: squad}\n": "columns: Value error, column 'Team' maps to 'squad', not a field",
        "seat_mapping:\n  columns: {Team: team, Vendor: vendor}\n": "product, price_per_seat_usd, start comes from "
                                                                     "neither a column nor a constant",
        "seat_mapping:\n  columns: {Team: team, V: vendor}\n  constants: {vendor: x}\n": "vendor is both a column and "
                                                                                        "a constant",
        "rules: []\n": "has no `seat_mapping:` with `columns:`",
    }
    for text, says in cases.items():
        path = tmp_path / "m.yaml"
        path.write_text(text)
        with pytest.raises(ConfigError, match="m.yaml: "):
            se.load_mapping(path)
        try:
            se.load_mapping(path)
        except ConfigError as e:
            assert says.replace("Value error, ", "") in str(e), (text, str(e))


@pytest.mark.slow
def test_cli_loads_a_seat_export(tmp_path):
    from test_cli import run

    db = str(tmp_path / "l.duckdb")
    p = run("subscriptions", str(COPILOT), "--mapping", str(COPILOT_MAP), "--db", db)
    assert p.returncode == 0, p.stderr
    assert f"4 subscription line(s) loaded from {COPILOT} (6 seats) through {COPILOT_MAP}" in p.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text(COPILOT.read_text().replace("2026-06-16T13:30:00Z,2026-06-16", "16 June,2026-06-16", 1))
    p = run("subscriptions", str(bad), "--mapping", str(COPILOT_MAP), "--db", db)
    assert p.returncode != 0 and "bad.csv: row 5, column 'created_at': '16 June' is not a date (YYYY-MM-DD)" in \
        p.stderr, p.stderr
    p = run("subscriptions", "--db", db)
    assert "shape: (4, 10)" in p.stdout                       # the good load is still there, untouched


def test_chargeback_page_loads_a_seat_export(tmp_path, monkeypatch):
    """The Chargeback page's seat export upload (CSV + mapping): a bad row is named with the upload's name, row and
    column and writes nothing; the good export replaces the seats and shows in the whole bill."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from ingest import ingest_paths
    from warehouse import Warehouse

    root = Path(__file__).resolve().parents[2]
    usage = tmp_path / "usage.csv"
    usage.write_text("ts,provider,model,team,input_tokens,output_tokens,cost_usd\n"
                     "2026-11-05T10:00:00Z,openai,gpt-4o,platform,1000,100,0.02\n")
    db = tmp_path / "l.duckdb"
    with Warehouse(db) as w:
        ingest_paths(w, [usage])
    monkeypatch.setenv("MODELMIX_DB", str(db))
    bad = COPILOT.read_text().replace(",business,2026-09-01", ",free,2026-09-01")
    try:
        at = AppTest.from_file(str(root / "dashboard" / "views" / "chargeback.py"), default_timeout=120)
        at.session_state["modelmix_date_range"] = NOV
        at.run()
        assert not at.exception
        at.file_uploader(key="bill_seat_mapping").set_value(("copilot.yaml", COPILOT_MAP.read_bytes(), "text/yaml"))
        at.file_uploader(key="bill_seat_export").set_value(("seats.csv", bad.encode(), "text/csv")).run()
        at.button(key="bill_load_seat_export").click().run()
        assert not at.exception
        # the free plan has no price in the mapping's values: the row is named, nothing is written
        assert "seats.csv: row 7, column 'plan_type': 'free' is not an amount" in at.error[0].value
        at.file_uploader(key="bill_seat_export").set_value(("seats.csv", COPILOT.read_bytes(), "text/csv")).run()
        at.button(key="bill_load_seat_export").click().run()
        assert not at.exception and not at.error
        assert "Loaded 4 lines of seats and subscriptions from seats.csv." in at.success[0].value
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["Seats and subscriptions"] == "$154.00"      # $57 + $78 + $19 for November
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()
