-- source_coverage: the days each source format covers, so the dashboard can warn when sources end on different
-- days (then the latest days hold only part of the usage and month-to-date figures look like a drop).
-- Grain: one row per source format with usage on or before $end, latest last day first.
-- Params: $end (date, inclusive).
with daily as (
    select source_format, day, row_count from spend_daily where day <= $end
),
final as (
    select
        source_format,
        min(day) as first_day,
        max(day) as last_day,
        sum(row_count)::bigint as row_count
    from daily
    group by source_format
    order by last_day desc, source_format
)
select * from final
