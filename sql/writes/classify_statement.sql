-- classify_statement: the rows of a statement that are already in the ledger. Within the file every line counts,
-- identical lines included. Per day and scope, the file's rows either match the overlapping ledger rows exactly
-- (the same multiset of row contents: already_loaded, nothing changes) or replace them (loaded; the old rows go
-- in writes/statement_outgoing.sql): a later export of the same window wins, whatever its grain. Every staged row
-- that passed validation and is not here is loaded.
-- Grain: one row per already-loaded staged row. params: none (reads temp tables staged, ledger_window)
create or replace temp table fates as
with good as (
    select
        _row,
        row_key,
        usage_content_hash(ts, granularity, provider, model, model_raw, account, project, api_key, user_id,
            team, workload, operation, service_tier, requests, input_tokens, cache_read_tokens, cache_write_tokens,
            output_tokens, reasoning_tokens, cost_usd) as _h,
        cast(ts as date) as _day,
        usage_scope(provider, account, project, operation) as _scope
    from staged
    where _errors is null
),
new_counts as (
    select _day, _scope, _h, count(*) as n from good group by all
),
old_counts as (
    select _day, _scope, _h, count(*) as n from ledger_window group by all
),
changed as (
    -- a day of a scope whose rows differ in any way (a row more, less or other)
    select distinct coalesce(nc._day, oc._day) as _day, coalesce(nc._scope, oc._scope) as _scope
    from new_counts as nc
    full join old_counts as oc on oc._day = nc._day and oc._scope = nc._scope and oc._h = nc._h
    where nc.n is distinct from oc.n
),
final as (
    select g._row, g.row_key, g._day, g._scope, 'already_loaded' as _fate
    from good as g
    anti join changed as c on c._day = g._day and c._scope = g._scope
)
select * from final
