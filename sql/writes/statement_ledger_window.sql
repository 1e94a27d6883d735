-- statement_ledger_window: the ledger rows a statement (a file without request ids: a cost or usage export of a
-- window) speaks for: rows of the same format (or its family: a dashboard CSV and its API) and scope (provider,
-- account, project/workspace, operation) whose buckets overlap the file's own span, from its first bucket's start
-- to its last bucket's end. An hourly export of a day overlaps that day's daily row (and the other way round);
-- the next page of an hourly pull that starts at noon does not overlap the morning's hours. Rows of the loads in $together (this one, and for a billing export split
-- into part files, its other parts loaded in the same call) are not spoken for.
-- Grain: one row per usage_raw row. params: $formats (format ids), $together (ingest ids)
create or replace temp table ledger_window as
with good as (
    select ts, granularity, usage_scope(provider, account, project, operation) as _scope
    from staged
    where _errors is null
),
span as (
    -- a request (a point in time) ends a microsecond after it starts, so the file's last request is inside
    select min(ts) as lo, max(greatest(bucket_end(ts, granularity), ts + interval 1 microsecond)) as hi from good
),
scopes as (
    select distinct _scope from good
),
final as (
    select
        u.*,
        cast(u.ts as date) as _day,
        usage_scope(u.provider, u.account, u.project, u.operation) as _scope,
        usage_content_hash(ts, granularity, provider, model, model_raw, account, project, api_key, user_id,
            team, workload, operation, service_tier, requests, input_tokens, cache_read_tokens, cache_write_tokens,
            output_tokens, reasoning_tokens, cost_usd) as _h
    from usage_raw as u, span as s
    where list_contains($formats, u.source_format)
      and not list_contains($together, u.ingest_id)
      and u.ts >= s.lo - interval 31 day and u.ts < s.hi
      and greatest(bucket_end(u.ts, u.granularity), u.ts + interval 1 microsecond) > s.lo
      and usage_scope(u.provider, u.account, u.project, u.operation) in (select _scope from scopes)
)
select * from final
