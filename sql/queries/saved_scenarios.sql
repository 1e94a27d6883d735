-- saved_scenarios: the scenarios saved from the What-if page, newest first.
-- Grain: one row per scenario name. No params.
with saved as (
    select * from scenarios
),

final as (
    select name, body, saved_at from saved
)

select * from final
order by saved_at desc, name
