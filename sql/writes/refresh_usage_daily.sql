-- refresh_usage_daily: the rollup interactive pages read instead of raw rows.
-- Grain: one row per day x every dimension of `usage`. Rebuilt in the same transaction as each write, after
-- source_choice. `spend_usd` is what counts toward spend totals: billed where reported, else list, and 0 for a
-- source that another source of the same provider and day supersedes (see source_choice); billed and list
-- cost stay whole for reconciliation.
create or replace table usage_daily as
with daily as (
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
        sum(coalesce(cost_usd, list_cost_usd)) as source_spend_usd,
        count(*) filter (where list_cost_usd is null
            and input_tokens + cache_read_tokens + cache_write_tokens + output_tokens > 0) as unpriced_rows
    from usage
    group by all
),
final as (
    select
        d.* exclude (source_spend_usd),
        coalesce(s.source_kind, 'telemetry') as source_kind,
        coalesce(s.in_spend, true) as in_spend,
        case when coalesce(s.in_spend, true) then d.source_spend_usd else 0 end as spend_usd
    from daily as d
    left join source_choice as s
        on s.provider = d.provider and s.day = d.day and s.source_format = d.source_format
)
select * from final
