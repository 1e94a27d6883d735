-- unpriced_models: models the price catalog does not know (no list price), so their spend is only what the
-- source billed, or nothing. Fix with a price override or a model alias.
-- Grain: one row per provider and model with at least one unpriced row in the range, most rows first.
-- Params: $start, $end (dates, inclusive).
with daily as (
    select * from spend_daily where day between $start and $end and unpriced_rows > 0
),
final as (
    select
        provider,
        model,
        sum(unpriced_rows)::bigint as unpriced_rows,
        sum(requests)::bigint as requests,
        cast(coalesce(sum(cost_usd), 0) as decimal(18, 6)) as billed_usd,
        min(day) as first_day,
        max(day) as last_day
    from daily
    group by provider, model
    order by unpriced_rows desc, provider, model
)
select * from final
