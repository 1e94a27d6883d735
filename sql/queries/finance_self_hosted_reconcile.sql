-- finance_self_hosted_reconcile: each self-hosted cost period (migration 013) against what the ledger priced for
-- it: the cost file's amount, the tokens logged, the effective USD per 1M tokens, and the list cost of that usage
-- in usage_daily (counted sources) with the residual (file - priced; rounding only, unless a user override
-- prices the model instead, or no token was logged).
-- Grain: one row per (provider, model, period). Params: none.
with rates as (
    select * from self_hosted_rates
),
priced as (
    select
        r.provider, r.model, r.valid_from,
        sum(d.list_cost_usd) as priced_usd
    from rates as r
    join usage_daily as d
        on d.provider = r.provider and d.model = r.model and d.in_spend
        and cast(d.day as timestamp) >= r.valid_from and cast(d.day as timestamp) < r.valid_to
    group by all
),
final as (
    select
        r.provider,
        r.model,
        cast(r.valid_from as date) as start_date,
        cast(r.valid_to as date) - 1 as end_date,
        r.cost_usd,
        r.tokens,
        r.usd_per_mtok,
        cast(coalesce(p.priced_usd, 0) as decimal(18, 6)) as priced_usd,
        cast(r.cost_usd - coalesce(p.priced_usd, 0) as decimal(18, 6)) as residual_usd,
        exists (select 1 from price_overrides as o where o.provider = r.provider and o.model = r.model)
            as overridden
    from rates as r
    left join priced as p using (provider, model, valid_from)
    order by r.provider, r.model, r.valid_from
)
select * from final
