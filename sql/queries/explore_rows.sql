-- explore_rows: the raw ledger rows behind one group of the Explore table (drill-down), newest first. Every
-- source is shown, also one another source supersedes for spend (see source_format and coverage).
-- Filters and the group: macro usage_grouped (sql/migrations/023_shared_macros_2.sql).
-- Grain: one row per usage row, at most $limit rows.
-- Params: $start, $end (dates, inclusive); $dimension (see explore_trend); $group_value (the group, '(none)'
-- for a missing value); $filters (struct of one varchar list per dimension, an empty list keeps every row);
-- $limit (integer).
with in_range as (
    select * from usage where ts >= $start and ts < cast($end as date) + interval 1 day
),
grouped as (
    select * from usage_grouped(in_range, $filters, $dimension)
),
final as (
    select
        ts, provider, model, model_raw, team, project, api_key, user_id, workload, operation, service_tier,
        granularity, requests, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens,
        reasoning_tokens, cost_usd, list_cost_usd, source_format, ingest_id
    from grouped
    where group_value = $group_value
)
select * from final
order by ts desc, provider, model
limit $limit
