-- explore_trend: spend per time bucket per group of one chosen dimension, for the Explore page's stacked
-- chart; the $top_n groups by spend in the range keep their name, the rest are summed as 'other'.
-- Spend = billed where reported, else list, counted once where sources overlap (usage_daily.spend_usd).
-- The dimension is a bound value matched against a fixed list of columns (never spliced into the text);
-- a missing value is grouped as '(none)'. Buckets start on the 1st (month), Monday (week) or the day.
-- Filters and the group: macro usage_grouped (sql/migrations/023_shared_macros_2.sql).
-- Grain: one row per bucket per group label (at most $top_n + 1 labels).
-- Params: $start, $end (dates, inclusive); $bucket ('day' | 'week' | 'month'); $dimension ('provider' |
-- 'model' | 'team' | 'project' | 'api_key' | 'user_id' | 'workload' | 'operation' | 'service_tier');
-- $filters (struct of one varchar list per dimension: keep rows whose value is in the list; an empty list
-- keeps every row); $top_n (integer).
with daily as (
    select * from usage_daily where day between $start and $end
),
grouped as (
    select * from usage_grouped(daily, $filters, $dimension)
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
