"""One new data_version per job (`Warehouse.one_version`): every write in the block commits on its own and is
readable at once, caches keyed on the version see the job's data when it ends; writes from other threads publish
as before. The inbox wraps each handed-over job in such a block, so an ingest of several files costs the open
sessions and the warm-up one recomputation (docs/reliability.md, "Many people at once")."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dashboard.services import warmup
from ingest import ingest_paths
from modelmix.runtime import inbox_handler
from modelmix.settings import settings
from warehouse import Warehouse
from warehouse.errors import ModelMixError
from warehouse.inbox import InboxWatcher, hand_over

HEADER = "ts,provider,model,input_tokens,output_tokens,cost_usd"


def day_file(csv_file, day: int, rows: int = 3) -> Path:
    return csv_file(HEADER, *(f"2026-03-{day:02d}T{h:02d}:00:00Z,openai,gpt-4o,{10 + h},1,0.{h + 1}"
                              for h in range(rows)), name=f"day{day}.csv")


def count(wh: Warehouse) -> int:
    return wh.scalar("select count(*) from usage_raw")


def test_writes_in_a_block_commit_each_and_publish_one_version(wh, csv_file):
    published = []
    wh.on_commit(lambda: published.append(wh.data_version))
    v0 = wh.data_version
    with wh.one_version():
        for day in (1, 2, 3):
            [r] = ingest_paths(wh, [day_file(csv_file, day)])
            assert r.status == "loaded", r.error
            assert count(wh) == 3 * day           # committed: a fresh read sees it at once
            assert wh.data_version == v0          # but the caches' key waits for the block's end
        assert published == []
    assert wh.data_version == v0 + 1 and published == [v0 + 1]
    # a plain write still publishes by itself
    ingest_paths(wh, [day_file(csv_file, 4)])
    assert wh.data_version == v0 + 2


def test_another_threads_write_publishes_at_once_during_a_block(wh, csv_file):
    inside, done = threading.Event(), threading.Event()
    versions = {}

    def job() -> None:
        with wh.one_version():
            ingest_paths(wh, [day_file(csv_file, 1)])
            inside.set()
            done.wait(30)

    t = threading.Thread(target=job)
    t.start()
    assert inside.wait(30)
    versions["before"] = wh.data_version
    ingest_paths(wh, [day_file(csv_file, 2)])     # someone else's write (a person saving, an upload)
    versions["other"] = wh.data_version
    done.set()
    t.join(30)
    assert versions["other"] == versions["before"] + 1
    assert wh.data_version == versions["other"] + 1
    assert count(wh) == 6


def test_a_block_ending_in_an_error_publishes_what_committed(wh, csv_file):
    def fails(cur) -> None:
        cur.execute("delete from usage_raw")
        raise ModelMixError("second job fails")

    v0 = wh.data_version
    with pytest.raises(ModelMixError, match="second job fails"):
        with wh.one_version():
            ingest_paths(wh, [day_file(csv_file, 1)])
            wh.write(fails)                       # rolled back: the file's rows stay
    assert wh.data_version == v0 + 1 and count(wh) == 3
    with wh.one_version():                        # a block that committed nothing publishes nothing
        pass
    assert wh.data_version == v0 + 1


def test_views_of_the_ledger_share_the_block(wh, csv_file):
    v0 = wh.data_version
    with wh.one_version():
        ingest_paths(wh.as_user("cli:someone via inbox"), [day_file(csv_file, 1), day_file(csv_file, 2)])
        with wh.one_version():                    # nested: still one block
            ingest_paths(wh, [day_file(csv_file, 3)])
        assert wh.data_version == v0
    assert wh.data_version == v0 + 1


def test_an_inbox_job_of_several_files_is_one_version_and_one_warm_up(new_ledger, csv_file):
    """Every row once, one new version for the whole hand-over, and the warm-up (and a cache keyed on the
    version, as a session's) sees the new rows after the job, computed once."""
    db = new_ledger()
    with Warehouse(db) as wh:
        ingest_paths(wh, [day_file(csv_file, 1)])
        seen_by_warmup = []

        def jobs(w):
            return [("count", lambda: seen_by_warmup.append(count(w)))]

        warmer = warmup.Warmer(wh, jobs, settle=0.2)
        assert warmer.idle.wait(30) and seen_by_warmup == [3]
        cache: dict[int, int] = {}                    # a session's cache: one entry per data_version

        def session_reads() -> int:
            return cache.setdefault(wh.data_version, count(wh))

        assert session_reads() == 3
        v0 = wh.data_version
        files = [day_file(csv_file, d, rows=4) for d in (2, 3, 4, 5, 6)]
        watcher = InboxWatcher(db, inbox_handler(wh, settings()))
        answer: dict = {}
        client = threading.Thread(target=lambda: answer.update(hand_over(db, files, {}, timeout=60, poll=0.05)))
        client.start()
        while not list(watcher.box.glob("*.request.json")):
            client.join(0.05)
        assert watcher.run_once() == 1
        client.join(30)
        assert [f["status"] for f in answer["files"]] == ["loaded"] * 5
        assert wh.data_version == v0 + 1              # five commits, one published version
        assert session_reads() == 3 + 20              # the session sees every new row after the job
        assert wh.scalar("select count(distinct row_key) from usage_raw") == count(wh) == 23
        assert warmer.idle.wait(30)
        assert seen_by_warmup == [3, 23] and warmer.runs == 2
