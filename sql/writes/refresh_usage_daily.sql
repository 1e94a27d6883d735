-- refresh_usage_daily: the rollup interactive pages read instead of raw rows.
-- Grain: one row per day x every dimension of `usage`. Rebuilt in the same transaction as each write.
create or replace table usage_daily as
select
    cast(date_trunc('day', ts) as date) as day,
    provider, model, account, project, api_key, user_id, team, workload, operation, service_tier,
    granularity, source_format,
    count(*) as row_count,
    sum(requests)::bigint as requests,
    sum(input_tokens)::bigint as input_tokens,
    sum(cache_read_tokens)::bigint as cache_read_tokens,
    sum(cache_write_tokens)::bigint as cache_write_tokens,
    sum(output_tokens)::bigint as output_tokens,
    sum(reasoning_tokens)::bigint as reasoning_tokens,
    sum(cost_usd) as cost_usd,
    sum(list_cost_usd) as list_cost_usd,
    -- the baseline of DESIGN.md: billed where reported, else list
    sum(coalesce(cost_usd, list_cost_usd)) as spend_usd,
    count(*) filter (where list_cost_usd is null) as unpriced_rows
from usage
group by all
