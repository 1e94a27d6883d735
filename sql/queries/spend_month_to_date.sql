-- spend_month_to_date: month-to-date spend and a month-end run-rate for "this month", with the months before.
-- "This month" is the month of the latest day with usage on or before $end (not the calendar month of today),
-- so a ledger of past exports still shows sensible figures. Spend = billed where reported, else list.
-- Run-rate = spend so far / days elapsed (1st .. latest day, inclusive) x days in the month.
-- Grain: exactly one row (as_of_day null when there is no usage on or before $end).
-- Params: $end (date, inclusive).
with daily as (
    select day, spend_usd from spend_daily where day <= $end
),
anchor as (
    select
        max(day) as as_of_day,
        cast(date_trunc('month', max(day)) as date) as month_start
    from daily
),
bounds as (
    select
        as_of_day,
        month_start,
        cast(month_start - interval 1 month as date) as last_month_start,
        cast(month_start - interval 2 month as date) as prior_month_start,
        dayofmonth(as_of_day) as days_elapsed,
        dayofmonth(last_day(as_of_day)) as days_in_month,
        -- the same days of last month, capped at its length (31 Mar -> 1..28/29 Feb)
        least(dayofmonth(as_of_day), dayofmonth(last_day(month_start - interval 1 month))) as last_month_same_days
    from anchor
),
sums as (
    select
        coalesce(sum(d.spend_usd) filter (where d.day >= b.month_start), 0) as this_month_usd,
        coalesce(sum(d.spend_usd) filter (where d.day >= b.last_month_start and d.day < b.month_start), 0)
            as last_month_usd,
        coalesce(sum(d.spend_usd) filter (
            where d.day >= b.last_month_start
            and d.day < b.last_month_start + to_days(b.last_month_same_days)
        ), 0) as last_month_same_days_usd,
        coalesce(sum(d.spend_usd) filter (where d.day >= b.prior_month_start and d.day < b.last_month_start), 0)
            as prior_month_usd
    from bounds as b
    left join daily as d on d.day >= b.prior_month_start
),
final as (
    select
        b.as_of_day,
        b.month_start,
        b.last_month_start,
        b.days_elapsed,
        b.days_in_month,
        b.last_month_same_days,
        cast(s.this_month_usd as decimal(18, 6)) as this_month_usd,
        cast(s.last_month_usd as decimal(18, 6)) as last_month_usd,
        cast(s.last_month_same_days_usd as decimal(18, 6)) as last_month_same_days_usd,
        cast(s.prior_month_usd as decimal(18, 6)) as prior_month_usd,
        cast(s.this_month_usd / b.days_elapsed * b.days_in_month as decimal(18, 6)) as run_rate_usd
    from bounds as b
    cross join sums as s
)
select * from final
