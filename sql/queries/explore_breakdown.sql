-- explore_breakdown: spend and unit economics per group of one chosen dimension, for the Explore table.
-- Spend = billed where reported, else list, counted once where sources overlap (usage_daily.spend_usd);
-- requests and tokens come from the rows that count toward spend. Cost per request uses only usage that
-- reports request counts, cost per 1M tokens only usage that reports tokens (null when there is none), so
-- cost-only billing lines don't inflate either. Cache share = cache-read tokens / all prompt tokens.
-- The dimension is a bound value matched against a fixed list of columns; a missing value is '(none)'.
-- Filters and the group: macro usage_grouped (sql/migrations/023_shared_macros_2.sql).
-- Grain: one row per group, highest spend first, at most $limit rows.
-- Params: $start, $end (dates, inclusive); $dimension (see explore_trend); $filters (struct of one varchar
-- list per dimension, an empty list keeps every row); $limit (integer); $coarse (boolean: true only when
-- neither api_key nor user_id is the dimension or filtered on); $people (boolean: true only when not $coarse and
-- only team, user_id or api_key is the dimension or filtered on).
with daily as (
    -- $coarse (no user or key grouped or filtered): spend_daily, usage_daily without them, a thousandth of the
    -- rows at 100 M requests; the two nulled columns are then never grouped or filtered on.
    -- $people (user, key or team only): people_monthly's months and the cut months' days (macro people_in_range,
    -- migration 030), the measures below summed per month; the dimensions it lacks are null and never used.
    select * from usage_daily where day between $start and $end and not $coarse and not $people
    union all by name
    select *, null::varchar as user_id, null::varchar as api_key, null::map(varchar, varchar) as labels
    from spend_daily where day between $start and $end and $coarse
    union all by name
    select * from people_in_range(people_monthly, usage_daily, spend_daily, $start, $end) where $people
),
grouped as (
    select * from usage_grouped(daily, $filters, $dimension)
),
per_group as (
    select
        group_value,
        coalesce(sum(spend_usd), 0) as spend_usd,
        coalesce(sum(requests) filter (where in_spend), 0)::bigint as requests,
        sum(spend_usd) filter (where in_spend and requests > 0) as spend_with_requests_usd,
        coalesce(sum(input_tokens + cache_read_tokens + cache_write_tokens) filter (where in_spend), 0)::bigint
            as prompt_tokens,
        coalesce(sum(cache_read_tokens) filter (where in_spend), 0)::bigint as cache_read_tokens,
        coalesce(sum(output_tokens) filter (where in_spend), 0)::bigint as output_tokens,
        sum(spend_usd) filter (
            where in_spend and input_tokens + cache_read_tokens + cache_write_tokens + output_tokens > 0
        ) as spend_with_tokens_usd,
        sum(row_count)::bigint as row_count,
        sum(unpriced_rows)::bigint as unpriced_rows
    from grouped
    group by group_value
),
final as (
    select
        group_value,
        cast(spend_usd as decimal(18, 6)) as spend_usd,
        cast(spend_usd / nullif(sum(spend_usd) over (), 0) as double) as spend_share,
        requests,
        cast(spend_with_requests_usd / nullif(requests, 0) as decimal(18, 6)) as cost_per_request,
        prompt_tokens,
        output_tokens,
        cast(spend_with_tokens_usd * 1000000 / nullif(prompt_tokens + output_tokens, 0) as decimal(18, 6))
            as cost_per_1m_tokens,
        cast(cache_read_tokens / nullif(prompt_tokens, 0) as double) as cache_share,
        row_count,
        unpriced_rows
    from per_group
)
select * from final
order by spend_usd desc, group_value
limit $limit
