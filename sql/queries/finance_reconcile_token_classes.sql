-- finance_reconcile_token_classes: tokens and list cost per token class (input, cache read, cache write,
-- output), with the billed cost of the same rows shared out in proportion to each class's list cost (sources
-- bill per row, not per class). Effective prices: override, else catalog (long-context tiers not split out),
-- times the override discount and the batch tier's 50%.
-- Grain: one row per day x provider x model x token_class with priced, billed usage in the range.
-- Reads the per-class sums usage_daily keeps per day (the tc_* columns, computed per row at each write by
-- sql/writes/usage_daily_rows.sql); this query adds them up over the range.
-- Params: $start, $end (dates, inclusive).
with daily as (
    select * from spend_daily where day between $start and $end
),
classes as (
    select
        day, provider, model,
        unnest([
            {'token_class': 'input', 'tokens': tc_input_tokens, 'list': tc_input_list_usd,
             'billed': tc_input_billed_usd},
            {'token_class': 'cache_read', 'tokens': tc_cache_read_tokens, 'list': tc_cache_read_list_usd,
             'billed': tc_cache_read_billed_usd},
            {'token_class': 'cache_write', 'tokens': tc_cache_write_tokens, 'list': tc_cache_write_list_usd,
             'billed': tc_cache_write_billed_usd},
            {'token_class': 'output', 'tokens': tc_output_tokens, 'list': tc_output_list_usd,
             'billed': tc_output_billed_usd}
        ], recursive := true)
    from daily                             -- day-rows without billed and listed usage give nulls: no sum
),
final as (
    select
        day,
        provider,
        model,
        token_class,
        sum(tokens)::bigint as tokens,
        cast(sum(list) as decimal(18, 6)) as list_usd,
        cast(sum(billed) as decimal(18, 6)) as billed_usd
    from classes
    group by day, provider, model, token_class
    having sum(tokens) > 0
    order by day, provider, model, token_class
)
select * from final
