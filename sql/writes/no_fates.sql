-- no_fates: a statement that overlaps nothing in the ledger (statement_ledger_window is empty): every row that
-- passed validation is loaded, with no row contents to compare (the common case: a new period).
create or replace temp table fates (_row bigint, row_key uhugeint, _day date, _scope varchar, _fate varchar)
