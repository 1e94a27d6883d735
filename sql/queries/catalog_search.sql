-- catalog_search: the price catalog's models in force on a date, searched by model id or name and provider.
-- Prices in USD per 1M tokens; a tier is a cliff (prompts above tier_start tokens pay the tier prices).
-- Grain: one row per catalog provider and model; exact id matches first, then ids that start with the search,
-- then by provider and id; at most $limit rows.
-- Params: $search (text, '' for all; matched case-insensitively inside the id or the name), $provider (catalog
--         provider id, or null for all), $on (timestamp), $limit (integer).
with catalog as (
    select * from catalog_prices where $on >= valid_from and $on < valid_to
),
searched as (
    select *
    from catalog
    where ($provider is null or catalog_provider = $provider)
        and (contains(lower(model), lower($search)) or contains(lower(coalesce(model_name, '')), lower($search)))
),
final as (
    select
        catalog_provider as provider,
        model,
        model_name,
        input_mtok,
        output_mtok,
        cache_read_mtok,
        cache_write_mtok,
        tier_start,
        tier_input_mtok,
        tier_output_mtok,
        valid_from
    from searched
)
select * from final
order by lower(model) = lower($search) desc, starts_with(lower(model), lower($search)) desc, provider, model
limit $limit
