-- assert_ingest_log_matches_rows: each loaded file's rows_loaded equals the ledger rows that carry its id plus
-- those a later load replaced (ingest_replacements).
with actual as (
    select ingest_id, count(*) as n from usage_raw group by ingest_id
),
replaced as (
    select replaced_ingest_id as ingest_id, sum(rows) as n from ingest_replacements group by all
),
final as (
    select l.ingest_id, l.file_name, l.rows_loaded, coalesce(a.n, 0) as in_ledger, coalesce(r.n, 0) as replaced
    from ingest_log l
    left join actual a using (ingest_id)
    left join replaced r using (ingest_id)
    where l.status = 'loaded' and l.rows_loaded <> coalesce(a.n, 0) + coalesce(r.n, 0)
)
select * from final
