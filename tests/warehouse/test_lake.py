"""`modelmix lake export DIR`: the ledger's rows as Hive-partitioned Parquet (month x provider), incremental."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from decimal import Decimal

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


def _daily_glob(folder) -> str:
    """The exported usage_daily's month files as SQL literal text (a reader's path takes no bound parameter)."""
    return sql.literal(str(folder / "tables" / "usage_daily" / "*" / "*.parquet"))


def _files(folder) -> dict[str, tuple[int, int]]:
    """Every Parquet file of the lake with its inode and mtime: a file written again (beside its place, then
    renamed in) has a new inode."""
    return {str(p.relative_to(folder)): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in folder.rglob("*.parquet")}


def _rewritten(before: dict, after: dict, under: str) -> set[str]:
    return {name.split("/")[-2] if under == "tables/usage_daily" else "/".join(name.split("/")[1:3])
            for name, stamp in after.items() if name.startswith(under + "/") and before.get(name) != stamp}


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
    for table in set(lake.TABLES) - {lake.PARTITIONED_TABLE}:
        assert (out / "tables" / f"{table}.parquet").exists()
    # usage_daily: one file per month, together the whole table
    months = sorted(p.parent.name for p in (out / "tables" / "usage_daily").glob("month=*/part-0.parquet"))
    with Warehouse(ledger_copy) as wh:
        want_daily = wh.sql("select strftime(day, '%Y-%m') as m, count(*) as n, sum(spend_usd) as s "
                            "from usage_daily group by m order by m").rows()
    assert months == [f"month={m}" for m, _, _ in want_daily]
    assert con.execute(f"select strftime(day, '%Y-%m') as m, count(*), sum(spend_usd) from "
                       f"read_parquet({_daily_glob(out)}, hive_partitioning = false) group by m order by m"
                       ).fetchall() == want_daily


@pytest.mark.slow
def test_export_is_incremental(ledger_copy, tmp_path, monkeypatch):
    out = tmp_path / "lake"
    priced_months = []
    real_priced = lake._priced
    monkeypatch.setattr(lake, "_priced", lambda cur, months: priced_months.append(months) or real_priced(cur, months))
    with Warehouse(ledger_copy) as wh:
        first = lake.export(wh, out)
        assert first["written"] and first["kept"] == 0
        files = _files(out)
        again = lake.export(wh, out)
        assert again["written"] == [] and again["kept"] == first["partitions"] and not again["repriced"]
        assert again["daily_months_written"] == [] and _rewritten(files, _files(out), "usage") == set()

        path = write_csv(tmp_path / "new.csv", CANONICAL,
                         "2027-03-02T10:00:00Z,hour,openai,gpt-4o,assistant,product,10,1000,200,1.5",
                         "2027-03-09T10:00:00Z,hour,anthropic,claude-sonnet-4-5,review,eng,3,900,100,")
        [r] = ingest_paths(wh, [path])
        assert r.status == "loaded", r.error
        priced_months.clear()
        files = _files(out)
        after_load = lake.export(wh, out)
        # an ordinary load: the raw fingerprints find its partitions; only its month is priced, and only its
        # partitions and its month of usage_daily are written again (the other files keep their inode and mtime)
        assert sorted(after_load["written"]) == ["2027-03/anthropic", "2027-03/openai"]
        assert not after_load["repriced"] and priced_months == [{"2027-03"}]
        assert _rewritten(files, _files(out), "usage") == {"month=2027-03/provider=anthropic",
                                                           "month=2027-03/provider=openai"}
        assert _rewritten(files, _files(out), "tables/usage_daily") == {"month=2027-03"}
        assert after_load["daily_months_written"] == ["2027-03"]
        _assert_equal_to_ledger(wh, out)

        # a price change re-prices rows: every partition whose priced rows changed is written again, every month
        # of usage_daily (its reconciliation columns read the catalog too), and nothing else of `usage`
        repriced = set(wh.sql("select distinct strftime(ts, '%Y-%m') || '/' || provider as k from usage "
                              "where provider = 'openai' and model = 'gpt-4o' and ts >= date '2027-01-01' "
                              "and list_cost_usd is not null")["k"])
        assert "2027-03/openai" in repriced
        wh.write(lambda cur: cur.execute(
            "insert into price_overrides (provider, model, effective_from, discount_pct) "
            "values ('openai', 'gpt-4o', date '2027-01-01', 20)"))
        wh.write(ledger.refresh_derived)
        files = _files(out)
        after_price = lake.export(wh, out)
        assert after_price["repriced"] and set(after_price["written"]) == repriced
        assert _rewritten(files, _files(out), "usage") == {f"month={k.replace('/', '/provider=')}" for k in repriced}
        assert set(after_price["daily_months_written"]) == set(json.loads((out / lake.MANIFEST).read_text())
                                                              ["daily_months"])
        _assert_equal_to_ledger(wh, out)
        assert lake.export(wh, out)["written"] == []          # the new prices are the manifest's now

        # a rule change moves teams: the partitions of the rows it moves are written again
        moved = set(wh.sql("select distinct strftime(ts, '%Y-%m') || '/' || provider as k from usage "
                           "where project = 'review' and team <> 'rule-team'")["k"])
        assert moved
        wh.write(lambda cur: cur.execute(
            "insert into attribution_rules (priority, field, pattern, team, workload) "
            "values (1, 'project', 'review', 'rule-team', 'general')"))
        wh.write(ledger.refresh_derived)
        after_rule = lake.export(wh, out)
        assert after_rule["repriced"] and moved <= set(after_rule["written"])
        _assert_equal_to_ledger(wh, out)

        # a removed upload: its partitions vanish, and its month of usage_daily with them
        wh.write(ledger.remove_ingest, r.ingest_id)
        gone = lake.export(wh, out)
        assert sorted(gone["deleted"]) == ["2027-03/anthropic", "2027-03/openai"]
        assert not (out / "usage" / "month=2027-03").exists() or not any((out / "usage" / "month=2027-03").iterdir())
        assert not (out / "tables" / "usage_daily" / "month=2027-03").exists()
        _assert_equal_to_ledger(wh, out)


def _assert_equal_to_ledger(wh, out) -> None:
    """The lake's rows and its usage_daily hold what the ledger holds, to the cent (exactly: same decimals)."""
    con = _read(out)
    assert _totals(con, "lake") == wh.sql("select count(*) as n, sum(requests) as r, sum(cost_usd) as c, "
                                          "sum(list_cost_usd) as l, count(distinct team) as t from usage").row(0)
    got = con.execute(f"select count(*), sum(spend_usd), sum(list_cost_usd) from "
                      f"read_parquet({_daily_glob(out)}, hive_partitioning = false)").fetchone()
    assert got == wh.sql("select count(*), sum(spend_usd), sum(list_cost_usd) from usage_daily").row(0)


def test_a_lake_of_the_older_format_is_rewritten_once(wh, tmp_path):
    """A lake written by another rows query (an older version: one usage_daily file, no raw fingerprints) is written
    again whole at the next export, and its single usage_daily file replaced by the month folders."""
    [r] = ingest_paths(wh, [write_csv(tmp_path / "one.csv", CANONICAL,
                                      "2027-03-02T10:00:00Z,hour,openai,gpt-4o,assistant,product,10,1000,200,1.5")])
    assert r.status == "loaded", r.error
    out = tmp_path / "lake"
    lake.export(wh, out)
    manifest = json.loads((out / lake.MANIFEST).read_text())
    (out / lake.MANIFEST).write_text(json.dumps({"format": 1, "partitions": {
        k: {"month": v["month"], "provider": v["provider"], "rows": v["rows"], "fingerprint": v["fingerprint"]}
        for k, v in manifest["partitions"].items()}}))
    (out / "tables" / "usage_daily.parquet").write_bytes(b"old")
    done = lake.export(wh, out)
    assert done["written"] == ["2027-03/openai"] and done["daily_months_written"] == ["2027-03"]
    assert not (out / "tables" / "usage_daily.parquet").exists()
    assert lake.export(wh, out)["written"] == []


def test_export_refuses_a_foreign_folder(ledger_copy, tmp_path):
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with Warehouse(ledger_copy) as wh, pytest.raises(lake.LakeError, match="not empty"):
        lake.export(wh, tmp_path / "other")


@pytest.mark.parametrize("name, said", [("queries/lake_partitions_raw", "none"),
                                        ("queries/lake_partitions", "$ts_from, $ts_to"),
                                        ("queries/lake_rows", "$month_end, $month_start, $provider")])
def test_a_refused_query_names_its_file(wh, tmp_path, monkeypatch, name, said):
    """Both of the export's named queries run through the error-naming path (warehouse.db.query_error): a query
    DuckDB refuses says which .sql file it is and which parameters it was given, and leaves no partial file."""
    [r] = ingest_paths(wh, [write_csv(tmp_path / "one.csv", CANONICAL,   # one partition, so the rows query runs
                                      "2027-03-02T10:00:00Z,hour,openai,gpt-4o,assistant,product,10,1000,200,1.5")])
    assert r.status == "loaded", r.error
    real = sql.load
    uses = {"none": "", "$ts_from, $ts_to": " where $ts_from < $ts_to"}.get(
        said, " where $month_start < $month_end and $provider is not null")
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


def test_a_self_hosted_rate_moved_by_a_load_rewrites_the_other_months_it_prices(wh, tmp_path):
    """A self-hosted cost period's rate is its cost over the tokens logged in it: a load into April moves the
    rate of a March-April period, so March's rows are priced anew though no March row changed. The raw
    fingerprints cannot see that; the pricing state (the effective rates) does, and March is written again."""
    from finance import whole_bill

    whole_bill.replace_self_hosted(wh, [whole_bill.SelfHostedCost(
        provider="internal", model="llama-x", start=dt.date(2027, 3, 1), end=dt.date(2027, 4, 30),
        amount_usd=Decimal("100"))])
    [r] = ingest_paths(wh, [write_csv(tmp_path / "march.csv", CANONICAL,
                                      "2027-03-02T10:00:00Z,hour,internal,llama-x,assistant,product,10,1000,200,")])
    assert r.status == "loaded", r.error
    out = tmp_path / "lake"
    lake.export(wh, out)
    march_list = wh.sql("select sum(list_cost_usd) from usage").item()
    [r] = ingest_paths(wh, [write_csv(tmp_path / "april.csv", CANONICAL,
                                      "2027-04-02T10:00:00Z,hour,internal,llama-x,assistant,product,10,3000,600,")])
    assert r.status == "loaded", r.error
    assert wh.sql("select sum(list_cost_usd) from usage where ts < date '2027-04-01'").item() != march_list
    done = lake.export(wh, out)
    assert done["repriced"] and sorted(done["written"]) == ["2027-03/internal", "2027-04/internal"]
    _assert_equal_to_ledger(wh, out)
