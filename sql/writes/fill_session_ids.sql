-- fill_session_ids: a request already in the ledger (same provider and id, same content: fate already_loaded)
-- that an earlier load stored without a session id gets the one this load carries. The session id is metadata of
-- the row, not its content (migration 019), so a later export that logs it is not a restatement of the request;
-- an export without it (null) changes nothing. Grain: one update per such usage_raw row.
-- params: none (reads temp tables staged, fates)
update usage_raw as u
set session_id = s.session_id
from (
    with known as (
        select f.row_key, g.session_id, g.ts
        from fates as f
        join staged as g on g._row = f._row
        where f._fate = 'already_loaded' and g.session_id is not null
    ),
    final as (
        select * from known
    )
    select * from final
) as s
where u.row_key = s.row_key
  and u.ts = s.ts
  and u.session_id is null
