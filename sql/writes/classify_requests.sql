-- classify_requests: the rows of a request file (a source that issues request ids) that are not simply new. A
-- request is unique by (provider, id) across the ledger (row_key): a later line of the same file with the same id
-- supersedes the earlier one; an id already in the ledger with the same content is already loaded; with other
-- content it is restated (the newest load wins; the old row goes in writes/request_outgoing.sql). Every staged
-- row that passed validation and is not here is loaded.
-- The ledger's side is temp table known (writes/known_requests.sql: the file's ids found in its window), so this
-- joins the file's rows only to the few already known, never the ledger.
-- Grain: one row per such staged row (usually few). params: none (reads temp tables staged, known)
create or replace temp table fates as
with good as (
    select _row, row_key, ts from staged where _errors is null
),
repeated as (
    -- ids on more than one line of the file (usually none): every line but the last of each is superseded.
    -- (narrow: a window over the staged rows would sort every row's columns to find these few)
    select row_key, max(_row) as _last from good group by row_key having count(*) > 1
),
superseded as (
    select g._row, g.row_key from good as g join repeated as r using (row_key) where g._row < r._last
),
seen as (
    -- the last line of each id already in the ledger: hashed only here (most rows of a new file are not)
    select
        s._row,
        s.row_key,
        case
            when k._old_h = usage_content_hash(s.ts, s.granularity, s.provider, s.model, s.model_raw, s.account,
                s.project, s.api_key, s.user_id, s.team, s.workload, s.operation, s.service_tier, s.requests,
                s.input_tokens, s.cache_read_tokens, s.cache_write_tokens, s.output_tokens, s.reasoning_tokens,
                s.cost_usd) then 'already_loaded'
            else 'restated'
        end as _fate
    from staged as s
    join known as k using (row_key)
    where s._errors is null
      and s._row not in (select _row from superseded)
),
final as (
    select _row, row_key, null::date as _day, null::varchar as _scope, 'superseded_in_file' as _fate
    from superseded
    union all
    select _row, row_key, null::date, null::varchar, _fate
    from seen
)
select * from final
