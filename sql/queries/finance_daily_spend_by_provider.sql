-- finance_daily_spend_by_provider: counted spend per provider per day, the input of the forecast and budgets.
-- Spend = usage_daily.spend_usd (billed where reported, else list; 0 for superseded sources).
-- Days without usage are absent (the forecast fills them with 0).
-- Grain: one row per day x provider with usage in the range.
-- Params: $start, $end (dates, inclusive).
with daily as (
    select day, provider, spend_usd from usage_daily where day between $start and $end
),
final as (
    select
        day,
        provider as key,
        cast(sum(spend_usd) as double) as spend_usd
    from daily
    group by day, provider
    order by day, key
)
select * from final
