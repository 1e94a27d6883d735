-- people_monthly_merge: the `people_monthly` rows of the months $first_month..$last_month after an ordinary write:
-- their rows as they stand plus the written days' people rows after the write minus theirs before (temp table
-- people_delta: writes/people_delta_rows.sql, sign +1 / -1), summed per group. A month's groups are ≈ 105 k rows
-- at 100 M request rows a year and a day's delta ≈ 70 k, against the 1.3 M usage_daily rows a 31-day month holds
-- that a regrouping would read. A group whose rows all went (an upload removed, a day's source no longer counted)
-- nets to row_count 0 and is left out, as a full rebuild (writes/people_monthly_rows.sql) would not have it.
-- warehouse/ledger.py (refresh_people_monthly) deletes those months and inserts these rows by name (the sums cast
-- back to people_monthly's column types).
-- Grain: one row per month x team x user_id x api_key x in_spend x has_requests x has_tokens with rows.
-- Params: $first_month, $last_month (first days of the months of the written days)
with current as (
    select *, 1 as _sign
    from people_monthly
    where month between $first_month and $last_month
),
summed as (
    select
        month, team, user_id, api_key, in_spend, has_requests, has_tokens,
        sum(columns(* exclude (month, team, user_id, api_key, in_spend, has_requests, has_tokens, _sign)) * _sign)
    from (select * from current union all by name select * from people_delta)
    group by month, team, user_id, api_key, in_spend, has_requests, has_tokens
),
final as (
    select *
    from summed
    where row_count <> 0
)
select * from final
