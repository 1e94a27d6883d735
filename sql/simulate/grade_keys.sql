-- simulate/grade_keys: a shadow evaluation's per-request grades keyed once (simulate/grade_keys.py), whatever
-- ledger, period or scope they are later matched against (sql/simulate/graded_rows.sql): each grade that names
-- its provider gets the ledger's natural key `request_row_key(provider, id)` (migration 009), and the grades are
-- grouped by key and pivoted by the file's model names as given (resolving a name to the ledger's model id needs
-- the ledger: graded_rows.sql combines the columns of names resolving to one id).
-- Grain: one row per distinct key of the grades naming a provider (an id without a provider is keyed per ledger,
-- by graded_rows.sql): the 128-bit key as two 64-bit halves (`key_hi`, `key_lo`: Arrow and polars have no 128-bit
-- integer), `pairs` (the key's grades), and per model k of the file `n{k}` (its grades of the key) and `s{k}`
-- (their highest score).
-- Params: $grade_r0, $grade_r1, ... (each distinct model name of the file), bound by simulate/grade_keys.py in the
--   template slot. Relation `sim_grades_in` (request_id, provider, model, score: the file's rows; provider null =
--   not given), registered on the query's cursor.
-- Template slots (block comments named model_columns, group_key, row_key) are filled by simulate/grade_keys.py:
-- per model k, `count(*) filter (…) as n{k}, max(score) filter (…) as s{k}`; the grouping and the key made from
-- it: `provider, request_id` and `request_row_key(provider, request_id)` (one md5 per distinct id, not per grade),
-- or, when some provider name holds the key's separator '|' (two (provider, id) pairs could then share one key),
-- `request_row_key(provider, request_id) as row_key` and `row_key` (grouped by the key itself). Every value is bound.
-- Keying is a group-by of every grade and an md5 per id (~0.75 cpu-s for 2 M grades of 1 M ids, measured): done
-- here once per set of grades, not in every match (a What-if upload is matched again at each structure change).
with given as (
    select provider, request_id, model, score
    from sim_grades_in
    where provider is not null
),

per_id as (
    select
        /*group_key*/,
        count(*) as pairs
        /*model_columns*/
    from given
    group by all
),

keyed as (
    select /*row_key*/ as row_key, *
    from per_id
),

final as (
    select
        cast(row_key >> 64 as ubigint) as key_hi,
        cast(row_key & 18446744073709551615 as ubigint) as key_lo,
        columns('^(pairs|[ns][0-9]+)$')         -- pairs, then n{k}, s{k} per model
    from keyed
)

select * from final
