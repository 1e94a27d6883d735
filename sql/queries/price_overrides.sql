-- price_overrides: the negotiated prices, discounts and custom models as saved (USD per 1M tokens; dates
-- inclusive, an empty end is open-ended). Grain: one row per override, by provider, model and start. No params.
with overrides as (
    select * from price_overrides
),
final as (
    select
        provider, model, effective_from, effective_to,
        input_mtok, output_mtok, cache_read_mtok, cache_write_mtok,
        discount_pct, note
    from overrides
)
select * from final
order by provider, model, effective_from
