"""The Anomalies page's Regressions section and the Overview's alert box on a ledger with one injected cache
regression (AppTest): the table shows what finance/regressions.py finds, the chart marks the start, the SQL
behind it is shown, and the Overview counts the regression as an open alert."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest
import summary_tables
import vega_spec as vega
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.components.formatting import usd
from finance import jobs, regressions
from tests.regression_data import Series, build
from warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[2]
START = dt.date(2026, 8, 1)
N_DAYS = 75
DROP_DAY = START + dt.timedelta(days=60)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> tuple[Path, pl.DataFrame, list[dict]]:
    tmp = tmp_path_factory.mktemp("regression_pages")
    with Warehouse(tmp / "ledger.duckdb") as wh:
        build(wh, tmp, [
            Series("search", "model-a", "key-1", requests=1500, prompt=4000, share=0.88, output=300,
                   injected={"cache": (60, 0.31)}),
            Series("support", "model-b", "key-2", requests=800, prompt=2000, share=0.7, output=200),
        ], START, N_DAYS)
        found = regressions.detect(wh, start=START + dt.timedelta(days=30))
        alerts = jobs.alerts(wh)
    return tmp / "ledger.duckdb", found, alerts


def _run(monkeypatch, db: Path, script: str, **state) -> AppTest:
    monkeypatch.setenv("MODELMIX_DB", str(db))
    try:
        at = AppTest.from_file(str(ROOT / "dashboard" / script), default_timeout=120)
        for k, v in state.items():
            at.session_state[k] = v
        return at.run()
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()


def test_regressions_section_shows_the_cache_drop(monkeypatch, ledger):
    db, found, _ = ledger
    assert found.height == 1 and found["kind"][0] == "cache" and found["start"][0] == DROP_DAY
    # a new tab builds the flagged days' tab alone: the regressions' table and chart wait for their tab
    first = _run(monkeypatch, db, "views/anomalies.py",
                 modelmix_date_range=(START + dt.timedelta(days=30), START + dt.timedelta(days=N_DAYS - 1)))
    assert not first.exception
    assert not [t for t in summary_tables.tables(first) if "message" in t.columns]
    assert not [c for c in vega.charts(first) if "Flag line" in vega.series(c)]
    at = _run(monkeypatch, db, "views/anomalies.py",
              modelmix_date_range=(START + dt.timedelta(days=30), START + dt.timedelta(days=N_DAYS - 1)),
              anomalies_tab="Regressions")
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Flagged days", "Regressions"]
    table = next(t for t in summary_tables.tables(at) if "message" in t.columns)     # as the reader sees it
    row = table.row(0, named=True)
    assert row["message"] == found["message"][0]
    # 0.88 -> 0.31 injected, with 3 points of daily noise
    assert re.fullmatch(r"cache hit rate fell from 8\d% to 3\d% on 30 Sep 2026 for team search on model model-a "
                        r"\(acme\), key key-1: \+\$[\d.,]+ since", row["message"]), row["message"]
    assert row["excess_usd"] == usd(found["excess_usd"][0])
    chart = vega.charts(at)[-1]
    assert set(vega.series(chart)) >= {"Baseline (28-day median)", "Flag line"}
    assert any(r.get("text", "").startswith("started 30 Sep") for u in vega.layers(chart) for r in u["rows"])
    assert "-- finance_regression_daily:" in "\n".join(c.value for c in at.code)


def test_overview_counts_the_regression(monkeypatch, ledger):
    db, _, alerts = ledger
    assert [a["kind"] for a in alerts] == ["regression"]
    at = _run(monkeypatch, db, "app.py")
    assert not at.exception
    text = next(m.value for m in at.markdown if "open alert" in m.value)
    assert "**1 open alert**" in text and "1 regression" in text
    links = {p.proto.label for p in at.get("page_link")}
    assert "Anomalies (1)" in links
