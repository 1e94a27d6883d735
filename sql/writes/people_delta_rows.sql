-- people_delta_rows: the people rows (macro people_rows, migration 030: month, team, user, key, in_spend and the two
-- row conditions, with the measures people_monthly sums) of `usage_daily`'s days $first_day..$last_day, each tagged
-- with $sign. warehouse/ledger.py (refresh_derived) keeps them in temp table people_delta on an ordinary write:
-- those days' rows before it deletes them from usage_daily ($sign -1) and after it inserts them again ($sign +1),
-- so writes/people_monthly_merge.sql moves only the month groups they touch by their difference, instead of
-- summing the whole month of usage_daily again (1.3 M rows for a 31-day month at 100 M request rows a year; a
-- day's ≈ 70 k). Every measure is a count, a token sum or a DECIMAL(38, 12) amount: the difference is exact.
-- Grain: one row per usage_daily row of those days. Params: $first_day, $last_day (dates), $sign (-1 or 1)
with in_days as (
    select *
    from usage_daily
    where day between $first_day and $last_day
),
final as (
    select *, $sign as _sign
    from people_rows(in_days)
)
select * from final
