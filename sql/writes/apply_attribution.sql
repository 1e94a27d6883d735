-- apply_attribution: add to dim_attribution the dimension sets of the rows in days $first_day..$last_day (both null:
-- every row) that it does not hold yet. Grain: one row per distinct dimension set. The first matching rule (lowest
-- priority, then lowest id) that sets a field wins; patterns are case-insensitive globs (macro
-- attribution_rule_hits, migration 024: a field is a dimension or `label:<name>`, a label of the row). A rule change empties dim_attribution first and runs this over every row
-- (warehouse/ledger.py: refresh_derived); an ordinary write only evaluates the sets its days brought.
insert into dim_attribution
with in_days as (
    select distinct dim_key, account, project, api_key, user_id, provider, model, labels
    from usage_raw
    where (cast($first_day as date) is null or ts >= cast($first_day as date))
        and (cast($last_day as date) is null or ts < cast($last_day as date) + interval 1 day)
),
dims as (
    select * from in_days where dim_key not in (select dim_key from dim_attribution)
),
matches as (
    select d.dim_key, r.priority, r.rule_id, r.team, r.workload
    from dims as d
    join attribution_rules as r
        on attribution_rule_hits(r.field, r.pattern,
                                 d.account, d.project, d.api_key, d.user_id, d.provider, d.model,
                                 d.labels)
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
