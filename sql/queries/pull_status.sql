-- pull_status: what each pulled source did last (for `modelmix jobs status` and the Sources page).
-- Grain: one row per (source, stream). No parameters.
with state as (
    select * from pull_state
),
final as (
    select
        source,
        kind,
        stream,
        loaded_until,
        last_run_at,
        last_ok_at,
        last_status,
        last_pages,
        last_rows_loaded,
        last_rows_duplicate,
        rows_loaded_total,
        last_error
    from state
)
select * from final
order by source, stream
