-- keep_labels: a request this load restates (same provider and id, other content: fate restated) whose new line
-- carries no labels keeps the labels the ledger row it replaces had, as keep_session_ids does for the session id.
-- Labels are metadata of the row (migration 024), not content: an export that does not carry them says nothing
-- about the request's resource, so the restatement must not lose what an earlier export gave (nor the attribution
-- rules on them). A new line with labels of its own keeps its own. The staged row's dimension key is computed from
-- its labels when it is inserted (writes/insert_new_rows). Grain: one update per such staged row (usually few).
-- params: none (reads temp tables staged, fates, outgoing)
update staged as s
set labels = k.labels
from (
    with old as (
        select row_key, any_value(labels) as labels
        from outgoing
        where labels is not null
        group by row_key
    ),
    final as (
        select f._row, o.labels
        from fates as f
        join old as o on o.row_key = f.row_key
        where f._fate = 'restated'
    )
    select * from final
) as k
where s._row = k._row
  and s.labels is null
