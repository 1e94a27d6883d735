-- bridge_spend_billed_list: spend over a date range taken apart by how each dollar was costed, for the Overview:
--   spend = billed cost of usage the catalog prices (its list price beside it: billed_priced_list_usd)
--         + billed cost of models the catalog cannot price (usage with tokens but no catalog price)
--         + cost-only lines (no quantities: invoice lines, fees, credits -- nothing to price)
--         + usage with no bill, at list price
-- Spend is `usage_daily.spend_usd` (docs/finance.md "One spend"): per provider and day, the one source that
-- counts (billing first), billed where it reports a cost, else list. Only those sources are taken apart here.
-- Every figure is its own exact sum rounded to the cent; `rounding_usd` is what the rounded terms miss (a cent
-- or two, usually 0), so the displayed bridge adds up exactly.
-- Grain: exactly one row.
-- Reads spend_daily (usage_daily without user, key and labels: the same sums, a thousandth of the rows at 100 M
-- request rows; docs/design.md "Rollups").
-- Params: $start, $end (dates, inclusive).
with daily as (
    select * from spend_daily where day between $start and $end and in_spend
),
sums as (
    select
        coalesce(sum(spend_usd), 0) as spend_usd,
        coalesce(sum(rc_billed_usd), 0) as billed_priced_usd,
        coalesce(sum(rc_expected_usd), 0) as billed_priced_list_usd,
        coalesce(sum(rc_unpriced_billed_usd), 0) - coalesce(sum(rc_cost_only_usd), 0) as billed_unpriced_usd,
        coalesce(sum(rc_cost_only_usd), 0) as cost_only_usd,
        coalesce(sum(rc_list_only_usd), 0) as list_only_usd
    from daily
),
final as (
    select
        cast(round(spend_usd, 2) as decimal(18, 2)) as spend_usd,
        cast(round(billed_priced_usd, 2) as decimal(18, 2)) as billed_priced_usd,
        cast(round(billed_priced_list_usd, 2) as decimal(18, 2)) as billed_priced_list_usd,
        cast(round(billed_unpriced_usd, 2) as decimal(18, 2)) as billed_unpriced_usd,
        cast(round(cost_only_usd, 2) as decimal(18, 2)) as cost_only_usd,
        cast(round(list_only_usd, 2) as decimal(18, 2)) as list_only_usd,
        cast(round(spend_usd, 2) - round(billed_priced_usd, 2) - round(billed_unpriced_usd, 2)
             - round(cost_only_usd, 2) - round(list_only_usd, 2) as decimal(18, 2)) as rounding_usd
    from sums
)
select * from final
