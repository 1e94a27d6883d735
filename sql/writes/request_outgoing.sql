-- request_outgoing: the ledger rows of requests that this load restates (same provider and id, other content):
-- the newest load wins. Searched in the file's window as writes/known_requests.sql is (zone maps on ts).
-- Grain: one row per usage_raw row to remove. params: lo, hi (timestamps; reads temp table fates)
create or replace temp table outgoing as
with restated as (
    select row_key from fates where _fate = 'restated'
),
final as (
    select u.*, 'restated' as _kind
    from usage_raw as u
    where u.ts between $lo and $hi
      and u.row_key in (select row_key from restated)
)
select * from final
