"""Write jobs on the ledger that other parts share: derived tables refreshed after any change of data, rules or
prices, and removing an upload. Each function runs on the writer's cursor inside its transaction."""

from __future__ import annotations

import datetime as dt

import duckdb

import sql
from warehouse import audit, prices
from warehouse.db import execute

Days = tuple[dt.date, dt.date]


def _day(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def refresh_derived(cur: duckdb.DuckDBPyConnection, days: tuple[dt.date | dt.datetime, dt.date | dt.datetime] | None
                    = None) -> None:
    """Model names resolved, attribution applied, rollups rebuilt: everything the view's readers rely on.

    `days=(first, last)` (dates or timestamps, both ends included): only the rows of those days changed, and
    rules, prices and aliases did not. Then only new names are resolved, only dimension sets first seen in those
    days are attributed, and `source_choice`, `usage_daily`, `spend_daily`, `key_daily`, `replay_stored` and
    `replay_buckets` are rebuilt for those days alone (their rows depend only on the usage of their own day), and
    the `people_monthly` groups of their months move by those days' difference (refresh_people_monthly), so a daily
    file costs the size of the file and of its days, not of its month or the ledger.
    `days=None`: everything is rebuilt from all rows (after a rule, price or alias change, or on an old ledger).
    """
    window = {"first_day": _day(days[0]), "last_day": _day(days[1])} if days else {"first_day": None, "last_day": None}
    prices.resolve_new_models(cur, days=window)
    if days is None:
        cur.execute("delete from dim_attribution")   # a rule change: every set is evaluated again
    execute(cur, sql.load("writes/apply_attribution"), window)
    cur.execute("delete from source_choice where ($first_day is null or day >= $first_day) "
                "and ($last_day is null or day <= $last_day)", window)
    execute(cur, sql.load("writes/refresh_source_choice"), window)
    moved = refresh_self_hosted_rates(cur, days=(window["first_day"], window["last_day"]) if days else None)
    if days is not None and moved is not None:
        # a self-hosted period's rate moved (new tokens in it): every day of that period is priced anew
        window = {"first_day": min(window["first_day"], moved[0]), "last_day": max(window["last_day"], moved[1])}
    if days is None:
        create_usage_daily(cur)
        create_replay_stored(cur)
        create_replay_buckets(cur)
        return
    # people_monthly moves by the written days' difference: their people rows before the write, then after it
    execute(cur, "create or replace temp table people_delta as " + sql.load("writes/people_delta_rows"),
            {**window, "sign": -1})
    cur.execute("delete from usage_daily where day between $first_day and $last_day", window)
    execute(cur, "insert into usage_daily by name " + sql.load("writes/usage_daily_rows"), window)
    cur.execute("delete from spend_daily where day between $first_day and $last_day", window)
    execute(cur, "insert into spend_daily by name " + sql.load("writes/spend_daily_rows"), window)
    cur.execute("delete from key_daily where day between $first_day and $last_day", window)
    execute(cur, "insert into key_daily by name " + sql.load("writes/key_daily_rows"), window)
    refresh_replay_stored(cur, window)
    refresh_replay_buckets(cur, window)
    execute(cur, "insert into people_delta by name " + sql.load("writes/people_delta_rows"), {**window, "sign": 1})
    refresh_people_monthly(cur, window["first_day"].replace(day=1), window["last_day"].replace(day=1))


def refresh_people_monthly(cur: duckdb.DuckDBPyConnection, first_month: dt.date, last_month: dt.date) -> None:
    """Move the `people_monthly` rows of the months first_month..last_month by the written days' difference (temp
    table people_delta: their people rows before the write with sign -1, after it with +1), instead of regrouping
    those months of usage_daily (1.3 M rows for a 31-day month at 100 M request rows a year). Exact, as every
    measure is a count, a token sum or a DECIMAL amount; tests/warehouse/test_rollup_incremental.py checks it equals
    a full rebuild."""
    months = {"first_month": first_month, "last_month": last_month}
    execute(cur, "create or replace temp table people_merged as " + sql.load("writes/people_monthly_merge"), months)
    cur.execute("delete from people_monthly where month between $first_month and $last_month", months)
    cur.execute("insert into people_monthly by name select * from people_merged")
    cur.execute("drop table people_delta; drop table people_merged")


# the self-hosted rates of the cost periods overlapping $first_day..$last_day (every period when $first_day is null)
_RATES_TOUCHED = ("select provider, model, valid_from, valid_to, usd_per_mtok from self_hosted_rates "
                  "where $first_day is null "
                  "or (cast(valid_from as date) <= $last_day and cast(valid_to as date) > $first_day)")
_DELETE_RATES_TOUCHED = ("delete from self_hosted_rates "
                         "where $first_day is null "
                         "or (cast(valid_from as date) <= $last_day and cast(valid_to as date) > $first_day)")


def refresh_self_hosted_rates(cur: duckdb.DuckDBPyConnection, days: Days | None = None) -> Days | None:
    """Recompute the effective $/1M tokens of the self-hosted cost periods (migration 013) from the tokens now
    logged: every period, or with `days=(first, last)` (an ordinary write) only the periods overlapping those days,
    reading only their days of usage (a period's rate depends on its own days alone, and only the written days
    changed). Return the first and last day of the periods whose rate changed (their list costs move), or None."""
    window = {"first_day": days[0] if days else None, "last_day": days[1] if days else None}
    if days is not None:
        first, last = cur.execute("select min(start_date), max(end_date) from self_hosted_costs "
                                  "where start_date <= $last_day and end_date >= $first_day", window).fetchone()
        if first is None:
            return None     # no cost period overlaps the written days: no rate can have moved
        scan = {"scan_from": dt.datetime.combine(first, dt.time()),
                "scan_to": dt.datetime.combine(last + dt.timedelta(days=1), dt.time())}
    else:
        scan = {"scan_from": None, "scan_to": None}
    before = set(cur.execute(_RATES_TOUCHED, window).fetchall())
    cur.execute(_DELETE_RATES_TOUCHED, window)
    execute(cur, sql.load("writes/refresh_self_hosted_rates"), {**window, **scan})
    changed = before ^ set(cur.execute(_RATES_TOUCHED, window).fetchall())
    if not changed:
        return None
    return (min(c[2] for c in changed).date(), max(c[3] - dt.timedelta(days=1) for c in changed).date())


def create_usage_daily(cur: duckdb.DuckDBPyConnection) -> None:
    """(Re)create the rollup from every row: its columns are the query's. `spend_daily`, `key_daily` and
    `people_monthly`, its coarser copies, with it."""
    execute(cur, "create or replace table usage_daily as " + sql.load("writes/usage_daily_rows"),
            {"first_day": None, "last_day": None})
    create_spend_daily(cur)
    create_key_daily(cur)
    create_people_monthly(cur)


def create_people_monthly(cur: duckdb.DuckDBPyConnection) -> None:
    """(Re)create `people_monthly` (usage_daily per month x team x user x key: sql/writes/people_monthly_rows.sql)
    from the whole of `usage_daily`."""
    execute(cur, "create or replace table people_monthly as " + sql.load("writes/people_monthly_rows"),
            {"first_month": None, "last_month": None})


def create_spend_daily(cur: duckdb.DuckDBPyConnection) -> None:
    """(Re)create `spend_daily` (usage_daily without user, key and labels: sql/writes/spend_daily_rows.sql) from
    the whole of `usage_daily`, with usage_daily's own column types (the sums are cast back to them)."""
    cur.execute("create or replace table spend_daily as "
                "select * exclude (user_id, api_key, labels) from usage_daily with no data")
    execute(cur, "insert into spend_daily by name " + sql.load("writes/spend_daily_rows"),
            {"first_day": None, "last_day": None})


def create_key_daily(cur: duckdb.DuckDBPyConnection) -> None:
    """(Re)create `key_daily` (usage_daily without user and labels: sql/writes/key_daily_rows.sql) from the whole
    of `usage_daily`, with usage_daily's own column types."""
    cur.execute("create or replace table key_daily as "
                "select * exclude (user_id, labels) from usage_daily with no data")
    execute(cur, "insert into key_daily by name " + sql.load("writes/key_daily_rows"),
            {"first_day": None, "last_day": None})


# the rollups built from `usage_daily` alone, by table: a ledger from before one of them gets it when it opens
COARSER_ROLLUPS = {"spend_daily": create_spend_daily, "key_daily": create_key_daily,
                   "people_monthly": create_people_monthly}


def refresh_replay_stored(cur: duckdb.DuckDBPyConnection, window: dict[str, dt.date]) -> None:
    """Replace the `replay_stored` rows of the days window["first_day"]..window["last_day"] with the view's."""
    cur.execute("delete from replay_stored where ts >= $first_day and ts < $last_day + interval 1 day", window)
    _insert_replay_stored(cur, window)


# the stored order: by day (a read of a period skips the row groups of other days), and within a day by the ranking
# key `total_tokens` (a range of it, the boundary bucket of a `simplest` pick, is then one run of rows per day: the
# scan decompresses the other columns only in the vectors holding it; docs/benchmarks.md "eleventh session")
STORED_ORDER = "\norder by cast(ts as date), total_tokens"


def _insert_replay_stored(cur: duckdb.DuckDBPyConnection, window: dict[str, dt.date | None]) -> None:
    """Insert the view's rows of the window's days in STORED_ORDER: by day, and by total tokens within a day (so
    Budgets' and What-if's read of one bucket of the key touches a few vectors per day, not every one)."""
    rows = sql.load("writes/replay_stored_rows")
    # `+` keeps the text's origin (sql.Text): an error, or bench/profile_ingest.py, names the .sql file
    execute(cur, "insert into replay_stored by name " + rows + STORED_ORDER, window)


def create_replay_stored(cur: duckdb.DuckDBPyConnection) -> None:
    """(Re)create `replay_stored` (the stored, priced rows of `usage_replay`: sql/writes/replay_stored_rows.sql)
    from every row, one month at a time in time order (so each insert sorts a month, not the ledger, and a period's
    read skips the row groups outside it)."""
    none = {"first_day": None, "last_day": None}
    execute(cur, "create or replace table replay_stored as " + sql.load("writes/replay_stored_rows") + " limit 0",
            none)
    first, last = cur.execute("select min(ts), max(ts) from usage_raw").fetchone()
    if first is None:
        return
    month = first.date().replace(day=1)
    while month <= last.date():
        following = (month + dt.timedelta(days=32)).replace(day=1)
        _insert_replay_stored(cur, {"first_day": month, "last_day": following - dt.timedelta(days=1)})
        month = following


def refresh_replay_buckets(cur: duckdb.DuckDBPyConnection, window: dict[str, dt.date]) -> None:
    """Replace the `replay_buckets` rows of the days window["first_day"]..window["last_day"] (after
    `replay_stored`'s, which they sum)."""
    cur.execute("delete from replay_buckets where day between $first_day and $last_day", window)
    execute(cur, "insert into replay_buckets by name " + sql.load("writes/replay_buckets_rows"), window)


def create_replay_buckets(cur: duckdb.DuckDBPyConnection) -> None:
    """(Re)create `replay_buckets` (`replay_stored` summed per day, dimensions and bucket of total tokens:
    sql/writes/replay_buckets_rows.sql) from the whole of `replay_stored`."""
    execute(cur, "create or replace table replay_buckets as " + sql.load("writes/replay_buckets_rows"),
            {"first_day": None, "last_day": None})


# the tables derived from the rows themselves, by table (in build order: the buckets sum the stored rows): a ledger
# from before one of them gets it when it opens
STORED_ROWS = {"replay_stored": create_replay_stored, "replay_buckets": create_replay_buckets}


def remove_ingest(cur: duckdb.DuckDBPyConnection, ingest_id: int) -> int:
    """Take one upload's rows out of the ledger; its log row stays, marked removed, so history is kept."""
    first, last = cur.execute("select min(ts), max(ts) from usage_raw where ingest_id = $id", {"id": ingest_id}).fetchone()
    removed = cur.execute("delete from usage_raw where ingest_id = $id", {"id": ingest_id}).fetchone()[0]
    cur.execute("update ingest_log set status = 'removed' where ingest_id = $id", {"id": ingest_id})
    if removed:
        refresh_derived(cur, days=(first, last))
    name = cur.execute("select file_name from ingest_log where ingest_id = $id", {"id": ingest_id}).fetchone()
    audit.record(cur, "remove_upload", name[0] if name else None, {"ingest_id": ingest_id, "rows_removed": removed})
    return removed
