-- 030: Explore's per-person and per-key figures from the month rollup `people_monthly` (issue 14, pages at 100 M
-- request rows). Callers:
--   people_rows: writes/people_monthly_rows (the rollup's rows, grouped) and people_in_range (a cut month's days);
--   people_in_range: queries/explore_filter_options (the user and API key pickers) and explore_breakdown (grouped
--   by user, key or team, filtered by nothing but those).
-- The rows are arguments (relation names: the caller's tables or CTEs), never named here: a team-restricted cursor
-- shadows `usage_daily`, `spend_daily` and `people_monthly` with temp views (warehouse/db.py `_TEAM_SCOPED`), and
-- the caller's own reference is the one that resolves to them (migration 022 says why).
-- Grain: none (definitions only).

-- One row per row of `rows` (relation with usage_daily's columns): its month, team, user, key, in_spend, the two
-- row conditions Explore's unit economics filter on (requests > 0, tokens > 0: explore_breakdown), and the measures
-- Explore sums. Kept as keys, the conditions survive the monthly sum: a sum of rows that each hold one holds it too.
create or replace macro people_rows(rows) as table
with final as (
    select
        cast(date_trunc('month', day) as date) as month,
        team,
        user_id,
        api_key,
        in_spend,
        requests > 0 as has_requests,
        input_tokens + cache_read_tokens + cache_write_tokens + output_tokens > 0 as has_tokens,
        row_count,
        requests,
        input_tokens,
        cache_read_tokens,
        cache_write_tokens,
        output_tokens,
        unpriced_rows,
        spend_usd
    from query_table(rows)
)
select * from final;

-- The people rows of start_day..end_day (dates, inclusive), exact for any range: a month whose every day with usage
-- lies in the range is read from `monthly` (people_monthly: one row per month x team x user x key x the keys
-- above); a month the range cuts is read day by day from `daily` (usage_daily), its days in the range only. `days`
-- (spend_daily: the same days as usage_daily, a thousandth of its rows) tells which months are whole. A whole
-- year reads only monthly rows; a range cutting a month reads that month's days of usage_daily. Callers sum the
-- measures; columns as people_rows.
create or replace macro people_in_range(monthly, daily, days, start_day, end_day) as table
with months as (
    select
        cast(date_trunc('month', day) as date) as month,
        min(day) >= start_day and max(day) <= end_day as whole
    from query_table(days)
    where day >= cast(date_trunc('month', cast(start_day as date)) as date)
        and day < cast(date_trunc('month', cast(end_day as date)) as date) + interval 1 month
    group by all
),
cut_days as (
    select *
    from query_table(daily)
    where day between start_day and end_day
        and cast(date_trunc('month', day) as date) in (select month from months where not whole)
),
final as (
    select * from query_table(monthly) where month in (select month from months where whole)
    union all by name
    select * from people_rows(cut_days)
)
select * from final;
