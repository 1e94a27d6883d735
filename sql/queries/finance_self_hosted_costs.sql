-- finance_self_hosted_costs: the self-hosted inference cost lines as entered (migration 013), each with its cost.
-- Grain: one row per cost line. Params: none.
with lines as (
    select * from self_hosted_costs
),
final as (
    select
        provider, model, start_date, end_date, gpu_hours, usd_per_gpu_hour, amount_usd, note,
        cast(coalesce(amount_usd, 0) + coalesce(gpu_hours * usd_per_gpu_hour, 0) as decimal(18, 6)) as cost_usd
    from lines
    order by provider, model, start_date
)
select * from final
