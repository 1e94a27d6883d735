-- keep_session_ids: a request this load restates (same provider and id, other content: fate restated) whose new
-- line carries no session id keeps the one the ledger row it replaces had. The session id is metadata of the row
-- (migration 019), not content: an export that does not log it says nothing about the conversation, so the
-- restatement must not lose what an earlier export gave. A new line that carries an id keeps its own.
-- Grain: one update per such staged row (usually few). params: none (reads temp tables staged, fates, outgoing)
update staged as s
set session_id = k.session_id
from (
    with old as (
        select row_key, any_value(session_id) as session_id
        from outgoing
        where session_id is not null
        group by row_key
    ),
    final as (
        select f._row, o.session_id
        from fates as f
        join old as o on o.row_key = f.row_key
        where f._fate = 'restated'
    )
    select * from final
) as k
where s._row = k._row
  and s.session_id is null
