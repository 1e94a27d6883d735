"""Pull jobs under faults (issue 18, item 6): a malformed database URL is one clear line, never a traceback or
the password; a pull killed mid-run is marked failed ('interrupted') at the next open instead of 'running'
forever, its partial pages are in the ledger's staging folder (removed at that open), never in the system temp
directory, and the next run loads every row once. The source is a real SQLite database (SQLAlchemy's own
driver) holding LiteLLM's spend-log table, read with the `litellm` preset."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl
import pytest

from modelmix.runtime import open_owner
from pull import LocalSink
from pull.errors import PullConfigError
from pull.sqlsource import SqlPull, pull_sql
from pull.state import INTERRUPTED
from test_reliability_ops import one_clear_line, run_cli
from warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "litellm_spend_logs_sample.csv"


@pytest.fixture
def litellm_db(tmp_path) -> tuple[str, int]:
    """A SQLite file with LiteLLM's `LiteLLM_SpendLogs` (the sample export's 300 rows, as text)."""
    frame = pl.read_csv(SAMPLE, infer_schema=False)
    path = tmp_path / "litellm.sqlite"
    with sqlite3.connect(path) as con:
        cols = ", ".join(f'"{c}" text' for c in frame.columns)
        con.execute(f'create table "LiteLLM_SpendLogs" ({cols})')
        con.executemany(f'insert into "LiteLLM_SpendLogs" values ({", ".join("?" * frame.width)})', frame.rows())
    return f"sqlite:///{path}", frame.height


@pytest.mark.parametrize("url, says", [
    ("postgresql+psycopg://litellm:s3cret-pw@db.internal:abc/litellm", "port that is not a number"),
    ("postgresql+psycopg://litellm:s3cret-pw@[::1:5432/litellm", "port that is not a number"),
    ("postgresql+psycopg://litellm:s3cret-pw@db.internal:99999/litellm", "outside 1-65535"),
    ("not a url s3cret-pw", "not a URL SQLAlchemy can read"),
    ("nosuchdb://litellm:s3cret-pw@db.internal/litellm", "no driver"),
])
def test_malformed_database_url_is_a_config_error_without_the_password(wh, url, says):
    with pytest.raises(PullConfigError) as e:
        pull_sql(LocalSink(wh), SqlPull(url=url, preset="litellm"))
    assert says in e.value.message and "s3cret" not in e.value.message and "--url" in e.value.message
    # and nothing was recorded as a run
    assert wh.scalar("select count(*) from pull_state") == 0


@pytest.mark.slow
def test_malformed_database_url_on_the_command_line(tmp_path):
    db = tmp_path / "l.duckdb"
    p = run_cli("pull", "sql", "--url-env", "LITELLM_URL", "--preset", "litellm", "--db", str(db),
                env={"LITELLM_URL": "postgresql+psycopg://litellm:s3cret-pw@db:5432x/litellm"})
    line = one_clear_line(p, "Pull not configured", "$LITELLM_URL", "not a number")
    assert "s3cret" not in p.stderr + p.stdout and "Traceback" not in p.stderr, line


KILLED_PULL = """
import sys, time
from pull import LocalSink, sink
from pull.sqlsource import SqlPull, pull_sql
from modelmix.runtime import open_owner
real = sink.LocalSink.load
def load(self, source, stream, files, **kw):
    page = real(self, source, stream, files, **kw)
    if kw.get("loaded_until") and page.loaded:
        print("PHASE page " + str(files[0]), file=sys.stderr, flush=True)
        time.sleep(600)          # killed here: one page committed, the next not begun
    return page
sink.LocalSink.load = load
wh = open_owner(sys.argv[1], watch_inbox=False)
pull_sql(LocalSink(wh), SqlPull(url=sys.argv[2], preset="litellm", chunk_rows=100))
"""


@pytest.mark.slow
def test_killed_pull_is_interrupted_at_the_next_open_and_staged_in_the_ledger(tmp_path, litellm_db):
    url, rows = litellm_db
    db = tmp_path / "l.duckdb"
    Warehouse(db).close()
    system_tmp = set(Path(tempfile.gettempdir()).glob("modelmix-pull-*"))
    p = subprocess.Popen([sys.executable, "-c", KILLED_PULL, str(db), url], stderr=subprocess.PIPE, text=True,
                         cwd=ROOT)
    try:
        line = p.stderr.readline()
        assert line.startswith("PHASE page "), line + p.stderr.read()
        page_file = Path(line.split(" ", 2)[2].strip())
        # the pulled page sits in the ledger's staging folder, in a folder named for the pulling process
        assert page_file.is_relative_to(db.with_name(db.name + ".staging"))
        assert page_file.parent.name.startswith(f"ingest-{p.pid}-")
        assert set(Path(tempfile.gettempdir()).glob("modelmix-pull-*")) == system_tmp
        p.send_signal(signal.SIGKILL)
        assert p.wait(timeout=30) == -signal.SIGKILL
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    with Warehouse(db) as wh:        # as the kill left it (a plain open clears no pull state)
        assert wh.sql("select last_status from pull_state").rows() == [("running",)]
        assert wh.scalar("select count(*) from usage_raw") == 100      # the committed page
    wh = open_owner(db, watch_inbox=False)
    try:
        assert wh.sql("select last_status, last_error from pull_state").rows() == [("failed", INTERRUPTED)]
        assert not list(wh.staging_dir.glob("ingest-*"))             # the dead pull's pages are gone
        report = pull_sql(LocalSink(wh), SqlPull(url=url, preset="litellm", chunk_rows=100))
        assert report.ok, report.error
        assert wh.sql("select last_status from pull_state").rows() == [("ok",)]
        assert wh.scalar("select count(*) from usage_raw") == rows               # every row once
        assert wh.scalar("select count(distinct row_key) from usage_raw") == rows
    finally:
        wh.close()
