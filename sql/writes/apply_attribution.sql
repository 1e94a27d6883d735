-- apply_attribution: rebuild dim_attribution from the rules. Grain: one row per distinct dimension set.
-- The first matching rule (lowest priority, then lowest id) that sets a field wins; patterns are
-- case-insensitive globs.
delete from dim_attribution;
insert into dim_attribution
with dims as (
    select distinct dim_key, account, project, api_key, user_id, provider, model from usage_raw
),
matches as (
    select d.dim_key, r.priority, r.rule_id, r.team, r.workload
    from dims as d
    join attribution_rules as r
        on lower(case r.field
            when 'project' then d.project
            when 'api_key' then d.api_key
            when 'user_id' then d.user_id
            when 'model' then d.model
            when 'account' then d.account
            when 'provider' then d.provider
        end) glob lower(r.pattern)
),
final as (
    select
        dim_key,
        arg_min(team, (priority, rule_id)) filter (where team is not null) as team,
        arg_min(workload, (priority, rule_id)) filter (where workload is not null) as workload
    from matches
    group by dim_key
)
select * from final;
