-- explore_rows: the raw ledger rows behind one group of the Explore table (drill-down), newest first. Every
-- source is shown, also one another source supersedes for spend (see source_format and coverage).
-- Grain: one row per usage row, at most $limit rows.
-- Params: $start, $end (dates, inclusive); $dimension (see explore_trend); $group_value (the group, '(none)'
-- for a missing value); $filters (struct of one varchar list per dimension, an empty list keeps every row);
-- $limit (integer).
with in_range as (
    select * from usage where ts >= $start and ts < cast($end as date) + interval 1 day
),
filtered as (
    select * from in_range
    where (len($filters.provider) = 0 or list_contains($filters.provider::varchar[], coalesce(provider, '(none)')))
      and (len($filters.model) = 0 or list_contains($filters.model::varchar[], coalesce(model, '(none)')))
      and (len($filters.team) = 0 or list_contains($filters.team::varchar[], coalesce(team, '(none)')))
      and (len($filters.project) = 0 or list_contains($filters.project::varchar[], coalesce(project, '(none)')))
      and (len($filters.api_key) = 0 or list_contains($filters.api_key::varchar[], coalesce(api_key, '(none)')))
      and (len($filters.user_id) = 0 or list_contains($filters.user_id::varchar[], coalesce(user_id, '(none)')))
      and (len($filters.workload) = 0 or list_contains($filters.workload::varchar[], coalesce(workload, '(none)')))
      and (len($filters.operation) = 0
           or list_contains($filters.operation::varchar[], coalesce(operation, '(none)')))
      and (len($filters.service_tier) = 0
           or list_contains($filters.service_tier::varchar[], coalesce(service_tier, '(none)')))
),
grouped as (
    select
        *,
        coalesce(case $dimension
            when 'provider' then provider
            when 'model' then model
            when 'team' then team
            when 'project' then project
            when 'api_key' then api_key
            when 'user_id' then user_id
            when 'workload' then workload
            when 'operation' then operation
            when 'service_tier' then service_tier
        end, '(none)') as group_value
    from filtered
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
