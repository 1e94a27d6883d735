-- ingest_conservation: where one file's rows went (writes/insert_ingest_parts.sql), with tokens summed over the
-- classes. Grain: one row per part of the ingest (file, loaded, already_loaded, superseded_in_file, rejected).
-- params: $ingest_id
with final as (
    select
        part,
        rows,
        requests,
        cost_usd,
        coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0) + coalesce(cache_write_tokens, 0)
            + coalesce(output_tokens, 0) as tokens
    from ingest_parts
    where ingest_id = $ingest_id
)
select * from final
order by part
