-- ingest_replaced: the earlier loads whose rows this load took out of the ledger (a later export of the same
-- window, or restated request ids). Grain: one row per earlier ingest x kind. params: $ingest_id
with final as (
    select
        r.replaced_ingest_id, l.file_name, r.kind, r.day_from, r.day_to, r.days, r.rows, r.cost_usd
    from ingest_replacements as r
    left join ingest_log as l on l.ingest_id = r.replaced_ingest_id
    where r.ingest_id = $ingest_id
)
select * from final
order by replaced_ingest_id, kind
