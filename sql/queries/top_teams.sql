-- top_teams: the teams that spend most in a date range, with requests and cost per 1,000 requests.
-- Team comes from the attribution rules ('unassigned' when none matches). Spend = billed where reported,
-- else list, counted once where sources overlap. Requests come from the rows that count toward spend; cost per
-- 1,000 requests uses only the usage that reports request counts (null when none does). Grain: one row per team, highest spend first, at most $limit rows.
-- Params: $start, $end (dates, inclusive); $limit (integer).
with daily as (
    select * from spend_daily where day between $start and $end
),
per_team as (
    select
        team,
        coalesce(sum(spend_usd), 0) as spend_usd,
        coalesce(sum(requests) filter (where in_spend), 0)::bigint as requests,
        sum(spend_usd) filter (where in_spend and requests > 0) as spend_with_requests_usd,
        count(distinct model) as models
    from daily
    group by team
),
final as (
    select
        team,
        cast(spend_usd as decimal(18, 6)) as spend_usd,
        requests,
        cast(spend_with_requests_usd * 1000 / nullif(requests, 0) as decimal(18, 6)) as cost_per_1k_requests,
        cast(spend_usd / nullif(sum(spend_usd) over (), 0) as double) as spend_share,
        models
    from per_team
    order by spend_usd desc, team
    limit $limit
)
select * from final
