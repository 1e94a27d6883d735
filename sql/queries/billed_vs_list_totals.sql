-- billed_vs_list_totals: the reconciliation headline for a date range -- spend, billed cost beside the catalog
-- (list) cost of the same usage, and how much usage has no catalog price (unpriced).
-- Only usage that counts toward spend (`in_spend`: one source per provider and day, billing first) is summed,
-- so overlapping sources are not counted twice; billed and list are compared only on the usage rows that carry
-- both (the rollup's rc_billed_usd / rc_expected_usd), so the two sums cover the same usage and the billed one is
-- the first term of the Overview's spend bridge (bridge_spend_billed_list). Requests come from the same rows; cost per 1,000 requests uses
-- only the usage that reports request counts (cost-only billing rows have none). Unpriced counts all rows.
-- Grain: exactly one row.
-- Params: $start, $end (dates, inclusive).
with daily as (
    select * from spend_daily where day between $start and $end
),
totals as (
    select
        coalesce(sum(spend_usd), 0) as spend_usd,
        coalesce(sum(cost_usd) filter (where in_spend), 0) as billed_usd,
        coalesce(sum(list_cost_usd) filter (where in_spend), 0) as list_usd,
        coalesce(sum(rc_billed_usd) filter (where in_spend), 0) as billed_compared_usd,
        coalesce(sum(rc_expected_usd) filter (where in_spend), 0) as list_compared_usd,
        coalesce(sum(requests) filter (where in_spend), 0)::bigint as requests,
        sum(spend_usd) filter (where in_spend and requests > 0) as spend_with_requests_usd,
        coalesce(sum(row_count), 0)::bigint as row_count,
        coalesce(sum(unpriced_rows), 0)::bigint as unpriced_rows,
        count(distinct provider || '/' || model) filter (where unpriced_rows > 0) as unpriced_models
    from daily
),
final as (
    select
        cast(spend_usd as decimal(18, 6)) as spend_usd,
        cast(billed_usd as decimal(18, 6)) as billed_usd,
        cast(list_usd as decimal(18, 6)) as list_usd,
        cast(billed_compared_usd as decimal(18, 6)) as billed_compared_usd,
        cast(list_compared_usd as decimal(18, 6)) as list_compared_usd,
        requests,
        cast(spend_with_requests_usd * 1000 / nullif(requests, 0) as decimal(18, 6)) as cost_per_1k_requests,
        row_count,
        unpriced_rows,
        unpriced_models
    from totals
)
select * from final
