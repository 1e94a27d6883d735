-- usage_daily_rows: the rows of the rollup interactive pages read instead of raw rows, for the days
-- $first_day..$last_day (both null: every day). Grain: one row per day x every dimension of `usage` x label set
-- (`labels`, migration 024: null for sources that carry none).
-- warehouse/ledger.py (refresh_derived) creates the table from it, or, on an ordinary write, deletes the days the
-- write touched and inserts them again from it, in the same transaction as the write, after source_choice.
-- `spend_usd` is what counts toward spend totals (the one definition of spend, docs/finance.md): billed where
-- reported, else list, and 0 for a source that another source of the same provider and day supersedes (see
-- source_choice); `source_cost_usd` is that source's own cost whether it counts or not, and `in_replay` whether
-- the replay reads it (the spend bridges, sql/queries/bridge_spend_*.sql, read both); billed and list cost stay
-- whole for reconciliation.
-- The rc_* and tc_* columns are the reconciliation's per-row parts summed here, once per write, so the
-- Reconciliation page sums days instead of pricing every row again (queries finance_reconcile_detail and
-- finance_reconcile_token_classes, which define them):
--   rc_*: the list price taken apart against the catalog (naive list, cache, negotiated, batch, tier) and the
--         billed / expected / unpriced / list-only sums, each with its row filter;
--   tc_<class>_{tokens,list_usd,billed_usd}: per token class (input, cache_read, cache_write, output) of rows
--         with both a billed and a list cost: tokens, list cost at effective prices, and the row's bill shared
--         out by list cost.
-- Each part is a sum over rows of tokens x the prices in force at the row's ts, over the rows a filter selects; the
-- rows are first summed per group of equal prices and equal filter outcomes (by_price), and each part is computed
-- from those sums (tokens x price is linear): the decimal sums are the per-row ones, the doubles equal them to
-- ~1e-12 (tests/warehouse/test_usage_daily_parts.py). Cheaper where a group holds many rows (a day's 500 k rows in
-- 69 k groups: -0.1 to -0.3 CPU s; narrow files -0.2 to -0.5), dearer where groups hold ~2 rows (a wide file spread
-- over a year: +0.3 to +0.5 per 1 M rows): docs/benchmarks.md, "eleventh session".
with in_window as (
    select *, ts as price_at
    from usage
    where (cast($first_day as date) is null or ts >= cast($first_day as date))
        and (cast($last_day as date) is null or ts < cast($last_day as date) + interval 1 day)
),
priced as (
    -- catalog and in-force prices per token class at the row's ts (macro of migration 022)
    select * exclude (p_out), coalesce(p_out, 0) as p_out from token_class_prices(in_window)
),
by_price as (
    -- the rows summed per day x dimensions x the prices in force x which of the filters below they pass: within
    -- such a group every price is one value and every filter holds for all rows or none, so each part below is a
    -- sum of these sums times the group's prices instead of a per-row product and filter; only the row's bill per
    -- dollar of list cost (the billed share per token class) is taken per row
    select
        cast(date_trunc('day', ts) as date) as day,
        provider, model, account, project, api_key, user_id, team, workload, operation, service_tier,
        granularity, source_format, labels,
        c_in, c_out, c_cr, c_cw, has_override, batch_factor, factor, p_in, p_cr, p_cw, p_out,
        cost_usd is not null as is_billed,
        list_cost_usd is not null as is_priced,
        list_cost_usd > 0 as is_listed,
        input_tokens + cache_read_tokens + cache_write_tokens + output_tokens > 0 as has_tokens,
        input_tokens + cache_read_tokens + cache_write_tokens + output_tokens = 0 as no_tokens,
        count(*) as n,
        sum(requests) as requests,
        sum(input_tokens) as input_tokens,
        sum(cache_read_tokens) as cache_read_tokens,
        sum(cache_write_tokens) as cache_write_tokens,
        sum(output_tokens) as output_tokens,
        sum(reasoning_tokens) as reasoning_tokens,
        sum(cost_usd) as cost_usd,
        sum(list_cost_usd) as list_cost_usd,
        -- the row's bill per dollar of list cost, times its tokens of each class (rows with a positive list cost)
        sum(input_tokens * (cost_usd / list_cost_usd)) filter (where list_cost_usd > 0) as share_input,
        sum(cache_read_tokens * (cost_usd / list_cost_usd)) filter (where list_cost_usd > 0) as share_cache_read,
        sum(cache_write_tokens * (cost_usd / list_cost_usd)) filter (where list_cost_usd > 0) as share_cache_write,
        sum(output_tokens * (cost_usd / list_cost_usd)) filter (where list_cost_usd > 0) as share_output
    from priced
    group by all
),
parts as (
    select
        *,
        is_billed and is_priced as is_compared,
        (input_tokens * c_in + cache_read_tokens * c_in + cache_write_tokens * c_in
            + output_tokens * coalesce(c_out, 0)) / 1e6 as naive_list,
        (cache_read_tokens * (c_in - c_cr) + cache_write_tokens * (c_in - c_cw)) / 1e6 as cache_saving,
        (input_tokens * c_in + cache_read_tokens * c_cr + cache_write_tokens * c_cw
            + output_tokens * coalesce(c_out, 0)) / 1e6 as catalog_std,
        list_cost_usd / batch_factor as pre_batch,
        input_tokens * p_in * factor / 1e6 as list_input,
        cache_read_tokens * p_cr * factor / 1e6 as list_cache_read,
        cache_write_tokens * p_cw * factor / 1e6 as list_cache_write,
        output_tokens * p_out * factor / 1e6 as list_output,
        -- a row's bill shared out by list cost: cost_usd * list_<class> / list_cost_usd, 0 where list is not > 0
        case when is_listed then share_input * p_in * factor / 1e6 else 0 end as billed_input,
        case when is_listed then share_cache_read * p_cr * factor / 1e6 else 0 end as billed_cache_read,
        case when is_listed then share_cache_write * p_cw * factor / 1e6 else 0 end as billed_cache_write,
        case when is_listed then share_output * p_out * factor / 1e6 else 0 end as billed_output
    from by_price
),
daily as (
    select
        day,
        provider, model, account, project, api_key, user_id, team, workload, operation, service_tier,
        granularity, source_format, labels,
        sum(n)::bigint as row_count,
        sum(requests)::bigint as requests,
        sum(input_tokens)::bigint as input_tokens,
        sum(cache_read_tokens)::bigint as cache_read_tokens,
        sum(cache_write_tokens)::bigint as cache_write_tokens,
        sum(output_tokens)::bigint as output_tokens,
        sum(reasoning_tokens)::bigint as reasoning_tokens,
        sum(cost_usd) as cost_usd,
        sum(list_cost_usd) as list_cost_usd,
        sum(case when is_billed then cost_usd else list_cost_usd end) as source_cost_usd,
        coalesce(sum(n) filter (where not is_priced and has_tokens), 0)::bigint as unpriced_rows,
        -- reconciliation (finance_reconcile_detail)
        coalesce(sum(n) filter (where is_billed and is_priced), 0)::bigint as rc_compared_rows,
        coalesce(sum(n) filter (where not is_priced), 0)::bigint as rc_unpriced_rows,
        sum(cost_usd) filter (where is_priced) as rc_billed_usd,
        sum(list_cost_usd) filter (where is_billed) as rc_expected_usd,
        sum(naive_list) filter (where is_billed and c_in is not null) as rc_naive_list_usd,
        sum(cache_saving) filter (where is_billed and c_in is not null) as rc_cache_saving_usd,
        sum(catalog_std - pre_batch) filter (where is_billed and has_override and c_in is not null)
            as rc_negotiated_saving_usd,
        sum(pre_batch - list_cost_usd) filter (where is_billed and is_priced) as rc_batch_saving_usd,
        sum(pre_batch - catalog_std) filter (where is_billed and not has_override and c_in is not null)
            as rc_tier_extra_usd,
        sum(cost_usd) filter (where not is_priced) as rc_unpriced_billed_usd,
        -- of which lines with no quantities (invoice lines, fees, credits): nothing to price, not an unpriced model
        sum(cost_usd) filter (where not is_priced and no_tokens) as rc_cost_only_usd,
        sum(list_cost_usd) filter (where not is_billed) as rc_list_only_usd,
        -- token classes (finance_reconcile_token_classes): rows with a billed and a list cost
        sum(input_tokens) filter (where is_compared) as tc_input_tokens,
        sum(list_input) filter (where is_compared) as tc_input_list_usd,
        sum(billed_input) filter (where is_compared) as tc_input_billed_usd,
        sum(cache_read_tokens) filter (where is_compared) as tc_cache_read_tokens,
        sum(list_cache_read) filter (where is_compared) as tc_cache_read_list_usd,
        sum(billed_cache_read) filter (where is_compared) as tc_cache_read_billed_usd,
        sum(cache_write_tokens) filter (where is_compared) as tc_cache_write_tokens,
        sum(list_cache_write) filter (where is_compared) as tc_cache_write_list_usd,
        sum(billed_cache_write) filter (where is_compared) as tc_cache_write_billed_usd,
        sum(output_tokens) filter (where is_compared) as tc_output_tokens,
        sum(list_output) filter (where is_compared) as tc_output_list_usd,
        sum(billed_output) filter (where is_compared) as tc_output_billed_usd
    from parts
    group by day, provider, model, account, project, api_key, user_id, team, workload, operation, service_tier,
        granularity, source_format, labels
),
final as (
    select
        d.*,
        coalesce(s.source_kind, 'telemetry') as source_kind,
        coalesce(s.in_spend, true) as in_spend,
        coalesce(s.in_replay, true) as in_replay,
        case when coalesce(s.in_spend, true) then d.source_cost_usd else 0 end as spend_usd
    from daily as d
    left join source_choice as s
        on s.provider = d.provider and s.day = d.day and s.source_format = d.source_format
)
select * from final
