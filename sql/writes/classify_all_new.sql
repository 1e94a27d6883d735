-- classify_all_new: a statement that overlaps nothing in the ledger (statement_ledger_window is empty): every row
-- that passed validation is loaded, with no row contents to compare (the common case: a new period).
-- Grain: one row per staged row that passed validation. params: none (reads temp table staged)
create or replace temp table incoming as
select
    *,
    cast(ts as date) as _day,
    usage_scope(provider, account, project, operation) as _scope,
    'loaded' as _fate
from staged
where _errors is null
