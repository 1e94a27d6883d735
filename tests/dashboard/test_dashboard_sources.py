"""The Sources page and its service: configured jobs (credential variable names, never values), pull state from
the ledger, "Run now" with a missing key naming the variable, coverage per pulled source, and the empty state."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
import vega_spec as vega
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.components import sources_charts
from dashboard.services import sources as svc
from ingest import ingest_paths
from ledger_factory import write_usage_csv
from test_dashboard_overview import APP
from warehouse import Warehouse

PAGE = "views/sources.py"
KEY_VAR = "MODELMIX_TEST_SOURCES_OPENAI_KEY"      # never set: the "Run now" test needs it missing
SECRET = "sk-admin-never-shown-1234"
JOBS = f"""\
jobs:
  - name: openai-prod
    kind: openai
    key_env: {KEY_VAR}
    schedule: daily 06:00
  - name: litellm
    kind: sql
    url_env: LITELLM_DATABASE_URL
    preset: litellm
    schedule: 1h
"""


def _pull_state(cur, rows: list[dict]) -> None:
    for r in rows:
        cur.execute("insert into pull_state (source, stream, kind, loaded_until, last_run_at, last_ok_at, "
                    "last_status, last_error, last_pages, last_rows_loaded, last_rows_duplicate, rows_loaded_total) "
                    "values ($source, $stream, $kind, $loaded_until, $run, $ok, $status, $error, 1, $loaded, 0, "
                    "$total)", r)


STATE = [
    {"source": "openai-prod", "stream": "usage/completions", "kind": "openai", "loaded_until": dt.datetime(2025, 9, 17),
     "run": dt.datetime(2025, 9, 18, 6, 0), "ok": dt.datetime(2025, 9, 18, 6, 1), "status": "ok", "error": None,
     "loaded": 120, "total": 4_321},
    {"source": "openai-prod", "stream": "costs", "kind": "openai", "loaded_until": None,
     "run": dt.datetime(2025, 9, 18, 6, 0), "ok": None, "status": "failed",
     "error": "Credentials refused: the OpenAI API refused the key in OPENAI_ADMIN_KEY (HTTP 401)",
     "loaded": 0, "total": 0},
]


@pytest.fixture
def ledger(tmp_path):
    """A ledger whose rows were 'pulled' by openai-prod (ingest_log names them as a pull does), with pull state."""
    db = tmp_path / "ledger.duckdb"
    usage = write_usage_csv(tmp_path / "usage.csv")
    with Warehouse(db) as wh:
        [r] = ingest_paths(wh, [usage], display_names={
            str(usage): "pull:openai-prod/usage/completions 2025-05-01..2025-09-17 page 1"})
        assert r.status == "loaded"
        wh.write(_pull_state, STATE)
    return db


@pytest.fixture
def sources_app(monkeypatch, tmp_path):
    monkeypatch.delenv(KEY_VAR, raising=False)
    monkeypatch.setenv("LITELLM_DATABASE_URL", SECRET)   # a value in the environment is never shown

    def open_page(db, jobs: str | None = JOBS) -> AppTest:
        path = tmp_path / "jobs.yaml"
        if jobs is not None:
            path.write_text(jobs, encoding="utf-8")
        monkeypatch.setenv("MODELMIX_DB", str(db))
        monkeypatch.setenv("MODELMIX_JOBS_FILE", str(path))
        at = AppTest.from_file(APP, default_timeout=90)
        at.session_state["show_sql"] = True     # the sidebar's Show SQL toggle
        at.run()
        assert not at.exception
        at.switch_page(PAGE).run()
        assert not at.exception
        return at

    yield open_page
    st.cache_data.clear()
    st.cache_resource.clear()


def _everything(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "error", "info", "success", "code") for e in at.get(kind)]
    parts += [at.dataframe[i].value.to_csv() for i in range(len(at.dataframe))]
    return "\n".join(str(p) for p in parts)


# --- services ------------------------------------------------------------------------------------------------
def test_summary_joins_jobs_and_state(tmp_path):
    path = tmp_path / "jobs.yaml"
    path.write_text(JOBS, encoding="utf-8")
    jobs = svc.configured(path)
    assert jobs["credential_env"].to_list() == [KEY_VAR, "LITELLM_DATABASE_URL"]
    status = pl.DataFrame(STATE).rename({"run": "last_run_at", "ok": "last_ok_at", "status": "last_status",
                                         "error": "last_error", "loaded": "last_rows_loaded",
                                         "total": "rows_loaded_total"})
    status = pl.concat([status, status.head(1).with_columns(source=pl.lit("openrouter"), kind=pl.lit("openrouter"))])
    out = svc.summary(jobs, status)
    assert out["source"].to_list() == ["litellm", "openai-prod", "openrouter"]
    prod = out.row(1, named=True)
    assert prod["status"] == "failed" and prod["rows_total"] == 4_321 and prod["rows_last_run"] == 120
    assert prod["errors"].startswith("Credentials refused") and prod["last_ok_at"] is None
    assert out.row(0, named=True)["status"] == "never run" and out.row(0, named=True)["errors"] is None
    assert out.row(2, named=True)["in_jobs_file"] is False and out.row(2, named=True)["kind"] == "openrouter"
    assert svc.configured(tmp_path / "missing.yaml") is None


def test_run_env_overlays_string_secrets():
    env = svc.run_env({"A": "1", "B": "2"}, {"B": "from-secrets", "section": {"x": "y"}})
    assert env == {"A": "1", "B": "from-secrets"}
    assert svc.run_env({"A": "1"}, None) == {"A": "1"}


def test_coverage_grid_and_chart():
    cov = pl.DataFrame({"source": ["a", "a"], "day": [dt.date(2025, 9, 1), dt.date(2025, 9, 3)],
                        "row_count": [5, 7]})
    grid = svc.coverage_grid(cov, ["a", "b"], dt.date(2025, 9, 1), dt.date(2025, 9, 3))
    assert grid.height == 6
    assert grid.filter(pl.col("source") == "a")["rows"].to_list() == [5, 0, 7]
    assert grid.filter(pl.col("source") == "b")["rows"].to_list() == [0, 0, 0]
    [cells] = vega.layers(vega.spec(sources_charts.coverage_heatmap(grid)))
    assert cells["encoding"]["y"]["sort"] == ["a", "b"]
    level = {(r["source"], r["day"][:10]): (r["level"], r["what"]) for r in cells["rows"]}
    assert level[("a", "2025-09-02")] == (None, "nothing pulled")      # drawn in the empty colour
    assert level[("a", "2025-09-03")] == (pytest.approx(0.903, abs=1e-3), "7 rows")   # log10(7 + 1)


# --- the page ------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_page_shows_jobs_state_errors_and_coverage(ledger, sources_app):
    at = sources_app(ledger)
    assert at.title[0].value == "Sources"
    table = at.dataframe[0].value
    assert table["source"].to_list() == ["litellm", "openai-prod"]
    prod = table[table["source"] == "openai-prod"].iloc[0]
    assert prod["credential_env"] == KEY_VAR and prod["status"] == "failed"
    assert prod["rows_total"] == 4_321 and prod["rows_last_run"] == 120
    assert any("openai-prod" in e.value and "Credentials refused" in e.value for e in at.error)
    assert table[table["source"] == "litellm"].iloc[0]["status"] == "never run"
    assert [b.label for b in at.button] == ["Run now", "Run now"]
    # coverage of the pulled source: a heatmap with a row per source, and the SQL behind it
    assert any(s.value == "Coverage by source and day" for s in at.subheader)
    [chart] = vega.charts(at)
    assert [vega.mark(u) for u in vega.layers(chart)] == ["rect"] and "openai-prod" in vega.series(chart, "source")
    shown = "\n".join(c.value for c in at.code)
    assert "-- pull_coverage_by_day:" in shown and "-- pull_status:" in shown
    assert SECRET not in _everything(at)


@pytest.mark.slow
def test_run_now_with_a_missing_key_names_the_variable(ledger, sources_app):
    at = sources_app(ledger)
    at.button(key="sources_run_openai-prod").click().run()
    assert not at.exception
    [err] = [e.value for e in at.error if e.value.startswith("**Pull not configured**")]
    assert KEY_VAR in err
    # the failure is recorded as pull state and shown in the table after the rerun
    prod = at.dataframe[0].value.set_index("source").loc["openai-prod"]
    assert prod["status"] == "failed" and KEY_VAR in prod["errors"]
    st.cache_resource.clear()
    with Warehouse(ledger) as wh:
        errors = wh.sql("select last_error from pull_state where source = 'openai-prod'")["last_error"].to_list()
    assert errors and all(KEY_VAR in e for e in errors)


def test_invalid_jobs_file_names_the_field(ledger, sources_app):
    at = sources_app(ledger, jobs="jobs:\n  - {name: x, kind: openai, api_key: sk-admin-pasted-here}\n")
    assert any("Invalid configuration" in e.value and "api_key" in e.value for e in at.error)
    assert "sk-admin-pasted-here" not in _everything(at).replace("api_key", "")
    assert at.dataframe[0].value["source"].to_list() == ["openai-prod"]    # what was pulled is still shown


def test_no_jobs_file_shows_how_to_write_one(tmp_path, sources_app):
    Warehouse(tmp_path / "empty.duckdb").close()
    at = sources_app(tmp_path / "empty.duckdb", jobs=None)
    assert "No sources configured" in at.info[0].value and "jobs.yaml" in at.info[0].value
    # the example as plain preformatted text (st.code's highlighter is a 1.5 MB script a new tab waits for)
    assert "kind: openai" in at.html[0].value and "key_env:" in at.html[0].value and not at.code
    assert not at.dataframe and not at.button
