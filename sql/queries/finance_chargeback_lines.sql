-- finance_chargeback_lines: a month's counted spend per team, project, provider and model, the lines of the
-- chargeback statement (team 'unassigned' is what the allocation rule shares out). Only sources counted in
-- spend (in_spend), so requests and tokens seen by two sources are not counted twice.
-- Grain: one row per team x project x provider x model with usage in the month.
-- Params: $month_start, $month_end (dates, inclusive).
with daily as (
    select * from spend_daily where day between $month_start and $month_end and in_spend
),
final as (
    select
        team,
        coalesce(project, '(none)') as project,
        provider,
        model,
        cast(sum(spend_usd) as decimal(18, 6)) as spend_usd,
        sum(requests)::bigint as requests,
        sum(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens)::bigint as tokens
    from daily
    group by all
    order by team, project, provider, model
)
select * from final
