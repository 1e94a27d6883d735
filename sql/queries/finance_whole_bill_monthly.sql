-- finance_whole_bill_monthly: the whole AI bill per team and month: counted token spend (usage_daily, which
-- prices self-hosted models at their effective rate), seats and subscriptions spread per day (as
-- finance_subscription_daily), their sum, seats held, active users (distinct user ids the usage names; null when
-- no source of the team names users) and the cost per active user.
-- Token spend and users per month and team come from people_monthly for the months the range holds whole, and
-- from usage_daily for the days of a month it cuts (macro people_in_range, migration 030): exact for any range,
-- and a month of a 100 M-row year sums ~105 k rows, not ~1.3 M.
-- Grain: one row per month x team with token spend or a subscription. Params: $start, $end (dates, inclusive).
with tokens as (
    select
        month,
        team,
        sum(spend_usd) as token_usd,
        count(distinct user_id) as active_users
    from people_in_range(people_monthly, usage_daily, spend_daily, $start, $end)
    where in_spend
    group by all
),
lines as (
    select * from subscriptions
    where start_date <= $end and (end_date is null or end_date >= $start)
),
seat_days as (
    select
        cast(d.day as date) as day,
        l.team,
        l.seats,
        l.seats * l.price_per_seat_usd / case l.period
            when 'month' then day(last_day(cast(d.day as date)))
            else datediff('day', date_trunc('year', d.day), date_trunc('year', d.day) + interval 1 year) end
            as cost_usd
    from lines as l,
        generate_series(cast(greatest(l.start_date, $start) as timestamp),
                        cast(least(coalesce(l.end_date, $end), $end) as timestamp), interval 1 day) as d(day)
),
team_days as (
    select day, team, sum(seats) as day_seats, sum(cost_usd) as cost_usd
    from seat_days
    group by all
),
seats as (
    select
        cast(date_trunc('month', day) as date) as month,
        team,
        sum(cost_usd) as seat_usd,
        -- seats held: the most on any day of the month
        max(day_seats) as seats
    from team_days
    group by all
),
final as (
    select
        month,
        team,
        cast(coalesce(t.token_usd, 0) as decimal(18, 6)) as token_usd,
        cast(coalesce(s.seat_usd, 0) as decimal(18, 6)) as seat_usd,
        cast(coalesce(t.token_usd, 0) + coalesce(s.seat_usd, 0) as decimal(18, 6)) as total_usd,
        s.seats::bigint as seats,
        nullif(t.active_users, 0)::bigint as active_users,
        cast((coalesce(t.token_usd, 0) + coalesce(s.seat_usd, 0)) / nullif(t.active_users, 0) as decimal(18, 6))
            as cost_per_active_user_usd
    from tokens as t
    full join seats as s using (month, team)
    order by month, total_usd desc, team
)
select * from final
