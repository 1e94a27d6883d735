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
-- Params: $start, $end_excl (the period, end exclusive); $scope_* (the scenario's scope); $grade_m0, $grade_m1, ...
--   (each distinct model id of the file, resolved), bound by simulate/plan.py in the template slots. Relation
--   `sim_grades_in` (request_id, provider, model, score: the file's rows, models resolved; provider null = not
--   given), registered on the query's cursor by simulate/plan.py.
-- Template slots (block comments named scope, model_columns, own_columns and target_columns) are filled by
-- simulate/plan.py: the scope's fixed fragment; per model k of the file `n{k}` (its grades of the key) and `s{k}`
-- (their highest score); per row `own_pairs` and `g_src` (a CASE on the row's model over the file's models, 0 /
-- null when the file does not grade it) and `target_pairs` (the grades of target models other than the row's);
-- per target K, `g_mK`: that model's `s{k}` when the row's own model is graded, else null. Every value is bound.
-- A grade naming its provider is keyed directly. An id given without a provider is tried under every provider the
-- ledger has, and used only when exactly one of those keys is a replayed request row. The grades are grouped by
-- key and pivoted by model, then joined to the replayed rows once (no join back, no pivot or distinct counts in
-- polars; grouping before the join keeps the row's model out of the 2 M-row group-by).
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

-- every keyed grade grouped by its key first, one pair of columns per model of the file (`n{k}`: its grades of
-- model k, `s{k}`: the highest), then joined to the replayed rows once: the group holds no string of the row (was:
-- every grade joined to its row's model, then grouped; the group-by of 2 M joined rows was most of the match)
per_key as (
    select
        row_key,
        -- a key of a grade that names its provider (each distinct such key is one of the file's requests)
        bool_or(not open) as has_given,
        count(*) as pairs
        /*model_columns*/
    from (select * from given union all select * from open_keyed)
    group by row_key
),

-- the file's distinct requests: the keys of grades naming a provider, and the ids without one
counted as (
    select
        *,
        sum(case when has_given then 1 else 0 end) over () + (select count(*) from open_ids) as graded_requests
    from per_key
),

-- the keys of replayed request rows, with the grades of the row's own model and the count of its target grades
joined as (
    select
        p.*
        /*own_columns*/
    from counted as p
    join replayed as u on u.row_key = p.row_key
    where u.row_model is not null
),

final as (
    select
        cast(row_key >> 64 as ubigint) as key_hi,
        cast(row_key & 18446744073709551615 as ubigint) as key_lo,
        g_src
        /*target_columns*/,
        graded_requests,
        own_pairs + (case when own_pairs > 0 then target_pairs else 0 end) as used_pairs,
        case when own_pairs = 0 then target_pairs else 0 end as no_source_pairs,
        pairs - own_pairs - target_pairs as other_pairs
    from joined
)

select * from final
