-- top_models: the models that spend most in a date range, with requests, tokens and cost per 1,000 requests.
-- Spend = billed where reported, else list, counted once where sources overlap; unpriced_rows counts usage with
-- no catalog price. Requests come from the rows that count toward spend; cost per 1,000 requests uses only the
-- usage that reports request counts (null when none does).
-- Grain: one row per provider and model, highest spend first, at most $limit rows.
-- Params: $start, $end (dates, inclusive); $limit (integer).
with daily as (
    select * from spend_daily where day between $start and $end
),
per_model as (
    select
        provider,
        model,
        coalesce(sum(spend_usd), 0) as spend_usd,
        coalesce(sum(requests) filter (where in_spend), 0)::bigint as requests,
        sum(spend_usd) filter (where in_spend and requests > 0) as spend_with_requests_usd,
        sum(input_tokens + cache_read_tokens + cache_write_tokens)::bigint as prompt_tokens,
        sum(output_tokens)::bigint as output_tokens,
        sum(unpriced_rows)::bigint as unpriced_rows
    from daily
    group by provider, model
),
final as (
    select
        provider,
        model,
        cast(spend_usd as decimal(18, 6)) as spend_usd,
        requests,
        cast(spend_with_requests_usd * 1000 / nullif(requests, 0) as decimal(18, 6)) as cost_per_1k_requests,
        cast(spend_usd / nullif(sum(spend_usd) over (), 0) as double) as spend_share,
        prompt_tokens,
        output_tokens,
        unpriced_rows
    from per_model
    order by spend_usd desc, provider, model
    limit $limit
)
select * from final
