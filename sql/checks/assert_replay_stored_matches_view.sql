-- assert_replay_stored_matches_view: replay_stored must hold usage_replay's rows, priced as the view prices them.
-- Returns a row per day x provider x model where the row count, requests, tokens, billed or list cost, the
-- session ids or the row keys differ (billed and list cost are exact decimals: equal to the cent and below).
with from_view as (
    select cast(ts as date) as day, provider, model, count(*) as row_count, sum(requests) as requests,
           sum(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens) as tokens,
           sum(cost_usd) as billed, sum(list_cost_usd) as listed, count(session_id) as with_session,
           -- a cheap fingerprint of which rows these are (and their attribution): the keys and teams summed
           sum(hash(row_key, team, workload)) as keys
    from usage_replay
    group by all
),
from_stored as (
    select cast(ts as date) as day, provider, model, count(*) as row_count, sum(requests) as requests,
           sum(total_tokens) as tokens,
           sum(cost_usd) as billed, sum(list_cost_usd) as listed, count(session_id) as with_session,
           sum(hash(row_key, team, workload)) as keys
    from replay_stored
    group by all
),
final as (
    select coalesce(v.day, s.day) as day, coalesce(v.provider, s.provider) as provider,
           coalesce(v.model, s.model) as model,
           v.row_count as view_rows, s.row_count as stored_rows, v.billed as view_billed, s.billed as stored_billed,
           v.listed as view_listed, s.listed as stored_listed
    from from_view as v
    full join from_stored as s
        on v.day = s.day and v.provider = s.provider and v.model is not distinct from s.model
    where v.row_count is distinct from s.row_count or v.requests is distinct from s.requests
        or v.tokens is distinct from s.tokens or v.billed is distinct from s.billed
        or v.listed is distinct from s.listed or v.with_session is distinct from s.with_session
        or v.keys is distinct from s.keys
)
select * from final
