-- finance_reconcile_detail: billed (cost_usd) beside list (list_cost_usd) per provider, day, model and source,
-- with the list price taken apart: what every token would cost at the catalog's input/output prices
-- (naive_list), the catalog's cache prices (cache), the batch tier's 50% (batch), negotiated prices or
-- discounts from price_overrides (negotiated), and long-context tier prices where no override applies (tier).
--   naive_list - cache_saving - negotiated_saving - batch_saving + tier_extra = list (expected)
--   billed - expected = residual (the part nothing above explains; flagged over a threshold in Python)
-- Rows without a list price are 'unpriced': their billed cost is reported apart, never compared.
-- Grain: one row per day x provider x model x source_format with usage in the range.
-- Params: $start, $end (dates, inclusive).
with rows_in as (
    select * from usage where ts >= $start and ts < $end + interval 1 day
),
catalog_of as (
    -- the catalog provider each (provider, catalog model) was resolved to
    select provider, catalog_model as model, min(catalog_provider) as catalog_provider
    from model_map
    where catalog_model is not null
    group by all
),
priced as (
    select
        r.*,
        cast(r.ts as date) as day,
        c.input_mtok as c_in,
        c.output_mtok as c_out,
        coalesce(c.cache_read_mtok, c.input_mtok) as c_cr,
        coalesce(c.cache_write_mtok, c.input_mtok) as c_cw,
        o.provider is not null as has_override,
        case when r.service_tier = 'batch' then 0.5 else 1.0 end as batch_factor
    from rows_in as r
    left join catalog_of as m on m.provider = r.provider and m.model = r.model
    left join catalog_prices as c
        on c.catalog_provider = m.catalog_provider and c.model = r.model
        and r.ts >= c.valid_from and r.ts < c.valid_to
    left join price_overrides_effective as o
        on o.provider = r.provider and o.model = r.model and r.ts >= o.valid_from and r.ts < o.valid_to
),
parts as (
    select
        *,
        list_cost_usd is not null as is_priced,
        (input_tokens * c_in + cache_read_tokens * c_in + cache_write_tokens * c_in
            + output_tokens * coalesce(c_out, 0)) / 1e6 as naive_list,
        (cache_read_tokens * (c_in - c_cr) + cache_write_tokens * (c_in - c_cw)) / 1e6 as cache_saving,
        (input_tokens * c_in + cache_read_tokens * c_cr + cache_write_tokens * c_cw
            + output_tokens * coalesce(c_out, 0)) / 1e6 as catalog_std,
        list_cost_usd / batch_factor as pre_batch
    from priced
),
final as (
    select
        day,
        provider,
        model,
        source_format,
        sum(requests)::bigint as requests,
        sum(input_tokens)::bigint as input_tokens,
        sum(cache_read_tokens)::bigint as cache_read_tokens,
        sum(cache_write_tokens)::bigint as cache_write_tokens,
        sum(output_tokens)::bigint as output_tokens,
        count(*) filter (where cost_usd is not null and is_priced) as compared_rows,
        count(*) filter (where not is_priced) as unpriced_rows,
        cast(coalesce(sum(cost_usd) filter (where is_priced), 0) as decimal(18, 6)) as billed_usd,
        cast(coalesce(sum(list_cost_usd) filter (where cost_usd is not null), 0) as decimal(18, 6)) as expected_usd,
        cast(coalesce(sum(cost_usd) filter (where is_priced), 0)
             - coalesce(sum(list_cost_usd) filter (where cost_usd is not null), 0) as decimal(18, 6)) as residual_usd,
        cast(coalesce(sum(naive_list) filter (where cost_usd is not null and c_in is not null), 0)
             as decimal(18, 6)) as naive_list_usd,
        cast(coalesce(sum(cache_saving) filter (where cost_usd is not null and c_in is not null), 0)
             as decimal(18, 6)) as cache_saving_usd,
        cast(coalesce(sum(catalog_std - pre_batch) filter (where cost_usd is not null and has_override
                                                           and c_in is not null), 0)
             as decimal(18, 6)) as negotiated_saving_usd,
        cast(coalesce(sum(pre_batch - list_cost_usd) filter (where cost_usd is not null and is_priced), 0)
             as decimal(18, 6)) as batch_saving_usd,
        cast(coalesce(sum(pre_batch - catalog_std) filter (where cost_usd is not null and not has_override
                                                           and c_in is not null), 0)
             as decimal(18, 6)) as tier_extra_usd,
        cast(coalesce(sum(cost_usd) filter (where not is_priced), 0) as decimal(18, 6)) as unpriced_billed_usd,
        cast(coalesce(sum(list_cost_usd) filter (where cost_usd is null), 0) as decimal(18, 6)) as list_only_usd
    from parts
    group by day, provider, model, source_format
    order by day, provider, model, source_format
)
select * from final
