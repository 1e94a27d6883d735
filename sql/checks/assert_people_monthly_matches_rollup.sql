-- assert_people_monthly_matches_rollup: people_monthly must hold usage_daily's totals per month, team, user and key.
-- Returns a row per month x team x user x key where rows, requests, tokens or counted spend differ.
with from_rollup as (
    select month, team, user_id, api_key, sum(row_count) as row_count, sum(requests) as requests,
           sum(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens) as tokens,
           sum(spend_usd) as spend
    from people_rows(usage_daily)
    group by all
),
from_people as (
    select month, team, user_id, api_key, sum(row_count) as row_count, sum(requests) as requests,
           sum(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens) as tokens,
           sum(spend_usd) as spend
    from people_monthly
    group by all
),
final as (
    select coalesce(r.month, p.month) as month, coalesce(r.team, p.team) as team,
           coalesce(r.user_id, p.user_id) as user_id, coalesce(r.api_key, p.api_key) as api_key,
           r.row_count as rollup_rows, p.row_count as people_rows, r.spend as rollup_spend, p.spend as people_spend
    from from_rollup as r
    full join from_people as p
        on r.month = p.month and r.team is not distinct from p.team and r.user_id is not distinct from p.user_id
            and r.api_key is not distinct from p.api_key
    where r.row_count is distinct from p.row_count or r.requests is distinct from p.requests
        or r.tokens is distinct from p.tokens or r.spend is distinct from p.spend
)
select * from final
