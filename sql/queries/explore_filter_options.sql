-- explore_filter_options: the values each Explore dimension takes in a date range, for the filter pickers,
-- highest spend first. A missing value (usage without a project, key or user) is listed as '(none)'.
-- Grain: one row per dimension x value. Params: $start, $end (dates, inclusive).
with daily as (
    select * from usage_daily where day between $start and $end
),
labelled as (
    select
        coalesce(provider, '(none)') as provider,
        coalesce(model, '(none)') as model,
        coalesce(team, '(none)') as team,
        coalesce(project, '(none)') as project,
        coalesce(api_key, '(none)') as api_key,
        coalesce(user_id, '(none)') as user_id,
        coalesce(workload, '(none)') as workload,
        coalesce(operation, '(none)') as operation,
        coalesce(service_tier, '(none)') as service_tier,
        spend_usd
    from daily
),
long as (
    unpivot labelled
    on provider, model, team, project, api_key, user_id, workload, operation, service_tier
    into name dimension value value
),
final as (
    select dimension, value, cast(coalesce(sum(spend_usd), 0) as decimal(18, 6)) as spend_usd
    from long
    group by dimension, value
)
select * from final
order by dimension, spend_usd desc, value
