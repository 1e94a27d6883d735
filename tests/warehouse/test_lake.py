"""`modelmix lake export DIR`: the ledger's rows as Hive-partitioned Parquet (month x provider), incremental."""

from __future__ import annotations

import json
import re
import shutil

import duckdb
import pytest

from ingest import ingest_paths
from cli.main import main
from tests.conftest import write_csv
import sql
from warehouse import Warehouse, lake, ledger
from warehouse.errors import DatabaseError

CANONICAL = "ts,granularity,provider,model,project,team,requests,input_tokens,output_tokens,cost_usd"


def _read(folder) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    glob = str(folder / "usage" / "*" / "*" / "*.parquet").replace("'", "''")   # a test's tmp path
    con.execute(f"create view lake as select * from read_parquet('{glob}', hive_partitioning = true)")
    return con


def _totals(con, relation: str) -> tuple:
    return con.execute(f"select count(*), sum(requests), sum(cost_usd), sum(list_cost_usd), "
                       f"count(distinct team) from {relation}").fetchone()


@pytest.fixture
def ledger_copy(sample_db, tmp_path):
    copy = tmp_path / "sample.duckdb"
    shutil.copy(sample_db, copy)
    return copy


@pytest.mark.slow
def test_export_holds_every_row_priced_and_attributed(ledger_copy, tmp_path):
    out = tmp_path / "lake"
    assert main(["lake", "export", str(out), "--db", str(ledger_copy)]) == 0
    manifest = json.loads((out / lake.MANIFEST).read_text())
    con = _read(out)
    with Warehouse(ledger_copy) as wh:
        want = wh.sql("select count(*) as n, sum(requests) as r, sum(cost_usd) as c, sum(list_cost_usd) as l, "
                      "count(distinct team) as t from usage").row(0)
        replay_rows = wh.sql("select count(*) from usage_replay").item()
        parts = wh.sql("select count(distinct (strftime(ts, '%Y-%m'), provider)) from usage").item()
    assert _totals(con, "lake") == want
    assert con.execute("select count(*) from lake where in_replay").fetchone()[0] == replay_rows
    assert len(manifest["partitions"]) == parts
    # partition columns come from the folders, not the files (Hive layout)
    one = next((out / "usage").glob("month=*/provider=*/part-0.parquet"))
    names = duckdb.sql(f"select * from read_parquet('{one}', hive_partitioning = false) limit 0").columns
    assert "provider" not in names and "row_hash" in names and "row_key" in names
    for table in lake.TABLES:
        assert (out / "tables" / f"{table}.parquet").exists()


@pytest.mark.slow
def test_export_is_incremental(ledger_copy, tmp_path):
    out = tmp_path / "lake"
    with Warehouse(ledger_copy) as wh:
        first = lake.export(wh, out)
        assert first["written"] and first["kept"] == 0
        again = lake.export(wh, out)
        assert again["written"] == [] and again["kept"] == first["partitions"]

        path = write_csv(tmp_path / "new.csv", CANONICAL,
                         "2027-03-02T10:00:00Z,hour,openai,gpt-4o,assistant,product,10,1000,200,1.5",
                         "2027-03-09T10:00:00Z,hour,anthropic,claude-sonnet-4-5,review,eng,3,900,100,")
        [r] = ingest_paths(wh, [path])
        assert r.status == "loaded", r.error
        after_load = lake.export(wh, out)
        assert sorted(after_load["written"]) == ["2027-03/anthropic", "2027-03/openai"]

        # a price change re-prices rows: the partitions whose list cost changed are written again
        wh.write(lambda cur: cur.execute(
            "insert into price_overrides (provider, model, effective_from, discount_pct) "
            "values ('openai', 'gpt-4o', date '2027-01-01', 20)"))
        wh.write(ledger.refresh_derived)
        assert "2027-03/openai" in lake.export(wh, out)["written"]

        # a removed upload: its partitions vanish
        wh.write(ledger.remove_ingest, r.ingest_id)
        gone = lake.export(wh, out)
        assert sorted(gone["deleted"]) == ["2027-03/anthropic", "2027-03/openai"]
        assert not (out / "usage" / "month=2027-03").exists() or not any((out / "usage" / "month=2027-03").iterdir())
        assert _totals(_read(out), "lake")[0] == wh.sql("select count(*) from usage").item()


def test_export_refuses_a_foreign_folder(ledger_copy, tmp_path):
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with Warehouse(ledger_copy) as wh, pytest.raises(lake.LakeError, match="not empty"):
        lake.export(wh, tmp_path / "other")


@pytest.mark.parametrize("name, said", [("queries/lake_partitions", "none"),
                                        ("queries/lake_rows", "$month_end, $month_start, $provider")])
def test_a_refused_query_names_its_file(wh, tmp_path, monkeypatch, name, said):
    """Both of the export's named queries run through the error-naming path (warehouse.db.query_error): a query
    DuckDB refuses says which .sql file it is and which parameters it was given, and leaves no partial file."""
    [r] = ingest_paths(wh, [write_csv(tmp_path / "one.csv", CANONICAL,   # one partition, so the rows query runs
                                      "2027-03-02T10:00:00Z,hour,openai,gpt-4o,assistant,product,10,1000,200,1.5")])
    assert r.status == "loaded", r.error
    real = sql.load
    uses = "" if said == "none" else " where $month_start < $month_end and $provider is not null"
    broken = sql.Text("select * from no_such_relation" + uses, f"sql/{name}.sql")
    monkeypatch.setattr(lake.sql, "load", lambda n: broken if n == name else real(n))
    with pytest.raises(DatabaseError, match=rf"sql/{name}\.sql \(parameters: {re.escape(said)}\) failed: Catalog"):
        lake.export(wh, tmp_path / "lake")
    assert not list((tmp_path / "lake").rglob("*.tmp"))


def test_session_hash_and_a_filled_in_session_id_rewrite_the_partition(wh, tmp_path):
    """The lake carries DuckDB's hash(session_id) (`session_hash`, signed like row_hash: the Spark engine's key of a
    session unit), null without an id; a later export that fills session ids in changes the partition's
    fingerprint, so the next lake export writes it again."""
    from ingest.formats.mapped import build

    head = "id,when,model,in,out"
    rows = ["r-1,2027-03-02T10:00:00Z,gpt-4o,100,10", "r-2,2027-03-02T10:01:00Z,gpt-4o,200,20"]
    cols = {"when": "ts", "model": "model", "in": "input_tokens", "out": "output_tokens"}
    plain = write_csv(tmp_path / "plain.csv", head, *rows)
    [r] = ingest_paths(wh, [plain], fmt=build({"columns": cols, "constants": {"provider": "openai"}, "key": "id"}))
    assert r.status == "loaded", r.error
    out = tmp_path / "lake"
    lake.export(wh, out)
    assert _read(out).execute("select count(session_hash) from lake").fetchone()[0] == 0
    later = write_csv(tmp_path / "later.csv", head + ",thread", rows[0] + ",t-9", rows[1] + ",")
    [r] = ingest_paths(wh, [later], fmt=build({"columns": {**cols, "thread": "session_id"},
                                               "constants": {"provider": "openai"}, "key": "id"}))
    assert (r.rows_loaded, r.rows_duplicate) == (0, 2)
    assert lake.export(wh, out)["written"] == ["2027-03/openai"]
    signed = "select cast(hash('t-9')::hugeint - 9223372036854775808 as bigint)"
    want = duckdb.connect().execute(signed).fetchone()[0]
    got = _read(out).execute("select session_id, session_hash from lake order by ts").fetchall()
    assert got == [("t-9", want), (None, None)]
