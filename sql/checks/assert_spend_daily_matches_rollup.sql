-- assert_spend_daily_matches_rollup: spend_daily must hold usage_daily's totals per day, team and provider.
-- Returns a row per day x team x provider where rows, requests, tokens, billed, list or counted spend differ.
with from_rollup as (
    select day, team, provider, sum(row_count) as row_count, sum(requests) as requests,
           sum(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens) as tokens,
           sum(cost_usd) as billed, sum(list_cost_usd) as listed, sum(spend_usd) as spend
    from usage_daily
    group by all
),
from_spend as (
    select day, team, provider, sum(row_count) as row_count, sum(requests) as requests,
           sum(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens) as tokens,
           sum(cost_usd) as billed, sum(list_cost_usd) as listed, sum(spend_usd) as spend
    from spend_daily
    group by all
),
final as (
    select coalesce(r.day, s.day) as day, coalesce(r.team, s.team) as team,
           coalesce(r.provider, s.provider) as provider,
           r.row_count as rollup_rows, s.row_count as spend_rows, r.spend as rollup_spend, s.spend as spend_spend
    from from_rollup as r
    full join from_spend as s
        on r.day = s.day and r.team is not distinct from s.team and r.provider = s.provider
    where r.row_count is distinct from s.row_count or r.requests is distinct from s.requests
        or r.tokens is distinct from s.tokens or r.billed is distinct from s.billed
        or r.listed is distinct from s.listed or r.spend is distinct from s.spend
)
select * from final
