-- fill_statement_session_ids: the statement twin of fill_session_ids. A file without request ids (a canonical CSV
-- without an id column, keyed by the load: ingest/stage.py) whose lines are already in the ledger (per day and
-- scope the same multiset of row contents: classify_statement's fate already_loaded) and that now carries session
-- ids gives them to the ledger rows stored without one. The session id is metadata of the row, not its content
-- (migration 019: not in usage_content_hash), so such a reload is not a restatement and was counted as already
-- loaded, its session ids dropped. Identical lines are interchangeable: per (day, scope, content) the file's lines
-- and the ledger's rows are paired by occurrence, each side ordered by session id (nulls last) then line / key, so
-- a ledger row that already has an id pairs with the line carrying the same one where it can.
-- Grain: one update per ledger row without a session id whose paired line of this load carries one.
-- params: none (reads temp tables staged, fates, ledger_window)
update usage_raw as u
set session_id = s.session_id
from (
    with new_lines as (
        select
            f._day,
            f._scope,
            usage_content_hash(g.ts, g.granularity, g.provider, g.model, g.model_raw, g.account, g.project,
                g.api_key, g.user_id, g.team, g.workload, g.operation, g.service_tier, g.requests, g.input_tokens,
                g.cache_read_tokens, g.cache_write_tokens, g.output_tokens, g.reasoning_tokens, g.cost_usd) as _h,
            g.session_id,
            f._row
        from fates as f
        join staged as g on g._row = f._row
        where f._fate = 'already_loaded'
    ),
    new_numbered as (
        select
            *,
            row_number() over (partition by _day, _scope, _h order by session_id nulls last, _row) as _occ
        from new_lines
    ),
    old_numbered as (
        select
            row_key, ts, session_id, _day, _scope, _h,
            row_number() over (partition by _day, _scope, _h order by session_id nulls last, row_key) as _occ
        from ledger_window
    ),
    final as (
        select o.row_key, o.ts, n.session_id
        from old_numbered as o
        join new_numbered as n
            on n._day = o._day and n._scope = o._scope and n._h = o._h and n._occ = o._occ
        where o.session_id is null and n.session_id is not null
    )
    select * from final
) as s
where u.row_key = s.row_key
  and u.ts = s.ts
  and u.session_id is null
