-- price_in_force: the prices that apply to a model on a date, from the catalog and from overrides.
-- Grain: one row per source (catalog provider or override). USD per 1M tokens.
-- params: $model (catalog id or custom name), $on (timestamp), $provider (ModelMix provider id, or null for all),
--         $catalog_provider (the catalog's id of that provider, or null)
with catalog as (
    select
        'catalog' as source,
        catalog_provider as provider,
        model,
        model_name,
        input_mtok, output_mtok, cache_read_mtok, cache_write_mtok,
        tier_start,
        null::decimal(9, 4) as discount_pct,
        valid_from,
        valid_to
    from catalog_prices
    where model = $model and $on >= valid_from and $on < valid_to
        and ($catalog_provider is null or catalog_provider = $catalog_provider)
),
overrides as (
    select
        'override' as source,
        provider,
        model,
        null as model_name,
        input_mtok, output_mtok, cache_read_mtok, cache_write_mtok,
        null::bigint as tier_start,
        discount_pct,
        valid_from,
        valid_to
    from price_overrides_effective
    where model = $model and $on >= valid_from and $on < valid_to
        and ($provider is null or provider = $provider)
),
final as (
    select * from catalog
    union all
    select * from overrides
)
select * from final
order by source, provider
