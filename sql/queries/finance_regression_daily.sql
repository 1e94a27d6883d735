-- finance_regression_daily: the measures the regression detectors (finance/regressions.py) follow, per day and
-- series part: prompt tokens and cache reads (cache efficiency), tokens of request rows per request (token
-- inflation), billed against expected cost on rows that have both (price changes), and list cost per token class
-- so a change can be put in dollars. Counted sources only (in_spend), as every spend view.
-- List prices per class (macro token_class_prices, migration 022) are the catalog's in force that day with
-- overrides applied (explicit prices, else the discount) and the batch tier at 50%, as the usage view prices a
-- row; the long-context tier is not split out.
-- A model without a cache price bills cache reads at its input price (no saving to lose).
-- Grain: one row per day x provider x team x workload x model x api_key with counted usage in the range.
-- Params: $start, $end (dates, inclusive).
-- Reads key_daily (usage_daily without user and labels: the same sums per key, ~1,100 times fewer rows at the
-- 100 M year's density; docs/design.md "Rollups").
with daily as (
    select *, cast(day as timestamp) as price_at from key_daily where day between $start and $end and in_spend
),
priced as (
    -- list prices per token class in force that day (macro of migration 022)
    select * from token_class_prices(daily)
),
final as (
    select
        day,
        provider,
        team,
        workload,
        model,
        coalesce(api_key, '(none)') as api_key,
        cast(sum(spend_usd) as double) as spend_usd,
        sum(input_tokens + cache_read_tokens + cache_write_tokens)::bigint as prompt_tokens,
        sum(cache_read_tokens)::bigint as cache_read_tokens,
        -- the $ per prompt token a cache read saves against an uncached input token, summed over prompt tokens
        cast(sum((input_tokens + cache_read_tokens + cache_write_tokens) * (p_in - p_cr) * factor) / 1e6 as double)
            as cache_gap_usd,
        -- request rows only (a billing line has no request count): tokens per request
        sum(requests) filter (where requests > 0)::bigint as requests,
        coalesce(sum(input_tokens + cache_read_tokens + cache_write_tokens) filter (where requests > 0), 0)::bigint
            as req_prompt_tokens,
        coalesce(sum(output_tokens) filter (where requests > 0), 0)::bigint as req_output_tokens,
        coalesce(sum(reasoning_tokens) filter (where requests > 0), 0)::bigint as req_reasoning_tokens,
        cast(sum((input_tokens * p_in + cache_read_tokens * p_cr + cache_write_tokens * p_cw) * factor)
            filter (where requests > 0) / 1e6 as double) as req_prompt_list_usd,
        cast(sum(output_tokens * p_out * factor) filter (where requests > 0) / 1e6 as double) as req_output_list_usd,
        -- rows with a billed and a list cost: billed / expected is the price paid against the price in force
        cast(sum(rc_billed_usd) as double) as billed_usd,
        cast(sum(rc_expected_usd) as double) as expected_usd,
        sum(tc_input_tokens + tc_cache_read_tokens + tc_cache_write_tokens + tc_output_tokens)::bigint
            as billed_tokens
    from priced
    group by all
    order by day, provider, team, workload, model, api_key
)
select * from final
