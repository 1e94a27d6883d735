-- simulate/graded_rows: a shadow evaluation's per-request grades matched to the request rows the replay reads
-- (`usage_replay` in the period and scope) on the ledger's natural key `request_row_key(provider, id)`, pivoted to
-- what the replay and the slider tables join (one row per graded request row) and counted for `quality_basis`.
-- Grain: one row per replayed request row with at least one grade in the file: its 128-bit key as two 64-bit
-- halves (`key_hi`, `key_lo`: Arrow and polars have no 128-bit integer; casting a UHUGEINT to text costs ~80 us a
-- value in duckdb 2.0.1), `g_src` (the grade of the row's own model), one column per target model (the template
-- slot; null unless the row's own model is graded too: a moved part needs both), and the counts of the row's
-- (request, model) grades: `used_pairs` (own model, or a target of a row whose own model is graded),
-- `no_source_pairs` (a target, own model not graded), `other_pairs` (neither); plus, the same on every row, the
-- file's `graded_requests` (distinct (provider, request id)). Every other grade of the file names a request that is
-- not a replayed request row (simulate/plan.py counts them: the file's rows minus these).
-- Params: $start, $end_excl (the period, end exclusive); $scope_* (the scenario's scope); $grade_targets (list of
--   the resolved target model ids); $grade_t0, $grade_t1, ... (each target model id, named by simulate/plan.py in
--   the template slot). Relation `sim_grades_in` (request_id, provider, model, score: the file's rows, models
--   resolved; provider null = not given), registered on the query's cursor by simulate/plan.py.
-- Template slots (block comments named scope and target_columns) are filled by simulate/plan.py with the scope's
-- fixed fragment and, per target K, `g_mK`: `max(score) filter (where model = $grade_tK)` when the row's own
-- model is graded, else null; every value is bound.
-- A grade naming its provider is keyed directly. An id given without a provider is tried under every provider the
-- ledger has, and used only when exactly one of those keys is a replayed request row. The grades are joined to
-- the replayed rows once and grouped by row (this replaced a second join back and a pivot and distinct counts in
-- polars).
-- (the relation is read where it is needed, not through one CTE: a CTE read three times is materialized, a copy
-- of every grade's strings)
with replayed as (
    select
        row_key,
        lower(model) as row_model
    from usage_replay
    where ts >= $start and ts < $end_excl
        and granularity = 'request'
        and /*scope*/
),

-- a grade that names its provider: its row's natural key directly
given as (
    select request_row_key(provider, request_id) as row_key, model, score, false as open
    from sim_grades_in
    where provider is not null
),

-- an id without a provider: tried under every provider the ledger has, used when exactly one key is replayed
open_ids as (
    select distinct request_id
    from sim_grades_in
    where provider is null
),

providers as (
    select distinct provider
    from source_choice
),

candidates as (
    select r.request_id, request_row_key(p.provider, r.request_id) as row_key
    from open_ids as r
    cross join providers as p
),

open_matched as (
    select c.*
    from candidates as c
    semi join replayed as u on u.row_key = c.row_key
    qualify count(*) over (partition by c.request_id) = 1
),

open_keyed as (
    select m.row_key, g.model, g.score, true as open
    from open_matched as m
    join sim_grades_in as g on g.request_id = m.request_id and g.provider is null
),

-- every keyed grade with its row's own model (null: not a replayed request row), grouped by key once
keyed as (
    select k.row_key, k.model, k.score, k.open, u.row_model
    from (select * from given union all select * from open_keyed) as k
    left join replayed as u on u.row_key = k.row_key
),

per_key as (
    select
        row_key,
        any_value(row_model) as row_model,
        -- a key of a grade that names its provider (each distinct such key is one of the file's requests)
        bool_or(not open) as has_given,
        count(*) as pairs,
        count(*) filter (where model = row_model) as own_pairs,
        max(score) filter (where model = row_model) as g_src,
        count(*) filter (where model <> row_model and list_contains($grade_targets, model)) as target_pairs
        /*target_columns*/
    from keyed
    group by row_key
),

-- the file's distinct requests: the keys of grades naming a provider, and the ids without one
counted as (
    select
        *,
        sum(case when has_given then 1 else 0 end) over () + (select count(*) from open_ids) as graded_requests
    from per_key
),

final as (
    select
        cast(p.row_key >> 64 as ubigint) as key_hi,
        cast(p.row_key & 18446744073709551615 as ubigint) as key_lo,
        p.* exclude (row_key, row_model, has_given, pairs, own_pairs, target_pairs),
        p.own_pairs + (case when p.own_pairs > 0 then p.target_pairs else 0 end) as used_pairs,
        case when p.own_pairs = 0 then p.target_pairs else 0 end as no_source_pairs,
        p.pairs - p.own_pairs - p.target_pairs as other_pairs
    from counted as p
    where p.row_model is not null
)

select * from final
