-- request_outgoing: the ledger rows of requests that this load restates (same provider and id, other content):
-- the newest load wins. Grain: one row per usage_raw row to remove. params: none (reads temp tables fates, staged)
create or replace temp table outgoing as
with restated as (
    select row_key from fates where _fate = 'restated'
),
bounds as (
    select min(ts) - interval 1 day as lo, max(ts) + interval 1 day as hi from staged where _errors is null
),
final as (
    select u.*, 'restated' as _kind
    from usage_raw as u, bounds as b
    where u.ts between b.lo and b.hi
      and u.row_key in (select row_key from restated)
)
select * from final
