-- fill_labels: a request already in the ledger (same provider and id, same content: fate already_loaded) that an
-- earlier load stored without labels gets the labels this load carries, and the dimension set key that goes with
-- them (as writes/insert_new_rows computes it), so attribution rules on labels decide it at the refresh that
-- follows. Labels are metadata of the row, not its content (migration 024): an export that carries them is not
-- a restatement of the request; one without them (null) changes nothing. Grain: one update per such usage_raw row.
-- params: none (reads temp tables staged, fates)
update usage_raw as u
set labels = s.labels,
    dim_key = hash(u.account, u.project, u.api_key, u.user_id, u.provider, u.model, u.team, u.workload, s.labels)
from (
    with known as (
        select f.row_key, g.labels, g.ts
        from fates as f
        join staged as g on g._row = f._row
        where f._fate = 'already_loaded' and g.labels is not null
    ),
    final as (
        select * from known
    )
    select * from final
) as s
where u.row_key = s.row_key
  and u.ts = s.ts
  and u.labels is null
