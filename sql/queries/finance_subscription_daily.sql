-- finance_subscription_daily: seats and subscriptions spread per day (migration 012): a day's cost is seats x
-- price per seat / the days of that day's month (period `month`) or year (period `year`), so a whole month of a
-- monthly subscription costs exactly seats x price. Days from start_date through end_date (open: $end).
-- Grain: one row per day x vendor x product x team (lines of the same product and team summed).
-- Params: $start, $end (dates, inclusive).
with lines as (
    select * from subscriptions
    where start_date <= $end and (end_date is null or end_date >= $start)
),
days as (
    select
        l.*,
        cast(d.day as date) as day
    from lines as l,
        generate_series(cast(greatest(l.start_date, $start) as timestamp),
                        cast(least(coalesce(l.end_date, $end), $end) as timestamp), interval 1 day) as d(day)
),
final as (
    select
        day,
        vendor,
        product,
        team,
        sum(seats)::bigint as seats,
        cast(sum(seats * price_per_seat_usd / case period
            when 'month' then day(last_day(day))
            else datediff('day', date_trunc('year', day), date_trunc('year', day) + interval 1 year) end)
            as decimal(18, 6)) as cost_usd
    from days
    group by all
    order by day, vendor, product, team
)
select * from final
