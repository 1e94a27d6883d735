-- spend_by_model_over_time: spend per model per time bucket; the $top_n models by spend in the range keep
-- their name, every other model is summed as 'other' so the chart stays readable (macro top_groups_by_period,
-- sql/migrations/023_shared_macros_2.sql, as in explore_trend).
-- Spend = billed where reported, else list, counted once where sources overlap (usage_daily.spend_usd). Buckets start on the 1st (month), Monday (week) or the day.
-- Grain: one row per bucket per model label (at most $top_n + 1 labels).
-- Params: $start, $end (dates, inclusive); $bucket ('day' | 'week' | 'month'); $top_n (integer).
with daily as (
    select * from spend_daily where day between $start and $end
),
by_model as (
    select *, model as group_value from daily
),
final as (
    select period, group_value as model, spend_rank, spend_usd, requests
    from top_groups_by_period(by_model, $bucket, $top_n)
    order by period, spend_rank
)
select * from final
