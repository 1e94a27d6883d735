-- simulate/matched_models: the models of the replayed rows that a policy's `match.models` matches (its globs as one
-- case-insensitive RE2 alternation, simulate/spec.py), each distinct model tested once: the policy's eligibility
-- then tests a row's model against this list (simulate/plan.py `matched_models`) instead of the pattern on every
-- row. From `replay_buckets` (replay_stored summed per day and dimensions, so every model a replayed row holds, in
-- far fewer rows); a model outside the period only lengthens the list.
-- Grain: one row. Params: $pattern.
with models as (
    select distinct model
    from replay_buckets
    where model is not null
),

final as (
    select coalesce(list(model order by model), cast([] as varchar[])) as models
    from models
    where regexp_full_match(model, $pattern)
)

select * from final
