-- people_monthly_rows: the rows of `people_monthly`, the rollup Explore reads for its user and API key pickers and
-- for a grouping by user, key or team filtered by nothing else: `usage_daily` per month and per team x user x key,
-- for the months $first_month..$last_month (both null: every month). At 100 M request rows `usage_daily` holds
-- 16.6 M rows (every user's models, projects and labels per day); per month without those the same year is
-- ≈ 13 times fewer (≈ 105 k rows a month for 51.8 k users), so a whole-year picker or ranking of them sums
-- months, not days (docs/benchmarks.md, "Pages at 100 M, seventh session"). The columns and their keys: macro people_rows
-- (migration 030); every measure is the sum of `usage_daily`'s over the group. Team is kept so a team-restricted
-- reader sees only its teams (warehouse/db.py).
-- warehouse/ledger.py (create_people_monthly) creates the table from every month; an ordinary write moves only the
-- groups its days touch, by those days' difference (writes/people_delta_rows.sql, writes/people_monthly_merge.sql).
-- Grain: one row per month x team x user_id x api_key x in_spend x has_requests x has_tokens.
-- Params: $first_month, $last_month (first days of months, or both null)
with in_months as (
    select *
    from usage_daily
    where (cast($first_month as date) is null or day >= cast($first_month as date))
        and (cast($last_month as date) is null or day < cast($last_month as date) + interval 1 month)
),
final as (
    select
        month, team, user_id, api_key, in_spend, has_requests, has_tokens,
        sum(row_count)::bigint as row_count,
        sum(requests)::bigint as requests,
        sum(input_tokens)::bigint as input_tokens,
        sum(cache_read_tokens)::bigint as cache_read_tokens,
        sum(cache_write_tokens)::bigint as cache_write_tokens,
        sum(output_tokens)::bigint as output_tokens,
        sum(unpriced_rows)::bigint as unpriced_rows,
        cast(sum(spend_usd) as decimal(38, 12)) as spend_usd
    from people_rows(in_months)
    group by all
)
select * from final
