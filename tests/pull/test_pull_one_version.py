"""A pull run is one new data_version, like an ingest (`pull.sink.one_run`, `Warehouse.held_version`): its start,
pages and finish are separate writes (separate inbox hand-overs when the dashboard holds the ledger), and each
published version empties every open session's cached queries and restarts the warm-up. The run publishes once,
at its finish, with every row committed (and readable) as each page lands; a run whose process dies publishes
what it committed once its calls stop coming. The source is a real SQLite database with LiteLLM's spend-log table."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time

import polars as pl
import pytest

from modelmix.runtime import inbox_handler
from modelmix.settings import settings
from pull import LocalSink, state
from pull.sink import InboxSink
from pull.sqlsource import SqlPull, pull_sql
from test_pull_faults import SAMPLE
from warehouse import Warehouse
from warehouse.inbox import InboxWatcher


@pytest.fixture
def litellm_url(tmp_path) -> str:
    """LiteLLM's `LiteLLM_SpendLogs` in SQLite: the sample export's 300 rows (as text)."""
    frame = pl.read_csv(SAMPLE, infer_schema=False)
    path = tmp_path / "litellm.sqlite"
    with sqlite3.connect(path) as con:
        con.execute('create table "LiteLLM_SpendLogs" (' + ", ".join(f'"{c}" text' for c in frame.columns) + ")")
        con.executemany(f'insert into "LiteLLM_SpendLogs" values ({", ".join("?" * frame.width)})', frame.rows())
    return f"sqlite:///{path}"


def published(wh: Warehouse) -> list[int]:
    seen: list[int] = []
    wh.on_commit(lambda: seen.append(wh.data_version))
    return seen


def test_a_local_pull_of_three_pages_is_one_version(wh, litellm_url):
    seen = published(wh)
    v0 = wh.data_version
    report = pull_sql(LocalSink(wh), SqlPull(url=litellm_url, preset="litellm", chunk_rows=100))
    assert report.error is None and report.pages == 3 and report.rows_loaded == 300
    assert seen == [v0 + 1]                                # start, 3 pages, their states, finish: one version
    assert wh.scalar("select last_status from pull_state") == "ok"


def test_a_pull_handed_over_through_the_inbox_is_one_version(new_ledger, litellm_url):
    """The dashboard's case: `modelmix pull` in another process, every operation its own inbox job. A session's
    cache keyed on the version sees no figure from part-way through the run, and every row after it."""
    db = new_ledger()
    with Warehouse(db) as wh:
        seen = published(wh)
        v0 = wh.data_version
        watcher = InboxWatcher(db, inbox_handler(wh, settings()), poll=0.05).start()
        try:
            report = pull_sql(InboxSink(db, timeout=60), SqlPull(url=litellm_url, preset="litellm", chunk_rows=100))
        finally:
            watcher.stop()
        assert report.error is None and report.pages == 3 and report.rows_loaded == 300
        assert seen == [v0 + 1]                            # was 5: start, one per page, finish
        assert wh.scalar("select count(*) from usage_raw") == 300
        assert wh.scalar("select count(distinct row_key) from usage_raw") == 300
        assert wh.scalar("select last_status from pull_state") == "ok"


def test_a_failed_pull_publishes_what_it_recorded(wh, tmp_path):
    """A run that ends in an error still ends: its failed state is published at once (the Sources page shows it)."""
    seen = published(wh)
    v0 = wh.data_version
    report = pull_sql(LocalSink(wh), SqlPull(url=f"sqlite:///{tmp_path / 'empty.sqlite'}", preset="litellm"))
    assert report.error is not None
    assert seen == [v0 + 1]
    assert wh.scalar("select last_status from pull_state") == "failed"


def test_a_run_whose_process_died_is_published_after_its_calls_stop(wh, litellm_url):
    """A pulling process killed between its pages never sends its finish: the rows it committed must not stay
    out of every cached figure, so the held version is published once no call of the run came for `idle` s."""
    seen = published(wh)
    v0 = wh.data_version
    with wh.held_version(("pull", "dead", "query"), idle=0.3):    # a run's first call, as its start
        LocalSink(wh).start("dead", "query", "sql", dt.datetime(2026, 1, 1))
    assert seen == [] and wh.data_version == v0           # held while the run may still come back
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seen == [v0 + 1]


def test_a_call_coming_back_keeps_the_run_held(wh):
    """Each call of a run re-arms its timer, and a call running when the timer fires keeps it held."""
    seen = published(wh)
    key = ("pull", "slow", "query")
    inside, leave = threading.Event(), threading.Event()

    def long_call() -> None:
        with wh.held_version(key, idle=0.1):
            state.start(wh, "slow", "query", "sql", dt.datetime(2026, 1, 1))
            inside.set()
            leave.wait(10)

    with wh.held_version(key, idle=0.1):
        pass                                              # a first call that wrote nothing arms the timer
    t = threading.Thread(target=long_call)
    t.start()
    assert inside.wait(10)
    time.sleep(0.4)                                       # past the idle time, with a call of the run running
    assert seen == []
    leave.set()
    t.join(10)
    with wh.held_version(key, release=True):
        pass
    assert len(seen) == 1
