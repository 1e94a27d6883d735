-- replay_stored_rows: the rows of `replay_stored`, the stored, priced copy of `usage_replay` (the rows the replay
-- reads: per provider and day, the most detailed source), narrowed to the columns the replay's readers use
-- (sql/simulate/replay_rows.sql, graded_rows.sql, request_grades.sql, replay_out_of_scope.sql,
-- queries/whatif_sessions.sql), for the days $first_day..$last_day (both null: every day). The writer orders them
-- (warehouse/ledger.py STORED_ORDER: by day, so a read of a period skips the row groups outside it, and by
-- total_tokens within a day, so a read of a range of it touches one run of rows per day). Every read of `usage_replay` prices each row again (model map,
-- catalog and override price intervals, attribution, source choice: ~2.6 cpu-s per 10 M rows, docs/benchmarks.md
-- "What-if cold at 100 M, eighth session"); a read of this table is a scan of stored columns. The view stays the
-- one definition of the rows and their prices: this query selects from it, nothing is priced here.
-- warehouse/ledger.py (refresh_derived) maintains it like `usage_daily`: an ordinary write deletes and inserts its
-- days (a day's rows depend only on that day's usage and source choice); a price, alias, rule or whole-bill change
-- rebuilds it. sql/checks/assert_replay_stored_matches_view.sql checks it against the view.
-- `row_hash` is the replay's tie-break and random-pick key (DuckDB's hash of the row's identifying columns; the
-- lake exports the same hash as `row_hash`, warehouse/spark.py reads that), `total_tokens` the ranking key of the
-- token-size picks and of a scope's token bounds.
-- Grain: one row per `usage_replay` row of the days.
-- Params: $first_day, $last_day (dates, or both null).
with in_days as (
    select *
    from usage_replay
    where (cast($first_day as date) is null or ts >= cast($first_day as date))
        and (cast($last_day as date) is null or ts < cast($last_day as date) + interval 1 day)
),
final as (
    select
        ts, granularity, provider, model, project, team, workload, service_tier, requests,
        input_tokens, cache_read_tokens, cache_write_tokens, output_tokens,
        cost_usd, list_cost_usd,
        input_tokens + cache_read_tokens + cache_write_tokens + output_tokens as total_tokens,
        hash(ts, provider, model_raw, account, project, api_key, user_id, requests, input_tokens,
             cache_read_tokens, cache_write_tokens, output_tokens, ingest_id) as row_hash,
        session_id,
        row_key
    from in_days
)
select * from final
