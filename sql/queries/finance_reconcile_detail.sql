-- finance_reconcile_detail: billed (cost_usd) beside list (list_cost_usd) per provider, day, model and source,
-- with the list price taken apart: what every token would cost at the catalog's input/output prices
-- (naive_list), the catalog's cache prices (cache), the batch tier's 50% (batch), negotiated prices or
-- discounts from price_overrides (negotiated), and long-context tier prices where no override applies (tier).
--   naive_list - cache_saving - negotiated_saving - batch_saving + tier_extra = list (expected)
--   billed - expected = residual (the part nothing above explains; flagged over a threshold in Python)
-- Rows without a list price are 'unpriced': their billed cost is reported apart, never compared.
-- Grain: one row per day x provider x model x source_format with usage in the range.
-- Reads the parts usage_daily sums per day at each write (sql/writes/usage_daily_rows.sql prices each row
-- against the catalog and overrides, the rc_* columns); this query adds them up over the range.
-- Params: $start, $end (dates, inclusive).
with daily as (
    select * from spend_daily where day between $start and $end
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
        sum(rc_compared_rows)::bigint as compared_rows,
        sum(rc_unpriced_rows)::bigint as unpriced_rows,
        cast(coalesce(sum(rc_billed_usd), 0) as decimal(18, 6)) as billed_usd,
        cast(coalesce(sum(rc_expected_usd), 0) as decimal(18, 6)) as expected_usd,
        cast(coalesce(sum(rc_billed_usd), 0) - coalesce(sum(rc_expected_usd), 0) as decimal(18, 6)) as residual_usd,
        cast(coalesce(sum(rc_naive_list_usd), 0) as decimal(18, 6)) as naive_list_usd,
        cast(coalesce(sum(rc_cache_saving_usd), 0) as decimal(18, 6)) as cache_saving_usd,
        cast(coalesce(sum(rc_negotiated_saving_usd), 0) as decimal(18, 6)) as negotiated_saving_usd,
        cast(coalesce(sum(rc_batch_saving_usd), 0) as decimal(18, 6)) as batch_saving_usd,
        cast(coalesce(sum(rc_tier_extra_usd), 0) as decimal(18, 6)) as tier_extra_usd,
        cast(coalesce(sum(rc_unpriced_billed_usd), 0) as decimal(18, 6)) as unpriced_billed_usd,
        cast(coalesce(sum(rc_list_only_usd), 0) as decimal(18, 6)) as list_only_usd
    from daily
    group by day, provider, model, source_format
    order by day, provider, model, source_format
)
select * from final
