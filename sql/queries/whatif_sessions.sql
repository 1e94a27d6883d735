-- whatif_sessions: how much of a date range's replayed request traffic carries a conversation id (usage_raw.
-- session_id, migration 019: OpenTelemetry spans, Langfuse, Helicone, LiteLLM, canonical files), for the What-if
-- page's "what moves together" control. Only requests logged one by one can carry an id: `requests` counts those,
-- `in_totals` the requests the range holds in hourly or daily totals (so the page can say what the count leaves
-- out). The counts come from `replay_buckets` (the stored rows summed per day and dimensions: ~0.3 M rows for the
-- 100 M year's 90 days); only the rows with an id are read from `replay_stored`, the stored copy of
-- `usage_replay`'s rows, by a filter the scan's statistics skip where a column segment holds no id (100 M, 90 days
-- without ids: was a 0.65 CPU s scan of 24.77 M rows). Grain: one row.
-- Params: $start, $end (dates, inclusive).
with counted as (
    select
        coalesce(sum(n) filter (where granularity = 'request'), 0) as requests,
        coalesce(sum(requests) filter (where granularity <> 'request'), 0) as in_totals
    from replay_buckets
    where day >= $start and day <= $end
),

with_ids as (
    select count(*) as with_session, count(distinct session_id) as sessions
    from replay_stored
    where ts >= $start and ts < $end + interval 1 day
        and session_id is not null and granularity = 'request'
),

final as (
    select c.requests, w.with_session, w.sessions, c.in_totals
    from counted as c
    cross join with_ids as w
)

select * from final
