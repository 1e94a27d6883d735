-- finance_subscriptions: the seats and subscriptions table as entered (migration 012), with the monthly cost of
-- each line (seats x price per seat, a yearly price over 12).
-- Grain: one row per subscription line. Params: none.
with lines as (
    select * from subscriptions
),
final as (
    select
        vendor, product, team, seats, price_per_seat_usd, period, start_date, end_date, note,
        cast(seats * price_per_seat_usd / case period when 'month' then 1 else 12 end as decimal(18, 6))
            as monthly_usd
    from lines
    order by vendor, product, team, start_date
)
select * from final
