-- ledger_date_range: the first and last day with usage in the ledger, for the dashboard's date-range default.
-- Grain: exactly one row (both columns null when the ledger is empty).
-- Params: none.
with daily as (
    select day, row_count from spend_daily
),
final as (
    select
        min(day) as first_day,
        max(day) as last_day,
        coalesce(sum(row_count), 0)::bigint as row_count
    from daily
)
select * from final
