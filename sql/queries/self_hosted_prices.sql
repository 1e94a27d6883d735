-- self_hosted_prices: the prices the ledger gives each self-hosted model (migration 013), USD per 1M tokens, per
-- validity interval: the one definition of such a price, read by the What-if target offered for the model
-- (finance/whole_bill.targets) and by a scenario's `to: self-hosted:<model>` (simulate/plan.target_prices).
-- Read from `price_overrides_effective`, where a user price override of the provider and model wins over the rate
-- its cost file derives (`priced_by` 'price override' or 'cost file'); cache prices default to the input price, as
-- the usage view does. Models are those of `self_hosted_rates`; an interval without an input or output price (a
-- discount-only override: no catalog price to discount) prices nothing and is left out.
-- Grain: one row per (provider, model, interval [valid_from, valid_to)).
-- Params: $provider, $model (either null: every provider / model).
with models as (
    select distinct provider, model
    from self_hosted_rates
    where ($provider is null or provider = $provider)
      and ($model is null or lower(model) = lower($model))
),
effective as (
    select
        o.*,
        exists (select 1 from price_overrides as u where u.provider = o.provider and u.model = o.model)
            as user_override
    from price_overrides_effective as o
    semi join models as m on m.provider = o.provider and m.model = o.model
),
final as (
    select
        provider,
        model,
        valid_from,
        valid_to,
        case when user_override then 'price override' else 'cost file' end as priced_by,
        cast(input_mtok as double) as p_in,
        cast(output_mtok as double) as p_out,
        cast(coalesce(cache_read_mtok, input_mtok) as double) as p_cr,
        cast(coalesce(cache_write_mtok, input_mtok) as double) as p_cw
    from effective
    where input_mtok is not null and output_mtok is not null
)
select * from final
order by provider, model, valid_from
