-- explore_filter_options: the values each Explore dimension takes in a date range, for the filter pickers,
-- highest spend first. A missing value (usage without a project, key or user) is listed as '(none)'.
-- The per-person and per-key values (user_id, api_key) come from people_monthly for the months the range holds
-- whole, and from usage_daily only for the days of a month it cuts (macro people_in_range, migration 030); every
-- other dimension from spend_daily (usage_daily without those two and labels: the same spend, a thousand times
-- fewer rows at 100 M request rows), each summed once per dimension (grouping sets: no row is copied per
-- dimension).
-- Grain: one row per dimension x value. Params: $start, $end (dates, inclusive).
with coarse as (
    select
        coalesce(provider, '(none)') as provider,
        coalesce(model, '(none)') as model,
        coalesce(team, '(none)') as team,
        coalesce(project, '(none)') as project,
        coalesce(workload, '(none)') as workload,
        coalesce(operation, '(none)') as operation,
        coalesce(service_tier, '(none)') as service_tier,
        spend_usd
    from spend_daily
    where day between $start and $end
),
fine as (
    select coalesce(api_key, '(none)') as api_key, coalesce(user_id, '(none)') as user_id, spend_usd
    from people_in_range(people_monthly, usage_daily, spend_daily, $start, $end)
),
coarse_sums as (
    select
        case
            when grouping(provider) = 0 then 'provider'
            when grouping(model) = 0 then 'model'
            when grouping(team) = 0 then 'team'
            when grouping(project) = 0 then 'project'
            when grouping(workload) = 0 then 'workload'
            when grouping(operation) = 0 then 'operation'
            else 'service_tier'
        end as dimension,
        coalesce(provider, model, team, project, workload, operation, service_tier) as value,
        sum(spend_usd) as spend_usd
    from coarse
    group by grouping sets ((provider), (model), (team), (project), (workload), (operation), (service_tier))
),
fine_sums as (
    select
        case when grouping(api_key) = 0 then 'api_key' else 'user_id' end as dimension,
        coalesce(api_key, user_id) as value,
        sum(spend_usd) as spend_usd
    from fine
    group by grouping sets ((api_key), (user_id))
),
final as (
    select dimension, value, cast(coalesce(spend_usd, 0) as decimal(18, 6)) as spend_usd
    from coarse_sums
    union all
    select dimension, value, cast(coalesce(spend_usd, 0) as decimal(18, 6)) as spend_usd
    from fine_sums
)
select * from final
order by dimension, spend_usd desc, value
