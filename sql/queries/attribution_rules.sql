-- attribution_rules: the team/workload rules in the order they are tried (lowest priority number first, then
-- the order they were saved in). Grain: one row per rule; `position` is its place in that order. No params.
with rules as (
    select * from attribution_rules
),
final as (
    select
        row_number() over (order by priority, rule_id)::bigint as position,
        priority, field, pattern, team, workload, note
    from rules
)
select * from final
order by position
