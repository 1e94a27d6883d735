-- lake_partitions_raw: the lake's partitions (warehouse/lake.py) with a fingerprint of their rows read from
-- `usage_raw` alone: no view, no prices, no joins. Enough to see which partitions a write changed while prices,
-- rules and aliases stayed as they were (the export compares `lake_pricing_state` for that, and falls back to the
-- priced fingerprint, sql/queries/lake_partitions.sql, when they moved). A write changes a partition's rows in
-- exactly these ways: rows inserted (a new ingest_id), rows deleted (row_key, ingest_id), and the three in-place
-- fills of a later export (sql/writes/fill_*.sql: session_id, labels with the dim_key that goes with them).
-- Source choice (`in_spend`, `in_replay`) is decided within one provider and day from that day's rows and their
-- upload's kind, so it moves only with them. Grain: one row per month x provider with usage. Params: none.
-- Grouped by date_trunc and formatted after: strftime on every row took half of the query's CPU (10 M rows: 0.9
-- CPU s against 0.47).
with per_month as (
    select
        date_trunc('month', ts) as month_start,
        provider,
        count(*) as row_count,
        sum(hash(row_key, ingest_id, session_id, dim_key, labels)::hugeint) as raw_fingerprint
    from usage_raw
    group by month_start, provider
),
final as (
    select strftime(month_start, '%Y-%m') as month, provider, row_count, raw_fingerprint
    from per_month
)
select * from final order by month, provider
