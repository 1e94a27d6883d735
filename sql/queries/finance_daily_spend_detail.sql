-- finance_daily_spend_detail: counted spend and tokens per day x team x model x api_key x project, the input of
-- anomaly detection and its drivers. Only sources counted in spend (in_spend), so tokens seen by both a billing
-- export and a gateway log are not counted twice. Lines of a month's grain (a Google Cloud cost table, an invoice
-- month) are left out: they sit on the month's first day, where a whole month would read as one day's spike;
-- finance_month_lines counts what was left out, so the page can say so.
-- Grain: one row per day x team x model x api_key x project with counted usage in the range.
-- Params: $start, $end (dates, inclusive).
-- Reads key_daily (usage_daily without user and labels: the same sums per key, ~1,100 times fewer rows at the
-- 100 M year's density; docs/design.md "Rollups").
with daily as (
    select * from key_daily where day between $start and $end and in_spend and granularity <> 'month'
),
final as (
    select
        day,
        team,
        model,
        coalesce(api_key, '(none)') as api_key,
        coalesce(project, '(none)') as project,
        cast(sum(spend_usd) as double) as spend_usd,
        sum(requests)::bigint as requests,
        sum(input_tokens)::bigint as input_tokens,
        sum(cache_read_tokens)::bigint as cache_read_tokens,
        sum(cache_write_tokens)::bigint as cache_write_tokens,
        sum(output_tokens)::bigint as output_tokens
    from daily
    group by all
    order by day, team, model, api_key, project
)
select * from final
