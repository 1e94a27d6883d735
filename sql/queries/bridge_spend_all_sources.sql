-- bridge_spend_all_sources: the Reconciliation's "billed, all sources" (every source's billed cost of usage the
-- catalog prices, overlapping sources included) bridged to spend over a date range:
--   billed, all sources = spend
--                       + billed by superseded sources (another source of the same provider and day counts)
--                       - spend on usage with no bill, at list price
--                       - spend billed for models the catalog cannot price
--                       - spend on cost-only lines (no quantities: invoice lines, fees, credits)
-- (the last three are spend the reconciliation cannot compare: no bill, or no list price).
-- Spend is `usage_daily.spend_usd` (docs/finance.md "One spend"). Superseded sources are the rows with
-- in_spend false (source_choice: billing before a gateway log, per provider and day); `superseded_usd` is all
-- they report (their billed cost, their list price where they report none), `superseded_billed_usd` the part
-- the reconciliation compares. Every figure is its own exact sum rounded to the cent; `rounding_usd` is what
-- the rounded terms miss (a cent or two, usually 0), so the displayed bridge adds up exactly.
-- Grain: exactly one row.
-- Reads spend_daily (usage_daily without user, key and labels: the same sums, a thousandth of the rows at 100 M
-- request rows; docs/design.md "Rollups").
-- Params: $start, $end (dates, inclusive).
with daily as (
    select * from spend_daily where day between $start and $end
),
sums as (
    select
        coalesce(sum(spend_usd), 0) as spend_usd,
        coalesce(sum(rc_billed_usd), 0) as billed_all_usd,
        coalesce(sum(rc_billed_usd) filter (where not in_spend), 0) as superseded_billed_usd,
        coalesce(sum(source_cost_usd) filter (where not in_spend), 0) as superseded_usd,
        coalesce(sum(rc_list_only_usd) filter (where in_spend), 0) as list_only_usd,
        coalesce(sum(rc_unpriced_billed_usd) filter (where in_spend), 0)
            - coalesce(sum(rc_cost_only_usd) filter (where in_spend), 0) as billed_unpriced_usd,
        coalesce(sum(rc_cost_only_usd) filter (where in_spend), 0) as cost_only_usd,
        count(distinct (provider, day)) filter (where not in_spend) as superseded_provider_days,
        string_agg(distinct source_format, ', ' order by source_format) filter (where not in_spend)
            as superseded_sources
    from daily
),
final as (
    select
        cast(round(billed_all_usd, 2) as decimal(18, 2)) as billed_all_usd,
        cast(round(spend_usd, 2) as decimal(18, 2)) as spend_usd,
        cast(round(superseded_billed_usd, 2) as decimal(18, 2)) as superseded_billed_usd,
        cast(round(list_only_usd, 2) as decimal(18, 2)) as list_only_usd,
        cast(round(billed_unpriced_usd, 2) as decimal(18, 2)) as billed_unpriced_usd,
        cast(round(cost_only_usd, 2) as decimal(18, 2)) as cost_only_usd,
        cast(round(superseded_usd, 2) as decimal(18, 2)) as superseded_usd,
        superseded_provider_days,
        superseded_sources,
        cast(round(billed_all_usd, 2) - round(spend_usd, 2) - round(superseded_billed_usd, 2)
             + round(list_only_usd, 2) + round(billed_unpriced_usd, 2) + round(cost_only_usd, 2) as decimal(18, 2))
            as rounding_usd
    from sums
)
select * from final
