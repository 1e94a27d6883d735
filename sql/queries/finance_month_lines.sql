-- finance_month_lines: counted spend on lines of a month's grain (a Google Cloud cost table, an invoice month)
-- per source format, which anomaly detection leaves out (finance_daily_spend_detail): a line per month says
-- nothing about a single day.
-- Grain: one row per source format with counted month-grain lines in the range.
-- Reads spend_daily (usage_daily without user, key and labels: the same sums, a thousandth of the rows at 100 M
-- request rows; docs/design.md "Rollups").
-- Params: $start, $end (dates, inclusive).
with lines as (
    select source_format, row_count, spend_usd
    from spend_daily
    where day between $start and $end and in_spend and granularity = 'month'
),
final as (
    select
        source_format,
        sum(row_count)::bigint as lines,
        cast(sum(spend_usd) as double) as spend_usd
    from lines
    group by source_format
    order by spend_usd desc, source_format
)
select * from final
