-- simulate/frontier_rows: the per-row inputs of the what-if slider tables (simulate/frontier.py): every row the
-- replay (simulate/replay.sql) would read, with each policy's static eligibility, its rank key and the cost of
-- the whole row under that policy split into coefficients (constant, × output_multiplier, × the policy's own
-- rate: escalation_rate of a cascade, hit_rate of a cache). Claims are made in numpy, exactly as the replay does.
-- Grain: one row per `usage_replay` row in the period and scope.
-- Params: $start, $end_excl; the policies' bound values ($p{i}_*), target prices ($p{i}_in0, …), row map
--   ($rr_*), per-request grades ($g_key, $g_model, $g_score) — the same names and values the replay binds
--   (simulate/replay.py).
-- Template slots (block comments named grade_columns, grade_join, scope, rate_columns, joins, columns) are filled
-- by simulate/frontier.py with the fixed fragments of simulate/policies.py and simulate/replay.py; every value is
-- bound, never spliced. The grades are joined only when a shadow evaluation graded some replayed request rows.
with grades as (
    select
        cast(row_key as uhugeint) as row_key,
        map_from_entries(list({'k': model, 'v': score})) as grades
    from (
        select
            unnest(cast($g_key as varchar[])) as row_key,
            unnest(cast($g_model as varchar[])) as model,
            unnest(cast($g_score as double[])) as score
    )
    group by row_key
),

scoped as (
    select
        ts, granularity, provider, model, project, team, workload, service_tier, requests,
        input_tokens, cache_read_tokens, cache_write_tokens, output_tokens,
        cast(coalesce(cost_usd, list_cost_usd) as double) as base_cost,
        cast(list_cost_usd as double) as list_cost,
        coalesce(cost_usd, list_cost_usd) is null as unpriced,
        input_tokens + cache_read_tokens + cache_write_tokens + output_tokens as total_tokens,
        hash(ts, provider, model_raw, account, project, api_key, user_id, requests, input_tokens,
             cache_read_tokens, cache_write_tokens, output_tokens, ingest_id) as row_hash
        /*grade_columns*/
    from usage_replay as u /*grade_join*/
    where ts >= $start and ts < $end_excl
        and /*scope*/
),

row_map as (
    select
        unnest(cast($rr_provider as varchar[])) as provider,
        unnest(cast($rr_model as varchar[])) as model,
        unnest(cast($rr_cprovider as varchar[])) as catalog_provider,
        unnest(cast($rr_cmodel as varchar[])) as catalog_model
),

row_rates as (
    select
        m.provider,
        m.model,
        c.valid_from,
        c.valid_to,
        cast(c.input_mtok as double) as r_in,
        cast(coalesce(c.cache_read_mtok, c.input_mtok) as double) as r_cr
    from row_map as m
    join catalog_prices as c on c.catalog_provider = m.catalog_provider and c.model = m.catalog_model
),

priced as (
    select s.* /*rate_columns*/
    from scoped as s
    /*joins*/
),

final as (
    select
        unpriced,
        granularity = 'request' as is_request,
        cast(requests as double) as requests,
        base_cost,
        team,
        lower(workload) as workload,
        model
        /*columns*/
    from priced
)

select * from final
