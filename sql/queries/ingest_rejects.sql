-- ingest_rejects: the rows one upload set aside, with the file column and the reason.
-- Grain: one row per (row, column) that failed. params: $ingest_id
with final as (
    select row_number, column_name, value, reason
    from ingest_rejects
    where ingest_id = $ingest_id
)
select * from final
order by row_number, column_name
