-- attribution_rule_matches: what each attribution rule decides in a date range. First match wins per field: a row's
-- team comes from the first rule (lowest priority, then saved order) that matches it and sets a team, its workload
-- likewise. A rule whose pattern matches only usage that earlier rules already decide is shadowed: it matches rows
-- but decides none (`shadowed_by` names the positions of the rules that win). Spend = billed where reported, else
-- list, counted once where sources overlap (usage_daily.spend_usd). Matching (macro attribution_rule_hits, migration
-- 024) runs on the rollup's dimensions and labels; a `model` rule sees the resolved catalog id there. Grain: one row per rule,
-- in the order rules are tried. Params: $start, $end (dates, inclusive).
with rules as (
    select
        rule_id, priority, field, pattern, team, workload,
        row_number() over (order by priority, rule_id)::bigint as position
    from attribution_rules
),
daily as (
    select * from usage_daily where day between $start and $end
),
dims as (
    select
        row_number() over () as dim_id,
        *
    from (
        select
            account, project, api_key, user_id, provider, model, labels,
            sum(row_count)::bigint as row_count,
            sum(requests)::bigint as requests,
            sum(spend_usd) as spend_usd
        from daily
        group by account, project, api_key, user_id, provider, model, labels
    )
),
matches as (
    select
        d.dim_id, d.project, d.api_key, d.row_count, d.requests, d.spend_usd,
        r.rule_id, r.priority, r.position,
        r.team is not null as sets_team,
        r.workload is not null as sets_workload
    from dims as d
    join rules as r
        on attribution_rule_hits(r.field, r.pattern,
                                 d.account, d.project, d.api_key, d.user_id, d.provider, d.model,
                                 d.labels)
),
winners as (
    select
        dim_id,
        arg_min(position, position) filter (where sets_team) as team_position,
        arg_min(position, position) filter (where sets_workload) as workload_position
    from matches
    group by dim_id
),
decided as (
    select
        m.*,
        w.team_position,
        w.workload_position,
        coalesce(m.position = w.team_position, false) as decides_team,
        coalesce(m.position = w.workload_position, false) as decides_workload
    from matches as m
    join winners as w on w.dim_id = m.dim_id
),
per_rule as (
    select
        rule_id,
        sum(row_count)::bigint as matched_rows,
        coalesce(sum(row_count) filter (where decides_team or decides_workload), 0)::bigint as decided_rows,
        coalesce(sum(requests) filter (where decides_team or decides_workload), 0)::bigint as decided_requests,
        coalesce(sum(spend_usd) filter (where decides_team or decides_workload), 0) as decided_spend_usd,
        coalesce(sum(row_count) filter (where decides_team), 0)::bigint as team_rows,
        coalesce(sum(row_count) filter (where decides_workload), 0)::bigint as workload_rows,
        list_sort(list(distinct project) filter (where (decides_team or decides_workload) and project is not null))
            as projects,
        list_sort(list(distinct api_key) filter (where (decides_team or decides_workload) and api_key is not null))
            as api_keys,
        list_sort(list_distinct(list_concat(
            coalesce(list(team_position) filter (where sets_team and not decides_team), []),
            coalesce(list(workload_position) filter (where sets_workload and not decides_workload), [])
        ))) as winners
    from decided
    group by rule_id
),
final as (
    select
        r.position, r.priority, r.field, r.pattern, r.team, r.workload,
        coalesce(p.matched_rows, 0)::bigint as matched_rows,
        coalesce(p.decided_rows, 0)::bigint as decided_rows,
        coalesce(p.decided_requests, 0)::bigint as decided_requests,
        cast(coalesce(p.decided_spend_usd, 0) as decimal(18, 6)) as decided_spend_usd,
        coalesce(p.team_rows, 0)::bigint as team_rows,
        coalesce(p.workload_rows, 0)::bigint as workload_rows,
        case
            when coalesce(p.matched_rows, 0) = 0 then 'no match'
            when p.decided_rows = 0 then 'shadowed'
            when p.decided_rows < p.matched_rows then 'partly shadowed'
            else 'decides'
        end as status,
        coalesce(list_filter(p.winners, lambda x: x is not null), []) as shadowed_by,
        coalesce(p.projects[1:5], []) as sample_projects,
        coalesce(p.api_keys[1:5], []) as sample_api_keys,
        coalesce(len(p.projects), 0)::bigint as projects,
        coalesce(len(p.api_keys), 0)::bigint as api_keys
    from rules as r
    left join per_rule as p on p.rule_id = r.rule_id
)
select * from final
order by position
