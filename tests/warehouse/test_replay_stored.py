"""`replay_stored`: the stored, priced copy of `usage_replay`'s rows that the replay's readers scan instead of
pricing every row again (sql/writes/replay_stored_rows.sql). Every kind of change must leave it equal to the view:
a load adding days, a billing export that takes over a day, an upload removed, a price override, an alias or an
attribution rule changed, a session id filled in by a later export; and a ledger from before it gets it on open."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import polars as pl
from polars.testing import assert_frame_equal

import sql
from ingest import ingest_paths
from tests.conftest import write_csv
from warehouse import Warehouse, config, ledger

CANONICAL = "ts,granularity,provider,model,project,team,requests,input_tokens,output_tokens,cost_usd"
BILLING = "start_time,end_time,project_id,model,num_model_requests,input_tokens,input_cached_tokens,output_tokens"
LITELLM = "request_id,startTime,model,custom_llm_provider,prompt_tokens,completion_tokens,spend,end_user,api_key"
CHECK = "checks/assert_replay_stored_matches_view"


def _stored(wh: Warehouse) -> pl.DataFrame:
    return wh.sql("select * from replay_stored").sort(["ts", "row_hash"])


def _assert_equals_view(wh: Warehouse) -> pl.DataFrame:
    """The table, row for row and to the last decimal, is what the view gives now; and the check agrees."""
    stored = _stored(wh)
    view = wh.sql(sql.load("writes/replay_stored_rows"), first_day=None, last_day=None).sort(["ts", "row_hash"])
    assert stored.height == wh.scalar("select count(*) from usage_replay") > 0
    assert_frame_equal(stored, view, check_exact=True)
    assert wh.sql(sql.load(CHECK)).is_empty()
    return stored


def _load(wh: Warehouse, path) -> None:
    [r] = ingest_paths(wh, [path])
    assert r.status == "loaded", r.error


def test_every_kind_of_write_leaves_the_stored_rows_equal_to_the_view(tmp_path):
    with Warehouse(tmp_path / "ledger.duckdb") as wh:
        # a gateway log of single requests, then a load adding later days
        _load(wh, write_csv(tmp_path / "gw.csv", LITELLM, *[
            f"r{d}-{u},2026-10-{d:02d} 10:00:00,gpt-4o-mini,openai,1000,100,,{u},key-{u}"
            for d in range(1, 11) for u in ("u1", "u2")]))
        first = _assert_equals_view(wh)
        _load(wh, write_csv(tmp_path / "more.csv", LITELLM, *[
            f"s{d},2026-10-{d:02d} 11:00:00,gpt-4o,openai,3000,300,0.02,u3,key-3" for d in range(9, 13)]))
        assert _assert_equals_view(wh).height == first.height + 4

        # a daily file of another provider, then an hourly one of the same source over some of its days: the
        # later file restates those days (their daily rows are replaced); taken out again, they are gone
        _load(wh, write_csv(tmp_path / "daily.csv", CANONICAL, *[
            f"2026-10-{d:02d}T00:00:00Z,day,anthropic,claude-sonnet-4-5,review,engineering,24,9000,900,0.5"
            for d in range(1, 8)]))
        _load(wh, write_csv(tmp_path / "hourly.csv", CANONICAL, *[
            f"2026-10-{d:02d}T{h:02d}:00:00Z,hour,anthropic,claude-sonnet-4-5,review,engineering,1,400,40,"
            for d in range(3, 6) for h in (9, 15)]))
        claude = _assert_equals_view(wh).filter(pl.col("provider") == "anthropic")
        assert claude.group_by("granularity").len().sort("granularity").rows() == [("day", 4), ("hour", 6)]
        hourly = wh.scalar("select ingest_id from ingest_log where file_name like '%hourly.csv'")
        wh.write(ledger.remove_ingest, hourly)
        assert _assert_equals_view(wh).filter(pl.col("provider") == "anthropic").height == 4

        # a billing export's day, then the gateway's requests of that day: the replay reads the more detailed
        # source of a provider-day, so the billing row leaves the table and the requests come in
        day = int(dt.datetime(2026, 10, 20, tzinfo=dt.timezone.utc).timestamp())
        _load(wh, write_csv(tmp_path / "bill.csv", BILLING, f"{day},{day + 86400},proj,gpt-4o-mini,3,6000,0,900"))
        assert _assert_equals_view(wh).filter(pl.col("ts") >= dt.datetime(2026, 10, 20))["granularity"].to_list() \
            == ["day"]
        _load(wh, write_csv(tmp_path / "gw20.csv", LITELLM, *[
            f"t{i},2026-10-20 1{i}:00:00,gpt-4o-mini,openai,2000,300,,u1,key-u1" for i in range(3)]))
        assert _assert_equals_view(wh).filter(pl.col("ts") >= dt.datetime(2026, 10, 20))["granularity"].to_list() \
            == ["request"] * 3

        # a price override on the model the gateway did not price: its list cost moves in the table
        before = wh.scalar("select sum(list_cost_usd) from replay_stored where model = 'gpt-4o-mini'")
        config.replace_overrides(wh, [config.PriceOverride(
            provider="openai", model="gpt-4o-mini", effective_from=dt.date(2026, 1, 1),
            input_mtok=Decimal("1"), output_mtok=Decimal("4"))])
        after = wh.scalar("select sum(list_cost_usd) from replay_stored where model = 'gpt-4o-mini'")
        assert after == Decimal(20 * (1000 * 1 + 100 * 4) + 3 * (2000 * 1 + 300 * 4)) / 1_000_000 != before
        _assert_equals_view(wh)

        # an alias: the model name the table carries is the one the alias resolves to
        config.replace_aliases(wh, [config.ModelAlias(alias="gpt-4o-mini", model="gpt-4o")])
        assert "gpt-4o-mini" not in set(_assert_equals_view(wh)["model"])

        # an attribution rule: the rows' team moves
        config.replace_rules(wh, [config.AttributionRule(field="user_id", pattern="u1", team="support")])
        assert _assert_equals_view(wh).filter(pl.col("team") == "support").height == 13


def test_a_session_id_filled_in_by_a_later_export_reaches_the_stored_rows(tmp_path):
    """A later export that carries session ids fills them into rows loaded without (not a restatement: no row is
    loaded or replaced), and the stored rows, which What-if's conversations read, carry them too."""
    from ingest.formats.mapped import build

    with Warehouse(tmp_path / "ledger.duckdb") as wh:
        head = "id,when,model,in,out"
        rows = ["r-1,2027-03-02T10:00:00Z,gpt-4o,100,10", "r-2,2027-03-02T10:01:00Z,gpt-4o,200,20"]
        cols = {"when": "ts", "model": "model", "in": "input_tokens", "out": "output_tokens"}
        fmt = build({"columns": cols, "constants": {"provider": "openai"}, "key": "id"})
        [r] = ingest_paths(wh, [write_csv(tmp_path / "plain.csv", head, *rows)], fmt=fmt)
        assert r.status == "loaded", r.error
        assert _assert_equals_view(wh)["session_id"].null_count() == 2
        later = write_csv(tmp_path / "later.csv", head + ",thread", rows[0] + ",t-9", rows[1] + ",")
        fmt = build({"columns": {**cols, "thread": "session_id"}, "constants": {"provider": "openai"}, "key": "id"})
        [r] = ingest_paths(wh, [later], fmt=fmt)
        assert (r.rows_loaded, r.rows_duplicate) == (0, 2)
        assert _assert_equals_view(wh)["session_id"].to_list() == ["t-9", None]


def test_the_check_fails_when_the_table_is_stale(tmp_path):
    """A row slipped into usage_raw behind the refresh's back, or an override written without a rebuild: the
    check names the day, provider and model; a refresh of that day (or a rebuild) puts it right."""
    with Warehouse(tmp_path / "ledger.duckdb") as wh:
        _load(wh, write_csv(tmp_path / "a.csv", CANONICAL, *[
            f"2026-03-{d:02d}T10:00:00Z,hour,openai,gpt-4o,assistant,product,10,1000,200," for d in range(1, 4)]))
        _assert_equals_view(wh)
        wh.write(lambda cur: cur.execute(
            "insert into usage_raw select * replace (ts + interval 20 day as ts, hash(ts) as row_key) from usage_raw"))
        wh.write(lambda cur: cur.execute("insert into source_choice select * replace (day + 20 as day) "
                                         "from source_choice"))
        bad = wh.sql(sql.load(CHECK)).sort("day")
        assert bad.select("day", "provider", "model", "view_rows", "stored_rows").rows() == [
            (dt.date(2026, 3, d), "openai", "gpt-4o", 1, None) for d in (21, 22, 23)]
        wh.write(ledger.refresh_derived, (dt.date(2026, 3, 21), dt.date(2026, 3, 23)))
        _assert_equals_view(wh)

        wh.write(lambda cur: cur.execute("insert into price_overrides (provider, model, effective_from, input_mtok, "
                                         "output_mtok) values ('openai', 'gpt-4o', date '2026-01-01', 1, 1)"))
        bad = wh.sql(sql.load(CHECK))
        assert bad.height == 6 and (bad["view_listed"] != bad["stored_listed"]).all()
        wh.write(ledger.refresh_derived)
        _assert_equals_view(wh)


def test_a_ledger_from_before_the_table_gets_it_when_it_opens(tmp_path):
    path = tmp_path / "ledger.duckdb"
    with Warehouse(path) as wh:
        _load(wh, write_csv(tmp_path / "a.csv", CANONICAL, *[
            f"2026-{m:02d}-{d:02d}T10:00:00Z,hour,openai,gpt-4o,assistant,product,10,1000,200,"
            for m in (1, 2, 3) for d in (1, 28)]))
        want = _assert_equals_view(wh)
    con = duckdb.connect(str(path))
    con.execute("drop table replay_stored")
    con.close()
    with Warehouse(path) as wh:
        assert_frame_equal(_assert_equals_view(wh), want, check_exact=True)
        # stored by day, a month at a time (a period's read skips the other row groups); one row a day here
        assert wh.sql("select ts from replay_stored order by rowid")["ts"].is_sorted()


def _day_then_tokens(wh: Warehouse) -> pl.DataFrame:
    """The stored rows' time and total tokens, in storage order."""
    return wh.sql("select ts, total_tokens from replay_stored order by rowid")


def test_the_stored_rows_are_ordered_by_day_then_total_tokens(tmp_path):
    """The stored order (ledger.STORED_ORDER) is what lets a period's read skip other days' row groups and a read of a
    range of total tokens (the boundary bucket of Budgets' impact and of What-if's sliders) decompress only the
    vectors holding it: by day, then by total tokens within the day, for a file over several days written out of
    time order and for a one-day file alike. Within a day here the larger requests come first in time, so a time
    order would fail."""
    with Warehouse(tmp_path / "ledger.duckdb") as wh:
        _load(wh, write_csv(tmp_path / "days.csv", LITELLM, *[
            f"r{d}-{h},2026-10-{d:02d} {h:02d}:00:00,gpt-4o-mini,openai,{tokens},100,,u{d % 3},key-{h}"
            for d in (5, 2, 8, 1, 9, 3, 7, 4, 6) for h, tokens in ((20, 1000), (8, 3000), (14, 2000))]))
        _assert_equals_view(wh)
        stored = _day_then_tokens(wh)
        assert stored.height == 27
        assert stored["ts"].dt.date().is_sorted()
        assert stored.select(pl.col("ts").dt.date().cast(pl.Int64) * 10**9 + pl.col("total_tokens")) \
            .to_series().is_sorted()
        assert not stored["ts"].is_sorted()
        _load(wh, write_csv(tmp_path / "day.csv", LITELLM, *[
            f"s{h},2026-10-12 {h:02d}:00:00,gpt-4o,openai,{tokens},300,0.02,u3,key-3"
            for h, tokens in ((23, 3000), (5, 5000), (14, 1000))]))
        _assert_equals_view(wh)
        day = _day_then_tokens(wh).filter(pl.col("ts") >= dt.datetime(2026, 10, 12))
        assert day["total_tokens"].to_list() == [1300, 3300, 5300]
