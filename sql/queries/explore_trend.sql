-- explore_trend: spend per time bucket per group of one chosen dimension, for the Explore page's stacked
-- chart; the $top_n groups by spend in the range keep their name, the rest are summed as 'other'.
-- Spend = billed where reported, else list, counted once where sources overlap (usage_daily.spend_usd).
-- The dimension is a bound value matched against a fixed list of columns (never spliced into the text);
-- a missing value is grouped as '(none)'. Buckets start on the 1st (month), Monday (week) or the day.
-- Filters and the group: macro usage_grouped; the top groups per bucket: top_groups_by_period
-- (sql/migrations/023_shared_macros_2.sql).
-- Grain: one row per bucket per group label (at most $top_n + 1 labels).
-- Params: $start, $end (dates, inclusive); $bucket ('day' | 'week' | 'month'); $dimension ('provider' |
-- 'model' | 'team' | 'project' | 'api_key' | 'user_id' | 'workload' | 'operation' | 'service_tier');
-- $filters (struct of one varchar list per dimension: keep rows whose value is in the list; an empty list
-- keeps every row); $top_n (integer); $coarse (boolean: true only when neither api_key nor user_id is the
-- dimension or filtered on).
with daily as (
    -- $coarse (no user or key grouped or filtered): spend_daily, usage_daily without them, a thousandth of the
    -- rows at 100 M requests; the two nulled columns are then never grouped or filtered on
    select * from usage_daily where day between $start and $end and not $coarse
    union all by name
    select *, null::varchar as user_id, null::varchar as api_key, null::map(varchar, varchar) as labels
    from spend_daily where day between $start and $end and $coarse
),
grouped as (
    select * from usage_grouped(daily, $filters, $dimension)
),
final as (
    select * from top_groups_by_period(grouped, $bucket, $top_n)
)
select * from final
order by period, spend_rank
