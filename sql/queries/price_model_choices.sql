-- price_model_choices: every model id a price can be asked for: the catalog's (any date), the overrides'
-- (custom models too) and the ledger's resolved names. Grain: one row per model id, by id. No params.
with catalog as (
    select distinct model, 'catalog' as origin from catalog_prices
),
overrides as (
    select distinct model, 'override' as origin from price_overrides
),
ledger as (
    select distinct coalesce(catalog_model, model) as model, 'ledger' as origin from model_map
),
final as (
    select model, string_agg(distinct origin, ', ' order by origin) as origins
    from (select * from catalog union all select * from overrides union all select * from ledger)
    group by model
)
select * from final
order by model
