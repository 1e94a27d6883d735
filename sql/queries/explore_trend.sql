-- explore_trend: spend per time bucket per group of one chosen dimension, for the Explore page's stacked
-- chart; the $top_n groups by spend in the range keep their name, the rest are summed as 'other'.
-- Spend = billed where reported, else list, counted once where sources overlap (usage_daily.spend_usd).
-- The dimension is a bound value matched against a fixed list of columns (never spliced into the text);
-- a missing value is grouped as '(none)'. Buckets start on the 1st (month), Monday (week) or the day.
-- Grain: one row per bucket per group label (at most $top_n + 1 labels).
-- Params: $start, $end (dates, inclusive); $bucket ('day' | 'week' | 'month'); $dimension ('provider' |
-- 'model' | 'team' | 'project' | 'api_key' | 'user_id' | 'workload' | 'operation' | 'service_tier');
-- $filters (struct of one varchar list per dimension: keep rows whose value is in the list; an empty list
-- keeps every row); $top_n (integer).
with daily as (
    select * from usage_daily where day between $start and $end
),
filtered as (
    select * from daily
    where (len($filters.provider) = 0 or list_contains($filters.provider::varchar[], coalesce(provider, '(none)')))
      and (len($filters.model) = 0 or list_contains($filters.model::varchar[], coalesce(model, '(none)')))
      and (len($filters.team) = 0 or list_contains($filters.team::varchar[], coalesce(team, '(none)')))
      and (len($filters.project) = 0 or list_contains($filters.project::varchar[], coalesce(project, '(none)')))
      and (len($filters.api_key) = 0 or list_contains($filters.api_key::varchar[], coalesce(api_key, '(none)')))
      and (len($filters.user_id) = 0 or list_contains($filters.user_id::varchar[], coalesce(user_id, '(none)')))
      and (len($filters.workload) = 0 or list_contains($filters.workload::varchar[], coalesce(workload, '(none)')))
      and (len($filters.operation) = 0
           or list_contains($filters.operation::varchar[], coalesce(operation, '(none)')))
      and (len($filters.service_tier) = 0
           or list_contains($filters.service_tier::varchar[], coalesce(service_tier, '(none)')))
),
grouped as (
    select
        *,
        coalesce(case $dimension
            when 'provider' then provider
            when 'model' then model
            when 'team' then team
            when 'project' then project
            when 'api_key' then api_key
            when 'user_id' then user_id
            when 'workload' then workload
            when 'operation' then operation
            when 'service_tier' then service_tier
        end, '(none)') as group_value
    from filtered
),
group_totals as (
    select group_value, sum(coalesce(spend_usd, 0)) as total_usd
    from grouped
    group by group_value
),
ranked as (
    select group_value, row_number() over (order by total_usd desc, group_value) as spend_rank
    from group_totals
),
labelled as (
    select
        cast(date_trunc($bucket, g.day) as date) as period,
        case when r.spend_rank <= $top_n then g.group_value else 'other' end as group_value,
        case when r.spend_rank <= $top_n then r.spend_rank else $top_n + 1 end as spend_rank,
        g.spend_usd,
        g.requests,
        g.in_spend
    from grouped as g
    join ranked as r on r.group_value = g.group_value
),
final as (
    select
        period,
        group_value,
        min(spend_rank) as spend_rank,
        cast(coalesce(sum(spend_usd), 0) as decimal(18, 6)) as spend_usd,
        coalesce(sum(requests) filter (where in_spend), 0)::bigint as requests
    from labelled
    group by period, group_value
)
select * from final
order by period, spend_rank
