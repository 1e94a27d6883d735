-- simulate/request_grades: a shadow evaluation's per-request grades matched to the request rows the replay reads
-- (`usage_replay` in the period and scope), on the ledger's natural key `request_row_key(provider, id)`.
-- Grain: one row per (matched request row, graded model); the row's 128-bit key as two 64-bit halves (`key_hi`,
-- `key_lo`: Arrow and polars have no 128-bit integer, and casting a UHUGEINT to text costs ~80 us a value in
-- duckdb 2.0.1, which was nearly all of a million-grade match), the row's own model (`row_model`, lower-case), the
-- provider as the file gave it (`provider_given`: null = not given), whether the grade is of the row's own model
-- (`own`) and whether the row's own model is graded at all (`own_graded`).
-- Params: $start, $end_excl (the period, end exclusive); $scope_* (the scenario's scope). Relation
--   `sim_grades_in` (request_id, provider, model, score: the file's rows; provider null = not given), registered
--   on the query's cursor by simulate/plan.py (a million grades as bound lists took ~14 s to bind).
-- Template slot (block comment named scope) is filled by simulate/replay.py with the scope's fixed fragment.
-- An id given without a provider is tried under every provider the ledger has, and used only when exactly one
-- of those keys is a replayed request row. The replay joins the matched keys (relation `sim_grades`).
with graded as (
    select
        cast(request_id as varchar) as request_id,
        cast(provider as varchar) as provider,
        cast(model as varchar) as model,
        cast(score as double) as score
    from sim_grades_in
),

requests as (
    select distinct request_id, provider
    from graded
),

providers as (
    select distinct provider
    from source_choice
),

-- each graded request's natural key: under its own provider, or under every provider when none is given
candidates as (
    select
        r.request_id,
        r.provider,
        p.provider as key_provider,
        request_row_key(p.provider, r.request_id) as row_key
    from requests as r
    join providers as p on p.provider = coalesce(r.provider, p.provider)
),

replayed as (
    select
        row_key,
        model,
        input_tokens + cache_read_tokens + cache_write_tokens + output_tokens as total_tokens
    from usage_replay
    where ts >= $start and ts < $end_excl
        and granularity = 'request'
        and /*scope*/
),

matched as (
    select c.*
    from candidates as c
    semi join replayed as u on u.row_key = c.row_key
    -- an id without a provider counts only when it names one replayed row
    qualify count(*) over (partition by c.request_id, c.provider) = 1
),

joined as (
    select
        m.row_key,
        m.request_id,
        m.key_provider as provider,
        m.provider as provider_given,
        lower(u.model) as row_model,
        g.model,
        g.score
    from matched as m
    -- an equality on both (provider null = not given): `is not distinct from` made this a nested-loop join,
    -- ~50 s for 20,000 graded requests
    join graded as g on g.request_id = m.request_id and coalesce(g.provider, '') = coalesce(m.provider, '')
    join replayed as u on u.row_key = m.row_key
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
        j.request_id,
        j.provider,
        j.provider_given,
        j.row_model,
        j.model,
        j.score,
        j.model = j.row_model as own,
        o.own_graded
    from joined as j
    join own as o on o.row_key = j.row_key
)

select * from final
