-- 029: credit, refund and adjustment lines are their own series in the stacked spend charts, never summed into
-- 'other' (issue 15). A FOCUS credit or adjustment line names its charge category where a model would be
-- (sql/adapters/focus.sql; dashboard/services/spend.py NOT_MODELS lists the same names): a negative amount
-- ranks last by spend, so top_groups_by_period (023) summed it into 'other', which then read less than the
-- models it holds. Now such a line keeps its name, ranked after 'other' (top_n + 2 onwards, by name), and is
-- not counted among the top_n; every other group is ranked as before. Callers: queries/explore_trend,
-- spend_by_model_over_time. Grain: none (definition only).
create or replace macro top_groups_by_period(rows, bucket, top_n) as table
with group_totals as (
    select
        group_value,
        sum(coalesce(spend_usd, 0)) as total_usd,
        coalesce(lower(group_value) in ('credit', 'adjustment', 'refund', 'tax', 'purchase'), false) as is_line
    from query_table(rows)
    group by group_value
),
ranked as (
    select
        group_value,
        is_line,
        row_number() over (partition by is_line order by total_usd desc, group_value) as line_rank
    from group_totals
),
numbered as (
    select
        group_value,
        is_line,
        case when is_line then top_n + 1 + line_rank else line_rank end as spend_rank
    from ranked
),
labelled as (
    select
        cast(date_trunc(bucket, g.day) as date) as period,
        case when r.is_line or r.spend_rank <= top_n then g.group_value else 'other' end as group_value,
        case when r.is_line or r.spend_rank <= top_n then r.spend_rank else top_n + 1 end as spend_rank,
        g.spend_usd,
        g.requests,
        g.in_spend
    from query_table(rows) as g
    join numbered as r on r.group_value = g.group_value
),
final as (
    select
        period,
        group_value,
        min(spend_rank) as spend_rank,
        cast(coalesce(sum(spend_usd), 0) as decimal(18, 6)) as spend_usd,
        coalesce(sum(requests) filter (where in_spend), 0)::bigint as requests
    from labelled
    group by period, group_value
)
select * from final;
