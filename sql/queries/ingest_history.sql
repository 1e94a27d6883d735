-- ingest_history: every file handed to ingest, newest first. Grain: one row per ingest_log row.
-- params: $limit
with final as (
    select
        ingest_id, file_name, format, source_kind, status, rows_read, rows_loaded, rows_duplicate, rows_rejected,
        ts_min, ts_max, loaded_at, error
    from ingest_log
)
select * from final
order by ingest_id desc
limit $limit
