-- whatif_sessions: how much of a date range's replayed request traffic carries a conversation id (usage_raw.
-- session_id, migration 019: OpenTelemetry spans, Langfuse, Helicone, LiteLLM, canonical files), for the What-if
-- page's "what moves together" control. Only requests logged one by one can carry an id: `requests` counts those,
-- `in_totals` the requests the range holds in hourly or daily totals (so the page can say what the count leaves
-- out). Read from `replay_stored`, the stored copy of `usage_replay`'s rows. Grain: one row.
-- Params: $start, $end (dates, inclusive).
with replayed as (
    select granularity, requests, session_id
    from replay_stored
    where ts >= $start and ts < $end + interval 1 day
),

final as (
    select
        count(*) filter (where granularity = 'request') as requests,
        count(session_id) filter (where granularity = 'request') as with_session,
        count(distinct session_id) filter (where granularity = 'request') as sessions,
        coalesce(sum(requests) filter (where granularity <> 'request'), 0) as in_totals
    from replayed
)

select * from final
