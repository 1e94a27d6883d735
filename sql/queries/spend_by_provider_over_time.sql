-- spend_by_provider_over_time: spend per provider per time bucket, for the stacked spend-over-time chart.
-- Spend = billed where reported, else list, counted once where sources overlap (usage_daily.spend_usd). Buckets start on the 1st (month), Monday (week) or the day.
-- Grain: one row per bucket per provider with usage.
-- Params: $start, $end (dates, inclusive); $bucket ('day' | 'week' | 'month', a value for date_trunc).
with daily as (
    select * from spend_daily where day between $start and $end
),
bucketed as (
    select
        cast(date_trunc($bucket, day) as date) as period,
        provider,
        spend_usd,
        requests,
        in_spend
    from daily
),
final as (
    select
        period,
        provider,
        cast(coalesce(sum(spend_usd), 0) as decimal(18, 6)) as spend_usd,
        coalesce(sum(requests) filter (where in_spend), 0)::bigint as requests
    from bucketed
    group by period, provider
    order by period, provider
)
select * from final
