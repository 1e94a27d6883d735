"""The background warm-up (dashboard/services/warmup.py): after it ran, the first render of What-if, Outlook and
Budgets replays nothing; a change of data warms them again; a failing job never reaches a page."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.services import warmup
from simulate import frontier, replay, team_costs
from test_dashboard_upload import ROWS, canonical_csv

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
WARMED = ("views/whatif.py", "views/outlook.py", "views/budgets.py")


@pytest.fixture
def ledger(sample_db, tmp_path, monkeypatch):
    db = tmp_path / "ledger.duckdb"
    shutil.copy(sample_db, db)
    monkeypatch.setenv("MODELMIX_DB", str(db))
    monkeypatch.setenv("MODELMIX_WARM_UP", "true")
    yield db
    st.cache_data.clear()
    st.cache_resource.clear()


def computed() -> tuple[int, int, int]:
    return replay.RUNS.computed, frontier.PREPARED.computed, team_costs.TOTALS.computed


def warmed(db: Path) -> warmup.Warmer:
    w = warmup.running(db)
    assert w is not None, "the dashboard's ledger has no warmer"
    assert w.idle.wait(120), "the warm-up did not finish"
    return w


@pytest.mark.slow
def test_first_renders_after_the_warm_up_replay_nothing(ledger, tmp_path):
    at = AppTest.from_file(APP, default_timeout=120).run()          # opens the ledger: the warm-up starts
    w = warmed(ledger)
    assert [p for p, _ in w.last_run] == ["What-if", "Outlook", "Budgets & forecast"]
    before = computed()
    for page in WARMED:
        st.cache_data.clear()                                         # a first render: no page-level cache
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
    assert computed() == before, "a page replayed what the warm-up had computed"

    # new data: the warm-up runs again on it, and the pages still replay nothing themselves
    from dashboard import state

    from ingest import ingest_paths

    path = tmp_path / "new.csv"
    path.write_bytes(canonical_csv(*ROWS))

    [r] = ingest_paths(state.owner(), [path])
    assert r.status == "loaded", r.error
    warmed(ledger)
    after_write = computed()
    assert after_write > before
    for page in WARMED:
        st.cache_data.clear()
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
    assert computed() == after_write


def test_a_failing_warm_up_job_is_logged_not_raised(sample_db, tmp_path, caplog):
    from warehouse import Warehouse

    db = tmp_path / "l.duckdb"
    shutil.copy(sample_db, db)

    def broken(wh):
        def boom():
            raise RuntimeError("no replay today")
        return [("What-if", boom)]

    with Warehouse(db) as wh:
        w = warmup.Warmer(wh, jobs=broken)
        assert w.idle.wait(30)
        assert w.last_run == [] and "no replay today" in caplog.text
    assert warmup.running(db) is None                                 # closing the ledger stopped it
