-- keep_row_metadata: a request this load restates (same provider and id, other content: fate restated) whose new
-- line lacks a session id or labels keeps the ones the ledger row it replaces had. Both are metadata of the row
-- (session_id migration 019, labels migration 024), not content: an export that does not log them says nothing
-- about the conversation or the resource, so a restatement must not lose what an earlier export gave (nor the
-- attribution rules on labels). A new line that carries its own keeps its own, column by column. The staged row's
-- dimension key is computed from its labels when it is inserted (writes/insert_new_rows).
-- Grain: one update per such staged row (usually few). params: none (reads temp tables staged, fates, outgoing)
update staged as s
set session_id = coalesce(s.session_id, k.session_id),
    labels = coalesce(s.labels, k.labels)
from (
    with old as (
        select row_key, any_value(session_id) as session_id, any_value(labels) as labels
        from outgoing
        where session_id is not null or labels is not null
        group by row_key
    ),
    final as (
        select f._row, o.session_id, o.labels
        from fates as f
        join old as o on o.row_key = f.row_key
        where f._fate = 'restated'
    )
    select * from final
) as k
where s._row = k._row
  and (s.session_id is null or s.labels is null)
