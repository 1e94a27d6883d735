-- simulate/request_grades: per-request values (a router's scores, `pick: score`; simulate/plan.py
-- match_router_scores, with the router in place of a model) matched to the request rows the replay reads
-- (`usage_replay` in the period and scope, from its stored copy `replay_stored`), on the ledger's natural key
-- `request_row_key(provider, id)`. A shadow
-- evaluation's grades are matched and pivoted by simulate/graded_rows.sql instead.
-- Grain: one row per (matched request row, graded model): the row's 128-bit key as two 64-bit halves (`key_hi`,
-- `key_lo`: Arrow and polars have no 128-bit integer, and casting a UHUGEINT to text costs ~80 us a value in
-- duckdb 2.0.1, which was nearly all of a million-grade match), the graded model and score, whether the grade is of
-- the row's own model (`own`) and whether the row's own model is graded at all (`own_graded`).
-- Params: $start, $end_excl (the period, end exclusive); $scope_* (the scenario's scope). Relation
--   `sim_grades_in` (request_id, provider, model, score: the file's rows; provider null = not given), registered
--   on the query's cursor by simulate/plan.py (a million grades as bound lists took ~14 s to bind).
-- Template slot (block comment named scope) is filled by simulate/replay.py with the scope's fixed fragment.
-- A grade naming its provider is keyed directly (no grouping of the file's rows: a million grades' distinct ids
-- and a window over them were most of the match). An id given without a provider is tried under every provider
-- the ledger has, and used only when exactly one of those keys is a replayed request row. The replay joins the
-- matched keys (relation `sim_grades`).
with graded as (
    select
        cast(request_id as varchar) as request_id,
        cast(provider as varchar) as provider,
        cast(model as varchar) as model,
        cast(score as double) as score
    from sim_grades_in
),

replayed as (
    select
        row_key,
        model
    from replay_stored
    where ts >= $start and ts < $end_excl
        and granularity = 'request'
        and /*scope*/
),

-- a grade that names its provider: its row's natural key directly (no grouping of the file's rows)
given as (
    select request_row_key(provider, request_id) as row_key, model, score
    from graded
    where provider is not null
),

-- an id without a provider: tried under every provider the ledger has, used when exactly one key is replayed
open_ids as (
    select distinct request_id
    from graded
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
    select m.row_key, g.model, g.score
    from open_matched as m
    join graded as g on g.request_id = m.request_id and g.provider is null
),

joined as (
    select k.row_key, k.model, k.score, lower(u.model) as row_model
    from (select * from given union all select * from open_keyed) as k
    join replayed as u on u.row_key = k.row_key
),

-- whether the row's own model is among its grades (a moved part needs the source's grade too)
own as (
    select row_key, bool_or(model = row_model) as own_graded
    from joined
    group by row_key
),

final as (
    select
        cast(j.row_key >> 64 as ubigint) as key_hi,
        cast(j.row_key & 18446744073709551615 as ubigint) as key_lo,
        j.model,
        j.score,
        j.model = j.row_model as own,
        o.own_graded
    from joined as j
    join own as o on o.row_key = j.row_key
)

select * from final
