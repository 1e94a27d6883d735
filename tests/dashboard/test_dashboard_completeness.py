"""Issue 15 §1: periods some sources do not cover yet are marked incomplete (per source), a drop they cause is
never coloured as good news, Chargeback opens on the last complete month and Outlook says which months it fits
on. The sample ledger is the case the issue saw: `litellm-spend-logs` runs to 27 Nov 2026 while `focus` and
`openai-usage-csv` end on 31 Oct 2026."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import summary_tables
import vega_spec as vega
import streamlit as st
from streamlit.proto.Metric_pb2 import Metric
from streamlit.testing.v1 import AppTest

from dashboard.services import ledger, outlook
from ledger_factory import build_ledger, write_usage_csv

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "app.py")
GRAY = Metric.MetricColor.Value("GRAY")
D = dt.date


def coverage(*rows: tuple[str, dt.date, dt.date]) -> pl.DataFrame:
    return pl.DataFrame({"source_format": [r[0] for r in rows], "first_day": [r[1] for r in rows],
                         "last_day": [r[2] for r in rows], "row_count": [10] * len(rows)})


def test_completeness_names_the_lagging_sources_and_ignores_old_exports():
    c = ledger.completeness(coverage(("litellm", D(2026, 3, 1), D(2026, 11, 27)),
                                     ("focus", D(2026, 10, 1), D(2026, 10, 31)),
                                     ("openai", D(2026, 10, 1), D(2026, 11, 20)),
                                     ("one-off", D(2026, 5, 1), D(2026, 5, 31)),       # ended long before
                                     ("late-by-a-day", D(2026, 1, 1), D(2026, 11, 25))))  # within tolerance
    assert c.latest == D(2026, 11, 27) and c.complete_through == D(2026, 10, 31) and not c.is_complete
    assert c.lagging["source_format"].to_list() == ["focus", "openai"]
    assert c.describe() == "`focus` ends 31 Oct 2026, `openai` ends 20 Nov 2026"
    assert c.last_complete_month() == D(2026, 10, 1)
    assert c.is_period_complete(D(2026, 10, 1), D(2026, 10, 31))
    assert not c.is_period_complete(D(2026, 11, 1), D(2026, 11, 27))


@pytest.mark.parametrize("through, month", [(D(2026, 11, 27), D(2026, 10, 1)), (D(2026, 11, 30), D(2026, 11, 1)),
                                            (D(2026, 12, 31), D(2026, 12, 1)), (D(2026, 1, 1), D(2025, 12, 1))])
def test_last_complete_month(through, month):
    c = ledger.completeness(coverage(("only", D(2025, 1, 1), through)))
    assert c.is_complete and c.last_complete_month() == month


def test_incomplete_days_start_where_a_source_ends():
    done = ledger.completeness(coverage(("focus", D(2026, 3, 1), D(2026, 10, 31)),
                                        ("litellm", D(2026, 3, 1), D(2026, 11, 27))))
    assert done.incomplete_days(D(2026, 9, 1)) == (D(2026, 11, 1), D(2026, 11, 27))
    assert done.incomplete_days(D(2026, 11, 10)) == (D(2026, 11, 10), D(2026, 11, 27))   # never before the range
    assert ledger.completeness(coverage(("litellm", D(2026, 3, 1), D(2026, 11, 27)))).incomplete_days(
        D(2026, 9, 1)) is None


def test_budgets_on_track_past_the_complete_days_are_marked_incomplete():
    from dashboard.services import finance

    status = pl.DataFrame({"status": ["ok", "ok", "over"], "period_end": [D(2026, 11, 30), D(2026, 10, 31),
                                                                          D(2026, 11, 30)]})
    status = status.with_columns(status_label=pl.col("status").replace_strict(finance.STATUS_LABELS))
    marked = finance.mark_incomplete(status, D(2026, 10, 31))["status_label"].to_list()
    assert marked == ["On track · incomplete", "On track", "Over budget"]   # a complete October stays on track
    assert finance.mark_incomplete(status, None)["status_label"].to_list() == ["On track", "On track", "Over budget"]


def test_a_forecast_whose_spend_stops_where_a_source_ends_is_marked_as_reading_the_gap():
    """A key whose last spend is a lagging source's last day (or a day or two before) forecasts the gap as $0 a
    day: marked. A key that stopped months earlier (a team that ended) or still spends is not."""
    from dashboard.services import finance
    from finance import forecast as fc

    start = D(2026, 9, 1)
    values = np.zeros((58, 4))                   # 1 Sep - 28 Oct
    values[:, 0] = 1.0                           # still spending on the forecast day
    values[:51, 1] = 2.0                         # stops on 21 Oct, where its source ends
    values[:49, 2] = 3.0                         # stops on 19 Oct: two days before (exports lag)
    values[:10, 3] = 4.0                         # stopped on 10 Sep
    hist = fc.History(start, ["live", "gap", "lag", "ended"], values)
    out = fc.forecast_history(hist, D(2026, 10, 28), periods=("month",))
    assert dict(zip(out["key"], out["last_spend_day"])) == {
        "live": D(2026, 10, 28), "gap": D(2026, 10, 21), "lag": D(2026, 10, 19), "ended": D(2026, 9, 10)}
    marked = finance.mark_gap_forecasts(out, [D(2026, 10, 21)], slack_days=2)
    assert dict(zip(marked["key"], marked["gap_driven"])) == {"live": False, "gap": True, "lag": True, "ended": False}
    assert marked.filter(pl.col("key") == "gap")["method"][0].endswith(finance.GAP_MARK)
    assert not finance.mark_gap_forecasts(out, [], slack_days=2)["gap_driven"].any()


def test_explore_trend_draws_the_overview_band():
    from dashboard.components import explore_charts

    df = pl.DataFrame({"period": [D(2026, 10, 26), D(2026, 11, 2)], "group_value": ["openai"] * 2,
                       "spend_rank": [1, 1], "spend_usd": [5.0, 1.0]})
    spec = explore_charts.trend(df, "provider", "week", incomplete=(D(2026, 11, 1), D(2026, 11, 3)))
    band = [r for u in vega.layers(spec) for r in u["rows"] if "band_start" in r]
    assert band and band[0]["band_start"].startswith("2026-10-26") and band[0]["text"] == "incomplete"
    assert not [r for u in vega.layers(explore_charts.trend(df, "provider", "week")) for r in u["rows"]
                if "band_start" in r]


def test_outlook_history_stops_where_every_source_is_loaded():
    daily = pl.DataFrame({"day": [D(2026, 10, 30), D(2026, 10, 31), D(2026, 11, 1)], "baseline_usd": [1.0] * 3,
                          "scenario_usd": [0.5] * 3})
    assert outlook.complete_history(daily, D(2026, 10, 31))["day"].to_list() == [D(2026, 10, 30), D(2026, 10, 31)]
    assert outlook.complete_history(daily, None).height == 3


@pytest.fixture
def app(sample_db, tmp_path, monkeypatch):
    def run(db: Path | None = None) -> AppTest:
        if db is None:
            db = tmp_path / "ledger.duckdb"
            shutil.copy(sample_db, db)
        monkeypatch.setenv("MODELMIX_DB", str(db))
        monkeypatch.setenv("MODELMIX_JOBS_FILE", str(tmp_path / "jobs.yaml"))
        return AppTest.from_file(APP, default_timeout=180).run()

    yield run
    st.cache_data.clear()
    st.cache_resource.clear()


def metric(at: AppTest, start: str):
    [m] = [m for m in at.metric if m.label.startswith(start)]
    return m


@pytest.mark.slow
def test_overview_chargeback_and_outlook_on_a_ledger_whose_sources_end_apart(app):
    at = app()
    assert not at.exception, [e.value for e in at.exception]
    assert at.subheader[0].value == "This month: Nov 2026 (incomplete)"
    [warning] = [w.value for w in at.warning if "is incomplete" in w.value]
    assert "`focus` ends 31 Oct 2026, `openai-usage-csv` ends 31 Oct 2026" in warning
    assert "the last complete month is Oct 2026" in warning
    so_far = metric(at, "Spend so far")
    assert so_far.label.endswith("· incomplete") and so_far.proto.delta.startswith("-99")
    assert so_far.proto.color == GRAY and "not comparable" in so_far.proto.delta_description  # never green
    run_rate = metric(at, "Run-rate")
    assert run_rate.label.endswith("· incomplete") and run_rate.proto.color == GRAY
    october = metric(at, "Last month (Oct 2026)")         # complete: its change keeps its colour
    assert "incomplete" not in october.label and october.proto.color != GRAY
    assert any("The shaded days (1–27 Nov 2026) are incomplete" in c.value for c in at.caption)
    # no movers against a month a source does not cover (each would be the missing source at -100%)
    assert any(c.value.startswith("**Movers** (what changed most") for c in at.caption)
    assert summary_tables.tables(at) and not any("This month so far" in labels for labels in summary_tables.labels(at))
    band = [r for c in vega.charts(at) for u in vega.layers(c) for r in u["rows"] if "band_start" in r]
    assert band and all(r["band_start"].startswith(("2026-10-", "2026-11-")) for r in band)

    at.switch_page("views/explore.py").run()         # the same band and words on Explore's trend
    assert not at.exception, [e.value for e in at.exception]
    assert any(c.value.startswith("The shaded days (1–27 Nov 2026) are incomplete: `focus` ends 31 Oct 2026")
               for c in at.caption), [c.value for c in at.caption]
    band = [r for c in vega.charts(at) for u in vega.layers(c) for r in u["rows"] if "band_start" in r]
    assert band and all(r["band_start"].startswith(("2026-10-", "2026-11-")) for r in band)

    at.switch_page("views/chargeback.py").run()
    assert not at.exception, [e.value for e in at.exception]
    month = at.selectbox(key="chargeback_month")
    assert month.value == "2026-10"                      # the last complete month, not November's 27 days
    assert month.options[:2] == ["Nov 2026 · incomplete", "Oct 2026"]
    assert not any("incomplete" in w.value for w in at.warning)
    month.select("2026-11").run()
    [warning] = [w.value for w in at.warning if "incomplete" in w.value]
    assert warning.startswith("**Nov 2026 is incomplete**: `focus` ends 31 Oct 2026")

    at.switch_page("views/outlook.py").run()
    assert not at.exception, [e.value for e in at.exception]
    [fit] = [i.value for i in at.info if i.value.startswith("**Fitted on")]
    assert fit.startswith("**Fitted on Mar 2026 – Oct 2026** (8 months")
    assert "Left out: 1–27 Nov 2026, which is incomplete (`focus` ends 31 Oct 2026" in fit


@pytest.mark.slow
def test_a_complete_ledger_is_not_marked(app, tmp_path):
    db = build_ledger(tmp_path / "complete.duckdb", [write_usage_csv(tmp_path / "usage.csv")])
    at = app(db)
    assert not at.exception, [e.value for e in at.exception]
    assert at.subheader[0].value == "This month: Sep 2025"
    assert not any("incomplete" in m.label for m in at.metric)
    assert metric(at, "Spend so far").proto.color != GRAY
    assert not any("incomplete" in w.value for w in at.warning)
    at.switch_page("views/explore.py").run()
    assert not at.exception and not any("shaded" in c.value for c in at.caption)
    assert not [r for c in vega.charts(at) for u in vega.layers(c) for r in u["rows"] if "band_start" in r]
    at.switch_page("views/chargeback.py").run()
    assert at.selectbox(key="chargeback_month").value == "2025-08"     # September is still running
    assert at.selectbox(key="chargeback_month").options[0] == "Sep 2025 · incomplete"


@pytest.mark.slow
def test_an_unreliable_forecast_says_so_and_draws_no_band(app):
    """Issue 15 §6: on the sample ledger the backtest of the charted team is off by thousands of percent; the
    page says in words that the forecast is not reliable and draws the line without its P10–P90 band."""
    at = app()
    at.switch_page("views/budgets.py").run()
    assert not at.exception, [e.value for e in at.exception]
    [warning] = [w.value for w in at.warning if "reliable forecast" in w.value]
    assert warning.startswith("**Not a reliable forecast: tested on") or \
        warning.startswith("**Not enough history for a reliable forecast")
    assert "The P10–P90 band is not drawn" in warning
    chart = next(c for c in vega.charts(at) if "Actual" in vega.series(c))       # the daily forecast chart
    names = set(vega.series(chart)) | set(vega.series(chart, "band"))
    assert "P10–P90 band" not in names and "Forecast (unreliable)" in names
    assert all(m.label.endswith("· unreliable") for m in at.metric if m.label.startswith("Typical error"))
    # the forecast's days after 31 Oct miss `focus` and `openai-usage-csv`: the teams whose spend stops there are
    # marked as reading that gap (their $0.00 month-end is not a forecast of spend), the others are not
    [gap] = [w.value for w in at.warning if w.value.startswith("**Spend after 31 Oct 2026 is incomplete**")]
    assert "rows stop where those sources end" in gap and "end the sidebar's date range on 31 Oct 2026" in gap
    [forecast] = [t for t in summary_tables.tables(at) if "last_spend_day" in t.columns]
    marked = forecast.filter(pl.col("method").str.ends_with("· gap"))
    assert marked.height and (marked["last_spend_day"] == "31 Oct 2026").all()
    assert (forecast.filter(~pl.col("method").str.ends_with("· gap"))["last_spend_day"] != "31 Oct 2026").all()


@pytest.mark.slow
def test_reconciliation_does_not_point_below_to_an_empty_list(app):
    """Issue 15 §5: on the sample ledger a credit line (money-only, no tokens) was reported as "billed for models
    the catalog cannot price (below)" above "Every model in this range has a catalog price"."""
    at = app()
    at.switch_page("views/reconciliation.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.session_state["reconcile_tab"] = "Unpriced models"
    at.run()
    assert any(s.value == "Every model in this range has a catalog price." for s in at.success)
    [note] = [c.value for c in at.caption if c.value.startswith("Not in the waterfall")]
    assert "as money-only lines (credits, fees" in note and "(below)" not in note and "Unpriced models" not in note


@pytest.mark.parametrize("name, want", [
    ("Month to date", (D(2026, 11, 1), D(2026, 11, 27))), ("Last month", (D(2026, 10, 1), D(2026, 10, 31))),
    ("Quarter to date", (D(2026, 10, 1), D(2026, 11, 27))), ("Year to date", (D(2026, 3, 2), D(2026, 11, 27))),
    ("Last 90 days", (D(2026, 8, 30), D(2026, 11, 27))), ("Everything", (D(2026, 3, 2), D(2026, 11, 27)))])
def test_date_presets_count_back_from_the_last_day(name, want):
    assert ledger.preset_range(name, D(2026, 3, 2), D(2026, 11, 27)) == want


@pytest.mark.slow
def test_a_date_preset_sets_the_range(app):
    """Issue 15 §7: picking "Last month" in the sidebar sets the date range every page reads."""
    at = app()
    at.sidebar.button_group(key="date_preset").set_value("Last month").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["modelmix_date_range"] == (D(2026, 10, 1), D(2026, 10, 31))
    assert at.subheader[0].value == "This month: Oct 2026"      # a complete month: no "(incomplete)"
