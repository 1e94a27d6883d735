-- ingest_quality_in_range: what the loads behind a date range set aside or flagged: rows loaded with a warning
-- (their money counts) and rejected rows with the dollars they held, over loads whose usage overlaps the range.
-- Grain: one row. params: $start, $end (dates, inclusive)
with loads as (
    select ingest_id, rows_warned, rows_rejected
    from ingest_log
    where status = 'loaded'
      and cast(ts_min as date) <= $end and cast(ts_max as date) >= $start
),
rejected_money as (
    select sum(p.cost_usd) as rejected_cost_usd
    from ingest_parts as p
    semi join loads as l on l.ingest_id = p.ingest_id
    where p.part = 'rejected'
),
final as (
    select
        count(*) filter (where rows_warned > 0 or rows_rejected > 0) as files,
        coalesce(sum(rows_warned), 0) as rows_warned,
        coalesce(sum(rows_rejected), 0) as rows_rejected,
        (select rejected_cost_usd from rejected_money) as rejected_cost_usd
    from loads
)
select * from final
