-- attribution_coverage: how the team of a date range's spend is decided: by an attribution rule, by the file (no
-- rule sets a team, the source named one), or not at all ('unassigned'). Same first-match semantics as
-- apply_attribution (macro attribution_rule_hits), on the rollup's dimensions and labels. Spend = billed where reported, else
-- list, counted once. Grain: one row per way a team is decided (rule, file, unassigned), present ones only, with its
-- share. Params: $start, $end (dates, inclusive).
with team_rules as (
    select field, pattern from attribution_rules where team is not null
),
daily as (
    select * from usage_daily where day between $start and $end
),
dims as (
    select
        account, project, api_key, user_id, provider, model, labels, team,
        sum(row_count)::bigint as row_count,
        sum(requests)::bigint as requests,
        sum(spend_usd) as spend_usd
    from daily
    group by account, project, api_key, user_id, provider, model, labels, team
),
classified as (
    select
        d.*,
        case
            when exists (
                select 1 from team_rules as r
                where attribution_rule_hits(r.field, r.pattern,
                                            d.account, d.project, d.api_key, d.user_id, d.provider, d.model,
                                 d.labels)
            ) then 'rule'
            when d.team = 'unassigned' then 'unassigned'
            else 'file'
        end as decided_by
    from dims as d
),
final as (
    select
        decided_by,
        count(distinct team)::bigint as teams,
        sum(row_count)::bigint as row_count,
        sum(requests)::bigint as requests,
        cast(coalesce(sum(spend_usd), 0) as decimal(18, 6)) as spend_usd,
        coalesce(sum(spend_usd) / nullif(sum(sum(spend_usd)) over (), 0), 0)::double as spend_share
    from classified
    group by decided_by
)
select * from final
order by case decided_by when 'rule' then 1 when 'file' then 2 else 3 end
