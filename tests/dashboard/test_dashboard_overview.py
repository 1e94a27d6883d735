"""The dashboard's Overview page through AppTest, against small real ledgers; expected figures are computed
here independently (from the generated CSV itself, or by plain SQL over the raw `usage` view, never through
the page's named queries or the `usage_daily` rollup)."""

from __future__ import annotations

import ast
import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

import summary_tables
import vega_spec as vega
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.components.formatting import usd
from ledger_factory import build_ledger, write_usage_csv
from warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "app.py")
LAST_DAY = dt.date(2025, 9, 17)          # the factory's default end: mid-month, so a run-rate is meaningful
RANGE_START = LAST_DAY - dt.timedelta(days=89)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("overview")
    csv_path = write_usage_csv(folder / "usage.csv")
    db = build_ledger(folder / "ledger.duckdb", [csv_path])
    with csv_path.open() as f:
        rows = list(csv.DictReader(f))
    with Warehouse(db) as wh:
        def spend(lo: dt.date, hi: dt.date) -> float:
            value = wh.scalar(
                "select sum(coalesce(cost_usd, list_cost_usd)) from usage where ts >= $lo and ts < $hi",
                lo=lo, hi=hi + dt.timedelta(days=1))
            return float(value or 0)

        list_of_billed = float(wh.scalar(
            "select sum(list_cost_usd) from usage where cost_usd is not null and ts >= $lo and ts < $hi",
            lo=RANGE_START, hi=LAST_DAY + dt.timedelta(days=1)))
        expected = {
            "mtd": spend(dt.date(2025, 9, 1), LAST_DAY),
            "august": spend(dt.date(2025, 8, 1), dt.date(2025, 8, 31)),
            "aug_1_17": spend(dt.date(2025, 8, 1), dt.date(2025, 8, 17)),
            "range": spend(RANGE_START, LAST_DAY),
            "list_of_billed": list_of_billed,
        }
    in_range = [r for r in rows if RANGE_START <= dt.date.fromisoformat(r["ts"][:10]) <= LAST_DAY]
    expected["requests"] = sum(int(r["requests"]) for r in in_range)
    expected["billed"] = float(sum(Decimal(r["cost_usd"]) for r in in_range if r["cost_usd"]))
    expected["unpriced_rows"] = sum(r["provider"] == "self-hosted" for r in in_range)
    expected["rows"] = len(in_range)
    return {"db": db, "expected": expected}


@pytest.fixture
def run_app(monkeypatch):
    """Run the app on a ledger file; afterwards drop the caches (which closes the cached warehouse)."""
    def run(db: Path, **state) -> AppTest:
        monkeypatch.setenv("MODELMIX_DB", str(db))
        at = AppTest.from_file(APP, default_timeout=90)
        for k, v in state.items():
            at.session_state[k] = v
        return at.run()

    yield run
    st.cache_data.clear()
    st.cache_resource.clear()


def metrics(at: AppTest) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.proto.delta) for m in at.metric}


def metric(at: AppTest, label_start: str) -> tuple[str, str]:
    shown = metrics(at)
    if label_start in shown:
        return shown[label_start]
    found = [v for k, v in shown.items() if k.startswith(label_start)]
    assert len(found) == 1, (label_start, list(metrics(at)))
    return found[0]


def test_kpis_match_the_ledger(ledger, run_app):
    at = run_app(ledger["db"])
    assert not at.exception
    e = ledger["expected"]
    assert at.title[0].value == "Overview"
    # "this month" is the month of the latest day in the ledger, and the page says so
    assert any(s.value == "This month: Sep 2025" for s in at.subheader)
    assert any("month of the latest day with usage" in c.value for c in at.caption)
    value, delta = metric(at, "Spend so far (1–17 Sep)")
    assert value == usd(e["mtd"])
    assert delta == f"{(e['mtd'] - e['aug_1_17']) / e['aug_1_17'] * 100:+.1f}%"
    assert metric(at, "Last month (Aug 2025)")[0] == usd(e["august"])
    value, delta = metric(at, "Run-rate (Sep 2025)")
    assert value == usd(e["mtd"] / 17 * 30)
    assert delta == f"{(e['mtd'] / 17 * 30 - e['august']) / e['august'] * 100:+.1f}%"
    assert any("spend so far ÷ days elapsed (17 of 30)" in c.value for c in at.caption)
    # the selected range defaults to the ledger's last 90 days
    assert at.date_input[0].value == (RANGE_START, LAST_DAY)
    value, delta = metric(at, "Spend")
    assert value == usd(e["range"])
    assert delta.startswith(f"{e['requests']:,} requests · ")
    value, delta = metric(at, "Billed cost vs list price")
    assert value == usd(e["billed"])
    # the factory bills OpenAI 10% under list
    assert delta == f"{(e['billed'] - e['list_of_billed']) / e['list_of_billed'] * 100:+.1f}% vs list"
    assert delta.startswith("-9.")
    value, delta = metric(at, "Unpriced usage")
    assert value == f"{100 * e['unpriced_rows'] / e['rows']:.1f}%"
    assert delta.startswith(f"{e['unpriced_rows']:,} of {e['rows']:,} rows")


def test_sql_is_one_toggle_away(ledger, run_app):
    """Issue 15 §4: no "SQL behind this" expanders by default; the sidebar's one "Show SQL" toggle brings every
    one back."""
    at = run_app(ledger["db"])
    assert not at.exception
    assert not [x for x in at.expander if x.label == "SQL behind this"] and not at.code
    [toggle] = [t for t in at.sidebar.toggle if t.label == "Show SQL"]
    assert toggle.value is False
    toggle.set_value(True).run()
    assert not at.exception
    assert len([x for x in at.expander if x.label == "SQL behind this"]) >= 8


def test_charts_tables_warning_and_sql(ledger, run_app):
    at = run_app(ledger["db"], show_sql=True)
    assert not at.exception
    assert len(at.get("vega_lite_chart")) == 3 and not at.get("plotly_chart")
    # movers (team, model), top teams, top models, billed vs list
    # light summary tables, not the data grid (its 1.5 MB of JavaScript is a new tab's wait)
    assert len(summary_tables.tables(at)) == 5 and not at.dataframe
    assert summary_tables.labels(at)[0][:2] == ["Team", "This month so far"]
    assert "self-hosted / acme-llama-ft-v2" in at.warning[0].value
    expanders = [x for x in at.expander if x.label == "SQL behind this"]
    assert len(expanders) >= 8
    shown = "\n".join(c.value for c in at.code)
    for name in ("spend_month_to_date", "movers_month_to_date", "spend_by_provider_over_time", "spend_by_model_over_time", "top_teams",
                 "top_models", "billed_vs_list_by_provider", "unpriced_models", "billed_vs_list_totals"):
        assert f"-- {name}:" in shown, name


# AppTest 1.67 reruns only the page script, not app.py, after the first run of an st.navigation app (so the
# sidebar is gone and widget changes go nowhere); each case therefore sets its widget state before a first run.
@pytest.mark.slow
def test_date_range_changes_the_figures(ledger, run_app):
    default = metric(run_app(ledger["db"]), "Spend")[0]
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["date_range"] = (dt.date(2025, 9, 1), dt.date(2025, 9, 10))
    at.run()
    assert not at.exception
    assert at.date_input[0].value == (dt.date(2025, 9, 1), dt.date(2025, 9, 10))
    assert metric(at, "Spend")[0] != default
    assert any(s.value == "Selected range: 1–10 Sep 2025" for s in at.subheader)
    # the month KPIs follow the end of the range: its latest day is now 10 Sep
    assert any(m.label == "Spend so far (1–10 Sep)" for m in at.metric)


def test_the_calendar_waits_in_a_popover_and_a_whole_range_picked_on_it_applies(ledger, run_app):
    """The sidebar's calendar sits in a popover (the browser mounts it, and loads its JavaScript, only when it is
    opened) whose button shows the range. A whole range picked applies (and clears the preset); a first click,
    which holds only the start, changes nothing yet."""
    at = run_app(ledger["db"], date_preset="Last 90 days")
    [calendar] = at.sidebar.date_input
    assert calendar.value == (RANGE_START, LAST_DAY)
    assert calendar.key.startswith("date_calendar_")
    assert [p.proto.popover.label for p in at.sidebar.get("popover")] == ["20 Jun – 17 Sep 2025"]
    calendar.set_value((dt.date(2025, 9, 1),)).run()                  # the first click: the start only
    assert at.session_state["date_range"] == (RANGE_START, LAST_DAY)
    at.sidebar.date_input[0].set_value((dt.date(2025, 9, 1), dt.date(2025, 9, 10))).run()
    assert not at.exception
    assert at.session_state["date_range"] == (dt.date(2025, 9, 1), dt.date(2025, 9, 10))
    assert at.session_state["date_preset"] is None
    assert any(s.value == "Selected range: 1–10 Sep 2025" for s in at.subheader)
    assert [p.proto.popover.label for p in at.sidebar.get("popover")] == ["1–10 Sep 2025"]
    assert at.sidebar.date_input[0].value == (dt.date(2025, 9, 1), dt.date(2025, 9, 10))


def test_the_two_weekly_charts_label_the_same_week_starts(ledger, run_app):
    """Overview's spend by provider and by model sit side by side with legends of different widths: Vega's own
    ticks fell on week starts in one and on month starts in the other. Both label the same Mondays, in one
    format, few enough to read."""
    at = run_app(ledger["db"])
    assert not at.exception
    axes = [e["encoding"]["x"]["axis"] for c in vega.charts(at)[:2] for e in vega.layers(c)
            if e["encoding"].get("x", {}).get("field") == "period"]
    assert len(axes) == 2 and axes[0] == axes[1], axes
    assert all(v["utc"] for v in axes[0]["values"])
    ticks = [dt.date(v["year"], v["month"], v["date"]) for v in axes[0]["values"]]
    assert axes[0]["format"] == "%-d %b" and 2 <= len(ticks) <= 5, ticks
    assert all(d.weekday() == 0 for d in ticks) and len({b - a for a, b in zip(ticks, ticks[1:])}) == 1, ticks
    assert ticks[0] <= RANGE_START + dt.timedelta(days=13) and ticks[-1] >= LAST_DAY - dt.timedelta(days=27)


@pytest.mark.slow
@pytest.mark.parametrize("bucket", ["Day", "Month"])
def test_time_bucket(ledger, run_app, bucket):
    run_app(ledger["db"])                      # sets MODELMIX_DB
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["overview_bucket"] = bucket
    at.run()
    assert not at.exception
    assert at.segmented_control[0].value == bucket
    [x] = [e["x"] for e in vega.layers(vega.charts(at)[0]) for e in [e["encoding"]] if e["x"]["field"] == "period"]
    assert x["axis"]["title"] == bucket
    assert x["axis"]["format"] == {"Day": "%-d %b", "Month": "%b %Y"}[bucket]      # one month format everywhere


def test_empty_ledger_says_what_to_do(tmp_path, run_app):
    Warehouse(tmp_path / "empty.duckdb").close()
    at = run_app(tmp_path / "empty.duckdb")
    assert not at.exception
    assert not at.metric and not at.get("vega_lite_chart")
    guidance = at.info[0].value
    assert "No usage loaded yet" in guidance and "**Upload & data**" in guidance
    assert any("No usage loaded yet" in c.value for c in at.sidebar.caption)


def test_services_and_charts_do_not_import_streamlit():
    for folder in ("services", "components"):
        for path in (ROOT / "dashboard" / folder).glob("*.py"):
            if path.name == "widgets.py":      # the one module of Streamlit pieces shared by pages
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
            names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
            assert not any(n.split(".")[0] == "streamlit" for n in names), path


def test_pages_hold_no_sql():
    for path in (ROOT / "dashboard" / "views").glob("*.py"):
        text = path.read_text(encoding="utf-8").lower()
        assert "select " not in text and ".sql(" not in text and "import duckdb" not in text, path
