-- finance_reconcile_token_classes: tokens and list cost per token class (input, cache read, cache write,
-- output), with the billed cost of the same rows shared out in proportion to each class's list cost (sources
-- bill per row, not per class). Effective prices: override, else catalog (long-context tiers not split out),
-- times the override discount and the batch tier's 50%.
-- Grain: one row per day x provider x model x token_class with priced, billed usage in the range.
-- Params: $start, $end (dates, inclusive).
with rows_in as (
    select * from usage where ts >= $start and ts < $end + interval 1 day and cost_usd is not null
        and list_cost_usd is not null
),
catalog_of as (
    select provider, catalog_model as model, min(catalog_provider) as catalog_provider
    from model_map
    where catalog_model is not null
    group by all
),
rated as (
    select
        cast(r.ts as date) as day,
        r.provider,
        r.model,
        r.cost_usd,
        r.list_cost_usd,
        r.input_tokens, r.cache_read_tokens, r.cache_write_tokens, r.output_tokens,
        (case when o.input_mtok is not null then 1 else 1 - coalesce(o.discount_pct, 0) / 100 end)
            * (case when r.service_tier = 'batch' then 0.5 else 1 end) as factor,
        coalesce(o.input_mtok, c.input_mtok) as p_in,
        coalesce(o.output_mtok, c.output_mtok, 0) as p_out,
        coalesce(o.cache_read_mtok, c.cache_read_mtok, o.input_mtok, c.input_mtok) as p_cr,
        coalesce(o.cache_write_mtok, c.cache_write_mtok, o.input_mtok, c.input_mtok) as p_cw
    from rows_in as r
    left join catalog_of as m on m.provider = r.provider and m.model = r.model
    left join catalog_prices as c
        on c.catalog_provider = m.catalog_provider and c.model = r.model
        and r.ts >= c.valid_from and r.ts < c.valid_to
    left join price_overrides_effective as o
        on o.provider = r.provider and o.model = r.model and r.ts >= o.valid_from and r.ts < o.valid_to
),
classes as (
    select
        day, provider, model, cost_usd, list_cost_usd,
        unnest([
            {'token_class': 'input', 'tokens': input_tokens, 'list': input_tokens * p_in * factor / 1e6},
            {'token_class': 'cache_read', 'tokens': cache_read_tokens, 'list': cache_read_tokens * p_cr * factor / 1e6},
            {'token_class': 'cache_write', 'tokens': cache_write_tokens, 'list': cache_write_tokens * p_cw * factor / 1e6},
            {'token_class': 'output', 'tokens': output_tokens, 'list': output_tokens * p_out * factor / 1e6}
        ], recursive := true)
    from rated
),
final as (
    select
        day,
        provider,
        model,
        token_class,
        sum(tokens)::bigint as tokens,
        cast(sum(list) as decimal(18, 6)) as list_usd,
        cast(sum(case when list_cost_usd > 0 then cost_usd * list / list_cost_usd else 0 end) as decimal(18, 6))
            as billed_usd
    from classes
    group by day, provider, model, token_class
    having sum(tokens) > 0
    order by day, provider, model, token_class
)
select * from final
