"""The Upload & data page and its service with real files: staging, detection and preview before loading,
loading (through the uploader widget in AppTest and through the service), rejected rows, history and removal,
and the coverage grid."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import zipfile
from pathlib import Path

import polars as pl
import pytest
import vega_spec as vega
import streamlit as st
from streamlit.testing.v1 import AppTest

import summary_tables
from dashboard.services import upload as svc
from ledger_factory import build_ledger, write_usage_csv
from test_dashboard_overview import APP
from warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[2]
PAGE = "views/upload.py"
HEADER = "ts,provider,model,team,requests,input_tokens,output_tokens,cost_usd"
ROWS = [
    "2025-09-01T00:00:00,openai,gpt-4o-mini,=cmd|calc,10,1000,200,0.5",
    "2025-09-02T00:00:00,openai,gpt-4o-mini,ops,20,2000,400,1.25",
    "2025-09-03T00:00:00,anthropic,claude-3-5-haiku,ops,5,500,100,0.75",
]
BAD_ROW = "2025-09-04T00:00:00,openai,gpt-4o-mini,ops,1,12x,5,0.1"


def canonical_csv(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


# --- staging and inspection -------------------------------------------------------------------------------
class Chunked(io.BytesIO):
    """Records the largest read, to prove the copy streams."""
    largest = 0

    def read(self, n=-1):
        Chunked.largest = max(Chunked.largest, n if n is not None and n >= 0 else len(self.getvalue()))
        return super().read(n)


def test_stage_streams_to_a_server_chosen_name(tmp_path):
    data = b"x" * (svc.CHUNK_BYTES * 2 + 10)
    path = svc.stage(Chunked(data), "../../etc/passwd.csv.gz", tmp_path / "in")
    assert path.parent == tmp_path / "in" and path.name.endswith(".csv.gz") and ".." not in path.name
    assert path.read_bytes() == data
    assert 0 < Chunked.largest <= svc.CHUNK_BYTES
    assert svc.safe_suffix("report.exe") == "" and svc.safe_suffix("a/b\\c.JSONL") == ".jsonl"


def test_inspect_detects_and_previews_before_loading(tmp_path):
    csv_path = tmp_path / "u.csv"
    csv_path.write_bytes(canonical_csv(*ROWS))
    [ins] = svc.inspect(csv_path, "usage.csv")
    assert ins.ready and ins.format_id == "canonical" and ins.kind == "telemetry" and ins.container == "csv"
    assert ins.preview.columns == HEADER.split(",")
    assert ins.preview.height == 3 and ins.preview["team"][0] == "=cmd|calc"

    gz = tmp_path / "u.bin"                    # compression from the bytes, not the name
    gz.write_bytes(gzip.compress(canonical_csv(*ROWS * 5)))
    [ins] = svc.inspect(gz, "usage.csv.gz")
    assert ins.format_id == "canonical" and ins.preview.height == svc.PREVIEW_ROWS

    archive = tmp_path / "u.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.csv", canonical_csv(*ROWS))
        z.write(ROOT / "sample_data" / "bedrock_invocation_logs_2026-06-01_2026-06-07.jsonl", "logs.jsonl")
    found = {i.name: i for i in svc.inspect(archive, "exports.zip")}
    assert set(found) == {"exports.zip/a.csv", "exports.zip/logs.jsonl"}
    assert found["exports.zip/logs.jsonl"].format_id == "bedrock-invocation-logs"
    assert found["exports.zip/logs.jsonl"].preview.height == svc.PREVIEW_ROWS

    [ins] = svc.inspect(ROOT / "sample_data" / "openai_costs_api_2026-04.json", "costs.json")
    assert ins.format_id == "openai-costs-api" and ins.preview is None and ins.preview_text.startswith("{")


def test_otel_spans_upload_detected_and_loaded(tmp_path):
    """Issue 16 part 4 in the dashboard: an OTLP JSON file of GenAI spans dropped on the Upload page is detected
    as `otel-genai-spans` (telemetry), previewed, and loads through the page's service as the CLI loads it (the
    hand-checked fixture of tests/ingest/test_formats_otel.py: 6 model calls, the retried span a duplicate)."""
    spans = ROOT / "tests" / "data" / "otel" / "otel_genai_spans_2026-11-14.jsonl"
    [ins] = svc.inspect(spans, "spans.jsonl")
    assert (ins.ready, ins.format_id, ins.kind, ins.container) == (True, "otel-genai-spans", "telemetry", "json")
    assert ins.preview is not None and ins.preview.height == 4          # one export request per line
    with Warehouse(tmp_path / "l.duckdb") as wh:
        [r] = svc.load(wh, spans, "spans.jsonl")
        assert (r.format, r.status, r.rows_loaded, r.rows_duplicate, r.rows_rejected) == (
            "otel-genai-spans", "loaded", 6, 1, 0)
        assert wh.scalar("select count(*) from usage where source_format = 'otel-genai-spans'") == 6


def test_format_override_and_unknown_files(tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes(canonical_csv(*ROWS))
    [ins] = svc.inspect(path, "u.csv", format_id="litellm-spend-logs")
    assert ins.format_id == "litellm-spend-logs" and ins.detected_id == "canonical"
    assert ins.missing and not ins.ready
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    [ins] = svc.inspect(other, "other.csv")
    assert ins.format_id is None and "not recognised" in ins.error and "2 column names, none that" in ins.error
    assert ins.preview is None        # an unrecognised file is described, never shown (docs/reliability.md)
    [ins] = svc.inspect(other, "other.csv", format_id="canonical")     # until a format is picked for it
    assert ins.preview.columns == ["a", "b"] and ins.missing


# --- loading, rejects, history, removal --------------------------------------------------------------------
def test_load_rejects_history_and_remove(tmp_path):
    path = tmp_path / "staged.csv"
    path.write_bytes(canonical_csv(*ROWS, BAD_ROW))
    seen = []
    with Warehouse(tmp_path / "l.duckdb") as wh:
        before = wh.data_version
        [r] = svc.load(wh, path, "my usage.csv", on_result=seen.append)
        assert seen == [r] and wh.data_version > before           # caches keyed on it go stale at once
        assert (r.status, r.rows_loaded, r.rows_rejected, r.path) == ("loaded", 3, 1, "my usage.csv")
        rej = svc.rejects(wh.query, r.ingest_id)
        assert rej.select("row_number", "column_name", "value").row(0) == (4, "input_tokens", "12x")
        hist = svc.history(wh.query)
        assert hist.row(0, named=True)["file_name"] == "my usage.csv"
        [again] = svc.load(wh, path, "again.csv")
        assert again.status == "duplicate"
        assert svc.remove(wh, r.ingest_id) == 3
        assert wh.scalar("select count(*) from usage") == 0
        assert svc.history(wh.query).filter(pl.col("ingest_id") == r.ingest_id)["status"][0] == "removed"
        frame = svc.results_frame([r, again])
        assert frame["status"].to_list() == ["loaded", "duplicate"]


# --- coverage ------------------------------------------------------------------------------------------------
def test_coverage_grid_shows_gaps_and_overlaps():
    d = dt.date(2026, 1, 1)
    base = {"source_kind": "billing", "in_replay": True, "requests": 1, "tokens": 10, "billed_usd": 1.0,
            "list_usd": 1.0, "tokens_vs_counted": 0.0, "cost_vs_counted": 0.0}
    cov = pl.DataFrame([
        {**base, "provider": "openai", "day": d, "source_format": "openai-usage-csv", "in_spend": True,
         "sources_that_day": 2},
        {**base, "provider": "openai", "day": d, "source_format": "litellm-spend-logs", "source_kind": "telemetry",
         "in_spend": False, "sources_that_day": 2, "tokens_vs_counted": -0.5, "cost_vs_counted": 0.1},
        {**base, "provider": "openai", "day": d + dt.timedelta(days=3), "source_format": "openai-usage-csv",
         "in_spend": True, "sources_that_day": 1},
    ])
    grid = svc.coverage_grid(cov, d, d + dt.timedelta(days=4))
    state = {(r["source_format"], r["day"].day): r["state"] for r in grid.iter_rows(named=True)}
    assert state[("openai-usage-csv", 1)] == 3          # counted, overlapping
    assert state[("litellm-spend-logs", 1)] == 4        # superseded
    assert state[("openai-usage-csv", 2)] == 0          # a gap between the provider's first and last day
    assert state[("litellm-spend-logs", 4)] == 1        # the other source only
    assert state[("openai-usage-csv", 4)] == 2          # counted alone
    assert state[("openai-usage-csv", 5)] == 1          # after the provider's last day: not a gap
    assert svc.gap_days(grid).row(0) == ("openai", 2)
    detail = grid.filter((pl.col("source_format") == "litellm-spend-logs") & (pl.col("state") == 4))["detail"][0]
    assert "tokens -50.0%" in detail and "cost +10.0%" in detail
    assert svc.overlaps(cov).height == 2


# --- the page ------------------------------------------------------------------------------------------------
@pytest.fixture
def upload_app(monkeypatch):
    def open_page(db, grid: bool = True) -> AppTest:
        """The page through the router; `grid`: the tables in the data grid ("Sort in a table" on), whose exact
        values these tests read (test_history_opens_as_a_light_table reads the light tables a new tab shows)."""
        monkeypatch.setenv("MODELMIX_DB", str(db))
        at = AppTest.from_file(APP, default_timeout=90)
        at.session_state["show_sql"] = True     # the sidebar's Show SQL toggle
        at.session_state["upload_history_grid"] = at.session_state["explore_grid"] = grid
        at.run()
        assert not at.exception
        at.switch_page(PAGE).run()
        assert not at.exception
        return at

    yield open_page
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.mark.slow
def test_upload_preview_load_and_see_it_elsewhere(tmp_path, upload_app):
    db = build_ledger(tmp_path / "l.duckdb", [write_usage_csv(tmp_path / "usage.csv")])
    at = upload_app(db)
    assert at.title[0].value == "Upload & data"
    assert any("Nothing waiting" in c.value for c in at.caption)
    history_rows = len(at.dataframe[0].value)
    at.file_uploader[0].set_value([("sept.csv", canonical_csv(*ROWS, BAD_ROW), "text/csv"),
                                   ("usage.csv", (tmp_path / "usage.csv").read_bytes(), "text/csv")]).run()
    assert not at.exception
    # before loading: each file's detected format and first rows
    assert [e.label.split(" — ")[0] for e in at.expander[:2]] == ["sept.csv", "usage.csv"]
    assert any("Format detected: **`canonical`**" in m.value for m in at.markdown)
    preview = at.dataframe[0].value
    assert list(preview.columns) == HEADER.split(",") and len(preview) == 4
    assert at.button(key="upload_load").label == "Load 2 files"

    at.button(key="upload_load").click().run()
    assert not at.exception
    # one verdict per file, with where its money went
    assert at.warning[0].value.startswith("**sept.csv** — loaded 3 rows, 1 row rejected.")
    assert "file $2.60 → loaded $2.50 + rejected $0.10" in at.warning[0].value
    assert at.info[0].value.startswith("**usage.csv** — nothing new: already in the ledger.")
    rejects = at.dataframe[0].value
    assert rejects.iloc[0]["column_name"] == "input_tokens" and rejects.iloc[0]["value"] == "12x"
    assert any(b.label == "Download rejected rows (CSV)" for b in at.get("download_button"))
    results = at.dataframe[1].value
    assert results["file"].to_list() == ["sept.csv", "usage.csv"]
    assert results["status"].to_list() == ["loaded", "duplicate"]
    assert results["rows_loaded"].to_list()[0] == 3 and results["rows_rejected"].to_list()[0] == 1
    assert len(at.dataframe[2].value) == history_rows + 2          # history: both uploads, newest first
    assert at.dataframe[2].value.iloc[0]["file_name"] == "usage.csv"
    # the uploader was replaced by a fresh one, so nothing waits any more
    assert not at.expander[0].label.startswith("sept.csv")

    # other pages read the new data: Explore shows the new team (its cell neutralised only in exports)
    at.session_state["explore_by"] = "team"
    at.switch_page("views/explore.py").run()
    assert not at.exception
    teams = dict(zip(at.dataframe[0].value["group_value"], at.dataframe[0].value["spend_usd"]))
    assert teams["ops"] == pytest.approx(1.25 + 0.75)


@pytest.mark.slow
def test_remove_an_upload_after_confirming(tmp_path, upload_app):
    db = build_ledger(tmp_path / "l.duckdb", [write_usage_csv(tmp_path / "usage.csv")])
    with Warehouse(db) as wh:
        rows = wh.scalar("select count(*) from usage")
    at = upload_app(db)
    at.selectbox(key="upload_pick").set_value(1).run()
    at.button(key="upload_remove").click().run()
    assert not at.exception
    assert f"Remove the {rows:,} rows" in at.warning[0].value
    at.button(key="upload_remove_cancel").click().run()
    assert not at.warning and at.dataframe[0].value.iloc[0]["status"] == "loaded"
    at.button(key="upload_remove").click().run()
    at.button(key="upload_remove_confirm").click().run()
    assert not at.exception
    assert at.dataframe[0].value.iloc[0]["status"] == "removed"
    assert any("rows were removed already" in c.value for c in at.caption)
    st.cache_resource.clear()
    with Warehouse(db) as wh:
        assert wh.scalar("select count(*) from usage") == 0


@pytest.mark.slow
def test_coverage_chart_on_the_sample_ledger(sample_db, upload_app):
    at = upload_app(sample_db)
    assert any(s.value == "Coverage by provider and source" for s in at.subheader)
    [chart] = vega.charts(at)
    assert [vega.mark(u) for u in vega.layers(chart)] == ["rect"]           # the day x source grid
    assert set(vega.series(chart, "what")) <= set(vega.colour_scale(chart))  # every cell's state in the legend
    shown = "\n".join(c.value for c in at.code)
    assert "-- coverage_by_provider_day:" in shown and "-- ingest_history:" in shown


def test_empty_ledger_says_what_to_do(tmp_path, upload_app):
    Warehouse(tmp_path / "empty.duckdb").close()
    at = upload_app(tmp_path / "empty.duckdb")
    info = " ".join(i.value for i in at.info)
    assert "No file has been loaded" in info and "Coverage appears once usage is loaded" in info


def test_ingest_history_fits_the_page_and_details_keep_the_rest(tmp_path, upload_app):
    """The history lists what ties a file to the ledger in columns that fit the page at 1400 px (their fixed
    widths add up to under the 940 px the page has in a 1400 px window; it used to scroll its last columns off,
    and at 336 px for the file name cut "1 Oct – 27 Nov 2026" in a 1400 px window); the full
    path, format, load time and every row count are in the upload's details."""
    from dashboard.views.upload import HISTORY_COLUMNS

    db = build_ledger(tmp_path / "l.duckdb", [write_usage_csv(tmp_path / "usage.csv")])
    at = upload_app(db)
    history = at.dataframe[0]
    assert list(history.proto.column_order) == list(HISTORY_COLUMNS)
    assert sum(c["width"] for c in HISTORY_COLUMNS.values()) <= 940
    assert HISTORY_COLUMNS["usage"]["width"] >= 160     # "1 Oct – 27 Nov 2026" whole
    assert history.value.iloc[0]["usage"] == "1 May – 17 Sep 2025"   # as the pages write a span of days
    at.selectbox(key="upload_pick").set_value(int(history.value.iloc[0]["ingest_id"])).run()
    [facts] = [c.value for c in at.caption if "· format **" in c.value]
    assert "usage.csv" in facts and "rows: " in facts and "already in the ledger" in facts and "UTC" in facts


def test_history_opens_as_a_light_table(tmp_path, upload_app):
    """A new tab or a menu switch of Upload & data draws no data grid: the ingest history (and the coverage's
    overlaps) are light tables with a Download CSV; "Sort in a table" shows the history in the grid."""
    db = build_ledger(tmp_path / "l.duckdb", [write_usage_csv(tmp_path / "usage.csv")])
    at = upload_app(db, grid=False)
    assert not at.dataframe
    [history] = [t for t in summary_tables.tables(at) if "file_base" in t.columns]
    assert history["file_base"].to_list() == ["usage.csv"] and history["usage"][0] == "1 May – 17 Sep 2025"
    assert history["file_cost_usd"][0].startswith("$"), history["file_cost_usd"][0]     # DECIMAL money as dollars
    assert "Download CSV" in [b.label for b in at.get("download_button")]
    at.toggle(key="upload_history_grid").set_value(True).run()
    assert not at.exception
    assert at.dataframe[0].value["file_base"].to_list() == ["usage.csv"]
