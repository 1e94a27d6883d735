-- assert_rollup_matches_usage: usage_daily must hold the same totals as the usage view it is built from.
-- Returns a row when requests, tokens, billed or list cost differ.
with from_view as (
    select count(*) as row_count, sum(requests) as requests,
           sum(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens) as tokens,
           coalesce(sum(cost_usd), 0) as billed, coalesce(sum(list_cost_usd), 0) as listed
    from usage
),
from_rollup as (
    select coalesce(sum(row_count), 0) as row_count, coalesce(sum(requests), 0) as requests,
           coalesce(sum(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens), 0) as tokens,
           coalesce(sum(cost_usd), 0) as billed, coalesce(sum(list_cost_usd), 0) as listed
    from usage_daily
),
final as (
    select v.*, r.* from from_view v, from_rollup r
    where v.row_count <> r.row_count or v.requests <> r.requests or v.tokens <> r.tokens
        or v.billed <> r.billed or v.listed <> r.listed
)
select * from final
