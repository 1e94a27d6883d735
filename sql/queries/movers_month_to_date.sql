-- movers_month_to_date: which teams and models moved spend most, this month so far against the same days of
-- last month (the month-to-date KPI's comparison). Spend = counted spend (usage_daily.spend_usd).
-- Grain: one row per dimension (team | model) x value with spend in either window, biggest absolute change first.
-- Params: $month_start, $end (this month's window, inclusive); $prev_start, $prev_end (last month's same days).
with windows as (
    select
        team, model, spend_usd,
        day between $month_start and $end as is_now,
        day between $prev_start and $prev_end as is_before
    from spend_daily
    where day between $prev_start and $end
),
by_dim as (
    select 'team' as dimension, team as value,
           sum(spend_usd) filter (where is_now) as now_usd,
           sum(spend_usd) filter (where is_before) as before_usd
    from windows group by team
    union all
    select 'model', model,
           sum(spend_usd) filter (where is_now),
           sum(spend_usd) filter (where is_before)
    from windows group by model
),
final as (
    select
        dimension, value,
        cast(coalesce(now_usd, 0) as decimal(18, 6)) as now_usd,
        cast(coalesce(before_usd, 0) as decimal(18, 6)) as before_usd,
        cast(coalesce(now_usd, 0) - coalesce(before_usd, 0) as decimal(18, 6)) as change_usd
    from by_dim
    where coalesce(now_usd, 0) <> 0 or coalesce(before_usd, 0) <> 0
)
select * from final
order by abs(change_usd) desc, dimension, value
