-- assert_catalog_models_priced: a row whose model the catalog prices at the row's time must get a list price.
-- Returns (provider, model, rows) for rows left unpriced although a price exists: a pricing join bug.
with unpriced as (
    select provider, model, ts, output_tokens from usage
    where list_cost_usd is null and input_tokens + cache_read_tokens + cache_write_tokens + output_tokens > 0
),
final as (
    select u.provider, u.model, count(*) as n
    from unpriced u
    join model_map m on m.provider = u.provider and m.catalog_model = u.model
    join catalog_prices c on c.catalog_provider = m.catalog_provider and c.model = m.catalog_model
        and u.ts >= c.valid_from and u.ts < c.valid_to
    where c.input_mtok is not null and (u.output_tokens = 0 or c.output_mtok is not null)
    group by all
)
select * from final
