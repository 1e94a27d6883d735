-- finance_daily_spend_by_project: counted spend per project per day, the input of the forecast and budgets.
-- Spend = usage_daily.spend_usd (billed where reported, else list; 0 for superseded sources).
-- Days without usage are absent (the forecast fills them with 0). `monthly_usd`: the part on lines of a month's
-- grain (a cost table, an invoice month), dated on the month's first day: the forecast keeps it out of its daily
-- fit (a whole month on one day) and projects it per month instead (finance/forecast.py).
-- Grain: one row per day x project with usage in the range.
-- Params: $start, $end (dates, inclusive).
with daily as (
    select day, project, spend_usd, granularity from spend_daily where day between $start and $end
),
final as (
    select
        day,
        project as key,
        cast(sum(spend_usd) as double) as spend_usd,
        cast(coalesce(sum(spend_usd) filter (where granularity = 'month'), 0) as double) as monthly_usd
    from daily
    group by day, project
    order by day, key
)
select * from final
