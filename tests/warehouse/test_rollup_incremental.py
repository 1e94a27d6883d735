"""An ordinary write refreshes only the days it touches (`ledger.refresh_derived(cur, days=...)`); the derived
tables must come out exactly as a full rebuild from every row would make them."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import sql
from ingest import ingest_paths
from tests.conftest import SAMPLE_DATA, write_csv
from warehouse import Warehouse, ledger

# a gateway log and a billing-style canonical file over the same provider and days: the second flips which
# source's spend counts on the days they share, and only there
CANONICAL = "ts,granularity,provider,model,project,team,requests,input_tokens,output_tokens,cost_usd"


def _tables(wh: Warehouse) -> dict[str, pl.DataFrame]:
    """The derived tables, in a stable order, floating-point sums rounded to 9 decimals (a different grouping
    order may change the last bit)."""
    out = {}
    for table, keys in (("usage_daily", None), ("spend_daily", None), ("key_daily", None), ("people_monthly", None),
                        ("replay_stored", None), ("replay_buckets", None),
                        ("source_choice", ["provider", "day", "source_format"]),
                        ("dim_attribution", ["dim_key"])):
        frame = wh.sql(f"select * from {table}")
        floats = [c for c, t in frame.schema.items() if t in (pl.Float64, pl.Float32)]
        frame = frame.with_columns(pl.col(floats).round(9))
        out[table] = frame.sort(keys or [c for c, t in frame.schema.items() if t != pl.Object], nulls_last=True)
    return out


def _assert_same_as_full_rebuild(wh: Warehouse) -> None:
    before = _tables(wh)
    assert wh.sql(sql.load("checks/assert_rollup_matches_usage")).is_empty()
    assert wh.sql(sql.load("checks/assert_rollup_reconcile_matches_usage")).is_empty()
    assert wh.sql(sql.load("checks/assert_spend_daily_matches_rollup")).is_empty()
    assert wh.sql(sql.load("checks/assert_people_monthly_matches_rollup")).is_empty()
    assert wh.sql(sql.load("checks/assert_replay_stored_matches_view")).is_empty()
    assert wh.sql(sql.load("checks/assert_replay_buckets_match_stored")).is_empty()
    wh.write(ledger.refresh_derived)          # days=None: everything from every row
    after = _tables(wh)
    assert before["usage_daily"].height > 0
    assert 0 < before["spend_daily"].height <= before["usage_daily"].height
    assert 0 < before["people_monthly"].height <= before["usage_daily"].height
    for table in before:
        assert_frame_equal(before[table], after[table], check_exact=False, rel_tol=1e-9, abs_tol=1e-9)


def test_sample_ledger_built_by_incremental_loads_equals_a_full_rebuild(sample_db, tmp_path):
    """The shared sample ledger was built file by file, each load refreshing only its days."""
    copy = tmp_path / "sample.duckdb"
    shutil.copy(sample_db, copy)
    with Warehouse(copy) as wh:
        _assert_same_as_full_rebuild(wh)


def test_incremental_writes_equal_a_full_rebuild(tmp_path):
    with Warehouse(tmp_path / "ledger.duckdb") as wh:
        calls = []
        real = ledger.refresh_derived

        def spy(cur, days=None):
            calls.append(days)
            return real(cur, days=days)

        path = write_csv(tmp_path / "a.csv", CANONICAL, *[
            f"2027-10-{d:02d}T10:00:00Z,hour,anthropic,claude-sonnet-4-5,review,engineering,3,900,100,"
            for d in range(1, 31)])
        ledger.refresh_derived = spy
        try:
            [r] = ingest_paths(wh, [path])
        finally:
            ledger.refresh_derived = real
        assert r.status == "loaded", r.error
        assert calls == [(dt.datetime(2027, 10, 1, 10), dt.datetime(2027, 10, 30, 10))], "a load refreshes its days"

        # two sources over the same provider and days, one overlapping only part of the other's days
        log = write_csv(tmp_path / "gw.csv", CANONICAL, *[
            f"2027-11-{d:02d}T10:00:00Z,hour,openai,gpt-4o,assistant,product,10,1000,200," for d in range(1, 8)])
        bill = write_csv(tmp_path / "bill.csv", CANONICAL, *[
            f"2027-11-{d:02d}T00:00:00Z,day,openai,gpt-4o,assistant,product,12,1200,250,0.5" for d in range(5, 11)])
        for path in (log, bill):
            [r] = ingest_paths(wh, [path])
            assert r.status == "loaded", r.error
        _assert_same_as_full_rebuild(wh)

        # an upload taken out again: its days are refreshed, a day left with no rows disappears from the rollups
        ingest_id = wh.sql("select max(ingest_id) as i from ingest_log").item()
        wh.write(ledger.remove_ingest, ingest_id)
        assert wh.sql("select count(*) from usage_daily where day = date '2027-11-10'").item() == 0
        _assert_same_as_full_rebuild(wh)


def test_incremental_refresh_leaves_other_days_alone(tmp_path):
    """The refresh of some days must not touch the others: a row slipped into usage_raw behind the refresh's back
    on another day stays out of the rollup until a refresh covers that day."""
    with Warehouse(tmp_path / "ledger.duckdb") as wh:
        path = write_csv(tmp_path / "a.csv", CANONICAL, *[
            f"2026-03-{d:02d}T10:00:00Z,hour,openai,gpt-4o,assistant,product,10,1000,200,1.0" for d in range(1, 4)])
        ingest_paths(wh, [path])

        def sneak(cur):
            cur.execute("insert into usage_raw select * replace (ts + interval 20 day as ts, hash(ts) as row_key) "
                        "from usage_raw")

        wh.write(sneak)
        wh.write(ledger.refresh_derived, (dt.date(2026, 3, 21), dt.date(2026, 3, 21)))
        days = wh.sql("select day, sum(requests) as r from usage_daily group by day order by day")
        assert days["day"].to_list() == [dt.date(2026, 3, d) for d in (1, 2, 3, 21)]
        assert not wh.sql(sql.load("checks/assert_rollup_matches_usage")).is_empty()   # the check can fail
        wh.write(ledger.refresh_derived)
        assert wh.sql(sql.load("checks/assert_rollup_matches_usage")).is_empty()


@pytest.mark.parametrize("first,last", [(dt.datetime(2026, 3, 1, 23, 59), dt.datetime(2026, 3, 2, 0, 0))])
def test_timestamps_are_taken_as_their_days(tmp_path, first, last):
    with Warehouse(tmp_path / "ledger.duckdb") as wh:
        path = write_csv(tmp_path / "a.csv", CANONICAL, *[
            f"2026-03-{d:02d}T{h:02d}:00:00Z,hour,openai,gpt-4o,assistant,product,10,1000,200,1.0"
            for d in range(1, 4) for h in (0, 23)])
        ingest_paths(wh, [path])
        wh.write(lambda cur: cur.execute("delete from usage_daily"))
        wh.write(ledger.refresh_derived, (first, last))
        assert wh.sql("select sum(requests) from usage_daily").item() == 40


LITELLM = "request_id,startTime,model,custom_llm_provider,prompt_tokens,completion_tokens,spend,end_user,api_key"
BILLING = "start_time,end_time,project_id,model,num_model_requests,input_tokens,input_cached_tokens,output_tokens"


def test_people_monthly_moves_by_the_written_days_difference(tmp_path):
    """An ordinary write moves the people_monthly groups of its days by their rows' difference (before and after
    the write), not by summing the month again: a day added to a month, a billing export that takes a day's spend
    from the gateway (in_spend flips, so rows change group), and an upload removed (its users' groups go) each
    leave people_monthly equal to a full rebuild."""
    with Warehouse(tmp_path / "ledger.duckdb") as wh:
        month = [f"m{d}-{u},2026-10-{d:02d} 10:00:00,gpt-4o-mini,openai,1000,100,0.01,{u},key-{u}"
                 for d in range(1, 21) for u in ("u1", "u2")]
        [r] = ingest_paths(wh, [write_csv(tmp_path / "month.csv", LITELLM, *month)])
        assert r.status == "loaded", r.error
        late = [f"l{d}-{u},2026-10-{d:02d} 09:00:00,gpt-4o-mini,openai,2000,300,0.02,{u},key-{u}"
                for d in range(21, 24) for u in ("u2", "u3")]
        late.append("l-idless,2026-10-22 09:30:00,gpt-4o-mini,openai,10,0,0.001,,")   # no user, no key
        [r] = ingest_paths(wh, [write_csv(tmp_path / "late.csv", LITELLM, *late)])
        assert r.status == "loaded", r.error
        _assert_same_as_full_rebuild(wh)

        day = int(dt.datetime(2026, 10, 22, tzinfo=dt.timezone.utc).timestamp())
        [r] = ingest_paths(wh, [write_csv(tmp_path / "bill.csv", BILLING,
                                          f"{day},{day + 86400},proj,gpt-4o-mini,3,6000,0,900")])
        assert r.status == "loaded", r.error
        assert wh.sql("select count(*) from people_monthly where not in_spend").item() > 0, "the day's gateway rows moved"
        _assert_same_as_full_rebuild(wh)

        late_id = wh.sql("select ingest_id from ingest_log where file_name like '%late.csv'").item()
        wh.write(ledger.remove_ingest, late_id)
        assert wh.sql("select count(*) from people_monthly where user_id = 'u3'").item() == 0
        _assert_same_as_full_rebuild(wh)


def test_a_write_reads_only_the_people_monthly_groups_its_days_touch(tmp_path):
    """The fast path is the one taken: a group of the month that the written day does not touch keeps what it
    holds (here a value slipped in behind the refresh's back), which regrouping the month would have overwritten."""
    with Warehouse(tmp_path / "ledger.duckdb") as wh:
        rows = [f"a{d},2026-10-{d:02d} 10:00:00,gpt-4o-mini,openai,1000,100,0.01,u1,key-1" for d in range(1, 6)]
        ingest_paths(wh, [write_csv(tmp_path / "a.csv", LITELLM, *rows)])
        wh.write(lambda cur: cur.execute("update people_monthly set requests = requests + 1000 where user_id = 'u1'"))
        [r] = ingest_paths(wh, [write_csv(tmp_path / "b.csv", LITELLM,
                                          "b6,2026-10-06 10:00:00,gpt-4o-mini,openai,1000,100,0.01,u2,key-2")])
        assert r.status == "loaded", r.error
        people = dict(wh.sql("select user_id, requests from people_monthly").rows())
        assert people == {"u1": 1005, "u2": 1}
        assert not wh.sql(sql.load("checks/assert_people_monthly_matches_rollup")).is_empty()   # the check can fail
        wh.write(ledger.refresh_derived)
        assert dict(wh.sql("select user_id, requests from people_monthly").rows()) == {"u1": 5, "u2": 1}


def test_a_self_hosted_rate_moved_by_a_write_refreshes_every_day_it_prices(tmp_path):
    """A self-hosted cost period's rate is its cost over the tokens logged in it: a load into April moves the rate
    of a March-April period, so the write's window widens to the period: March's rows, priced again at the new
    rate, leave every derived table (replay_stored too) as a full rebuild would."""
    from finance import whole_bill

    with Warehouse(tmp_path / "ledger.duckdb") as wh:
        whole_bill.replace_self_hosted(wh, [whole_bill.SelfHostedCost(
            provider="internal", model="llama-x", start=dt.date(2027, 3, 1), end=dt.date(2027, 4, 30),
            amount_usd=Decimal("100"))])
        [r] = ingest_paths(wh, [write_csv(tmp_path / "march.csv", CANONICAL,
                                          "2027-03-02T10:00:00Z,hour,internal,llama-x,assistant,product,10,1000,200,")])
        assert r.status == "loaded", r.error
        assert wh.sql("select sum(list_cost_usd) from usage_daily").item() == Decimal("100")
        [r] = ingest_paths(wh, [write_csv(tmp_path / "april.csv", CANONICAL,
                                          "2027-04-02T10:00:00Z,hour,internal,llama-x,assistant,product,10,3000,600,")])
        assert r.status == "loaded", r.error
        march = "select sum(list_cost_usd) from {} where {} < date '2027-04-01'"
        assert wh.sql(march.format("usage_daily", "day")).item() == Decimal("25")      # 1,200 of 4,800 tokens
        assert wh.sql(march.format("replay_stored", "ts")).item() == Decimal("25")
        _assert_same_as_full_rebuild(wh)

