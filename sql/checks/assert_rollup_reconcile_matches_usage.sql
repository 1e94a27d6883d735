-- assert_rollup_reconcile_matches_usage: the reconciliation sums usage_daily keeps (rc_*, tc_*) must split the
-- usage view's rows the way finance_reconcile_detail and finance_reconcile_token_classes define them.
-- Returns a row when a billed, expected, list-only or unpriced sum, a row count or a token total differs.
with from_view as (
    select
        coalesce(sum(cost_usd) filter (where list_cost_usd is not null), 0) as billed,
        coalesce(sum(list_cost_usd) filter (where cost_usd is not null), 0) as expected,
        coalesce(sum(list_cost_usd) filter (where cost_usd is null), 0) as list_only,
        coalesce(sum(cost_usd) filter (where list_cost_usd is null), 0) as unpriced_billed,
        count(*) filter (where cost_usd is not null and list_cost_usd is not null) as compared_rows,
        count(*) filter (where list_cost_usd is null) as unpriced_rows,
        coalesce(sum(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens)
                 filter (where cost_usd is not null and list_cost_usd is not null), 0) as compared_tokens
    from usage
),
from_rollup as (
    select
        coalesce(sum(rc_billed_usd), 0) as billed,
        coalesce(sum(rc_expected_usd), 0) as expected,
        coalesce(sum(rc_list_only_usd), 0) as list_only,
        coalesce(sum(rc_unpriced_billed_usd), 0) as unpriced_billed,
        coalesce(sum(rc_compared_rows), 0) as compared_rows,
        coalesce(sum(rc_unpriced_rows), 0) as unpriced_rows,
        coalesce(sum(tc_input_tokens + tc_cache_read_tokens + tc_cache_write_tokens + tc_output_tokens), 0)
            as compared_tokens
    from usage_daily
),
final as (
    select v.*, r.* from from_view v, from_rollup r
    where v.billed <> r.billed or v.expected <> r.expected or v.list_only <> r.list_only
        or v.unpriced_billed <> r.unpriced_billed or v.compared_rows <> r.compared_rows
        or v.unpriced_rows <> r.unpriced_rows or v.compared_tokens <> r.compared_tokens
)
select * from final
