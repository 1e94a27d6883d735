-- whatif_mix: the traffic mix the What-if builder offers to move: spend and requests per model and workload in
-- a date range (spend = billed where reported, else list, counted once where sources overlap).
-- Grain: one row per model and workload, highest spend first. Params: $start, $end (dates, inclusive).
with daily as (
    select * from usage_daily where day between $start and $end
),

per_mix as (
    select
        model,
        workload,
        coalesce(sum(spend_usd), 0) as spend_usd,
        coalesce(sum(requests) filter (where in_spend), 0)::bigint as requests
    from daily
    group by model, workload
),

final as (
    select model, workload, cast(spend_usd as decimal(18, 6)) as spend_usd, requests
    from per_mix
)

select * from final
order by spend_usd desc, model, workload
