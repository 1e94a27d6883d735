-- ingest_history: every file handed to ingest, newest first, with its own cost as read and what it kept, so a
-- finance user can tie each file to the ledger. Grain: one row per ingest_log row. params: $limit
with parts as (
    select
        ingest_id,
        sum(cost_usd) filter (where part = 'file') as file_cost_usd,
        -- a file with money that loaded nothing (already in the ledger) loaded $0, not an unknown amount
        case when sum(cost_usd) filter (where part = 'file') is not null
            then coalesce(sum(cost_usd) filter (where part = 'loaded'), 0) end as loaded_cost_usd,
        sum(cost_usd) filter (where part = 'rejected') as rejected_cost_usd
    from ingest_parts
    group by ingest_id
),
replaced_later as (
    select replaced_ingest_id as ingest_id, sum(rows) as rows_replaced_later, sum(cost_usd) as cost_replaced_later
    from ingest_replacements
    group by all
),
final as (
    select
        l.ingest_id, l.file_name, l.format, l.source_kind, l.status, l.rows_read, l.rows_loaded, l.rows_duplicate,
        l.rows_rejected, l.rows_replaced, l.rows_warned,
        p.file_cost_usd, p.loaded_cost_usd, p.rejected_cost_usd,
        coalesce(r.rows_replaced_later, 0) as rows_replaced_later, r.cost_replaced_later,
        l.ts_min, l.ts_max, l.loaded_at, l.error
    from ingest_log as l
    left join parts as p using (ingest_id)
    left join replaced_later as r using (ingest_id)
)
select * from final
order by ingest_id desc
limit $limit
