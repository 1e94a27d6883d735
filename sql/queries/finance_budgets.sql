-- finance_budgets: every budget in the ledger, for the editable table and the budget views.
-- Grain: one row per scope x name x period x period_start.
-- Params: none.
with budgets_in as (
    select * from budgets
),
final as (
    select
        scope,
        name,
        period,
        period_start,
        cast(case when period = 'month' then period_start + interval 1 month
                  else period_start + interval 3 month end - interval 1 day as date) as period_end,
        cast(amount_usd as decimal(18, 6)) as amount_usd,
        note
    from budgets_in
    order by period_start, scope, name
)
select * from final
