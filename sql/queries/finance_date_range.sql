-- finance_date_range: the first and last day with counted spend, the default "as of" day of forecasts,
-- budgets and alerts (the ledger's last day, not today, so a ledger of past exports still reads sensibly).
-- Grain: exactly one row (both null when the ledger is empty).
-- Params: none.
with daily as (
    select day from spend_daily
),
final as (
    select min(day) as first_day, max(day) as last_day from daily
)
select * from final
