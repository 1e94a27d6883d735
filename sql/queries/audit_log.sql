-- audit_log: who did what and when (uploads, removals, price/rule/quality/budget/scenario edits, user changes,
-- sign-ins), newest first, for the admin page and `modelmix audit`.
-- Grain: one row per recorded action. Params: $start, $end (dates, inclusive, UTC; NULL: unbounded),
-- $actor (NULL: everyone), $action (NULL: every action; see warehouse/audit.py ACTIONS).
with events as (
    select * from audit_log
),

filtered as (
    select *
    from events
    where ($start is null or occurred_at >= $start::date)
      and ($end is null or occurred_at < $end::date + interval 1 day)
      and ($actor is null or actor = $actor)
      and ($action is null or action = $action)
),

final as (
    select id, occurred_at, actor, action, target, detail from filtered
)

select * from final
order by occurred_at desc, id desc
