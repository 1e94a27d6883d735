-- unpriced_models: models in the ledger with no catalog or override price, with what they cost as billed.
-- Grain: one row per provider x model. No params.
with final as (
    select
        provider,
        model,
        sum(row_count) as row_count,
        sum(requests) as requests,
        sum(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens) as tokens,
        sum(cost_usd) as billed_usd,
        min(day) as first_day,
        max(day) as last_day
    from usage_daily
    where unpriced_rows > 0
    group by provider, model
)
select * from final
order by billed_usd desc nulls last, row_count desc
