-- simulate/graded_rows: a shadow evaluation's per-request grades matched to the request rows the replay reads
-- (`usage_replay` in the period and scope, read from its stored copy `replay_stored`) on the ledger's natural key
-- `request_row_key(provider, id)`, pivoted to what the replay and the slider tables join (one row per graded request row) and counted for `quality_basis`.
-- Grain: one row per replayed request row with at least one grade in the file: its 128-bit key as two 64-bit
-- halves (`key_hi`, `key_lo`: Arrow and polars have no 128-bit integer; casting a UHUGEINT to text costs ~80 us a
-- value in duckdb 2.0.1), `g_src` (the grade of the row's own model), one column per target model (the template
-- slot; null unless the row's own model is graded too: a moved part needs both), and the counts of the row's
-- (request, model) grades: `used_pairs` (own model, or a target of a row whose own model is graded),
-- `no_source_pairs` (a target, own model not graded), `other_pairs` (neither). Every other grade of the file names
-- a request that is not a replayed request row (simulate/plan.py counts them: the file's rows minus these).
-- Params: $start, $end_excl (the period, end exclusive); $scope_* (the scenario's scope); $grade_r0, $grade_r1, ...
--   (each distinct model name of the file, as given) and $grade_m0, $grade_m1, ... (each distinct model id they
--   resolve to), bound by simulate/plan.py in the template slots. Relations, registered on the query's cursor by
--   simulate/plan.py: `sim_grades_keyed` (the grades naming a provider, keyed once by sql/simulate/grade_keys.sql:
--   key_hi, key_lo, pairs, n{k} and s{k} per model name k of the file) and `sim_grades_open` (request_id, model,
--   score: the grades without a provider; usually none).
-- Template slots (block comments named scope, open_model_columns, per_key, own_columns and target_columns) are
-- filled by simulate/plan.py: the scope's fixed fragment; the pivot of the ids without a provider (as
-- grade_keys.sql's); `per_key`: the keyed grades, regrouped with those ids' only when the file has any; per row
-- `own_pairs` and `g_src` (a CASE on the row's model over the resolved ids, each summing / taking the greatest of
-- the columns of the names resolving to it; 0 / null when the file does not grade it) and `target_pairs` (the
-- grades of target models other than the row's); per target K, `g_mK`: that model's highest score when the row's
-- own model is graded, else null. Every value is bound.
-- A grade naming its provider was keyed when the grades were first used (md5 and group-by once per set of grades,
-- simulate/grade_keys.py). An id given without a provider is tried under every provider the ledger has, and used
-- only when exactly one of those keys is a replayed request row. One row per key is joined to the replayed rows
-- once (no join back, no pivot or distinct counts in polars).
with replayed as (
    select
        row_key,
        lower(model) as row_model
    from replay_stored
    where ts >= $start and ts < $end_excl
        and granularity = 'request'
        and /*scope*/
),

-- an id without a provider: tried under every provider the ledger has, used when exactly one key is replayed
open_ids as (
    select distinct request_id
    from sim_grades_open
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

-- the matched ids' grades pivoted by key as grade_keys.sql pivots the others (the same columns)
open_keyed as (
    select
        m.row_key,
        count(*) as pairs
        /*open_model_columns*/
    from open_matched as m
    join sim_grades_open as g on g.request_id = m.request_id
    group by m.row_key
),

keyed as (
    select
        (cast(key_hi as uhugeint) << 64) | key_lo as row_key,
        * exclude (key_hi, key_lo)
    from sim_grades_keyed
),

-- one row per key: the keyed grades, with (when the file has ids without a provider) the matched ones added
-- (a key graded both ways: its counts summed, its highest scores kept)
per_key as (
    /*per_key*/
),

-- the keys of replayed request rows, with the grades of the row's own model and the count of its target grades
joined as (
    select
        p.*
        /*own_columns*/
    from per_key as p
    join replayed as u on u.row_key = p.row_key
    where u.row_model is not null
),

final as (
    select
        cast(row_key >> 64 as ubigint) as key_hi,
        cast(row_key & 18446744073709551615 as ubigint) as key_lo,
        g_src
        /*target_columns*/,
        own_pairs + (case when own_pairs > 0 then target_pairs else 0 end) as used_pairs,
        case when own_pairs = 0 then target_pairs else 0 end as no_source_pairs,
        pairs - own_pairs - target_pairs as other_pairs
    from joined
)

select * from final
