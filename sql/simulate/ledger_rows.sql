-- simulate/ledger_rows: how many rows the ledger holds, an upper bound on any replay's rows (usage_replay is a
-- subset of usage_raw's rows), read from the table's row count without scanning or joining anything. When it is
-- within the setting `slider_row_limit`, simulate/frontier.py picks the per-row slider engine without counting the
-- replay's rows exactly (sql/simulate/frontier_count.sql: a pass over usage_replay and its joins, ~0.3 cpu-s at
-- 1 M rows).
-- Grain: one row.
-- Params: none.
with final as (
    select count(*) as rows
    from usage_raw
)

select * from final
