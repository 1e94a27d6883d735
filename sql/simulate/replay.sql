-- simulate/replay: replay `usage_replay` (per provider and day, the most detailed source: see source_choice) under a scenario's ordered policies; baseline vs scenario cost per row part.
-- Grain: one row per (day, team, project, provider, workload, source_model, target_model, lever, policy).
-- Params: those of simulate/replay_rows.sql and simulate/row_rates.sql (their text fills the slots of those
--   names); $output_multiplier; $p{i}_in0, $p{i}_to0, … (policy i's target prices per interval, USD per 1M
--   tokens); $q_workload, $q_model, $q_score, $q_measured (quality table; measured = from a shadow evaluation);
--   $p{i}_* (policy i's values, label, lever, target label and target model id).
-- Template slots (block comments named replay_rows, row_rates, materialized, row_id, static_flags, rank_ctes,
-- thresholds, policy_ctes, last_step, rate_columns, joins, switch_ctes, sums_from, sums, parts) are filled by simulate/replay.py from
-- the plan (simulate/plan.py) and the fragments of simulate/policies.py; every value is bound, never spliced.
-- Speed: a ranked policy sorts only its eligible request rows' (order key, row id) in a narrow CTE (`ord_i`);
-- `thr_i` is the key of the last row it takes, and the wide rows compare their own key with it (no sort or join
-- of wide rows). `scoped` is then materialised once (the row ids must be the same in both). Parts are summed per
-- (day, team, project, provider, workload, model) before they are unnested, so the unnest and the 11-key
-- grouping see thousands of rows, not millions.
-- Rows without any cost come out as lever 'unpriced' (counted, not costed).
-- Quality: per part, request-weighted from the score table (priors, workload × model measures); request rows a
-- shadow evaluation grades per request carry their own grades (`g_src`, `g_t{i}`: only joined when there are
-- any, so a replay without them reads no key) and those win for them: `gr`/`gb`/`gq` are their requests and
-- baseline/scenario quality sums, blended with the priors for the rest in `final`.
-- Money is DOUBLE inside the replay (fractions of rows); the caller rounds results to 6 decimals.
with source_rows as (
    /*replay_rows*/
),

-- each policy's static eligibility (match and kind), computed once; with a ranked policy also a row id, and the
-- whole CTE is materialised (the narrow ranking and the wide rows must see the same ids)
scoped as /*materialized*/ (
    select * /*row_id*/ /*static_flags*/
    from source_rows
),

row_rates as (
    /*row_rates*/
),

/*rank_ctes*/

step_0 as (
    select *, cast(1.0 as double) as rem_0
    from scoped /*thresholds*/
),

/*policy_ctes*/

priced as (
    select s.* /*rate_columns*/
    from /*last_step*/ as s
    /*joins*/
),

-- cache lost on a switch (conv, switched): per row the extra cost of the cache its move loses, when it does
/*switch_ctes*/

-- per part (the unclaimed remainder, then each policy): the rows where the part is more than 1e-12 of the row
sums as (
    select
        cast(ts as date) as day, team, project, provider, workload, model as source_model, unpriced,
        /*sums*/
    from /*sums_from*/
    group by all
),

parts as (
    select
        day, team, project, provider, workload, source_model,
        unnest([/*parts*/]) as part
    from sums
),

grouped as (
    select
        day, team, project, provider, workload, source_model,
        part.target_model, part.target_id, part.lever, part.policy, part.esc, part.qratio,
        sum(part.requests) as requests,
        sum(part.baseline) as baseline_cost_usd,
        sum(part.cost) as scenario_cost_usd,
        coalesce(sum(part.gr), 0) as gr,
        coalesce(sum(part.gb), 0) as gb,
        coalesce(sum(part.gq), 0) as gq
    from parts
    where part.live
    group by all
),

scores as (
    select
        unnest(cast($q_workload as varchar[])) as workload,
        unnest(cast($q_model as varchar[])) as model,
        unnest(cast($q_score as double[])) as score,
        unnest(cast($q_measured as boolean[])) as measured
),

-- source/target scores from one benchmark block: the row's workload if it scores both, else '*'
scored as (
    select
        g.*,
        (g.lever in ('none', 'batch', 'caching')) as same_model,
        case when ws.score is not null and wt.score is not null then ws.score
             when ds.score is not null and dt.score is not null then ds.score end as pair_source,
        case when ws.score is not null and wt.score is not null then wt.score
             when ds.score is not null and dt.score is not null then dt.score end as pair_target,
        coalesce(ws.score, ds.score) as own_score,
        -- measured (shadow evaluation) when every score the part's figures use was measured
        case when ws.score is not null and wt.score is not null then ws.measured and wt.measured
             when ds.score is not null and dt.score is not null then ds.measured and dt.measured
             else false end as pair_measured,
        case when ws.score is not null then ws.measured else coalesce(ds.measured, false) end as own_measured
    from grouped as g
    left join scores as ws on ws.workload = lower(g.workload) and ws.model = lower(g.source_model)
    left join scores as wt on wt.workload = lower(g.workload) and wt.model = g.target_id
    left join scores as ds on ds.workload = '*' and ds.model = lower(g.source_model)
    left join scores as dt on dt.workload = '*' and dt.model = g.target_id
),

-- from the score table (priors and workload × model measures): what a request the grades do not cover scores
priors as (
    select
        *,
        case when same_model then own_score
             when qratio is not null then own_score
             else pair_source end as prior_baseline,
        case when same_model then own_score
             when qratio is not null then (1 - esc) * qratio * own_score + esc * own_score
             else (1 - esc) * pair_target + esc * pair_source end as prior_scenario,
        case when same_model then own_measured
             when qratio is not null then false
             else pair_measured end as prior_measured
    from scored
),

-- the requests the priors score: those no per-request grade covers, when the priors score the part at all
blended as (
    select
        *,
        case when prior_baseline is not null and prior_scenario is not null then requests - gr else 0 end
            as prior_requests
    from priors
),

final as (
    select
        day, team, project, provider, workload, source_model, target_model, lever, policy, esc,
        requests, baseline_cost_usd, scenario_cost_usd,
        case when gr = 0 then prior_baseline
             when gr + prior_requests > 0
             then (gb + prior_requests * coalesce(prior_baseline, 0)) / (gr + prior_requests) end as baseline_quality,
        case when gr = 0 then prior_scenario
             when gr + prior_requests > 0
             then (gq + prior_requests * coalesce(prior_scenario, 0)) / (gr + prior_requests) end as scenario_quality,
        -- the requests the quality figures are means over, and those of them measured (graded per request,
        -- except under a quality_ratio target; or scored from workload × model measures only)
        gr + prior_requests as scored_requests,
        (case when qratio is null then gr else 0 end)
            + (case when prior_measured then prior_requests else 0 end) as measured_requests,
        gr + prior_requests > 0
            and (case when qratio is null then gr else 0 end)
                + (case when prior_measured then prior_requests else 0 end) >= gr + prior_requests
            as quality_measured
    from blended
)

select * from final
