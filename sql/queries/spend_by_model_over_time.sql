-- spend_by_model_over_time: spend per model per time bucket; the $top_n models by spend in the range keep
-- their name, every other model is summed as 'other' so the chart stays readable.
-- Spend = billed where reported, else list, counted once where sources overlap (usage_daily.spend_usd). Buckets start on the 1st (month), Monday (week) or the day.
-- Grain: one row per bucket per model label (at most $top_n + 1 labels).
-- Params: $start, $end (dates, inclusive); $bucket ('day' | 'week' | 'month'); $top_n (integer).
with daily as (
    select * from usage_daily where day between $start and $end
),
model_totals as (
    select model, sum(coalesce(spend_usd, 0)) as total_usd
    from daily
    group by model
),
ranked as (
    select model, row_number() over (order by total_usd desc, model) as spend_rank
    from model_totals
),
labelled as (
    select
        cast(date_trunc($bucket, d.day) as date) as period,
        case when r.spend_rank <= $top_n then d.model else 'other' end as model,
        case when r.spend_rank <= $top_n then r.spend_rank else $top_n + 1 end as spend_rank,
        d.spend_usd,
        d.requests,
        d.in_spend
    from daily as d
    join ranked as r on r.model = d.model
),
final as (
    select
        period,
        model,
        min(spend_rank) as spend_rank,
        cast(coalesce(sum(spend_usd), 0) as decimal(18, 6)) as spend_usd,
        coalesce(sum(requests) filter (where in_spend), 0)::bigint as requests
    from labelled
    group by period, model
    order by period, spend_rank
)
select * from final
