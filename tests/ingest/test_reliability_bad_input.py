"""Every file of the hostile corpus (tests/bad_corpus.py, tests/data/bad/) through the upload service the page
uses (stage -> inspect -> load, one file at a time with the ledger compared before and after), through the
Upload page itself (AppTest, the uploader driven), and through `modelmix ingest --json` in a real subprocess.
The process survives every file; a rejected file leaves the ledger exactly as it was; the message names the
file, the row and column where it applies, and what to do; hostile names are stored verbatim, never run as SQL,
and neutralised in the Explore page's CSV/Excel exports."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import polars as pl
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from bad_corpus import BAD, DO, EXPECT, GENERATED, HOSTILE_NAMES, TEST_UNZIPPED_LIMIT, committed, corpus_paths
from dashboard.components import exports
from dashboard.services import upload as svc
from test_dashboard_overview import APP
from warehouse import Warehouse
from warehouse.errors import IngestError

NAMES = sorted(EXPECT)
ESCAPED = Path("/tmp/modelmix-escaped.csv")


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    return corpus_paths(tmp_path_factory.mktemp("generated"))


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """An empty, migrated ledger, copied for each case (opening a new one builds the price catalog)."""
    path = tmp_path_factory.mktemp("template") / "empty.duckdb"
    Warehouse(path).close()
    return path


def state(wh: Warehouse) -> tuple:
    """Everything a rejected file must not change."""
    return (wh.scalar("select count(*) from usage_raw"), wh.scalar("select count(*) from ingest_rejects"),
            wh.sql("select * exclude (loaded_at) from ingest_log order by ingest_id").rows(),
            wh.sql("select table_name from duckdb_tables() where not temporary order by 1").rows())


def test_the_corpus_is_complete_and_committed():
    on_disk = {p.name for p in BAD.iterdir()}
    assert on_disk == set(committed()), "regenerate with `python tests/bad_corpus.py` and review the diff"
    for name, data in committed().items():
        assert (BAD / name).read_bytes() == data, name
    assert set(EXPECT) == on_disk | set(GENERATED)
    assert len(EXPECT) >= 30
    assert (BAD / "gzip_bomb.csv.gz").stat().st_size < 400_000     # small on disk, ~100 MB expanded


def check_message(name: str, message: str | None) -> None:
    exp = EXPECT[name]
    assert message, f"{name}: no message"
    assert name in message, f"{name}: the message does not name the file: {message}"
    low = message.lower()
    for fragment in exp.says:
        assert fragment.lower() in low, f"{name}: {fragment!r} not in {message!r}"
    assert any(d in low for d in DO), f"{name}: the message does not say what to do: {message}"
    assert "traceback" not in low and "\n" not in message


def check_result(name: str, results: list) -> None:
    """`results`: FileResults (service) or --json dicts (CLI) for one corpus file."""
    exp = EXPECT[name]
    get = (lambda r, k: r[k]) if isinstance(results[0], dict) else getattr
    statuses = [get(r, "status") for r in results]
    if exp.outcome == "rejected":
        assert set(statuses) == {"rejected"}, (name, results)
        for r in results:
            check_message(name, get(r, "error"))
        return
    assert set(statuses) == {"loaded"}, (name, results)
    if exp.outcome == "nothing":
        assert all(get(r, "rows_loaded") + get(r, "rows_rejected") == 0 for r in results), (name, results)
        for r in results:
            message = get(r, "error")
            assert message and name in message and "\n" not in message, (name, message)
            assert all(f.lower() in message.lower() for f in exp.says), (name, message)
        return
    # a shared ledger may hold some rows already: they count as already loaded, never twice
    assert sum(get(r, "rows_loaded") + get(r, "rows_duplicate") for r in results) == exp.rows, (name, results)
    assert sum(get(r, "rows_warned") or 0 for r in results) == len(exp.warned), (name, results)
    rejected = sum(get(r, "rows_rejected") for r in results)
    if exp.outcome == "loaded":
        assert rejected == 0 and all(get(r, "error") is None for r in results), (name, results)
        return
    else:
        assert rejected == len(exp.where), (name, results)
        [r] = results
        message = get(r, "error")
        check_message(name, message)
        for row, column in exp.where:
            assert f"row {row}, column {column}:" in message, (name, row, column, message)


# --- the upload service, file by file ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def service_ledger(tmp_path_factory, template):
    db = tmp_path_factory.mktemp("svc") / "l.duckdb"
    shutil.copy(template, db)
    with Warehouse(db) as wh:
        yield wh


@pytest.mark.parametrize("name", NAMES)
def test_upload_service(name, files, service_ledger, tmp_path):
    wh = service_ledger
    ESCAPED.unlink(missing_ok=True)
    with open(files[name], "rb") as upload:                     # the page hands over Streamlit's file object
        staged = svc.stage(upload, name, tmp_path / "staging")
    inspections = svc.inspect(staged, name, max_unzipped_bytes=TEST_UNZIPPED_LIMIT)
    assert inspections and all(i.name.startswith(name) for i in inspections)
    if EXPECT[name].outcome != "rejected":
        assert all(i.ready for i in inspections), inspections
    before = state(wh)
    results = svc.load(wh, staged, name, max_unzipped_bytes=TEST_UNZIPPED_LIMIT)
    check_result(name, results)
    after = state(wh)
    if EXPECT[name].outcome in ("rejected", "nothing"):
        assert after == before, f"{name} changed the ledger"
    else:
        # a corpus file of the same day and scope as an earlier one is a later statement: it replaces those rows
        assert after[0] == before[0] + sum(r.rows_loaded - r.rows_replaced for r in results)
        for row, column in EXPECT[name].warned:
            assert wh.scalar("select count(*) from ingest_warnings where ingest_id = $i and row_number = $r "
                             "and column_name = $c", i=results[0].ingest_id, r=row, c=column) == 1
        new_logs = after[2][len(before[2]):]
        assert [log[1] for log in new_logs] == [r.path for r in results]
    assert wh.scalar("select count(*) from usage where true") is not None      # the table still answers
    assert not ESCAPED.exists() and not Path("/etc/modelmix-absolute.csv").exists()


def test_hostile_names_are_stored_verbatim_and_neutralised_on_export(files, template, tmp_path):
    db = tmp_path / "l.duckdb"
    shutil.copy(template, db)
    with Warehouse(db) as wh:
        [r] = svc.load(wh, files["names_quotes_semicolons_injection_formulas.csv"], "names.csv")
        assert r.status == "loaded"
        # nothing ran as SQL: the table is there, and the injection text is a value like any other
        assert wh.scalar("select count(*) from duckdb_tables() where table_name = 'usage_raw'") == 1
        models = set(wh.sql("select distinct model_raw from usage")["model_raw"])
        projects = set(wh.sql("select distinct project from usage where project is not null")["project"])
        assert set(HOSTILE_NAMES["model"]) <= models
        assert set(HOSTILE_NAMES["project"]) <= projects           # byte for byte, newline and tab included
        assert wh.scalar("select count(*) from usage where project = $p", p="'; drop table usage; --") == 1
        rows = wh.sql("select model_raw as model, project, input_tokens, cost_usd from usage order by ts")
    rows = rows.with_columns(pl.lit(-5).alias("delta"))        # a negative number stays a number
    text = exports.to_csv(rows).decode()
    cells = [c for line in csv.reader(io.StringIO(text)) for c in line]
    for value in [*HOSTILE_NAMES["model"], *HOSTILE_NAMES["project"]]:
        v = value.strip()
        if v[:1] in "=+-@":
            assert "'" + v in cells and v not in cells, v
    assert "-5" in cells                                       # numbers untouched
    book = zipfile.ZipFile(io.BytesIO(exports.to_xlsx(rows)))
    sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet           # no cell is a formula
    shared = book.read("xl/sharedStrings.xml").decode()
    assert "&apos;=HYPERLINK" in shared or "'=HYPERLINK" in shared


def test_nested_json_forced_to_a_json_format_is_refused_cleanly(files, template, tmp_path):
    """Detection refuses it first; forced to a JSON format, DuckDB's depth limit refuses it, with the file named."""
    db = tmp_path / "l.duckdb"
    shutil.copy(template, db)
    with Warehouse(db) as wh:
        before = state(wh)
        for name in ("json_nested_10000_deep.json", "json_nested_10000_deep_array.json"):
            [r] = svc.load(wh, files[name], name, "bedrock-invocation-logs")
            assert r.status == "rejected" and r.error.startswith(name), r
        assert state(wh) == before


def test_upload_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("MODELMIX_MAX_UPLOAD_BYTES", "1000")
    with pytest.raises(IngestError) as e:
        svc.stage(io.BytesIO(b"x" * 1001), "big.csv", tmp_path / "in")
    assert "big.csv" in e.value.message and "MODELMIX_MAX_UPLOAD_BYTES" in e.value.message
    assert list((tmp_path / "in").iterdir()) == []             # the partial copy is gone
    assert svc.stage(io.BytesIO(b"x" * 1000), "ok.csv", tmp_path / "in").stat().st_size == 1000


# --- the Upload page, its uploader driven ------------------------------------------------------------------
@pytest.mark.slow
def test_upload_page_takes_the_whole_corpus(files, template, tmp_path, monkeypatch):
    db = tmp_path / "page.duckdb"
    shutil.copy(template, db)
    monkeypatch.setenv("MODELMIX_DB", str(db))
    monkeypatch.setenv("MODELMIX_MAX_UNZIPPED_BYTES", str(TEST_UNZIPPED_LIMIT))
    small = [n for n in NAMES if files[n].stat().st_size < 5_000_000]
    try:
        at = AppTest.from_file(APP, default_timeout=120).run()
        at.switch_page("views/upload.py").run()
        assert not at.exception
        at.file_uploader[0].set_value([(n, files[n].read_bytes(), "application/octet-stream") for n in small]).run()
        assert not at.exception
        # files that cannot load as they stand are named before loading and left out of it
        held_back = " ".join(w.value for w in at.warning if w.value.startswith("Not loadable"))
        at.button(key="upload_load").click().run()
        assert not at.exception
        shown = next(d.value for d in at.dataframe if "verdict" in d.value.columns)
        for name in small:
            mine = shown[shown["file"].str.startswith(name)]
            if not len(mine):
                assert EXPECT[name].outcome == "rejected" and name in held_back, name
                continue
            check_result(name, [{k: (None if v != v else v) for k, v in row.items()}
                                for row in mine.to_dict("records")])
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()
    with Warehouse(db) as wh:          # every row the page reports loaded is there once; rejected files left nothing
        # (less what later files of the same day and scope replaced)
        assert wh.scalar("select count(*) from usage_raw") == int(shown["rows_loaded"].sum()
                                                                  - shown["rows_replaced"].sum())
        logged = set(wh.sql("select file_name from ingest_log")["file_name"])
    assert not {n for n in small if EXPECT[n].outcome == "rejected"} & logged


# --- the command line, a real process ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_run(files, template, tmp_path_factory):
    """One `modelmix ingest --json` process over the whole corpus, each file in its own transaction."""
    db = tmp_path_factory.mktemp("cli") / "l.duckdb"
    shutil.copy(template, db)
    ESCAPED.unlink(missing_ok=True)
    p = subprocess.run([sys.executable, "-m", "modelmix", "ingest", *map(str, files.values()), "--json", "--db", str(db)],
                       capture_output=True, text=True, timeout=300,
                       env={**os.environ, "MODELMIX_MAX_UNZIPPED_BYTES": str(TEST_UNZIPPED_LIMIT)})
    with Warehouse(db) as wh:
        logs = wh.sql("select ingest_id, file_name, status from ingest_log")
        per_ingest = dict(wh.sql("select ingest_id, count(*) from usage_raw group by 1").rows())
        # rows a later file of the same day and scope replaced (statements: docs/design.md)
        for ingest_id, n in wh.sql("select replaced_ingest_id, sum(rows) from ingest_replacements group by 1").rows():
            per_ingest[ingest_id] = per_ingest.get(ingest_id, 0) + int(n)
        tables = {t for (t,) in wh.sql("select table_name from duckdb_tables()").rows()}
    return p, files, logs, per_ingest, tables


@pytest.mark.slow
def test_cli_survives_the_corpus(cli_run):
    p, files, _, _, tables = cli_run
    assert p.returncode == 1, p.stderr                 # files were rejected: exit 1, not a crash
    assert "Traceback" not in p.stderr and "usage_raw" in tables
    assert not ESCAPED.exists()


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_cli(name, cli_run):
    p, files, logs, per_ingest, _ = cli_run
    path = str(files[name])
    mine = [f for f in json.loads(p.stdout)["files"] if f["path"] == path or f["path"].startswith(path + "/")]
    assert mine, name
    check_result(name, [{**f, "error": f["error"] and f["error"].replace(str(files[name].parent) + "/", "")}
                        for f in mine])
    logged = logs.filter(pl.col("file_name").str.starts_with(path))
    if EXPECT[name].outcome in ("rejected", "nothing"):
        assert logged.is_empty(), f"{name} left an ingest_log row"
    else:
        assert sum(per_ingest.get(i, 0) for i in logged["ingest_id"]) == sum(f["rows_loaded"] for f in mine)


@pytest.mark.slow
def test_cli_text_mode_is_one_line_per_file(files, template, tmp_path):
    db = tmp_path / "l.duckdb"
    shutil.copy(template, db)
    names = ["empty.csv", "gzip_bomb.csv.gz", "negative_tokens.csv"]
    p = subprocess.run([sys.executable, "-m", "modelmix", "ingest", *(str(files[n]) for n in names), "--db", str(db)],
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "MODELMIX_MAX_UNZIPPED_BYTES": str(TEST_UNZIPPED_LIMIT)})
    assert p.returncode == 1 and "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert [re.split(r"\s+", ln)[0] for ln in lines if not ln.startswith(" ")] == ["REJECTED", "REJECTED", "loaded"]
    # the loaded file: where its money went, and its row kept with a warning
    assert len(lines) == 5
    assert "file $0.10 → loaded $0.10" in p.stderr and "1 row(s) loaded with a warning" in p.stderr
