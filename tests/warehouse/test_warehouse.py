"""The warehouse: migrations recorded once, readers on their own cursors while the single writer loads, removal
of an upload, and a clear error when the file is held by another process."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

import sql
from ingest import ingest_paths
from warehouse import DatabaseBusy, Warehouse, ledger
from warehouse.db import execute
from warehouse.errors import DatabaseError

HEADER = "ts,provider,model,input_tokens,output_tokens,cost_usd"


def test_migrations_recorded_and_idempotent(tmp_path):
    path = tmp_path / "m.duckdb"
    with Warehouse(path) as wh:
        latest = max(v for v, _ in sql.migrations())
        assert wh.schema_version == latest
        assert wh.scalar("select count(*) from schema_version") == len(sql.migrations())
        assert wh.scalar("select count(*) from catalog_prices") > 1000
    with Warehouse(path) as wh:  # reopening applies nothing again
        assert wh.scalar("select count(*) from schema_version") == len(sql.migrations())


@pytest.mark.slow
def test_readers_run_while_the_writer_loads(wh, tmp_path):
    # four exports of four different weeks (a file of the same days would replace the earlier one's rows)
    rows = [f"2026-01-{1 + (i // 5000) * 7 + i % 7:02d}T{i % 24:02d}:00:00Z,openai,gpt-4o-mini,{i},{i % 7},0.001"
            for i in range(20000)]
    files = []
    for n in range(4):
        path = tmp_path / f"part{n}.csv"
        path.write_text("\n".join([HEADER, *rows[n * 5000:(n + 1) * 5000]]) + "\n")
        files.append(path)
    errors: list[BaseException] = []
    done = threading.Event()

    def read_loop():
        try:
            while not done.is_set():
                wh.sql("select provider, sum(spend_usd) from usage_daily group by all")
                wh.query("ingest_history", limit=5)
        except BaseException as e:  # noqa: BLE001 - the test reports any failure
            errors.append(e)

    readers = [threading.Thread(target=read_loop) for _ in range(3)]
    for t in readers:
        t.start()
    writers = [threading.Thread(target=ingest_paths, args=(wh, [f])) for f in files]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    done.set()
    for t in readers:
        t.join()
    assert not errors, errors[0]
    assert wh.scalar("select count(*) from usage_raw") == 20000
    assert wh.scalar("select count(*) from ingest_log where status = 'loaded'") == 4


def test_remove_an_upload(wh, csv_file):
    [a] = ingest_paths(wh, [csv_file(HEADER, "2026-01-01T00:00:00Z,openai,gpt-4o,10,1,0.1")])
    ingest_paths(wh, [csv_file(HEADER, "2026-01-02T00:00:00Z,openai,gpt-4o,10,1,0.2")])
    assert wh.write(ledger.remove_ingest, a.ingest_id) == 1
    assert float(wh.scalar("select sum(cost_usd) from usage_daily")) == pytest.approx(0.2)
    assert wh.scalar("select status from ingest_log where ingest_id = $i", i=a.ingest_id) == "removed"


@pytest.mark.slow
def test_busy_database_is_a_clear_error(tmp_path):
    path = tmp_path / "held.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"from warehouse import Warehouse\nw = Warehouse({str(path)!r})\nprint('ok', flush=True)\ninput()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(DatabaseBusy, match="held by another ModelMix process"):
            Warehouse(path)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_a_query_error_names_its_file_and_parameters(wh):
    with pytest.raises(DatabaseError) as err:
        wh.query("ingest_history", limt=5)        # misspelt parameter: DuckDB refuses it
    assert "sql/queries/ingest_history.sql" in err.value.message
    assert "$limt" in err.value.message
    # a fragment spliced in with `replace` keeps the file's name
    text = sql.load("queries/ingest_history").replace("limit $limit", "limit $limit + nope")
    with pytest.raises(DatabaseError, match=r"sql/queries/ingest_history\.sql \(parameters: \$limit\)"):
        wh.sql(text, limit=5)


def test_scalar_and_inline_sql_errors_name_the_calling_line(wh):
    with pytest.raises(DatabaseError, match=r"inline query at tests/warehouse/test_warehouse\.py:\d+ \(parameters: \$x\)"):
        wh.scalar("select nope + $x", x=1)
    with pytest.raises(DatabaseError, match=r"inline query at tests/warehouse/test_warehouse\.py:\d+ \(parameters: none\)"):
        wh.sql("select * from no_such_table")


def test_a_write_job_error_names_its_file(wh):
    def job(cur):
        execute(cur, sql.load("writes/insert_rejects"), {"ingest_id": 1})   # no `staged` table outside an ingest

    with pytest.raises(DatabaseError, match=r"sql/writes/insert_rejects\.sql \(parameters: \$ingest_id\)"):
        wh.write(job)
    assert wh.scalar("select count(*) from ingest_rejects") == 0


def test_sql_text_survives_pickle_and_copy():
    import copy
    import pickle

    text = sql.load("queries/users")
    for again in (pickle.loads(pickle.dumps(text)), copy.deepcopy(text)):
        assert again == text and sql.origin(again) == "sql/queries/users.sql"


def test_a_migration_numbered_below_the_newest_applied_still_runs(tmp_path):
    """Migration numbers are handed out ahead, so 018 may land before 017: a ledger that lacks one of them gets
    it on its next open, whatever higher numbers it has (here: 009, idempotent, taken out of a ledger at the newest)."""
    path = tmp_path / "m.duckdb"
    with Warehouse(path) as wh:
        wh.write(lambda cur: cur.execute("delete from schema_version where version = 9; "
                                         "drop macro request_row_key"), changes_data=False)
        assert wh.scalar("select max(version) from schema_version") > 9
    with Warehouse(path) as wh:
        assert wh.scalar("select count(*) from schema_version") == len(sql.migrations())
        assert wh.scalar("select count(*) from duckdb_functions() where function_name = 'request_row_key'") == 1
