-- simulate/target_prices: the catalog price intervals of one target model, USD per 1M tokens; cache prices
-- default to the input price (as the usage view does), never to 0.
-- Grain: one row per validity interval [valid_from, valid_to). Params: $catalog_provider, $model.
with prices as (
    select * from catalog_prices
    where catalog_provider = $catalog_provider and model = $model
),

final as (
    select
        valid_from,
        valid_to,
        cast(input_mtok as double) as p_in,
        cast(output_mtok as double) as p_out,
        cast(coalesce(cache_read_mtok, input_mtok) as double) as p_cr,
        cast(coalesce(cache_write_mtok, input_mtok) as double) as p_cw
    from prices
)

select * from final order by valid_from
