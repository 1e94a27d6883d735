-- model_aliases: model names as files spell them, mapped to a catalog id (or a custom model that an override
-- prices). Grain: one row per alias (lower-case), by alias. No params.
with aliases as (
    select * from model_aliases
),
final as (
    select alias, model from aliases
)
select * from final
order by alias
