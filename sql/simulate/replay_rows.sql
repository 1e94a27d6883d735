-- simulate/replay_rows: the rows a replay reads, as both the replay (simulate/replay.sql) and the slider tables'
-- prepare (simulate/frontier_rows.sql) read them: `usage_replay` (per provider and day, the most detailed source:
-- see source_choice) in the period and scope, read from its stored, priced copy `replay_stored`
-- (sql/writes/replay_stored_rows.sql: no row is priced again here; `total_tokens` and `row_hash` are stored there),
-- with the baseline cost, the picking columns and, when a shadow evaluation graded some replayed request rows,
-- their per-request grades.
-- Grain: one row per `usage_replay` row in the period and scope.
-- Params: $start, $end_excl (timestamps: the period, end exclusive); $scope_* (the scenario's scope). Relations
--   (registered on the query's cursor by simulate/plan.py, read only when joined): `sim_grades` (key_hi, key_lo,
--   g_src, g_m{k}: one row per graded request row, its grade of its own model and of each target model, pivoted
--   from what simulate/request_grades.sql matched) and `sim_router` (key_hi, key_lo, score: a router's scores
--   matched to the same rows, for `pick: score`).
-- With sessions read (a policy with `unit: session`, or cache lost on a switch) also `session_id` and `unit_key`
-- (the conversation: hash(session_id); a row without one is its own unit: its row hash).
-- Template slots (block comments named grade_join, grade_columns, router_join, router_columns, session_columns,
-- scope) are filled by simulate/plan.py with fixed fragments (a target's grade column is a name plan.py generates,
-- g_m0, g_m1, ...); every value is bound, never spliced. The grades and the router's scores are joined only when
-- some matched: without them the rows read no key. `identity_columns`: the row's natural key as `row_id`, filled by
-- simulate/buckets.py for sql/simulate/frontier_grouped.sql (a row that must stay a row of its own groups by it).
with grades as (
    select
        (cast(key_hi as uhugeint) << 64) | key_lo as row_key,
        * exclude (key_hi, key_lo)
    from sim_grades
),

router as (
    select
        (cast(key_hi as uhugeint) << 64) | key_lo as row_key,
        cast(score as double) as r_score
    from sim_router
),

final as (
    select
        ts, granularity, provider, model, project, team, workload, service_tier, requests,
        input_tokens, cache_read_tokens, cache_write_tokens, output_tokens,
        cast(coalesce(cost_usd, list_cost_usd) as double) as base_cost,
        cast(list_cost_usd as double) as list_cost,
        -- neither billed nor list cost: kept only to be counted (lever 'unpriced'), never claimed by a policy
        coalesce(cost_usd, list_cost_usd) is null as unpriced,
        total_tokens,
        row_hash
        /*grade_columns*/ /*router_columns*/ /*session_columns*/ /*identity_columns*/
    from replay_stored as u /*grade_join*/ /*router_join*/
    where ts >= $start and ts < $end_excl
        and /*scope*/
)

select * from final
