-- whatif_sessions: how much of a date range's replayed request traffic carries a conversation id (usage_raw.
-- session_id, migration 019: OpenTelemetry spans, Langfuse, Helicone, LiteLLM, canonical files), for the What-if
-- page's "what moves together" control. Grain: one row. Params: $start, $end (dates, inclusive).
with requests as (
    select session_id
    from usage_replay
    where ts >= $start and ts < $end + interval 1 day and granularity = 'request'
),

final as (
    select
        count(*) as requests,
        count(session_id) as with_session,
        count(distinct session_id) as sessions
    from requests
)

select * from final
