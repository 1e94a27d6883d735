-- classify_requests: the rows of a request file (a source that issues request ids) that are not simply new. A
-- request is unique by (provider, id) across the ledger (row_key): a later line of the same file with the same id
-- supersedes the earlier one; an id already in the ledger with the same content is already loaded; with other
-- content it is restated (the newest load wins; the old row goes in writes/request_outgoing.sql). Every staged
-- row that passed validation and is not here is loaded.
-- Grain: one row per such staged row (usually few). params: none (reads temp table staged)
create or replace temp table fates as
with good as (
    select
        *,
        row_number() over (partition by row_key order by _row desc) as _from_end
    from staged
    where _errors is null
),
bounds as (
    -- a restated request keeps its time: the ledger is searched around the file's own window (zone maps)
    select min(ts) - interval 1 day as lo, max(ts) + interval 1 day as hi from good
),
known as (
    select
        u.row_key,
        usage_content_hash(u.ts, u.granularity, u.provider, u.model, u.model_raw, u.account, u.project, u.api_key,
            u.user_id, u.team, u.workload, u.operation, u.service_tier, u.requests, u.input_tokens,
            u.cache_read_tokens, u.cache_write_tokens, u.output_tokens, u.reasoning_tokens, u.cost_usd) as _old_h
    from usage_raw as u, bounds as b
    where u.ts between b.lo and b.hi
      and u.row_key in (select row_key from good)
),
marked as (
    select
        g._row,
        g.row_key,
        case
            when g._from_end > 1 then 'superseded_in_file'
            when k.row_key is null then 'loaded'
            -- hashed only where the id is known already (most rows of a new file are not)
            when k._old_h = usage_content_hash(g.ts, g.granularity, g.provider, g.model, g.model_raw, g.account,
                g.project, g.api_key, g.user_id, g.team, g.workload, g.operation, g.service_tier, g.requests,
                g.input_tokens, g.cache_read_tokens, g.cache_write_tokens, g.output_tokens, g.reasoning_tokens,
                g.cost_usd) then 'already_loaded'
            else 'restated'
        end as _fate
    from good as g
    left join known as k using (row_key)
),
final as (
    select _row, row_key, null::date as _day, null::varchar as _scope, _fate
    from marked
    where _fate <> 'loaded'
)
select * from final
