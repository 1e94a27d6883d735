-- catalog_providers: the providers the price catalog lists, with how many models each has in force on a date.
-- Grain: one row per catalog provider, by name. Params: $on (timestamp).
with catalog as (
    select * from catalog_prices where $on >= valid_from and $on < valid_to
),
final as (
    select catalog_provider as provider, count(distinct model)::bigint as models
    from catalog
    group by catalog_provider
)
select * from final
order by provider
