-- statement_outgoing: the ledger rows a statement replaces: the overlapping rows (statement_ledger_window) of
-- every day and scope it did not leave as they were (classify_statement).
-- Grain: one row per usage_raw row to remove. params: none (reads temp tables ledger_window, fates)
create or replace temp table outgoing as
with kept as (
    select distinct _day, _scope from fates where _fate = 'already_loaded'
),
final as (
    select w.* exclude (_day, _scope, _h), 'window' as _kind
    from ledger_window as w
    anti join kept as k on k._day = w._day and k._scope = w._scope
)
select * from final
