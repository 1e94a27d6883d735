-- ingest_warnings: the rows one upload loaded with a plausibility warning (kept: the money counts), with the file
-- column, its value and what looks wrong. Grain: one row per (row, warning). params: $ingest_id
with final as (
    select row_number, column_name, value, warning
    from ingest_warnings
    where ingest_id = $ingest_id
)
select * from final
order by row_number, column_name
